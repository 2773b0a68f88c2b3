//! The capture thread: reads the source, decodes each frame and fits it to the model's
//! input, and puts it in the newest-frame slot, numbered. A source that fails is reported
//! as lost and reopened every `reopen_every` until it is back.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use super::locating::Locating;
use super::slot::{Newest, Numbered, Slot};
use crate::camera::{decode, Frame, FrameSource};
use crate::preprocess::Preprocessor;
use crate::Error;

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
            let live = src.is_live();
            match self.next_frame(src.as_mut()) {
                Ok(frame) => self.decode_and_put(&frame, &mut seq, live),
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
    /// counted and skipped.
    fn decode_and_put(&self, frame: &Frame, seq: &mut u64, live: bool) {
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
                };
                self.put(seq, slot, live);
            }
            Err(e) => {
                log::debug!("skipping a bad frame: {e}");
                self.newest.count(|c| c.bad_frames += 1);
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
