//! Where a finished screen goes: one file per backend, chosen by `--display` through
//! [`BACKENDS`], and the views log ([`views`]) any of them can keep.
//!
//! | `--display` | backend |
//! |---|---|
//! | `fb:/dev/fbN` | [`fbdev::Framebuffer`]: the Linux framebuffer, through a shared memory map |
//! | `png:DIR` | [`png::PngDisplay`]: the newest screens as PNG files (a ring of `--keep`), and a views log (tests, snapshots) |
//! | `none` | [`none::NoDisplay`]: nowhere (benchmarks of everything but the screen) |

pub mod fbdev;
pub mod none;
pub mod png;
pub mod views;

use std::path::Path;

pub use none::NoDisplay;
pub use png::PngDisplay;
pub use views::{view_record, ViewLog};

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

/// Opens a backend with its argument ("" when it takes none) at `width` x `height` (a
/// framebuffer has its own size), keeping at most `keep` screens (a backend that writes
/// files).
pub type Opener =
    fn(arg: &str, width: u32, height: u32, keep: usize) -> Result<Box<dyn Display>, Error>;

/// A display backend as `--display` names it.
pub struct Backend {
    /// The name before the colon (or the whole spec when there is no argument).
    pub name: &'static str,
    /// What follows `NAME:`, for messages (`None`: the backend takes no argument).
    pub arg: Option<&'static str>,
    pub open: Opener,
}

/// Every backend, in the order messages list them.
pub const BACKENDS: &[Backend] = &[
    Backend {
        name: "fb",
        arg: Some("/dev/fbN"),
        open: |dev, _, _, _| Ok(Box::new(fbdev::Framebuffer::open(Path::new(dev))?)),
    },
    Backend {
        name: "png",
        arg: Some("DIR"),
        open: |dir, width, height, keep| {
            Ok(Box::new(PngDisplay::with_keep(
                dir.into(),
                width,
                height,
                keep,
            )?))
        },
    },
    Backend {
        name: "none",
        arg: None,
        open: |_, width, height, _| Ok(Box::new(NoDisplay { width, height })),
    },
];

impl Backend {
    /// The backend's argument if `spec` names this backend.
    fn matches<'s>(&self, spec: &'s str) -> Option<&'s str> {
        match self.arg {
            None => (spec == self.name).then_some(""),
            Some(_) => spec
                .strip_prefix(self.name)?
                .strip_prefix(':')
                .filter(|arg| !arg.is_empty()),
        }
    }

    /// How `--display` spells it: `` `fb:/dev/fbN` ``, `` `none` ``.
    fn usage(&self) -> String {
        match self.arg {
            None => format!("`{}`", self.name),
            Some(arg) => format!("`{}:{arg}`", self.name),
        }
    }
}

/// Opens the display `spec` names (`fb:/dev/fbN`, `png:DIR` or `none`, see [`BACKENDS`]).
/// `width`/`height` size the drawn frames for `png` and `none`; a framebuffer has its own
/// size.
pub fn open(spec: &str, width: u32, height: u32) -> Result<Box<dyn Display>, Error> {
    open_keeping(spec, width, height, png::DEFAULT_KEEP)
}

/// [`open`], keeping at most `keep` screens (`png:DIR`'s ring of files, `--keep`).
pub fn open_keeping(
    spec: &str,
    width: u32,
    height: u32,
    keep: usize,
) -> Result<Box<dyn Display>, Error> {
    for backend in BACKENDS {
        if let Some(arg) = backend.matches(spec) {
            return (backend.open)(arg, width, height, keep);
        }
    }
    Err(Error::BadInput {
        path: spec.into(),
        msg: format!("display must be {}", one_of(BACKENDS)),
    })
}

/// "`a`, `b` or `c`".
fn one_of(backends: &[Backend]) -> String {
    let names: Vec<String> = backends.iter().map(Backend::usage).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_pick_their_backend_and_anything_else_lists_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let png = format!("png:{}", dir.path().join("screens").display());
        assert_eq!(open("none", 320, 240).unwrap().describe(), "none");
        assert_eq!(open("none", 320, 240).unwrap().size(), (320, 240));
        assert_eq!(open(&png, 64, 48).unwrap().describe(), png);
        assert!(dir.path().join("screens").is_dir());
        for bad in ["", "none:", "fb:", "png:", "nothing", "fb", "vnc:1"] {
            let e = open(bad, 1, 1).err().unwrap().to_string();
            assert!(
                e.contains("display must be `fb:/dev/fbN`, `png:DIR` or `none`"),
                "{bad}: {e}"
            );
        }
        let e = open("fb:/no/such/fb", 1, 1).err().unwrap().to_string();
        assert!(e.contains("/no/such/fb"), "{e}");
    }
}
