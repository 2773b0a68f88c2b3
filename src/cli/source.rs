//! Where frames come from (`--source`, `--camera`, `--camera-size`, `--camera-format`) and
//! the `WxH` sizes the flags take, checked into a [`SourceSpec`] that opens the source.

use std::path::PathBuf;
use std::time::Duration;

use crate::camera::v4l2::{Camera, DEFAULT_SIZE, FORMATS};
use crate::camera::{rpicam, Files, Format, FrameSource, Synthetic};
use crate::Error;

/// `WxH`, 1..=8192 pixels a side (screens, capture sizes).
pub fn parse_size(size: &str) -> Result<(u32, u32), Error> {
    let bad = || Error::usage(size, "a size must be WxH, 1..8192 a side");
    let (w, h) = size.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err(bad());
    }
    Ok((w, h))
}

/// Where frames come from.
pub enum SourceSpec {
    Synthetic,
    /// A folder's images, each shown for the dwell time.
    Folder(PathBuf, Duration),
    /// A V4L2 camera (`None`: the first capture device) at about this size, in one of
    /// these formats.
    Camera(Option<PathBuf>, (u32, u32), Vec<Format>),
    /// A Raspberry Pi camera module: frames piped from rpicam-vid.
    Rpicam(rpicam::Options),
}

impl SourceSpec {
    /// From `--source`, `--camera` and `--camera-size`: `--camera DEV` alone or with
    /// `--source camera` is that camera, `--source camera` alone the first one.
    pub fn resolve(
        source: Option<&str>,
        camera: Option<&str>,
        size: Option<&str>,
    ) -> Result<SourceSpec, Error> {
        let size = match size {
            Some(s) => parse_size(s)?,
            None => DEFAULT_SIZE,
        };
        let all = FORMATS.to_vec();
        Ok(match (source, camera) {
            (None | Some("camera"), Some(dev)) => SourceSpec::Camera(Some(dev.into()), size, all),
            (Some("camera"), None) => SourceSpec::Camera(None, size, all),
            (Some(other), Some(dev)) => {
                return Err(Error::usage(
                    dev,
                    format!("--camera needs --source camera, not --source {other}"),
                ))
            }
            (None | Some("synthetic"), None) => SourceSpec::Synthetic,
            (Some("rpicam"), None) => SourceSpec::Rpicam(rpicam::Options::new(size.0, size.1)),
            (Some(dir), None) => SourceSpec::Folder(dir.into(), Duration::ZERO),
        })
    }

    /// `--camera-format` and `--rpicam-arg`: a V4L2 camera captures only that format;
    /// rpicam-vid writes frames in that codec and takes the extra options (which other
    /// sources ignore, so a config file can keep them while `--source` says otherwise).
    pub fn configure(
        &mut self,
        format: Option<&str>,
        rpicam_args: Option<Vec<String>>,
    ) -> Result<(), Error> {
        if let SourceSpec::Rpicam(o) = self {
            return rpicam::configure(o, format, rpicam_args);
        }
        match format {
            Some(name) => self.only_format(name),
            None => Ok(()),
        }
    }

    /// `--dwell`: how long a folder's photos stay on screen each (other sources keep their
    /// own pace and ignore it).
    pub fn set_dwell(&mut self, dwell: Duration) {
        if let SourceSpec::Folder(_, d) = self {
            *d = dwell;
        }
    }

    /// `--camera-format NAME`: capture only that format; only a camera has formats.
    pub fn only_format(&mut self, name: &str) -> Result<(), Error> {
        let format = Format::parse(name).ok_or_else(|| {
            Error::usage(
                "--camera-format",
                format!("{name}: not one of RGB3, BGR3, YU12, NV12, YUYV, MJPEG"),
            )
        })?;
        match self {
            SourceSpec::Camera(_, _, formats) => {
                *formats = vec![format];
                Ok(())
            }
            _ => Err(Error::usage(
                "--camera-format",
                "needs a camera (--camera or --source camera)",
            )),
        }
    }

    pub fn open(&self) -> Result<Box<dyn FrameSource>, Error> {
        Ok(match self {
            SourceSpec::Synthetic => Box::new(Synthetic::new(8, 640, 480)?),
            SourceSpec::Folder(dir, dwell) => {
                if !dir.is_dir() {
                    return Err(not_a_source(dir));
                }
                Box::new(Files::with_dwell(dir, *dwell)?)
            }
            SourceSpec::Camera(dev, size, formats) => {
                Box::new(Camera::open_as(dev.as_deref(), *size, formats)?)
            }
            SourceSpec::Rpicam(o) => Box::new(rpicam::RpiCam::open(o)?),
        })
    }
}

/// `--source` given something that is neither a keyword nor a folder.
fn not_a_source(dir: &std::path::Path) -> Error {
    let what = if dir.exists() {
        "not a folder"
    } else {
        "no such folder"
    };
    Error::usage(
        format!("--source {}", dir.display()),
        format!(
            "{what}; a source is `synthetic`, `camera`, `rpicam` or a folder of images \
             (a camera device goes in --camera)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_wxh_within_limits() {
        assert_eq!(parse_size("800x480").unwrap(), (800, 480));
        for bad in ["800", "0x480", "800x8193", "x", "800x-1", ""] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.is_bad_input(), "{bad}");
            assert_eq!(
                e.to_string(),
                format!("{bad}: a size must be WxH, 1..8192 a side")
            );
        }
    }

    #[test]
    fn a_camera_flag_means_a_camera_and_formats_need_one() {
        let cam = SourceSpec::resolve(None, Some("/dev/video2"), Some("320x240")).unwrap();
        assert!(
            matches!(&cam, SourceSpec::Camera(Some(d), (320, 240), f) if d.to_str() == Some("/dev/video2") && f.len() == FORMATS.len())
        );
        assert!(matches!(
            SourceSpec::resolve(Some("camera"), None, None).unwrap(),
            SourceSpec::Camera(None, DEFAULT_SIZE, _)
        ));
        assert!(matches!(
            SourceSpec::resolve(None, None, None).unwrap(),
            SourceSpec::Synthetic
        ));
        let e = SourceSpec::resolve(Some("photos"), Some("/dev/video0"), None)
            .err()
            .unwrap();
        assert_eq!(
            e.to_string(),
            "/dev/video0: --camera needs --source camera, not --source photos"
        );
        let mut folder = SourceSpec::resolve(Some("photos"), None, None).unwrap();
        assert!(folder.only_format("YUYV").is_err());
        folder.set_dwell(Duration::from_secs(3));
        assert!(matches!(&folder, SourceSpec::Folder(_, d) if d.as_secs() == 3));
        let mut cam = cam;
        cam.only_format("mjpeg").unwrap();
        assert!(matches!(&cam, SourceSpec::Camera(_, _, f) if f == &vec![Format::Mjpeg]));
        let e = cam.only_format("H264").unwrap_err().to_string();
        assert!(e.starts_with("--camera-format: H264: not one of"), "{e}");
    }

    #[test]
    fn a_source_that_is_no_keyword_and_no_folder_lists_the_keywords() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("photo.jpg");
        std::fs::write(&file, b"x").unwrap();
        let missing = dir.path().join("synthtic");
        for (path, what) in [(&missing, "no such folder"), (&file, "not a folder")] {
            let spec = SourceSpec::resolve(path.to_str(), None, None).unwrap();
            let e = spec.open().err().unwrap();
            assert!(e.is_bad_input());
            assert_eq!(
                e.to_string(),
                format!(
                    "--source {}: {what}; a source is `synthetic`, `camera`, `rpicam` or a \
                     folder of images (a camera device goes in --camera)",
                    path.display()
                )
            );
        }
    }
}
