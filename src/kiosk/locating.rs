//! When the kiosk looks for dogs. Finding them (the segmenter) costs several times what
//! naming them costs (issue 22: 35 to 85 ms against 13 ms on x86 with TFLite), so on a live
//! source the locator has its own thread: it takes the newest picture whenever it is free,
//! and each result replaces the boxes every frame's classification uses until the next one
//! (the boxes are carried between runs). Screens keep the classifier's pace; boxes follow at
//! the locator's. A source that waits (a folder of photos: each frame its own scene) is
//! located frame by frame in the worker instead, so the screens do not depend on timing.
//!
//! `Schedule::EveryKth(k)` (locate in the worker on every k-th frame, carry the boxes
//! between) is the alternative that was measured against the thread (docs/architecture.md).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::workers::Done;
use crate::locate::{DogBox, Locate};

/// How often a live source is located.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// On its own thread, on the newest picture each time it is free (the default).
    Thread,
    /// In the inference worker, on every k-th frame (k >= 1), before classifying it.
    EveryKth(u32),
}

/// The boxes of one locator run.
#[derive(Clone, Debug, Default)]
pub(super) struct Located {
    /// Which run (0: none yet); a new number means new boxes.
    pub run: u64,
    pub boxes: Vec<DogBox>,
}

/// Between the capture thread, the locator thread and the workers: the picture waiting to
/// be located, the latest boxes, and the locator's timings.
#[derive(Default)]
pub(super) struct Locating {
    picture: Mutex<Option<RgbImage>>,
    ready: Condvar,
    latest: Mutex<Located>,
    /// Milliseconds of each run, for the report.
    times_ms: Mutex<Vec<f64>>,
    /// Live frames the workers classified ([`Schedule::EveryKth`] counts them).
    frames: AtomicU64,
}

const POLL: Duration = Duration::from_millis(100);

impl Locating {
    /// Whether the locator thread waits for a picture (the capture thread then copies one).
    pub fn wants_picture(&self) -> bool {
        self.picture.lock().is_ok_and(|p| p.is_none())
    }

    /// Hands the locator thread a picture (replacing one it has not taken).
    pub fn offer(&self, picture: RgbImage) {
        if let Ok(mut p) = self.picture.lock() {
            *p = Some(picture);
            self.ready.notify_all();
        }
    }

    /// The boxes every frame is classified on now.
    pub fn latest(&self) -> Located {
        self.latest.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Counts a live frame the workers classify; how many were counted before it.
    pub fn count_frame(&self) -> u64 {
        self.frames.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes `located` the boxes frames are classified on.
    pub fn set_latest(&self, located: &Located) {
        if let Ok(mut l) = self.latest.lock() {
            *l = located.clone();
        }
    }

    /// Records one run's time.
    pub fn timed(&self, ms: f64) {
        if let Ok(mut t) = self.times_ms.lock() {
            if t.len() < 1 << 16 {
                t.push(ms);
            }
        }
    }

    pub fn times_ms(&self) -> Vec<f64> {
        self.times_ms.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// Wakes the locator thread so it sees a flag that changed.
    pub fn wake(&self) {
        self.ready.notify_all();
    }

    /// The locator thread: locates each picture it is handed until `quit()`; an error ends
    /// it and goes to the presenter, which ends the run with it.
    pub fn run(&self, locator: &dyn Locate, quit: impl Fn() -> bool, tx: &Sender<Done>) {
        let mut run = 0u64;
        loop {
            let picture = {
                let Ok(mut p) = self.picture.lock() else {
                    return;
                };
                loop {
                    if quit() {
                        return;
                    }
                    if let Some(pic) = p.take() {
                        break pic;
                    }
                    p = match self.ready.wait_timeout(p, POLL) {
                        Ok((guard, _)) => guard,
                        Err(_) => return,
                    };
                }
            };
            let started = Instant::now();
            let boxes = match locator.locate(&picture) {
                Ok(b) => b,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            self.timed(started.elapsed().as_secs_f64() * 1e3);
            run += 1;
            if let Ok(mut l) = self.latest.lock() {
                *l = Located { run, boxes };
            }
        }
    }
}
