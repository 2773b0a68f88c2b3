//! Smoothing per dog: each frame's dogs are matched to the dogs of the frames before by box
//! overlap, and each matched dog's probabilities and box are smoothed on their own, so two
//! dogs' names neither flicker nor swap.
//!
//! Boxes come from the locator, which may run less often than the classifier (the kiosk
//! carries its last boxes over the frames in between, [`super::locating`]): an update says
//! whether its boxes are `fresh` (a new locator run) or carried. Only fresh boxes move a
//! track, count it seen or unseen, and teach it its velocity; carried boxes are the boxes
//! the tracks already took, so they only bring new probabilities.
//!
//! Matching is greedy: of all (track, dog) pairs whose boxes overlap (intersection over
//! union) by at least [`MATCH_IOU`], where a track's box is where it was last seen moved by
//! its velocity, the best pair is matched first, then the best of the rest, and so on. A
//! pair's worth is its overlap plus [`LOOKS_WEIGHT`] times how alike the two probability
//! vectors are (their common mass, 0..=1): when two dogs of the same size cross, their
//! boxes overlap each track alike, and the breed decides. A dog matched to no track starts
//! a new one; a track matched to no dog keeps its box and probabilities for up to
//! [`KEEP_UNSEEN`] locator runs (the segmenter missing a dog once does not blank its
//! label), then is dropped.

use crate::locate::{Dog, DogBox};

/// Least box overlap (intersection over union) for a dog to continue a track. Between two
/// locator runs a dog at a kiosk moves a fraction of its width (an overlap near 1 once the
/// velocity is known); two dogs side by side overlap little; 0.3 also tolerates the
/// segmenter's box jitter (median IoU 0.91 between its 33x33 and full-resolution boxes,
/// issue 22).
pub const MATCH_IOU: f32 = 0.3;

/// Weight of likeness (common probability mass) against overlap in a match: small, so it
/// only decides between overlaps within 0.1 of each other.
pub const LOOKS_WEIGHT: f32 = 0.1;

/// Locator runs a track is kept without being seen before it is dropped.
pub const KEEP_UNSEEN: u32 = 3;

/// One dog followed from frame to frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// Unique within a run, in order of first sight: the dog's colour on the screen.
    pub id: u64,
    /// Smoothed box, x0, y0, x1, y1 in frame pixels (what the screen shows).
    pub bbox: [f32; 4],
    /// The box as last seen.
    last: [f32; 4],
    /// Smoothed change of the box per locator run.
    velocity: [f32; 4],
    /// Smoothed locator score.
    pub score: f32,
    /// Smoothed class probabilities.
    pub probs: Vec<f32>,
    /// Locator runs since it was last seen (0: seen in the latest).
    pub unseen: u32,
}

impl Track {
    /// The smoothed box rounded to whole pixels, x1/y1 exclusive.
    pub fn dog_box(&self) -> DogBox {
        let [x0, y0, x1, y1] = self.bbox.map(|v| v.round().max(0.0) as u32);
        DogBox {
            x0,
            y0,
            x1,
            y1,
            score: self.score,
        }
    }

    /// Where it should be in the next locator run.
    fn predicted(&self) -> [f32; 4] {
        std::array::from_fn(|i| self.last[i] + self.velocity[i] * (self.unseen + 1) as f32)
    }
}

/// The dogs followed so far.
pub struct Tracker {
    /// Weight of the newest frame in the moving averages (1 = no smoothing).
    alpha: f32,
    /// Locator runs a track is kept unseen: [`KEEP_UNSEEN`], none without smoothing.
    keep_unseen: u32,
    tracks: Vec<Track>,
    next_id: u64,
}

fn corners(b: &DogBox) -> [f32; 4] {
    [b.x0 as f32, b.y0 as f32, b.x1 as f32, b.y1 as f32]
}

/// Intersection over union of two boxes (x0, y0, x1, y1); 0 for empty boxes.
pub fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let area = |r: &[f32; 4]| (r[2] - r[0]).max(0.0) * (r[3] - r[1]).max(0.0);
    let w = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let h = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = w * h;
    let union = area(a) + area(b) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// The probability mass two distributions share (1: the same, 0: disjoint).
fn likeness(p: &[f32], q: &[f32]) -> f32 {
    p.iter().zip(q).map(|(a, b)| a.min(*b)).sum()
}

fn ema(state: &mut [f32], new: &[f32], alpha: f32) {
    for (s, n) in state.iter_mut().zip(new) {
        *s += alpha * (n - *s);
    }
}

impl Tracker {
    /// `alpha`: the newest frame's weight; 1 (no smoothing: each frame on its own, e.g. a
    /// folder of unrelated photos) also keeps no dog that was not seen.
    pub fn new(alpha: f32) -> Tracker {
        let alpha = alpha.clamp(0.01, 1.0);
        Tracker {
            alpha,
            keep_unseen: if alpha < 1.0 { KEEP_UNSEEN } else { 0 },
            tracks: vec![],
            next_id: 0,
        }
    }

    /// Which track each dog continues (greedy by overlap and likeness).
    fn match_dogs(&self, boxes: &[[f32; 4]], dogs: &[Dog], fresh: bool) -> Vec<Option<usize>> {
        let mut pairs: Vec<(f32, usize, usize)> = vec![];
        for (t, track) in self.tracks.iter().enumerate() {
            // Carried boxes are the ones each track took when they were fresh.
            let at = if fresh { track.predicted() } else { track.last };
            for (d, b) in boxes.iter().enumerate() {
                let overlap = iou(&at, b);
                if overlap >= MATCH_IOU {
                    let worth = overlap + LOOKS_WEIGHT * likeness(&track.probs, &dogs[d].probs);
                    pairs.push((worth, t, d));
                }
            }
        }
        // Best first; equal ones by track, then dog, so the result is the same on every run.
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        let mut track_of_dog: Vec<Option<usize>> = vec![None; dogs.len()];
        let mut taken = vec![false; self.tracks.len()];
        for (_, t, d) in pairs {
            if !taken[t] && track_of_dog[d].is_none() {
                taken[t] = true;
                track_of_dog[d] = Some(t);
            }
        }
        track_of_dog
    }

    /// Takes one frame's dogs (`fresh`: boxes from a new locator run, else the last run's
    /// boxes carried) and returns the tracks to show: every track seen within the last
    /// [`KEEP_UNSEEN`] locator runs, the most confident (smoothed score) first, ties by age.
    pub fn update(&mut self, dogs: &[Dog], fresh: bool) -> &[Track] {
        let boxes: Vec<[f32; 4]> = dogs.iter().map(|d| corners(&d.bbox)).collect();
        let track_of_dog = self.match_dogs(&boxes, dogs, fresh);
        let alpha = self.alpha;
        if fresh {
            for track in &mut self.tracks {
                track.unseen += 1;
            }
        }
        for (d, dog) in dogs.iter().enumerate() {
            let Some(t) = track_of_dog[d] else {
                self.tracks.push(Track {
                    id: self.next_id,
                    bbox: boxes[d],
                    last: boxes[d],
                    velocity: [0.0; 4],
                    score: dog.bbox.score,
                    probs: dog.probs.clone(),
                    unseen: 0,
                });
                self.next_id += 1;
                continue;
            };
            let track = &mut self.tracks[t];
            if track.probs.len() != dog.probs.len() {
                track.probs = dog.probs.clone();
            }
            ema(&mut track.probs, &dog.probs, alpha);
            if fresh {
                let runs = (track.unseen) as f32;
                let step: [f32; 4] = std::array::from_fn(|i| (boxes[d][i] - track.last[i]) / runs);
                ema(&mut track.velocity, &step, alpha);
                ema(&mut track.bbox, &boxes[d], alpha);
                track.score += alpha * (dog.bbox.score - track.score);
                track.last = boxes[d];
                track.unseen = 0;
            }
        }
        let keep = self.keep_unseen;
        self.tracks.retain(|t| t.unseen <= keep);
        self.tracks
            .sort_by(|a, b| b.score.total_cmp(&a.score).then(a.id.cmp(&b.id)));
        &self.tracks
    }

    /// The tracks shown now (as the last [`Tracker::update`] returned them).
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Forgets every dog (the source was lost, or no dog is left).
    pub fn reset(&mut self) {
        self.tracks.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dog at `x` (its box 100 wide, 80 tall) whose probabilities favour class `class`.
    fn dog(x: u32, class: usize, score: f32) -> Dog {
        let mut probs = vec![0.0f32; 3];
        probs[class] = 1.0;
        Dog {
            bbox: DogBox {
                x0: x,
                y0: 100,
                x1: x + 100,
                y1: 180,
                score,
            },
            probs,
        }
    }

    fn top_class(t: &Track) -> usize {
        crate::scores::top_k(&t.probs, 1, |_| true)[0]
    }

    /// (id, top class) of each track, by id.
    fn summary(tracks: &[Track]) -> Vec<(u64, usize)> {
        let mut s: Vec<(u64, usize)> = tracks.iter().map(|t| (t.id, top_class(t))).collect();
        s.sort();
        s
    }

    #[test]
    fn iou_of_boxes() {
        let a = [0.0, 0.0, 10.0, 10.0];
        assert_eq!(iou(&a, &a), 1.0);
        assert_eq!(iou(&a, &[10.0, 0.0, 20.0, 10.0]), 0.0);
        assert!((iou(&a, &[5.0, 0.0, 15.0, 10.0]) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(iou(&[0.0; 4], &[0.0; 4]), 0.0);
    }

    #[test]
    fn two_dogs_crossing_keep_their_names() {
        // Dog A (class 0) walks right from x=0, dog B (class 1) walks left from x=400, 20 px
        // a frame; they pass each other (the same box at frame 10) and go on. The locator
        // lists them in either order.
        let mut tracker = Tracker::new(0.5);
        for f in 0..21u32 {
            let (a, b) = (dog(20 * f, 0, 0.5), dog(400 - 20 * f, 1, 0.6));
            let dogs = if f % 2 == 0 { vec![a, b] } else { vec![b, a] };
            let tracks = tracker.update(&dogs, true);
            // Track 0 started as A (on the left), track 1 as B: each keeps its name
            // throughout and follows its own dog.
            assert_eq!(summary(tracks), [(0, 0), (1, 1)], "frame {f}");
            for t in tracks {
                let want_x = if t.id == 0 { 20 * f } else { 400 - 20 * f } as f32;
                assert!((t.last[0] - want_x).abs() < 1.0, "frame {f}: {t:?}");
                // The shown box trails the dog by about one step at most.
                assert!((t.bbox[0] - want_x).abs() <= 20.0, "frame {f}: {t:?}");
            }
        }
    }

    #[test]
    fn two_dogs_of_one_breed_crossing_are_told_apart_by_their_motion() {
        let mut tracker = Tracker::new(0.5);
        for f in 0..21u32 {
            let (a, b) = (dog(20 * f, 0, 0.5), dog(400 - 20 * f, 0, 0.6));
            let dogs = if f % 2 == 0 { vec![a, b] } else { vec![b, a] };
            let tracks = tracker.update(&dogs, true);
            assert_eq!(tracks.len(), 2, "frame {f}");
            if f == 10 {
                continue; // the same box and the same breed: nothing tells them apart
            }
            for t in tracks {
                let want_x = if t.id == 0 { 20 * f } else { 400 - 20 * f } as f32;
                assert!((t.last[0] - want_x).abs() < 1.0, "frame {f}: {t:?}");
            }
        }
    }

    #[test]
    fn carried_boxes_bring_probabilities_only() {
        let mut tracker = Tracker::new(0.5);
        tracker.update(&[dog(0, 0, 0.9), dog(300, 1, 0.8)], true);
        // The next locator run misses the right dog.
        tracker.update(&[dog(10, 0, 0.9)], true);
        let (bbox, unseen) = (tracker.tracks()[0].bbox, tracker.tracks()[1].unseen);
        // Frames classified on the carried box: the left dog's name follows, its box does
        // not move, and the missing dog does not age.
        for _ in 0..10 {
            tracker.update(&[dog(10, 2, 0.9)], false);
        }
        let tracks = tracker.tracks();
        assert_eq!(summary(tracks), [(0, 2), (1, 1)]);
        assert_eq!((tracks[0].bbox, tracks[1].unseen), (bbox, unseen));
    }

    #[test]
    fn a_dog_missing_for_a_frame_keeps_its_box_and_name() {
        let mut tracker = Tracker::new(0.5);
        tracker.update(&[dog(0, 0, 0.9), dog(300, 1, 0.8)], true);
        // The right dog is missed for one frame: it stays, unchanged.
        let before = tracker.tracks()[1].clone();
        let tracks = tracker.update(&[dog(0, 0, 0.9)], true);
        assert_eq!(tracks.len(), 2);
        let kept = tracks.iter().find(|t| t.id == 1).unwrap();
        assert_eq!((kept.bbox, &kept.probs), (before.bbox, &before.probs));
        assert_eq!(kept.unseen, 1);
        // It comes back and continues the same track.
        let tracks = tracker.update(&[dog(0, 0, 0.9), dog(305, 1, 0.8)], true);
        assert_eq!(summary(tracks), [(0, 0), (1, 1)]);
        // Unseen for more than KEEP_UNSEEN frames, it is dropped.
        for _ in 0..KEEP_UNSEEN {
            assert_eq!(tracker.update(&[dog(0, 0, 0.9)], true).len(), 2);
        }
        assert_eq!(summary(tracker.update(&[dog(0, 0, 0.9)], true)), [(0, 0)]);
    }

    #[test]
    fn a_new_dog_starts_its_own_track_and_smoothing() {
        let mut tracker = Tracker::new(0.5);
        for _ in 0..5 {
            tracker.update(&[dog(0, 0, 0.9)], true);
        }
        let tracks = tracker.update(&[dog(0, 0, 0.9), dog(300, 2, 0.5)], true);
        assert_eq!(summary(tracks), [(0, 0), (1, 2)]);
        // The newcomer's probabilities are its own, not blended with the first dog's.
        let new = tracks.iter().find(|t| t.id == 1).unwrap();
        assert_eq!(new.probs, [0.0, 0.0, 1.0]);
        // The most confident first.
        assert_eq!(tracks[0].id, 0);
    }

    #[test]
    fn without_smoothing_a_dog_not_seen_is_gone() {
        let mut tracker = Tracker::new(1.0);
        tracker.update(&[dog(0, 0, 0.9), dog(300, 1, 0.8)], true);
        assert_eq!(summary(tracker.update(&[dog(300, 1, 0.8)], true)), [(1, 1)]);
        // Carried boxes age nothing.
        assert_eq!(tracker.update(&[], false).len(), 1);
        assert!(tracker.update(&[], true).is_empty());
    }

    #[test]
    fn probabilities_are_smoothed_per_dog() {
        let mut tracker = Tracker::new(0.5);
        tracker.update(&[dog(0, 0, 0.9), dog(300, 1, 0.8)], true);
        // One frame where the left dog looks like class 2: its name moves halfway, the
        // right dog's does not move at all.
        let tracks = tracker.update(&[dog(0, 2, 0.9), dog(300, 1, 0.8)], true);
        let left = tracks.iter().find(|t| t.id == 0).unwrap();
        let right = tracks.iter().find(|t| t.id == 1).unwrap();
        assert_eq!(left.probs, [0.5, 0.0, 0.5]);
        assert_eq!(right.probs, [0.0, 1.0, 0.0]);
    }
}
