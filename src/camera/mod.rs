//! Where frames come from.
//!
//! A [`FrameSource`] hands out [`Frame`]s: the bytes exactly as captured (MJPEG, YUYV, YU12,
//! NV12, RGB3 or BGR3 from a camera, or an image file). [`decode()`] turns any of them into
//! an RGB picture; it is the one decode path the kiosk, `bench` and the tests share. A
//! corrupt or truncated frame is a [`BadFrame`] the caller counts and skips.
//!
//! | source | file | what |
//! |---|---|---|
//! | [`Synthetic`] | `synthetic.rs` | made-up MJPEG frames at a camera's pace, for benches and soak tests |
//! | [`Files`] | `files.rs` | the images of a folder, in a loop |
//! | [`v4l2::Camera`] | `v4l2.rs` | a V4L2 camera through mmap streaming ([`list`]: `breedcam cameras`) |
//! | [`rpicam::RpiCam`] | `rpicam.rs` | a Raspberry Pi camera module: frames piped from `rpicam-vid` |
//!
//! [`decode`](mod@decode) holds one file per pixel format family: `mjpeg`, `yuv`, `rgb`.

pub mod bytes;
pub mod decode;
pub mod files;
pub mod list;
pub mod rpicam;
pub mod synthetic;
pub mod v4l2;

pub use decode::{decode, BadFrame};
pub use files::Files;
pub use synthetic::Synthetic;

use crate::Error;

/// How a frame's bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JPEG per frame, possibly without Huffman tables (many UVC webcams).
    Mjpeg,
    /// YUV 4:2:2, Y0 U Y1 V per two pixels.
    Yuyv,
    /// YUV 4:2:0 planar (I420): the Y plane, then U and V at half width and height.
    Yu12,
    /// YUV 4:2:0 with one plane of interleaved U V pairs after the Y plane.
    Nv12,
    /// Packed 24-bit R G B.
    Rgb3,
    /// Packed 24-bit B G R.
    Bgr3,
    /// An image file (JPEG, PNG, BMP).
    File,
}

impl Format {
    /// The V4L2 fourcc of a camera format (`None` for files).
    pub fn fourcc(self) -> Option<[u8; 4]> {
        Some(match self {
            Format::Mjpeg => *b"MJPG",
            Format::Yuyv => *b"YUYV",
            Format::Yu12 => *b"YU12",
            Format::Nv12 => *b"NV12",
            Format::Rgb3 => *b"RGB3",
            Format::Bgr3 => *b"BGR3",
            Format::File => return None,
        })
    }

    /// "MJPEG", "YU12", ... for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Mjpeg => "MJPEG",
            Format::Yuyv => "YUYV",
            Format::Yu12 => "YU12",
            Format::Nv12 => "NV12",
            Format::Rgb3 => "RGB3",
            Format::Bgr3 => "BGR3",
            Format::File => "file",
        }
    }

    /// The camera format named by a fourcc or name (`yu12`, `I420`, `mjpeg`, ...), for
    /// `--camera-format`.
    pub fn parse(name: &str) -> Option<Format> {
        Some(match name.to_ascii_uppercase().as_str() {
            "MJPG" | "MJPEG" => Format::Mjpeg,
            "YUYV" => Format::Yuyv,
            "YU12" | "I420" => Format::Yu12,
            "NV12" => Format::Nv12,
            "RGB3" | "RGB24" => Format::Rgb3,
            "BGR3" | "BGR24" => Format::Bgr3,
            _ => return None,
        })
    }

    /// Bytes of a packed `width` x `height` frame (`None` for compressed formats and
    /// files). 4:2:0 chroma planes are half the size, rounded up.
    pub fn frame_bytes(self, width: u32, height: u32) -> Option<usize> {
        let (w, h) = (width as usize, height as usize);
        let chroma = w.div_ceil(2) * h.div_ceil(2);
        match self {
            Format::Yuyv => Some(w.div_ceil(2) * 4 * h),
            Format::Yu12 | Format::Nv12 => Some(w * h + 2 * chroma),
            Format::Rgb3 | Format::Bgr3 => Some(w * h * 3),
            Format::Mjpeg | Format::File => None,
        }
    }
}

/// One captured frame.
#[derive(Clone, Debug)]
pub struct Frame {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    /// Sequence number from the source.
    pub sequence: u64,
    /// What to call it in messages (device, file).
    pub origin: String,
}

/// Anything that produces frames.
pub trait FrameSource: Send {
    /// The next frame. An `Err` means the source itself failed (a camera unplugged, a folder
    /// gone); a frame that is merely corrupt comes back `Ok` and fails in [`decode()`].
    fn next_frame(&mut self) -> Result<Frame, Error>;
    fn describe(&self) -> String;
    /// Whether frames keep coming whether or not anyone takes them (a camera): then only the
    /// newest matters. Sources that wait (files) lose nothing.
    fn is_live(&self) -> bool {
        true
    }
    /// Frames the source skipped since the last call: (buffers the driver flagged as
    /// corrupt, frames the driver never delivered, seen as gaps in its sequence numbers).
    fn take_skipped(&mut self) -> (u64, u64) {
        (0, 0)
    }
    /// How long each picture stays on screen before the next is read (a folder's
    /// slideshow); zero for sources that keep their own pace.
    fn dwell(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
    /// The error that ends the run after `bad_in_a_row` frames in a row did not decode
    /// (`last` says why the last one did not), for a source where that means nothing ever
    /// will: a folder after one full pass. `None` (the default, cameras): keep trying.
    fn unusable(&self, _bad_in_a_row: u64, _last: &str) -> Option<Error> {
        None
    }
}
