//! The frame fuzzer's seeds and findings (`fuzz/seeds/frames/`, `fuzz/fuzz_targets/frames.rs`)
//! replayed on the stable toolchain through the kiosk's per-frame path, with the real model
//! where the fuzzer has stand-in scores: nothing panics, and the well-formed seeds decode.

use crate::common;

use breedcam::camera::{bytes::frame_from_bytes, decode};
use breedcam::model::{Classifier, LoadOptions, ModelSource};
use breedcam::overlay::{draw, Canvas, View};
use breedcam::preprocess::Crop;
use breedcam::scores::verdict;

#[test]
fn every_frame_the_fuzzer_kept_goes_through_decode_classify_and_overlay() {
    let source = ModelSource::resolve("lite0".as_ref()).unwrap();
    let model = Classifier::open(&source, &LoadOptions::default()).unwrap();
    let labels = model.labels.as_ref().unwrap();
    let pre = model.preprocessor(Crop::Centre).unwrap();
    let dir = common::root().join("fuzz/seeds/frames");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let frame = frame_from_bytes(&std::fs::read(&path).unwrap());
        let decoded = decode(&frame);
        // The well-formed seeds (`<format>_16x12`, `file_<type>`) are pictures.
        if name.ends_with("_16x12") || name.starts_with("file_") {
            let picture = decoded.as_ref().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(picture.dimensions(), (16, 12), "{name}");
        }
        let Ok(picture) = decoded else {
            continue;
        };
        let probs = model.run(pre.prepare(&picture).unwrap()).unwrap();
        let view = View::from_verdict(&verdict(labels, &probs, 3), 10.0, 1.0);
        let mut canvas = Canvas::new(160, 120);
        draw(&mut canvas, Some(&picture), &view).unwrap();
        seen += 1;
    }
    assert!(seen >= 9, "{seen} frames decoded");
}
