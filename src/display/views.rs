//! The views log: one JSON line per presented screen saying what it shows and where the
//! picture is, for checks from outside (tests/vm reads it; the PNG backend keeps one too).

use std::io::Write;
use std::path::PathBuf;

use super::Display;
use crate::overlay::{Canvas, View};
use crate::Error;

/// One line of a views log: `{"frame": N, "headline": ..., "breeds": [[name, p], ...],
/// "picture": [x, y, w, h] or null, "screen": [w, h]}`, and with dogs located on the picture
/// `"dogs": [{"id": N, "box": [x0, y0, x1, y1] (frame pixels), "breed": name, "p": p}, ...]`
/// (the `breeds` are the first dog's).
pub fn view_record(
    frame: u64,
    view: &View,
    picture: Option<(u32, u32, u32, u32)>,
    screen: (u32, u32),
) -> String {
    let mut record = serde_json::json!({
        "frame": frame,
        "headline": view.headline,
        "breeds": view.breeds.iter().map(|l| (l.name.clone(), l.probability)).collect::<Vec<_>>(),
        "picture": picture.map(|(x, y, w, h)| [x, y, w, h]),
        "screen": [screen.0, screen.1],
    });
    if !view.dogs.is_empty() {
        record["dogs"] = view
            .dogs
            .iter()
            .map(|d| {
                let (x0, y0, x1, y1) = d.bbox;
                serde_json::json!({"id": d.id, "box": [x0, y0, x1, y1], "breed": d.name, "p": d.probability})
            })
            .collect();
    }
    record.to_string()
}

/// Appends a line to a views log, first moving a log that reached `cap` bytes to
/// `<name>.1` (replacing the one before): a log never holds more than about twice the cap.
pub(super) fn append_rotating(path: &std::path::Path, line: &str, cap: u64) -> Result<(), Error> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() >= cap) {
        let mut old = path.as_os_str().to_owned();
        old.push(".1");
        std::fs::rename(path, &old).map_err(|e| Error::io(path, e))?;
    }
    append_line(path, line)
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
    /// Starts a new log at `path` (an existing file is replaced); it is rotated to
    /// `<path>.1` at [`VIEWS_CAP`](super::png::VIEWS_CAP).
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
        append_rotating(&self.path, &line, super::png::VIEWS_CAP)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::display::NoDisplay;
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
