//! The library's error type. Every variant that concerns a file names it.

use std::path::{Path, PathBuf};

use crate::engine::import::ImportError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("{}: {cause}", .path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A model file that is corrupt, inconsistent or uses unsupported operators.
    #[error("{}: {cause}", .path.display())]
    Model { path: PathBuf, cause: ImportError },
    /// Any other input that cannot be used (an image that does not decode, a bad labels file).
    #[error("{}: {msg}", .path.display())]
    BadInput { path: PathBuf, msg: String },
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
