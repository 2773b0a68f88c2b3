//! The field benchmark: the kiosk's own stages, timed one by one on this board, with the
//! facts about the board that make two reports comparable.
//!
//! Stages per frame: capture (the frame's bytes from the source), decode, locate (finding
//! the dogs; nothing with `--locate off`), crop+resize, quantize, inference (these three
//! for the centre crop and every dog found), overlay (verdict + drawing the
//! screen), present (the display). The per-dog time is the last three over the dogs.
//! Then the overlay alone at other screen sizes (the last frame and view drawn again), with
//! the picture's resize to the layout timed on its own.

pub mod text;

use std::path::PathBuf;
use std::time::Instant;

use image::RgbImage;
use serde::Serialize;

use crate::camera::{decode, FrameSource};
use crate::display::Display;
use crate::locate::{choose, crop_for, whole, Dog, Locate, MARGIN};
use crate::model::Classifier;
use crate::overlay::{draw, scale_picture, Canvas, View};
use crate::preprocess::Crop;
use crate::scores::verdict;
use crate::stats::{peak_rss_mib, percentile, sorted};
use crate::Error;

pub const STAGES: [&str; 8] = [
    "capture",
    "decode",
    "locate",
    "crop+resize",
    "quantize",
    "inference",
    "overlay",
    "present",
];

/// Latency statistics of one stage, in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Stage {
    pub name: String,
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Stage {
    fn of(name: &str, samples: &[f64]) -> Stage {
        let s = sorted(samples.iter().copied());
        Stage {
            name: name.into(),
            n: s.len(),
            p50: percentile(&s, 0.50),
            p90: percentile(&s, 0.90),
            p99: percentile(&s, 0.99),
            max: s.last().copied().unwrap_or(0.0),
            mean: if s.is_empty() {
                0.0
            } else {
                s.iter().sum::<f64>() / s.len() as f64
            },
        }
    }
}

/// Facts about the machine that make reports from different boards comparable.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Board {
    pub cpu_model: Option<String>,
    pub cores: usize,
    pub arch: String,
    /// `/proc/device-tree/model` (a Pi says "Raspberry Pi 4 Model B Rev 1.4").
    pub board_model: Option<String>,
    pub governor: Option<String>,
    pub freq_mhz: Option<f64>,
    pub temp_start_c: Option<f64>,
    pub temp_end_c: Option<f64>,
    /// The firmware's throttling flags (Pi): bit 0 under-voltage, 1 frequency capped,
    /// 2 throttled, 3 soft temperature limit; bits 16-19 the same "has occurred".
    pub throttled: Option<String>,
    pub kernel: Option<String>,
}

fn read_trim(path: &str) -> Option<String> {
    let s = std::fs::read_to_string(path).ok()?;
    let s = s
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_string();
    (!s.is_empty()).then_some(s)
}

pub fn temperature_c() -> Option<f64> {
    read_trim("/sys/class/thermal/thermal_zone0/temp")?
        .parse::<f64>()
        .ok()
        .map(|m| m / 1000.0)
}

impl Board {
    pub fn read() -> Board {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |key: &str| {
            cpuinfo.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == key).then(|| v.trim().to_string())
            })
        };
        Board {
            cpu_model: field("model name")
                .or_else(|| field("Model"))
                .or_else(|| field("Hardware")),
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            arch: std::env::consts::ARCH.into(),
            board_model: read_trim("/proc/device-tree/model"),
            governor: read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
            freq_mhz: read_trim("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq")
                .and_then(|k| k.parse::<f64>().ok())
                .map(|k| k / 1000.0),
            temp_start_c: temperature_c(),
            temp_end_c: None,
            throttled: read_trim("/sys/devices/platform/soc/soc:firmware/get_throttled"),
            kernel: read_trim("/proc/sys/kernel/osrelease"),
        }
    }
}

/// One benchmark run: a self-describing record.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema: &'static str,
    pub breedcam_version: &'static str,
    pub model: PathBuf,
    pub model_sha256: String,
    pub model_bytes: usize,
    pub model_import_ms: f64,
    pub model_optimise_ms: f64,
    pub source: String,
    pub display: String,
    pub threads: usize,
    /// tract-linalg's matmul kernels in the plan and how many nodes use each.
    pub matmul_kernels: Vec<crate::engine::report::KernelUse>,
    /// The instruction sets tract dispatches on (after `TRACT_CPU_ISA` edits).
    pub isa: String,
    /// Why breedcam edited tract's instruction sets, if it did (see `engine::kernels::steering`).
    pub kernel_steering: Option<String>,
    pub warmup: usize,
    pub frames: usize,
    pub stages: Vec<Stage>,
    /// `--locate` (`off`, `seg`, a file).
    pub locate: String,
    /// Pictures classified per frame on average: the centre crop and each dog found.
    pub pictures_per_frame: f64,
    /// crop+resize, quantize and inference for one picture (a frame's, over its pictures).
    pub per_dog: Stage,
    /// Frames per second through all stages, one after the other.
    pub fps: f64,
    pub peak_rss_mib: Option<f64>,
    /// The overlay alone at each of `Options::overlay_sizes`.
    pub overlay_sizes: Vec<OverlayCost>,
    pub board: Board,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
}

pub struct Options {
    pub frames: usize,
    pub warmup: usize,
    pub threads: usize,
    pub crop: Crop,
    /// `--locate`'s value, for the report.
    pub locate: String,
    /// Screen sizes to time the overlay alone at, after the run.
    pub overlay_sizes: Vec<(u32, u32)>,
}

/// What drawing the overlay costs at one screen size.
#[derive(Clone, Debug, Serialize)]
pub struct OverlayCost {
    /// `WxH`
    pub screen: String,
    /// All of `overlay::draw`: clearing, the picture (resized), text, bars.
    pub draw: Stage,
    /// Of which the picture's resize to the layout (`overlay::scale_picture`).
    pub resize: Stage,
}

/// Draws `view` over `frame` at each size `frames` times (after one untimed draw that fills
/// the glyph cache), alternating with the picture's resize alone.
pub fn overlay_costs(
    frame: &RgbImage,
    view: &View,
    sizes: &[(u32, u32)],
    frames: usize,
) -> Vec<OverlayCost> {
    sizes
        .iter()
        .map(|&(w, h)| {
            let mut canvas = Canvas::new(w, h);
            let _ = draw(&mut canvas, Some(frame), view);
            let (mut d, mut r) = (vec![], vec![]);
            for _ in 0..frames.max(1) {
                let t = Instant::now();
                let _ = draw(&mut canvas, Some(frame), view);
                d.push(t.elapsed().as_secs_f64() * 1e3);
                let t = Instant::now();
                std::hint::black_box(scale_picture(frame, (w, h)));
                r.push(t.elapsed().as_secs_f64() * 1e3);
            }
            OverlayCost {
                screen: format!("{w}x{h}"),
                draw: Stage::of("overlay", &d),
                resize: Stage::of("resize", &r),
            }
        })
        .collect()
}

/// Runs `warmup` untimed frames, then `frames` timed ones, through every stage; with a
/// locator, every dog it finds is classified (the headline dog's verdict is drawn).
pub fn run(
    model: &Classifier,
    locator: Option<&dyn Locate>,
    source: &mut dyn FrameSource,
    display: &mut dyn Display,
    opts: &Options,
) -> Result<Report, Error> {
    let labels = model.labels_or("bench needs labels")?;
    let pre = model.preprocessor(opts.crop)?;
    let (w, h) = display.size();
    let mut canvas = Canvas::new(w, h);
    let mut board = Board::read();
    let started_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut samples: Vec<Vec<f64>> = vec![vec![]; STAGES.len()];
    let (mut per_dog, mut pictures) = (vec![], 0usize);
    let mut last_inference_ms = 0.0;
    let mut last: Option<(RgbImage, View)> = None;
    let mut total = 0.0;
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    for i in 0..opts.warmup + opts.frames {
        // Stage k's time is t[k].
        let mut t = [0.0f64; 8];
        let start = Instant::now();
        let frame = source.next_frame()?;
        let decoding = Instant::now();
        t[0] = ms(start, decoding);
        let img = decode(&frame).map_err(|e| Error::BadInput {
            path: e.origin.into(),
            msg: e.reason,
        })?;
        let locating = Instant::now();
        t[1] = ms(decoding, locating);
        let boxes = match locator {
            Some(l) => l.locate(&img)?,
            None => vec![],
        };
        t[2] = ms(locating, Instant::now());
        // The centre crop, then each dog's crop, each classified.
        let (w, h) = img.dimensions();
        let regions: Vec<_> = std::iter::once(pre.region(w, h))
            .chain(boxes.iter().map(|b| crop_for(b, w, h, MARGIN)))
            .collect();
        let mut dogs = vec![];
        for (region, bbox) in regions
            .iter()
            .zip(std::iter::once(whole(&pre, &img)).chain(boxes))
        {
            let t0 = Instant::now();
            let fitted = pre.fit_region(&img, *region);
            let t1 = Instant::now();
            let tensor = pre.tensor(&fitted)?;
            let t2 = Instant::now();
            let probs = model.run(tensor)?;
            let t3 = Instant::now();
            t[3] += ms(t0, t1);
            t[4] += ms(t1, t2);
            t[5] += ms(t2, t3);
            dogs.push(Dog { bbox, probs });
        }
        let probs = choose(Some(labels), dogs).swap_remove(0).probs;
        let frame_ms: f64 = t[..6].iter().sum();
        let drawing = Instant::now();
        let view = View::from_verdict(
            &verdict(labels, &probs, 3),
            last_inference_ms,
            1e3 / frame_ms.max(1e-3),
        );
        let _ = draw(&mut canvas, Some(&img), &view);
        let presenting = Instant::now();
        t[6] = ms(drawing, presenting);
        display.present(&canvas)?;
        t[7] = ms(presenting, Instant::now());
        last_inference_ms = t[5];
        if i >= opts.warmup {
            for (s, &v) in samples.iter_mut().zip(&t) {
                s.push(v);
            }
            per_dog.push((t[3] + t[4] + t[5]) / regions.len() as f64);
            pictures += regions.len();
            total += t.iter().sum::<f64>();
        }
        last = Some((img, view));
    }
    let overlay_sizes = match &last {
        Some((img, view)) => overlay_costs(img, view, &opts.overlay_sizes, opts.frames),
        None => vec![],
    };
    board.temp_end_c = temperature_c();
    Ok(Report {
        schema: "breedcam.bench/1",
        breedcam_version: env!("CARGO_PKG_VERSION"),
        model: model.path.clone(),
        model_sha256: model.sha256.clone(),
        model_bytes: model.file_size,
        model_import_ms: model.import_ms,
        model_optimise_ms: model.optimise_ms,
        source: source.describe(),
        display: display.describe(),
        threads: opts.threads,
        matmul_kernels: model.matmul_kernels.clone(),
        isa: format!("{:?}", tract_linalg::isa::native()),
        kernel_steering: crate::engine::kernels::steering::steering().map(String::from),
        warmup: opts.warmup,
        frames: opts.frames,
        stages: STAGES
            .iter()
            .zip(&samples)
            .map(|(n, s)| Stage::of(n, s))
            .collect(),
        locate: opts.locate.clone(),
        pictures_per_frame: pictures as f64 / opts.frames.max(1) as f64,
        per_dog: Stage::of("per dog", &per_dog),
        fps: if total > 0.0 {
            opts.frames as f64 * 1e3 / total
        } else {
            0.0
        },
        peak_rss_mib: peak_rss_mib(),
        overlay_sizes,
        board,
        started_unix,
    })
}
