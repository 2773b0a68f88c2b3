//! `breedcam eval` on a labelled folder the test builds, and `breedcam bench` reports.

use crate::common;

use crate::common::{breedcam, path_str, stderr, stdout};

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
            "locate",
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
    for i in [1, 2, 3, 5, 6] {
        assert!(
            j["stages"][i]["max"].as_f64().unwrap() > 0.0,
            "{}",
            j["stages"][i]
        );
    }
    // Located by default; every frame classifies the centre crop and each dog found.
    assert_eq!(j["locate"], "seg-small");
    assert_eq!(j["per_dog"]["n"], frames);
    assert!(j["pictures_per_frame"].as_f64().unwrap() >= 1.0, "{j}");
    // The overlay alone at the default other screen sizes, timed as often as the frames.
    let sizes = j["overlay_sizes"].as_array().unwrap();
    let screens: Vec<&str> = sizes
        .iter()
        .map(|o| o["screen"].as_str().unwrap())
        .collect();
    assert_eq!(screens, ["480x320", "1280x800", "1920x1080"]);
    for o in sizes {
        for part in ["draw", "resize"] {
            assert_eq!(o[part]["n"], frames, "{o}");
            assert!(o[part]["max"].as_f64().unwrap() > 0.0, "{o}");
        }
    }
    assert!(j["fps"].as_f64().unwrap() > 0.0);
    assert!(j["peak_rss_mib"].as_f64().unwrap() > 10.0);
    assert!(j["board"]["cores"].as_u64().unwrap() >= 1);
    assert!(j["board"]["arch"].as_str().is_some());
    // Lite2's stem, 1x1 convolutions and classifier: 44 int8 matmuls, on the kernels the
    // report names (tract's, or breedcam's AVX2 one where tract's AVX2 kernel faults).
    let kernels = j["matmul_kernels"].as_array().unwrap();
    assert!(!kernels.is_empty(), "{j}");
    let nodes: u64 = kernels.iter().map(|k| k["nodes"].as_u64().unwrap()).sum();
    assert_eq!(nodes, 44, "{j}");
    for k in kernels {
        let name = k["kernel"].as_str().unwrap();
        assert!(
            name.contains("mmm_i32") || name == "breedcam_avx2_i16madd_6x16",
            "{k}"
        );
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
        // tract's kernel for the pointwise layers too, on every CPU.
        .env("BREEDCAM_POINTWISE", "tract")
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
    let o = breedcam(&["bench", "--frames", "1", "--overlay-sizes", "640x480,12xx"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("12xx"), "{}", stderr(&o));
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
    // TFLite XNNPACK on breedcam's input tensors (tools/tflite_accuracy.py, top-k over the
    // 121 dog classes): 83.1 / 96.6 / 98.3 % = 98 / 114 / 116 of 118. ($BREEDCAM_SHARED/README.md's
    // 101 / 116 / 116 is over 118 classes, on PIL-resized tensors.)
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
    assert!((got("top1") - 98).abs() <= 2, "{d}");
    assert!((got("top3") - 114).abs() <= 2, "{d}");
    assert!((got("top5") - 116).abs() <= 2, "{d}");
}

/// `$BREEDCAM_SHARED/data/dev-dogs`' Rhodesian ridgeback photo, which every committed model takes
/// for a dhole (the best class over all 1000): a dog since the dog set has 121 classes.
fn ridgeback(shared: &std::path::Path) -> Vec<u8> {
    std::fs::read(shared.join("data/dev-dogs/n02087394_Rhodesian_ridgeback.JPEG")).unwrap()
}

#[test]
fn eval_scores_stanford_folders_of_dingo_dhole_and_african_hunting_dog() {
    let Some(shared) = common::shared() else {
        return;
    };
    // No dingo, dhole or African hunting dog photo exists here; the ridgeback photo stands
    // in for each. lite2 ranks dhole 1st, African hunting dog 2nd, dingo 11th among the
    // breeds; lite0 ranks them 1st, 2nd, 3rd.
    let dir = tempfile::tempdir().unwrap();
    let photo = ridgeback(&shared);
    for folder in [
        "n02115641-dingo",
        "n02115913-dhole",
        "n02116738-African_hunting_dog",
    ] {
        std::fs::create_dir(dir.path().join(folder)).unwrap();
        std::fs::write(dir.path().join(folder).join("ridgeback.jpg"), &photo).unwrap();
    }
    let d = path_str(dir.path());
    let o = breedcam(&["eval", "--json", "--compare", "lite0", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let (lite2, lite0) = (&j["reports"][0], &j["reports"][1]);
    assert_eq!(
        lite2["dogs"],
        serde_json::json!({"top1": 1, "top3": 2, "top5": 2, "n": 3}),
        "{lite2}"
    );
    assert_eq!(
        lite0["dogs"],
        serde_json::json!({"top1": 1, "top3": 3, "top5": 3, "n": 3}),
        "{lite0}"
    );
    assert_eq!(
        lite2["breeds"]["n02115913"],
        serde_json::json!({"name": "dhole", "n": 1, "top1": 1})
    );
    assert_eq!(lite2["breeds"]["n02116738"]["name"], "African hunting dog");
    let ranks: Vec<_> = lite2["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["wnid"].clone(),
                a["rank_dogs"].clone(),
                a["predicted"].clone(),
            )
        })
        .collect();
    assert_eq!(
        ranks,
        [
            (
                "n02115641".into(),
                serde_json::Value::Null,
                "n02115913".into()
            ),
            ("n02115913".into(), 0.into(), "n02115913".into()),
            ("n02116738".into(), 1.into(), "n02115913".into()),
        ]
    );
    assert_eq!(
        j["agreement"],
        serde_json::json!({"photos": 3, "same_top1": 3})
    );
    assert!(lite2["unknown_ids"].as_array().unwrap().is_empty());
}

/// Writes `husky.png` under `dir` at each relative path.
fn huskies(dir: &std::path::Path, names: &[&str]) {
    let husky = std::fs::read(common::root().join("tests/data/husky.png")).unwrap();
    for n in names {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &husky).unwrap();
    }
}

#[test]
fn eval_against_a_ground_truth_file_with_several_acceptable_classes() {
    // The husky stamp: lite2's breeds are Eskimo dog (ImageNet 248), Siberian husky (250),
    // Norwegian elkhound (174), ... dingo (273) 9th.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    huskies(
        d,
        &[
            "either-order-a.png",
            "sub/either-order-b.png",
            "n02085620_named_chihuahua.png",
            "siberian.png",
            "dingo.png",
            "blurry.png",
            "not-listed.png",
        ],
    );
    let truth = d.join("truth.json");
    std::fs::write(
        &truth,
        r#"{
  "either-order-a.png": ["n02110185", 248],
  "sub/either-order-b.png": [248, "n02110185"],
  "n02085620_named_chihuahua.png": ["n02109961"],
  "./siberian.png": [250],
  "dingo.png": [273],
  "blurry.png": []
}"#,
    )
    .unwrap();
    // (the subject is the truth file, not finding the dog: the centre crop, no segmenter)
    let eval = |flag: &str| {
        let args = [
            "eval",
            "--json",
            "--locate",
            "off",
            flag,
            path_str(&truth),
            path_str(d),
        ];
        breedcam(&args)
    };
    let o = eval("--truth");
    assert!(o.status.success(), "{}", stderr(&o));
    // `eval --labels FILE` with a JSON object is the same ground truth.
    let same = eval("--labels");
    assert!(same.status.success(), "{}", stderr(&same));
    assert_eq!(stdout(&same), stdout(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let r = &j["reports"][0];
    // Hits at top-1: both either-order photos and the renamed one (the file, not the name,
    // is the truth); siberian at top-3 (rank 2nd); dingo not in the top 5; blurry left out.
    assert_eq!(
        r["dogs"],
        serde_json::json!({"top1": 3, "top3": 4, "top5": 4, "n": 5}),
        "{r}"
    );
    assert_eq!(r["all"]["n"], 5);
    let answers = r["answers"].as_array().unwrap();
    let by_name = |n: &str| {
        answers
            .iter()
            .find(|a| a["path"].as_str().unwrap().ends_with(n))
            .unwrap()
    };
    let a = by_name("either-order-a.png");
    assert_eq!(
        (&a["wnid"], &a["also"], &a["rank_dogs"]),
        (
            &"n02110185".into(),
            &serde_json::json!(["n02109961"]),
            &0.into()
        )
    );
    assert_eq!(by_name("sub/either-order-b.png")["rank_dogs"], 0);
    assert_eq!(by_name("siberian.png")["rank_dogs"], 1);
    assert_eq!(by_name("dingo.png")["rank_dogs"], serde_json::Value::Null);
    assert_eq!(j["no_valid_label"].as_array().unwrap().len(), 1);
    assert!(j["no_valid_label"][0]
        .as_str()
        .unwrap()
        .ends_with("blurry.png"));
    assert_eq!(j["unlabelled"].as_array().unwrap().len(), 1);
    assert!(j["unlabelled"][0]
        .as_str()
        .unwrap()
        .ends_with("not-listed.png"));
    assert_eq!(j["truth"], path_str(&truth));

    // The text form, and --compare with lite0 (the same breeds first on the husky).
    let o = breedcam(&[
        "eval",
        "--truth",
        path_str(&truth),
        "--compare",
        "lite0",
        path_str(d),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(
        t.contains("dog breeds:  top-1 60.0% top-3 80.0% top-5 80.0% (n=5)"),
        "{t}"
    );
    assert!(
        t.contains("1 photos with no valid label (empty list) were left out"),
        "{t}"
    );
    assert!(
        t.contains("1 image files with no entry in ") && t.contains("truth.json were ignored"),
        "{t}"
    );
    assert!(
        t.contains("agreement: same top-1 breed on 5 of 5 photos (100.0%)"),
        "{t}"
    );

    // A 1001-class model (background first): index 248 still means Eskimo dog, which coral
    // MobileNetV1 ranks first (its class 249); Siberian husky (250, its 251) 4th.
    let Some(shared) = common::shared() else {
        return;
    };
    let coral = shared.join("models/coral/mobilenet_v1_0.75_192_quant.tflite");
    let o = breedcam(&[
        "eval",
        "--json",
        "--model",
        path_str(&coral),
        "--truth",
        path_str(&truth),
        path_str(d),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        j["reports"][0]["dogs"],
        serde_json::json!({"top1": 3, "top3": 3, "top5": 4, "n": 5}),
        "{}",
        j["reports"][0]
    );
    let siberian = &j["reports"][0]["answers"][3];
    assert!(siberian["path"].as_str().unwrap().ends_with("siberian.png"));
    assert_eq!(siberian["rank_dogs"], 3, "{siberian}");
}

#[test]
fn a_bad_ground_truth_file_is_an_error_naming_the_file_and_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("photos");
    huskies(&d, &["a.png", "b.png"]);
    let truth = dir.path().join("truth.json");
    let run = |text: &str| {
        std::fs::write(&truth, text).unwrap();
        let o = breedcam(&["eval", "--truth", path_str(&truth), path_str(&d)]);
        assert_eq!(o.status.code(), Some(2), "{text}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(e.contains(path_str(&truth)), "{e}");
        e
    };
    let e = run(r#"{"a.png": [248], "b.png": ["n99999999"]}"#);
    assert!(e.contains(r#""b.png": unknown class "n99999999""#), "{e}");
    let e = run(r#"{"a.png": [5000]}"#);
    assert!(e.contains(r#""a.png": unknown class 5000"#), "{e}");
    let e = run("{\"a.png\": [248],\n \"b.png\": [248,]}");
    assert!(e.contains("not a ground-truth file"), "{e}");
    assert!(e.contains("at line 2 column"), "{e}");
    let e = run(r#"{"a.png": [248], "c.png": [248]}"#);
    assert!(
        e.contains(r#"1 entry names no photo under"#) && e.contains(r#""c.png""#),
        "{e}"
    );
    let e = run(r#"{"x.png": []}"#);
    assert!(e.contains(r#"1 entry names no photo"#), "{e}");
    let e = run(r#"{"a.png": []}"#);
    assert!(e.contains("no labelled photos"), "{e}");
    let o = breedcam(&["eval", "--truth", "no/such.json", path_str(&d)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no/such.json"), "{}", stderr(&o));
    // --labels takes a ground-truth file too (a JSON object), and names it when it is bad.
    let o = breedcam(&["eval", "--labels", path_str(&truth), path_str(&d)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(path_str(&truth)), "{}", stderr(&o));
    // ... but not in both places at once.
    let o = breedcam(&[
        "eval",
        "--labels",
        path_str(&truth),
        "--truth",
        path_str(&truth),
        path_str(&d),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("both --labels and --truth"),
        "{}",
        stderr(&o)
    );
}
