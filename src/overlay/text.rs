//! Anti-aliased text at any pixel size, drawn through embedded-graphics' `DrawTarget`: DejaVu
//! Sans Bold (assets/fonts, licence beside it) rasterised by `ab_glyph`. Each glyph is
//! rasterised once per size into a coverage bitmap and kept in a process-wide cache, so a
//! frame only blends cached coverage onto the target; widths come from the font's advances
//! and kerning, so long texts are shortened at a glyph boundary before they are drawn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use ab_glyph::{point, Font, FontRef, GlyphId, PxScale, ScaleFont};
use embedded_graphics::pixelcolor::Rgb888;
use embedded_graphics::prelude::*;

static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold-latin1.ttf");

/// The ellipsis that ends a shortened text.
pub const ELLIPSIS: char = '\u{2026}';

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("the committed font parses"))
}

/// One rasterised glyph: coverage 0..=255, `w` x `h`, its top-left at (`left`, `top`) from
/// the pen position on the baseline.
struct Glyph {
    left: i32,
    top: i32,
    w: usize,
    h: usize,
    coverage: Vec<u8>,
}

/// Cached glyphs by (size in px, glyph), and their coverage bytes. Sizes come from the
/// screen size, so the cache stays small (a 1920x1080 screen: a few hundred kB); it is
/// emptied if its coverage ever exceeds `CACHE_LIMIT` bytes.
#[derive(Default)]
struct Cache {
    glyphs: HashMap<(u32, GlyphId), Arc<Glyph>>,
    bytes: usize,
}
const CACHE_LIMIT: usize = 32 << 20;

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Cache::default()))
}

/// How many glyphs of text size `size` are cached: tests check that drawing the same screen
/// again rasterises nothing.
pub fn cached(size: u32) -> usize {
    cache()
        .lock()
        .map_or(0, |c| c.glyphs.keys().filter(|(s, _)| *s == size).count())
}

fn rasterise(size: u32, id: GlyphId) -> Glyph {
    let glyph = id.with_scale_and_position(PxScale::from(size as f32), point(0.0, 0.0));
    let Some(outline) = font().outline_glyph(glyph) else {
        return Glyph {
            left: 0,
            top: 0,
            w: 0,
            h: 0,
            coverage: vec![],
        };
    };
    let b = outline.px_bounds();
    let (w, h) = (b.width() as usize, b.height() as usize);
    let mut coverage = vec![0u8; w * h];
    outline.draw(|x, y, c| {
        if let Some(p) = coverage.get_mut(y as usize * w + x as usize) {
            *p = (c.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
    });
    Glyph {
        left: b.min.x as i32,
        top: b.min.y as i32,
        w,
        h,
        coverage,
    }
}

/// Text at one pixel size: `size` is the font's line height (ascent - descent) in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub size: u32,
    pub color: Rgb888,
    /// The colour the text is drawn on: anti-aliased edges are blended towards it.
    pub background: Rgb888,
}

/// Pen x positions (before rounding) of each glyph of `text`, and the advance after the
/// last one.
fn place(text: &str, size: u32) -> (Vec<(GlyphId, f32)>, f32) {
    let f = font().as_scaled(PxScale::from(size as f32));
    let mut x = 0.0f32;
    let mut prev: Option<GlyphId> = None;
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        let id = f.glyph_id(ch);
        if let Some(p) = prev {
            x += f.kern(p, id);
        }
        out.push((id, x));
        x += f.h_advance(id);
        prev = Some(id);
    }
    (out, x)
}

/// The width in pixels `text` takes at `size` (its advance, rounded up).
pub fn width(text: &str, size: u32) -> u32 {
    place(text, size).1.ceil().max(0.0) as u32
}

/// Pixels from the top of a line of `size` to its baseline.
pub fn ascent(size: u32) -> i32 {
    font()
        .as_scaled(PxScale::from(size as f32))
        .ascent()
        .round() as i32
}

/// `text` as it fits in `max_width` pixels at `size`: unchanged if it fits, else the longest
/// prefix of whole glyphs (trailing spaces dropped) followed by an ellipsis; empty if not
/// even the ellipsis fits.
pub fn fit(text: &str, size: u32, max_width: u32) -> String {
    if width(text, size) <= max_width {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    for keep in (0..chars.len()).rev() {
        let head: String = chars[..keep].iter().collect();
        let candidate = format!("{}{ELLIPSIS}", head.trim_end());
        if width(&candidate, size) <= max_width {
            return candidate;
        }
    }
    String::new()
}

/// `text` broken at spaces into lines of at most `max_width` pixels at `size`, at most
/// `max_lines` of them; a word wider than the line, or what is left after the last line, is
/// shortened with an ellipsis ([`fit`]).
pub fn wrap(text: &str, size: u32, max_width: u32, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![];
    let mut words = text.split_whitespace().peekable();
    while let Some(first) = words.next() {
        if lines.len() + 1 == max_lines.max(1) {
            let rest: Vec<&str> = std::iter::once(first).chain(words).collect();
            lines.push(fit(&rest.join(" "), size, max_width));
            break;
        }
        let mut line = first.to_string();
        while let Some(next) = words.peek() {
            let longer = format!("{line} {next}");
            if width(&longer, size) > max_width {
                break;
            }
            line = longer;
            words.next();
        }
        lines.push(fit(&line, size, max_width));
    }
    lines
}

/// Draws `text` with the top of its line at `top_left`; returns its width. Glyph coverage is
/// combined (maximum) into one buffer for the whole text first, so overlapping glyph boxes
/// do not erase each other's edges, then each covered pixel is drawn blended between
/// `style.background` and `style.color`.
pub fn draw<D: DrawTarget<Color = Rgb888>>(
    target: &mut D,
    text: &str,
    top_left: Point,
    style: &Style,
) -> Result<u32, D::Error> {
    if text.is_empty() || style.size == 0 {
        return Ok(0);
    }
    let (placed, advance) = place(text, style.size);
    let glyphs: Vec<(i32, Arc<Glyph>)> = {
        let mut c = match cache().lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        if c.bytes > CACHE_LIMIT {
            *c = Cache::default();
        }
        placed
            .iter()
            .map(|&(id, x)| {
                let key = (style.size, id);
                let g = match c.glyphs.get(&key) {
                    Some(g) => Arc::clone(g),
                    None => {
                        let g = Arc::new(rasterise(style.size, id));
                        c.bytes += g.coverage.len();
                        c.glyphs.insert(key, Arc::clone(&g));
                        g
                    }
                };
                (x.round() as i32, g)
            })
            .collect()
    };
    // The box of all glyphs, relative to the pen origin on the baseline.
    let (mut x0, mut y0, mut x1, mut y1) = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
    for (x, g) in glyphs.iter().filter(|(_, g)| g.w > 0) {
        x0 = x0.min(x + g.left);
        y0 = y0.min(g.top);
        x1 = x1.max(x + g.left + g.w as i32);
        y1 = y1.max(g.top + g.h as i32);
    }
    let width = advance.ceil().max(0.0) as u32;
    if x0 >= x1 {
        return Ok(width);
    }
    let bw = (x1 - x0) as usize;
    let mut coverage = vec![0u8; bw * (y1 - y0) as usize];
    for (x, g) in glyphs.iter().filter(|(_, g)| g.w > 0) {
        let ox = (x + g.left - x0) as usize;
        let oy = (g.top - y0) as usize;
        for (row, src) in g.coverage.chunks_exact(g.w).enumerate() {
            let dst = &mut coverage[(oy + row) * bw + ox..][..g.w];
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = (*d).max(s);
            }
        }
    }
    let origin = top_left + Point::new(x0, ascent(style.size) + y0);
    let (fg, bg) = (style.color, style.background);
    let mix = |f: u8, b: u8, a: u8| {
        let (f, b, a) = (f as u32, b as u32, a as u32);
        ((f * a + b * (255 - a) + 127) / 255) as u8
    };
    let covered = coverage.iter().enumerate().filter(|(_, &a)| a > 0);
    target.draw_iter(covered.map(|(i, &a)| {
        let p = origin + Point::new((i % bw) as i32, (i / bw) as i32);
        let c = Rgb888::new(
            mix(fg.r(), bg.r(), a),
            mix(fg.g(), bg.g(), a),
            mix(fg.b(), bg.b(), a),
        );
        Pixel(p, c)
    }))?;
    Ok(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_grow_with_size_and_text() {
        assert!(width("Siberian husky", 90) > width("Siberian husky", 30) * 2);
        assert!(width("Siberian husky", 30) > width("Siberian", 30));
        assert_eq!(width("", 30), 0);
    }

    #[test]
    fn fit_keeps_short_text_and_shortens_long_text_at_a_glyph() {
        assert_eq!(fit("Eskimo dog", 30, 1000), "Eskimo dog");
        let short = fit("American Staffordshire terrier", 30, 200);
        assert!(short.ends_with(ELLIPSIS), "{short}");
        let head = short.trim_end_matches(ELLIPSIS);
        assert!("American Staffordshire terrier".starts_with(head));
        assert!(!head.ends_with(' '));
        assert!(width(&short, 30) <= 200);
        // One more glyph would not have fitted.
        let longer: String = "American Staffordshire terrier"
            .chars()
            .take(head.chars().count() + 1)
            .collect();
        assert!(width(&format!("{}{ELLIPSIS}", longer.trim_end()), 30) > 200);
        assert_eq!(fit("Eskimo dog", 30, 2), "");
    }

    #[test]
    fn wrap_breaks_at_spaces_within_the_width() {
        let lines = wrap("camera lost: /dev/video0 is gone", 40, 400, 3);
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| width(l, 40) <= 400), "{lines:?}");
        assert_eq!(lines.join(" "), "camera lost: /dev/video0 is gone");
        let one = wrap("camera lost: /dev/video0 is gone", 40, 400, 1);
        assert_eq!(one.len(), 1);
        assert!(one[0].ends_with(ELLIPSIS));
    }
}
