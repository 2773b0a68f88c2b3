//! The accuracy the locate stage could reach: each scene's true box (from `make_scenes`'
//! boxes.json) cropped as a found dog's box is (`locate::crop_for`, the same margin) and
//! classified with the default model. Compare with `breedcam eval --labels
//! OUT/one.truth.json OUT/one` (the segmenter's boxes) and `--locate off` (the centre crop).
//!
//!   cargo run --release --example locate_truth -- OUT [one|two]
//!
//! A two-dog scene is right when either dog's breed is; the first box (the first dog
//! pasted) is the one classified.

use std::path::Path;

use breedcam::locate::{crop_for, DogBox, MARGIN};
use breedcam::model::{Classifier, LoadOptions, ModelSource};
use breedcam::preprocess::{load_image, Crop};
use breedcam::scores::top_k;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), set) = (args.first(), args.get(1).map_or("one", String::as_str)) else {
        return Err("usage: locate_truth OUT [one|two]".into());
    };
    let out = Path::new(out);
    let boxes: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(out.join("boxes.json"))?)?;
    let model = Classifier::open(&ModelSource::default_model(), &LoadOptions::default())?;
    let labels = model.labels_or("the default model has labels")?;
    let pre = model.preprocessor(Crop::Centre)?;
    let (mut hits, mut n) = ([0usize; 3], 0usize);
    for (key, dogs) in boxes
        .iter()
        .filter(|(k, _)| k.starts_with(&format!("{set}/")))
    {
        let dogs = dogs
            .as_array()
            .ok_or("boxes.json: a list of dogs per frame")?;
        let wanted: Vec<usize> = dogs
            .iter()
            .filter_map(|d| labels.index_of_wnid(d["wnid"].as_str()?))
            .collect();
        let b = &dogs[0]["box"];
        let corner = |i: usize| b[i].as_u64().map(|v| v as u32).ok_or("box: 4 numbers");
        let bbox = DogBox {
            x0: corner(0)?,
            y0: corner(1)?,
            x1: corner(2)?,
            y1: corner(3)?,
            score: 1.0,
        };
        let frame = load_image(&out.join(key))?;
        let (w, h) = frame.dimensions();
        let picture = pre.fit_region(&frame, crop_for(&bbox, w, h, MARGIN));
        let probs = model.run(pre.tensor(&picture)?)?;
        let top = top_k(&probs, 5, |i| labels.entries[i].is_dog);
        let rank = top.iter().position(|c| wanted.contains(c));
        for (k, limit) in [1, 3, 5].into_iter().enumerate() {
            hits[k] += rank.is_some_and(|r| r < limit) as usize;
        }
        n += 1;
    }
    let pct = |h: usize| 100.0 * h as f64 / n.max(1) as f64;
    println!(
        "{set}, true boxes: top-1 {:.1}% top-3 {:.1}% top-5 {:.1}% (n={n})",
        pct(hits[0]),
        pct(hits[1]),
        pct(hits[2])
    );
    Ok(())
}
