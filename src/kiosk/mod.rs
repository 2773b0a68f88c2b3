//! The kiosk loop: capture and decode on one thread, inference on N worker threads (each on
//! the newest frame when it becomes free, so up to N frames are in flight), smoothing and
//! drawing on the main thread in capture order; a source that fails is reopened until it is
//! back. Live sources overwrite a frame no worker took yet: stale frames are dropped and the
//! picture never lags by more than the frames in flight.
//!
//! ```text
//! capture thread:   source -> decode -> crop+resize -> [newest slot, numbered]
//! locator thread:   [newest picture when free] -> locate -> latest boxes ─┐ (live sources)
//! worker 1..N:      [newest slot] + latest boxes -> per dog: crop -> inference ─┐
//! main thread:      results, reordered by capture number ─────────────────────┴> smoothing
//!                   per dog (tracker) -> overlay -> display
//! ```
//!
//! Without a locator (or with no dog box) a frame is classified on its centre crop and the
//! probabilities are smoothed as one vector, as before localisation.
//!
//! | file | part |
//! |---|---|
//! | `capture` | the capture thread: read, decode, fit, number; "source lost" and reopening |
//! | `slot` | the newest-frame slot between capture and the workers, and the run's counters |
//! | `workers` | the inference workers and the set of frames in flight; per-dog crops |
//! | `locating` | when dogs are located: the locator's own thread (live), or in the worker |
//! | `tracker` | smoothing per dog: boxes matched from frame to frame by overlap |
//! | `presenter` | capture order, smoothing, drawing, presenting, the run's timing figures |

mod capture;
mod locating;
mod presenter;
mod slot;
mod tracker;
mod workers;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use capture::Open;
pub use locating::Schedule;
pub use presenter::Smoother;

use crate::display::Display;
use crate::locate::Locate;
use crate::model::Classifier;
use crate::preprocess::Crop;
use crate::Error;

/// How the loop runs.
pub struct Options {
    /// Stop after presenting this many frames (None: until stopped).
    pub frames: Option<u64>,
    pub crop: Crop,
    /// Smoothing weight of the newest frame.
    pub smoothing: f32,
    /// How often a lost source is reopened.
    pub reopen_every: Duration,
    /// Inference workers, each on its own newest frame (at least 1). Screens are presented
    /// in capture order whatever order the workers finish in.
    pub workers: usize,
    /// Finds the dogs, each then classified on its own and boxed on the screen (None: the
    /// centre crop, as before localisation).
    pub locator: Option<Arc<dyn Locate>>,
    /// When a live source is located ([`Schedule::Thread`] unless measuring).
    pub schedule: Schedule,
}

/// The kiosk's default inference threads: every core but one (capture, decode and display
/// run there), at least one.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

/// What happened during a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stats {
    pub presented: u64,
    pub captured: u64,
    /// Live frames replaced by a newer one before inference got to them.
    pub dropped: u64,
    /// Frames that did not decode (corrupt, truncated), skipped.
    pub bad_frames: u64,
    /// Buffers the driver flagged as corrupt (V4L2_BUF_FLAG_ERROR), skipped.
    pub driver_errors: u64,
    /// Frames the driver never delivered (gaps in its sequence numbers).
    pub missed: u64,
    /// Times the source failed and was reopened.
    pub reopened: u64,
    /// Screens shown while the source was lost.
    pub lost_screens: u64,
    pub workers: usize,
    /// Screens per second from the first screen to the last.
    pub screens_per_second: f64,
    /// From a frame's bytes arriving from the source to its screen being presented, over the
    /// last screens (up to 4096), in milliseconds.
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    /// Locator runs, and their time in milliseconds (0 without a locator).
    pub located: u64,
    pub locate_p50_ms: f64,
    pub locate_p90_ms: f64,
}

/// Runs the kiosk until `stop` is set or `opts.frames` frames were presented. `open`
/// (re)opens the frame source.
pub fn run(
    model: &Classifier,
    open: &mut Open,
    display: &mut dyn Display,
    opts: &Options,
    stop: &AtomicBool,
) -> Result<Stats, Error> {
    let labels = model.labels_or("the kiosk needs labels")?;
    let pre = model.preprocessor(opts.crop)?;
    let workers = opts.workers.max(1);
    let newest = slot::Newest::new();
    let locating = locating::Locating::default();
    let locator = opts.locator.as_deref();
    let thread_locator = locator.filter(|_| opts.schedule == Schedule::Thread);
    let in_flight = workers::InFlight::default();
    // `done`: the presenter finished; `capture_over`: the capture thread returned.
    let (done, capture_over) = (AtomicBool::new(false), AtomicBool::new(false));
    let is_set = |flag: &AtomicBool| flag.load(Ordering::Relaxed);
    let mut presenter = presenter::Presenter::new(labels, display, opts.smoothing, opts.frames);
    let (tx, rx) = std::sync::mpsc::channel();
    let mut capturer = capture::Capture {
        open,
        pre: &pre,
        newest: &newest,
        locating: thread_locator.map(|_| &locating),
        reopen_every: opts.reopen_every,
        done: &done,
    };
    let work = workers::Work {
        model,
        pre: &pre,
        newest: &newest,
        in_flight: &in_flight,
        locator,
        locating: &locating,
        schedule: opts.schedule,
    };
    let (outcome, captured) = std::thread::scope(|scope| {
        let capturing = scope.spawn(|| {
            let r = capturer.run(|| is_set(stop) || is_set(&done));
            capture_over.store(true, Ordering::Relaxed);
            newest.wake_all();
            r
        });
        for _ in 0..workers {
            let (tx, work) = (tx.clone(), &work);
            let quit = || is_set(stop) || is_set(&done) || is_set(&capture_over);
            scope.spawn(move || workers::worker(work, &tx, quit));
        }
        if let Some(l) = thread_locator {
            let (tx, locating) = (tx.clone(), &locating);
            let quit = || is_set(stop) || is_set(&done) || is_set(&capture_over);
            scope.spawn(move || locating.run(l, quit, &tx));
        }
        drop(tx);
        let outcome = presenter.run(&rx, &in_flight, &newest, stop);
        crate::notify::stopping();
        done.store(true, Ordering::Relaxed);
        newest.wake_all();
        locating.wake();
        (outcome, capturing.join())
    });
    let captured = captured.map_err(|_| Error::Runtime("capture thread panicked".into()))?;
    outcome?;
    captured?;
    let mut stats = newest.counts();
    presenter.report(&mut stats);
    stats.workers = workers;
    let times = crate::stats::sorted(locating.times_ms());
    stats.located = times.len() as u64;
    if !times.is_empty() {
        stats.locate_p50_ms = crate::stats::percentile(&times, 0.5);
        stats.locate_p90_ms = crate::stats::percentile(&times, 0.9);
    }
    Ok(stats)
}
