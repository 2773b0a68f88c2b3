//! Capturing from a V4L2 camera: opening it at the negotiated format, streaming through
//! mmap buffers, and handing out frames with padded rows packed tight.

use std::io;
use std::path::{Path, PathBuf};

use v4l::buffer::Type;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::device::{describe, open_device, probe, video_nodes, DeviceInfo};
use super::negotiation::{negotiate_among, Choice};
use super::{BUFFERS, FORMATS, FRAME_TIMEOUT};
use crate::camera::{Format, Frame, FrameSource};
use crate::Error;

/// A V4L2 camera streaming through mmap buffers.
pub struct Camera {
    path: PathBuf,
    info: DeviceInfo,
    choice: Choice,
    /// Bytes per line of the first plane (raw rows may be padded).
    stride: usize,
    /// `None` only while being dropped.
    stream: Option<Stream<'static>>,
    started: bool,
    sequence: u64,
    skipped_errors: u64,
    /// Driver sequence numbers the driver skipped (dropped buffers), not yet reported.
    missed: u64,
    /// The driver's sequence number of the last buffer.
    last_sequence: Option<u32>,
    _device: Device,
}

impl Camera {
    /// Opens `path`, or with `None` the first capture device under /dev that offers a format
    /// breedcam decodes (USB devices first), at `want` (or what [`super::negotiate`] picks near it).
    pub fn open(path: Option<&Path>, want: (u32, u32)) -> Result<Camera, Error> {
        Camera::open_as(path, want, &FORMATS)
    }

    /// [`Camera::open`], negotiating among `formats` only.
    pub fn open_as(
        path: Option<&Path>,
        want: (u32, u32),
        formats: &[Format],
    ) -> Result<Camera, Error> {
        if let Some(p) = path {
            return Camera::open_path(p, want, formats);
        }
        let mut nodes = video_nodes(Path::new("/dev"));
        // USB webcams first: a Pi's ISP has single-planar capture nodes that offer YUYV but
        // only ever send what is fed to it.
        let usb = |p: &PathBuf| probe(p).is_ok_and(|i| i.bus.starts_with("usb-"));
        nodes.sort_by_cached_key(|p| !usb(p));
        let mut why = vec![];
        for node in &nodes {
            match Camera::open_path(node, want, formats) {
                Ok(c) => return Ok(c),
                Err(e) => why.push(crate::error::Report(&e).to_string()),
            }
        }
        Err(Error::BadInput {
            path: "/dev/video*".into(),
            msg: if nodes.is_empty() {
                "no V4L2 capture devices; is a camera plugged in?".into()
            } else {
                format!("no usable capture device: {}", why.join("; "))
            },
        })
    }

    fn open_path(path: &Path, want: (u32, u32), formats: &[Format]) -> Result<Camera, Error> {
        let dev = open_device(path)?;
        let info = describe(&dev, path)?;
        if let Some(why) = &info.unusable {
            return Err(Error::BadInput {
                path: path.into(),
                msg: format!("{} ({}, {})", why, info.driver, info.card),
            });
        }
        let name = path.display().to_string();
        let choice = negotiate_among(&name, &info.formats, want, formats).map_err(|msg| {
            Error::BadInput {
                path: path.into(),
                msg: msg
                    .strip_prefix(&format!("{name}: "))
                    .unwrap_or(&msg)
                    .to_string(),
            }
        })?;
        let runtime =
            |what: &str, e: io::Error| Error::Runtime(format!("{}: {what}: {e}", path.display()));
        let fourcc = FourCC::new(&choice.format.fourcc().unwrap_or(*b"MJPG"));
        let set = dev
            .set_format(&v4l::Format::new(choice.width, choice.height, fourcc))
            .map_err(|e| runtime("setting the format", e))?;
        if set.fourcc != fourcc {
            return Err(Error::Runtime(format!(
                "{}: asked for {choice}, the driver chose {} {}x{}",
                path.display(),
                set.fourcc,
                set.width,
                set.height
            )));
        }
        let choice = Choice {
            width: set.width,
            height: set.height,
            ..choice
        };
        let mut stream = Stream::with_buffers(&dev, Type::VideoCapture, BUFFERS)
            .map_err(|e| runtime("mapping buffers", e))?;
        stream.set_timeout(FRAME_TIMEOUT);
        log::info!(
            "{}: {} ({}, {}), capturing {choice}",
            path.display(),
            info.card,
            info.driver,
            info.bus
        );
        Ok(Camera {
            path: path.into(),
            info,
            choice,
            stride: set.stride as usize,
            stream: Some(stream),
            started: false,
            sequence: 0,
            skipped_errors: 0,
            missed: 0,
            last_sequence: None,
            _device: dev,
        })
    }

    /// What was negotiated.
    pub fn choice(&self) -> Choice {
        self.choice
    }

    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// Waits for a frame, retrying when a signal interrupts the wait (Ctrl-C handlers run on
    /// some thread; the stop flag is checked between frames).
    fn wait_readable(&self) -> io::Result<()> {
        let Some(stream) = &self.stream else {
            return Ok(());
        };
        loop {
            match stream
                .handle()
                .poll(libc::POLLIN, FRAME_TIMEOUT.as_millis() as i32)
            {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no frame for {} s", FRAME_TIMEOUT.as_secs()),
                    ))
                }
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

/// `rows` rows of `row` bytes each, copied from rows `stride` bytes apart (short rows at
/// the end of a short buffer are kept short: the decoder reports the truncation).
fn unpad_rows(data: &[u8], row: usize, rows: usize, stride: usize, out: &mut Vec<u8>) {
    if stride <= row {
        out.extend_from_slice(&data[..data.len().min(row * rows)]);
        return;
    }
    for line in data.chunks(stride).take(rows) {
        out.extend_from_slice(&line[..row.min(line.len())]);
    }
}

/// A raw frame with padded rows packed tight: every plane's rows `stride` bytes apart
/// (4:2:0 chroma planes: YU12 `stride / 2`, NV12's interleaved plane `stride`), as V4L2
/// single-planar buffers lay them out. Compressed frames come back as they are.
pub fn pack_frame(format: Format, data: &[u8], width: u32, height: u32, stride: usize) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (row, bpp) = match format {
        Format::Yuyv => (cw * 4, 0),
        Format::Rgb3 | Format::Bgr3 => (w * 3, 0),
        Format::Yu12 | Format::Nv12 => (w, 1),
        Format::Mjpeg | Format::File => return data.to_vec(),
    };
    let stride = stride.max(row);
    let mut out = Vec::with_capacity(format.frame_bytes(width, height).unwrap_or(0));
    if bpp == 0 {
        unpad_rows(data, row, h, stride, &mut out);
        return out;
    }
    let luma_end = (stride * h).min(data.len());
    unpad_rows(&data[..luma_end], w, h, stride, &mut out);
    let chroma = &data[luma_end..];
    if format == Format::Nv12 {
        unpad_rows(chroma, 2 * cw, ch, stride.max(2 * cw), &mut out);
    } else {
        let cs = (stride / 2).max(cw);
        let v_start = (cs * ch).min(chroma.len());
        unpad_rows(&chroma[..v_start], cw, ch, cs, &mut out);
        unpad_rows(&chroma[v_start..], cw, ch, cs, &mut out);
    }
    out
}

impl FrameSource for Camera {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let path = self.path.display().to_string();
        let lost = |e: io::Error| Error::Runtime(format!("{path}: {e}"));
        loop {
            if self.started {
                self.wait_readable().map_err(lost)?;
            }
            let stream = self
                .stream
                .as_mut()
                .ok_or_else(|| Error::Runtime("camera closed".into()))?;
            let (buf, meta) = CaptureStream::next(stream).map_err(lost)?;
            self.started = true;
            if let Some(last) = self.last_sequence {
                self.missed += meta.sequence.wrapping_sub(last).saturating_sub(1) as u64;
            }
            self.last_sequence = Some(meta.sequence);
            if meta.flags.contains(v4l::buffer::Flags::ERROR) {
                // The driver says the buffer is corrupt: skip it like a frame that does
                // not decode, without handing garbage to the decoder.
                self.skipped_errors += 1;
                log::debug!(
                    "{path}: driver flagged a frame as corrupt ({} so far)",
                    self.skipped_errors
                );
                continue;
            }
            let used = (meta.bytesused as usize).min(buf.len());
            let data = pack_frame(
                self.choice.format,
                &buf[..used],
                self.choice.width,
                self.choice.height,
                self.stride,
            );
            self.sequence += 1;
            return Ok(Frame {
                format: self.choice.format,
                width: self.choice.width,
                height: self.choice.height,
                data,
                sequence: self.sequence,
                origin: format!("{path} frame {}", meta.sequence),
            });
        }
    }

    fn take_skipped(&mut self) -> (u64, u64) {
        let taken = (self.skipped_errors, self.missed);
        (self.skipped_errors, self.missed) = (0, 0);
        taken
    }

    fn describe(&self) -> String {
        format!(
            "{} ({}), {}",
            self.path.display(),
            self.info.card,
            self.choice
        )
    }
}

impl Drop for Camera {
    fn drop(&mut self) {
        // v4l's stream panics when stopping fails with anything but ENODEV; an unplugged
        // camera must not take the kiosk down with it.
        if let Some(stream) = self.stream.take() {
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(stream)));
            if dropped.is_err() {
                log::warn!("{}: stopping the stream failed", self.path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_rows_and_planes_are_packed() {
        // YUYV 2x2 pixels, 4 bytes per row, padded to 6.
        let data = [1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0];
        let pack = |f, d: &[u8], w, h, s| pack_frame(f, d, w, h, s);
        assert_eq!(pack(Format::Yuyv, &data, 2, 2, 6), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(pack(Format::Yuyv, &data[..8], 2, 2, 4), &data[..8]);
        // RGB3 1x2, rows padded from 3 to 4 bytes.
        assert_eq!(
            pack(Format::Rgb3, &[1, 2, 3, 0, 4, 5, 6, 0], 1, 2, 4),
            [1, 2, 3, 4, 5, 6]
        );
        // YU12 2x2 with Y rows padded to 4 bytes, so chroma rows to 2: Y 1 2 / 3 4, U 5, V 6.
        let yu12 = [1, 2, 0, 0, 3, 4, 0, 0, 5, 0, 6, 0];
        assert_eq!(pack(Format::Yu12, &yu12, 2, 2, 4), [1, 2, 3, 4, 5, 6]);
        // NV12 2x2, rows padded to 4: the UV row too.
        let nv12 = [1, 2, 0, 0, 3, 4, 0, 0, 5, 6, 0, 0];
        assert_eq!(pack(Format::Nv12, &nv12, 2, 2, 4), [1, 2, 3, 4, 5, 6]);
        // Unpadded frames pass through; MJPEG is never touched.
        assert_eq!(
            pack(Format::Nv12, &[1, 2, 3, 4, 5, 6], 2, 2, 2),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(pack(Format::Mjpeg, &[9, 9, 9], 2, 2, 4), [9, 9, 9]);
    }
}
