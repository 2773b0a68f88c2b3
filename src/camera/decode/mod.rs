//! Frames to RGB pictures, whatever their pixel format: one file per format family
//! ([`mjpeg`], [`yuv`], [`rgb`]); image files go through the image decoder.

pub mod mjpeg;
pub mod rgb;
pub mod yuv;

use image::RgbImage;

use super::{Format, Frame};

/// Why a frame could not become a picture: counted and skipped, never fatal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}: {reason}")]
pub struct BadFrame {
    pub origin: String,
    pub reason: String,
}

/// Any frame to an RGB picture.
pub fn decode(frame: &Frame) -> Result<RgbImage, BadFrame> {
    let bad = |reason: String| BadFrame {
        origin: frame.origin.clone(),
        reason,
    };
    let img = match frame.format {
        Format::Yuyv => yuv::yuyv_to_rgb(&frame.data, frame.width, frame.height).map_err(bad)?,
        f @ (Format::Yu12 | Format::Nv12) => {
            yuv::yuv420_to_rgb(f, &frame.data, frame.width, frame.height).map_err(bad)?
        }
        f @ (Format::Rgb3 | Format::Bgr3) => {
            rgb::rgb24_to_rgb(f, &frame.data, frame.width, frame.height).map_err(bad)?
        }
        Format::Mjpeg => {
            let jpeg = mjpeg::with_tables(&frame.data).map_err(bad)?;
            crate::preprocess::decode_image(&jpeg).map_err(bad)?
        }
        Format::File => crate::preprocess::decode_image(&frame.data).map_err(bad)?,
    };
    Ok(img)
}

/// Checks a raw frame's size before conversion: the error names the format and the cause.
pub(super) fn check_raw(
    format: Format,
    data: &[u8],
    width: u32,
    height: u32,
) -> Result<usize, String> {
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

pub(super) fn rgb_image(rgb: Vec<u8>, width: u32, height: u32) -> Result<RgbImage, String> {
    RgbImage::from_raw(width, height, rgb).ok_or_else(|| "conversion size".to_string())
}

/// A frame of `format` with `data`, as the decoders' tests build them.
#[cfg(test)]
fn test_frame(format: Format, w: u32, h: u32, data: Vec<u8>) -> Frame {
    Frame {
        format,
        width: w,
        height: h,
        data,
        sequence: 1,
        origin: "test".into(),
    }
}
