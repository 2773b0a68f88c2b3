//! The overlay, drawn for fixed scores on a fixed frame, equals the committed PNGs
//! (tests/fixtures/overlay). Set BREEDCAM_UPDATE_GOLDEN=1 to rewrite them after a deliberate
//! change, and look at them before committing.

mod common;

use breedcam::overlay::{draw, Canvas, Line, View};

fn check(name: &str, view: &View, size: (u32, u32)) {
    let frame = image::open(common::root().join("tests/data/husky.png"))
        .unwrap()
        .to_rgb8();
    let mut canvas = Canvas::new(size.0, size.1);
    draw(&mut canvas, Some(&frame), view).unwrap();
    let path = common::root()
        .join("tests/fixtures/overlay")
        .join(format!("{name}.png"));
    if std::env::var_os("BREEDCAM_UPDATE_GOLDEN").is_some() {
        canvas.image.save(&path).unwrap();
    }
    let want = image::open(&path).unwrap().to_rgb8();
    assert_eq!(canvas.image.dimensions(), want.dimensions());
    let differing = canvas
        .image
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

#[test]
fn top3_with_bars_on_a_letterboxed_frame() {
    let view = View {
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
    };
    check("top3_480x320", &view, (480, 320));
}

#[test]
fn no_dog_in_view() {
    let view = View {
        breeds: vec![],
        headline: Some("No dog in view".into()),
        corner: "224 ms  4.4 fps".into(),
    };
    check("no_dog_320x240", &view, (320, 240));
}

#[test]
fn long_names_are_shortened_before_the_bars() {
    let view = View {
        breeds: vec![Line {
            name: "American Staffordshire terrier".into(),
            probability: 0.5,
        }],
        headline: None,
        corner: String::new(),
    };
    check("long_name_320x240", &view, (320, 240));
}
