//! Golden tests: tract's raw output tensor against TFLite's reference interpreter on the
//! same input bytes (fixtures made by tools/make_goldens.py).
//!
//! Bounds, per case: tract's top-1 equals TFLite's (both kernel sets); tract is at least as
//! close to one of TFLite's two kernel sets as those two are to each other
//! (min(|tract - xnnpack|, |tract - builtin|) <= max(spread, 2) quantized steps); and
//! |tract - xnnpack| stays within the largest XNNPACK-vs-builtin spread seen on that model.
//! tract's own output is also pinned bit for bit, which is how the aarch64 build (run under
//! qemu) is shown to compute exactly what x86 does.

mod common;

use breedcam::model::{Classifier, LoadOptions};
use breedcam::preprocess::{load_image, Crop};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Fixture {
    model: String,
    model_in_shared: bool,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    photo: String,
    input_sha256: String,
    tflite_spread: i32,
    xnnpack: Vec<i32>,
    builtin: Vec<i32>,
    tract: Vec<i32>,
}

fn max_diff(a: &[i32], b: &[i32]) -> i32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .max()
        .unwrap_or(0)
}

fn argmax(v: &[i32]) -> usize {
    breedcam::scores::top_k(&v.iter().map(|&x| x as f32).collect::<Vec<_>>(), 1, |_| {
        true
    })[0]
}

/// Checks the fixture's cases; those that need ../shared (its photos, its models) only when
/// it is there, so a fresh clone still checks the committed model on the committed photo.
fn check(fixture_name: &str) {
    let shared = common::shared();
    let path = common::root()
        .join("tests/fixtures/golden")
        .join(fixture_name);
    let f: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let model = match (&shared, f.model_in_shared) {
        (Some(s), true) => s.join(&f.model),
        (None, true) => return,
        (_, false) => common::root().join(&f.model),
    };
    let mut checked = 0;
    let c = Classifier::load(&model, &LoadOptions::default()).unwrap();
    let pre = c.preprocessor(Crop::Centre).unwrap();
    let worst_spread = f.cases.iter().map(|c| c.tflite_spread).max().unwrap();
    for case in &f.cases {
        let photo = match (case.photo.split_once(':'), &shared) {
            (Some(("shared", rel)), Some(s)) => s.join("data/photos").join(rel),
            (Some(("shared", _)), None) => continue,
            (Some(("repo", rel)), _) => common::root().join(rel),
            _ => panic!("bad photo reference {}", case.photo),
        };
        checked += 1;
        let img = load_image(&photo).unwrap();
        let input = pre.prepare(&img).unwrap();
        let bytes = breedcam::model::tensor_bytes(&input).unwrap();
        let sha = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(
            sha, case.input_sha256,
            "{}: preprocessing changed; re-run tools/make_goldens.py",
            case.photo
        );
        let out = c.run_raw(input).unwrap();
        let got: Vec<i32> = breedcam::model::tensor_bytes(&out)
            .unwrap()
            .iter()
            .map(|&b| {
                if c.output.dtype == "i8" {
                    b as i8 as i32
                } else {
                    b as i32
                }
            })
            .collect();
        let (dx, db) = (max_diff(&got, &case.xnnpack), max_diff(&got, &case.builtin));
        eprintln!(
            "{} {}: |tract-xnnpack| {dx}, |tract-builtin| {db}, tflite spread {}",
            f.model, case.photo, case.tflite_spread
        );
        assert_eq!(
            argmax(&got),
            argmax(&case.xnnpack),
            "{}: top-1 differs from TFLite XNNPACK",
            case.photo
        );
        assert_eq!(
            argmax(&got),
            argmax(&case.builtin),
            "{}: top-1 differs from TFLite builtin",
            case.photo
        );
        assert!(
            dx.min(db) <= case.tflite_spread.max(2),
            "{}: {dx}/{db} steps from TFLite",
            case.photo
        );
        assert!(
            dx <= worst_spread,
            "{}: {dx} steps from XNNPACK, TFLite's own spread is {worst_spread}",
            case.photo
        );
        assert_eq!(
            got, case.tract,
            "{}: tract's output is not bit-identical to the pinned x86 output",
            case.photo
        );
    }
    assert!(checked > 0, "no case of {fixture_name} could run");
}

#[test]
fn default_model_matches_tflite() {
    check("efficientnet_lite0_int8.json");
}

#[test]
fn coral_mobilenet_v1_matches_tflite() {
    check("coral_mobilenet_v1_0.75_192.json");
}
