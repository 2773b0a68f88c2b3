//! YUV frames are decoded as ITU-R BT.601 limited range ("studio swing": Y 16..235, Cb/Cr
//! 16..240), which is what UVC webcams, libcamera's YUV420 and vivid send by default, and
//! rows and planes arrive here packed (no padding). A device that reports
//! `V4L2_QUANTIZATION_FULL_RANGE` (Y and Cb/Cr over 0..255, as JPEG uses) is not told apart:
//! its frames come out with more contrast than they have (Y below 16 clipped to black, above
//! 235 to white, colours a little oversaturated, by 255/219 and 255/224); a full-range
//! decode would drop the 16 offset and the 255/219 (Y) and 255/224 (Cb/Cr) scale factors.

use image::RgbImage;

use super::{check_raw, rgb_image};
use crate::camera::Format;

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

#[cfg(test)]
mod tests {
    use super::super::{decode, test_frame};
    use super::*;

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
            let img = decode(&test_frame(format, w, h, data.clone())).unwrap();
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
            let e = decode(&test_frame(format, w, h, data[..data.len() - 1].to_vec())).unwrap_err();
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
}
