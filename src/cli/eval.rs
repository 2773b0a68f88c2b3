//! `breedcam eval`: accuracy of one model (or two, side by side) on a labelled folder.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::eval::labelling::Labelling;
use crate::eval::{agreement, evaluate, Locator, Report};
use crate::locate::{Locate, LocateMode};
use crate::model::Tta;
use crate::preprocess::Crop;

use super::args::{LocateArgs, ModelArgs};

/// The ground-truth file's format, shown after `eval --help`.
pub const TRUTH_HELP: &str = "\
--labels FILE (or --truth FILE) with a ground-truth file: one JSON object, photo -> list of
acceptable classes, e.g.
  {\"ILSVRC2012_val_00000001.JPEG\": [65], \"dogs/rex.jpg\": [\"n02109961\", 250], \"blur.jpg\": []}
A key is the photo's path relative to DIR ('/' between folders). A class is a 0-based
ImageNet-1k index (0..=999, sorted-WordNet-id order as in ReaL; the same for 1001-class
models) or a WordNet id. [] = no valid label: left out and counted. A photo is right at
top-k when any acceptable class is in its top k. Every entry must name a photo under DIR;
photos with no entry are not scored (counted as unlabelled). Dog breeds: the 121 ImageNet
dog classes (151..=268 and 273..=275).";

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub locate: LocateArgs,
    /// A second model (name or file) to run on the same photos, side by side with
    /// per-photo agreement.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// The same model once more with this `--locate` (`off`: the centre crop), side by
    /// side: what finding the dogs gains on these photos.
    #[arg(long, value_name = "off|MODEL", conflicts_with = "compare")]
    pub compare_locate: Option<String>,
    #[arg(long, value_enum, default_value_t = Crop::Centre)]
    pub crop: Crop,
    /// Test-time augmentation: `flip` averages the picture and its mirror image (2x time).
    #[arg(long, value_enum, default_value_t = Tta::None)]
    pub tta: Tta,
    /// The whole report (per breed, per photo) as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Ground truth from this JSON file instead of folder or file names (format below;
    /// `--labels FILE` takes it too when FILE is a JSON object).
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    pub dir: PathBuf,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let labelling = Labelling::choose(args.model.labels.as_deref(), args.truth.as_deref())?;
    let model = ModelArgs {
        labels: labelling.model_labels.clone(),
        ..args.model.clone()
    };
    let truth = labelling.truth.as_deref();
    // The photos and their labels, before the models load (a bad file fails fast).
    let ground_truth = labelling.load_truth()?;
    let all = labelling.photos(&args.dir, ground_truth.as_ref())?;
    let mut models = vec![model.load()?];
    let mut modes = vec![args.locate.mode()?];
    if let Some(m) = &args.compare {
        let other = ModelArgs {
            model: Some(m.clone()),
            ..ModelArgs::default()
        };
        models.push(other.load()?);
        modes.push(modes[0].clone());
    }
    if let Some(l) = &args.compare_locate {
        modes.push(LocateMode::parse(Some(l))?);
    }
    if let Some(t) = &ground_truth {
        let labels: Vec<_> = models.iter().filter_map(|m| m.labels.as_ref()).collect();
        t.check_classes(&labels)?;
    }
    let locators: Vec<Option<Box<dyn Locate>>> =
        modes.iter().map(|m| m.open()).collect::<Result<_, _>>()?;
    let (photos, unlabelled) = (&all.labelled, &all.unlabelled);
    let bar = indicatif::ProgressBar::new((photos.len() * modes.len()) as u64);
    if super::quiet() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} photos {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (crop, tta) = (args.crop, args.tta);
    let reports: Vec<Report> = modes
        .iter()
        .zip(&locators)
        .enumerate()
        .map(|(i, (mode, locate))| {
            let locator = locate.as_deref().map(|l| Locator {
                name: mode.describe(),
                locate: l,
            });
            let m = &models[i.min(models.len() - 1)];
            evaluate(m, crop, tta, locator.as_ref(), photos, &|| bar.inc(1))
        })
        .collect::<Result<_, _>>()?;
    bar.finish_and_clear();
    if args.json {
        let mut j = serde_json::json!({
            "dir": args.dir, "crop": crop, "tta": tta, "truth": truth, "unlabelled": unlabelled,
            "no_valid_label": all.no_valid_label, "reports": reports
        });
        if let [a, b] = &reports[..] {
            let (both, same) = agreement(a, b);
            j["agreement"] = serde_json::json!({ "photos": both, "same_top1": same });
        }
        println!("{j}");
        return Ok(ExitCode::SUCCESS);
    }
    let labels: Vec<_> = (0..reports.len())
        .map(|i| models[i.min(models.len() - 1)].labels.as_ref())
        .collect();
    print!(
        "{}",
        crate::eval::text::render(&reports, &labels, &all, truth)
    );
    Ok(ExitCode::SUCCESS)
}
