//! Packed 24-bit RGB frames (RGB3, BGR3): a copy, with the channels swapped for BGR3.

use image::RgbImage;

use super::{check_raw, rgb_image};
use crate::camera::Format;

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

#[cfg(test)]
mod tests {
    use super::super::{decode, test_frame};
    use crate::camera::Format;

    #[test]
    fn rgb3_and_bgr3_decode_known_colours() {
        let rgb = [[255u8, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30]];
        let packed: Vec<u8> = rgb.iter().flatten().copied().collect();
        let swapped: Vec<u8> = rgb.iter().flat_map(|p| [p[2], p[1], p[0]]).collect();
        for (format, data) in [(Format::Rgb3, packed), (Format::Bgr3, swapped)] {
            let img = decode(&test_frame(format, 2, 2, data.clone())).unwrap();
            let got: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
            assert_eq!(got, rgb, "{format:?}");
            let e = decode(&test_frame(format, 2, 2, data[..11].to_vec())).unwrap_err();
            assert!(
                e.reason
                    .contains(&format!("truncated {} frame: 11 bytes", format.name())),
                "{e}"
            );
        }
        assert!(decode(&test_frame(Format::Rgb3, 0, 2, vec![])).is_err());
    }
}
