//! `breedcam eval` on a labelled folder the test builds, and `breedcam bench` reports.

mod common;

use common::{breedcam, path_str, stderr, stdout};

#[test]
fn eval_counts_exactly_on_a_folder_built_here() {
    let dir = tempfile::tempdir().unwrap();
    let husky = std::fs::read(common::root().join("tests/data/husky.png")).unwrap();
    let d = dir.path();
    // Stanford-Dogs layout: the folder names the breed; top-1 right (Eskimo dog).
    std::fs::create_dir(d.join("n02109961-Eskimo_dog")).unwrap();
    std::fs::write(d.join("n02109961-Eskimo_dog/husky.png"), &husky).unwrap();
    // ImageNet-style name: labelled Siberian husky, which the model ranks second.
    std::fs::write(d.join("n02110185_1.png"), &husky).unwrap();
    // An id the model does not know, an unreadable photo, a photo with no id.
    std::fs::write(d.join("n99999999_1.png"), &husky).unwrap();
    std::fs::write(
        d.join("n02085620_broken.jpg"),
        b"\xff\xd8\xff\xe0 not really a jpeg",
    )
    .unwrap();
    std::fs::write(d.join("holiday.png"), &husky).unwrap();

    let o = breedcam(&["eval", "--json", path_str(d)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let r = &j["reports"][0];
    assert_eq!(
        r["dogs"],
        serde_json::json!({"top1": 1, "top3": 2, "top5": 2, "n": 2}),
        "{r}"
    );
    assert_eq!(r["unknown_ids"].as_array().unwrap().len(), 1);
    assert_eq!(r["unknown_ids"][0]["wnid"], "n99999999");
    let unreadable = r["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1);
    assert!(unreadable[0][0]
        .as_str()
        .unwrap()
        .ends_with("n02085620_broken.jpg"));
    assert_eq!(j["unlabelled"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["confusions"][0],
        serde_json::json!(["n02110185", "n02109961", 1])
    );

    // The text form, and --compare against the same model: full agreement.
    let model = common::default_model();
    let o = breedcam(&["eval", "--compare", path_str(&model), path_str(d)]);
    let t = stdout(&o);
    assert!(
        t.contains("dog breeds:  top-1 50.0% top-3 100.0% top-5 100.0% (n=2)"),
        "{t}"
    );
    assert!(
        t.contains("1 photos of ids the model does not know (not counted)"),
        "{t}"
    );
    assert!(
        t.contains("unreadable, skipped:") && t.contains("n02085620_broken.jpg"),
        "{t}"
    );
    assert!(
        t.contains("confusions: Siberian husky -> Eskimo dog (1)"),
        "{t}"
    );
    assert!(
        t.contains("agreement: same top-1 breed on 2 of 2 photos (100.0%)"),
        "{t}"
    );
}

#[test]
fn eval_of_an_empty_or_missing_folder_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let o = breedcam(&["eval", path_str(dir.path())]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no labelled photos"), "{}", stderr(&o));
    let o = breedcam(&["eval", "no/such/dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such/dir"), "{}", stderr(&o));
}

fn check_report(j: &serde_json::Value, frames: u64) {
    assert_eq!(j["schema"], "breedcam.bench/1");
    assert_eq!(j["frames"], frames);
    // The default model, models/efficientnet_lite2_int8io.tflite (models/tools/SHA256SUMS).
    assert_eq!(
        j["model_sha256"],
        "4a2b22abd00f4b1e96dfa525b71c5545081cd21c37404bd52815e9b0d0ef6f3e"
    );
    assert_eq!(j["model_bytes"], 6895608);
    assert!(j["model_import_ms"].as_f64().unwrap() > 0.0);
    assert!(j["model_optimise_ms"].as_f64().unwrap() > 0.0);
    let names: Vec<&str> = j["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "capture",
            "decode",
            "crop+resize",
            "quantize",
            "inference",
            "overlay",
            "present"
        ]
    );
    for s in j["stages"].as_array().unwrap() {
        assert_eq!(s["n"], frames, "{s}");
        let (p50, p90, p99, max) = (
            s["p50"].as_f64().unwrap(),
            s["p90"].as_f64().unwrap(),
            s["p99"].as_f64().unwrap(),
            s["max"].as_f64().unwrap(),
        );
        assert!(0.0 <= p50 && p50 <= p90 && p90 <= p99 && p99 <= max, "{s}");
    }
    // Work that cannot take zero time was timed.
    for i in [1, 2, 4, 5] {
        assert!(
            j["stages"][i]["max"].as_f64().unwrap() > 0.0,
            "{}",
            j["stages"][i]
        );
    }
    assert!(j["fps"].as_f64().unwrap() > 0.0);
    assert!(j["peak_rss_mib"].as_f64().unwrap() > 10.0);
    assert!(j["board"]["cores"].as_u64().unwrap() >= 1);
    assert!(j["board"]["arch"].as_str().is_some());
    // Lite2's stem, 1x1 convolutions and classifier: 44 int8 matmuls of tract's, on
    // the kernel the report names.
    let kernels = j["matmul_kernels"].as_array().unwrap();
    assert!(!kernels.is_empty(), "{j}");
    let nodes: u64 = kernels.iter().map(|k| k["nodes"].as_u64().unwrap()).sum();
    assert_eq!(nodes, 44, "{j}");
    for k in kernels {
        assert!(k["kernel"].as_str().unwrap().contains("mmm_i32"), "{k}");
    }
    assert!(j["isa"].as_str().is_some());
}

#[cfg(target_arch = "x86_64")]
#[test]
fn bench_names_the_kernel_tract_picks_for_the_instruction_sets_it_is_given() {
    // tract's TRACT_CPU_ISA knob removes instruction sets, as an older CPU would lack them:
    // the report must follow the kernel actually chosen (and breedcam keeps out of it).
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_breedcam"))
        .current_dir(common::root())
        .args(["bench", "--frames", "1", "--warmup", "0", "--json"])
        .env("TRACT_CPU_ISA", "-avx512f,-avx512vnni,-avx2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(j["matmul_kernels"][0]["kernel"], "avx_mmm_i32_8x4", "{j}");
    assert_eq!(j["matmul_kernels"][0]["nodes"], 44, "{j}");
    assert!(!j["isa"].as_str().unwrap().contains("avx2"), "{j}");
    assert!(j["kernel_steering"].is_null(), "{j}");
}

#[test]
fn bench_from_synthetic_frames_times_every_stage() {
    let o = breedcam(&["bench", "--frames", "3", "--warmup", "1", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    check_report(&j, 3);
    assert!(j["source"].as_str().unwrap().starts_with("synthetic"));
}

#[test]
fn bench_from_a_folder_writes_the_screens_it_times() {
    let out = tempfile::tempdir().unwrap();
    let display = format!("png:{}", out.path().display());
    let o = breedcam(&[
        "bench",
        "--source",
        "tests/data",
        "--frames",
        "2",
        "--warmup",
        "0",
        "--display",
        &display,
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    check_report(&j, 2);
    let screens: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(screens.len(), 2);
    let png = image::open(out.path().join("frame-000001.png")).unwrap();
    assert_eq!((png.width(), png.height()), (800, 480));
}

#[test]
#[cfg_attr(
    target_arch = "aarch64",
    ignore = "118 photos take too long under qemu; run on x86"
)]
fn eval_of_coral_mobilenet_v1_on_dev_dogs_matches_tflite() {
    // TFLite reference (../shared/README.md): 85.6 / 98.3 / 98.3 % = 101 / 116 / 116 of 118.
    let Some(shared) = common::shared() else {
        return;
    };
    let model = shared.join("models/coral/mobilenet_v1_0.75_192_quant.tflite");
    let dir = shared.join("data/dev-dogs");
    let o = breedcam(&[
        "eval",
        "--json",
        "--model",
        path_str(&model),
        path_str(&dir),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let d = &j["reports"][0]["dogs"];
    assert_eq!(d["n"], 118);
    let got = |k: &str| d[k].as_i64().unwrap();
    eprintln!("coral MobileNetV1 dev-dogs: {d}");
    assert!((got("top1") - 101).abs() <= 2, "{d}");
    assert!((got("top3") - 116).abs() <= 2, "{d}");
    assert!((got("top5") - 116).abs() <= 2, "{d}");
}
