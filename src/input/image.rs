//! Image bytes (JPEG, PNG, BMP) to RGB8, within limits, the right way up.
//!
//! - Limits: at most [`MAX_SIDE`] pixels a side, [`MAX_PIXELS`] pixels in all, and a
//!   decoded buffer of at most [`MAX_DECODED_BYTES`]; the header is checked before any
//!   pixel buffer is allocated, so a small file that inflates to a huge picture (a
//!   "decompression bomb") is refused at once. With these, classifying any single input
//!   peaks well under 300 MB (the decoded buffer, its RGB8 copy and, for a turned photo,
//!   the turned copy, plus the model).
//! - A JPEG whose data ends before its end-of-image marker is an error (the decoder would
//!   fill the missing part with grey and the picture would still be classified).
//! - EXIF orientation (phone photos store the sensor's pixels and a "turn me" tag) is
//!   applied, so the crop and the model see the picture as it was taken.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

/// The largest width or height decoded.
pub const MAX_SIDE: u32 = 16_384;
/// The most pixels decoded (32 Mi: 6912x4856, more than a 30-megapixel camera's photo).
pub const MAX_PIXELS: u64 = 32 << 20;
/// The largest decoded buffer, in bytes (96 MiB: 32 Mi pixels at 3 bytes, 24 Mi at 4, 12 Mi
/// at 8 for 16-bit RGBA).
pub const MAX_DECODED_BYTES: u64 = 96 << 20;

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_DECODED_BYTES);
    l
}

/// Decodes image bytes (JPEG, PNG, BMP) to RGB8, turned by its EXIF orientation; errors say
/// why (not an image, over the limits, truncated, corrupt).
pub fn decode(bytes: &[u8]) -> Result<RgbImage, String> {
    let format =
        image::guess_format(bytes).map_err(|_| "not a JPEG, PNG or BMP image".to_string())?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp
    ) {
        return Err(format!(
            "a {format:?} image: only JPEG, PNG and BMP are read"
        ));
    }
    if format == ImageFormat::Jpeg {
        super::jpeg_end::check_complete(bytes)?;
    }
    let cannot = |e: image::ImageError| format!("cannot decode {format:?} image: {e}");
    let reader = |limits: Limits| {
        let mut r = ImageReader::with_format(Cursor::new(bytes), format);
        r.limits(limits);
        r
    };
    // The header alone (no pixel buffer yet) for the size, so that the error can say it;
    // the decoder proper has the limits too.
    let (w, h) = reader(Limits::no_limits())
        .into_dimensions()
        .map_err(cannot)?;
    let too_big = || {
        format!(
            "{w}x{h} pixels is more than breedcam decodes (at most {MAX_SIDE} a side, {} \
             megapixels, {} MiB decoded): scale it down",
            MAX_PIXELS >> 20,
            MAX_DECODED_BYTES >> 20
        )
    };
    let mut decoder = reader(limits()).into_decoder().map_err(|e| match e {
        image::ImageError::Limits(_) => too_big(),
        e => cannot(e),
    })?;
    if w == 0 || h == 0 {
        return Err("image is empty".into());
    }
    if w > MAX_SIDE
        || h > MAX_SIDE
        || w as u64 * h as u64 > MAX_PIXELS
        || decoder.total_bytes() > MAX_DECODED_BYTES
    {
        return Err(too_big());
    }
    // A broken EXIF block is not worth refusing the photo for: it is shown as stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(cannot)?;
    let mut rgb = DynamicImage::ImageRgb8(img.into_rgb8());
    rgb.apply_orientation(orientation);
    Ok(rgb.into_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::input::testing::{encode, png_chunk, png_header, with_orientation};

    /// A PNG that says it is `w`x`h` RGB, with a few bytes of (all zero) picture data.
    fn png_claiming(w: u32, h: u32) -> Vec<u8> {
        let mut png = png_header(w, h, 2);
        // zlib: a fixed-Huffman block of literal zeros (not final).
        png_chunk(&mut png, b"IDAT", &[0x78, 0x01, 0x62, 0x00, 0x02, 0x00]);
        png_chunk(&mut png, b"IEND", &[]);
        png
    }

    #[test]
    fn a_bomb_is_refused_from_its_header() {
        // 23000x23000 RGB would be 1.5 GiB decoded.
        let e = decode(&png_claiming(23_000, 23_000)).unwrap_err();
        assert!(e.contains("more than breedcam decodes"), "{e}");
        // Within each side's limit, but too many pixels in all.
        let e = decode(&png_claiming(16_000, 16_000)).unwrap_err();
        assert!(
            e.starts_with("16000x16000 pixels is more than breedcam decodes (at most 16384 a side, 32 megapixels"),
            "{e}"
        );
    }

    fn jpeg(img: &RgbImage) -> Vec<u8> {
        encode(&DynamicImage::ImageRgb8(img.clone()), ImageFormat::Jpeg)
    }

    #[test]
    fn exif_orientation_turns_the_picture() {
        // 48x32, stored as the sensor saw it: top half red, bottom half blue.
        let stored = RgbImage::from_fn(48, 32, |_, y| {
            image::Rgb(if y < 16 { [255, 0, 0] } else { [0, 0, 255] })
        });
        let plain = decode(&jpeg(&stored)).unwrap();
        assert_eq!(plain.dimensions(), (48, 32));
        // Orientation 6: turn 90 degrees clockwise to show. The stored top (red) becomes the
        // right-hand side, the stored bottom (blue) the left.
        let turned = decode(&with_orientation(&jpeg(&stored), 6)).unwrap();
        assert_eq!(turned.dimensions(), (32, 48));
        let (left, right) = (turned.get_pixel(4, 24).0, turned.get_pixel(27, 24).0);
        assert!(left[2] > 200 && left[0] < 60, "left {left:?}");
        assert!(right[0] > 200 && right[2] < 60, "right {right:?}");
    }

    #[test]
    fn a_truncated_jpeg_is_an_error() {
        let img = RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 3, y as u8 * 3, 7]));
        let j = jpeg(&img);
        for keep in [j.len() / 10, j.len() / 2, j.len() - 2] {
            let e = decode(&j[..keep]).unwrap_err();
            assert!(e.contains("truncated"), "kept {keep} of {}: {e}", j.len());
        }
        assert!(decode(&j).is_ok());
    }
}
