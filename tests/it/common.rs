//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use breedcam::engine::import::build::TinyModel;
use breedcam::engine::import::import;
use breedcam::engine::ops::tensor_from_bytes;
use tract_core::prelude::*;

/// The repository root (where the committed default model lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed default model (EfficientNet-Lite2, int8 I/O, sidecar normalisation).
pub fn default_model() -> PathBuf {
    root().join(breedcam::model::MODELS[0].file)
}

/// The smallest committed classifier (EfficientNet-Lite0, int8 I/O): for tests whose subject
/// is the loop around the model, not the model (under qemu a Lite2 inference costs 2-3 times
/// as much).
pub fn small_model() -> PathBuf {
    root().join("models/efficientnet_lite0_int8io.tflite")
}

/// The first default, `lite0-seed`: EfficientNet-Lite0 with uint8 I/O (QUANTIZE at both ends),
/// TFLite metadata (normalisation) and a labels zip appended after the flatbuffer.
pub fn seed_model() -> PathBuf {
    root().join("models/efficientnet_lite0_int8.tflite")
}

/// `../shared` (or `$BREEDCAM_SHARED`): reference models and photos that are never
/// committed. `None`, with a note on stderr, when it is absent; under CI (`CI` set) its
/// absence is a failure, since CI always provides it.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("BREEDCAM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared"));
    if dir.join("data/photos").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "BREEDCAM_SHARED={} has no data/photos, and CI must provide it",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: {} not found (set BREEDCAM_SHARED); this test needs ../shared",
        dir.display()
    );
    None
}

/// Runs the `breedcam` binary built for this test run.
///
/// Cross-built tests run under qemu-user, which cannot start another aarch64 program by
/// itself (no binfmt_misc here): `$BREEDCAM_TEST_RUNNER` (e.g. `qemu-aarch64-static -L
/// /usr/aarch64-linux-gnu`, set by .ci/run) is then put in front of the binary.
pub fn breedcam(args: &[&str]) -> Output {
    breedcam_at(Path::new(env!("CARGO_BIN_EXE_breedcam")), &root(), args)
}

/// Runs a `breedcam` binary `exe` (a copy of the one built, say) in the folder `cwd`.
pub fn breedcam_at(exe: &Path, cwd: &Path, args: &[&str]) -> Output {
    command_for(exe)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running breedcam")
}

/// A command that runs the `breedcam` built for the test run, under `BREEDCAM_TEST_RUNNER`
/// when cross-built (an aarch64 binary started from qemu-user needs qemu again), for a test
/// that sets its own environment.
pub fn breedcam_command() -> Command {
    command_for(Path::new(env!("CARGO_BIN_EXE_breedcam")))
}

fn command_for(exe: &Path) -> Command {
    let runner = std::env::var("BREEDCAM_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) if cfg!(not(target_arch = "x86_64")) => {
            let mut c = Command::new(program);
            c.args(words).arg(exe);
            c
        }
        _ => Command::new(exe),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Imports a model the test built (`TinyModel`) and runs it once on `input`, the bytes of its
/// input tensor (its type and shape as the model declares them): the first output.
pub fn run_tiny(m: &TinyModel, input: &[u8]) -> Tensor {
    let imported = import(&m.to_bytes()).unwrap();
    let x = tensor_from_bytes(imported.input.datum_type, &imported.input.shape, input).unwrap();
    let plan = imported
        .model
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    plan.run(tvec!(x.into_tvalue()))
        .unwrap()
        .remove(0)
        .into_tensor()
}

/// The bytes of an 8-bit tensor.
pub fn bytes(t: &Tensor) -> Vec<u8> {
    t.try_as_plain_ram()
        .unwrap()
        .as_slice::<u8>()
        .unwrap()
        .to_vec()
}
