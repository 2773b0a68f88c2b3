//! Where frames come from, and turning them into RGB pictures.
//!
//! A [`FrameSource`] hands out [`Frame`]s: the bytes exactly as captured (MJPEG, YUYV, YU12,
//! NV12, RGB3 or BGR3 from a camera, or an image file). [`decode`] turns any of them into an RGB picture; it is the
//! one decode path the kiosk, `bench` and the tests share. A corrupt or truncated frame is
//! an error the caller counts and skips.
//!
//! Sources here: [`Synthetic`] (made-up MJPEG frames, for benches and soak tests),
//! [`Files`] (a folder of images, in a loop) and [`v4l2::Camera`] (a V4L2 camera through mmap
//! streaming).
//!
//! YUV frames are decoded as ITU-R BT.601 limited range ("studio swing": Y 16..235, Cb/Cr
//! 16..240), which is what UVC webcams, libcamera's YUV420 and vivid send by default, and
//! rows and planes arrive here packed (no padding). A device that reports
//! `V4L2_QUANTIZATION_FULL_RANGE` (Y and Cb/Cr over 0..255, as JPEG uses) is not told apart:
//! its frames come out with more contrast than they have (Y below 16 clipped to black, above
//! 235 to white, colours a little oversaturated, by 255/219 and 255/224); a full-range
//! decode would drop the 16 offset and the 255/219 (Y) and 255/224 (Cb/Cr) scale factors.

pub mod list;
pub mod rpicam; // issue 25: the Pi camera module through rpicam-vid
pub mod v4l2;

use std::path::{Path, PathBuf};

use image::RgbImage;

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

/// Why a frame could not become a picture: counted and skipped, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct BadFrame {
    pub origin: String,
    pub reason: String,
}

/// Anything that produces frames.
pub trait FrameSource: Send {
    /// The next frame. An `Err` means the source itself failed (a camera unplugged, a folder
    /// gone); a frame that is merely corrupt comes back `Ok` and fails in [`decode`].
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
}

/// The standard Huffman tables (ITU T.81 Annex K.3: luminance and chrominance, DC and AC)
/// as one DHT segment, for MJPEG frames that leave them out.
pub const STANDARD_DHT: [u8; 420] = [
    0xFF, 0xC4, 0x01, 0xA2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
    0x0B, 0x10, 0x00, 0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00,
    0x01, 0x7D, 0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51,
    0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52,
    0xD1, 0xF0, 0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26,
    0x27, 0x28, 0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47,
    0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
    0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
    0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6,
    0xF7, 0xF8, 0xF9, 0xFA, 0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
    0x0B, 0x11, 0x00, 0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01,
    0x02, 0x77, 0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07,
    0x61, 0x71, 0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33,
    0x52, 0xF0, 0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19,
    0x1A, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46,
    0x47, 0x48, 0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85,
    0x86, 0x87, 0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3,
    0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA,
    0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8,
    0xD9, 0xDA, 0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6,
    0xF7, 0xF8, 0xF9, 0xFA,
];

/// The JPEG bytes of an MJPEG frame, with the standard Huffman tables inserted before the
/// start of scan when the frame has none. Checks the frame is complete (ends with EOI).
pub fn mjpeg_with_tables(data: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, String> {
    if data.len() < 4 || data[0] != 0xFF || data[1] != 0xD8 {
        return Err("not a JPEG frame (no start-of-image marker)".into());
    }
    // Some cameras pad frames with zeros after EOI.
    let end = data.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    if end < 4 || data[end - 2] != 0xFF || data[end - 1] != 0xD9 {
        return Err(format!(
            "truncated frame: {} bytes and no end-of-image marker",
            data.len()
        ));
    }
    let mut i = 2;
    loop {
        if i + 4 > end || data[i] != 0xFF {
            return Err(format!("corrupt frame: bad marker at byte {i}"));
        }
        let marker = data[i + 1];
        if marker == 0xFF {
            i += 1; // fill byte
            continue;
        }
        if marker == 0xC4 {
            return Ok(std::borrow::Cow::Borrowed(&data[..end]));
        }
        if marker == 0xDA {
            let mut fixed = Vec::with_capacity(end + STANDARD_DHT.len());
            fixed.extend_from_slice(&data[..i]);
            fixed.extend_from_slice(&STANDARD_DHT);
            fixed.extend_from_slice(&data[i..end]);
            return Ok(std::borrow::Cow::Owned(fixed));
        }
        let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
        if len < 2 {
            return Err(format!("corrupt frame: segment length {len} at byte {i}"));
        }
        i += 2 + len;
    }
}

/// One pixel from Y, Cb-128 and Cr-128: ITU-R BT.601 limited range (Y 16..235, Cb/Cr
/// 16..240) in 8.8 fixed point. The one YUV conversion every YUV format goes through.
#[inline]
fn bt601(y: u8, u: i32, v: i32, dst: &mut [u8]) {
    let clamp = |c: i32| (c >> 8).clamp(0, 255) as u8;
    let c = 298 * (y as i32 - 16) + 128;
    dst[0] = clamp(c + 409 * v);
    dst[1] = clamp(c - 100 * u - 208 * v);
    dst[2] = clamp(c + 516 * u);
}

/// Checks a raw frame's size before conversion: the error names the format and the cause.
fn check_raw(format: Format, data: &[u8], width: u32, height: u32) -> Result<usize, String> {
    let name = format.name();
    if width == 0 || height == 0 {
        return Err(format!("{name} frame size {width}x{height}"));
    }
    if format == Format::Yuyv && !width.is_multiple_of(2) {
        return Err(format!(
            "YUYV frame size {width}x{height} (width must be even)"
        ));
    }
    let need = format.frame_bytes(width, height).unwrap_or(0);
    if data.len() < need {
        return Err(format!(
            "truncated {name} frame: {} bytes, {width}x{height} needs {need}",
            data.len()
        ));
    }
    Ok(need)
}

fn rgb_image(rgb: Vec<u8>, width: u32, height: u32) -> Result<RgbImage, String> {
    RgbImage::from_raw(width, height, rgb).ok_or_else(|| "conversion size".to_string())
}

/// YUYV (4:2:2) to RGB, BT.601 limited range, the encoding UVC webcams use.
pub fn yuyv_to_rgb(data: &[u8], width: u32, height: u32) -> Result<RgbImage, String> {
    let need = check_raw(Format::Yuyv, data, width, height)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    for (src, dst) in data[..need].chunks_exact(4).zip(rgb.chunks_exact_mut(6)) {
        let (u, v) = (src[1] as i32 - 128, src[3] as i32 - 128);
        bt601(src[0], u, v, &mut dst[..3]);
        bt601(src[2], u, v, &mut dst[3..]);
    }
    rgb_image(rgb, width, height)
}

/// 4:2:0 YUV to RGB, BT.601 limited range: YU12 (I420: Y plane, U plane, V plane) or NV12
/// (Y plane, one plane of U V pairs). Each 2x2 block of pixels shares one U and V.
pub fn yuv420_to_rgb(
    format: Format,
    data: &[u8],
    width: u32,
    height: u32,
) -> Result<RgbImage, String> {
    if !matches!(format, Format::Yu12 | Format::Nv12) {
        return Err(format!("{} is not a 4:2:0 YUV format", format.name()));
    }
    check_raw(format, data, width, height)?;
    let (w, h) = (width as usize, height as usize);
    let cw = w.div_ceil(2);
    let (luma, chroma) = data.split_at(w * h);
    let plane = cw * h.div_ceil(2);
    let mut rgb = vec![0u8; w * h * 3];
    for (row, (ys, dst)) in luma
        .chunks_exact(w)
        .zip(rgb.chunks_exact_mut(w * 3))
        .enumerate()
    {
        let c = (row / 2) * cw;
        for (x, (&y, px)) in ys.iter().zip(dst.chunks_exact_mut(3)).enumerate() {
            let (u, v) = match format {
                Format::Nv12 => (chroma[2 * (c + x / 2)], chroma[2 * (c + x / 2) + 1]),
                _ => (chroma[c + x / 2], chroma[plane + c + x / 2]),
            };
            bt601(y, u as i32 - 128, v as i32 - 128, px);
        }
    }
    rgb_image(rgb, width, height)
}

/// Packed 24-bit RGB3 (R G B) or BGR3 (B G R) to RGB.
pub fn rgb24_to_rgb(
    format: Format,
    data: &[u8],
    width: u32,
    height: u32,
) -> Result<RgbImage, String> {
    let need = check_raw(format, data, width, height)?;
    let mut rgb = data[..need].to_vec();
    match format {
        Format::Rgb3 => {}
        Format::Bgr3 => rgb.chunks_exact_mut(3).for_each(|p| p.swap(0, 2)),
        other => return Err(format!("{} is not a 24-bit RGB format", other.name())),
    }
    rgb_image(rgb, width, height)
}

/// Any frame to an RGB picture.
pub fn decode(frame: &Frame) -> Result<RgbImage, BadFrame> {
    let bad = |reason: String| BadFrame {
        origin: frame.origin.clone(),
        reason,
    };
    let img = match frame.format {
        Format::Yuyv => yuyv_to_rgb(&frame.data, frame.width, frame.height).map_err(bad)?,
        f @ (Format::Yu12 | Format::Nv12) => {
            yuv420_to_rgb(f, &frame.data, frame.width, frame.height).map_err(bad)?
        }
        f @ (Format::Rgb3 | Format::Bgr3) => {
            rgb24_to_rgb(f, &frame.data, frame.width, frame.height).map_err(bad)?
        }
        Format::Mjpeg => {
            let jpeg = mjpeg_with_tables(&frame.data).map_err(bad)?;
            crate::preprocess::decode_image(&jpeg).map_err(bad)?
        }
        Format::File => crate::preprocess::decode_image(&frame.data).map_err(bad)?,
    };
    Ok(img)
}

/// Made-up MJPEG frames (smooth colour fields with a moving bright blob), encoded once,
/// delivered at most at a camera's pace (30 fps), like a webcam that never stops.
pub struct Synthetic {
    frames: Vec<Vec<u8>>,
    width: u32,
    height: u32,
    sequence: u64,
    interval: std::time::Duration,
    next_due: std::time::Instant,
}

impl Synthetic {
    pub fn new(count: usize, width: u32, height: u32) -> Result<Synthetic, Error> {
        let mut frames = vec![];
        for i in 0..count.max(1) {
            let cx = width as f32 * (0.3 + 0.4 * (i as f32 / count.max(1) as f32));
            let img = RgbImage::from_fn(width, height, |x, y| {
                let d = ((x as f32 - cx).powi(2) + (y as f32 - height as f32 / 2.0).powi(2)).sqrt();
                let blob = (255.0 - d).clamp(0.0, 255.0) as u8;
                image::Rgb([
                    blob.saturating_add((x % 64) as u8),
                    (y * 255 / height.max(1)) as u8,
                    96u8.wrapping_add((i as u8).wrapping_mul(40)),
                ])
            });
            let mut jpeg = vec![];
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
                .encode_image(&img)
                .map_err(|e| Error::Runtime(format!("encoding a synthetic frame: {e}")))?;
            frames.push(jpeg);
        }
        Ok(Synthetic {
            frames,
            width,
            height,
            sequence: 0,
            interval: std::time::Duration::from_secs(1) / 30,
            next_due: std::time::Instant::now(),
        })
    }
}

impl FrameSource for Synthetic {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let now = std::time::Instant::now();
        if now < self.next_due {
            std::thread::sleep(self.next_due - now);
        }
        self.next_due = self.next_due.max(now) + self.interval;
        let i = self.sequence as usize % self.frames.len();
        self.sequence += 1;
        Ok(Frame {
            format: Format::Mjpeg,
            width: self.width,
            height: self.height,
            data: self.frames[i].clone(),
            sequence: self.sequence,
            origin: format!("synthetic #{i}"),
        })
    }
    fn describe(&self) -> String {
        format!(
            "synthetic ({} {}x{} MJPEG frames)",
            self.frames.len(),
            self.width,
            self.height
        )
    }
}

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
        let data = std::fs::read(p).map_err(|e| Error::io(p, e))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        let mut out = vec![];
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(img)
            .unwrap();
        out
    }

    /// The same JPEG without its DHT segments, as many webcams send it.
    fn strip_tables(data: &[u8]) -> Vec<u8> {
        let mut out = data[..2].to_vec();
        let mut i = 2;
        while data[i + 1] != 0xDA {
            let len = u16::from_be_bytes([data[i + 2], data[i + 3]]) as usize;
            if data[i + 1] != 0xC4 {
                out.extend_from_slice(&data[i..i + 2 + len]);
            }
            i += 2 + len;
        }
        out.extend_from_slice(&data[i..]);
        out
    }

    fn frame(format: Format, w: u32, h: u32, data: Vec<u8>) -> Frame {
        Frame {
            format,
            width: w,
            height: h,
            data,
            sequence: 1,
            origin: "test".into(),
        }
    }

    #[test]
    fn mjpeg_without_huffman_tables_decodes_like_the_original() {
        let img = RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, 200])
        });
        let full = jpeg(&img);
        let bare = strip_tables(&full);
        assert!(bare.len() < full.len() && !bare.windows(2).any(|w| w == [0xFF, 0xC4]));
        assert!(
            crate::preprocess::decode_image(&bare).is_err(),
            "the bare frame must need the tables"
        );
        let a = decode(&frame(Format::Mjpeg, 64, 48, full)).unwrap();
        let b = decode(&frame(Format::Mjpeg, 64, 48, bare)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn truncated_and_corrupt_mjpeg_frames_are_bad_frames() {
        let full = jpeg(&RgbImage::from_pixel(32, 32, image::Rgb([10, 20, 30])));
        let cut = decode(&frame(
            Format::Mjpeg,
            32,
            32,
            full[..full.len() / 2].to_vec(),
        ))
        .unwrap_err();
        assert!(cut.reason.contains("truncated frame"), "{cut}");
        let mut padded = full.clone();
        padded.extend_from_slice(&[0; 100]);
        assert!(decode(&frame(Format::Mjpeg, 32, 32, padded)).is_ok());
        let garbage = decode(&frame(Format::Mjpeg, 32, 32, vec![1, 2, 3, 4, 5])).unwrap_err();
        assert!(garbage.reason.contains("no start-of-image"), "{garbage}");
        let mut broken = full.clone();
        broken[2] = 0x00; // first marker destroyed
        assert!(decode(&frame(Format::Mjpeg, 32, 32, broken))
            .unwrap_err()
            .reason
            .contains("corrupt frame"));
    }

    #[test]
    fn yuyv_uses_bt601_limited_range() {
        // (Y, U, V) -> RGB: black 16/128/128, white 235/128/128, BT.601 red 81/90/240.
        let data = vec![16, 128, 235, 128, 81, 90, 81, 240];
        let img = yuyv_to_rgb(&data, 4, 1).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(img.get_pixel(1, 0).0, [255, 255, 255]);
        let red = img.get_pixel(2, 0).0;
        assert!(red[0] >= 253 && red[1] <= 2 && red[2] <= 2, "{red:?}");
        assert!(yuyv_to_rgb(&data[..6], 4, 1)
            .unwrap_err()
            .contains("truncated YUYV frame"));
        assert!(yuyv_to_rgb(&data, 3, 1).is_err());
    }

    /// BT.601 limited-range (Y, Cb, Cr) of black, white, red, green and blue, and the RGB
    /// they must decode to (within 2 per channel).
    const COLOURS: [([u8; 3], [u8; 3]); 5] = [
        ([16, 128, 128], [0, 0, 0]),
        ([235, 128, 128], [255, 255, 255]),
        ([81, 90, 240], [255, 0, 0]),
        ([145, 54, 34], [0, 255, 0]),
        ([41, 240, 110], [0, 0, 255]),
    ];

    fn near(a: [u8; 3], b: [u8; 3]) -> bool {
        a.iter().zip(b).all(|(&x, y)| x.abs_diff(y) <= 2)
    }

    /// A 4:2:0 frame of 2x2 blocks, one colour each, in a row: (Y plane, U plane, V plane).
    fn planes(colours: &[[u8; 3]], rows: usize) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let w = 2 * colours.len();
        let mut y = vec![];
        for _ in 0..2 * rows {
            y.extend(colours.iter().flat_map(|c| [c[0], c[0]]));
        }
        assert_eq!(y.len(), w * 2 * rows);
        let u = (0..rows)
            .flat_map(|_| colours.iter().map(|c| c[1]))
            .collect();
        let v = (0..rows)
            .flat_map(|_| colours.iter().map(|c| c[2]))
            .collect();
        (y, u, v)
    }

    #[test]
    fn yu12_and_nv12_decode_known_colours() {
        let yuv: Vec<[u8; 3]> = COLOURS.iter().map(|c| c.0).collect();
        let (y, u, v) = planes(&yuv, 2);
        let (w, h) = (2 * COLOURS.len() as u32, 4);
        let yu12 = [y.clone(), u.clone(), v.clone()].concat();
        let nv12 = [
            y.clone(),
            u.iter().zip(&v).flat_map(|(&a, &b)| [a, b]).collect(),
        ]
        .concat();
        for (format, data) in [(Format::Yu12, yu12), (Format::Nv12, nv12)] {
            let img = decode(&frame(format, w, h, data.clone())).unwrap();
            for (i, (_, want)) in COLOURS.iter().enumerate() {
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 3)] {
                    let got = img.get_pixel(2 * i as u32 + dx, dy).0;
                    assert!(
                        near(got, *want),
                        "{format:?} block {i}: {got:?} != {want:?}"
                    );
                }
            }
            // One byte short: a bad frame naming the format and the sizes.
            let e = decode(&frame(format, w, h, data[..data.len() - 1].to_vec())).unwrap_err();
            let name = format.name();
            assert_eq!(
                e.reason,
                format!("truncated {name} frame: 59 bytes, 10x4 needs 60"),
                "{e}"
            );
        }
    }

    #[test]
    fn yu12_with_odd_sizes_rounds_the_chroma_planes_up() {
        // 3x1: Y plane 3 bytes, U and V planes 2x1 each; red then blue.
        let data = vec![81, 81, 41, 90, 240, 240, 110];
        let img = yuv420_to_rgb(Format::Yu12, &data, 3, 1).unwrap();
        assert!(near(img.get_pixel(1, 0).0, [255, 0, 0]));
        assert!(near(img.get_pixel(2, 0).0, [0, 0, 255]));
        assert!(yuv420_to_rgb(Format::Yu12, &data[..6], 3, 1).is_err());
    }

    #[test]
    fn rgb3_and_bgr3_decode_known_colours() {
        let rgb = [[255u8, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]];
        let packed: Vec<u8> = rgb.iter().flatten().copied().collect();
        let swapped: Vec<u8> = rgb.iter().flat_map(|p| [p[2], p[1], p[0]]).collect();
        for (format, data) in [(Format::Rgb3, packed), (Format::Bgr3, swapped)] {
            let img = decode(&frame(format, 2, 2, data.clone())).unwrap();
            let got: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
            assert_eq!(got, rgb, "{format:?}");
            let e = decode(&frame(format, 2, 2, data[..11].to_vec())).unwrap_err();
            assert!(
                e.reason
                    .contains(&format!("truncated {} frame: 11 bytes", format.name())),
                "{e}"
            );
        }
        assert!(decode(&frame(Format::Rgb3, 0, 2, vec![])).is_err());
    }
}
