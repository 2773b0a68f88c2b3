//! The inference workers: each takes the newest frame when it becomes free, runs the model
//! on it and hands the result to the presenter, so up to N frames are in flight. With a
//! locator, each frame is classified once per dog box (a square crop around it from the
//! whole picture), on the boxes the schedule gives ([`super::locating`]); without boxes, on
//! the centre crop as before.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::Instant;

use image::RgbImage;

use super::locating::{Located, Locating, Schedule};
use super::slot::{Newest, Numbered, Slot};
use crate::locate::{Dog, DogBox, Locate};
use crate::model::Classifier;
use crate::preprocess::Preprocessor;
use crate::Error;

/// Margin added around a dog's box on each side, as a fraction of its longer side, before
/// it is made square (issue 22's prototype: 15 %).
const CROP_MARGIN: f32 = 0.15;

/// What a worker made of a slot, for the presenter.
pub(super) enum Screen {
    Picture {
        captured_at: Instant,
        picture: RgbImage,
        /// The centre crop's probabilities when no dog box was there, else empty.
        probs: Vec<f32>,
        /// One per dog box, most confident first.
        dogs: Vec<Dog>,
        /// Which locator run the boxes came from (0: none): the presenter's tracker moves
        /// its boxes only on a new run.
        located: u64,
        inference_ms: f64,
    },
    Lost(String),
}

/// A worker's result with its capture number, or the inference error that ends the run.
pub(super) type Done = Result<(u64, Screen), Error>;

/// The capture numbers taken by a worker whose result has not been sent yet.
///
/// Workers send a result and leave the set under its lock, so a reader holding the lock sees
/// every taken frame either still here or its result already in the channel: the oldest
/// number here is where presenting in capture order has to wait.
#[derive(Default)]
pub(super) struct InFlight(Mutex<BTreeSet<u64>>);

impl InFlight {
    fn insert(&self, seq: u64) {
        if let Ok(mut f) = self.0.lock() {
            f.insert(seq);
        }
    }

    /// Sends `done` and leaves the set in one step; false if nobody listens any more.
    fn send(&self, seq: u64, done: Done, tx: &Sender<Done>) -> bool {
        let Ok(mut f) = self.0.lock() else {
            return false;
        };
        let sent = tx.send(done).is_ok();
        f.remove(&seq);
        sent
    }

    /// Runs `drain` (which empties the channel) under the lock and returns the oldest number
    /// still in flight; `None` in the outer option if a worker panicked holding the lock.
    pub fn oldest_after(&self, drain: impl FnOnce()) -> Option<Option<u64>> {
        let f = self.0.lock().ok()?;
        drain();
        Some(f.iter().next().copied())
    }
}

/// Everything a worker shares with the others.
pub(super) struct Work<'a> {
    pub model: &'a Classifier,
    pub pre: &'a Preprocessor,
    pub newest: &'a Newest,
    pub in_flight: &'a InFlight,
    pub locator: Option<&'a dyn Locate>,
    pub locating: &'a Locating,
    pub schedule: Schedule,
}

/// One worker: until `quit()` (with nothing left to take) or the presenter goes away.
pub(super) fn worker(work: &Work, tx: &Sender<Done>, quit: impl Fn() -> bool) {
    // Registered while the slot lock is held, so the presenter never sees a newer frame's
    // result without this one counted as in flight.
    let take = || work.newest.take(&quit, |seq| work.in_flight.insert(seq));
    while let Some(Numbered { seq, slot }) = take() {
        let done = infer(work, seq, slot).map(|screen| (seq, screen));
        let failed = done.is_err();
        if !work.in_flight.send(seq, done, tx) || failed {
            return;
        }
    }
}

/// Runs the model on a frame; a lost source passes through.
fn infer(work: &Work, seq: u64, slot: Slot) -> Result<Screen, Error> {
    let (captured_at, picture, fitted, live) = match slot {
        Slot::Lost(why) => return Ok(Screen::Lost(why)),
        Slot::Frame {
            captured_at,
            picture,
            fitted,
            live,
        } => (captured_at, picture, fitted, live),
    };
    let started = Instant::now();
    let located = match work.locator {
        Some(locator) => boxes_for(work, locator, seq, live, &picture)?,
        None => Located::default(),
    };
    let (mut probs, mut dogs) = (vec![], vec![]);
    if located.boxes.is_empty() {
        probs = work.pre.tensor(&fitted).and_then(|t| work.model.run(t))?;
    }
    for b in &located.boxes {
        let crop = dog_crop(&picture, b);
        let probs = work.pre.prepare(&crop).and_then(|t| work.model.run(t))?;
        dogs.push(Dog { bbox: *b, probs });
    }
    Ok(Screen::Picture {
        captured_at,
        picture,
        probs,
        dogs,
        located: located.run,
        inference_ms: started.elapsed().as_secs_f64() * 1e3,
    })
}

/// The boxes to classify frame `seq` on: located here (a source that waits: every frame;
/// [`Schedule::EveryKth`]: every k-th) or the locator thread's latest.
fn boxes_for(
    work: &Work,
    locator: &dyn Locate,
    seq: u64,
    live: bool,
    picture: &RgbImage,
) -> Result<Located, Error> {
    let here = match (live, work.schedule) {
        (false, _) => true,
        (true, Schedule::EveryKth(k)) => seq % u64::from(k.max(1)) == 1 || k <= 1,
        (true, Schedule::Thread) => false,
    };
    if !here {
        return Ok(work.locating.latest());
    }
    let started = Instant::now();
    let boxes = locator.locate(picture)?;
    work.locating.timed(started.elapsed().as_secs_f64() * 1e3);
    let located = Located { run: seq, boxes };
    work.locating.set_latest(&located);
    Ok(located)
}

/// The square around a dog's box, `CROP_MARGIN` wider on each side, inside the picture
/// (shifted in where it would cross an edge, cut to the picture's shorter side).
pub(super) fn crop_rect(b: &DogBox, (w, h): (u32, u32)) -> (u32, u32, u32, u32) {
    let (bw, bh) = (b.x1.saturating_sub(b.x0), b.y1.saturating_sub(b.y0));
    let long = bw.max(bh) as f32;
    let side = ((long * (1.0 + 2.0 * CROP_MARGIN)).round() as u32).clamp(1, w.min(h).max(1));
    let place = |lo: u32, hi: u32, limit: u32| {
        let centre = (lo + hi) / 2;
        centre
            .saturating_sub(side / 2)
            .min(limit.saturating_sub(side))
    };
    (place(b.x0, b.x1, w), place(b.y0, b.y1, h), side, side)
}

fn dog_crop(picture: &RgbImage, b: &DogBox) -> RgbImage {
    let (x, y, w, h) = crop_rect(b, picture.dimensions());
    image::imageops::crop_imm(picture, x, y, w, h).to_image()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dog_box(x0: u32, y0: u32, x1: u32, y1: u32) -> DogBox {
        DogBox {
            x0,
            y0,
            x1,
            y1,
            score: 1.0,
        }
    }

    #[test]
    fn dog_crops_are_squares_with_a_margin_inside_the_picture() {
        // pets.jpg's Boston terrier (roughly): 154 wide, 204 tall -> a 265 px square.
        assert_eq!(
            crop_rect(&dog_box(344, 162, 498, 366), (512, 430)),
            (247, 132, 265, 265)
        );
        // A box in a corner is shifted in, not cut.
        assert_eq!(
            crop_rect(&dog_box(0, 0, 100, 100), (640, 480)),
            (0, 0, 130, 130)
        );
        assert_eq!(
            crop_rect(&dog_box(600, 400, 640, 480), (640, 480)),
            (536, 376, 104, 104)
        );
        // A box taller than the picture allows: the picture's height.
        assert_eq!(
            crop_rect(&dog_box(100, 0, 300, 480), (640, 480)),
            (0, 0, 480, 480)
        );
    }
}
