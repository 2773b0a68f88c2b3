//! Frame -> dog boxes -> one classification per dog.
//!
//! A [`Locate`] finds up to [`MAX_DOGS`] dogs in a frame, the most confident first; each
//! dog's box becomes a square crop with a margin ([`crop_for`]) cut from the full-resolution
//! frame and resized to the classifier's input, and the classifier names it
//! ([`classify_dogs`]). With no dog found (or `--locate off`) the frame is fitted as before
//! locating existed (the centre crop); the centre crop is also classified beside the dogs,
//! and when the classifier is surer of it than of the headline dog the frame is taken as
//! one dog that fills it ([`choose`]), so photos that a dog fills keep their answers.
//!
//! The locator breedcam ships is a PASCAL VOC segmenter ([`segmenter`]) whose coarse class
//! grid [`grid`] turns into boxes.

pub mod grid;
pub mod segmenter;

use std::path::Path;

use image::RgbImage;

use crate::model::labels::Labels;
use crate::model::{Classifier, ModelSource, Tta};
use crate::preprocess::Preprocessor;
use crate::Error;

pub use grid::MAX_DOGS;

/// Each side of a dog's crop reaches this fraction of the box's longer side beyond it.
pub const MARGIN: f32 = 0.15;

/// A dog found in a frame, in the frame's pixels (x1 / y1 exclusive).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct DogBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    /// How sure the locator is, 0..=1: for the segmenter, the mean dog probability over
    /// the cells of the dog's region. 0 marks no box found: the dog is the fallback crop
    /// (see [`Dog::found`]).
    pub score: f32,
}

impl DogBox {
    pub fn width(&self) -> u32 {
        self.x1.saturating_sub(self.x0)
    }
    pub fn height(&self) -> u32 {
        self.y1.saturating_sub(self.y0)
    }
    /// `[x0, y0, x1, y1]`, as `classify --json` prints it.
    pub fn corners(&self) -> [u32; 4] {
        [self.x0, self.y0, self.x1, self.y1]
    }
}

/// One dog and what the classifier makes of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Dog {
    /// Where it is; with no dog found, the region the fallback crop took (score 0).
    pub bbox: DogBox,
    /// The classifier's probabilities for this dog's crop.
    pub probs: Vec<f32>,
}

impl Dog {
    /// Whether a locator found this dog (else it is the whole-frame fallback: draw no box).
    pub fn found(&self) -> bool {
        self.bbox.score > 0.0
    }
}

/// Finds dogs in a frame.
pub trait Locate: Send + Sync {
    /// At most [`MAX_DOGS`] boxes, the most confident first; empty when no dog was found
    /// (callers fall back to the centre crop).
    fn locate(&self, frame: &RgbImage) -> Result<Vec<DogBox>, Error>;
}

/// `--locate`: how dogs are found.
#[derive(Clone, Debug)]
pub enum LocateMode {
    /// No locating: the whole frame fitted as `--crop` says (the centre crop).
    Off,
    /// A segmenter: a committed one by name or a TFLite file.
    Segmenter(ModelSource),
}

/// The segmenter `--locate` uses when not told otherwise: depth 0.5, about half the cost
/// of depth 1.0 (`seg`) for a few points less on one-dog scenes and none on dev-dogs or
/// two-dog scenes (docs/guide.md, "Finding the dogs").
pub const DEFAULT_LOCATE: &str = "seg-small";

impl LocateMode {
    /// `off`, a committed segmenter's name or a TFLite file; `None` is the default.
    pub fn parse(arg: Option<&str>) -> Result<LocateMode, Error> {
        match arg.unwrap_or(DEFAULT_LOCATE) {
            "off" => Ok(LocateMode::Off),
            other => Ok(LocateMode::Segmenter(ModelSource::resolve(Path::new(
                other,
            ))?)),
        }
    }

    /// How reports name it: `off`, the committed name, or the file.
    pub fn describe(&self) -> String {
        match self {
            LocateMode::Off => "off".into(),
            LocateMode::Segmenter(ModelSource::Embedded(m)) => m.name.into(),
            LocateMode::Segmenter(s) => s.path().display().to_string(),
        }
    }

    /// The locator, loaded (`None` when off).
    pub fn open(&self) -> Result<Option<Box<dyn Locate>>, Error> {
        match self {
            LocateMode::Off => Ok(None),
            LocateMode::Segmenter(source) => {
                Ok(Some(Box::new(segmenter::Segmenter::open(source)?)))
            }
        }
    }
}

impl Locate for segmenter::Segmenter {
    fn locate(&self, frame: &RgbImage) -> Result<Vec<DogBox>, Error> {
        let grid = grid_of(&self.class_map(frame)?);
        let (w, h) = frame.dimensions();
        Ok(grid
            .regions()
            .iter()
            .map(|r| {
                let (x0, y0, x1, y1) = grid.frame_box(r, w, h);
                DogBox {
                    x0,
                    y0,
                    x1,
                    y1,
                    // A found dog's score is above 0 (0 marks the fallback).
                    score: r.score.max(f32::MIN_POSITIVE),
                }
            })
            .collect())
    }
}

/// The segmenter's logits as a [`grid::Grid`]: each cell's class (the argmax) and its dog
/// probability (the softmax of the dequantized logits; the zero point cancels out).
pub fn grid_of(map: &segmenter::ClassMap) -> grid::Grid {
    let (w, h) = (map.width, map.height);
    let mut class = Vec::with_capacity(w * h);
    let mut dog = Vec::with_capacity(w * h);
    for y in 0..h {
        for x in 0..w {
            class.push(map.argmax(x, y) as u8);
            let cell = map.cell(x, y);
            let top = cell.iter().copied().max().unwrap_or(0) as f32;
            let e = |q: u8| ((q as f32 - top) * map.scale).exp();
            let sum: f32 = cell.iter().map(|&q| e(q)).sum();
            dog.push(cell.get(grid::DOG as usize).map_or(0.0, |&q| e(q) / sum));
        }
    }
    grid::Grid {
        width: w,
        height: h,
        class,
        dog,
    }
}

/// The square crop for a dog in a `frame_w` x `frame_h` frame, `(x, y, side, side)`: the
/// box's longer side plus `margin` of it on either side, centred on the box, as large as
/// the frame's shorter side at most and moved inside the frame.
pub fn crop_for(b: &DogBox, frame_w: u32, frame_h: u32, margin: f32) -> (u32, u32, u32, u32) {
    let long = b.width().max(b.height()).max(1) as f32;
    let side = ((long * (1.0 + 2.0 * margin)).round() as u32).clamp(1, frame_w.min(frame_h).max(1));
    let start = |lo: u32, hi: u32, size: u32| {
        let centre = (lo + hi) as f32 / 2.0;
        let s = (centre - side as f32 / 2.0).round().max(0.0) as u32;
        s.min(size.saturating_sub(side))
    };
    (
        start(b.x0, b.x1, frame_w),
        start(b.y0, b.y1, frame_h),
        side,
        side,
    )
}

/// The region the fallback takes (the frame fitted as the preprocessor's crop says), as a
/// box of score 0.
pub fn whole(pre: &Preprocessor, frame: &RgbImage) -> DogBox {
    let (x, y, w, h) = pre.region(frame.width(), frame.height());
    DogBox {
        x0: x,
        y0: y,
        x1: x + w,
        y1: y + h,
        score: 0.0,
    }
}

/// The pictures the classifier sees for a frame and the boxes they came from: first the
/// fallback (the frame fitted as the preprocessor's crop says, score 0), then one per box
/// (its square crop with [`MARGIN`]).
pub fn fitted(pre: &Preprocessor, frame: &RgbImage, boxes: &[DogBox]) -> Vec<(DogBox, RgbImage)> {
    let (w, h) = frame.dimensions();
    std::iter::once((whole(pre, frame), pre.fit(frame)))
        .chain(
            boxes
                .iter()
                .map(|b| (*b, pre.fit_region(frame, crop_for(b, w, h, MARGIN)))),
        )
        .collect()
}

/// How sure the classifier is of a picture: its most likely dog breed's probability (any
/// class's, without labels).
pub fn sureness(labels: Option<&Labels>, probs: &[f32]) -> f32 {
    probs
        .iter()
        .enumerate()
        .filter(|(i, _)| labels.is_none_or(|l| l.entries.get(*i).is_some_and(|e| e.is_dog)))
        .map(|(_, &p)| p)
        .fold(0.0, f32::max)
}

/// The dogs of a frame from the classifications of [`fitted`]'s pictures (`dogs[0]` the
/// fallback's, the found dogs' after it): the found dogs, unless there are none or the
/// classifier is surer of the fallback than of the headline dog, when the frame is taken
/// as one dog that fills it (a photo, a dog close to the camera) and the fallback is the
/// one dog. The second rule keeps photos that a dog fills from losing (the segmenter
/// often boxes a part of such a dog, or a second animal), and costs one classification.
pub fn choose(labels: Option<&Labels>, mut dogs: Vec<Dog>) -> Vec<Dog> {
    let fallback_wins = match &dogs[..] {
        [] | [_] => true,
        [fallback, headline, ..] => {
            sureness(labels, &fallback.probs) > sureness(labels, &headline.probs)
        }
    };
    if fallback_wins {
        dogs.truncate(1);
    } else {
        dogs.remove(0);
    }
    dogs
}

/// Every dog in a frame, classified, the headline dog first (see [`choose`]). Never empty:
/// with no locator or no dog found, the one "dog" is the frame fitted as before locating
/// existed (score 0, [`Dog::found`] false).
pub fn classify_dogs(
    model: &Classifier,
    pre: &Preprocessor,
    locator: Option<&dyn Locate>,
    frame: &RgbImage,
    tta: Tta,
) -> Result<Vec<Dog>, Error> {
    let boxes = match locator {
        Some(l) => l.locate(frame)?,
        None => vec![],
    };
    let dogs = fitted(pre, frame, &boxes)
        .into_iter()
        .map(|(bbox, picture)| {
            Ok(Dog {
                bbox,
                probs: model.run_tta(pre.tensor(&picture)?, tta)?,
            })
        })
        .collect::<Result<Vec<Dog>, Error>>()?;
    Ok(choose(model.labels.as_ref(), dogs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x0: u32, y0: u32, x1: u32, y1: u32) -> DogBox {
        DogBox {
            x0,
            y0,
            x1,
            y1,
            score: 0.5,
        }
    }

    #[test]
    fn crops_are_squares_with_a_margin_kept_inside_the_frame() {
        // 100x60 box: side 100 + 2 * 15 = 130, centred on (150, 130).
        assert_eq!(
            crop_for(&b(100, 100, 200, 160), 640, 480, 0.15),
            (85, 65, 130, 130)
        );
        // Near the top-left corner: moved inside.
        assert_eq!(
            crop_for(&b(0, 0, 100, 100), 640, 480, 0.15),
            (0, 0, 130, 130)
        );
        // Near the bottom-right corner.
        assert_eq!(
            crop_for(&b(560, 400, 640, 480), 640, 480, 0.15),
            (536, 376, 104, 104)
        );
        // A box as tall as the frame: the crop is the frame's height.
        assert_eq!(
            crop_for(&b(300, 0, 400, 480), 640, 480, 0.15),
            (110, 0, 480, 480)
        );
        // An empty box still gives a 1-pixel crop inside the frame.
        assert_eq!(
            crop_for(&b(700, 700, 700, 700), 640, 480, 0.15),
            (639, 479, 1, 1)
        );
    }
}
