//! criterion benches of the kiosk's stages: preprocessing a 640x480 camera frame, inference
//! (the committed models, and MobileNetV2 1.0/224 from ../shared when it is there; the default
//! also on 2 threads), drawing the overlay (a group per screen size: all of it, and the
//! picture's resize alone). TFLite's times for the same models and inputs come
//! from tools/speed_table.py. Compare runs as ratios within one session
//! (`cargo bench -- --save-baseline before` ... `--baseline before`); machines are noisy.

use breedcam::camera::{FrameSource, Synthetic};
use breedcam::model::{set_threads, Classifier, LoadOptions, ModelSource, MODELS};
use breedcam::overlay::{draw, scale_picture, Canvas, Line, View};
use breedcam::preprocess::{decode_image, Crop};
use criterion::{criterion_group, criterion_main, Criterion};

fn frame_jpeg() -> Vec<u8> {
    Synthetic::new(1, 640, 480)
        .and_then(|mut s| s.next_frame())
        .expect("synthetic frame")
        .data
}

fn benches(c: &mut Criterion) {
    let model = Classifier::open(&ModelSource::default_model(), &LoadOptions::default())
        .expect("default model");
    let pre = model.preprocessor(Crop::Centre).expect("preprocessor");
    let jpeg = frame_jpeg();
    let img = decode_image(&jpeg).expect("decode");
    c.bench_function("decode 640x480 jpeg", |b| {
        b.iter(|| decode_image(&jpeg).unwrap())
    });
    let side = model.input.shape[1];
    c.bench_function(&format!("crop+resize 640x480 -> {side}"), |b| {
        b.iter(|| pre.fit(&img))
    });
    let fitted = pre.fit(&img);
    c.bench_function(&format!("quantize {side}x{side}"), |b| {
        b.iter(|| pre.tensor(&fitted).unwrap())
    });
    let mut g = c.benchmark_group("inference");
    g.sample_size(20);
    let shared = std::path::PathBuf::from(
        std::env::var("BREEDCAM_SHARED").unwrap_or_else(|_| "../shared".into()),
    );
    let mut models = vec![
        MODELS[0].file.into(),
        "models/efficientnet_lite0_int8io.tflite".into(),
        "models/efficientnet_lite0_int8.tflite".into(),
    ];
    models.dedup();
    for rel in [
        "models/coral/mobilenet_v2_1.0_224_quant.tflite",
        "models/coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
    ] {
        if shared.join(rel).exists() {
            models.push(shared.join(rel));
        }
    }
    for (i, path) in models.iter().enumerate() {
        let m = Classifier::load(path, &LoadOptions::default()).expect("model");
        let p = m.preprocessor(Crop::Centre).expect("preprocessor");
        let t = p.prepare(&img).unwrap();
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        set_threads(1).unwrap();
        g.bench_function(format!("{name} (1 thread)"), |b| {
            b.iter(|| m.run_raw(t.clone()).unwrap())
        });
        if i == 0 {
            set_threads(2).unwrap();
            g.bench_function(format!("{name} (2 threads)"), |b| {
                b.iter(|| m.run_raw(t.clone()).unwrap())
            });
            set_threads(1).unwrap();
        }
    }
    g.finish();
    let view = View {
        breeds: vec![
            Line {
                name: "Eskimo dog".into(),
                probability: 0.39,
            },
            Line {
                name: "Siberian husky".into(),
                probability: 0.22,
            },
            Line {
                name: "Norwegian elkhound".into(),
                probability: 0.13,
            },
        ],
        headline: None,
        corner: "219 ms  4.5 fps".into(),
        dogs: vec![],
    };
    for (w, h) in [(480, 320), (800, 480), (1280, 800), (1920, 1080)] {
        let mut g = c.benchmark_group(format!("overlay {w}x{h}"));
        let mut canvas = Canvas::new(w, h);
        g.bench_function("draw", |b| {
            b.iter(|| draw(&mut canvas, Some(&img), &view).unwrap())
        });
        g.bench_function("picture resize", |b| b.iter(|| scale_picture(&img, (w, h))));
        g.finish();
    }
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
