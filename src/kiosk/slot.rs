//! The newest-frame slot between the capture thread and the workers, with the run's
//! counters beside it under the same lock.
//!
//! The slot holds at most one numbered frame (or "source lost"). A live source overwrites a
//! frame no worker took yet (counted as dropped), so a worker always starts on the newest
//! picture; a source that waits (files) blocks until its frame is taken, so none is skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use image::RgbImage;

use super::Stats;

/// How long a waiting thread sleeps before it looks at the stop flags again.
const POLL: Duration = Duration::from_millis(100);

/// What the capture thread hands a worker.
pub(super) enum Slot {
    Frame {
        captured_at: Instant,
        /// The decoded picture, for the screen.
        picture: RgbImage,
        /// Cropped and resized to the model's input, for inference.
        fitted: RgbImage,
        /// From a live source (which does not wait for its frames to be taken).
        live: bool,
        /// A picture of its own (a folder's next photo): smoothing starts over at it.
        fresh: bool,
    },
    /// The source failed or could not be reopened, and why.
    Lost(String),
}

/// A slot with its capture number: screens are presented in this order.
pub(super) struct Numbered {
    pub seq: u64,
    pub slot: Slot,
}

struct State {
    newest: Option<Numbered>,
    counts: Stats,
}

pub(super) struct Newest {
    state: Mutex<State>,
    /// Signalled when a slot is put.
    ready: Condvar,
    /// Signalled when a slot is taken.
    consumed: Condvar,
}

impl Newest {
    pub fn new() -> Newest {
        Newest {
            state: Mutex::new(State {
                newest: None,
                counts: Stats::default(),
            }),
            ready: Condvar::new(),
            consumed: Condvar::new(),
        }
    }

    fn lock(&self) -> Option<MutexGuard<'_, State>> {
        self.state.lock().ok()
    }

    /// Updates the run's counters (nothing if a thread panicked holding the lock).
    pub fn count(&self, update: impl FnOnce(&mut Stats)) {
        if let Some(mut s) = self.lock() {
            update(&mut s.counts);
        }
    }

    /// The counters so far.
    pub fn counts(&self) -> Stats {
        self.lock().map(|s| s.counts.clone()).unwrap_or_default()
    }

    /// Puts a slot for the workers. With `overwrite` (live sources) a frame not yet taken is
    /// replaced and counted as dropped; without, this waits until it is taken. A "source
    /// lost" not yet taken is never overwritten by a frame: the screen shows it once (a live
    /// source's frame is dropped instead, a file waits). Nothing is put once `done` is set.
    pub fn put(&self, item: Numbered, overwrite: bool, done: &AtomicBool) {
        let Some(mut s) = self.lock() else {
            return;
        };
        let is_frame = matches!(item.slot, Slot::Frame { .. });
        let holds_lost = matches!(&s.newest, Some(n) if matches!(n.slot, Slot::Lost(_)));
        if overwrite && holds_lost && is_frame {
            s.counts.dropped += 1;
            return;
        }
        if !overwrite {
            while s.newest.is_some() && !done.load(Ordering::Relaxed) {
                match self.consumed.wait_timeout(s, POLL) {
                    Ok((guard, _)) => s = guard,
                    Err(_) => return,
                }
            }
        }
        if done.load(Ordering::Relaxed) {
            return; // shutting down: nobody will take it
        }
        if matches!(&s.newest, Some(n) if matches!(n.slot, Slot::Frame { .. })) {
            s.counts.dropped += 1;
        }
        s.newest = Some(item);
        self.ready.notify_all();
    }

    /// Waits for a slot and takes it; `on_take` sees its number while the lock is still held.
    /// `None` once `quit()` says so and the slot is empty, or if a thread panicked.
    pub fn take(&self, quit: impl Fn() -> bool, on_take: impl FnOnce(u64)) -> Option<Numbered> {
        let mut s = self.lock()?;
        loop {
            if let Some(item) = s.newest.take() {
                on_take(item.seq);
                self.consumed.notify_all();
                return Some(item);
            }
            if quit() {
                return None;
            }
            s = self.ready.wait_timeout(s, POLL).ok()?.0;
        }
    }

    /// Wakes every waiting thread so it sees a flag that changed.
    pub fn wake_all(&self) {
        self.ready.notify_all();
        self.consumed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> Numbered {
        let slot = Slot::Frame {
            captured_at: Instant::now(),
            picture: RgbImage::new(1, 1),
            fitted: RgbImage::new(1, 1),
            live: true,
            fresh: false,
        };
        Numbered { seq, slot }
    }

    fn lost(seq: u64) -> Numbered {
        let slot = Slot::Lost("gone".into());
        Numbered { seq, slot }
    }

    /// What a worker would take now, without waiting.
    fn take_now(slot: &Newest) -> Option<(u64, bool)> {
        let n = slot.take(|| true, |_| {})?;
        Some((n.seq, matches!(n.slot, Slot::Lost(_))))
    }

    #[test]
    fn a_live_frame_replaces_an_untaken_one_but_never_a_lost_screen() {
        let (slot, done) = (Newest::new(), AtomicBool::new(false));
        slot.put(frame(1), true, &done);
        slot.put(frame(2), true, &done);
        assert_eq!(slot.counts().dropped, 1);
        let mut registered = vec![];
        let taken = slot.take(|| true, |seq| registered.push(seq)).unwrap();
        assert_eq!((taken.seq, registered), (2, vec![2]));
        assert_eq!(take_now(&slot), None);
        slot.put(lost(3), true, &done);
        slot.put(frame(4), true, &done);
        assert_eq!(slot.counts().dropped, 2);
        assert_eq!(take_now(&slot), Some((3, true)));
        // Once the run is over nothing more is put.
        done.store(true, Ordering::Relaxed);
        slot.put(frame(5), true, &done);
        assert_eq!(take_now(&slot), None);
    }

    #[test]
    fn a_waiting_source_loses_no_frame() {
        let (slot, done) = (Newest::new(), AtomicBool::new(false));
        std::thread::scope(|s| {
            s.spawn(|| (1..=3).for_each(|seq| slot.put(frame(seq), false, &done)));
            // Waits for each frame, for a few seconds at most.
            let deadline = Instant::now() + Duration::from_secs(5);
            let seqs: Vec<Option<u64>> = (0..3)
                .map(|_| {
                    slot.take(|| Instant::now() > deadline, |_| {})
                        .map(|n| n.seq)
                })
                .collect();
            assert_eq!(seqs, [Some(1), Some(2), Some(3)]);
        });
        assert_eq!(slot.counts().dropped, 0);
    }
}
