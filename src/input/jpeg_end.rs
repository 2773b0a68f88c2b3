//! Whether a JPEG's data is all there: its markers are walked from SOI to EOI (through every
//! scan's entropy-coded data), so a file cut short, which the decoder would quietly fill
//! with grey, is caught. A thumbnail's EOI inside an APP1 (EXIF) segment does not count:
//! segments are skipped by their length.

/// `Err` with the reason when `jpeg` ends before its EOI marker. Bytes after the EOI (some
/// cameras pad) are fine.
pub fn check_complete(jpeg: &[u8]) -> Result<(), String> {
    let cut = |what: &str| {
        Err(format!(
            "the JPEG data ends early ({what}): the file is truncated"
        ))
    };
    if !jpeg.starts_with(&[0xFF, 0xD8]) {
        return Err("no JPEG start marker".into());
    }
    let mut i = 2;
    loop {
        // The next marker: 0xFF (any number of fill bytes) then a code.
        while i < jpeg.len() && jpeg[i] == 0xFF && jpeg.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(0xFF), Some(&code)) = (jpeg.get(i), jpeg.get(i + 1)) else {
            return cut("no end-of-image marker");
        };
        i += 2;
        match code {
            0xD9 => return Ok(()),
            // Standalone markers: no length.
            0x01 | 0xD0..=0xD7 => continue,
            _ => {}
        }
        let Some(len) = jpeg
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
        else {
            return cut("in a segment header");
        };
        if len < 2 || i + len > jpeg.len() {
            return cut("inside a segment");
        }
        i += len;
        if code == 0xDA {
            // Entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a
            // restart marker.
            loop {
                let Some(at) = jpeg[i..].iter().position(|&b| b == 0xFF) else {
                    return cut("inside the picture data");
                };
                i += at;
                match jpeg.get(i + 1) {
                    None => return cut("inside the picture data"),
                    Some(0x00 | 0xD0..=0xD7 | 0xFF) => i += 1,
                    Some(_) => break,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg() -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 4, y as u8 * 5, 90]));
        crate::input::testing::encode(&img.into(), image::ImageFormat::Jpeg)
    }

    #[test]
    fn a_whole_jpeg_is_complete_and_any_cut_is_not() {
        let j = jpeg();
        assert_eq!(check_complete(&j), Ok(()));
        let mut padded = j.clone();
        padded.extend_from_slice(&[0; 100]);
        assert_eq!(check_complete(&padded), Ok(()));
        for cut in 2..j.len() {
            let e = check_complete(&j[..cut]).unwrap_err();
            assert!(e.contains("truncated"), "cut at {cut}: {e}");
        }
    }
}
