//! Ground truth from a file (`breedcam eval --truth FILE`) instead of folder or file names,
//! with several acceptable classes per photo: the form of ImageNet's reassessed labels
//! (ReaL, Beyer et al. 2020, "Are we done with ImageNet?").
//!
//! The file is one JSON object: photo -> list of acceptable classes.
//!
//! ```json
//! {"ILSVRC2012_val_00000001.JPEG": [65],
//!  "dogs/rex.jpg": ["n02109961", 250],
//!  "blurry.jpg": []}
//! ```
//!
//! - A key is the photo's path relative to the evaluated folder, with `/` between folders
//!   (a photo directly in the folder is just its file name). A leading `./` is ignored.
//! - A class is a 0-based ImageNet-1k index (0..=999, ReaL's convention: the classes sorted
//!   by WordNet id, `models/imagenet_labels.tsv` order, whatever the model's own output
//!   order; 151 is Chihuahua for a 1001-class model too), or a WordNet id (`"n02085620"`)
//!   of ImageNet or of the model's labels.
//! - An empty list means "no valid label": the photo is left out and counted.
//! - An entry that names no photo, an unknown class, a key listed twice or malformed JSON is
//!   an error naming the file (and the entry, or the line and column). A photo with no entry
//!   is not scored, and counted as unlabelled.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{Deserializer, Error as _, MapAccess, Visitor};
use serde::Deserialize;

use crate::eval::{images, Labelled, Photos};
use crate::model::labels::Labels;
use crate::Error;

/// A parsed ground-truth file: key -> acceptable WordNet ids (empty: no valid label).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    pub path: PathBuf,
    pub entries: BTreeMap<String, Vec<String>>,
}

/// The JSON object in file order, refusing a key given twice (serde_json's own maps keep
/// the last one silently).
struct Entries(Vec<(String, Vec<serde_json::Value>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(r#"an object {"photo.jpg": [class index or WordNet id, ...], ...}"#)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
                let mut seen = BTreeSet::new();
                let mut out = vec![];
                while let Some((k, v)) = m.next_entry::<String, Vec<serde_json::Value>>()? {
                    if !seen.insert(k.clone()) {
                        return Err(A::Error::custom(format!("\"{k}\" is listed twice")));
                    }
                    out.push((k, v));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// What a list (ReaL's own `real.json`, in validation-image order) is told.
const REAL_LIST: &str = "a JSON list, like ReaL's real.json (entry i for \
    ILSVRC2012_val_<i+1, 8 digits>.JPEG); breedcam wants an object keyed by file name, \
    {\"ILSVRC2012_val_00000001.JPEG\": [65], ...}; convert it for the photos in DIR with: \
    python3 -c 'import json, os, sys; r = json.load(open(\"real.json\")); \
    json.dump({n: l for i, l in enumerate(r) if os.path.exists(os.path.join(sys.argv[1], \
    n := f\"ILSVRC2012_val_{i + 1:08d}.JPEG\"))}, open(\"truth.json\", \"w\"))' DIR \
    (docs/ground-truth.md)";

fn looks_like_wnid(s: &str) -> bool {
    s.len() == 9 && s.starts_with('n') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

fn key_of(k: &str) -> &str {
    let mut k = k;
    while let Some(rest) = k.strip_prefix("./") {
        k = rest;
    }
    k
}

/// Whether `path` is a ground-truth file (JSON: an object, or a list such as ReaL's
/// `real.json`, which [`Truth::parse`] refuses with the conversion) rather than a model's
/// class list (text, a name or `wnid<TAB>name` a line): `eval --labels FILE` takes either.
pub fn is_truth_file(path: &Path) -> bool {
    // Opened without blocking: a FIFO is not a truth file (and is refused when read).
    let head = crate::input::head(path, crate::input::Kind::Truth, 256).unwrap_or_default();
    head.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
}

impl Truth {
    /// Parses a ground-truth file's text. Indices are ImageNet-1k's; WordNet ids are checked
    /// against ImageNet and the models by [`Truth::check_classes`].
    pub fn parse(path: &Path, text: &str) -> Result<Truth, Error> {
        let bad = |msg: String| Error::BadInput {
            path: path.into(),
            msg,
        };
        if text.trim_start().starts_with('[') {
            return Err(bad(REAL_LIST.into()));
        }
        let Entries(raw) = serde_json::from_str(text).map_err(|e| {
            bad(format!(
                "not a ground-truth file (want {{\"photo.jpg\": [class, ...]}}): {e}"
            ))
        })?;
        let imagenet = Labels::imagenet();
        let mut entries = BTreeMap::new();
        for (key, values) in raw {
            let mut ids: Vec<String> = vec![];
            for v in &values {
                let id = match v {
                    serde_json::Value::Number(n) => match n.as_u64() {
                        Some(i) if i < imagenet.len() as u64 => {
                            imagenet.entries[i as usize].wnid.clone().ok_or_else(|| {
                                bad(format!("\"{key}\": class {i} has no WordNet id"))
                            })?
                        }
                        _ => {
                            return Err(bad(format!(
                                "\"{key}\": unknown class {n} (an ImageNet-1k index is 0..=999)"
                            )))
                        }
                    },
                    serde_json::Value::String(w) if looks_like_wnid(w) => w.clone(),
                    serde_json::Value::String(w) => {
                        return Err(bad(format!(
                            "\"{key}\": unknown class \"{w}\" (not a WordNet id like n02085620)"
                        )))
                    }
                    other => {
                        return Err(bad(format!(
                            "\"{key}\": {other} is neither a class index nor a WordNet id"
                        )))
                    }
                };
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            if entries.insert(key_of(&key).to_string(), ids).is_some() {
                return Err(bad(format!("\"{key}\" is listed twice")));
            }
        }
        Ok(Truth {
            path: path.into(),
            entries,
        })
    }

    pub fn load(path: &Path) -> Result<Truth, Error> {
        let text = crate::input::read_text(path, crate::input::Kind::Truth)?;
        Truth::parse(path, &text)
    }

    /// Every WordNet id must be ImageNet's or one of `model_labels`'; the first that is not
    /// (in key order) is an error naming its entry.
    pub fn check_classes(&self, model_labels: &[&Labels]) -> Result<(), Error> {
        let imagenet = Labels::imagenet();
        let known = |w: &str| {
            imagenet.index_of_wnid(w).is_some()
                || model_labels.iter().any(|l| l.index_of_wnid(w).is_some())
        };
        for (key, ids) in &self.entries {
            if let Some(w) = ids.iter().find(|w| !known(w)) {
                return Err(Error::BadInput {
                    path: self.path.clone(),
                    msg: format!(
                        "\"{key}\": unknown class \"{w}\" (not an ImageNet WordNet id, nor one \
                         of the model's)"
                    ),
                });
            }
        }
        Ok(())
    }

    /// Labels the photos under `dir` (sorted by path). Every entry must name a photo there.
    pub fn label(&self, dir: &Path) -> Result<Photos, Error> {
        let mut photos = Photos::default();
        let mut used = BTreeSet::new();
        for path in images(dir)? {
            let rel = path.strip_prefix(dir).unwrap_or(&path);
            let key: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let key = key.join("/");
            match self.entries.get_key_value(&key) {
                None => photos.unlabelled.push(path),
                Some((k, ids)) => {
                    used.insert(k.as_str());
                    match ids.split_first() {
                        None => photos.no_valid_label.push(path),
                        Some((first, rest)) => photos.labelled.push(Labelled {
                            path,
                            wnid: first.clone(),
                            also: rest.to_vec(),
                        }),
                    }
                }
            }
        }
        let missing: Vec<&str> = self
            .entries
            .keys()
            .map(String::as_str)
            .filter(|k| !used.contains(k))
            .collect();
        if let Some(first) = missing.first() {
            return Err(Error::BadInput {
                path: self.path.clone(),
                msg: format!(
                    "{} entr{} name{} no photo under {} (keys are paths relative to it): \
                     \"{first}\"{}",
                    missing.len(),
                    if missing.len() == 1 { "y" } else { "ies" },
                    if missing.len() == 1 { "s" } else { "" },
                    dir.display(),
                    if missing.len() > 1 { ", ..." } else { "" }
                ),
            });
        }
        Ok(photos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Truth, Error> {
        let t = Truth::parse(Path::new("truth.json"), text)?;
        t.check_classes(&[])?;
        Ok(t)
    }

    #[test]
    fn indices_are_imagenet_1k_and_ids_are_wordnet() {
        let t = parse(
            r#"{"a.jpg": [151, "n02085782", 151], "./d/b.png": [273, "n02116738"], "c.jpg": []}"#,
        )
        .unwrap();
        assert_eq!(t.entries["a.jpg"], ["n02085620", "n02085782"]);
        assert_eq!(t.entries["d/b.png"], ["n02115641", "n02116738"]);
        assert!(t.entries["c.jpg"].is_empty());
    }

    #[test]
    fn unknown_classes_and_bad_files_are_errors_naming_them() {
        let msg = |text: &str| parse(text).unwrap_err().to_string();
        let m = msg(r#"{"a.jpg": ["n99999999"]}"#);
        assert!(
            m.starts_with("truth.json: \"a.jpg\": unknown class \"n99999999\""),
            "{m}"
        );
        let m = msg(r#"{"a.jpg": [5000]}"#);
        assert!(m.contains("\"a.jpg\": unknown class 5000"), "{m}");
        let m = msg(r#"{"a.jpg": [-1]}"#);
        assert!(m.contains("unknown class -1"), "{m}");
        let m = msg(r#"{"a.jpg": [true]}"#);
        assert!(m.contains("true is neither"), "{m}");
        let m = msg("{\"a.jpg\": [1],\n \"a.jpg\": [2]}");
        assert!(m.contains("\"a.jpg\" is listed twice at line 2"), "{m}");
        let m = msg("{\"a.jpg\": [1],\n \"b.jpg\": [2,}");
        assert!(m.starts_with("truth.json: not a ground-truth file"), "{m}");
        assert!(m.contains("line 2 column"), "{m}");
        // ReaL's own real.json is a list in validation-image order.
        let m = msg("[[1], []]");
        assert!(m.contains("like ReaL's real.json"), "{m}");
    }

    #[test]
    fn a_model_s_own_wordnet_ids_are_known() {
        let own = Labels::parse("n99999999-Wolfdog\nn02085620-Chihuahua\n");
        let t = Truth::parse(Path::new("t.json"), r#"{"x.jpg": ["n99999999"]}"#).unwrap();
        assert!(t.check_classes(&[]).is_err());
        t.check_classes(&[&own]).unwrap();
        assert_eq!(t.entries["x.jpg"], ["n99999999"]);
    }
}
