//! A segmenter's coarse class grid -> dog boxes: connected regions of animal cells, kept by
//! how many cells in them are dog, each region's box mapped onto the frame.
//!
//! The segmenter (PASCAL VOC) often calls part of a dog a cat, a horse or a sheep, so a
//! region is made of cells of any animal class and ranked by its dog cells: a dog whose
//! head reads "cat" still gets one whole box. A region with fewer dog cells than
//! [`MIN_DOG_FRACTION`] of the grid is dropped (stray dog cells, a dog on a poster).

/// PASCAL VOC classes: the animals that regions are made of, and the dog.
pub const BIRD: u8 = 3;
pub const CAT: u8 = 8;
pub const COW: u8 = 10;
pub const DOG: u8 = 12;
pub const HORSE: u8 = 13;
pub const SHEEP: u8 = 17;
pub const ANIMALS: [u8; 6] = [BIRD, CAT, COW, DOG, HORSE, SHEEP];

/// At most this many dogs per frame.
pub const MAX_DOGS: usize = 4;

/// A region needs at least this fraction of the grid's cells to be dog (1 %: 11 of 33x33
/// cells, about 55x55 pixels of a 640x480 frame). Smaller regions were stray cells or
/// far-away dogs: a crop that small, blown up to the classifier's input, was no better than
/// the centre crop in the prototype, and with no region left the caller falls back to the
/// centre crop, which keeps photos that a dog fills as they were.
pub const MIN_DOG_FRACTION: f32 = 0.01;

/// The segmenter's verdict per cell, row by row.
#[derive(Clone, Debug)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    /// The most likely class of each cell (PASCAL VOC index, 0 = background).
    pub class: Vec<u8>,
    /// Each cell's dog probability (softmax over the classes), 0..=1.
    pub dog: Vec<f32>,
}

/// A region found on the grid: its box in cells (inclusive) and what is in it.
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
    /// Cells in the region (any animal) and of them dog.
    pub cells: usize,
    pub dog_cells: usize,
    /// Mean dog probability over the region's cells.
    pub score: f32,
}

impl Grid {
    /// The regions of 8-connected animal cells with at least [`MIN_DOG_FRACTION`] of the
    /// grid dog, the most dog cells first (ties: top-left first), at most [`MAX_DOGS`].
    pub fn regions(&self) -> Vec<Region> {
        let (w, h) = (self.width, self.height);
        let n = w * h;
        if n == 0 || self.class.len() != n || self.dog.len() != n {
            return vec![];
        }
        let min_dog = ((n as f32 * MIN_DOG_FRACTION).ceil() as usize).max(1);
        let animal = |i: usize| ANIMALS.contains(&self.class[i]);
        let mut seen = vec![false; n];
        let mut found = vec![];
        let mut stack = vec![];
        for start in 0..n {
            if seen[start] || !animal(start) {
                continue;
            }
            seen[start] = true;
            stack.push(start);
            let (mut r, mut dog_sum) = (
                Region {
                    x0: w,
                    y0: h,
                    x1: 0,
                    y1: 0,
                    cells: 0,
                    dog_cells: 0,
                    score: 0.0,
                },
                0.0f32,
            );
            while let Some(i) = stack.pop() {
                let (x, y) = (i % w, i / w);
                r.x0 = r.x0.min(x);
                r.x1 = r.x1.max(x);
                r.y0 = r.y0.min(y);
                r.y1 = r.y1.max(y);
                r.cells += 1;
                r.dog_cells += (self.class[i] == DOG) as usize;
                dog_sum += self.dog[i];
                for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                    for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                        let j = ny * w + nx;
                        if !seen[j] && animal(j) {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
            if r.dog_cells >= min_dog {
                r.score = (dog_sum / r.cells as f32).clamp(0.0, 1.0);
                found.push(r);
            }
        }
        // Regions were found in scan order (top-left first); a stable sort keeps that
        // order among equals.
        found.sort_by_key(|r| std::cmp::Reverse(r.dog_cells));
        found.truncate(MAX_DOGS);
        found
    }

    /// A region's box on a `frame_w` x `frame_h` frame that the grid covers whole (the frame
    /// squashed to the segmenter's input): cell `i` of `n` is centred at `i / (n - 1)` of the
    /// width (the DeepLab grid's corners sit on the input's corners) and reaches half a cell
    /// either side. `(x0, y0, x1, y1)`, x1 / y1 exclusive, clamped to the frame.
    pub fn frame_box(&self, r: &Region, frame_w: u32, frame_h: u32) -> (u32, u32, u32, u32) {
        let edge = |c: f32, n: usize, size: u32| {
            let step = size as f32 / (n.max(2) - 1) as f32;
            (c * step).round().clamp(0.0, size as f32) as u32
        };
        (
            edge(r.x0 as f32 - 0.5, self.width, frame_w),
            edge(r.y0 as f32 - 0.5, self.height, frame_h),
            edge(r.x1 as f32 + 0.5, self.width, frame_w),
            edge(r.y1 as f32 + 0.5, self.height, frame_h),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grid from rows of characters: `.` background, `d` dog, `c` cat, `h` horse,
    /// `p` person (not an animal).
    fn grid(rows: &[&str]) -> Grid {
        let class: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.bytes())
            .map(|b| match b {
                b'd' => DOG,
                b'c' => CAT,
                b'h' => HORSE,
                b'p' => 15,
                _ => 0,
            })
            .collect();
        let dog = class
            .iter()
            .map(|&c| if c == DOG { 0.9 } else { 0.1 })
            .collect();
        Grid {
            width: rows[0].len(),
            height: rows.len(),
            class,
            dog,
        }
    }

    #[test]
    fn a_dog_with_a_cat_head_is_one_region_ranked_by_its_dog_cells() {
        // 10x10 = 100 cells: a region needs 1 dog cell (1 %).
        let g = grid(&[
            "..........",
            ".cc.......",
            ".dd.......",
            ".ddd....d.",
            "......hh..",
            "......h...",
            "pppp......",
            "pddp......",
            "pddp......",
            "pppp......",
        ]);
        let r = g.regions();
        let boxes: Vec<_> = r
            .iter()
            .map(|r| (r.x0, r.y0, r.x1, r.y1, r.cells, r.dog_cells))
            .collect();
        // The cat-headed dog (5 dog cells), the dog among people (4), the dog touching
        // the horse diagonally (1 dog cell, the horse with it); people are no animal.
        assert_eq!(
            boxes,
            [(1, 1, 3, 3, 7, 5), (1, 7, 2, 8, 4, 4), (6, 3, 8, 5, 4, 1)]
        );
        // The score is the mean dog probability over the region.
        assert!((r[0].score - (5.0 * 0.9 + 2.0 * 0.1) / 7.0).abs() < 1e-6);
    }

    #[test]
    fn regions_with_too_few_dog_cells_are_dropped_and_four_at_most_are_kept() {
        // 33x33 = 1089 cells: 11 dog cells needed. A horse of 40 cells with 10 dog
        // cells is dropped; six dogs of 11..=16 cells: the four largest are kept.
        let mut rows = vec![String::from(".").repeat(33); 33];
        let mut put =
            |x: usize, y: usize, c: u8| rows[y].replace_range(x..x + 1, &(c as char).to_string());
        for i in 0..40 {
            put(i % 20, 30 + i / 20, if i < 10 { b'd' } else { b'h' });
        }
        for (k, n) in [11, 16, 12, 15, 13, 14].into_iter().enumerate() {
            for i in 0..n {
                put(k * 5 + i % 4, i / 4, b'd');
            }
        }
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        let dogs: Vec<usize> = grid(&rows).regions().iter().map(|r| r.dog_cells).collect();
        assert_eq!(dogs, [16, 15, 14, 13]);
    }

    #[test]
    fn boxes_map_cells_onto_the_frame() {
        let g = grid(&[".....", ".dd..", ".dd..", ".....", "....."]);
        let r = &g.regions()[0];
        // 5 cells over 640 pixels: cell centres every 160 px; cells 1..=2 reach from
        // 0.5 * 160 to 2.5 * 160.
        assert_eq!(g.frame_box(r, 640, 480), (80, 60, 400, 300));
        // A region on the border is clamped to the frame.
        let g = grid(&["dd...", "dd...", ".....", ".....", "....."]);
        assert_eq!(g.frame_box(&g.regions()[0], 640, 480), (0, 0, 240, 180));
        // Nothing found on an empty or inconsistent grid.
        assert!(grid(&["....."]).regions().is_empty());
        let mut bad = grid(&["dd"]);
        bad.dog.pop();
        assert!(bad.regions().is_empty());
    }
}
