//! The library's error type. Every variant that concerns a file names it; a variant with an
//! underlying cause returns it as its `source()`, so the message of an error is its own text
//! followed by its causes' ([`Report`], or anyhow's `{:#}`, prints the whole chain).

use std::fmt;
use std::path::{Path, PathBuf};

use crate::engine::import::ImportError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: std::io::Error,
    },
    /// A model file that is corrupt, inconsistent or uses unsupported operators.
    #[error("{}", .path.display())]
    Model {
        path: PathBuf,
        #[source]
        cause: ImportError,
    },
    /// Any other input that cannot be used (an image that does not decode, a bad labels file).
    #[error("{}: {msg}", .path.display())]
    BadInput { path: PathBuf, msg: String },
    /// Flags or settings that do not fit together or are out of range; `what` names the flag
    /// (`--smoothing`), the value (`800x0`) or the command (`bench`) at fault.
    #[error("{what}: {msg}")]
    Usage { what: String, msg: String },
    /// A failure while running (tract, the camera, the display).
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A [`Error::Usage`] error about `what` (a flag, a value or a command).
    pub fn usage(what: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Usage {
            what: what.into(),
            msg: msg.into(),
        }
    }

    /// Whether the user gave us something unusable (exit code 2), rather than a failure
    /// while running (exit code 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, Error::Runtime(_))
    }
}

impl From<tract_core::prelude::TractError> for Error {
    fn from(e: tract_core::prelude::TractError) -> Error {
        Error::Runtime(format!("{e:#}"))
    }
}

/// An error and its causes on one line, `outer: cause: root cause`: what the user reads.
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(c) = cause {
            write!(f, ": {c}")?;
            cause = c.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_file_then_the_cause() {
        let e = Error::io(
            Path::new("photos/rex.jpg"),
            std::io::Error::from(std::io::ErrorKind::NotFound),
        );
        assert_eq!(e.to_string(), "photos/rex.jpg");
        assert_eq!(Report(&e).to_string(), "photos/rex.jpg: entity not found");
        let e = Error::Model {
            path: "m.tflite".into(),
            cause: ImportError::Corrupt("no operator codes".into()),
        };
        let cause = std::error::Error::source(&e).and_then(|c| c.downcast_ref::<ImportError>());
        assert!(matches!(cause, Some(ImportError::Corrupt(_))), "{e:?}");
        assert!(
            Report(&e).to_string().starts_with("m.tflite: ")
                && Report(&e).to_string().ends_with("no operator codes"),
            "{}",
            Report(&e)
        );
    }
}
