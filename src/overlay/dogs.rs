//! The dogs on the picture: a box around each, in the frame's pixels mapped through the same
//! placement as the picture ([`super::Layout::picture`]), and a label with its top breed and
//! percentage at [`super::Layout::label_size`] (two thirds of the list's names). Each dog
//! keeps its colour (by its track's id), so two dogs' labels do not trade colours as they
//! move. Labels stay inside the picture and are placed so they do not cover each other or
//! the corner: above the box if there is room, else inside its top, under it, or inside its
//! bottom, whichever is free first.

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;

use super::layout::Rect;
use super::text::{self, Style};
use super::{fill, Layout};

/// One dog on the screen.
#[derive(Clone, Debug, PartialEq)]
pub struct DogLabel {
    /// x0, y0, x1, y1 in the frame's pixels (x1, y1 exclusive).
    pub bbox: (u32, u32, u32, u32),
    /// Its most likely breed and that breed's probability.
    pub name: String,
    pub probability: f32,
    /// Which dog it is from frame to frame (its colour).
    pub id: u64,
}

/// Box and label colours, by dog (dark text on each).
const COLOURS: [Rgb888; 4] = [
    Rgb888::new(255, 176, 0),
    Rgb888::new(0, 200, 255),
    Rgb888::new(255, 90, 170),
    Rgb888::new(130, 230, 70),
];
const LABEL_TEXT: Rgb888 = Rgb888::new(0, 0, 0);

pub fn colour(id: u64) -> Rgb888 {
    COLOURS[(id % COLOURS.len() as u64) as usize]
}

/// A frame box (x0, y0, x1, y1) on the screen: x, y, width, height inside the picture at
/// `picture` (where a `frame`-sized picture is drawn), at least one pixel.
pub fn to_screen(bbox: (u32, u32, u32, u32), frame: (u32, u32), picture: Rect) -> Rect {
    let (px, py, pw, ph) = picture;
    let (fw, fh) = (frame.0.max(1) as u64, frame.1.max(1) as u64);
    let map = |v: u32, f: u64, p: u32| ((v as u64).min(f) * p as u64 / f) as u32;
    let (x0, x1) = (map(bbox.0, fw, pw), map(bbox.2, fw, pw));
    let (y0, y1) = (map(bbox.1, fh, ph), map(bbox.3, fh, ph));
    let (x0, y0) = (x0.min(pw.saturating_sub(1)), y0.min(ph.saturating_sub(1)));
    (
        px + x0,
        py + y0,
        x1.saturating_sub(x0).max(1),
        y1.saturating_sub(y0).max(1),
    )
}

fn overlap(a: Rect, b: Rect) -> u64 {
    let w = (a.0 + a.2).min(b.0 + b.2).saturating_sub(a.0.max(b.0)) as u64;
    let h = (a.1 + a.3).min(b.1 + b.3).saturating_sub(a.1.max(b.1)) as u64;
    w * h
}

/// Where each label goes (its top-left), in order: label `i` of size `sizes[i]` belongs to
/// the box `boxes[i]` (screen rectangles); all stay inside `area`, and each takes the first
/// of above / inside the top / under / inside the bottom of its box that covers no label
/// placed before it nor anything in `avoid` (else the one covering least).
pub fn place_labels(boxes: &[Rect], sizes: &[(u32, u32)], area: Rect, avoid: &[Rect]) -> Vec<Rect> {
    let (ax, ay, aw, ah) = area;
    let mut taken: Vec<Rect> = avoid.to_vec();
    let mut placed = vec![];
    for (&(bx, by, _, bh), &(lw, lh)) in boxes.iter().zip(sizes) {
        let (lw, lh) = (lw.min(aw), lh.min(ah));
        let x = bx.clamp(ax, ax + aw - lw);
        let fits = |y: i64| y >= ay as i64 && y + lh as i64 <= (ay + ah) as i64;
        let (top, bottom) = (by as i64, (by + bh) as i64);
        let mut ys: Vec<u32> = [top - lh as i64, top, bottom, bottom - lh as i64]
            .into_iter()
            .filter(|&y| fits(y))
            .map(|y| y as u32)
            .collect();
        if ys.is_empty() {
            ys.push(by.clamp(ay, ay + ah - lh));
        }
        let cost = |y: u32| -> u64 { taken.iter().map(|&t| overlap((x, y, lw, lh), t)).sum() };
        // The first free place; else the least covered one (the first of equals).
        let y = ys
            .iter()
            .copied()
            .find(|&y| cost(y) == 0)
            .unwrap_or_else(|| ys.iter().copied().min_by_key(|&y| cost(y)).unwrap_or(ay));
        let rect = (x, y, lw, lh);
        taken.push(rect);
        placed.push(rect);
    }
    placed
}

/// The label's text: "name NN%", the name shortened to fit `max_width` at `size`.
fn label_text(d: &DogLabel, size: u32, max_width: u32) -> String {
    let pct = format!("{:.0}%", (d.probability * 100.0).clamp(0.0, 100.0));
    let room = max_width.saturating_sub(text::width(&format!(" {pct}"), size));
    let name = text::fit(&d.name, size, room);
    if name.is_empty() {
        pct
    } else {
        format!("{name} {pct}")
    }
}

/// Draws each dog's box and label over the picture at `picture` (a `frame`-sized camera
/// picture), keeping labels off `avoid`.
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    dogs: &[DogLabel],
    frame: (u32, u32),
    picture: Rect,
    layout: &Layout,
    avoid: &[Rect],
) -> Result<(), D::Error> {
    let size = layout.label_size;
    let pad = (size / 4).max(2);
    let line = layout.box_line;
    let boxes: Vec<Rect> = dogs
        .iter()
        .map(|d| to_screen(d.bbox, frame, picture))
        .collect();
    for (d, &(x, y, w, h)) in dogs.iter().zip(&boxes) {
        let (t, c) = (line.min(w).min(h), colour(d.id));
        fill(target, (x, y, w, t), c)?;
        fill(target, (x, y + h - t, w, t), c)?;
        fill(target, (x, y, t, h), c)?;
        fill(target, (x + w - t, y, t, h), c)?;
    }
    let texts: Vec<String> = dogs
        .iter()
        .map(|d| label_text(d, size, picture.2.saturating_sub(2 * pad)))
        .collect();
    let sizes: Vec<(u32, u32)> = texts
        .iter()
        .map(|t| (text::width(t, size) + 2 * pad, size + pad))
        .collect();
    let places = place_labels(&boxes, &sizes, picture, avoid);
    for ((d, label), (x, y, w, h)) in dogs.iter().zip(&texts).zip(places) {
        let c = colour(d.id);
        fill(target, (x, y, w, h), c)?;
        let style = Style {
            size,
            color: LABEL_TEXT,
            background: c,
        };
        let at = Point::new((x + pad) as i32, (y + pad / 2) as i32);
        text::draw(target, label, at, &style)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_follow_the_pictures_scale_and_place() {
        // A 640x480 frame drawn at (100, 20) as 320x240: half size, shifted.
        let pic = (100, 20, 320, 240);
        assert_eq!(
            to_screen((64, 48, 320, 240), (640, 480), pic),
            (132, 44, 128, 96)
        );
        // The whole frame is the whole picture; a box past the frame is cut at its edge.
        assert_eq!(to_screen((0, 0, 640, 480), (640, 480), pic), pic);
        assert_eq!(
            to_screen((600, 400, 9000, 9000), (640, 480), pic),
            (400, 220, 20, 40)
        );
        // An empty box is still a pixel inside the picture.
        let (x, y, w, h) = to_screen((640, 480, 640, 480), (640, 480), pic);
        assert!(x + w <= 420 && y + h <= 260 && w >= 1 && h >= 1);
    }

    #[test]
    fn labels_of_dogs_side_by_side_do_not_cover_each_other() {
        let area = (0, 0, 400, 300);
        // Two boxes side by side with labels wider than each box, tops at the same height.
        let boxes = [(20, 100, 150, 150), (200, 100, 150, 150)];
        let sizes = [(250, 30), (250, 30)];
        let p = place_labels(&boxes, &sizes, area, &[]);
        assert_eq!(p[0], (20, 70, 250, 30), "above the first box");
        assert_eq!(overlap(p[0], p[1]), 0, "{p:?}");
        for r in &p {
            assert!(r.0 + r.2 <= 400 && r.1 + r.3 <= 300, "{r:?}");
        }
    }

    #[test]
    fn labels_stay_inside_the_picture_and_off_the_corner() {
        let area = (10, 10, 300, 200);
        // A box at the picture's top right: no room above, the corner badge inside its top.
        let corner = (250, 10, 60, 20);
        let p = place_labels(&[(200, 10, 110, 100)], &[(120, 20)], area, &[corner]);
        let r = p[0];
        assert!(r.0 >= 10 && r.0 + r.2 <= 310 && r.1 >= 10 && r.1 + r.3 <= 210);
        assert_eq!(overlap(r, corner), 0, "{r:?}");
        // A label wider than the picture is cut to it.
        let p = place_labels(&[(0, 0, 5, 5)], &[(900, 20)], area, &[]);
        assert_eq!((p[0].0, p[0].2), (10, 300));
    }
}
