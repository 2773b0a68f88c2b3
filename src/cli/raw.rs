//! The hidden commands the golden tests drive: `tensor` writes an image's input tensor,
//! `run-raw` runs the model on one; both as the raw bytes TFLite's reference reads.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::model::tensor_bytes;
use crate::preprocess::{load_image, Crop};
use crate::Error;

use super::args::ModelArgs;

#[derive(clap::Args)]
pub struct TensorArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long, value_enum, default_value_t = Crop::Centre)]
    pub crop: Crop,
    /// With several images: a directory, written as DIR/<image file name>.bin.
    pub out: PathBuf,
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
}

#[derive(clap::Args)]
pub struct RunRawArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    pub input: PathBuf,
    pub out: PathBuf,
}

pub fn tensor(args: &TensorArgs) -> anyhow::Result<ExitCode> {
    let c = args.model.load()?;
    let pre = c.preprocessor(args.crop)?;
    for image in &args.images {
        let t = pre.prepare(&load_image(image)?)?;
        let dest = match args.images.len() {
            1 => args.out.clone(),
            _ => args.out.join(format!(
                "{}.bin",
                image.file_name().unwrap_or_default().to_string_lossy()
            )),
        };
        std::fs::write(&dest, tensor_bytes(&t)?)
            .with_context(|| format!("writing {}", dest.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_raw(args: &RunRawArgs) -> anyhow::Result<ExitCode> {
    let c = args.model.load()?;
    // A raw input tensor: image-sized, under the same checks and cap as an image file.
    let bytes = crate::input::read(&args.input, crate::input::Kind::Image)?;
    let t = c.tensor_from_bytes(&bytes).map_err(|msg| Error::BadInput {
        path: args.input.clone(),
        msg,
    })?;
    let y = c.run_raw(t)?;
    std::fs::write(&args.out, tensor_bytes(&y)?)
        .with_context(|| format!("writing {}", args.out.display()))?;
    Ok(ExitCode::SUCCESS)
}
