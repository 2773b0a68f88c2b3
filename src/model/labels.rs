//! Class labels: names, WordNet ids and which classes are dog breeds.
//!
//! A labels file has one class per line in model output order: `name`, or
//! `wnid<TAB>name`, optionally followed by `<TAB>dog`. Lines starting with `#` are comments.
//! The ImageNet-1k table (`models/imagenet_labels.tsv`) is built in, so any 1000-class
//! ImageNet model (or 1001 with a leading background class) needs no labels file.

use std::collections::HashMap;
use std::path::Path;

use crate::Error;

const IMAGENET_TSV: &str = include_str!("../../models/imagenet_labels.tsv");

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    /// WordNet id (`n02085620`), the key labelled photos are matched on.
    pub wnid: Option<String>,
    pub is_dog: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Labels {
    pub entries: Vec<Label>,
}

impl Labels {
    /// The built-in ImageNet-1k table: 1000 classes; the dogs are indices 151..=268 and
    /// 273..=275 (dingo, dhole, African hunting dog), 121 classes: the 120 Stanford Dogs
    /// breeds and dalmatian. Wolves, coyote, hyena and foxes (269..=272, 276..) are not dogs.
    pub fn imagenet() -> Labels {
        Labels::parse_explicit(IMAGENET_TSV)
    }

    /// Built-in labels for a model with `classes` outputs, if it is an ImageNet classifier:
    /// 1000 classes, or 1001 with `background` first (TF-slim / Coral models).
    pub fn builtin_for(classes: usize) -> Option<Labels> {
        let mut l = Labels::imagenet();
        match classes {
            1000 => Some(l),
            1001 => {
                l.entries.insert(
                    0,
                    Label {
                        name: "background".into(),
                        wnid: None,
                        is_dog: false,
                    },
                );
                Some(l)
            }
            _ => None,
        }
    }

    fn parse_explicit(text: &str) -> Labels {
        let entries = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
                let is_wnid = |s: &str| {
                    s.len() == 9 && s.starts_with('n') && s[1..].bytes().all(|b| b.is_ascii_digit())
                };
                if cols.len() >= 2 && is_wnid(cols[0]) {
                    Label {
                        wnid: Some(cols[0].to_string()),
                        name: cols[1].to_string(),
                        is_dog: cols.get(2) == Some(&"dog"),
                    }
                } else if cols[0].len() > 10
                    && cols[0].is_char_boundary(9)
                    && is_wnid(&cols[0][..9])
                    && matches!(cols[0].as_bytes()[9], b'-' | b'_' | b' ')
                {
                    // Stanford Dogs folder names: `n02085620-Chihuahua`, `n02085936-Maltese_dog`.
                    Label {
                        wnid: Some(cols[0][..9].to_string()),
                        name: cols[0][10..].replace('_', " "),
                        is_dog: cols.get(1) == Some(&"dog"),
                    }
                } else {
                    Label {
                        wnid: None,
                        name: cols[0].to_string(),
                        is_dog: cols.get(1) == Some(&"dog"),
                    }
                }
            })
            .collect();
        Labels { entries }
    }

    /// Parses a labels file's text. When no line says which classes are dogs, they are
    /// inferred: classes matching the ImageNet dog breeds (by WordNet id, else by name) are
    /// dogs; a file that matches no ImageNet class at all is taken as a breed-only model
    /// (every class a breed).
    pub fn parse(text: &str) -> Labels {
        let mut labels = Labels::parse_explicit(text);
        if labels.entries.iter().any(|l| l.is_dog) {
            return labels;
        }
        let imagenet = Labels::imagenet();
        let by_wnid: HashMap<&str, &Label> = imagenet
            .entries
            .iter()
            .filter_map(|l| Some((l.wnid.as_deref()?, l)))
            .collect();
        let by_name: HashMap<String, &Label> = imagenet
            .entries
            .iter()
            .map(|l| (l.name.to_lowercase(), l))
            .collect();
        let mut matched = 0;
        for l in &mut labels.entries {
            let first_name = l.name.split(',').next().unwrap_or("").trim().to_lowercase();
            let known = match &l.wnid {
                Some(w) => by_wnid.get(w.as_str()).copied(),
                None => by_name.get(&first_name).copied(),
            };
            if let Some(k) = known {
                matched += 1;
                l.is_dog = k.is_dog;
                if l.wnid.is_none() {
                    l.wnid = k.wnid.clone();
                }
            }
        }
        if matched == 0 {
            labels.entries.iter_mut().for_each(|l| l.is_dog = true);
        }
        labels
    }

    pub fn load(path: &Path) -> Result<Labels, Error> {
        let text = crate::input::read_text(path, crate::input::Kind::Labels)?;
        let labels = Labels::parse(&text);
        if labels.entries.is_empty() {
            return Err(Error::BadInput {
                path: path.into(),
                msg: "labels file has no labels".into(),
            });
        }
        Ok(labels)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Index of the class with this WordNet id.
    pub fn index_of_wnid(&self, wnid: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|l| l.wnid.as_deref() == Some(wnid))
    }

    /// The name of the class with this WordNet id.
    pub fn name_of_wnid(&self, wnid: &str) -> Option<&str> {
        self.index_of_wnid(wnid)
            .map(|i| self.entries[i].name.as_str())
    }

    pub fn dog_count(&self) -> usize {
        self.entries.iter().filter(|l| l.is_dog).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imagenet_table_has_121_dogs_at_151_to_268_and_273_to_275() {
        let l = Labels::imagenet();
        assert_eq!(l.len(), 1000);
        let dogs: Vec<usize> = (0..1000).filter(|&i| l.entries[i].is_dog).collect();
        let want: Vec<usize> = (151..=268).chain(273..=275).collect();
        assert_eq!(dogs, want);
        assert_eq!(l.dog_count(), 121);
        assert_eq!(l.entries[151].wnid.as_deref(), Some("n02085620"));
        assert_eq!(l.entries[151].name, "Chihuahua");
        assert_eq!(l.index_of_wnid("n02113978"), Some(268));
        // The three Stanford Dogs breeds outside ImageNet's dog range.
        for (i, wnid, name) in [
            (273, "n02115641", "dingo"),
            (274, "n02115913", "dhole"),
            (275, "n02116738", "African hunting dog"),
        ] {
            assert_eq!(l.index_of_wnid(wnid), Some(i));
            assert_eq!(l.entries[i].name, name);
        }
        // Dalmatian is in ImageNet's dog range (not in Stanford Dogs) and stays a dog;
        // wolves, coyote, hyena and the foxes are not dogs.
        assert_eq!(l.entries[251].name, "dalmatian");
        for i in [269, 270, 271, 272, 276, 277, 278] {
            assert!(!l.entries[i].is_dog, "{}", l.entries[i].name);
        }
        assert_eq!(l.entries[272].name, "coyote");
    }

    #[test]
    fn background_class_shifts_by_one() {
        let l = Labels::builtin_for(1001).unwrap();
        assert_eq!(l.entries[152].name, "Chihuahua");
        assert!(!l.entries[0].is_dog);
        assert_eq!(l.entries[274].name, "dingo");
        assert!(l.entries[274].is_dog && l.entries[276].is_dog && !l.entries[273].is_dog);
        assert_eq!(l.dog_count(), 121);
        assert!(Labels::builtin_for(19).is_none());
    }

    #[test]
    fn names_only_files_are_matched_to_imagenet_or_are_all_breeds() {
        let coral_style = "background\ntench, Tinca tinca\nChihuahua\nJapanese spaniel\n\
            coyote, prairie wolf\ndingo, warrigal, warragal, Canis dingo\n";
        let l = Labels::parse(coral_style);
        assert_eq!(
            l.entries.iter().map(|l| l.is_dog).collect::<Vec<_>>(),
            vec![false, false, true, true, false, true]
        );
        assert_eq!(l.entries[5].wnid.as_deref(), Some("n02115641"));
        assert_eq!(l.entries[2].wnid.as_deref(), Some("n02085620"));
        let stanford = Labels::parse("n02085620-Chihuahua\nn02085936-Maltese_dog\n");
        assert_eq!(stanford.entries[1].name, "Maltese dog");
        assert_eq!(stanford.entries[1].wnid.as_deref(), Some("n02085936"));
        assert!(stanford.entries.iter().all(|l| l.is_dog));
        let breeds = Labels::parse("labrador\npoodle\n");
        assert!(breeds.entries.iter().all(|l| l.is_dog));
    }
}
