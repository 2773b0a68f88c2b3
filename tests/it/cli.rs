//! The `breedcam` command line on real photos and on bad input.

use crate::common;

use crate::common::{breedcam, path_str, stderr, stdout};
use breedcam::engine::import::build::{TinyModel, TinyOp, TinyOptions, TinyTensor};
use tract_tflite::tflite::{BuiltinOperator, TensorType};

/// A failed run: exit code 2, and one line on stderr that names `file` and says `cause`.
fn assert_bad_input(o: &std::process::Output, file: &str, cause: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line expected: {err}");
    assert!(err.contains(file), "error does not name {file}: {err}");
    assert!(err.contains(cause), "error does not say '{cause}': {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn classifies_the_bundled_photo_on_a_fresh_clone() {
    // tests/data/husky.png (Tux Paint's dog stamp): TFLite's reference says Eskimo dog first
    // (the default, EfficientNet-Lite2: 26.6 %, Siberian husky second).
    let o = breedcam(&["classify", "--json", "tests/data/husky.png"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["dog"], true);
    let names: Vec<&str> = v["breeds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names[0], "Eskimo dog", "{v}");
    assert!(names.contains(&"Siberian husky"), "{v}");
    assert!(v["breeds"][0]["probability"].as_f64().unwrap() > 0.2, "{v}");
}

#[test]
fn classify_names_the_breed_and_says_no_dog_for_cat_person_and_hot_dog() {
    let Some(shared) = common::shared() else {
        return;
    };
    let photos = shared.join("data/photos");
    let files = [
        "dog_segmentation.bmp",
        "cat.bmp",
        "grace_hopper.bmp",
        "hot_dog.jpg",
    ]
    .map(|f| photos.join(f));
    let mut args = vec!["classify", "--json"];
    args.extend(files.iter().map(|f| path_str(f)));
    let o = breedcam(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    // A Samoyed (TFLite's top-1 for this photo too).
    assert_eq!(lines[0]["dog"], true);
    assert_eq!(lines[0]["breeds"][0]["name"], "Samoyed");
    assert_eq!(lines[0]["breeds"][0]["wnid"], "n02111889");
    assert!(lines[0]["breeds"][0]["probability"].as_f64().unwrap() > 0.5);
    assert_eq!(lines[0]["breeds"].as_array().unwrap().len(), 3);
    for (line, saw) in lines[1..]
        .iter()
        // (TFLite's top-1s too; the seed model saw a military uniform on Grace Hopper.)
        .zip(["Egyptian cat", "suit", "hotdog"])
    {
        assert_eq!(line["dog"], false, "{line}");
        assert_eq!(line["best"]["name"], saw, "{line}");
    }
    // The plain-text form says the same.
    let o = breedcam(&["classify", "--top", "1", path_str(&files[1])]);
    let text = stdout(&o);
    assert!(text.contains("cat.bmp: no dog (saw Egyptian cat"), "{text}");
    // Its likeliest breed is below 0.05 %: no row reading 0.0 %.
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn a_dhole_is_a_dog_and_every_model_ranks_the_breeds_it_sees() {
    let Some(shared) = common::shared() else {
        return;
    };
    // dev-dogs' Rhodesian ridgeback photo: every committed model's best class over all
    // 1000 is dhole (ImageNet 274, outside 151..=268), so it was "no dog" with 118 dog
    // classes. The 1001-class Coral MobileNetV1 puts African hunting dog first (its 276).
    let photo = shared.join("data/dev-dogs/n02087394_Rhodesian_ridgeback.JPEG");
    let coral = shared.join("models/coral/mobilenet_v1_0.75_192_quant.tflite");
    for (model, best, index) in [
        ("lite2", "dhole", 274),
        ("lite0", "dhole", 274),
        ("lite0-seed", "dhole", 274),
        (path_str(&coral), "African hunting dog", 276),
    ] {
        let o = breedcam(&[
            "classify",
            "--json",
            "--model",
            model,
            "--top",
            "200",
            path_str(&photo),
        ]);
        assert!(o.status.success(), "{model}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["dog"], true, "{model}: {v}");
        assert_eq!(v["best"]["name"], best, "{model}");
        assert_eq!(v["best"]["index"], index, "{model}");
        assert_eq!(v["breeds"][0]["name"], best, "{model}");
        let names: Vec<&str> = v["breeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap())
            .collect();
        // Every breed the model gave anything, none at 0.
        assert!((5..=121).contains(&names.len()), "{model}: {}", names.len());
        let mut breeds = v["breeds"].as_array().unwrap().iter();
        assert!(
            breeds.all(|b| b["probability"].as_f64().unwrap() > 0.0),
            "{model}"
        );
        for n in ["dingo", "dhole", "African hunting dog"] {
            assert!(names.contains(&n), "{model}: {n}");
        }
        for n in ["timber wolf", "coyote", "red fox"] {
            assert!(!names.contains(&n), "{model}: {n}");
        }
    }
    let o = breedcam(&["classify", "--top", "2", path_str(&photo)]);
    let t = stdout(&o);
    assert!(t.contains("Rhodesian_ridgeback.JPEG: dog"), "{t}");
    assert!(t.contains("dhole"), "{t}");
}

#[test]
#[cfg_attr(
    target_arch = "aarch64",
    ignore = "118 photos take too long under qemu; run on x86"
)]
fn default_model_on_dev_dogs_matches_the_tflite_reference() {
    // The default (EfficientNet-Lite2 int8): TFLite XNNPACK on breedcam's own input tensors
    // (tools/tflite_accuracy.py, top-k over the 121 dog classes) gets 108 / 116 / 118 of 118
    // (91.5 / 98.3 / 100 %); tract within 2 photos, as promised in MODELS.md.
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = shared.join("data/dev-dogs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 118);
    // The centre crop, as the reference ran it.
    let mut args = vec!["classify", "--locate", "off", "--json", "--top", "5"];
    args.extend(files.iter().map(|f| path_str(f)));
    let o = breedcam(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let (mut top1, mut top3, mut top5) = (0, 0, 0);
    for (line, file) in stdout(&o).lines().zip(&files) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let want = file
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split('_')
            .next()
            .unwrap();
        let got: Vec<&str> = v["breeds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["wnid"].as_str().unwrap())
            .collect();
        let rank = got.iter().position(|w| *w == want);
        top1 += (rank < Some(1) && rank.is_some()) as i32;
        top3 += rank.is_some_and(|r| r < 3) as i32;
        top5 += rank.is_some() as i32;
    }
    eprintln!("dev-dogs: top-1 {top1} top-3 {top3} top-5 {top5} of 118");
    assert!((top1 - 108).abs() <= 2, "top-1 {top1} vs TFLite 108");
    assert!((top3 - 116).abs() <= 2, "top-3 {top3} vs TFLite 116");
    assert!((top5 - 118).abs() <= 2, "top-5 {top5} vs TFLite 118");
    // The first default (lite0-seed) gets 102 / 113 / 115 here: the new default beats it.
    assert!(top1 > 102 && top3 > 113 && top5 > 115);
}

#[test]
fn info_lists_quantization_normalisation_and_ops() {
    let o = breedcam(&["info"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.contains("input     i8 [1, 260, 260, 3] scale 0.0078125 zero point -1"),
        "{t}"
    );
    assert!(
        t.contains("output    i8 [1, 1000] scale 0.00390625 zero point -128"),
        "{t}"
    );
    assert!(
        t.contains("normalise (p - [127.0]) / [128.0]  [from Sidecar]"),
        "{t}"
    );
    assert!(
        t.contains("  43 CONV_2D") && !t.contains("QUANTIZE") && t.contains("81 operators"),
        "{t}"
    );
    assert!(t.contains("labels    1000 classes, 121 dog breeds"), "{t}");
    // The seed model: uint8 I/O, a QUANTIZE at each end, normalisation from its metadata.
    let o = breedcam(&["info", "--model", "lite0-seed"]);
    let t = stdout(&o);
    assert!(
        t.contains("input     u8 [1, 224, 224, 3] scale 0.012566017 zero point 131"),
        "{t}"
    );
    assert!(
        t.contains("output    u8 [1, 1000] scale 0.00390625 zero point 0"),
        "{t}"
    );
    assert!(
        t.contains("normalise (p - [127.0]) / [128.0]  [from Metadata]"),
        "{t}"
    );
    assert!(
        t.contains("  33 CONV_2D") && t.contains("   2 QUANTIZE") && t.contains("64 operators"),
        "{t}"
    );
}

#[test]
fn a_file_that_is_not_a_model() {
    let o = breedcam(&["classify", "--model", "Cargo.toml", "Cargo.toml"]);
    assert_bad_input(&o, "Cargo.toml", "not a valid TFLite model");
}

#[test]
fn a_truncated_model() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(common::default_model()).unwrap();
    let cut = dir.path().join("cut.tflite");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = breedcam(&["classify", "--model", path_str(&cut), "Cargo.toml"]);
    assert_bad_input(&o, "cut.tflite", "not a valid TFLite model");
}

#[test]
fn a_model_with_an_unsupported_op() {
    let dir = tempfile::tempdir().unwrap();
    let mut m = TinyModel::unary(BuiltinOperator::RELU, TinyOptions::None);
    m.tensors
        .push(TinyTensor::new("y", &[1, 2, 2, 3], TensorType::UINT8).quant(1.0, 0));
    m.ops.push(TinyOp {
        code: BuiltinOperator::CUMSUM,
        inputs: vec![1],
        outputs: vec![2],
        options: TinyOptions::None,
    });
    m.outputs = vec![2];
    let path = dir.path().join("cumsum.tflite");
    std::fs::write(&path, m.to_bytes()).unwrap();
    let o = breedcam(&["classify", "--model", path_str(&path), "Cargo.toml"]);
    assert_bad_input(
        &o,
        "cumsum.tflite",
        "unsupported operator: CUMSUM (operator 1)",
    );
    // `info` names it too, without failing to describe the rest.
    let o = breedcam(&["info", "--model", path_str(&path)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stdout(&o).contains("   1 CUMSUM  UNSUPPORTED"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_missing_model() {
    let o = breedcam(&["classify", "--model", "models/nope.tflite", "Cargo.toml"]);
    assert_bad_input(&o, "models/nope.tflite", "No such file");
}

#[test]
fn an_image_that_is_not_an_image_and_a_missing_one() {
    let o = breedcam(&["classify", "Cargo.toml"]);
    assert_bad_input(&o, "Cargo.toml", "not a JPEG, PNG or BMP image");
    let o = breedcam(&["classify", "no/such/photo.jpg"]);
    assert_bad_input(&o, "no/such/photo.jpg", "No such file");
}

#[test]
fn a_truncated_jpeg() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(shared.join("data/photos/hot_dog.jpg")).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..600]).unwrap();
    let o = breedcam(&["classify", path_str(&cut)]);
    assert_bad_input(&o, "cut.jpg", "the file is truncated");
}

#[test]
fn one_bad_image_does_not_stop_the_others() {
    let Some(shared) = common::shared() else {
        return;
    };
    let cat = shared.join("data/photos/cat.bmp");
    let o = breedcam(&["classify", "Cargo.toml", path_str(&cat)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("cat.bmp: no dog"), "{}", stdout(&o));
    assert!(stderr(&o).contains("Cargo.toml"), "{}", stderr(&o));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // `breedcam info | head -1`: the reader goes away; no panic, no error message.
    use std::process::{Command, Stdio};
    if cfg!(not(target_arch = "x86_64")) {
        return; // spawned through qemu there; the signal path is the same code
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_breedcam"))
        .args(["info"])
        .current_dir(common::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}
