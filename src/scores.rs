//! From class probabilities to what the kiosk says: top-k dog breeds, and "no dog" when the
//! most likely class over all classes is not a dog.

use serde::Serialize;

use crate::model::labels::Labels;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Prediction {
    pub index: usize,
    pub name: String,
    pub wnid: Option<String>,
    pub probability: f32,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verdict {
    /// Whether the most likely class over all classes is a dog breed.
    pub is_dog: bool,
    /// The most likely class over all classes (what it saw when it is not a dog).
    pub best: Prediction,
    /// The k most likely dog breeds, only those above 0.
    pub breeds: Vec<Prediction>,
}

/// Indices of the `k` highest scores among those `keep` accepts. Equal scores rank by class
/// index, so results are deterministic; [`ranked`] is this for probabilities.
pub fn top_k(scores: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).filter(|&i| keep(i)).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

/// [`top_k`] of probabilities: only those above 0 rank. A quantized output has many classes
/// at exactly 0, and listing some of them (by class index, the only order left among equals)
/// would name breeds the model did not see at all.
pub fn ranked(probs: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<usize> {
    top_k(probs, k, |i| probs[i] > 0.0 && keep(i))
}

/// The index of the highest score (the first of equals; 0 when there are none, NaN ranks
/// last).
pub fn best(scores: &[f32]) -> usize {
    let mut best = 0;
    for (i, &s) in scores.iter().enumerate() {
        if !s.is_nan() && (scores[best].is_nan() || s > scores[best]) {
            best = i;
        }
    }
    best
}

fn prediction(labels: &Labels, probs: &[f32], i: usize) -> Prediction {
    let l = &labels.entries[i];
    Prediction {
        index: i,
        name: l.name.clone(),
        wnid: l.wnid.clone(),
        probability: probs[i],
    }
}

pub fn verdict(labels: &Labels, probs: &[f32], k: usize) -> Verdict {
    let best = best(probs);
    let breeds = ranked(probs, k, |i| labels.entries[i].is_dog)
        .into_iter()
        .map(|i| prediction(labels, probs, i))
        .collect();
    Verdict {
        is_dog: labels.entries[best].is_dog,
        best: prediction(labels, probs, best),
        breeds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_break_by_class_index() {
        let s = [0.0, 0.5, 0.0, 0.5, 0.0];
        assert_eq!(top_k(&s, 3, |_| true), vec![1, 3, 0]);
        assert_eq!(top_k(&s, 2, |i| i % 2 == 0), vec![0, 2]);
    }

    #[test]
    fn only_probabilities_above_zero_rank_and_by_probability() {
        let s = [0.0, 0.5, 0.0, 0.5, 0.0, 0.7];
        assert_eq!(ranked(&s, 4, |_| true), vec![5, 1, 3]);
        assert_eq!(ranked(&s, 2, |i| i % 2 == 0), Vec::<usize>::new());
        assert_eq!(best(&s), 5);
        assert_eq!(best(&[0.0; 4]), 0);
        assert_eq!(best(&[]), 0);
        assert_eq!(best(&[f32::NAN, 0.1, f32::NAN]), 1);
    }

    #[test]
    fn no_dog_lists_no_breed_the_model_gave_nothing() {
        // A quantized "no dog": the cat and one breed above 0, every other class at 0.
        let labels = Labels::imagenet();
        let mut p = vec![0.0f32; 1000];
        p[281] = 0.9; // tabby cat
        p[207] = 0.004; // golden retriever
        let v = verdict(&labels, &p, 3);
        assert!(!v.is_dog);
        let names: Vec<&str> = v.breeds.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["golden retriever"]);
        p[207] = 0.0;
        assert!(verdict(&labels, &p, 3).breeds.is_empty());
    }

    #[test]
    fn a_cat_is_no_dog_but_still_ranks_breeds() {
        let labels = Labels::imagenet();
        let mut p = vec![0.0f32; 1000];
        p[281] = 0.7; // tabby cat
        p[151] = 0.2;
        let v = verdict(&labels, &p, 3);
        assert!(!v.is_dog);
        assert_eq!(v.best.name, "tabby");
        assert_eq!(v.breeds[0].name, "Chihuahua");
        // The other breeds are at 0: not listed.
        assert_eq!(v.breeds.len(), 1);
    }

    #[test]
    fn dingo_dhole_and_african_hunting_dog_are_dogs_wolves_and_foxes_are_not() {
        // 1000 classes (ImageNet order) and 1001 with background first (Coral / TF-slim):
        // the same ImageNet class sits one index later in the second.
        for (classes, off) in [(1000, 0), (1001, 1)] {
            let labels = Labels::builtin_for(classes).unwrap();
            let mut p = vec![0.0f32; classes];
            p[273 + off] = 0.5; // dingo
            p[274 + off] = 0.2; // dhole
            p[275 + off] = 0.1; // African hunting dog
            p[269 + off] = 0.15; // timber wolf
            p[151 + off] = 0.05; // Chihuahua
            let v = verdict(&labels, &p, 4);
            assert!(v.is_dog, "{classes}: {v:?}");
            assert_eq!(v.best.name, "dingo");
            assert_eq!(v.best.wnid.as_deref(), Some("n02115641"));
            let names: Vec<&str> = v.breeds.iter().map(|b| b.name.as_str()).collect();
            assert_eq!(
                names,
                ["dingo", "dhole", "African hunting dog", "Chihuahua"]
            );
            assert_eq!(v.breeds[2].index, 275 + off);

            // A wolf, a coyote or a fox in front of the kiosk is no dog; the breeds below
            // it are still ranked, the three wild dogs among them.
            for wild in [269, 272, 277] {
                let mut q = p.clone();
                q[wild + off] = 0.9;
                let v = verdict(&labels, &q, 1);
                assert!(!v.is_dog, "{classes}: {}", v.best.name);
                assert_eq!(v.best.index, wild + off);
                assert_eq!(v.breeds[0].name, "dingo");
            }
        }
    }
}
