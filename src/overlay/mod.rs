//! What the kiosk screen shows, drawn with embedded-graphics onto any `DrawTarget`: the
//! camera picture as large as the layout allows, the top-3 breeds with a bar and a
//! percentage each, "No dog in view" when the best class is not a dog, status headlines
//! ("camera lost") large and centred, and the inference time and frame rate small in a
//! corner. Text sizes follow the screen size ([`layout`]); the text is anti-aliased TrueType
//! from a glyph cache ([`text`]). The same code draws into a [`Canvas`] (PNG files, tests,
//! the framebuffer's back buffer).

use std::convert::Infallible;

use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use image::RgbImage;

pub mod dogs;
pub mod layout;
pub mod scale;
pub mod text;

pub use dogs::DogLabel;
pub use layout::{Layout, Shape};
use text::Style;

use crate::scores::Verdict;

/// An RGB888 picture in memory that embedded-graphics can draw on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canvas {
    pub image: RgbImage,
}

impl Canvas {
    pub fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            image: RgbImage::new(width, height),
        }
    }
}

impl OriginDimensions for Canvas {
    fn size(&self) -> Size {
        Size::new(self.image.width(), self.image.height())
    }
}

impl DrawTarget for Canvas {
    type Color = Rgb888;
    type Error = Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<Rgb888>>>(
        &mut self,
        pixels: I,
    ) -> Result<(), Infallible> {
        let (w, h) = self.image.dimensions();
        for Pixel(p, c) in pixels {
            if p.x >= 0 && p.y >= 0 && (p.x as u32) < w && (p.y as u32) < h {
                self.image
                    .put_pixel(p.x as u32, p.y as u32, image::Rgb([c.r(), c.g(), c.b()]));
            }
        }
        Ok(())
    }

    fn fill_contiguous<I: IntoIterator<Item = Rgb888>>(
        &mut self,
        area: &Rectangle,
        colors: I,
    ) -> Result<(), Infallible> {
        let (w, h) = (self.image.width() as i64, self.image.height() as i64);
        let (ax, ay) = (area.top_left.x as i64, area.top_left.y as i64);
        let (aw, ah) = (area.size.width as i64, area.size.height as i64);
        let raw: &mut [u8] = &mut self.image;
        let mut it = colors.into_iter();
        for y in ay..ay + ah {
            let row_inside = (0..h).contains(&y);
            for x in ax..ax + aw {
                let Some(c) = it.next() else { return Ok(()) };
                if row_inside && (0..w).contains(&x) {
                    let i = 3 * (y * w + x) as usize;
                    raw[i..i + 3].copy_from_slice(&[c.r(), c.g(), c.b()]);
                }
            }
        }
        Ok(())
    }

    fn fill_solid(&mut self, area: &Rectangle, color: Rgb888) -> Result<(), Infallible> {
        let (w, h) = (self.image.width() as i64, self.image.height() as i64);
        let x0 = (area.top_left.x as i64).clamp(0, w);
        let y0 = (area.top_left.y as i64).clamp(0, h);
        let x1 = (area.top_left.x as i64 + area.size.width as i64).clamp(0, w);
        let y1 = (area.top_left.y as i64 + area.size.height as i64).clamp(0, h);
        let rgb = [color.r(), color.g(), color.b()];
        let raw: &mut [u8] = &mut self.image;
        for y in y0..y1 {
            let row = &mut raw[3 * (y * w + x0) as usize..3 * (y * w + x1) as usize];
            for px in row.chunks_exact_mut(3) {
                px.copy_from_slice(&rgb);
            }
        }
        Ok(())
    }
}

/// One line of the breed list.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub name: String,
    pub probability: f32,
}

/// Everything one screen shows, independent of how it is drawn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct View {
    /// Up to three breeds, most likely first; empty when there is no dog.
    pub breeds: Vec<Line>,
    /// A state that replaces the list: "No dog in view", "camera lost", ...
    pub headline: Option<String>,
    /// Small print in the top-right corner (inference time, fps).
    pub corner: String,
    /// The dogs found on the picture, each with a box and its top breed; the breed list
    /// is the first one's. Empty without localisation or when no dog was found.
    pub dogs: Vec<DogLabel>,
}

impl View {
    pub fn from_verdict(v: &Verdict, inference_ms: f64, fps: f64) -> View {
        let corner = format!("{inference_ms:.0} ms  {fps:.1} fps");
        if !v.is_dog {
            return View {
                breeds: vec![],
                headline: Some("No dog in view".into()),
                corner,
                dogs: vec![],
            };
        }
        let breeds = v
            .breeds
            .iter()
            .filter(|p| shown_percent(p.probability) >= MIN_SHOWN_PERCENT)
            .take(3)
            .map(|p| Line {
                name: p.name.clone(),
                probability: p.probability,
            })
            .collect();
        View {
            breeds,
            headline: None,
            corner,
            dogs: vec![],
        }
    }
}

/// Breeds whose percentage, as the overlay shows it (whole percent), is below this are not
/// listed: a row reading "0%" says nothing.
pub const MIN_SHOWN_PERCENT: u32 = 1;

/// A probability as the overlay's rows show it, in whole percent (the same rounding as the
/// drawn label).
pub fn shown_percent(probability: f32) -> u32 {
    let pct = (probability * 100.0).clamp(0.0, 100.0);
    format!("{pct:.0}").parse().unwrap_or(0)
}

/// The largest rectangle of the picture's aspect ratio that fits the screen, centred.
pub fn letterbox(frame: (u32, u32), screen: (u32, u32)) -> (u32, u32, u32, u32) {
    let (fw, fh) = (frame.0.max(1) as u64, frame.1.max(1) as u64);
    let (sw, sh) = (screen.0 as u64, screen.1 as u64);
    let (w, h) = if fw * sh > fh * sw {
        (sw, (fh * sw / fw).max(1))
    } else {
        ((fw * sh / fh).max(1), sh)
    };
    (
        (sw.saturating_sub(w) / 2) as u32,
        (sh.saturating_sub(h) / 2) as u32,
        w as u32,
        h as u32,
    )
}

/// Where [`draw`] puts a `frame`-sized camera picture on a `screen`-sized display: x, y,
/// width, height (the layout of [`Layout::for_screen`]; it depends on the two sizes only).
pub fn picture_rect(frame: (u32, u32), screen: (u32, u32)) -> (u32, u32, u32, u32) {
    Layout::for_screen(screen).picture(frame)
}

/// The camera picture at the size [`picture_rect`] gives it on `screen` ([`scale::fit`]).
pub fn scale_picture(frame: &RgbImage, screen: (u32, u32)) -> RgbImage {
    let (_, _, w, h) = picture_rect(frame.dimensions(), screen);
    scale::fit(frame, w, h)
}

const BACKGROUND: Rgb888 = Rgb888::new(0, 0, 0);
const TEXT: Rgb888 = Rgb888::new(255, 255, 255);
const BAR: Rgb888 = Rgb888::new(255, 176, 0);
const BAR_BACK: Rgb888 = Rgb888::new(64, 64, 64);

fn fill<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    (x, y, w, h): (u32, u32, u32, u32),
    color: Rgb888,
) -> Result<(), D::Error> {
    target.fill_solid(
        &Rectangle::new(Point::new(x as i32, y as i32), Size::new(w, h)),
        color,
    )
}

fn style(size: u32) -> Style {
    Style {
        size,
        color: TEXT,
        background: BACKGROUND,
    }
}

/// Lines of `headline` as large as `size` allows, centred in `area`: wrapped at spaces into
/// as many lines as fit the area's height, shortened with an ellipsis if still too long.
fn draw_headline<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    headline: &str,
    (ax, ay, aw, ah): (u32, u32, u32, u32),
    size: u32,
    margin: u32,
) -> Result<(), D::Error> {
    let room = aw.saturating_sub(2 * margin);
    let size = size.min(ah.saturating_sub(2 * margin)).max(8);
    let max_lines = (ah / size).max(1) as usize;
    let lines = text::wrap(headline, size, room, max_lines);
    let top = ay as i32 + (ah as i32 - (lines.len() as u32 * size) as i32) / 2;
    for (i, line) in lines.iter().enumerate() {
        let x = ax as i32 + (aw as i32 - text::width(line, size) as i32) / 2;
        let y = top + (i as u32 * size) as i32;
        text::draw(target, line, Point::new(x, y), &style(size))?;
    }
    Ok(())
}

/// Draws the frame and the view onto `target`, laid out for its size ([`Layout`]).
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    frame: Option<&RgbImage>,
    view: &View,
) -> Result<(), D::Error> {
    let size = target.bounding_box().size;
    let screen = (size.width, size.height);
    let layout = Layout::for_screen(screen);
    target.clear(BACKGROUND)?;
    let picture = frame.map(|frame| {
        let rect = layout.picture(frame.dimensions());
        (frame, rect)
    });
    if let Some((frame, (x, y, w, h))) = picture {
        let scaled;
        let pic = if (w, h) == frame.dimensions() {
            frame
        } else {
            scaled = scale_picture(frame, screen);
            &scaled
        };
        let area = Rectangle::new(Point::new(x as i32, y as i32), Size::new(w, h));
        target.fill_contiguous(&area, pic.pixels().map(|p| Rgb888::new(p[0], p[1], p[2])))?;
        let corner: Vec<_> = corner_badge(&view.corner, &layout).into_iter().collect();
        let rect = (x, y, w, h);
        dogs::draw(
            target,
            &view.dogs,
            frame.dimensions(),
            rect,
            &layout,
            &corner,
        )?;
    }
    let list = layout.list(picture.map(|(_, r)| r));
    match &view.headline {
        Some(h) if picture.is_some() => {
            draw_headline(target, h, list, layout.headline_size, layout.margin)?;
        }
        Some(h) => {
            let whole = (0, 0, screen.0, screen.1);
            draw_headline(target, h, whole, layout.status_size, layout.margin)?;
        }
        None => {
            for (line, row) in view.breeds.iter().zip(layout.rows(list)) {
                let pct = (line.probability * 100.0).clamp(0.0, 100.0);
                let (nx, ny, nw, _) = row.name;
                let name = text::fit(&line.name, layout.name_size, nw);
                text::draw(
                    target,
                    &name,
                    Point::new(nx as i32, ny as i32),
                    &style(layout.name_size),
                )?;
                fill(target, row.bar, BAR_BACK)?;
                let (bx, by, bw, bh) = row.bar;
                let filled = (bw as f32 * pct / 100.0).round() as u32;
                fill(target, (bx, by, filled.min(bw), bh), BAR)?;
                let label = format!("{pct:.0}%");
                let (px, py, pw, _) = row.pct;
                let lw = text::width(&label, layout.pct_size);
                let x = (px + pw).saturating_sub(lw);
                text::draw(
                    target,
                    &label,
                    Point::new(x as i32, py as i32),
                    &style(layout.pct_size),
                )?;
            }
        }
    }
    if let Some((x, y, w, h)) = corner_badge(&view.corner, &layout) {
        let cs = layout.corner_size;
        let pad = (cs / 4).max(2);
        let corner = text::fit(&view.corner, cs, screen.0.saturating_sub(2 * pad));
        fill(target, (x, y, w, h), BACKGROUND)?;
        text::draw(
            target,
            &corner,
            Point::new((x + pad) as i32, (pad / 2) as i32),
            &style(cs),
        )?;
    }
    Ok(())
}

/// The corner's badge (the small print's black rectangle at the top right), if any.
fn corner_badge(corner: &str, layout: &Layout) -> Option<(u32, u32, u32, u32)> {
    if corner.is_empty() {
        return None;
    }
    let (cs, sw) = (layout.corner_size, layout.screen.0);
    let pad = (cs / 4).max(2);
    let fitted = text::fit(corner, cs, sw.saturating_sub(2 * pad));
    let w = text::width(&fitted, cs) + 2 * pad;
    Some((sw.saturating_sub(w), 0, w, cs + pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_keeps_the_aspect_ratio() {
        assert_eq!(letterbox((640, 480), (800, 480)), (80, 0, 640, 480));
        assert_eq!(letterbox((640, 480), (320, 480)), (0, 120, 320, 240));
        assert_eq!(letterbox((100, 100), (100, 100)), (0, 0, 100, 100));
    }

    #[test]
    fn picture_rect_is_where_draw_puts_the_picture() {
        let frame = RgbImage::from_pixel(64, 48, image::Rgb([200, 10, 10]));
        for screen in [(480, 320), (1280, 800), (800, 1280)] {
            let (x, y, w, h) = picture_rect((64, 48), screen);
            let mut c = Canvas::new(screen.0, screen.1);
            draw(&mut c, Some(&frame), &View::default()).unwrap();
            let red: Vec<(u32, u32)> = c
                .image
                .enumerate_pixels()
                .filter(|(_, _, p)| p.0 == [200, 10, 10])
                .map(|(x, y, _)| (x, y))
                .collect();
            assert_eq!(red.len() as u32, w * h, "{screen:?}");
            assert_eq!(red.first(), Some(&(x, y)));
            assert_eq!(red.last(), Some(&(x + w - 1, y + h - 1)));
        }
    }

    #[test]
    fn the_screen_picture_has_the_picture_rects_size() {
        let frame = RgbImage::from_pixel(640, 480, image::Rgb([1, 2, 3]));
        for screen in [(480, 320), (800, 480), (1920, 1080), (800, 1280)] {
            let (_, _, w, h) = picture_rect((640, 480), screen);
            assert_eq!(scale_picture(&frame, screen).dimensions(), (w, h));
        }
    }

    #[test]
    fn rows_that_would_read_0_percent_are_not_listed() {
        use crate::scores::Prediction;
        let p = |name: &str, probability: f32| Prediction {
            index: 0,
            name: name.into(),
            wnid: None,
            probability,
        };
        let v = Verdict {
            is_dog: true,
            best: p("pug", 0.9),
            breeds: vec![p("pug", 0.9), p("boxer", 0.006), p("beagle", 0.004)],
        };
        let view = View::from_verdict(&v, 1.0, 1.0);
        let names: Vec<&str> = view.breeds.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["pug", "boxer"]);
        assert_eq!((shown_percent(0.006), shown_percent(0.004)), (1, 0));
        assert_eq!((shown_percent(1.5), shown_percent(-1.0)), (100, 0));
    }
}
