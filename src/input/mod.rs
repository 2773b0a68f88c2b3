//! The one way in for every file breedcam reads from outside (images, models and their
//! sidecars, labels, ground truth, the config file): [`read`] and [`read_text`].
//!
//! - Regular files only: a directory, a FIFO, a socket or a device (`/dev/zero`, a camera
//!   node) is an error naming the file. The file is opened with `O_NONBLOCK` and checked
//!   before anything is read, so a FIFO with no writer never blocks.
//! - A size cap per [`Kind`], checked against the file's size before reading, so a 1 GB
//!   sparse `.jpg` is refused without reading it.
//! - Read through a bounded reader (at most cap + 1 bytes), so a file that grows while it is
//!   read, or a `/proc`-like file that says it is empty, cannot exceed the cap either.
//!
//! Decoding images within limits is [`image`].

pub mod image;
mod jpeg_end;
pub mod testing;

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::Error;

/// What a file is for; each kind has its own size cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A photo (JPEG, PNG, BMP): 64 MiB.
    Image,
    /// A TFLite model: 64 MiB (the committed ones are 5-7 MB).
    Model,
    /// A model's `<model>.json` sidecar: 1 MiB.
    Sidecar,
    /// A labels file, one class a line: 1 MiB (ImageNet's 1000 classes are 21 KB).
    Labels,
    /// An `eval` ground-truth file: 16 MiB (ReaL's 50 000 photos are about 2 MB).
    Truth,
    /// `run --config FILE`: 1 MiB.
    Config,
}

const MIB: u64 = 1 << 20;

impl Kind {
    /// The largest file of this kind that is read, in bytes.
    pub const fn cap(self) -> u64 {
        match self {
            Kind::Image | Kind::Model => 64 * MIB,
            Kind::Truth => 16 * MIB,
            Kind::Sidecar | Kind::Labels | Kind::Config => MIB,
        }
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Image => "an image",
            Kind::Model => "a model",
            Kind::Sidecar => "a model's sidecar",
            Kind::Labels => "a labels file",
            Kind::Truth => "a ground-truth file",
            Kind::Config => "a config file",
        }
    }

    fn too_big(self, size: Option<u64>) -> String {
        let cap = format!("{} MiB", self.cap() / MIB);
        match size {
            Some(n) => format!(
                "{} is larger than {cap}, the limit for {}",
                human(n),
                self.what()
            ),
            None => format!("larger than {cap}, the limit for {}", self.what()),
        }
    }
}

fn human(n: u64) -> String {
    if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

/// What a file that is not a regular file is, for the error message.
fn not_regular(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens `path` without blocking (a FIFO opens at once) and checks that it is a regular file
/// of at most `kind`'s cap.
fn open(path: &Path, kind: Kind) -> Result<File, Error> {
    use std::os::unix::fs::OpenOptionsExt;
    let bad = |msg: String| Error::BadInput {
        path: path.into(),
        msg,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if !meta.is_file() {
        return Err(bad(format!(
            "is {}, not a regular file",
            not_regular(meta.file_type())
        )));
    }
    if meta.len() > kind.cap() {
        return Err(bad(kind.too_big(Some(meta.len()))));
    }
    Ok(file)
}

/// The bytes of a regular file of at most `kind`'s cap; errors name the file and the cause.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, Error> {
    let file = open(path, kind)?;
    let mut bytes = vec![];
    file.take(kind.cap() + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > kind.cap() {
        return Err(Error::BadInput {
            path: path.into(),
            msg: kind.too_big(None),
        });
    }
    Ok(bytes)
}

/// [`read`] as UTF-8 text.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, Error> {
    String::from_utf8(read(path, kind)?).map_err(|e| Error::BadInput {
        path: path.into(),
        msg: format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ),
    })
}

/// Up to `n` first bytes of `path` under the same checks as [`read`] (to tell file formats
/// apart).
pub fn head(path: &Path, kind: Kind, n: usize) -> Result<Vec<u8>, Error> {
    let file = open(path, kind)?;
    let mut bytes = vec![];
    file.take(n as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Error) -> String {
        crate::error::Report(&e).to_string()
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("photo.jpg");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No writer ever opens it: a blocking open or read would hang this test.
        let e = msg(read(&fifo, Kind::Image).unwrap_err());
        assert!(e.contains("photo.jpg") && e.contains("is a FIFO"), "{e}");
    }

    #[test]
    fn devices_and_directories_are_refused() {
        let e = msg(read(Path::new("/dev/zero"), Kind::Config).unwrap_err());
        assert_eq!(e, "/dev/zero: is a character device, not a regular file");
        let dir = tempfile::tempdir().unwrap();
        let e = msg(read(dir.path(), Kind::Labels).unwrap_err());
        assert!(e.ends_with("is a directory, not a regular file"), "{e}");
    }

    #[test]
    fn a_file_over_its_cap_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.jpg");
        // Sparse: 1 GiB that takes no disk and would take 1 GiB of memory to read.
        std::fs::File::create(&big)
            .unwrap()
            .set_len(1 << 30)
            .unwrap();
        let e = msg(read(&big, Kind::Image).unwrap_err());
        assert!(
            e.ends_with("1024.0 MiB is larger than 64 MiB, the limit for an image"),
            "{e}"
        );
        let at_cap = dir.path().join("labels.txt");
        std::fs::File::create(&at_cap)
            .unwrap()
            .set_len(Kind::Labels.cap())
            .unwrap();
        assert_eq!(read(&at_cap, Kind::Labels).unwrap().len() as u64, MIB);
    }

    #[test]
    fn a_file_that_says_it_is_empty_is_still_read_only_to_its_cap() {
        // /proc files report size 0; this one is small, but goes through the bounded reader.
        let text = read_text(Path::new("/proc/self/status"), Kind::Config).unwrap();
        assert!(text.contains("VmRSS"), "{text}");
    }
}
