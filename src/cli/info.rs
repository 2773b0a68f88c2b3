//! `breedcam info`: what a model is (input, output, quantization, ops, labels), as text or
//! JSON; exit code 2 when it uses operators breedcam cannot run.

use std::process::ExitCode;

use crate::engine::import::survey;
use crate::model::info::About;
use crate::Error;

use super::args::ModelArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let source = args.model.source()?;
    let path = source.path();
    let origin = if source.is_embedded() {
        "embedded"
    } else {
        "file"
    };
    // Survey first: it works on models that do not load, and lists what is unsupported.
    let bytes = source.bytes()?;
    let survey = survey(&bytes).map_err(|cause| Error::Model {
        path: path.clone(),
        cause,
    })?;
    let loaded = if survey.unsupported.is_empty() {
        Some(args.model.load()?)
    } else {
        None
    };
    let about = About {
        path: &path,
        origin,
        bytes: bytes.len(),
        survey: &survey,
        loaded: loaded.as_ref(),
    };
    if args.json {
        println!("{}", about.json());
    } else {
        print!("{}", about.text());
    }
    Ok(if survey.unsupported.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
