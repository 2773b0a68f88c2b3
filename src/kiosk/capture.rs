//! The capture thread: reads the source, decodes each frame and fits it to the model's
//! input, and puts it in the newest-frame slot, numbered. A source that fails is reported
//! as lost and reopened every `reopen_every` until it is back. A slideshow (a folder) waits
//! its dwell time between pictures; frames that do not decode never make it spin: a folder
//! with none that decodes is an error after one pass, a camera sending only garbage is shown
//! as such and read at most [`BAD_FRAME_PAUSE`] apart.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::locating::Locating;
use super::slot::{Newest, Numbered, Slot};
use crate::camera::{decode, Frame, FrameSource};
use crate::preprocess::Preprocessor;
use crate::Error;

/// The pause after a frame that did not decode when the one before did not either: a source
/// that hands out garbage at once (a broken camera) is not read in a busy loop.
pub const BAD_FRAME_PAUSE: Duration = Duration::from_millis(10);

/// How often `quit()` is looked at while waiting out a dwell time.
const DWELL_POLL: Duration = Duration::from_millis(100);

/// Frames in a row that did not decode, since the last that did.
#[derive(Default)]
struct BadRun {
    count: u64,
    since: Option<Instant>,
    /// Why the last one did not decode.
    why: String,
    /// Whether the screen already says so.
    shown: bool,
}

/// Opens (and later reopens) the frame source.
pub type Open<'a> = dyn FnMut() -> Result<Box<dyn FrameSource>, Error> + Send + 'a;

pub(super) struct Capture<'a, 'o> {
    pub open: &'a mut Open<'o>,
    pub pre: &'a Preprocessor,
    pub newest: &'a Newest,
    /// The locator thread, handed a copy of a live frame whenever it waits for one.
    pub locating: Option<&'a Locating>,
    pub reopen_every: Duration,
    /// Set when the run ends (stopped, enough screens, or failed).
    pub done: &'a AtomicBool,
}

impl Capture<'_, '_> {
    /// Captures until `quit()`. Only a source that cannot open at the very start is an
    /// error (the user's); later failures become "source lost" slots.
    pub fn run(&mut self, quit: impl Fn() -> bool) -> Result<(), Error> {
        let mut source: Option<Box<dyn FrameSource>> = None;
        let mut first_open = true;
        let mut seq = 0u64;
        let mut bad = BadRun::default();
        // When a slideshow's next picture is due.
        let mut due: Option<Instant> = None;
        while !quit() {
            let src = match source.as_mut() {
                Some(s) => s,
                None => match (self.open)() {
                    Ok(s) => {
                        if !first_open {
                            log::info!("frame source back: {}", s.describe());
                        }
                        first_open = false;
                        source.insert(s)
                    }
                    Err(e) if first_open => return Err(e),
                    Err(e) => {
                        self.lost(&mut seq, e);
                        continue;
                    }
                },
            };
            if let Some(at) = due {
                let now = Instant::now();
                if now < at {
                    std::thread::sleep((at - now).min(DWELL_POLL));
                    continue;
                }
            }
            let live = src.is_live();
            match self.next_frame(src.as_mut()) {
                Ok(frame) => match self.decode_and_put(&frame, &mut seq, live) {
                    Ok(()) => {
                        bad = BadRun::default();
                        let dwell = src.dwell();
                        due = (!dwell.is_zero()).then(|| Instant::now() + dwell);
                    }
                    Err(why) => {
                        if bad.count > 0 {
                            std::thread::sleep(BAD_FRAME_PAUSE);
                        }
                        bad.count += 1;
                        bad.why = why;
                        let since = *bad.since.get_or_insert_with(Instant::now);
                        if let Some(e) = src.unusable(bad.count, &bad.why) {
                            return Err(e);
                        }
                        // A live source that sent nothing usable for a while: say so on
                        // screen (once per run of bad frames) instead of a frozen picture.
                        if live && !bad.shown && since.elapsed() >= self.reopen_every {
                            bad.shown = true;
                            let why = format!(
                                "{}: {} frames in a row did not decode: {}",
                                src.describe(),
                                bad.count,
                                bad.why
                            );
                            log::warn!("{why}");
                            self.put(&mut seq, Slot::Lost(why), true);
                        }
                    }
                },
                Err(e) => {
                    log::warn!(
                        "frame source failed: {}; reopening every {:?}",
                        crate::error::Report(&e),
                        self.reopen_every
                    );
                    source = None;
                    self.newest.count(|c| c.reopened += 1);
                    self.lost(&mut seq, e);
                }
            }
        }
        Ok(())
    }

    /// The source's next frame, with what the driver skipped before it counted.
    fn next_frame(&self, src: &mut dyn FrameSource) -> Result<Frame, Error> {
        let next = src.next_frame();
        let (errors, missed) = src.take_skipped();
        if errors + missed > 0 {
            self.newest.count(|c| {
                c.driver_errors += errors;
                c.missed += missed;
            });
            log::debug!("driver: {errors} buffers flagged as errors, {missed} frames missed");
        }
        next
    }

    /// Decodes and fits a frame and puts it in the slot; a frame that does not decode is
    /// counted and skipped, and why is returned. A picture from a source that is not live (a
    /// folder's next photo) starts the smoothing over.
    fn decode_and_put(&self, frame: &Frame, seq: &mut u64, live: bool) -> Result<(), String> {
        let captured_at = Instant::now();
        self.newest.count(|c| c.captured += 1);
        match decode(frame) {
            Ok(picture) => {
                if let Some(l) = self.locating.filter(|l| live && l.wants_picture()) {
                    l.offer(picture.clone());
                }
                let fitted = self.pre.fit(&picture);
                let slot = Slot::Frame {
                    captured_at,
                    picture,
                    fitted,
                    live,
                    fresh: !live,
                };
                self.put(seq, slot, live);
                Ok(())
            }
            Err(e) => {
                log::debug!("skipping a bad frame: {e}");
                self.newest.count(|c| c.bad_frames += 1);
                Err(e.to_string())
            }
        }
    }

    /// Shows the source as lost, then waits before it is reopened.
    fn lost(&self, seq: &mut u64, why: Error) {
        let why = crate::error::Report(&why).to_string();
        self.put(seq, Slot::Lost(why), true);
        std::thread::sleep(self.reopen_every);
    }

    fn put(&self, seq: &mut u64, slot: Slot, overwrite: bool) {
        *seq += 1;
        let item = Numbered { seq: *seq, slot };
        self.newest.put(item, overwrite, self.done);
    }
}
