//! The overlay, drawn for fixed scores on a fixed synthetic frame, equals the committed PNGs
//! (tests/fixtures/overlay) on the small TFT (480x320), landscape HDMI (1280x800, 1920x1080)
//! and portrait (800x1280) screens, and for the status screens. Set BREEDCAM_UPDATE_GOLDEN=1
//! to rewrite them after a deliberate change, and look at them before committing. Further
//! checks measure the drawn pixels: the breed names' height, and the longest dog names
//! staying inside their column.

use crate::common;

use breedcam::overlay::{draw, text, Canvas, Layout, Line, View};
use image::RgbImage;

/// A 640x480 camera frame of flat coloured tiles and a white diagonal band: it shows the
/// picture's position and scaling in the goldens, and compresses to a few kB (a photo would
/// not).
fn frame() -> RgbImage {
    RgbImage::from_fn(640, 480, |x, y| {
        if (x as i32 - y as i32 * 4 / 3).abs() < 12 {
            return image::Rgb([240, 240, 240]);
        }
        let tile = (x / 160 + 4 * (y / 160)) as u8;
        image::Rgb([40 + 50 * (tile % 4), 60 + 60 * (tile / 4), 150 - 10 * tile])
    })
}

fn render(view: &View, size: (u32, u32), frame: Option<&RgbImage>) -> RgbImage {
    let mut canvas = Canvas::new(size.0, size.1);
    draw(&mut canvas, frame, view).unwrap();
    canvas.image
}

fn save_png(image: &RgbImage, path: &std::path::Path) {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let enc = PngEncoder::new_with_quality(file, CompressionType::Best, FilterType::Adaptive);
    image.write_with_encoder(enc).unwrap();
}

fn check(name: &str, view: &View, size: (u32, u32), with_frame: bool) {
    let f = frame();
    let got = render(view, size, with_frame.then_some(&f));
    let path = common::root()
        .join("tests/fixtures/overlay")
        .join(format!("{name}.png"));
    if std::env::var_os("BREEDCAM_UPDATE_GOLDEN").is_some() {
        save_png(&got, &path);
    }
    let want = image::open(&path).unwrap().to_rgb8();
    assert_eq!(got.dimensions(), want.dimensions());
    let differing = got
        .pixels()
        .zip(want.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(
        differing,
        0,
        "{name}: {differing} pixels differ from {}",
        path.display()
    );
}

fn top3() -> View {
    View {
        breeds: vec![
            Line {
                name: "Eskimo dog".into(),
                probability: 0.387,
            },
            Line {
                name: "Siberian husky".into(),
                probability: 0.223,
            },
            Line {
                name: "Norwegian elkhound".into(),
                probability: 0.129,
            },
        ],
        headline: None,
        corner: "224 ms  4.4 fps".into(),
        dogs: vec![],
    }
}

/// The three longest dog names of the model's labels.
fn longest_dog_names() -> Vec<String> {
    let tsv = std::fs::read_to_string(common::root().join("models/imagenet_labels.tsv")).unwrap();
    let mut dogs: Vec<String> = tsv
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.get(2) == Some(&"dog")).then(|| f[1].to_string())
        })
        .collect();
    assert!(dogs.len() >= 100, "{} dog classes", dogs.len());
    dogs.sort_by_key(|n| std::cmp::Reverse(n.chars().count()));
    dogs.truncate(3);
    dogs
}

fn long_names() -> View {
    View {
        breeds: longest_dog_names()
            .into_iter()
            .zip([0.5, 0.3, 0.1])
            .map(|(name, probability)| Line { name, probability })
            .collect(),
        headline: None,
        corner: "224 ms  4.4 fps".into(),
        dogs: vec![],
    }
}

#[test]
fn top3_on_the_small_tft() {
    check("top3_480x320", &top3(), (480, 320), true);
}

#[test]
fn top3_on_a_16_10_screen() {
    check("top3_1280x800", &top3(), (1280, 800), true);
}

#[test]
fn top3_on_a_16_9_screen() {
    check("top3_1920x1080", &top3(), (1920, 1080), true);
}

#[test]
fn top3_on_a_portrait_screen() {
    check("top3_800x1280", &top3(), (800, 1280), true);
}

#[test]
fn no_dog_in_view_is_large_under_the_picture() {
    let view = View {
        breeds: vec![],
        headline: Some("No dog in view".into()),
        corner: "224 ms  4.4 fps".into(),
        dogs: vec![],
    };
    check("no_dog_1280x800", &view, (1280, 800), true);
    check("no_dog_480x320", &view, (480, 320), true);
}

#[test]
fn camera_lost_is_large_and_centred() {
    let view = View {
        breeds: vec![],
        headline: Some("camera lost: /dev/video0: No such device".into()),
        corner: String::new(),
        dogs: vec![],
    };
    check("camera_lost_1920x1080", &view, (1920, 1080), false);
    check("camera_lost_480x320", &view, (480, 320), false);
}

#[test]
fn the_longest_dog_names_are_shortened_before_the_bars() {
    check("long_names_480x320", &long_names(), (480, 320), true);
    check("long_names_800x1280", &long_names(), (800, 1280), true);
}

/// The bounding box (x0, y0, x1, y1, exclusive) of the pixels that differ between two
/// drawings.
fn diff_box(a: &RgbImage, b: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let mut bx: Option<(u32, u32, u32, u32)> = None;
    for ((x, y, p), q) in a.enumerate_pixels().zip(b.pixels()) {
        if p != q {
            bx = Some(match bx {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    bx
}

/// The pixels of breed `i`'s name alone: the screen drawn with and without that name.
fn name_box(view: &View, i: usize, size: (u32, u32)) -> (u32, u32, u32, u32) {
    let f = frame();
    let with = render(view, size, Some(&f));
    let mut blank = view.clone();
    blank.breeds[i].name.clear();
    let without = render(&blank, size, Some(&f));
    diff_box(&with, &without).expect("the name is drawn")
}

#[test]
fn breed_names_are_at_least_a_fifteenth_of_the_screen_height() {
    for size in [(1280, 800), (1920, 1080)] {
        // "Siberian husky": a capital, ascenders and a descender.
        let (_, y0, _, y1) = name_box(&top3(), 1, size);
        let height = y1 - y0;
        println!("{size:?}: \"Siberian husky\" is {height} px tall");
        assert!(
            height * 15 >= size.1,
            "{size:?}: the name is {height} px tall, less than 1/15 of {} px",
            size.1
        );
    }
}

#[test]
fn the_longest_dog_names_stay_inside_their_column() {
    let view = long_names();
    for size in [(480, 320), (800, 1280), (1080, 1920), (1280, 800)] {
        let layout = Layout::for_screen(size);
        let pic = layout.picture((640, 480));
        let rows = layout.rows(layout.list(Some(pic)));
        for (i, line) in view.breeds.iter().enumerate() {
            let (nx, ny, nw, nh) = rows[i].name;
            let (x0, y0, x1, y1) = name_box(&view, i, size);
            assert!(
                x0 >= nx && x1 <= nx + nw && y0 >= ny && y1 <= ny + nh,
                "{size:?} {}: drawn at {:?}, its column is {:?}",
                line.name,
                (x0, y0, x1, y1),
                rows[i].name
            );
            // What is drawn is the name, or its whole-glyph prefix and an ellipsis.
            let shown = text::fit(&line.name, layout.name_size, nw);
            let head = shown.trim_end_matches(text::ELLIPSIS);
            assert!(line.name.starts_with(head) && !head.is_empty(), "{shown}");
            if size == (480, 320) {
                assert!(shown.ends_with(text::ELLIPSIS), "{size:?}: {shown}");
            }
        }
    }
}

#[test]
fn glyphs_are_rasterised_once() {
    // A size no other test draws, so the count is this test's own.
    let size = (1234, 777);
    let layout = Layout::for_screen(size);
    let f = frame();
    render(&top3(), size, Some(&f));
    let first = text::cached(layout.name_size);
    assert!(first >= 10, "{first} glyphs cached");
    render(&top3(), size, Some(&f));
    assert_eq!(text::cached(layout.name_size), first);
}
