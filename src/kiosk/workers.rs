//! The inference workers: each takes the newest frame when it becomes free, runs the model
//! on it and hands the result to the presenter, so up to N frames are in flight. With a
//! locator, each frame is classified once per dog box (its square crop from the whole
//! picture, [`crate::locate::crop_for`]) on the boxes the schedule gives
//! ([`super::locating`]) and once on the centre crop, and [`crate::locate::choose`] decides
//! between the dogs and the centre crop as `classify` does; without boxes, on the centre
//! crop as before.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::Instant;

use image::RgbImage;

use super::locating::{Located, Locating, Schedule};
use super::slot::{Newest, Numbered, Slot};
use crate::locate::{choose, crop_for, Dog, Locate, MARGIN};
use crate::model::Classifier;
use crate::preprocess::Preprocessor;
use crate::Error;

/// What a worker made of a slot, for the presenter.
pub(super) enum Screen {
    Picture {
        captured_at: Instant,
        picture: RgbImage,
        /// The centre crop's probabilities when the frame is shown without dog boxes, else
        /// empty.
        probs: Vec<f32>,
        /// The dogs found, the headline dog first (empty: the centre crop's `probs`).
        dogs: Vec<Dog>,
        /// Which locator run the boxes came from (0: none): the presenter's tracker moves
        /// its boxes only on a new run.
        located: u64,
        inference_ms: f64,
        /// Smoothing starts over at this picture.
        fresh: bool,
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
    let (captured_at, picture, fitted, live, fresh) = match slot {
        Slot::Lost(why) => return Ok(Screen::Lost(why)),
        Slot::Frame {
            captured_at,
            picture,
            fitted,
            live,
            fresh,
        } => (captured_at, picture, fitted, live, fresh),
    };
    let started = Instant::now();
    let located = match work.locator {
        Some(locator) => boxes_for(work, locator, seq, live, &picture)?,
        None => Located::default(),
    };
    let run = |picture: &RgbImage| work.pre.tensor(picture).and_then(|t| work.model.run(t));
    let centre = run(&fitted)?;
    let (mut probs, mut dogs) = (vec![], vec![]);
    if located.boxes.is_empty() {
        probs = centre;
    } else {
        let (w, h) = picture.dimensions();
        let fallback = Dog {
            bbox: crate::locate::whole(work.pre, &picture),
            probs: centre,
        };
        let mut all = vec![fallback];
        for b in &located.boxes {
            let crop = work.pre.fit_region(&picture, crop_for(b, w, h, MARGIN));
            all.push(Dog {
                bbox: *b,
                probs: run(&crop)?,
            });
        }
        dogs = choose(work.model.labels.as_ref(), all);
        if !dogs[0].found() {
            // The centre crop wins: a dog filling the frame.
            probs = dogs.remove(0).probs;
        }
    }
    Ok(Screen::Picture {
        captured_at,
        picture,
        probs,
        dogs,
        located: located.run,
        inference_ms: started.elapsed().as_secs_f64() * 1e3,
        fresh,
    })
}

/// The boxes to classify frame `seq` on: located here (a source that waits: every frame;
/// [`Schedule::EveryKth`]: every k-th frame classified, the first one included) or the
/// locator thread's latest.
fn boxes_for(
    work: &Work,
    locator: &dyn Locate,
    seq: u64,
    live: bool,
    picture: &RgbImage,
) -> Result<Located, Error> {
    let here = match (live, work.schedule) {
        (false, _) => true,
        (true, Schedule::EveryKth(k)) => work
            .locating
            .count_frame()
            .is_multiple_of(u64::from(k.max(1))),
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
