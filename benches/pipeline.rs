//! criterion benches of the kiosk's stages: preprocessing a 640x480 camera frame, inference
//! of the default model, drawing the overlay. Compare runs as ratios within one session
//! (`cargo bench -- --save-baseline before` ... `--baseline before`); machines are noisy.

use breedcam::camera::{FrameSource, Synthetic};
use breedcam::model::{default_model_path, Classifier, LoadOptions};
use breedcam::overlay::{draw, Canvas, Line, View};
use breedcam::preprocess::{decode_image, Crop};
use criterion::{criterion_group, criterion_main, Criterion};

fn frame_jpeg() -> Vec<u8> {
    Synthetic::new(1, 640, 480)
        .and_then(|mut s| s.next_frame())
        .expect("synthetic frame")
        .data
}

fn benches(c: &mut Criterion) {
    let model =
        Classifier::load(&default_model_path(), &LoadOptions::default()).expect("default model");
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
    let tensor = pre.tensor(&fitted).unwrap();
    let mut g = c.benchmark_group("inference");
    g.sample_size(20);
    let name = model.path.file_stem().unwrap_or_default().to_string_lossy();
    g.bench_function(format!("{name} (1 thread)"), |b| {
        b.iter(|| model.run_raw(tensor.clone()).unwrap())
    });
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
    };
    let mut canvas = Canvas::new(800, 480);
    c.bench_function("overlay 800x480", |b| {
        b.iter(|| draw(&mut canvas, Some(&img), &view).unwrap())
    });
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
