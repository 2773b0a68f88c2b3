//! Arbitrary bytes as camera frames through the kiosk's per-frame path: decode (MJPEG, YUYV,
//! YU12, NV12, RGB3, BGR3 or an image file, at any claimed size), fit to the model's input,
//! quantize, smooth, rank, and draw the overlay over the picture. The network itself runs
//! on a fixed-size tensor whatever the frame, so its place is taken by scores made from the
//! frame's bytes (zeros, ties and all): the path runs thousands of times a second instead
//! of ten. Any panic, abort, timeout or out-of-memory is a finding.
#![no_main]

use std::sync::OnceLock;

use breedcam::camera::{bytes::frame_from_bytes, decode};
use breedcam::kiosk::Smoother;
use breedcam::model::{Classifier, LoadOptions, ModelSource};
use breedcam::overlay::{draw, Canvas, View};
use breedcam::preprocess::{Crop, Preprocessor};
use breedcam::scores::verdict;
use libfuzzer_sys::fuzz_target;

struct Kiosk {
    model: Classifier,
    pre: [Preprocessor; 2],
}

fn kiosk() -> &'static Kiosk {
    static KIOSK: OnceLock<Kiosk> = OnceLock::new();
    KIOSK.get_or_init(|| {
        let source = ModelSource::resolve("lite0".as_ref()).expect("lite0 is embedded");
        let model = Classifier::open(&source, &LoadOptions::default()).expect("lite0 loads");
        let pre = [Crop::Centre, Crop::None].map(|c| model.preprocessor(c).unwrap());
        Kiosk { model, pre }
    })
}

fuzz_target!(|data: &[u8]| {
    let k = kiosk();
    let labels = k.model.labels.as_ref().expect("lite0 has labels");
    let frame = frame_from_bytes(data);
    let Ok(picture) = decode(&frame) else {
        return;
    };
    let pre = &k.pre[data.len() % 2];
    let fitted = pre.fit(&picture);
    let _ = pre
        .tensor(&fitted)
        .expect("a fitted picture always quantizes");
    // Scores from the fitted picture's bytes, as the model's softmax might give them.
    let raw = fitted.as_raw();
    let mut probs: Vec<f32> = (0..labels.len())
        .map(|i| raw.get(i).map_or(0.0, |&b| (b / 32) as f32))
        .collect();
    let sum: f32 = probs.iter().sum();
    if sum > 0.0 {
        probs.iter_mut().for_each(|p| *p /= sum);
    }
    let mut smoother = Smoother::new(0.5);
    smoother.update(&probs);
    let smooth = smoother.update(&probs).to_vec();
    let view = View::from_verdict(&verdict(labels, &smooth, 3), 12.0, 3.0);
    let screen = (1 + data.len() as u32 % 400, 1 + raw.len() as u32 % 300);
    let mut canvas = Canvas::new(screen.0, screen.1);
    let _ = draw(&mut canvas, Some(&picture), &view);
    let lost = View {
        headline: Some(format!(
            "camera lost: {}",
            String::from_utf8_lossy(&frame.data[..frame.data.len().min(200)])
        )),
        ..View::default()
    };
    let _ = draw(&mut canvas, None, &lost);
});
