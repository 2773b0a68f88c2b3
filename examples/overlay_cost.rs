//! The overlay's cost per frame at several screen sizes, without a model: a synthetic 640x480
//! camera frame and a fixed top-3 view, drawn `N` times per size after one untimed draw that
//! fills the glyph cache. Prints ms per frame for the whole overlay and for the picture's
//! resize alone. Wall time is noisy on a shared machine; for instruction counts run one part
//! under callgrind (only `draw` or only `resize` is called, so its total is that part's):
//!
//! ```text
//! cargo run --release --example overlay_cost -- 1920x1080 50
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/overlay_cost 1920x1080 10 draw
//! ```

use std::time::Instant;

use breedcam::camera::{FrameSource, Synthetic};
use breedcam::overlay::{draw, scale_picture, Canvas, Line, View};
use breedcam::preprocess::decode_image;

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes = args
        .first()
        .map_or("480x320,1280x800,1920x1080", |s| s.as_str());
    let n: usize = args
        .get(1)
        .map_or(Ok(50), |s| s.parse())
        .map_err(|e| format!("N: {e}"))?;
    let only = args.get(2).map(|s| s.as_str());
    let jpeg = Synthetic::new(1, 640, 480)
        .and_then(|mut s| s.next_frame())
        .map_err(|e| e.to_string())?
        .data;
    let frame = decode_image(&jpeg)?;
    let view = View {
        breeds: [
            ("Eskimo dog", 0.39),
            ("Siberian husky", 0.22),
            ("Norwegian elkhound", 0.13),
        ]
        .map(|(name, probability)| Line {
            name: name.into(),
            probability,
        })
        .to_vec(),
        headline: None,
        corner: "219 ms  4.5 fps".into(),
        dogs: vec![],
    };
    for size in sizes.split(',') {
        let (w, h) = size
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| format!("{size}: not WxH"))?;
        let mut canvas = Canvas::new(w, h);
        let (mut d, mut r) = (0.0, 0.0);
        if only != Some("resize") {
            let _ = draw(&mut canvas, Some(&frame), &view);
            let t = Instant::now();
            for _ in 0..n {
                let _ = draw(&mut canvas, Some(&frame), &view);
            }
            d = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        }
        if only != Some("draw") {
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(scale_picture(&frame, (w, h)));
            }
            r = t.elapsed().as_secs_f64() * 1e3 / n as f64;
        }
        println!("{w}x{h}: overlay {d:.3} ms/frame, of which picture resize {r:.3} ms");
    }
    Ok(())
}
