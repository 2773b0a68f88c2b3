//! The presenter, on the main thread: takes the workers' results, puts them back in capture
//! order, smooths the probabilities (per dog when dogs were located, [`super::tracker`]),
//! draws the overlay and presents each screen, and keeps the figures the run reports
//! (screens per second, capture-to-screen latency).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::slot::Newest;
use super::tracker::Tracker;
use super::workers::{Done, InFlight, Screen};
use super::Stats;
use crate::display::Display;
use crate::locate::Dog;
use crate::model::labels::Labels;
use crate::overlay::{draw, picture_rect, Canvas, DogLabel, View};
use crate::scores::verdict;
use crate::stats::{peak_rss_mib, percentile, resident_mib, sorted};
use crate::Error;

/// Capture-to-screen latencies kept for the report (the most recent ones).
const LATENCY_WINDOW: usize = 4096;

/// How often resident memory is logged, in screens.
const MEMORY_LOG_EVERY: u64 = 1000;

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

pub(super) struct Presenter<'a> {
    labels: &'a Labels,
    display: &'a mut dyn Display,
    canvas: Canvas,
    smoother: Smoother,
    /// The dogs followed from frame to frame, and the locator run their boxes are from.
    tracker: Tracker,
    located: u64,
    /// Results received but not yet presented, by capture number.
    waiting: BTreeMap<u64, Screen>,
    /// Stop after this many screens.
    limit: Option<u64>,
    presented: u64,
    first_screen: Option<Instant>,
    last_screen: Instant,
    latencies_ms: VecDeque<f64>,
    /// systemd's READY=1 after the first screen, WATCHDOG=1 pings after each one.
    watchdog: crate::notify::Watchdog,
}

impl<'a> Presenter<'a> {
    pub fn new(
        labels: &'a Labels,
        display: &'a mut dyn Display,
        smoothing: f32,
        limit: Option<u64>,
    ) -> Presenter<'a> {
        let (w, h) = display.size();
        Presenter {
            labels,
            display,
            canvas: Canvas::new(w, h),
            smoother: Smoother::new(smoothing),
            tracker: Tracker::new(smoothing),
            located: 0,
            waiting: BTreeMap::new(),
            limit,
            presented: 0,
            first_screen: None,
            last_screen: Instant::now(),
            latencies_ms: VecDeque::with_capacity(LATENCY_WINDOW),
            watchdog: crate::notify::Watchdog::from_env(),
        }
    }

    fn reached_limit(&self) -> bool {
        self.limit.is_some_and(|n| self.presented >= n)
    }

    /// Presents results until `stop` is set, the limit is reached or every worker ended.
    pub fn run(
        &mut self,
        rx: &Receiver<Done>,
        in_flight: &InFlight,
        newest: &Newest,
        stop: &AtomicBool,
    ) -> Result<(), Error> {
        while !stop.load(Ordering::Relaxed) && !self.reached_limit() {
            let ended = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(done) => {
                    self.receive(done)?;
                    false
                }
                Err(RecvTimeoutError::Timeout) => false,
                // Every worker ended (the source ended or failed).
                Err(RecvTimeoutError::Disconnected) => true,
            };
            let mut received = Ok(());
            let floor = in_flight
                .oldest_after(|| {
                    while received.is_ok() {
                        let Ok(done) = rx.try_recv() else { break };
                        received = self.receive(done);
                    }
                })
                .ok_or_else(|| Error::Runtime("a worker panicked".into()))?;
            received?;
            if ended && self.waiting.is_empty() {
                return Ok(());
            }
            self.present_up_to(floor, newest)?;
        }
        Ok(())
    }

    /// Keeps a result for its turn; a failed inference ends the run.
    fn receive(&mut self, done: Done) -> Result<(), Error> {
        let (seq, screen) = done?;
        self.waiting.insert(seq, screen);
        Ok(())
    }

    /// Presents the waiting results in capture order, up to the oldest frame still in flight.
    fn present_up_to(&mut self, floor: Option<u64>, newest: &Newest) -> Result<(), Error> {
        while !self.reached_limit() {
            let Some(entry) = self.waiting.first_entry() else {
                break;
            };
            if floor.is_some_and(|f| f < *entry.key()) {
                break;
            }
            let screen = entry.remove();
            self.present(screen, newest)?;
        }
        Ok(())
    }

    fn present(&mut self, screen: Screen, newest: &Newest) -> Result<(), Error> {
        let fps = 1.0 / self.last_screen.elapsed().as_secs_f64().max(1e-6);
        let (picture, view, captured_at) = match screen {
            Screen::Lost(why) => {
                self.smoother.reset();
                self.tracker.reset();
                newest.count(|c| c.lost_screens += 1);
                (None, lost_view(&why), None)
            }
            Screen::Picture {
                captured_at,
                picture,
                probs,
                dogs,
                located,
                inference_ms,
                fresh,
            } => {
                if fresh {
                    self.smoother.reset();
                    self.tracker.reset();
                }
                let view = match self.dogs_view(&dogs, located, inference_ms, fps) {
                    Some(view) => view,
                    None => {
                        let smooth = self.smoother.update(&probs);
                        View::from_verdict(&verdict(self.labels, smooth, 3), inference_ms, fps)
                    }
                };
                (Some(picture), view, Some(captured_at))
            }
        };
        self.show(picture.as_ref(), &view)?;
        self.last_screen = Instant::now();
        self.first_screen.get_or_insert(self.last_screen);
        self.watchdog.screen_presented();
        if let Some(t) = captured_at {
            self.record_latency((self.last_screen - t).as_secs_f64() * 1e3);
        }
        self.presented += 1;
        if self.presented.is_multiple_of(MEMORY_LOG_EVERY) {
            log_memory(self.presented);
        }
        Ok(())
    }

    /// The screen for a frame's dogs, smoothed per dog: `None` when no dog is followed (none
    /// located now nor recently), and the centre crop's probabilities are shown instead. Dogs
    /// the classifier does not call a dog get no box; if none is left, "No dog in view".
    fn dogs_view(
        &mut self,
        dogs: &[Dog],
        located: u64,
        inference_ms: f64,
        fps: f64,
    ) -> Option<View> {
        if dogs.is_empty() && self.tracker.tracks().is_empty() {
            return None;
        }
        let fresh = located != self.located;
        self.located = located;
        let tracks = self.tracker.update(dogs, fresh);
        if tracks.is_empty() {
            return None;
        }
        // Back on the centre crop later, its smoothing starts afresh.
        self.smoother.reset();
        let judged: Vec<_> = tracks
            .iter()
            .map(|t| (t, verdict(self.labels, &t.probs, 3)))
            .collect();
        let mut shown = judged
            .iter()
            .filter(|(_, v)| v.is_dog && !v.breeds.is_empty());
        let Some((_, headline)) = shown.clone().next() else {
            return Some(View::from_verdict(&judged[0].1, inference_ms, fps));
        };
        let mut view = View::from_verdict(headline, inference_ms, fps);
        view.dogs = shown
            .by_ref()
            .take(4)
            .map(|(t, v)| {
                let b = t.dog_box();
                DogLabel {
                    bbox: (b.x0, b.y0, b.x1, b.y1),
                    name: v.breeds[0].name.clone(),
                    probability: v.breeds[0].probability,
                    id: t.id,
                }
            })
            .collect();
        Some(view)
    }

    /// Draws the overlay over the picture (if any) and presents it with its view.
    fn show(&mut self, picture: Option<&RgbImage>, view: &View) -> Result<(), Error> {
        let _ = draw(&mut self.canvas, picture, view);
        let screen = self.display.size();
        let rect = picture.map(|p| picture_rect(p.dimensions(), screen));
        self.display.present_view(&self.canvas, view, rect)
    }

    fn record_latency(&mut self, ms: f64) {
        if self.latencies_ms.len() == LATENCY_WINDOW {
            self.latencies_ms.pop_front();
        }
        self.latencies_ms.push_back(ms);
    }

    /// Writes the presenter's figures into the run's stats.
    pub fn report(self, stats: &mut Stats) {
        stats.presented = self.presented;
        if let Some(first) = self.first_screen.filter(|_| self.presented > 1) {
            let secs = (self.last_screen - first).as_secs_f64();
            stats.screens_per_second = (self.presented - 1) as f64 / secs.max(1e-9);
        }
        let l = sorted(self.latencies_ms);
        stats.latency_p50_ms = percentile(&l, 0.5);
        stats.latency_p90_ms = percentile(&l, 0.9);
    }
}

/// The screen while the source is lost.
fn lost_view(why: &str) -> View {
    View {
        breeds: vec![],
        headline: Some(format!("camera lost: {why}")),
        ..View::default()
    }
}

fn log_memory(presented: u64) {
    let mib = |m: Option<f64>| m.map_or("?".into(), |m| format!("{m:.1}"));
    log::info!(
        "{presented} screens; resident memory {} MiB (peak {} MiB)",
        mib(resident_mib()),
        mib(peak_rss_mib()),
    );
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
