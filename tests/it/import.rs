//! The importer on small models we build ourselves, and on damaged copies of the committed
//! default model: every bad file is an error that says what is wrong, never a panic.

use crate::common;

use breedcam::engine::import::build::{TinyModel, TinyOp, TinyOptions, TinyTensor};
use breedcam::engine::import::{import, ImportError, MAX_TENSOR_ELEMENTS};
use tract_tflite::tflite::{ActivationFunctionType, BuiltinOperator, TensorType};

fn err(bytes: &[u8]) -> ImportError {
    match import(bytes) {
        Ok(_) => panic!("imported a bad model"),
        Err(e) => e,
    }
}

fn run_u8(m: &TinyModel, input: &[u8]) -> Vec<u8> {
    common::bytes(&common::run_tiny(m, input))
}

#[test]
fn quantized_relu6_clamps_in_the_tensors_own_quantization() {
    // scale 1/128, zero point 128: real 0 is 128 and real 6 is beyond the range.
    let m = TinyModel::unary(BuiltinOperator::RELU6, TinyOptions::None);
    let input: Vec<u8> = (0..12).map(|i| i * 20).collect();
    let got = run_u8(&m, &input);
    let want: Vec<u8> = input.iter().map(|&v| v.max(128)).collect();
    assert_eq!(got, want);
}

#[test]
fn quantized_add_with_different_scales_requantizes_to_the_output() {
    let mut m = TinyModel::unary(
        BuiltinOperator::ADD,
        TinyOptions::Binary(ActivationFunctionType::NONE),
    );
    // out = image (scale 1/128, zp 128) + a constant 0.5 stored with scale 1/64, zp 0,
    // written in an output quantization of scale 1/32, zp 10.
    m.tensors.push(
        TinyTensor::new("half", &[1], TensorType::UINT8)
            .quant(1.0 / 64.0, 0)
            .data(vec![32]),
    );
    m.tensors[1].quant = Some((1.0 / 32.0, 10));
    m.ops[0].inputs = vec![0, 2];
    let input: Vec<u8> = (0..12).map(|i| i * 21).collect();
    let got = run_u8(&m, &input);
    let want: Vec<u8> = input
        .iter()
        .map(|&q| {
            let real = (q as f32 - 128.0) / 128.0 + 0.5;
            ((real * 32.0).round() as i32 + 10).clamp(0, 255) as u8
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn unsupported_operator_is_named_with_its_index() {
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.tensors
        .push(TinyTensor::new("out2", &[1, 2, 2, 3], TensorType::UINT8).quant(1.0 / 128.0, 128));
    m.ops.push(TinyOp {
        code: BuiltinOperator::CUMSUM,
        inputs: vec![1],
        outputs: vec![2],
        options: TinyOptions::None,
    });
    m.outputs = vec![2];
    let e = err(&m.to_bytes());
    assert!(
        matches!(&e, ImportError::Unsupported(ops) if ops == &vec![(1, "CUMSUM".to_string())]),
        "{e}"
    );
    assert_eq!(e.to_string(), "unsupported operator: CUMSUM (operator 1)");
}

#[test]
fn constant_whose_buffer_does_not_match_its_shape_is_refused() {
    let mut m = TinyModel::unary(
        BuiltinOperator::ADD,
        TinyOptions::Binary(ActivationFunctionType::NONE),
    );
    m.tensors.push(
        TinyTensor::new("bias", &[3], TensorType::UINT8)
            .quant(1.0, 0)
            .data(vec![1, 2]),
    );
    m.ops[0].inputs = vec![0, 2];
    let e = err(&m.to_bytes()).to_string();
    assert!(
        e.contains("tensor 2 'bias': buffer 1 has 2 bytes, shape [3] needs 3"),
        "{e}"
    );
}

#[test]
fn out_of_range_tensor_index_is_refused() {
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.ops[0].inputs = vec![7];
    let e = err(&m.to_bytes()).to_string();
    assert!(e.contains("tensor index 7 out of range (2 tensors)"), "{e}");
}

#[test]
fn absurd_dimensions_are_refused_before_allocating() {
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.tensors[0].shape = vec![1, 1 << 20, 1 << 20, 3];
    m.tensors[1].shape = vec![1, 1 << 20, 1 << 20, 3];
    let e = err(&m.to_bytes()).to_string();
    assert!(e.contains(&format!("limit {MAX_TENSOR_ELEMENTS}")), "{e}");
    m.tensors[0].shape = vec![1, -1, 2, 3];
    let e = err(&m.to_bytes()).to_string();
    assert!(e.contains("dynamic or negative dimension"), "{e}");
}

#[test]
fn declared_output_shape_must_match_what_the_op_computes() {
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.tensors[1].shape = vec![1, 2, 2, 4];
    let e = err(&m.to_bytes()).to_string();
    assert!(
        e.contains("operator 0 (RELU)") && e.contains("is declared [1, 2, 2, 4]"),
        "{e}"
    );
}

#[test]
fn truncated_seed_model_is_corrupt_at_every_cut() {
    let bytes = std::fs::read(common::seed_model()).unwrap();
    // (The file's last ~10 KB are the labels zip that TFLite metadata appends after the
    // flatbuffer; cutting there leaves a complete model, so the cuts stay before it.)
    for cut in [
        0,
        3,
        7,
        8,
        64,
        4096,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() * 9 / 10,
    ] {
        match import(&bytes[..cut]) {
            Err(ImportError::Corrupt(_)) => {}
            Err(e) => panic!("cut at {cut}: expected a corrupt-file error, got {e}"),
            Ok(_) => panic!("cut at {cut}: imported a truncated model"),
        }
    }
}

#[test]
fn damaged_seed_model_never_panics() {
    // Flip bytes in the flatbuffer's tables (the first and last 64 KiB hold the graph, the
    // middle is weights): whatever the damage, import returns, Ok or Err.
    let bytes = std::fs::read(common::seed_model()).unwrap();
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..300 {
        let mut b = bytes.clone();
        for _ in 0..4 {
            let r = next() as usize;
            let at = if r.is_multiple_of(2) {
                r / 2 % 65536
            } else {
                b.len() - 1 - (r / 2 % 65536)
            };
            b[at] = next() as u8;
        }
        match std::panic::catch_unwind(|| import(&b).is_ok()) {
            Ok(true) => ok += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("import panicked on a damaged model"),
        }
    }
    eprintln!("damaged models: {ok} imported, {refused} refused");
    assert_eq!(ok + refused, 300);
}

#[test]
fn fuzz_seed_corpus_imports_as_intended() {
    // fuzz/seeds/import is written by `cargo run --example make_fuzz_seeds`; the valid seeds
    // must import (so the fuzzer starts from deep inside the importer), the broken ones fail.
    let dir = common::root().join("fuzz/seeds/import");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{} seeds", names.len());
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_str().unwrap();
        let result = import(&bytes);
        match name {
            "unsupported_cumsum" => assert!(matches!(result, Err(ImportError::Unsupported(_)))),
            "bad_tensor_index" => assert!(matches!(result, Err(ImportError::Corrupt(_)))),
            _ => {
                let imported = result.unwrap_or_else(|e| panic!("{name}: {e}"));
                imported.model.into_optimized().unwrap();
            }
        }
    }
}

#[test]
fn fuzzer_findings_stay_fixed() {
    // Files the fuzzer found (fuzz/README.md), each a panic once; now each is an error.
    let dir = common::root().join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        match std::panic::catch_unwind(|| import(&bytes).err()) {
            Err(_) => panic!("{} panics again", path.display()),
            Ok(None) => panic!("{} imports, but must be refused", path.display()),
            Ok(Some(e)) => eprintln!("{}: {e}", path.display()),
        }
        n += 1;
    }
    assert!(n >= 1);
}

#[test]
fn a_zero_dimension_is_refused() {
    // The first fuzzer finding: [0, 2^31, 2^31, ...] has no elements but overflowed
    // tract's stride arithmetic.
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.tensors[0].shape = vec![0, i32::MAX, i32::MAX, 3];
    m.tensors[1].shape = vec![0, i32::MAX, i32::MAX, 3];
    let e = err(&m.to_bytes()).to_string();
    assert!(e.contains("has a zero dimension"), "{e}");
}

#[test]
fn normalisation_comes_from_metadata_then_sidecar_then_flags_then_default() {
    use breedcam::model::{Classifier, LoadOptions, NormSource};
    // The seed model states mean 127 / std 128 in its TFLite metadata.
    let c = Classifier::load(&common::seed_model(), &LoadOptions::default()).unwrap();
    assert_eq!(
        (
            c.normalization.mean.clone(),
            c.normalization.std.clone(),
            c.norm_source
        ),
        (vec![127.0], vec![128.0], NormSource::Metadata)
    );
    // A model without metadata: the raw-pixel default, then a sidecar, then flags.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.tflite");
    std::fs::write(
        &path,
        TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None).to_bytes(),
    )
    .unwrap();
    std::fs::write(dir.path().join("labels.txt"), "a\nb\nc\n").unwrap();
    let c = Classifier::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(c.norm_source, NormSource::Default);
    assert_eq!(
        (c.normalization.mean.clone(), c.normalization.std.clone()),
        (vec![128.0], vec![128.0])
    );
    std::fs::write(
        dir.path().join("tiny.json"),
        r#"{"mean": [10, 20, 30], "std": [2, 2, 2], "labels": "labels.txt"}"#,
    )
    .unwrap();
    let c = Classifier::load(&path, &LoadOptions::default()).unwrap();
    assert_eq!(c.norm_source, NormSource::Sidecar);
    assert_eq!(c.normalization.mean, vec![10.0, 20.0, 30.0]);
    assert_eq!(c.labels.as_ref().unwrap().entries[2].name, "c");
    let flags = LoadOptions {
        mean: Some(vec![0.0]),
        std: Some(vec![1.0]),
        ..LoadOptions::default()
    };
    let c = Classifier::load(&path, &flags).unwrap();
    assert_eq!(
        (c.norm_source, c.normalization.mean.clone()),
        (NormSource::Flags, vec![0.0])
    );
    // A broken sidecar names itself.
    std::fs::write(
        dir.path().join("tiny.json"),
        r#"{"mean": [1], "stdev": [2]}"#,
    )
    .unwrap();
    let e = Classifier::load(&path, &LoadOptions::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tiny.json") && e.contains("unknown field `stdev`"),
        "{e}"
    );
}
