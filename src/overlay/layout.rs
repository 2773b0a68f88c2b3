//! Where things go on a screen of a given size. Three shapes:
//! - landscape HDMI (16:9, 16:10, 4:3; at least 640x400): the camera picture on top, as large
//!   as the space above the list allows, and under it the top-3 in rows of name | bar |
//!   percentage, each name line 1/12 of the screen height;
//! - the small TFT (landscape below 640x400, e.g. 480x320): the same rows with tighter
//!   margins and a smaller percentage, so the picture keeps as much of the tiny screen as it
//!   can;
//! - portrait (a TV on its side): the picture across the full width, under it each breed as
//!   a name line of 1/12 of the screen width and, below that, its bar and percentage.
//!
//! The picture and the list under it are centred vertically as one block. Status headlines
//! ("No dog in view", "camera lost") are large and centred: in the list's place under the
//! picture, or on the whole screen when there is no picture. The corner (ms, fps) is small.
//! Everything is computed from the screen size (and, for the picture, the frame size) alone.

/// The screen shapes with their own layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Landscape,
    SmallTft,
    Portrait,
}

impl Shape {
    pub fn of(screen: (u32, u32)) -> Shape {
        let (w, h) = screen;
        if h > w {
            Shape::Portrait
        } else if w < 640 || h < 400 {
            Shape::SmallTft
        } else {
            Shape::Landscape
        }
    }
}

/// A rectangle: x, y, width, height in pixels.
pub type Rect = (u32, u32, u32, u32);

/// One breed's place in the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    /// The name's line (its height is the name's text size); names are shortened to fit
    /// its width.
    pub name: Rect,
    /// The whole bar (100 %).
    pub bar: Rect,
    /// The line the percentage is drawn in, right-aligned.
    pub pct: Rect,
}

/// The sizes of one screen's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Shape,
    pub screen: (u32, u32),
    /// Space at the screen's and the list's edges.
    pub margin: u32,
    /// Text size (line height in pixels) of the breed names.
    pub name_size: u32,
    /// Text size of the percentages.
    pub pct_size: u32,
    /// Text size of the corner (ms, fps).
    pub corner_size: u32,
    /// Text size of a status headline under the picture; on a screen without a picture it
    /// is drawn at [`Layout::status_size`].
    pub headline_size: u32,
    pub status_size: u32,
    /// Text size of a dog's label on the picture (two thirds of a name), and the width of
    /// the line of its box.
    pub label_size: u32,
    pub box_line: u32,
    /// Vertical distance between two breeds' rows.
    pub row_pitch: u32,
    /// Height of the list (three rows and margins) under the picture.
    pub list_height: u32,
}

impl Layout {
    pub fn for_screen(screen: (u32, u32)) -> Layout {
        let shape = Shape::of(screen);
        let (w, h) = (screen.0.max(1), screen.1.max(1));
        let short = w.min(h);
        let corner_size = (short / 36).max(12);
        // (name size, margin, percentage size, row pitch, list height)
        let (name_size, margin, pct_size, row_pitch, list_height) = match shape {
            Shape::Landscape | Shape::SmallTft => {
                let name_size = (h / 12).max(12);
                let (margin, gap, pct_size) = if shape == Shape::Landscape {
                    (name_size / 4, name_size / 6, name_size)
                } else {
                    (4, 3, name_size * 4 / 5)
                };
                let row_pitch = name_size + gap;
                let list_height = 2 * margin + 2 * row_pitch + name_size;
                (name_size, margin, pct_size, row_pitch, list_height)
            }
            Shape::Portrait => {
                let name_size = (w / 12).max(12);
                let margin = name_size / 4;
                let pct_size = name_size * 7 / 10;
                let row_pitch = name_size + pct_size + name_size / 3;
                let list_height = 2 * margin + 2 * row_pitch + name_size + pct_size;
                (name_size, margin, pct_size, row_pitch, list_height)
            }
        };
        Layout {
            shape,
            screen,
            margin,
            name_size,
            pct_size,
            corner_size,
            headline_size: name_size * 3 / 2,
            label_size: (name_size * 2 / 3).max(12),
            box_line: (name_size / 22).max(2),
            status_size: name_size * 2,
            row_pitch,
            list_height,
        }
    }

    /// Where the picture of a `frame`-sized camera image goes: the largest rectangle of its
    /// aspect ratio that fits above the list, centred across; the picture and the list
    /// under it are centred vertically together.
    pub fn picture(&self, frame: (u32, u32)) -> Rect {
        let (sw, sh) = self.screen;
        let room = sh.saturating_sub(self.list_height).max(1);
        let (x, _, pw, ph) = super::letterbox(frame, (sw, room));
        let y = sh.saturating_sub(ph + self.list_height) / 2;
        (x, y, pw, ph)
    }

    /// The list's rectangle: under the picture, or at the bottom of the screen without one.
    pub fn list(&self, picture: Option<Rect>) -> Rect {
        let (sw, sh) = self.screen;
        let y = match picture {
            Some((_, py, _, ph)) => py + ph,
            None => sh.saturating_sub(self.list_height),
        };
        (0, y, sw, self.list_height.min(sh.saturating_sub(y)))
    }

    /// The three rows of a list at `list`.
    pub fn rows(&self, list: Rect) -> [Row; 3] {
        let (lx, ly, lw, _) = list;
        let m = self.margin;
        let inner = lw.saturating_sub(2 * m);
        let x0 = lx + m;
        let pct_w = super::text::width("100%", self.pct_size);
        std::array::from_fn(|i| {
            let top = ly + m + i as u32 * self.row_pitch;
            match self.shape {
                Shape::Landscape | Shape::SmallTft => {
                    // name | bar | percentage; the name gets 58 % of the width.
                    let name_w = inner * 58 / 100;
                    let pct_x = (x0 + inner).saturating_sub(pct_w);
                    let bar_x = x0 + name_w + m;
                    let bar_w = pct_x.saturating_sub(bar_x + m);
                    let bar_h = self.name_size / 2;
                    Row {
                        name: (x0, top, name_w, self.name_size),
                        bar: (bar_x, top + (self.name_size - bar_h) / 2, bar_w, bar_h),
                        pct: (
                            pct_x,
                            top + (self.name_size - self.pct_size) / 2,
                            pct_w,
                            self.pct_size,
                        ),
                    }
                }
                Shape::Portrait => {
                    // the name's line, then the bar and the percentage under it
                    let below = top + self.name_size;
                    let pct_x = (x0 + inner).saturating_sub(pct_w);
                    let bar_h = self.pct_size / 2;
                    Row {
                        name: (x0, top, inner, self.name_size),
                        bar: (
                            x0,
                            below + (self.pct_size - bar_h) / 2,
                            pct_x.saturating_sub(x0 + m),
                            bar_h,
                        ),
                        pct: (pct_x, below, pct_w, self.pct_size),
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_by_screen_size() {
        assert_eq!(Shape::of((1920, 1080)), Shape::Landscape);
        assert_eq!(Shape::of((1280, 800)), Shape::Landscape);
        assert_eq!(Shape::of((480, 320)), Shape::SmallTft);
        assert_eq!(Shape::of((800, 1280)), Shape::Portrait);
        assert_eq!(Shape::of((1080, 1920)), Shape::Portrait);
    }

    #[test]
    fn the_picture_and_the_list_stay_on_the_screen_and_apart() {
        for screen in [
            (480, 320),
            (800, 480),
            (1280, 800),
            (1920, 1080),
            (800, 1280),
            (1080, 1920),
            (320, 240),
        ] {
            let l = Layout::for_screen(screen);
            let pic = l.picture((640, 480));
            let (x, y, w, h) = pic;
            assert!(x + w <= screen.0 && y + h <= screen.1, "{screen:?} {pic:?}");
            // 4:3 kept to a pixel
            assert!(
                (w as i64 * 3 - h as i64 * 4).abs() <= 4,
                "{screen:?} {pic:?}"
            );
            let list = l.list(Some(pic));
            assert_eq!(list.1, y + h);
            assert!(list.1 + list.3 <= screen.1, "{screen:?} {list:?}");
            for r in l.rows(list) {
                for (rx, ry, rw, rh) in [r.name, r.bar, r.pct] {
                    assert!(
                        rx + rw <= screen.0 && ry + rh <= list.1 + list.3,
                        "{screen:?} {r:?}"
                    );
                }
                if l.shape != Shape::Portrait {
                    assert!(
                        r.name.0 + r.name.2 < r.bar.0 && r.bar.0 + r.bar.2 < r.pct.0,
                        "{r:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn names_are_a_twelfth_of_the_screen() {
        assert_eq!(Layout::for_screen((1920, 1080)).name_size, 90);
        assert_eq!(Layout::for_screen((1280, 800)).name_size, 66);
        assert_eq!(Layout::for_screen((1080, 1920)).name_size, 90);
    }
}
