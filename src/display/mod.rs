//! Where a finished screen goes: the Linux framebuffer ([`fbdev`]), PNG files (headless
//! runs, tests, snapshots) or nowhere.

pub mod fbdev;

use std::io::Write;
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
    /// Shows a frame and records what it says (the PNG backend keeps a log of views;
    /// [`ViewLog`] adds one to any display). `picture` is where the camera picture was drawn
    /// ([`crate::overlay::picture_rect`]), `None` on screens without one.
    fn present_view(
        &mut self,
        canvas: &Canvas,
        _view: &View,
        _picture: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        self.present(canvas)
    }
}

/// One line of a views log: `{"frame": N, "headline": ..., "breeds": [[name, p], ...],
/// "picture": [x, y, w, h] or null, "screen": [w, h]}`.
pub fn view_record(
    frame: u64,
    view: &View,
    picture: Option<(u32, u32, u32, u32)>,
    screen: (u32, u32),
) -> String {
    serde_json::json!({
        "frame": frame,
        "headline": view.headline,
        "breeds": view.breeds.iter().map(|l| (l.name.clone(), l.probability)).collect::<Vec<_>>(),
        "picture": picture.map(|(x, y, w, h)| [x, y, w, h]),
        "screen": [screen.0, screen.1],
    })
    .to_string()
}

fn append_line(path: &std::path::Path, line: &str) -> Result<(), Error> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    writeln!(f, "{line}").map_err(|e| Error::io(path, e))
}

/// Any display, with each view appended to a JSON-lines file ([`view_record`]) after it
/// was presented: what the framebuffer kiosk says it shows, for checks from outside.
pub struct ViewLog {
    pub inner: Box<dyn Display>,
    pub path: PathBuf,
    count: u64,
}

impl ViewLog {
    /// Starts a new log at `path` (an existing file is replaced).
    pub fn new(inner: Box<dyn Display>, path: PathBuf) -> Result<ViewLog, Error> {
        std::fs::write(&path, b"").map_err(|e| Error::io(&path, e))?;
        Ok(ViewLog {
            inner,
            path,
            count: 0,
        })
    }
}

impl Display for ViewLog {
    fn size(&self) -> (u32, u32) {
        self.inner.size()
    }
    fn present(&mut self, canvas: &Canvas) -> Result<(), Error> {
        self.inner.present(canvas)
    }
    fn describe(&self) -> String {
        format!(
            "{} (views to {})",
            self.inner.describe(),
            self.path.display()
        )
    }
    fn present_view(
        &mut self,
        canvas: &Canvas,
        view: &View,
        picture: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        self.inner.present_view(canvas, view, picture)?;
        self.count += 1;
        let line = view_record(self.count, view, picture, self.inner.size());
        append_line(&self.path, &line)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::overlay::Line;

    #[test]
    fn the_views_log_records_what_each_screen_shows_and_where_the_picture_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("views.jsonl");
        let inner = Box::new(NoDisplay {
            width: 320,
            height: 240,
        });
        let mut log = ViewLog::new(inner, path.clone()).unwrap();
        let canvas = Canvas::new(320, 240);
        let dog = View {
            breeds: vec![Line {
                name: "Eskimo dog".into(),
                probability: 0.5,
            }],
            ..View::default()
        };
        let lost = View {
            headline: Some("camera lost: /dev/video0: gone".into()),
            ..View::default()
        };
        log.present_view(&canvas, &dog, Some((0, 30, 320, 180)))
            .unwrap();
        log.present_view(&canvas, &lost, None).unwrap();
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["frame"], 1);
        assert_eq!(lines[0]["breeds"][0][0], "Eskimo dog");
        assert_eq!(lines[0]["picture"], serde_json::json!([0, 30, 320, 180]));
        assert_eq!(lines[0]["screen"], serde_json::json!([320, 240]));
        assert_eq!(lines[1]["headline"], "camera lost: /dev/video0: gone");
        assert!(lines[1]["picture"].is_null());
        // A log that cannot be written is an error naming the file.
        let bad = ViewLog::new(
            Box::new(NoDisplay {
                width: 1,
                height: 1,
            }),
            dir.path().join("no/such/dir/views.jsonl"),
        );
        assert!(bad.err().unwrap().to_string().contains("no/such/dir"));
    }
}
