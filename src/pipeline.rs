//! The kiosk loop: capture and decode on one thread, inference and drawing on another,
//! always on the newest frame; a source that fails is reopened until it is back.
//!
//! ```text
//! capture thread:  source.next_frame -> decode -> crop+resize ──> [latest slot] (live
//!                  sources overwrite: stale frames are dropped, the picture never lags)
//! main thread:     [latest slot] -> quantize -> inference -> smoothing -> overlay -> display
//! ```

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
}

enum Slot {
    Empty,
    Frame { picture: RgbImage, fitted: RgbImage },
    Lost(String),
}

struct Shared {
    slot: Mutex<(Slot, Stats)>,
    ready: Condvar,
    consumed: Condvar,
}

/// Runs the kiosk until `stop` is set or `opts.frames` frames were presented. `open`
/// (re)opens the frame source.
pub fn run(
    model: &Classifier,
    open: &mut (dyn FnMut() -> Result<Box<dyn FrameSource>, Error> + Send),
    display: &mut dyn Display,
    opts: &Options,
    stop: &AtomicBool,
) -> Result<Stats, Error> {
    let labels = model.labels_or("the kiosk needs labels")?;
    let pre = model.preprocessor(opts.crop)?;
    let shared = Arc::new(Shared {
        slot: Mutex::new((Slot::Empty, Stats::default())),
        ready: Condvar::new(),
        consumed: Condvar::new(),
    });
    let done = AtomicBool::new(false);
    let (w, h) = display.size();
    let mut canvas = Canvas::new(w, h);
    let mut smoother = Smoother::new(opts.smoothing);
    let result = std::thread::scope(|scope| -> Result<Stats, Error> {
        let capture = scope.spawn(|| capture_loop(open, &pre, &shared, opts, stop, &done));
        let mut presented = 0u64;
        let mut last_frame = Instant::now();
        let outcome = loop {
            if stop.load(Ordering::Relaxed) || opts.frames.is_some_and(|n| presented >= n) {
                break Ok(());
            }
            let slot = {
                let mut guard = shared
                    .slot
                    .lock()
                    .map_err(|_| Error::Runtime("capture thread panicked".into()))?;
                while matches!(guard.0, Slot::Empty)
                    && !stop.load(Ordering::Relaxed)
                    && !capture.is_finished()
                {
                    guard = shared
                        .ready
                        .wait_timeout(guard, Duration::from_millis(100))
                        .map_err(|_| Error::Runtime("lock".into()))?
                        .0;
                }
                let slot = std::mem::replace(&mut guard.0, Slot::Empty);
                shared.consumed.notify_all();
                slot
            };
            let fps = 1.0 / last_frame.elapsed().as_secs_f64().max(1e-6);
            last_frame = Instant::now();
            let (picture, view) = match slot {
                Slot::Empty => {
                    if capture.is_finished() {
                        break Ok(());
                    }
                    continue;
                }
                Slot::Lost(why) => {
                    smoother.reset();
                    let headline = Some(format!("camera lost: {why}"));
                    if let Ok(mut g) = shared.slot.lock() {
                        g.1.lost_screens += 1;
                    }
                    (
                        None,
                        View {
                            breeds: vec![],
                            headline,
                            corner: String::new(),
                        },
                    )
                }
                Slot::Frame { picture, fitted } => {
                    let started = Instant::now();
                    let probs = match pre.tensor(&fitted).and_then(|t| model.run(t)) {
                        Ok(p) => p,
                        Err(e) => break Err(e),
                    };
                    let inference_ms = started.elapsed().as_secs_f64() * 1e3;
                    let smooth = smoother.update(&probs);
                    (
                        Some(picture),
                        View::from_verdict(&verdict(labels, smooth, 3), inference_ms, fps),
                    )
                }
            };
            let _ = draw(&mut canvas, picture.as_ref(), &view);
            let rect = picture
                .as_ref()
                .map(|p| picture_rect(p.dimensions(), (w, h)));
            if let Err(e) = display.present_view(&canvas, &view, rect) {
                break Err(e);
            }
            presented += 1;
            if presented.is_multiple_of(1000) {
                log::info!(
                    "{presented} screens; resident memory {} MiB (peak {} MiB)",
                    crate::bench::rss_mib("VmRSS").map_or("?".into(), |m| format!("{m:.1}")),
                    crate::bench::rss_mib("VmHWM").map_or("?".into(), |m| format!("{m:.1}")),
                );
            }
        };
        done.store(true, Ordering::Relaxed);
        shared.consumed.notify_all();
        let captured = capture
            .join()
            .map_err(|_| Error::Runtime("capture thread panicked".into()))?;
        outcome?;
        captured?;
        let mut stats = shared.slot.lock().map(|g| g.1.clone()).unwrap_or_default();
        stats.presented = presented;
        Ok(stats)
    });
    result
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
                    put(shared, Slot::Lost(e.to_string()), true, done);
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
                put(shared, Slot::Lost(e.to_string()), true, done);
                std::thread::sleep(opts.reopen_every);
                continue;
            }
        };
        if let Ok(mut g) = shared.slot.lock() {
            g.1.captured += 1;
        }
        match decode(&frame) {
            Ok(picture) => {
                let fitted = pre.fit(&picture);
                put(shared, Slot::Frame { picture, fitted }, live, done);
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
    if overwrite && matches!(g.0, Slot::Lost(_)) && matches!(slot, Slot::Frame { .. }) {
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
