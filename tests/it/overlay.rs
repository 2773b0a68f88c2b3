//! The overlay, drawn for fixed scores on a fixed synthetic frame, equals the committed PNGs
//! (tests/fixtures/overlay) on the small TFT (480x320), landscape HDMI (1280x800, 1920x1080)
//! and portrait (800x1280) screens, and for the status screens. Set BREEDCAM_UPDATE_GOLDEN=1
//! to rewrite them after a deliberate change, and look at them before committing. Further
//! checks measure the drawn pixels: the breed names' height, and the longest dog names
//! staying inside their column.

use crate::common;

use breedcam::overlay::{draw, text, Canvas, DogLabel, Layout, Line, View};
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
    compare(name, got);
}

fn check_frame(name: &str, view: &View, size: (u32, u32), frame: &RgbImage) {
    compare(name, render(view, size, Some(frame)));
}

/// `got` against the golden `name`.png (written first with BREEDCAM_UPDATE_GOLDEN).
fn compare(name: &str, got: RgbImage) {
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

/// pets.jpg's two dogs (512x430): boxes measured by eye on the photo (x0, y0, x1, y1) and
/// the classifier's top breeds on their square crops (`breedcam classify` on the crops the
/// kiosk cuts, 2026-12-06). The photo itself is not committed (it is ../shared's): the
/// goldens draw the boxes over a stand-in frame of its size, grass-green tiles with a dark
/// oval where each dog is, and `dogs_over_the_photo_differ_only_in_the_picture` draws them
/// over the real photo.
const PETS: (u32, u32) = (512, 430);
const WHIPPET: (u32, u32, u32, u32) = (104, 8, 262, 296);
const BOSTON: (u32, u32, u32, u32) = (344, 162, 498, 366);

fn pets_stand_in() -> RgbImage {
    let inside = |(x0, y0, x1, y1): (u32, u32, u32, u32), x: u32, y: u32| {
        let (cx, cy) = ((x0 + x1) as f32 / 2.0, (y0 + y1) as f32 / 2.0);
        let (rx, ry) = ((x1 - x0) as f32 / 2.0, (y1 - y0) as f32 / 2.0);
        let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
        dx * dx + dy * dy <= 1.0
    };
    RgbImage::from_fn(PETS.0, PETS.1, |x, y| {
        if inside(WHIPPET, x, y) {
            image::Rgb([70, 70, 80])
        } else if inside(BOSTON, x, y) {
            image::Rgb([30, 30, 35])
        } else if y < 80 {
            image::Rgb([150, 160, 170])
        } else {
            let tile = ((x / 64 + y / 64) % 2) as u8;
            image::Rgb([70 + 20 * tile, 140 + 20 * tile, 50])
        }
    })
}

fn two_dogs() -> View {
    let line = |name: &str, probability: f32| Line {
        name: name.into(),
        probability,
    };
    View {
        breeds: vec![
            line("whippet", 0.203),
            line("Italian greyhound", 0.102),
            line("American Staffordshire terrier", 0.074),
        ],
        headline: None,
        corner: "61 ms  9.8 fps".into(),
        dogs: vec![
            DogLabel {
                bbox: WHIPPET,
                name: "whippet".into(),
                probability: 0.203,
                id: 0,
            },
            DogLabel {
                bbox: BOSTON,
                name: "Boston bull".into(),
                probability: 0.453,
                id: 1,
            },
        ],
    }
}

fn check_pets(name: &str, size: (u32, u32)) {
    check_frame(name, &two_dogs(), size, &pets_stand_in());
}

#[test]
fn two_dogs_on_the_small_tft() {
    check_pets("two_dogs_480x320", (480, 320));
}

#[test]
fn two_dogs_on_a_16_10_screen() {
    check_pets("two_dogs_1280x800", (1280, 800));
}

#[test]
fn two_dogs_on_a_16_9_screen() {
    check_pets("two_dogs_1920x1080", (1920, 1080));
}

/// The rectangles of one colour's pixels (a dog's box and label), as a bounding box.
fn colour_box(img: &RgbImage, rgb: [u8; 3]) -> Option<(u32, u32, u32, u32)> {
    let mut bx: Option<(u32, u32, u32, u32)> = None;
    for (x, y, p) in img.enumerate_pixels() {
        if p.0 == rgb {
            bx = Some(match bx {
                None => (x, y, x + 1, y + 1),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1)),
            });
        }
    }
    bx
}

#[test]
fn dog_boxes_sit_on_the_dogs_and_labels_stay_in_the_picture() {
    let f = pets_stand_in();
    for size in [(480, 320), (1280, 800), (1920, 1080), (800, 1280)] {
        let (px, py, pw, ph) = breedcam::overlay::picture_rect(PETS, size);
        let with = render(&two_dogs(), size, Some(&f));
        let mut plain = two_dogs();
        plain.dogs.clear();
        let without = render(&plain, size, Some(&f));
        // Everything the dogs add is on the picture.
        let (x0, y0, x1, y1) = diff_box(&with, &without).expect("dogs are drawn");
        assert!(
            x0 >= px && y0 >= py && x1 <= px + pw && y1 <= py + ph,
            "{size:?}: drawn in {:?}, the picture is {:?}",
            (x0, y0, x1, y1),
            (px, py, pw, ph)
        );
        // Each dog's colour covers its box mapped onto the picture (and its label).
        for (d, colour) in [(WHIPPET, [255, 176, 0]), (BOSTON, [0, 200, 255])] {
            let (bx0, by0, bx1, by1) = colour_box(&with, colour).unwrap();
            let sx = |v: u32| px + v * pw / PETS.0;
            let sy = |v: u32| py + v * ph / PETS.1;
            assert!(
                bx0 <= sx(d.0) && by0 <= sy(d.1) && bx1 >= sx(d.2) && by1 >= sy(d.3),
                "{size:?}: {colour:?} covers {:?}, the dog is at {:?}",
                (bx0, by0, bx1, by1),
                (sx(d.0), sy(d.1), sx(d.2), sy(d.3))
            );
            // ... and not much more: the label may stick out by its own size.
            let slack = Layout::for_screen(size).label_size * 3;
            assert!(
                bx1 <= sx(d.2) + 10 * slack && by0 + slack * 2 >= sy(d.1),
                "{size:?}"
            );
        }
    }
}

#[test]
fn dogs_over_the_photo_differ_only_in_the_picture() {
    let Some(shared) = common::shared() else {
        return;
    };
    let photo = image::open(shared.join("data/photos/pets.jpg"))
        .unwrap()
        .to_rgb8();
    assert_eq!(photo.dimensions(), PETS);
    let size = (1280, 800);
    let (px, py, pw, ph) = breedcam::overlay::picture_rect(PETS, size);
    let real = render(&two_dogs(), size, Some(&photo));
    let stand_in = render(&two_dogs(), size, Some(&pets_stand_in()));
    let (x0, y0, x1, y1) = diff_box(&real, &stand_in).expect("the pictures differ");
    assert!(x0 >= px && y0 >= py && x1 <= px + pw && y1 <= py + ph);
    // The boxes' lines and labels are opaque: the same over the photo.
    for colour in [[255, 176, 0], [0, 200, 255]] {
        let on_photo = real.pixels().filter(|p| p.0 == colour).count();
        let on_stand_in = stand_in.pixels().filter(|p| p.0 == colour).count();
        assert!(on_photo >= on_stand_in, "{colour:?}");
    }
    if std::env::var_os("BREEDCAM_SAVE_PETS").is_some() {
        save_png(
            &real,
            std::path::Path::new("/tmp/two_dogs_on_pets_1280x800.png"),
        );
    }
}
