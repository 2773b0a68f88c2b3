//! Accuracy on labelled photos: top-1/3/5 over the dog breeds and over all classes, per
//! breed, the most frequent confusions, and the agreement between two models.
//!
//! A photo's label is a WordNet id, read from its folder (Stanford Dogs layout,
//! `n02085620-Chihuahua/x.jpg`) or its file name (ImageNet style, `n02085620_123.JPEG`), or
//! the set of acceptable ids a ground-truth file gives it ([`truth`]). A photo is
//! right at top-k when any acceptable class is among the model's k best.

pub mod labelling;
pub mod text;
pub mod truth;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::Serialize;

use crate::locate::{choose, fitted, Dog, DogBox, Locate};
use crate::model::{Classifier, Tta};
use crate::preprocess::{load_image, Crop};
use crate::scores::{best, ranked};
use crate::Error;

/// A photo and the WordNet id it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Labelled {
    pub path: PathBuf,
    /// The id it shows; with a ground-truth file, the first acceptable one (the per-breed
    /// table and the confusions count the photo under it).
    pub wnid: String,
    /// Further acceptable ids (a ground-truth file can give several).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

impl Labelled {
    /// Every acceptable id, `wnid` first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.wnid.as_str()).chain(self.also.iter().map(String::as_str))
    }
}

/// The photos of a folder, labelled and not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Photos {
    pub labelled: Vec<Labelled>,
    /// Image files with no label (no id in their folder or name, or no entry in the
    /// ground-truth file).
    pub unlabelled: Vec<PathBuf>,
    /// Photos whose ground-truth entry is an empty list: no valid label, left out.
    pub no_valid_label: Vec<PathBuf>,
}

fn wnid_prefix(name: &str) -> Option<&str> {
    let id = name.get(..9)?;
    let ok = id.starts_with('n') && id[1..].bytes().all(|b| b.is_ascii_digit());
    let sep = name.as_bytes().get(9).copied();
    (ok && matches!(sep, None | Some(b'-' | b'_' | b'.'))).then_some(id)
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp"];

/// Every image file under `dir` (JPEG, PNG, BMP by extension), sorted. A symlinked folder
/// is walked once (by its canonical path), so a link loop ends; a file reached by several
/// paths (links) is listed once, under the first of them in sorted order.
pub fn images(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let canonical = |p: &Path| std::fs::canonicalize(p).map_err(|e| Error::io(p, e));
    let mut found = vec![];
    let mut seen_dirs = std::collections::HashSet::from([canonical(dir)?]);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| Error::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&d, e))?;
            let path = entry.path();
            if path.is_dir() {
                if seen_dirs.insert(canonical(&path)?) {
                    stack.push(path);
                }
                continue;
            }
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if IMAGE_EXTENSIONS.contains(&ext.as_str()) {
                found.push(path);
            }
        }
    }
    found.sort();
    let mut seen_files = std::collections::HashSet::new();
    // A dangling link stays (it is reported as unreadable, like any file that cannot be read).
    found.retain(|p| seen_files.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    Ok(found)
}

/// The WordNet id a photo's name gives it: its file name's, else its nearest folder's
/// below `dir`.
fn id_from_names(dir: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(dir).unwrap_or(path);
    rel.components()
        .rev()
        .find_map(|c| wnid_prefix(&c.as_os_str().to_string_lossy()).map(String::from))
}

/// The photos under `dir` labelled by their folder or file names (sorted by path), and the
/// image files it found no label for.
pub fn collect(dir: &Path) -> Result<Photos, Error> {
    let mut photos = Photos::default();
    for path in images(dir)? {
        match id_from_names(dir, &path) {
            Some(wnid) => photos.labelled.push(Labelled {
                path,
                wnid,
                also: vec![],
            }),
            None => photos.unlabelled.push(path),
        }
    }
    Ok(photos)
}

/// One model's answer for one photo.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    pub path: PathBuf,
    pub wnid: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// Rank (0-based) of the best-ranked acceptable class among the dog classes / among all
    /// classes; `None` beyond the top 5.
    pub rank_dogs: Option<usize>,
    pub rank_all: Option<usize>,
    /// The best dog breed's WordNet id (or name when the labels have no ids).
    pub predicted: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TopK {
    pub top1: usize,
    pub top3: usize,
    pub top5: usize,
    pub n: usize,
}

impl TopK {
    fn add(&mut self, rank: Option<usize>) {
        self.n += 1;
        self.top1 += rank.is_some_and(|r| r < 1) as usize;
        self.top3 += rank.is_some_and(|r| r < 3) as usize;
        self.top5 += rank.is_some_and(|r| r < 5) as usize;
    }
    pub fn pct(&self, hits: usize) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            100.0 * hits as f64 / self.n as f64
        }
    }
    pub fn line(&self) -> String {
        format!(
            "top-1 {:.1}% top-3 {:.1}% top-5 {:.1}% (n={})",
            self.pct(self.top1),
            self.pct(self.top3),
            self.pct(self.top5),
            self.n
        )
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct BreedResult {
    pub name: String,
    pub n: usize,
    pub top1: usize,
}

/// The result of evaluating one model on a folder.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub model: PathBuf,
    pub dogs: TopK,
    pub all: TopK,
    /// Per WordNet id.
    pub breeds: BTreeMap<String, BreedResult>,
    /// (true id, predicted id) -> count, for wrong top-1 answers.
    pub confusions: Vec<(String, String, usize)>,
    /// Photos whose id the model does not know (not counted in n).
    pub unknown_ids: Vec<Labelled>,
    /// Photos that could not be read, with the reason.
    pub unreadable: Vec<(PathBuf, String)>,
    pub answers: Vec<Answer>,
    /// How dogs were found (absent with `--locate off`): the headline dog is scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locate: Option<Located>,
}

/// What the locator did over an evaluation.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Located {
    /// `--locate`'s value (`seg`, a file).
    pub locator: String,
    /// Photos whose headline is a dog it found (the others: the centre crop, as no dog was
    /// found or the classifier was surer of the centre crop).
    pub photos_with_dog: usize,
}

/// A locator for [`evaluate`], with the name reports give it.
pub struct Locator<'a> {
    pub name: String,
    pub locate: &'a dyn Locate,
}

/// Runs `model` over `photos`; decoding, locating and resizing run on other threads beside
/// inference. With a locator, the headline dog (the first it finds; the centre crop when
/// it finds none) is what is scored. `progress` is called after each photo. With
/// [`Tta::Flip`] each photo is also run mirrored.
pub fn evaluate(
    model: &Classifier,
    crop: Crop,
    tta: Tta,
    locator: Option<&Locator>,
    photos: &[Labelled],
    progress: &dyn Fn(),
) -> Result<Report, Error> {
    let labels = model.labels_or("eval needs labels with WordNet ids")?;
    let pre = model.preprocessor(crop)?;
    let mut report = Report {
        model: model.path.clone(),
        locate: locator.map(|l| Located {
            locator: l.name.clone(),
            photos_with_dog: 0,
        }),
        ..Report::default()
    };
    let locate = locator.map(|l| l.locate);
    // Each photo's acceptable classes in this model's output order (a 1001-class model
    // puts every ImageNet class one index later); a photo none of whose ids the model
    // knows is left out.
    let known: Vec<(usize, &Labelled, Vec<usize>)> = photos
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let classes: Vec<usize> = p.ids().filter_map(|w| labels.index_of_wnid(w)).collect();
            if classes.is_empty() {
                report.unknown_ids.push(p.clone());
                None
            } else {
                Some((i, p, classes))
            }
        })
        .collect();
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4);
    let mut confusions: BTreeMap<(String, String), usize> = BTreeMap::new();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| -> Result<(), Error> {
        // Per photo: the input tensors of the fallback (the centre crop) and of the
        // headline dog if one was found, with the dog's box.
        type Prepared = Result<Vec<(DogBox, tract_core::prelude::Tensor)>, Error>;
        let (tx, rx) = mpsc::sync_channel::<(usize, Prepared)>(2 * workers);
        for _ in 0..workers {
            let (tx, next, known, pre) = (tx.clone(), &next, &known, &pre);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some((_, photo, _)) = known.get(i) else {
                    break;
                };
                let t = load_image(&photo.path).and_then(|img| {
                    let boxes = match locate {
                        Some(l) => l.locate(&img)?,
                        None => vec![],
                    };
                    fitted(pre, &img, &boxes[..boxes.len().min(1)])
                        .into_iter()
                        .map(|(b, picture)| Ok((b, pre.tensor(&picture)?)))
                        .collect()
                });
                if tx.send((i, t)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut answers: Vec<Option<Answer>> = vec![None; known.len()];
        for (i, tensors) in rx {
            let (_, photo, classes) = &known[i];
            progress();
            let tensors = match tensors {
                Ok(t) => t,
                Err(e) => {
                    report
                        .unreadable
                        .push((photo.path.clone(), crate::error::Report(&e).to_string()));
                    continue;
                }
            };
            let dogs = tensors
                .into_iter()
                .map(|(bbox, t)| {
                    Ok(Dog {
                        bbox,
                        probs: model.run_tta(t, tta)?,
                    })
                })
                .collect::<Result<Vec<Dog>, Error>>()?;
            let headline = choose(Some(labels), dogs).swap_remove(0);
            if let Some(l) = report.locate.as_mut() {
                l.photos_with_dog += headline.found() as usize;
            }
            let probs = headline.probs;
            let dogs = ranked(&probs, 5, |c| labels.entries[c].is_dog);
            let all = ranked(&probs, 5, |_| true);
            let best = dogs.first().copied().unwrap_or_else(|| best(&probs));
            let entry = &labels.entries[best];
            let predicted = entry.wnid.clone().unwrap_or_else(|| entry.name.clone());
            let rank = |top: &[usize]| top.iter().position(|c| classes.contains(c));
            answers[i] = Some(Answer {
                path: photo.path.clone(),
                wnid: photo.wnid.clone(),
                also: photo.also.clone(),
                rank_dogs: rank(&dogs),
                rank_all: rank(&all),
                predicted,
            });
        }
        report.answers = answers.into_iter().flatten().collect();
        Ok(())
    })?;
    report.unreadable.sort();
    for a in &report.answers {
        report.dogs.add(a.rank_dogs);
        report.all.add(a.rank_all);
        let b = report.breeds.entry(a.wnid.clone()).or_default();
        b.name = labels.name_of_wnid(&a.wnid).unwrap_or(&a.wnid).to_string();
        b.n += 1;
        b.top1 += (a.rank_dogs == Some(0)) as usize;
        if a.rank_dogs != Some(0) {
            *confusions
                .entry((a.wnid.clone(), a.predicted.clone()))
                .or_default() += 1;
        }
    }
    let mut confusions: Vec<_> = confusions
        .into_iter()
        .map(|((t, p), n)| (t, p, n))
        .collect();
    confusions.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    report.confusions = confusions;
    Ok(report)
}

/// Per-photo agreement of two reports on the same photos: (photos both answered, same
/// top-1 breed).
pub fn agreement(a: &Report, b: &Report) -> (usize, usize) {
    let theirs: BTreeMap<&Path, &Answer> =
        b.answers.iter().map(|x| (x.path.as_path(), x)).collect();
    let mut both = 0;
    let mut same = 0;
    for x in &a.answers {
        if let Some(y) = theirs.get(x.path.as_path()) {
            both += 1;
            same += (x.predicted == y.predicted) as usize;
        }
    }
    (both, same)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_come_from_folders_or_file_names() {
        assert_eq!(wnid_prefix("n02085620-Chihuahua"), Some("n02085620"));
        assert_eq!(wnid_prefix("n02085620_10074.jpg"), Some("n02085620"));
        assert_eq!(wnid_prefix("n02085620.jpg"), Some("n02085620"));
        assert_eq!(wnid_prefix("n0208562x_1.jpg"), None);
        assert_eq!(wnid_prefix("dog.jpg"), None);
    }
}
