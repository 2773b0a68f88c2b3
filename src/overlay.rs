//! What the kiosk screen shows, drawn with embedded-graphics onto any `DrawTarget`: the
//! camera picture letterboxed to the screen, the top-3 breeds with a percentage and a bar
//! each, "No dog in view" when the best class is not a dog, and the inference time and
//! frame rate small in a corner. The same code draws into a [`Canvas`] (PNG files, tests,
//! the framebuffer's back buffer).

use std::convert::Infallible;

use embedded_graphics::mono_font::ascii::{FONT_10X20, FONT_6X10};
use embedded_graphics::mono_font::MonoTextStyle;
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use embedded_graphics::text::{Baseline, Text};
use image::imageops::{self, FilterType};
use image::RgbImage;

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
        let (w, h) = self.image.dimensions();
        let mut it = colors.into_iter();
        for y in 0..area.size.height as i32 {
            for x in 0..area.size.width as i32 {
                let Some(c) = it.next() else { return Ok(()) };
                let (px, py) = (area.top_left.x + x, area.top_left.y + y);
                if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                    self.image
                        .put_pixel(px as u32, py as u32, image::Rgb([c.r(), c.g(), c.b()]));
                }
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
}

impl View {
    pub fn from_verdict(v: &Verdict, inference_ms: f64, fps: f64) -> View {
        let corner = format!("{inference_ms:.0} ms  {fps:.1} fps");
        if !v.is_dog {
            return View {
                breeds: vec![],
                headline: Some("No dog in view".into()),
                corner,
            };
        }
        let breeds = v
            .breeds
            .iter()
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
        }
    }
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
        ((sw - w) / 2) as u32,
        ((sh - h) / 2) as u32,
        w as u32,
        h as u32,
    )
}

/// Where [`draw`] puts a `frame`-sized camera picture on a `screen`-sized canvas: (x, y,
/// width, height). The kiosk logs it with each view, so checks of the screen (tests/vm) read
/// the picture's place from the log instead of assuming a layout.
pub fn picture_rect(frame: (u32, u32), screen: (u32, u32)) -> (u32, u32, u32, u32) {
    letterbox(frame, screen)
}

const PANEL: Rgb888 = Rgb888::new(0, 0, 0);
const TEXT: Rgb888 = Rgb888::new(255, 255, 255);
const BAR: Rgb888 = Rgb888::new(255, 176, 0);
const BAR_BACK: Rgb888 = Rgb888::new(64, 64, 64);

/// Draws the frame and the view onto `target`.
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    frame: Option<&RgbImage>,
    view: &View,
) -> Result<(), D::Error> {
    let size = target.bounding_box().size;
    target.clear(Rgb888::BLACK)?;
    if let Some(frame) = frame {
        let (x, y, w, h) = picture_rect(frame.dimensions(), (size.width, size.height));
        let scaled;
        let pic = if (w, h) == frame.dimensions() {
            frame
        } else {
            scaled = imageops::resize(frame, w, h, FilterType::Triangle);
            &scaled
        };
        let area = Rectangle::new(Point::new(x as i32, y as i32), Size::new(w, h));
        target.fill_contiguous(&area, pic.pixels().map(|p| Rgb888::new(p[0], p[1], p[2])))?;
    }
    let big = MonoTextStyle::new(&FONT_10X20, TEXT);
    let small = MonoTextStyle::new(&FONT_6X10, TEXT);
    let rows = if view.headline.is_some() {
        1
    } else {
        view.breeds.len().max(1)
    } as u32;
    let panel_h = 8 + 26 * rows;
    let top = size.height.saturating_sub(panel_h) as i32;
    Rectangle::new(Point::new(0, top), Size::new(size.width, panel_h))
        .into_styled(PrimitiveStyle::with_fill(PANEL))
        .draw(target)?;
    match &view.headline {
        Some(h) => {
            Text::with_baseline(h, Point::new(8, top + 6), big, Baseline::Top).draw(target)?;
        }
        None => {
            let bar_x = (size.width as i32 * 3 / 5).max(8);
            let bar_w = (size.width as i32 - bar_x - 8).max(0) as u32;
            for (i, line) in view.breeds.iter().enumerate() {
                let y = top + 6 + 26 * i as i32;
                let pct = (line.probability * 100.0).clamp(0.0, 100.0);
                // Shorten long names so the text never runs into the bar (10 px a glyph).
                let room = ((bar_x - 16) / 10).max(8) as usize;
                let tail = format!(" {pct:.0}%");
                let head = format!("{}. {}", i + 1, line.name);
                let label = if head.len() + tail.len() > room {
                    let keep = room.saturating_sub(tail.len() + 1);
                    format!(
                        "{}.{tail}",
                        head.chars().take(keep).collect::<String>().trim_end()
                    )
                } else {
                    head + &tail
                };
                Text::with_baseline(&label, Point::new(8, y), big, Baseline::Top).draw(target)?;
                Rectangle::new(Point::new(bar_x, y + 2), Size::new(bar_w, 16))
                    .into_styled(PrimitiveStyle::with_fill(BAR_BACK))
                    .draw(target)?;
                let filled = (bar_w as f32 * pct / 100.0).round() as u32;
                Rectangle::new(Point::new(bar_x, y + 2), Size::new(filled, 16))
                    .into_styled(PrimitiveStyle::with_fill(BAR))
                    .draw(target)?;
            }
        }
    }
    if !view.corner.is_empty() {
        let w = 6 * view.corner.len() as i32 + 4;
        let x = size.width as i32 - w;
        Rectangle::new(Point::new(x, 0), Size::new(w as u32, 14))
            .into_styled(PrimitiveStyle::with_fill(PANEL))
            .draw(target)?;
        Text::with_baseline(&view.corner, Point::new(x + 2, 2), small, Baseline::Top)
            .draw(target)?;
    }
    Ok(())
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
}
