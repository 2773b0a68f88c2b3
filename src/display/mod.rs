//! Where a finished screen goes: the Linux framebuffer ([`fbdev`]), PNG files (headless
//! runs, tests, snapshots) or nowhere.

pub mod fbdev;

use std::path::PathBuf;

use crate::overlay::{Canvas, View};
use crate::Error;

/// A screen the kiosk can present a drawn [`Canvas`] on.
pub trait Display {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Shows one finished frame.
    fn present(&mut self, canvas: &Canvas) -> Result<(), Error>;
    /// What to call it in reports.
    fn describe(&self) -> String;
    /// Shows a frame and records what it says (the PNG backend keeps a log of views).
    fn present_view(&mut self, canvas: &Canvas, _view: &View) -> Result<(), Error> {
        self.present(canvas)
    }
}

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
    /// Also appends `{"frame": N, "headline": ..., "breeds": [[name, p], ...]}` to
    /// `DIR/views.jsonl`, so a headless run can be checked without reading pixels.
    fn present_view(&mut self, canvas: &Canvas, view: &View) -> Result<(), Error> {
        use std::io::Write;
        self.present(canvas)?;
        let path = self.dir.join("views.jsonl");
        let line = serde_json::json!({
            "frame": self.count,
            "headline": view.headline,
            "breeds": view.breeds.iter().map(|l| (l.name.clone(), l.probability)).collect::<Vec<_>>(),
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        writeln!(f, "{line}").map_err(|e| Error::io(&path, e))
    }
}

/// Parses `fb:/dev/fbN`, `png:DIR` or `none`. `width`/`height` size the drawn frames for
/// `png` and `none`; a framebuffer has its own size.
pub fn open(spec: &str, width: u32, height: u32) -> Result<Box<dyn Display>, Error> {
    match spec.split_once(':') {
        None if spec == "none" => Ok(Box::new(NoDisplay { width, height })),
        Some(("png", dir)) if !dir.is_empty() => {
            Ok(Box::new(PngDisplay::new(dir.into(), width, height)?))
        }
        Some(("fb", dev)) if !dev.is_empty() => Ok(Box::new(fbdev::Framebuffer::open(
            std::path::Path::new(dev),
        )?)),
        _ => Err(Error::BadInput {
            path: spec.into(),
            msg: "display must be `fb:/dev/fbN`, `png:DIR` or `none`".into(),
        }),
    }
}
