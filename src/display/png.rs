//! `png:DIR`: the newest screens as PNG files and a views log beside them, bounded: a ring of
//! `--keep` frames, a views log rotated at a size cap, nothing written while the file system
//! is nearly full.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use super::views::{append_rotating, view_record};
use super::Display;
use crate::overlay::{Canvas, View};
use crate::Error;

/// Frames kept by default (`--keep`).
pub const DEFAULT_KEEP: usize = 100;

/// The views log's size at which it is rotated to `views.jsonl.1`.
pub const VIEWS_CAP: u64 = 8 << 20;

/// When the file system counts as nearly full: less free space (for an unprivileged user)
/// than both of these.
#[derive(Clone, Copy, Debug)]
pub struct MinFree {
    pub bytes: u64,
    /// Of the file system's size.
    pub fraction: f64,
}

impl Default for MinFree {
    fn default() -> MinFree {
        MinFree {
            bytes: 100 << 20,
            fraction: 0.05,
        }
    }
}

/// Writes each frame as `DIR/frame-000001.png`, numbered on from the newest frame a previous
/// run left, and keeps only the newest `keep` of them.
pub struct PngDisplay {
    pub dir: PathBuf,
    pub width: u32,
    pub height: u32,
    /// The number of the newest frame written.
    pub count: u64,
    keep: usize,
    /// The numbers of the frame files in the folder, oldest first.
    ring: VecDeque<u64>,
    /// The views log is rotated when it reaches this size.
    pub views_cap: u64,
    /// Nothing is written while the file system has less free space than this.
    pub min_free: MinFree,
    /// Whether frames are being held back for want of space (warned about once).
    full: bool,
    /// After a frame did not fit: the free space it takes to try again.
    need: u64,
}

impl PngDisplay {
    pub fn new(dir: PathBuf, width: u32, height: u32) -> Result<PngDisplay, Error> {
        PngDisplay::with_keep(dir, width, height, DEFAULT_KEEP)
    }

    /// Keeps the newest `keep` frames (at least 1). The folder is created if need be and
    /// must be writable: an error naming it otherwise.
    pub fn with_keep(
        dir: PathBuf,
        width: u32,
        height: u32,
        keep: usize,
    ) -> Result<PngDisplay, Error> {
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        check_writable(&dir)?;
        let mut ring: Vec<u64> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .filter_map(|entry| frame_number(&entry.ok()?.file_name().to_string_lossy()))
            .collect();
        ring.sort_unstable();
        let mut png = PngDisplay {
            count: ring.last().copied().unwrap_or(0),
            dir,
            width,
            height,
            keep: keep.max(1),
            ring: ring.into(),
            views_cap: VIEWS_CAP,
            min_free: MinFree::default(),
            full: false,
            need: 0,
        };
        png.prune(png.keep);
        Ok(png)
    }

    fn frame_path(&self, n: u64) -> PathBuf {
        self.dir.join(format!("frame-{n:06}.png"))
    }

    /// Deletes the oldest frames until at most `keep` are left.
    fn prune(&mut self, keep: usize) {
        while self.ring.len() > keep {
            let Some(n) = self.ring.pop_front() else {
                break;
            };
            let path = self.frame_path(n);
            if let Err(e) = std::fs::remove_file(&path) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    log::warn!("{}: {e}", path.display());
                }
            }
        }
    }

    /// Whether there is room to write (warns once when there is not any more).
    fn room(&mut self) -> bool {
        let free = free_space(&self.dir);
        let full = free.is_some_and(|(avail, size)| {
            avail < self.need
                || avail < self.min_free.bytes
                    && (avail as f64) < self.min_free.fraction * size as f64
        });
        if full && !self.full {
            let mib = free.map_or(0, |(avail, _)| avail >> 20);
            self.warn_full(&format!("{mib} MiB free"));
        } else if !full && self.full {
            self.need = 0;
            log::info!("{}: room again, writing screens", self.dir.display());
        }
        self.full = full;
        !full
    }

    fn warn_full(&mut self, why: &str) {
        log::warn!(
            "{}: the file system is nearly full ({why}): no more screens are written until \
             there is room",
            self.dir.display()
        );
        self.full = true;
    }

    /// Writes the frame unless the disk is nearly full; whether it did. A frame that does
    /// not fit in what was left (the last one before the threshold) is removed, and counts
    /// as a full disk rather than an error.
    fn write(&mut self, canvas: &Canvas) -> Result<bool, Error> {
        if !self.room() {
            return Ok(false);
        }
        self.prune(self.keep - 1);
        let path = self.frame_path(self.count + 1);
        // Encoded in memory, then written: a file system error is the file's own.
        let mut png = std::io::Cursor::new(Vec::new());
        canvas
            .image
            .write_to(&mut png, image::ImageFormat::Png)
            .map_err(|e| Error::BadInput {
                path: path.clone(),
                msg: e.to_string(),
            })?;
        match std::fs::write(&path, png.get_ref()) {
            Ok(()) => {}
            Err(e) if is_out_of_space(&e) => {
                let _ = std::fs::remove_file(&path);
                let avail = free_space(&self.dir).map_or(u64::MAX, |(avail, _)| avail);
                self.need = avail.saturating_add(png.get_ref().len() as u64);
                if !self.full {
                    self.warn_full(&e.to_string());
                }
                return Ok(false);
            }
            Err(e) => return Err(Error::io(&path, e)),
        }
        self.count += 1;
        self.ring.push_back(self.count);
        Ok(true)
    }

    /// Appends a line to `views.jsonl`, rotated to `views.jsonl.1` at the cap.
    fn log_view(&self, line: &str) -> Result<(), Error> {
        append_rotating(&self.dir.join("views.jsonl"), line, self.views_cap)
    }
}

/// Whether a write failed for want of space or quota.
fn is_out_of_space(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{QuotaExceeded, StorageFull};
    matches!(e.kind(), StorageFull | QuotaExceeded)
}

/// `frame-000123.png` -> 123.
fn frame_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("frame-")?.strip_suffix(".png")?;
    if digits.len() < 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Creates and removes a file in `dir`: an error naming the folder if it cannot be written.
fn check_writable(dir: &Path) -> Result<(), Error> {
    let probe = dir.join(format!(".breedcam-write-check-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| Error::BadInput {
            path: dir.into(),
            msg: format!("cannot write screens here: {e}"),
        })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// (bytes free for an unprivileged user, the file system's size), `None` if unknown.
fn free_space(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: statvfs is plain old data (integers), for which all zeros is a valid value.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a NUL-terminated path and a statvfs struct the call fills in.
    if unsafe { libc::statvfs(path.as_ptr(), &mut s) } != 0 {
        return None;
    }
    let block = s.f_frsize as u64;
    Some((
        (s.f_bavail as u64).saturating_mul(block),
        (s.f_blocks as u64).saturating_mul(block),
    ))
}

impl Display for PngDisplay {
    fn size(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    fn present(&mut self, canvas: &Canvas) -> Result<(), Error> {
        self.write(canvas).map(|_| ())
    }
    fn describe(&self) -> String {
        format!("png:{}", self.dir.display())
    }
    /// Also appends a [`view_record`] line to `DIR/views.jsonl`, so a headless run can be
    /// checked without reading pixels (not for a screen held back for want of space).
    fn present_view(
        &mut self,
        canvas: &Canvas,
        view: &View,
        picture: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        if !self.write(canvas)? {
            return Ok(());
        }
        let line = view_record(self.count, view, picture, self.size());
        self.log_view(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("frame-"))
            .collect();
        names.sort();
        names
    }

    fn views(dir: &Path) -> Vec<u64> {
        std::fs::read_to_string(dir.join("views.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["frame"]
                    .as_u64()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_ring_of_the_newest_frames_numbered_on_from_the_last_run() {
        let dir = tempfile::tempdir().unwrap();
        let canvas = Canvas::new(8, 8);
        let view = View::default();
        let mut png = PngDisplay::with_keep(dir.path().into(), 8, 8, 3).unwrap();
        for _ in 0..5 {
            png.present_view(&canvas, &view, None).unwrap();
        }
        assert_eq!(
            frames(dir.path()),
            ["frame-000003.png", "frame-000004.png", "frame-000005.png"]
        );
        // A second run goes on from the first's newest frame, and keeps its own ring.
        let mut png = PngDisplay::with_keep(dir.path().into(), 8, 8, 2).unwrap();
        assert_eq!(frames(dir.path()), ["frame-000004.png", "frame-000005.png"]);
        png.present_view(&canvas, &view, None).unwrap();
        assert_eq!(frames(dir.path()), ["frame-000005.png", "frame-000006.png"]);
        assert_eq!(views(dir.path()), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn the_views_log_is_rotated_at_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let canvas = Canvas::new(4, 4);
        let mut png = PngDisplay::with_keep(dir.path().into(), 4, 4, 1).unwrap();
        png.views_cap = 300;
        for _ in 0..10 {
            png.present_view(&canvas, &View::default(), None).unwrap();
        }
        let log = std::fs::metadata(dir.path().join("views.jsonl"))
            .unwrap()
            .len();
        let old = std::fs::metadata(dir.path().join("views.jsonl.1"))
            .unwrap()
            .len();
        assert!(log < 400 && (300..400).contains(&old), "{log} {old}");
        assert_eq!(views(dir.path()).last(), Some(&10));
    }

    #[test]
    fn a_folder_that_cannot_be_written_is_refused_at_the_start() {
        // /proc/self is a folder nobody can create files in, root included.
        let e = PngDisplay::new("/proc/self".into(), 4, 4).err().unwrap();
        assert!(e.is_bad_input());
        assert!(
            e.to_string()
                .starts_with("/proc/self: cannot write screens here: "),
            "{e}"
        );
    }

    #[test]
    fn a_write_out_of_space_counts_as_a_full_disk() {
        assert!(is_out_of_space(&std::io::Error::from_raw_os_error(
            libc::ENOSPC
        )));
        assert!(is_out_of_space(&std::io::Error::from_raw_os_error(
            libc::EDQUOT
        )));
        assert!(!is_out_of_space(&std::io::Error::from_raw_os_error(
            libc::EACCES
        )));
    }

    #[test]
    fn nothing_is_written_while_the_disk_is_nearly_full() {
        let dir = tempfile::tempdir().unwrap();
        let canvas = Canvas::new(4, 4);
        let mut png = PngDisplay::new(dir.path().into(), 4, 4).unwrap();
        png.present_view(&canvas, &View::default(), None).unwrap();
        // Every file system is "nearly full" by these figures.
        png.min_free = MinFree {
            bytes: u64::MAX,
            fraction: 2.0,
        };
        for _ in 0..3 {
            png.present_view(&canvas, &View::default(), None).unwrap();
        }
        assert!(png.full);
        assert_eq!(frames(dir.path()), ["frame-000001.png"]);
        assert_eq!(views(dir.path()), [1]);
        // Room again: writing goes on.
        png.min_free = MinFree::default();
        png.present_view(&canvas, &View::default(), None).unwrap();
        assert_eq!(views(dir.path()), [1, 2]);
        assert!(free_space(dir.path()).is_some_and(|(free, size)| free > 0 && size >= free));
    }
}
