//! `none`: a display that draws nowhere.

use super::Display;
use crate::overlay::Canvas;
use crate::Error;

/// Draws nowhere (benchmarks of everything but the screen, headless kiosks).
pub struct NoDisplay {
    pub width: u32,
    pub height: u32,
}

impl Display for NoDisplay {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn present(&mut self, _canvas: &Canvas) -> Result<(), Error> {
        Ok(())
    }
    fn describe(&self) -> String {
        "none".into()
    }
}
