//! V4L2 capture (USB UVC webcams, anything with single-planar video capture) with the `v4l`
//! crate: find and describe devices, negotiate a format, stream through mmap buffers.
//!
//! The decision of which format and size to ask for is [`negotiate`], a pure function of
//! what a device offers, so it is tested without a camera. Its rule:
//! - **Size**, within each format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, MJPEG):
//!   the requested size when offered; else the smallest offered size at least as large in
//!   both dimensions (the fewest pixels to decode that still cover the request); else, when
//!   every size is smaller, the largest one. A stepwise or continuous range offers the
//!   request clamped to the range and rounded down to its step. A driver that lists no
//!   sizes is asked for the request, and the driver's answer is used.
//! - **Format**: of those, a size that covers the request beats one that does not; then a
//!   format offering at least 15 fps at its size (or not saying) beats one that is slower
//!   (many USB 2 webcams send large YUYV sizes at a few fps and only MJPEG at full rate);
//!   then the least decoding work, pixels times a per-pixel [`decode_cost`]: packed RGB is a
//!   copy, YUV a few multiplies a pixel, MJPEG an entropy decode and IDCT. A device with
//!   none of the six is an error that names the device and lists what it offers.
//!
//! Errors name the device and the cause. At start-up they are bad input (exit code 2: no
//! such device, permission denied, not a capture device, no usable format); once streaming,
//! a failed read (camera unplugged, no frame for [`FRAME_TIMEOUT`]) is a runtime error the
//! kiosk loop turns into "camera lost" and a reopen every second.
//!
//! The `v4l` crate has no multi-planar capture: Raspberry Pi CSI cameras (unicam, rp1-cfe,
//! behind libcamera) are reached through libcamera's V4L2 compatibility layer instead.

use std::fmt;
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use v4l::buffer::Type;
use v4l::capability::Flags as Caps;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::io::mmap::Stream;
use v4l::io::traits::CaptureStream;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::{Format, Frame, FrameSource};
use crate::Error;

/// Buffers mapped for streaming: enough for the driver to fill one while we copy another.
pub const BUFFERS: u32 = 4;

/// A camera that sends no frame for this long is treated as lost (and reopened).
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(3);

/// The size asked for when none is given.
pub const DEFAULT_SIZE: (u32, u32) = (640, 480);

/// The capture formats breedcam decodes, cheapest first.
pub const FORMATS: [Format; 6] = [
    Format::Rgb3,
    Format::Bgr3,
    Format::Yu12,
    Format::Nv12,
    Format::Yuyv,
    Format::Mjpeg,
];

/// Relative decoding work per pixel (1 = a byte copy), for [`negotiate`]: measured order,
/// not exact ratios (an MJPEG frame costs roughly 5-10x a YUV one of the same size).
pub fn decode_cost(format: Format) -> u64 {
    match format {
        Format::Rgb3 => 3,
        Format::Bgr3 => 4,
        Format::Yu12 | Format::Nv12 | Format::Yuyv => 10,
        Format::Mjpeg => 60,
        Format::File => u64::MAX / (1 << 40),
    }
}

/// Below this many frames per second a format's size counts as slow.
const SLOW_FPS: f64 = 15.0;

/// Frame sizes a device offers for one format.
#[derive(Clone, Debug, PartialEq)]
pub enum Sizes {
    /// One size, with the frame rates offered at it (frames per second, may be empty).
    Discrete {
        width: u32,
        height: u32,
        fps: Vec<f64>,
    },
    /// Any size in a range, in steps (continuous ranges have steps of 1).
    Stepwise {
        min: (u32, u32),
        max: (u32, u32),
        step: (u32, u32),
    },
}

impl fmt::Display for Sizes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sizes::Discrete { width, height, fps } => {
                write!(f, "{width}x{height}")?;
                if !fps.is_empty() {
                    let list: Vec<String> = fps.iter().map(|r| format!("{r:.4}")).collect();
                    let list: Vec<&str> = list
                        .iter()
                        .map(|s| s.trim_end_matches('0').trim_end_matches('.'))
                        .collect();
                    write!(f, " ({} fps)", list.join("/"))?;
                }
                Ok(())
            }
            Sizes::Stepwise { min, max, step } => write!(
                f,
                "{}x{} to {}x{} in steps of {}x{}",
                min.0, min.1, max.0, max.1, step.0, step.1
            ),
        }
    }
}

/// One pixel format a device offers, with its sizes.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatOffer {
    pub fourcc: [u8; 4],
    /// The driver's name for it ("Motion-JPEG").
    pub description: String,
    pub sizes: Vec<Sizes>,
}

impl FormatOffer {
    pub fn fourcc_str(&self) -> String {
        String::from_utf8_lossy(&self.fourcc).trim_end().to_string()
    }
}

/// What to ask the device for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}x{}", self.format.name(), self.width, self.height)
    }
}

/// Picks the format and size to ask `device` for, given what it offers (see the module
/// docs for the rule). The error names the device and lists every format it offers.
pub fn negotiate(device: &str, offers: &[FormatOffer], want: (u32, u32)) -> Result<Choice, String> {
    negotiate_among(device, offers, want, &FORMATS)
}

/// [`negotiate`] among `formats` only (`--camera-format`): the error says when the device
/// offers none of them.
pub fn negotiate_among(
    device: &str,
    offers: &[FormatOffer],
    want: (u32, u32),
    formats: &[Format],
) -> Result<Choice, String> {
    let area = |s: (u32, u32)| s.0 as u64 * s.1 as u64;
    let best = formats
        .iter()
        .filter_map(|&format| {
            let offer = offers.iter().find(|o| Some(o.fourcc) == format.fourcc())?;
            let size = pick_size(&offer.sizes, want);
            let covers = size.0 >= want.0 && size.1 >= want.1;
            let slow = fps_at(&offer.sizes, size).is_some_and(|r| r < SLOW_FPS);
            // Covering sizes: least work first; smaller ones: the largest first.
            let work = if covers {
                area(size) * decode_cost(format)
            } else {
                u64::MAX - area(size)
            };
            Some(((!covers, slow, work, decode_cost(format)), format, size))
        })
        .min_by_key(|c| c.0);
    match best {
        Some((_, format, (width, height))) => Ok(Choice {
            format,
            width,
            height,
        }),
        None if offers.is_empty() => Err(format!("{device}: offers no capture formats at all")),
        None if formats.len() < FORMATS.len() => {
            let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
            let list: Vec<String> = offers.iter().map(|o| o.fourcc_str()).collect();
            Err(format!(
                "{device}: does not offer {}; it offers {}",
                names.join(" or "),
                list.join(", ")
            ))
        }
        None => {
            let list: Vec<String> = offers.iter().map(describe_offer).collect();
            Err(format!(
                "{device}: no capture format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, \
                 MJPEG); it offers {}",
                list.join("; ")
            ))
        }
    }
}

/// The highest frame rate a discrete `size` lists (`None`: not listed or a range).
fn fps_at(sizes: &[Sizes], size: (u32, u32)) -> Option<f64> {
    sizes.iter().find_map(|s| match s {
        Sizes::Discrete { width, height, fps } if (*width, *height) == size && !fps.is_empty() => {
            Some(fps.iter().copied().fold(0.0, f64::max))
        }
        _ => None,
    })
}

/// "YUYV (YUYV 4:2:2) 640x480, 1280x720" for messages.
fn describe_offer(o: &FormatOffer) -> String {
    let mut s = o.fourcc_str();
    if !o.description.is_empty() {
        s += &format!(" ({})", o.description);
    }
    if !o.sizes.is_empty() {
        let sizes: Vec<String> = o
            .sizes
            .iter()
            .map(|s| match s {
                Sizes::Discrete { width, height, .. } => format!("{width}x{height}"),
                other => other.to_string(),
            })
            .collect();
        s += &format!(" {}", sizes.join(", "));
    }
    s
}

fn pick_size(sizes: &[Sizes], want: (u32, u32)) -> (u32, u32) {
    let fit = |v: u32, min: u32, max: u32, step: u32| {
        let v = v.clamp(min, max.max(min));
        min + (v - min) / step.max(1) * step.max(1)
    };
    let candidates: Vec<(u32, u32)> = sizes
        .iter()
        .map(|s| match *s {
            Sizes::Discrete { width, height, .. } => (width, height),
            Sizes::Stepwise { min, max, step } => (
                fit(want.0, min.0, max.0, step.0),
                fit(want.1, min.1, max.1, step.1),
            ),
        })
        .collect();
    if candidates.is_empty() || candidates.contains(&want) {
        return want;
    }
    let area = |s: &(u32, u32)| s.0 as u64 * s.1 as u64;
    candidates
        .iter()
        .filter(|s| s.0 >= want.0 && s.1 >= want.1)
        .min_by_key(|s| (area(s), s.0))
        .or_else(|| candidates.iter().max_by_key(|s| (area(s), s.0)))
        .copied()
        .unwrap_or(want)
}

/// Why a device could not be opened, as one line naming it: bad input (exit code 2) for
/// what the user can fix, a runtime error otherwise.
pub fn open_error(path: &Path, e: &io::Error) -> Error {
    let bad = |msg: String| Error::BadInput {
        path: path.into(),
        msg,
    };
    match e.raw_os_error() {
        Some(libc::ENOENT) => bad(format!(
            "no such device ({e}); `breedcam cameras` lists the capture devices"
        )),
        Some(libc::ENODEV) | Some(libc::ENXIO) => {
            bad(format!("device not present, unplugged? ({e})"))
        }
        Some(libc::EACCES) | Some(libc::EPERM) => bad(format!(
            "permission denied ({e}); add the user to the video group \
             (sudo usermod -aG video $USER, then log in again)"
        )),
        Some(libc::ENOTTY) | Some(libc::EINVAL) => bad(format!("not a V4L2 device ({e})")),
        _ => Error::Runtime(format!("{}: {e}", path.display())),
    }
}

/// A device node, described: driver, card, bus, and (for a capture device) its formats.
#[derive(Clone, Debug)]
pub struct DeviceInfo {
    pub path: PathBuf,
    pub driver: String,
    pub card: String,
    pub bus: String,
    /// Why this node cannot be a camera for us (`None`: a single-planar streaming capture
    /// device).
    pub unusable: Option<String>,
    pub formats: Vec<FormatOffer>,
}

/// `/dev/video*` nodes in `dir`, in number order (video2 before video10).
pub fn video_nodes(dir: &Path) -> Vec<PathBuf> {
    let mut nodes: Vec<(u32, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let n = name.to_str()?.strip_prefix("video")?.parse().ok()?;
            Some((n, e.path()))
        })
        .collect();
    nodes.sort();
    nodes.into_iter().map(|(_, p)| p).collect()
}

fn open_device(path: &Path) -> Result<Device, Error> {
    match std::fs::metadata(path) {
        Err(e) => return Err(open_error(path, &e)),
        Ok(m) if !m.file_type().is_char_device() => {
            return Err(Error::BadInput {
                path: path.into(),
                msg: "not a device node (V4L2 cameras are /dev/videoN)".into(),
            })
        }
        Ok(_) => {}
    }
    Device::with_path(path).map_err(|e| open_error(path, &e))
}

/// Queries an open device: capabilities, and for capture devices every format with its
/// sizes (and frame rates for discrete sizes).
fn describe(dev: &Device, path: &Path) -> Result<DeviceInfo, Error> {
    let caps = dev.query_caps().map_err(|e| open_error(path, &e))?;
    let flags = caps.capabilities;
    let unusable = if flags.contains(Caps::VIDEO_CAPTURE) {
        (!flags.contains(Caps::STREAMING))
            .then(|| "a capture device without streaming I/O (mmap)".to_string())
    } else if flags.contains(Caps::VIDEO_CAPTURE_MPLANE) {
        Some(
            "a multi-planar capture device, which the v4l crate cannot stream (a Pi CSI \
             camera? run under libcamerify)"
                .into(),
        )
    } else if flags.intersects(Caps::VIDEO_M2M | Caps::VIDEO_M2M_MPLANE) {
        Some("a memory-to-memory device (codec or ISP), not a camera".into())
    } else if flags.contains(Caps::META_CAPTURE) {
        Some("a metadata node, not a video capture device".into())
    } else {
        Some(format!(
            "not a video capture device (capabilities {flags:?})"
        ))
    };
    let mut formats = vec![];
    if unusable.is_none() {
        let list = dev
            .enum_formats()
            .map_err(|e| Error::Runtime(format!("{}: listing formats: {e}", path.display())))?;
        for f in list {
            formats.push(FormatOffer {
                fourcc: f.fourcc.repr,
                description: f.description.clone(),
                sizes: sizes_of(dev, f.fourcc),
            });
        }
    }
    Ok(DeviceInfo {
        path: path.into(),
        driver: caps.driver,
        card: caps.card,
        bus: caps.bus,
        unusable,
        formats,
    })
}

/// Sizes of one format; a driver that cannot list them gives none (and is asked for the
/// requested size).
fn sizes_of(dev: &Device, fourcc: FourCC) -> Vec<Sizes> {
    let Ok(list) = dev.enum_framesizes(fourcc) else {
        return vec![];
    };
    list.into_iter()
        .map(|s| match s.size {
            FrameSizeEnum::Discrete(d) => Sizes::Discrete {
                width: d.width,
                height: d.height,
                fps: dev
                    .enum_frameintervals(fourcc, d.width, d.height)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|i| match i.interval {
                        FrameIntervalEnum::Discrete(t) if t.numerator > 0 => {
                            Some(t.denominator as f64 / t.numerator as f64)
                        }
                        _ => None,
                    })
                    .collect(),
            },
            FrameSizeEnum::Stepwise(s) => Sizes::Stepwise {
                min: (s.min_width, s.min_height),
                max: (s.max_width, s.max_height),
                step: (s.step_width, s.step_height),
            },
        })
        .collect()
}

/// Describes one node (for `breedcam cameras`).
pub fn probe(path: &Path) -> Result<DeviceInfo, Error> {
    let dev = open_device(path)?;
    describe(&dev, path)
}

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
    /// breedcam decodes (USB devices first), at `want` (or what [`negotiate`] picks near it).
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
                Err(e) => why.push(e.to_string()),
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

    fn discrete(sizes: &[(u32, u32)]) -> Vec<Sizes> {
        sizes
            .iter()
            .map(|&(width, height)| Sizes::Discrete {
                width,
                height,
                fps: vec![30.0],
            })
            .collect()
    }

    fn offer(fourcc: &[u8; 4], description: &str, sizes: Vec<Sizes>) -> FormatOffer {
        FormatOffer {
            fourcc: *fourcc,
            description: description.into(),
            sizes,
        }
    }

    const WEBCAM: [(u32, u32); 5] = [(160, 120), (320, 240), (640, 480), (800, 600), (1280, 720)];

    fn with_fps(sizes: &[(u32, u32, f64)]) -> Vec<Sizes> {
        sizes
            .iter()
            .map(|&(width, height, fps)| Sizes::Discrete {
                width,
                height,
                fps: vec![fps],
            })
            .collect()
    }

    #[test]
    fn the_cheapest_decode_at_the_requested_size_wins() {
        let offers = [
            offer(b"MJPG", "Motion-JPEG", discrete(&WEBCAM)),
            offer(b"YUYV", "YUYV 4:2:2", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (640, 480)).unwrap();
        assert_eq!(
            c,
            Choice {
                format: Format::Yuyv,
                width: 640,
                height: 480
            }
        );
        assert_eq!(c.to_string(), "YUYV 640x480");
        // What libcamera's V4L2 layer offers a Pi CSI camera: packed RGB is a copy.
        let offers = [
            offer(b"YU12", "Planar YUV 4:2:0", discrete(&WEBCAM)),
            offer(b"NV12", "Y/UV 4:2:0", discrete(&WEBCAM)),
            offer(b"BGR3", "24-bit BGR 8-8-8", discrete(&WEBCAM)),
            offer(b"RGB3", "24-bit RGB 8-8-8", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "RGB3 640x480");
        let c = negotiate("/dev/video0", &offers[..3], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "BGR3 640x480");
        let c = negotiate("/dev/video0", &offers[..2], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "YU12 640x480");
        let c = negotiate("/dev/video0", &offers[1..2], (640, 480)).unwrap();
        assert_eq!(c.to_string(), "NV12 640x480");
    }

    #[test]
    fn mjpeg_wins_where_the_raw_format_is_slow_or_too_large() {
        // A USB 2 webcam: YUYV 1280x720 at 10 fps, MJPEG at 30.
        let offers = [
            offer(
                b"YUYV",
                "YUYV 4:2:2",
                with_fps(&[(640, 480, 30.0), (1280, 720, 10.0)]),
            ),
            offer(
                b"MJPG",
                "Motion-JPEG",
                with_fps(&[(640, 480, 30.0), (1280, 720, 30.0)]),
            ),
        ];
        let c = negotiate("cam", &offers, (1280, 720)).unwrap();
        assert_eq!(c.to_string(), "MJPEG 1280x720");
        assert_eq!(
            negotiate("cam", &offers, (640, 480)).unwrap().to_string(),
            "YUYV 640x480"
        );
        // RGB3 only far larger than asked: 1920x1080 copied costs more than 640x480 YUYV.
        let offers = [
            offer(b"RGB3", "", discrete(&[(1920, 1080)])),
            offer(b"YUYV", "", discrete(&[(640, 480)])),
        ];
        let c = negotiate("cam", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "YUYV 640x480");
        // A size that covers the request beats a cheaper format that cannot.
        let offers = [
            offer(b"RGB3", "", discrete(&[(320, 240)])),
            offer(b"MJPG", "", discrete(&[(640, 480)])),
        ];
        let c = negotiate("cam", &offers, (640, 480)).unwrap();
        assert_eq!(c.to_string(), "MJPEG 640x480");
    }

    #[test]
    fn a_chosen_format_is_the_only_candidate() {
        let offers = [
            offer(b"RGB3", "", discrete(&WEBCAM)),
            offer(b"NV12", "", discrete(&WEBCAM)),
        ];
        let c = negotiate_among("cam", &offers, (640, 480), &[Format::Nv12]).unwrap();
        assert_eq!(c.to_string(), "NV12 640x480");
        let e = negotiate_among("cam", &offers, (640, 480), &[Format::Mjpeg]).unwrap_err();
        assert_eq!(e, "cam: does not offer MJPEG; it offers RGB3, NV12");
    }

    #[test]
    fn yuyv_is_taken_when_nothing_else_decodes() {
        let offers = [
            offer(b"GREY", "8-bit Greyscale", discrete(&[(640, 480)])),
            offer(b"YUYV", "YUYV 4:2:2", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (1280, 720)).unwrap();
        assert_eq!((c.format, c.width, c.height), (Format::Yuyv, 1280, 720));
    }

    #[test]
    fn size_is_exact_else_the_smallest_that_covers_else_the_largest() {
        let offers = [offer(b"MJPG", "", discrete(&WEBCAM))];
        let size = |want| {
            let c = negotiate("cam", &offers, want).unwrap();
            (c.width, c.height)
        };
        assert_eq!(size((320, 240)), (320, 240));
        // Not offered: the smallest size covering both dimensions.
        assert_eq!(size((600, 400)), (640, 480));
        assert_eq!(size((700, 500)), (800, 600));
        // Wider than 800x600 but not taller: only 1280x720 covers it.
        assert_eq!(size((1000, 500)), (1280, 720));
        // Larger than anything offered: the largest.
        assert_eq!(size((1920, 1080)), (1280, 720));
    }

    #[test]
    fn stepwise_ranges_clamp_and_round_to_their_step() {
        let range = Sizes::Stepwise {
            min: (48, 32),
            max: (1920, 1080),
            step: (16, 8),
        };
        let offers = [offer(b"YUYV", "", vec![range])];
        let size = |want| {
            let c = negotiate("cam", &offers, want).unwrap();
            (c.width, c.height)
        };
        assert_eq!(size((640, 480)), (640, 480));
        // 650 = 48 + 37*16 + 10: rounded down to 640; 485 -> 480.
        assert_eq!(size((650, 485)), (640, 480));
        assert_eq!(size((4000, 3000)), (1920, 1080));
        assert_eq!(size((10, 10)), (48, 32));
        // A driver that lists no sizes is asked for the request.
        let bare = [offer(b"MJPG", "", vec![])];
        let c = negotiate("cam", &bare, (640, 480)).unwrap();
        assert_eq!((c.width, c.height), (640, 480));
    }

    #[test]
    fn no_usable_format_names_the_device_and_what_it_offers() {
        let offers = [
            offer(
                b"GREY",
                "8-bit Greyscale",
                discrete(&[(640, 480), (320, 240)]),
            ),
            offer(b"RGGB", "8-bit Bayer RGRG/GBGB", discrete(&[(1920, 1080)])),
        ];
        let e = negotiate("/dev/video3", &offers, (640, 480)).unwrap_err();
        assert_eq!(
            e,
            "/dev/video3: no capture format breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, \
             MJPEG); it offers GREY (8-bit Greyscale) 640x480, 320x240; RGGB (8-bit Bayer \
             RGRG/GBGB) 1920x1080"
        );
        let e = negotiate("/dev/video3", &[], (640, 480)).unwrap_err();
        assert_eq!(e, "/dev/video3: offers no capture formats at all");
    }

    #[test]
    fn sizes_print_with_their_frame_rates() {
        let s = Sizes::Discrete {
            width: 640,
            height: 480,
            fps: vec![30.0, 15.0, 7.5],
        };
        assert_eq!(s.to_string(), "640x480 (30/15/7.5 fps)");
        let r = Sizes::Stepwise {
            min: (2, 2),
            max: (640, 480),
            step: (2, 2),
        };
        assert_eq!(r.to_string(), "2x2 to 640x480 in steps of 2x2");
    }

    #[test]
    fn open_errors_name_the_device_and_what_to_do() {
        let p = Path::new("/dev/video7");
        let msg = |errno| open_error(p, &io::Error::from_raw_os_error(errno)).to_string();
        assert!(msg(libc::ENOENT).starts_with("/dev/video7: no such device"));
        assert!(msg(libc::EACCES).contains("permission denied"));
        assert!(msg(libc::EACCES).contains("video group"));
        assert!(msg(libc::ENODEV).contains("unplugged"));
        assert!(msg(libc::ENOTTY).contains("not a V4L2 device"));
        for errno in [libc::ENOENT, libc::EACCES, libc::ENODEV, libc::ENOTTY] {
            assert!(open_error(p, &io::Error::from_raw_os_error(errno)).is_bad_input());
        }
        let busy = open_error(p, &io::Error::from_raw_os_error(libc::EBUSY));
        assert!(!busy.is_bad_input() && busy.to_string().starts_with("/dev/video7: "));
    }

    #[test]
    fn device_nodes_are_found_in_number_order() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["video10", "video2", "video0", "vbi0", "videofoo", "media0"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let names: Vec<String> = video_nodes(dir.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["video0", "video2", "video10"]);
        assert!(video_nodes(&dir.path().join("absent")).is_empty());
    }

    #[test]
    fn files_that_are_not_cameras_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("video0");
        std::fs::write(&file, b"not a camera").unwrap();
        let e = Camera::open(Some(&file), DEFAULT_SIZE).err().unwrap();
        assert!(e.is_bad_input(), "{e}");
        assert!(e.to_string().contains("not a device node"), "{e}");
        // A character device that is not V4L2: the kernel refuses the capability query
        // (qemu-user, running the aarch64 tests, answers ENOSYS instead: not checked there).
        let e = Camera::open(Some(Path::new("/dev/null")), DEFAULT_SIZE)
            .err()
            .unwrap();
        if cfg!(target_arch = "x86_64") {
            assert_eq!(
                e.to_string(),
                "/dev/null: not a V4L2 device (Inappropriate ioctl for device (os error 25))"
            );
        }
        let e = probe(&dir.path().join("video9")).err().unwrap();
        assert!(e.to_string().contains("no such device"), "{e}");
    }

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
