//! V4L2 capture (USB UVC webcams, anything with single-planar video capture) with the `v4l`
//! crate: find and describe devices, negotiate a format, stream through mmap buffers.
//!
//! The decision of which format and size to ask for is [`negotiate`], a pure function of
//! what a device offers, so it is tested without a camera. Its rule:
//! - **Format**: MJPEG when the device offers it (a USB 2 webcam sends 640x480 at full frame
//!   rate only compressed), else YUYV; a device with neither is an error that names the
//!   device and lists what it offers.
//! - **Size**, within that format: the requested size when offered; else the smallest
//!   offered size at least as large in both dimensions (the fewest pixels to decode that
//!   still cover the request); else, when every size is smaller, the largest one. A stepwise
//!   or continuous range offers the request clamped to the range and rounded down to its
//!   step. A driver that lists no sizes is asked for the request, and the driver's answer
//!   is used.
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

const MJPG: [u8; 4] = *b"MJPG";
const YUYV: [u8; 4] = *b"YUYV";

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
        let name = match self.format {
            Format::Mjpeg => "MJPEG",
            Format::Yuyv => "YUYV",
            Format::File => "file",
        };
        write!(f, "{name} {}x{}", self.width, self.height)
    }
}

/// Picks the format and size to ask `device` for, given what it offers (see the module
/// docs for the rule). The error names the device and lists every format it offers.
pub fn negotiate(device: &str, offers: &[FormatOffer], want: (u32, u32)) -> Result<Choice, String> {
    let pick = |fourcc: [u8; 4]| offers.iter().find(|o| o.fourcc == fourcc);
    let (offer, format) = match (pick(MJPG), pick(YUYV)) {
        (Some(o), _) => (o, Format::Mjpeg),
        (None, Some(o)) => (o, Format::Yuyv),
        (None, None) if offers.is_empty() => {
            return Err(format!("{device}: offers no capture formats at all"));
        }
        (None, None) => {
            let list: Vec<String> = offers.iter().map(describe_offer).collect();
            return Err(format!(
                "{device}: no MJPEG or YUYV capture format; it offers {}",
                list.join("; ")
            ));
        }
    };
    let (width, height) = pick_size(&offer.sizes, want);
    Ok(Choice {
        format,
        width,
        height,
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
    /// Bytes per line (YUYV rows may be padded).
    stride: usize,
    /// `None` only while being dropped.
    stream: Option<Stream<'static>>,
    started: bool,
    sequence: u64,
    skipped_errors: u64,
    _device: Device,
}

impl Camera {
    /// Opens `path`, or with `None` the first capture device under /dev that offers MJPEG
    /// or YUYV (USB devices first), at `want` (or what [`negotiate`] picks near it).
    pub fn open(path: Option<&Path>, want: (u32, u32)) -> Result<Camera, Error> {
        if let Some(p) = path {
            return Camera::open_path(p, want);
        }
        let mut nodes = video_nodes(Path::new("/dev"));
        // USB webcams first: a Pi's ISP has single-planar capture nodes that offer YUYV but
        // only ever send what is fed to it.
        let usb = |p: &PathBuf| probe(p).is_ok_and(|i| i.bus.starts_with("usb-"));
        nodes.sort_by_cached_key(|p| !usb(p));
        let mut why = vec![];
        for node in &nodes {
            match Camera::open_path(node, want) {
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

    fn open_path(path: &Path, want: (u32, u32)) -> Result<Camera, Error> {
        let dev = open_device(path)?;
        let info = describe(&dev, path)?;
        if let Some(why) = &info.unusable {
            return Err(Error::BadInput {
                path: path.into(),
                msg: format!("{} ({}, {})", why, info.driver, info.card),
            });
        }
        let name = path.display().to_string();
        let choice = negotiate(&name, &info.formats, want).map_err(|msg| Error::BadInput {
            path: path.into(),
            msg: msg
                .strip_prefix(&format!("{name}: "))
                .unwrap_or(&msg)
                .to_string(),
        })?;
        let runtime =
            |what: &str, e: io::Error| Error::Runtime(format!("{}: {what}: {e}", path.display()));
        let fourcc = FourCC::new(match choice.format {
            Format::Yuyv => &YUYV,
            _ => &MJPG,
        });
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

/// Tightly packed YUYV rows from rows `stride` bytes apart.
fn unpad_rows(data: &[u8], width: u32, height: u32, stride: usize) -> Vec<u8> {
    let row = width as usize * 2;
    if stride <= row {
        return data.to_vec();
    }
    let mut out = Vec::with_capacity(row * height as usize);
    for line in data.chunks(stride).take(height as usize) {
        out.extend_from_slice(&line[..row.min(line.len())]);
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
            let data = match self.choice.format {
                Format::Yuyv => unpad_rows(
                    &buf[..used],
                    self.choice.width,
                    self.choice.height,
                    self.stride,
                ),
                _ => buf[..used].to_vec(),
            };
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

    #[test]
    fn mjpeg_is_preferred_at_the_requested_size() {
        let offers = [
            offer(b"YUYV", "YUYV 4:2:2", discrete(&WEBCAM)),
            offer(b"MJPG", "Motion-JPEG", discrete(&WEBCAM)),
        ];
        let c = negotiate("/dev/video0", &offers, (640, 480)).unwrap();
        assert_eq!(
            c,
            Choice {
                format: Format::Mjpeg,
                width: 640,
                height: 480
            }
        );
        assert_eq!(c.to_string(), "MJPEG 640x480");
    }

    #[test]
    fn yuyv_is_the_fallback() {
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
            "/dev/video3: no MJPEG or YUYV capture format; it offers GREY (8-bit Greyscale) \
             640x480, 320x240; RGGB (8-bit Bayer RGRG/GBGB) 1920x1080"
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
    fn padded_yuyv_rows_are_packed() {
        // 2x2 pixels, 4 bytes per row, padded to 6.
        let data = [1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 0];
        assert_eq!(unpad_rows(&data, 2, 2, 6), [1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(unpad_rows(&data[..8], 2, 2, 4), &data[..8]);
    }
}
