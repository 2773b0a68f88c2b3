//! Finding and describing V4L2 device nodes: what each one is, which formats and sizes it
//! offers, and errors that name the device and say what to do.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use v4l::capability::Flags as Caps;
use v4l::frameinterval::FrameIntervalEnum;
use v4l::framesize::FrameSizeEnum;
use v4l::video::Capture;
use v4l::{Device, FourCC};

use super::negotiation::FormatOffer;
use super::negotiation::Sizes;
use crate::Error;

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
        // EACCES: the node's owner and mode refuse this user.
        Some(libc::EACCES) => bad(format!(
            "permission denied ({e}); add the user to the video group \
             (sudo usermod -aG video $USER, then log in again)"
        )),
        // EPERM: not the file's permissions but a policy, e.g. a systemd unit's device
        // list (DevicePolicy=closed, as breedcam.service has): joining a group changes nothing.
        Some(libc::EPERM) => bad(format!(
            "not permitted ({e}): a sandbox refuses the device, not its file permissions; \
             as a systemd service its unit must allow it (DeviceAllow=char-video4linux rw, \
             in a drop-in: sudo systemctl edit breedcam)"
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

pub(super) fn open_device(path: &Path) -> Result<Device, Error> {
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
pub(super) fn describe(dev: &Device, path: &Path) -> Result<DeviceInfo, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::v4l2::{Camera, DEFAULT_SIZE};

    #[test]
    fn open_errors_name_the_device_and_what_to_do() {
        let p = Path::new("/dev/video7");
        let msg = |errno| open_error(p, &io::Error::from_raw_os_error(errno)).to_string();
        assert!(msg(libc::ENOENT).starts_with("/dev/video7: no such device"));
        assert!(msg(libc::EACCES).contains("permission denied"));
        assert!(msg(libc::EACCES).contains("video group"));
        // EPERM is a sandbox (a unit's DeviceAllow=), where the video group does not help
        assert!(msg(libc::EPERM).starts_with("/dev/video7: not permitted"));
        assert!(msg(libc::EPERM).contains("DeviceAllow=char-video4linux"));
        assert!(!msg(libc::EPERM).contains("video group"));
        assert!(msg(libc::ENODEV).contains("unplugged"));
        assert!(msg(libc::ENOTTY).contains("not a V4L2 device"));
        for errno in [
            libc::ENOENT,
            libc::EACCES,
            libc::EPERM,
            libc::ENODEV,
            libc::ENOTTY,
        ] {
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
}
