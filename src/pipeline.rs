//! The kiosk loop: capture and decode on one thread, inference on N worker threads (each on
//! the newest frame when it becomes free, so up to N frames are in flight), smoothing and
//! drawing on the main thread in capture order; a source that fails is reopened until it is
//! back. Live sources overwrite a frame no worker took yet: stale frames are dropped and the
//! picture never lags by more than the frames in flight.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use image::RgbImage;
use serde::Serialize;

use crate::camera::{decode, FrameSource};
use crate::display::Display;
use crate::model::Classifier;
use crate::overlay::{draw, picture_rect, Canvas, View};
use crate::preprocess::{Crop, Preprocessor};
use crate::scores::verdict;
use crate::Error;

/// Exponential moving average of class probabilities, so names do not flicker.
pub struct Smoother {
    /// Weight of the newest frame (1 = no smoothing).
    pub alpha: f32,
    state: Option<Vec<f32>>,
}

impl Smoother {
    pub fn new(alpha: f32) -> Smoother {
        Smoother {
            alpha: alpha.clamp(0.01, 1.0),
            state: None,
        }
    }

    pub fn update(&mut self, probs: &[f32]) -> &[f32] {
        let alpha = self.alpha;
        let state = self.state.get_or_insert_with(|| probs.to_vec());
        if state.len() != probs.len() {
            *state = probs.to_vec();
        }
        for (s, p) in state.iter_mut().zip(probs) {
            *s += alpha * (p - *s);
        }
        state
    }

    pub fn reset(&mut self) {
        self.state = None;
    }
}

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
}

/// The kiosk's default inference threads: every core but one (capture, decode and display
/// run there), at least one.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .max(1)
}

/// Capture-to-screen latencies kept for the report (the most recent ones).
const LATENCY_WINDOW: usize = 4096;

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
}

enum Slot {
    Empty,
    Frame {
        seq: u64,
        captured_at: Instant,
        picture: RgbImage,
        fitted: RgbImage,
    },
    Lost(u64, String),
}

struct Shared {
    slot: Mutex<(Slot, Stats)>,
    ready: Condvar,
    consumed: Condvar,
    /// Sequence numbers taken by a worker whose result has not been sent yet.
    in_flight: Mutex<std::collections::BTreeSet<u64>>,
}

/// A worker's result for the presenter.
enum Done {
    Screen {
        seq: u64,
        captured_at: Instant,
        picture: RgbImage,
        probs: Vec<f32>,
        inference_ms: f64,
    },
    Lost(u64, String),
    Failed(Error),
}

impl Done {
    fn seq(&self) -> u64 {
        match self {
            Done::Screen { seq, .. } | Done::Lost(seq, _) => *seq,
            Done::Failed(_) => 0,
        }
    }
}

/// Runs the kiosk until `stop` is set or `opts.frames` frames were presented. `open`
/// (re)opens the frame source.
///
/// ```text
/// capture thread:   source -> decode -> crop+resize -> [newest slot, numbered]
/// worker 1..N:      [newest slot] -> quantize -> inference ─┐
/// main thread:      results, reordered by capture number ───┴> smoothing -> overlay -> display
/// ```
pub fn run(
    model: &Classifier,
    open: &mut (dyn FnMut() -> Result<Box<dyn FrameSource>, Error> + Send),
    display: &mut dyn Display,
    opts: &Options,
    stop: &AtomicBool,
) -> Result<Stats, Error> {
    let labels = model.labels_or("the kiosk needs labels")?;
    let pre = model.preprocessor(opts.crop)?;
    let workers = opts.workers.max(1);
    let shared = Arc::new(Shared {
        slot: Mutex::new((Slot::Empty, Stats::default())),
        ready: Condvar::new(),
        consumed: Condvar::new(),
        in_flight: Mutex::new(Default::default()),
    });
    let done = AtomicBool::new(false);
    let capture_over = AtomicBool::new(false);
    let (w, h) = display.size();
    let mut canvas = Canvas::new(w, h);
    let mut smoother = Smoother::new(opts.smoothing);
    let (tx, rx) = std::sync::mpsc::channel::<Done>();
    std::thread::scope(|scope| -> Result<Stats, Error> {
        let capture = scope.spawn(|| {
            let r = capture_loop(open, &pre, &shared, opts, stop, &done);
            capture_over.store(true, Ordering::Relaxed);
            shared.ready.notify_all();
            r
        });
        for _ in 0..workers {
            let tx = tx.clone();
            let (shared, pre, done, capture_over) = (&shared, &pre, &done, &capture_over);
            scope.spawn(move || worker(model, pre, shared, &tx, stop, done, capture_over));
        }
        drop(tx);
        let mut presented = 0u64;
        let mut first_screen: Option<Instant> = None;
        let mut last_screen = Instant::now();
        let mut latencies: std::collections::VecDeque<f64> =
            std::collections::VecDeque::with_capacity(LATENCY_WINDOW);
        let mut waiting: std::collections::BTreeMap<u64, Done> = Default::default();
        let mut watchdog = crate::notify::Watchdog::from_env(); // issue 25: systemd READY/WATCHDOG
        let outcome = 'outer: loop {
            if stop.load(Ordering::Relaxed) || opts.frames.is_some_and(|n| presented >= n) {
                break Ok(());
            }
            let mut failed = None;
            let mut take = |d: Done, waiting: &mut std::collections::BTreeMap<u64, Done>| match d {
                Done::Failed(e) => failed = Some(e),
                d => {
                    waiting.insert(d.seq(), d);
                }
            };
            let ended = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(d) => {
                    take(d, &mut waiting);
                    false
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => false,
                // Every worker ended (the source ended or failed).
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => true,
            };
            // Workers send a result and leave `in_flight` under its lock, so with the lock
            // held, every frame taken is either still in flight or its result is received
            // here: the oldest frame in flight is where presenting in capture order stops.
            let floor = match shared.in_flight.lock() {
                Ok(f) => {
                    while let Ok(d) = rx.try_recv() {
                        take(d, &mut waiting);
                    }
                    f.iter().next().copied()
                }
                Err(_) => break Err(Error::Runtime("a worker panicked".into())),
            };
            if let Some(e) = failed {
                break Err(e);
            }
            if ended && waiting.is_empty() {
                break Ok(());
            }
            while let Some(&seq) = waiting.keys().next() {
                if floor.is_some_and(|f| f < seq) {
                    break;
                }
                let Some(d) = waiting.remove(&seq) else { break };
                let fps = 1.0 / last_screen.elapsed().as_secs_f64().max(1e-6);
                let (picture, view, captured_at) = match d {
                    Done::Lost(_, why) => {
                        smoother.reset();
                        if let Ok(mut g) = shared.slot.lock() {
                            g.1.lost_screens += 1;
                        }
                        let view = View {
                            breeds: vec![],
                            headline: Some(format!("camera lost: {why}")),
                            corner: String::new(),
                        };
                        (None, view, None)
                    }
                    Done::Screen {
                        captured_at,
                        picture,
                        probs,
                        inference_ms,
                        ..
                    } => {
                        let smooth = smoother.update(&probs);
                        let view =
                            View::from_verdict(&verdict(labels, smooth, 3), inference_ms, fps);
                        (Some(picture), view, Some(captured_at))
                    }
                    Done::Failed(e) => break 'outer Err(e),
                };
                let _ = draw(&mut canvas, picture.as_ref(), &view);
                let rect = picture
                    .as_ref()
                    .map(|p| picture_rect(p.dimensions(), (w, h)));
                if let Err(e) = display.present_view(&canvas, &view, rect) {
                    break 'outer Err(e);
                }
                last_screen = Instant::now();
                first_screen.get_or_insert(last_screen);
                watchdog.screen_presented(); // issue 25: READY=1 once, WATCHDOG=1 pings
                if let Some(t) = captured_at {
                    if latencies.len() == LATENCY_WINDOW {
                        latencies.pop_front();
                    }
                    latencies.push_back((last_screen - t).as_secs_f64() * 1e3);
                }
                presented += 1;
                if presented.is_multiple_of(1000) {
                    log::info!(
                        "{presented} screens; resident memory {} MiB (peak {} MiB)",
                        crate::bench::rss_mib("VmRSS").map_or("?".into(), |m| format!("{m:.1}")),
                        crate::bench::rss_mib("VmHWM").map_or("?".into(), |m| format!("{m:.1}")),
                    );
                }
                if opts.frames.is_some_and(|n| presented >= n) {
                    break;
                }
            }
        };
        crate::notify::stopping(); // issue 25: STOPPING=1
        done.store(true, Ordering::Relaxed);
        shared.consumed.notify_all();
        shared.ready.notify_all();
        let captured = capture
            .join()
            .map_err(|_| Error::Runtime("capture thread panicked".into()))?;
        outcome?;
        captured?;
        let mut stats = shared.slot.lock().map(|g| g.1.clone()).unwrap_or_default();
        stats.presented = presented;
        stats.workers = workers;
        if let Some(first) = first_screen.filter(|_| presented > 1) {
            let secs = (last_screen - first).as_secs_f64();
            stats.screens_per_second = (presented - 1) as f64 / secs.max(1e-9);
        }
        let mut l: Vec<f64> = latencies.into_iter().collect();
        l.sort_by(f64::total_cmp);
        stats.latency_p50_ms = crate::bench::percentile(&l, 0.5);
        stats.latency_p90_ms = crate::bench::percentile(&l, 0.9);
        Ok(stats)
    })
}

/// One inference worker: takes the newest frame, runs the model, hands the result over.
fn worker(
    model: &Classifier,
    pre: &Preprocessor,
    shared: &Shared,
    tx: &std::sync::mpsc::Sender<Done>,
    stop: &AtomicBool,
    done: &AtomicBool,
    capture_over: &AtomicBool,
) {
    let quit = || stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed);
    loop {
        let slot = {
            let Ok(mut guard) = shared.slot.lock() else {
                return;
            };
            while matches!(guard.0, Slot::Empty) {
                if quit() || capture_over.load(Ordering::Relaxed) {
                    return;
                }
                guard = match shared.ready.wait_timeout(guard, Duration::from_millis(100)) {
                    Ok(g) => g.0,
                    Err(_) => return,
                };
            }
            let slot = std::mem::replace(&mut guard.0, Slot::Empty);
            // Registered while the slot lock is held, so the presenter never sees a newer
            // frame's result without this one counted as in flight.
            let seq = match &slot {
                Slot::Frame { seq, .. } | Slot::Lost(seq, _) => *seq,
                Slot::Empty => 0,
            };
            if let Ok(mut f) = shared.in_flight.lock() {
                f.insert(seq);
            }
            shared.consumed.notify_all();
            slot
        };
        let result = match slot {
            Slot::Empty => continue,
            Slot::Lost(seq, why) => Done::Lost(seq, why),
            Slot::Frame {
                seq,
                captured_at,
                picture,
                fitted,
            } => {
                let started = Instant::now();
                match pre.tensor(&fitted).and_then(|t| model.run(t)) {
                    Ok(probs) => Done::Screen {
                        seq,
                        captured_at,
                        picture,
                        probs,
                        inference_ms: started.elapsed().as_secs_f64() * 1e3,
                    },
                    Err(e) => Done::Failed(e),
                }
            }
        };
        let seq = result.seq();
        let failed = matches!(result, Done::Failed(_));
        // Sent and no longer in flight in one step for the presenter (see `run`).
        let Ok(mut f) = shared.in_flight.lock() else {
            return;
        };
        let sent = tx.send(result).is_ok();
        f.remove(&seq);
        drop(f);
        if !sent || failed {
            return;
        }
    }
}

fn capture_loop(
    open: &mut (dyn FnMut() -> Result<Box<dyn FrameSource>, Error> + Send),
    pre: &Preprocessor,
    shared: &Shared,
    opts: &Options,
    stop: &AtomicBool,
    done: &AtomicBool,
) -> Result<(), Error> {
    let quit = || stop.load(Ordering::Relaxed) || done.load(Ordering::Relaxed);
    let mut source: Option<Box<dyn FrameSource>> = None;
    let mut first_open = true;
    let mut seq = 0u64;
    let mut next_seq = || {
        seq += 1;
        seq
    };
    while !quit() {
        let src = match source.as_mut() {
            Some(s) => s,
            None => match open() {
                Ok(s) => {
                    if !first_open {
                        log::info!("frame source back: {}", s.describe());
                    }
                    first_open = false;
                    source.insert(s)
                }
                // A source that cannot open at all at start is the user's error.
                Err(e) if first_open => return Err(e),
                Err(e) => {
                    put(shared, Slot::Lost(next_seq(), e.to_string()), true, done);
                    std::thread::sleep(opts.reopen_every);
                    continue;
                }
            },
        };
        let live = src.is_live();
        let next = src.next_frame();
        let (errors, missed) = src.take_skipped();
        if errors + missed > 0 {
            if let Ok(mut g) = shared.slot.lock() {
                g.1.driver_errors += errors;
                g.1.missed += missed;
            }
            log::debug!("driver: {errors} buffers flagged as errors, {missed} frames missed");
        }
        let frame = match next {
            Ok(f) => f,
            Err(e) => {
                log::warn!(
                    "frame source failed: {e}; reopening every {:?}",
                    opts.reopen_every
                );
                source = None;
                if let Ok(mut g) = shared.slot.lock() {
                    g.1.reopened += 1;
                }
                put(shared, Slot::Lost(next_seq(), e.to_string()), true, done);
                std::thread::sleep(opts.reopen_every);
                continue;
            }
        };
        let captured_at = Instant::now();
        if let Ok(mut g) = shared.slot.lock() {
            g.1.captured += 1;
        }
        match decode(&frame) {
            Ok(picture) => {
                let fitted = pre.fit(&picture);
                let frame = Slot::Frame {
                    seq: next_seq(),
                    captured_at,
                    picture,
                    fitted,
                };
                put(shared, frame, live, done);
            }
            Err(e) => {
                log::debug!("skipping a bad frame: {e}");
                if let Ok(mut g) = shared.slot.lock() {
                    g.1.bad_frames += 1;
                }
            }
        }
    }
    Ok(())
}

/// Puts a slot for the main thread. Live sources overwrite a frame not yet taken (counted
/// as dropped); others wait until it is taken, so no file is skipped. A "camera lost" not yet
/// taken is never overwritten by a frame: the screen shows it once (a live source's frame is
/// dropped instead, a file waits).
fn put(shared: &Shared, slot: Slot, overwrite: bool, done: &AtomicBool) {
    let Ok(mut g) = shared.slot.lock() else {
        return;
    };
    if overwrite && matches!(g.0, Slot::Lost(..)) && matches!(slot, Slot::Frame { .. }) {
        g.1.dropped += 1;
        return;
    }
    if !overwrite {
        while !matches!(g.0, Slot::Empty) && !done.load(Ordering::Relaxed) {
            match shared.consumed.wait_timeout(g, Duration::from_millis(100)) {
                Ok((guard, _)) => g = guard,
                Err(_) => return,
            }
        }
    }
    if done.load(Ordering::Relaxed) {
        return; // shutting down: nobody will take it
    }
    if matches!(g.0, Slot::Frame { .. }) {
        g.1.dropped += 1;
    }
    g.0 = slot;
    shared.ready.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoothing_follows_slowly_and_resets() {
        let mut s = Smoother::new(0.5);
        assert_eq!(s.update(&[1.0, 0.0]), &[1.0, 0.0]);
        assert_eq!(s.update(&[0.0, 1.0]), &[0.5, 0.5]);
        assert_eq!(s.update(&[0.0, 1.0]), &[0.25, 0.75]);
        s.reset();
        assert_eq!(s.update(&[0.0, 1.0]), &[0.0, 1.0]);
    }
}
