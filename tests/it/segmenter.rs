//! The segmenters (DeepLabV3 MobileNetV2 PASCAL VOC, uint8) on breedcam's own import against
//! TFLite (fixtures made by tools/make_seg_goldens.py): the 33x33x21 class scores the
//! Segmenter stops at are bit for bit TFLite XNNPACK's on every golden photo, and the full
//! model's 513x513 ARG_MAX map is too (its sha256). On x86 and under qemu (aarch64).

use crate::common;

use breedcam::locate::segmenter::{Segmenter, DOG};
use breedcam::model::{Classifier, LoadOptions, ModelSource};
use breedcam::preprocess::load_image;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
struct Fixture {
    model: String,
    logits_name: String,
    logits_shape: Vec<usize>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    photo: String,
    input_sha256: String,
    logits_xnnpack: String,
    class_map_sha256: String,
}

fn fixture(name: &str) -> Fixture {
    let path = common::root()
        .join("tests/fixtures/golden")
        .join(format!("{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The photos of a fixture that can run here: repo photos always, shared ones with
/// $BREEDCAM_SHARED.
fn photos(f: &Fixture) -> Vec<(&Case, std::path::PathBuf)> {
    let shared = common::shared();
    f.cases
        .iter()
        .filter_map(|c| match (c.photo.split_once(':'), &shared) {
            (Some(("shared", rel)), Some(s)) => Some((c, s.join("data/photos").join(rel))),
            (Some(("shared", _)), None) => None,
            (Some(("repo", rel)), _) => Some((c, common::root().join(rel))),
            _ => panic!("bad photo reference {}", c.photo),
        })
        .collect()
}

fn check_logits(name: &str) {
    let f = fixture(name);
    let seg = Segmenter::open(&ModelSource::File(common::root().join(&f.model))).unwrap();
    assert_eq!(
        seg.logits.name, f.logits_name,
        "{name}: stops at another tensor"
    );
    assert_eq!(seg.logits.shape, f.logits_shape);
    assert_eq!(seg.input_size(), (513, 513));
    let cases = photos(&f);
    assert!(!cases.is_empty());
    for (i, (case, photo)) in cases.into_iter().enumerate() {
        let what = format!("{name} on {}", case.photo);
        let frame = load_image(&photo).unwrap();
        let input = seg.input_bytes(&frame).unwrap();
        let sha = format!("{:x}", Sha256::digest(&input));
        assert_eq!(
            sha, case.input_sha256,
            "{what}: preprocessing changed; re-run tools/make_seg_goldens.py"
        );
        let started = std::time::Instant::now();
        let map = seg.class_map_raw(&input).unwrap();
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let want = unhex(&case.logits_xnnpack);
        let differ = map.data.iter().zip(&want).filter(|(a, b)| a != b).count();
        let worst = map
            .data
            .iter()
            .zip(&want)
            .map(|(&a, &b)| (a as i32 - b as i32).abs())
            .max()
            .unwrap_or(0);
        eprintln!("{what}: {differ} logits differ from TFLite XNNPACK's (max {worst}); {ms:.1} ms");
        assert_eq!(map.data.len(), want.len(), "{what}");
        assert_eq!(differ, 0, "{what}: not bit-identical to TFLite XNNPACK");
        assert_eq!((map.width, map.height, map.classes), (33, 33, 21));
        // The frame path is the raw path on the same bytes (checked on the first photo only:
        // a second segmenter run per photo doubled this test's time under qemu).
        if i == 0 {
            assert!(seg.class_map(&frame).unwrap() == map, "{what}");
        }
    }
}

#[test]
fn depth_1_logits_are_tflites_bit_for_bit() {
    check_logits("segmenter_deeplabv3_mnv2");
}

#[test]
fn depth_05_logits_are_tflites_bit_for_bit() {
    check_logits("segmenter_deeplabv3_mnv2_dm05");
}

/// The whole model (to the 513x513 ARG_MAX) as a classifier-style graph: its int64 class
/// map hashes to TFLite's. The husky (a repo photo) always runs, pets.jpg with the shared
/// photos; the other photos' logits are checked above, and this is the slow path.
fn check_full_map(name: &str) {
    let f = fixture(name);
    let model = Classifier::load(&common::root().join(&f.model), &LoadOptions::default()).unwrap();
    let seg = Segmenter::open(&ModelSource::File(common::root().join(&f.model))).unwrap();
    for (case, photo) in photos(&f)
        .into_iter()
        .filter(|(c, _)| c.photo.ends_with("husky.png") || c.photo.ends_with("pets.jpg"))
    {
        let frame = load_image(&photo).unwrap();
        let input = seg.input_bytes(&frame).unwrap();
        let t = model.tensor_from_bytes(&input).unwrap();
        let out = model.run_raw(t).unwrap();
        assert_eq!(out.shape(), [1, 513, 513]);
        let classes = out.try_as_plain_ram().unwrap();
        let classes = classes.as_slice::<i64>().unwrap();
        let bytes: Vec<u8> = classes.iter().flat_map(|c| c.to_le_bytes()).collect();
        let sha = format!("{:x}", Sha256::digest(&bytes));
        assert_eq!(
            sha, case.class_map_sha256,
            "{name} on {}: class map differs from TFLite's",
            case.photo
        );
        // Both photos are mostly background with a dog in them.
        let dogs = classes.iter().filter(|&&c| c == DOG as i64).count();
        assert!(dogs > 513 * 513 / 10, "{name} on {}: {dogs}", case.photo);
    }
}

#[test]
fn depth_1_full_class_map_is_tflites() {
    check_full_map("segmenter_deeplabv3_mnv2");
}

#[test]
fn depth_05_full_class_map_is_tflites() {
    check_full_map("segmenter_deeplabv3_mnv2_dm05");
}
