//! `png:DIR`: every screen as a PNG file, and a views log beside them.

use std::path::PathBuf;

use super::views::{append_line, view_record};
use super::Display;
use crate::overlay::{Canvas, View};
use crate::Error;

/// Writes every frame as `DIR/frame-000001.png`.
pub struct PngDisplay {
    pub dir: PathBuf,
    pub width: u32,
    pub height: u32,
    pub count: u64,
}

impl PngDisplay {
    pub fn new(dir: PathBuf, width: u32, height: u32) -> Result<PngDisplay, Error> {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(PngDisplay {
            dir,
            width,
            height,
            count: 0,
        })
    }
}

impl Display for PngDisplay {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn present(&mut self, canvas: &Canvas) -> Result<(), Error> {
        self.count += 1;
        let path = self.dir.join(format!("frame-{:06}.png", self.count));
        canvas.image.save(&path).map_err(|e| Error::BadInput {
            path,
            msg: e.to_string(),
        })
    }
    fn describe(&self) -> String {
        format!("png:{}", self.dir.display())
    }
    /// Also appends a [`view_record`] line to `DIR/views.jsonl`, so a headless run can be
    /// checked without reading pixels.
    fn present_view(
        &mut self,
        canvas: &Canvas,
        view: &View,
        picture: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        self.present(canvas)?;
        let line = view_record(self.count, view, picture, self.size());
        append_line(&self.dir.join("views.jsonl"), &line)
    }
}
