//! The locate stage: frame -> dog boxes (issue 22). Placeholder on the i22-kiosk branch with
//! exactly the interface's definitions (/work/wt/i22-interface.md); i22-locate owns this file
//! and its version replaces this one when merged.

/// A dog's box in the frame's pixels, `x1`/`y1` exclusive; `score` in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DogBox {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub score: f32,
}

/// Frame -> dog boxes: at most 4, most confident first; empty = no dog found (callers fall
/// back to the centre crop).
pub trait Locate: Send + Sync {
    fn locate(&self, frame: &image::RgbImage) -> Result<Vec<DogBox>, crate::error::Error>;
}

/// One dog: its box and the classifier's probabilities for its crop.
#[derive(Clone, Debug, PartialEq)]
pub struct Dog {
    pub bbox: DogBox,
    pub probs: Vec<f32>,
}
