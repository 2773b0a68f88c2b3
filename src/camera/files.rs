//! A folder of images as a frame source (`breedcam run --source DIR`): a slideshow, each
//! photo on screen for the dwell time; a folder where no photo decodes is an error after one
//! pass.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{Format, Frame, FrameSource};
use crate::Error;

/// The image files of a folder, read from disk each time, in a loop.
pub struct Files {
    files: Vec<PathBuf>,
    dir: PathBuf,
    sequence: u64,
    dwell: Duration,
}

impl Files {
    /// The folder's images, each shown for `dwell`.
    pub fn with_dwell(dir: &Path, dwell: Duration) -> Result<Files, Error> {
        Ok(Files {
            dwell,
            ..Files::new(dir)?
        })
    }

    /// The folder's images, one after the other without a pause.
    pub fn new(dir: &Path) -> Result<Files, Error> {
        let mut files = vec![];
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            // Regular files only (following links): reading a FIFO or a device named
            // `x.jpg` would block or never end.
            if ["jpg", "jpeg", "png", "bmp"].contains(&ext.as_str()) && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(Error::BadInput {
                path: dir.into(),
                msg: "no JPEG, PNG or BMP files".into(),
            });
        }
        Ok(Files {
            files,
            dir: dir.into(),
            sequence: 0,
            dwell: Duration::ZERO,
        })
    }
}

impl FrameSource for Files {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let p = &self.files[self.sequence as usize % self.files.len()];
        self.sequence += 1;
        let data = crate::input::read(p, crate::input::Kind::Image)?;
        Ok(Frame {
            format: Format::File,
            width: 0,
            height: 0,
            data,
            sequence: self.sequence,
            origin: p.display().to_string(),
        })
    }
    fn describe(&self) -> String {
        format!("{} files from {}", self.files.len(), self.dir.display())
    }
    fn is_live(&self) -> bool {
        false
    }
    fn dwell(&self) -> Duration {
        self.dwell
    }
    /// A whole pass over the folder without a photo that decodes.
    fn unusable(&self, bad_in_a_row: u64, last: &str) -> Option<Error> {
        (bad_in_a_row >= self.files.len() as u64).then(|| Error::BadInput {
            path: self.dir.clone(),
            msg: format!(
                "none of its {} image files decodes (the last: {last})",
                self.files.len()
            ),
        })
    }
}
