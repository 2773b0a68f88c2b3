//! `breedcam classify`: the most likely breeds for each image, as text or JSON lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::error::Report;
use crate::model::Tta;
use crate::preprocess::{load_image, Crop};
use crate::scores::{verdict, Verdict};

use super::args::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    /// How many breeds to list.
    #[arg(long, short = 'k', default_value_t = 3)]
    pub top: usize,
    /// How the picture is fitted to the model's square input.
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
    let mut failed = None;
    for path in &args.images {
        let result = load_image(path).and_then(|img| c.run_tta(pre.prepare(&img)?, args.tta));
        match result {
            Ok(probs) => {
                let v = verdict(labels, &probs, args.top);
                if args.json {
                    println!(
                        "{}",
                        serde_json::json!({ "image": path, "dog": v.is_dog, "best": v.best, "breeds": v.breeds })
                    );
                } else {
                    print_verdict(path, &v);
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

fn print_verdict(path: &Path, v: &Verdict) {
    if v.is_dog {
        println!("{}: dog", path.display());
    } else {
        println!(
            "{}: no dog (saw {} {:.1}%)",
            path.display(),
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
