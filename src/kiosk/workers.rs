//! The inference workers: each takes the newest frame when it becomes free, runs the model
//! on it and hands the result to the presenter, so up to N frames are in flight.

use std::collections::BTreeSet;
use std::sync::mpsc::Sender;
use std::sync::Mutex;
use std::time::Instant;

use image::RgbImage;

use super::slot::{Newest, Numbered, Slot};
use crate::model::Classifier;
use crate::preprocess::Preprocessor;
use crate::Error;

/// What a worker made of a slot, for the presenter.
pub(super) enum Screen {
    Picture {
        captured_at: Instant,
        picture: RgbImage,
        probs: Vec<f32>,
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
}

/// One worker: until `quit()` (with nothing left to take) or the presenter goes away.
pub(super) fn worker(work: &Work, tx: &Sender<Done>, quit: impl Fn() -> bool) {
    // Registered while the slot lock is held, so the presenter never sees a newer frame's
    // result without this one counted as in flight.
    let take = || work.newest.take(&quit, |seq| work.in_flight.insert(seq));
    while let Some(Numbered { seq, slot }) = take() {
        let done = infer(work, slot).map(|screen| (seq, screen));
        let failed = done.is_err();
        if !work.in_flight.send(seq, done, tx) || failed {
            return;
        }
    }
}

/// Runs the model on a frame; a lost source passes through.
fn infer(work: &Work, slot: Slot) -> Result<Screen, Error> {
    let (captured_at, picture, fitted, fresh) = match slot {
        Slot::Lost(why) => return Ok(Screen::Lost(why)),
        Slot::Frame {
            captured_at,
            picture,
            fitted,
            fresh,
        } => (captured_at, picture, fitted, fresh),
    };
    let started = Instant::now();
    let probs = work.pre.tensor(&fitted).and_then(|t| work.model.run(t))?;
    Ok(Screen::Picture {
        captured_at,
        picture,
        probs,
        inference_ms: started.elapsed().as_secs_f64() * 1e3,
        fresh,
    })
}
