//! Composes camera-like test frames for dog localisation: a dog photo scaled to 30-55 % of the
//! frame height, pasted at a random spot of an unrelated scene (a photo with no dog in it),
//! one dog or two dogs of different breeds per frame, with the true boxes.
//!
//!   cargo run --release --example make_scenes -- DOGS BACKGROUNDS OUT [--seed N]
//!
//! DOGS holds ImageNet-named dog photos (`n02085620_Chihuahua.JPEG`: the WordNet id is the
//! label), BACKGROUNDS photos without dogs. It writes OUT/one/*.jpg (every dog photo once),
//! OUT/two/*.jpg (every dog photo once more, paired with another breed), the ground truth for
//! `breedcam eval --labels OUT/one.truth.json OUT/one` (likewise two; a two-dog frame accepts
//! either breed) and OUT/boxes.json (each frame's dogs: WordNet id and box `[x0, y0, x1, y1]`
//! in pixels, keyed `one/scene-0000.jpg`). The same inputs and seed give the same frames.

use image::{imageops, imageops::FilterType, RgbImage};
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 480;

/// SplitMix64: a small, seedable generator (the frames must not depend on a crate's version).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [lo, hi).
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
}

fn photos(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
        })
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!("{}: no photos", dir.display()));
    }
    Ok(out)
}

fn load(path: &Path) -> Result<RgbImage, String> {
    image::open(path)
        .map(|i| i.to_rgb8())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The background scaled to cover the frame, centre cut.
fn scene(path: &Path) -> Result<RgbImage, String> {
    let bg = load(path)?;
    let s = (WIDTH as f64 / bg.width() as f64).max(HEIGHT as f64 / bg.height() as f64);
    let (w, h) = (
        (bg.width() as f64 * s).ceil() as u32,
        (bg.height() as f64 * s).ceil() as u32,
    );
    let big = imageops::resize(&bg, w.max(WIDTH), h.max(HEIGHT), FilterType::Triangle);
    Ok(imageops::crop_imm(
        &big,
        (big.width() - WIDTH) / 2,
        (big.height() - HEIGHT) / 2,
        WIDTH,
        HEIGHT,
    )
    .to_image())
}

fn wnid(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split('_').next().unwrap_or("").to_string()
}

type Box4 = [u32; 4];

fn overlap(a: &Box4, b: &Box4) -> f64 {
    let w = a[2].min(b[2]).saturating_sub(a[0].max(b[0])) as f64;
    let h = a[3].min(b[3]).saturating_sub(a[1].max(b[1])) as f64;
    let smaller = ((a[2] - a[0]) * (a[3] - a[1])).min((b[2] - b[0]) * (b[3] - b[1])) as f64;
    w * h / smaller
}

/// Pastes `dog`, scaled to 30-55 % of the frame height, at a random spot that overlaps none of
/// `taken` by more than 10 % of the smaller box; returns its box.
fn place(frame: &mut RgbImage, dog: &RgbImage, taken: &[Box4], rng: &mut Rng) -> Box4 {
    let mut best: Option<(f64, Box4)> = None;
    for _ in 0..200 {
        let h = (HEIGHT as f64 * rng.range(0.30, 0.55)).round() as u32;
        let w = ((dog.width() as f64 * h as f64 / dog.height() as f64).round() as u32)
            .min(WIDTH * 3 / 4);
        let x = rng.below(WIDTH - w + 1);
        let y = rng.below(HEIGHT - h + 1);
        let b = [x, y, x + w, y + h];
        let worst = taken.iter().map(|t| overlap(&b, t)).fold(0.0, f64::max);
        if best.is_none_or(|(o, _)| worst < o) {
            best = Some((worst, b));
        }
        if worst <= 0.10 {
            break;
        }
    }
    let (_, b) = best.expect("200 tries give a box");
    let scaled = imageops::resize(dog, b[2] - b[0], b[3] - b[1], FilterType::Triangle);
    imageops::replace(frame, &scaled, i64::from(b[0]), i64::from(b[1]));
    b
}

fn run(dogs: &Path, backgrounds: &Path, out: &Path, seed: u64) -> Result<(), String> {
    let dog_photos = photos(dogs)?;
    let bg_photos = photos(backgrounds)?;
    let mut rng = Rng(seed);
    let mut truth = [Map::new(), Map::new()];
    let mut boxes = Map::new();
    for kind in ["one", "two"] {
        std::fs::create_dir_all(out.join(kind)).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    let n = dog_photos.len();
    for (i, first) in dog_photos.iter().enumerate() {
        for (k, (kind, count)) in [("one", 1), ("two", 2)].into_iter().enumerate() {
            let mut frame = scene(&bg_photos[rng.below(bg_photos.len() as u32) as usize])?;
            let mut chosen = vec![first.clone()];
            if count == 2 {
                // another breed, chosen at random
                let j = (i + 1 + rng.below(n as u32 - 1) as usize) % n;
                chosen.push(dog_photos[j].clone());
            }
            let mut placed: Vec<Box4> = vec![];
            let mut dogs_json = vec![];
            for d in &chosen {
                let b = place(&mut frame, &load(d)?, &placed, &mut rng);
                placed.push(b);
                dogs_json.push(json!({"wnid": wnid(d), "box": b}));
            }
            let name = format!("scene-{i:04}.jpg");
            let key = format!("{kind}/{name}");
            let path = out.join(&key);
            frame
                .save_with_format(&path, image::ImageFormat::Jpeg)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            let wnids: Vec<String> = chosen.iter().map(|d| wnid(d)).collect();
            truth[k].insert(name, Value::from(wnids));
            boxes.insert(key, Value::from(dogs_json));
        }
    }
    let [one, two] = truth;
    for (name, value) in [
        ("one.truth.json", one),
        ("two.truth.json", two),
        ("boxes.json", boxes),
    ] {
        let path = out.join(name);
        let text =
            serde_json::to_string_pretty(&Value::Object(value)).map_err(|e| e.to_string())?;
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    println!(
        "{} frames with one dog and {} with two in {}",
        n,
        n,
        out.display()
    );
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seed = 2026u64;
    let mut paths = vec![];
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--seed" {
            seed = match it.next().and_then(|s| s.parse().ok()) {
                Some(s) => s,
                None => {
                    eprintln!("--seed takes a number");
                    std::process::exit(2);
                }
            };
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    let [dogs, backgrounds, out] = paths.as_slice() else {
        eprintln!("usage: make_scenes DOGS BACKGROUNDS OUT [--seed N]");
        std::process::exit(2);
    };
    if let Err(e) = run(dogs, backgrounds, out, seed) {
        eprintln!("make_scenes: {e}");
        std::process::exit(1);
    }
}
