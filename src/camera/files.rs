//! A folder of images as a frame source (`breedcam run --source DIR`).

use std::path::{Path, PathBuf};

use super::{Format, Frame, FrameSource};
use crate::Error;

/// The image files of a folder, read from disk each time, in a loop.
pub struct Files {
    files: Vec<PathBuf>,
    dir: PathBuf,
    sequence: u64,
}

impl Files {
    pub fn new(dir: &Path) -> Result<Files, Error> {
        let mut files = vec![];
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if ["jpg", "jpeg", "png", "bmp"].contains(&ext.as_str()) {
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
}
