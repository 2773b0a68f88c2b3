//! `breedcam classify`: the most likely breeds for each image, as text or JSON lines.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::error::Report;
use crate::locate::{classify_dogs, Dog};
use crate::model::labels::Labels;
use crate::model::Tta;
use crate::preprocess::{load_image, Crop};
use crate::scores::{verdict, Verdict};

use super::args::{LocateArgs, ModelArgs};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub locate: LocateArgs,
    /// How many breeds to list.
    #[arg(long, short = 'k', default_value_t = 3)]
    pub top: usize,
    /// How the picture is fitted to the model's square input (with no dog found, or
    /// `--locate off`).
    #[arg(long, value_enum, default_value_t = Crop::Centre)]
    pub crop: Crop,
    /// Test-time augmentation: `flip` averages the picture and its mirror image (2x time).
    #[arg(long, value_enum, default_value_t = Tta::None)]
    pub tta: Tta,
    /// One JSON object per image, one per line.
    #[arg(long)]
    pub json: bool,
    /// Images (JPEG, PNG, BMP).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

/// Classifies every image; an image that fails is reported on stderr and the others still
/// run (exit code 2 or 1 at the end, by the last failure).
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let c = args.model.load()?;
    let labels = c.labels.as_ref().with_context(|| {
        format!(
            "{}: no labels for a {}-class model: pass --labels FILE",
            c.path.display(),
            c.output.shape.last().unwrap_or(&0)
        )
    })?;
    let pre = c.preprocessor(args.crop)?;
    let mode = args.locate.mode()?;
    let locator = mode.open()?;
    let mut failed = None;
    for path in &args.images {
        let result = load_image(path)
            .and_then(|img| classify_dogs(&c, &pre, locator.as_deref(), &img, args.tta));
        match result {
            Ok(dogs) => {
                // The headline dog (or the whole frame when none was found) is the answer
                // as before locating; with a locator the found dogs follow.
                let v = verdict(labels, &dogs[0].probs, args.top);
                let found: Vec<&Dog> = dogs.iter().filter(|d| d.found()).collect();
                if args.json {
                    let mut j = serde_json::json!({ "image": path, "dog": v.is_dog, "best": v.best, "breeds": v.breeds });
                    if locator.is_some() {
                        j["dogs"] = found
                            .iter()
                            .map(|d| dog_json(labels, d, args.top))
                            .collect();
                    }
                    println!("{j}");
                } else if found.is_empty() {
                    print_verdict(&path.display().to_string(), &v);
                } else {
                    for (i, d) in found.iter().enumerate() {
                        let b = d.bbox;
                        let title = format!(
                            "{}: dog {} of {} at [{}, {}, {}, {}]",
                            path.display(),
                            i + 1,
                            found.len(),
                            b.x0,
                            b.y0,
                            b.x1,
                            b.y1
                        );
                        print_verdict(&title, &verdict(labels, &d.probs, args.top));
                    }
                }
            }
            Err(e) => {
                // Keep going through the other images; report each failure, fail at the end.
                eprintln!("breedcam: {}", Report(&e));
                failed = Some(if e.is_bad_input() { 2 } else { 1 });
            }
        }
    }
    Ok(failed.map_or(ExitCode::SUCCESS, ExitCode::from))
}

/// A found dog in `classify --json`: its box in the image's pixels, the locator's score and
/// its own verdict.
fn dog_json(labels: &Labels, d: &Dog, top: usize) -> serde_json::Value {
    let v = verdict(labels, &d.probs, top);
    serde_json::json!({
        "box": d.bbox.corners(), "score": d.bbox.score, "dog": v.is_dog, "best": v.best,
        "breeds": v.breeds
    })
}

/// One picture's (or one dog's) verdict: `title: dog` and its breeds.
fn print_verdict(title: &str, v: &Verdict) {
    if v.is_dog {
        println!("{title}: dog");
    } else {
        println!(
            "{title}: no dog (saw {} {:.1}%)",
            v.best.name,
            v.best.probability * 100.0
        );
    }
    // A row that would read 0.0% says nothing.
    let shown = v.breeds.iter().filter(|p| p.probability >= 0.0005);
    for (i, p) in shown.enumerate() {
        println!("  {}. {:<32} {:5.1}%", i + 1, p.name, p.probability * 100.0);
    }
}
