//! Which labels an evaluation scores against: the photos' folder or file names, or a
//! ground-truth file given as `--truth FILE` or as `--labels FILE` (a JSON object there is
//! ground truth; anything else is the model's class list).

use std::path::{Path, PathBuf};

use super::truth::{is_truth_file, Truth};
use crate::Error;

use super::{collect, Photos};

/// The `--labels` / `--truth` flags sorted into what each file is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labelling {
    /// The ground-truth file, if any.
    pub truth: Option<PathBuf>,
    /// The model's class list (`--labels` when it is not ground truth).
    pub model_labels: Option<PathBuf>,
}

impl Labelling {
    /// Sorts `--labels` and `--truth`: a ground-truth file in both is an error.
    pub fn choose(labels: Option<&Path>, truth: Option<&Path>) -> Result<Labelling, Error> {
        match labels {
            Some(l) if is_truth_file(l) => match truth {
                Some(_) => Err(Error::BadInput {
                    path: l.into(),
                    msg: "a ground-truth file in both --labels and --truth; give one".into(),
                }),
                None => Ok(Labelling {
                    truth: Some(l.into()),
                    model_labels: None,
                }),
            },
            _ => Ok(Labelling {
                truth: truth.map(Into::into),
                model_labels: labels.map(Into::into),
            }),
        }
    }

    /// The ground truth, read, if there is a file.
    pub fn load_truth(&self) -> Result<Option<Truth>, Error> {
        self.truth.as_deref().map(Truth::load).transpose()
    }

    /// The photos under `dir` with their labels (from `truth` when given, else from their
    /// names); no labelled photo at all is an error.
    pub fn photos(&self, dir: &Path, truth: Option<&Truth>) -> Result<Photos, Error> {
        let all = match truth {
            None => collect(dir)?,
            Some(t) => t.label(dir)?,
        };
        if all.labelled.is_empty() {
            return Err(Error::BadInput {
                path: dir.into(),
                msg: match &self.truth {
                    None => "no labelled photos (nXXXXXXXX-Name/ or nXXXXXXXX_*.jpg)".into(),
                    Some(f) => format!("no labelled photos ({} labels none of them)", f.display()),
                },
            });
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_object_in_labels_is_ground_truth() {
        let dir = tempfile::tempdir().unwrap();
        let truth = dir.path().join("truth.json");
        std::fs::write(&truth, " \n{\"a.jpg\": [65]}").unwrap();
        let classes = dir.path().join("classes.txt");
        std::fs::write(&classes, "tench\ngoldfish\n").unwrap();
        let l = Labelling::choose(Some(&truth), None).unwrap();
        assert_eq!((l.truth.as_deref(), l.model_labels), (Some(&*truth), None));
        let l = Labelling::choose(Some(&classes), Some(&truth)).unwrap();
        assert_eq!(
            (l.truth.as_deref(), l.model_labels.as_deref()),
            (Some(&*truth), Some(&*classes))
        );
        let e = Labelling::choose(Some(&truth), Some(&truth)).unwrap_err();
        assert!(e.to_string().contains("both --labels and --truth"), "{e}");
        assert_eq!(Labelling::choose(None, None).unwrap(), Labelling::default());
    }

    #[test]
    fn a_folder_with_no_labelled_photo_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rex.jpg"), b"x").unwrap();
        let e = Labelling::default().photos(dir.path(), None).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("no labelled photos (n"),
            "{e}"
        );
    }
}
