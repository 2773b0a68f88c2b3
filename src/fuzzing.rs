//! Entry points for the fuzz targets in `fuzz/` and for the stable test that replays their
//! seeds and findings (`tests/it/fuzz_replay.rs`): each takes arbitrary bytes the way
//! breedcam takes a file of that kind, and returns whether they were accepted. Returning is
//! success either way; a panic, a hang or running out of memory is a finding.
//!
//! The TFLite loader's target calls [`crate::engine::import`] directly.

use std::path::Path;

use tract_core::prelude::DatumType;

use crate::engine::import::{Normalization, TensorSpec};
use crate::preprocess::{decode_image, Crop, Preprocessor};

/// An image file's bytes: decoded (limits, truncation, EXIF orientation), then fitted to a
/// 224x224 uint8 input both ways (centre crop and squashed) and quantized, as `classify`
/// does.
pub fn image(data: &[u8]) -> bool {
    let Ok(img) = decode_image(data) else {
        return false;
    };
    let input = TensorSpec {
        name: "input".into(),
        shape: vec![1, 224, 224, 3],
        dtype: "u8".into(),
        quant: Some((1.0 / 128.0, 128)),
        datum_type: DatumType::U8,
    };
    let norm = Normalization {
        mean: vec![127.0],
        std: vec![128.0],
    };
    [Crop::Centre, Crop::None].into_iter().all(|crop| {
        let pre = Preprocessor::new(&input, &norm, crop).expect("a valid input spec");
        pre.prepare(&img).is_ok()
    })
}

/// A `run --config` file's bytes: read as UTF-8 TOML, each key checked as its flag
/// ([`crate::cli::config::file_arguments`]), then all of them parsed as `run`'s command line
/// and checked into the kiosk's settings, as `breedcam run --config FILE` does (without
/// opening the camera, model or display).
pub fn config(data: &[u8]) -> bool {
    use clap::Parser;
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(args) = crate::cli::config::file_arguments(Path::new("fuzz.toml"), text) else {
        return false;
    };
    let argv = ["breedcam".to_string(), "run".to_string()]
        .into_iter()
        .chain(args);
    match crate::cli::Cli::try_parse_from(argv).map(|c| c.command) {
        Ok(crate::cli::Command::Run(run)) => {
            crate::cli::run::Settings::from_args(&run.kiosk).is_ok()
        }
        _ => false,
    }
}

/// An `eval` ground-truth file's bytes: read as UTF-8 JSON, parsed, its classes checked
/// against ImageNet.
pub fn truth(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    crate::eval::truth::Truth::parse(Path::new("fuzz.json"), text)
        .and_then(|t| t.check_classes(&[]))
        .is_ok()
}
