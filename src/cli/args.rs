//! The command line's shape: the global flags, the commands, and the model flags they share.
//! Each command's own flags are in its file (`classify.rs`, `eval.rs`, ...).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{bench, classify, eval, info, raw, run};

#[derive(Parser)]
#[command(
    name = "breedcam",
    version,
    about = "Dog-breed classifier: int8 TFLite on tract, for a Raspberry Pi kiosk"
)]
pub struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Print the most likely dog breeds for each image.
    Classify(classify::Args),
    /// Accuracy on a labelled folder: Stanford-Dogs layout (`n02085620-Chihuahua/*.jpg`) or
    /// ImageNet-style file names (`n02085620_*.JPEG`); the label is the WordNet id. Or
    /// several acceptable classes per photo from a ground-truth file (--labels / --truth).
    #[command(after_help = eval::TRUTH_HELP)]
    Eval(eval::Args),
    /// The kiosk: frames -> top-3 breeds on the screen, until stopped (SIGINT / SIGTERM).
    Run(run::Args),
    /// List the V4L2 devices: driver, card, bus, formats, frame sizes and rates.
    Cameras,
    /// Field benchmark: per-stage latency (p50/p90/p99/max), fps, peak memory, board facts.
    Bench(bench::Args),
    /// Write an image's input tensor (raw bytes, the model's dtype and shape) to a file:
    /// the same bytes the golden tests feed to TFLite's reference interpreter.
    #[command(hide = true)]
    Tensor(raw::TensorArgs),
    /// Run the model on a raw input tensor file; write the raw output tensor.
    #[command(hide = true)]
    RunRaw(raw::RunRawArgs),
    /// Describe a model: input/output, quantization, normalisation, op histogram, labels.
    Info(info::Args),
}

/// The model flags every command that runs a model takes.
#[derive(clap::Args, Clone, Default)]
pub struct ModelArgs {
    /// A committed model by name (lite2, lite0, lite0-seed: embedded in the binary) or a
    /// TFLite file [default: lite2, or the file $BREEDCAM_MODEL]
    #[arg(long, short)]
    pub model: Option<PathBuf>,
    /// The model's class labels (`name` or `wnid<TAB>name` per line) [default: sidecar, or
    /// built-in ImageNet]
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Input normalisation mean, 1 or 3 values (overrides the model's metadata)
    #[arg(long, value_delimiter = ',', requires = "std")]
    pub mean: Option<Vec<f32>>,
    /// Input normalisation std, 1 or 3 values
    #[arg(long, value_delimiter = ',', requires = "mean")]
    pub std: Option<Vec<f32>>,
}

/// `--locate`, which the commands that classify frames share.
#[derive(clap::Args, Clone, Default)]
pub struct LocateArgs {
    /// Find the dogs first and name each one: a segmenter (`seg`, `seg-small`: embedded;
    /// or a TFLite file), or `off` for the centre crop of the whole frame [default: seg-small]
    #[arg(long, value_name = "off|MODEL")]
    pub locate: Option<String>,
}

impl LocateArgs {
    pub fn mode(&self) -> Result<crate::locate::LocateMode, crate::Error> {
        crate::locate::LocateMode::parse(self.locate.as_deref())
    }
}
