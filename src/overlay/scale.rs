//! The camera picture scaled for the screen (display only, so the model's exact resize is not
//! needed here): bilinear interpolation in 12-bit fixed point (two source rows blended into
//! one row of 20-bit values, then two of those per output pixel), after halving the picture
//! with 2x2 box averages while it is still more than twice the wanted size, so no source
//! pixel is skipped. On enlargement the `image` crate's triangle filter is the same
//! interpolation in `f32` (its tent has a support of one source pixel), so the result
//! differs from it by rounding only (tested: at most 1 level), at about a quarter of the
//! instructions; shrinking costs about a third of the triangle filter's.

use image::RgbImage;

const ONE: u32 = 1 << 12;

/// For each output position: the two source indices and the second one's weight in 1/4096.
fn taps(n_in: u32, n_out: u32) -> Vec<(usize, usize, u32)> {
    let (n_in, n_out) = (n_in.max(1) as u64, n_out.max(1) as u64);
    (0..n_out)
        .map(|o| {
            // The output pixel's centre in source coordinates, (o + 0.5) * n_in / n_out - 0.5,
            // as num / den.
            let num = (2 * o + 1) * n_in;
            let den = 2 * n_out;
            if num <= n_out {
                return (0, 0, 0);
            }
            let num = num - n_out;
            let i0 = (num / den).min(n_in - 1);
            let frac = ((num % den) * ONE as u64 + den / 2) / den;
            let i1 = (i0 + 1).min(n_in - 1);
            (i0 as usize, i1 as usize, frac as u32)
        })
        .collect()
}

/// `src` scaled to `w` x `h`: box-halved while more than twice as large, then bilinear.
pub fn fit(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (w, h) = (w.max(1), h.max(1));
    let mut halved;
    let mut pic = src;
    while pic.width() >= 2 * w && pic.height() >= 2 * h {
        halved = halve(pic);
        pic = &halved;
    }
    if pic.dimensions() == (w, h) {
        return pic.clone();
    }
    bilinear(pic, w, h)
}

/// Each 2x2 block averaged (rounded) into one pixel; an odd last row or column is dropped.
pub fn halve(src: &RgbImage) -> RgbImage {
    let (w, h) = (src.width() / 2, src.height() / 2);
    let stride = src.width() as usize * 3;
    let raw = src.as_raw();
    let mut out = vec![0u8; w as usize * h as usize * 3];
    for (y, dst) in out.chunks_exact_mut(w as usize * 3).enumerate() {
        let r0 = &raw[2 * y * stride..][..stride];
        let r1 = &raw[(2 * y + 1) * stride..][..stride];
        for (x, px) in dst.chunks_exact_mut(3).enumerate() {
            for (c, v) in px.iter_mut().enumerate() {
                let i = 6 * x + c;
                let sum = r0[i] as u32 + r0[i + 3] as u32 + r1[i] as u32 + r1[i + 3] as u32;
                *v = ((sum + 2) / 4) as u8;
            }
        }
    }
    RgbImage::from_raw(w, h, out).expect("buffer of the right size")
}

/// `src` scaled to `w` x `h` by bilinear interpolation (shrinking by more than 2x would
/// skip source pixels: [`fit`] halves first).
pub fn bilinear(src: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (sw, sh) = src.dimensions();
    let (w, h) = (w.max(1), h.max(1));
    let xs = taps(sw, w);
    let ys = taps(sh, h);
    let stride = sw as usize * 3;
    let raw = src.as_raw();
    let mut out = vec![0u8; w as usize * h as usize * 3];
    let mut row = vec![0u32; stride];
    for (&(y0, y1, fy), dst) in ys.iter().zip(out.chunks_exact_mut(w as usize * 3)) {
        let (r0, r1) = (&raw[y0 * stride..][..stride], &raw[y1 * stride..][..stride]);
        for ((t, &a), &b) in row.iter_mut().zip(r0).zip(r1) {
            *t = a as u32 * (ONE - fy) + b as u32 * fy;
        }
        for (&(x0, x1, fx), px) in xs.iter().zip(dst.chunks_exact_mut(3)) {
            let (p0, p1) = (&row[x0 * 3..][..3], &row[x1 * 3..][..3]);
            for c in 0..3 {
                // at most 255 * 4096 * 4096 + 2^23 < 2^32
                let v = p0[c] * (ONE - fx) + p1[c] * fx;
                px[c] = ((v + (1 << 23)) >> 24) as u8;
            }
        }
    }
    RgbImage::from_raw(w, h, out).expect("buffer of the right size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{resize, FilterType};

    #[test]
    fn enlarging_matches_the_triangle_filter_to_one_level() {
        let src = RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x * 37) ^ (y * 11)) as u8])
        });
        for (w, h) in [(64, 48), (100, 75), (304, 228), (1000, 750), (65, 49)] {
            let got = bilinear(&src, w, h);
            let want = resize(&src, w, h, FilterType::Triangle);
            let worst = got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .map(|(&a, &b)| (a as i32 - b as i32).abs())
                .max()
                .unwrap();
            assert!(worst <= 1, "{w}x{h}: off by {worst}");
        }
    }

    #[test]
    fn shrinking_uses_every_source_pixel() {
        // One bright pixel in every 4x4 block: a quarter-size picture must average each
        // block (255 / 16, rounded twice: 16), where plain bilinear would pick single pixels.
        let src = RgbImage::from_fn(640, 480, |x, y| {
            let v = if x % 4 == 1 && y % 4 == 2 { 255 } else { 0 };
            image::Rgb([v, v, v])
        });
        let quarter = fit(&src, 160, 120);
        assert!(quarter.pixels().all(|p| p.0 == [16, 16, 16]));
        // The TFT's picture keeps the mean brightness (about 16).
        let tft = fit(&src, 304, 228);
        let mean = tft.pixels().map(|p| p[0] as f64).sum::<f64>() / (304.0 * 228.0);
        assert!((14.0..18.0).contains(&mean), "{mean}");
        let flat = RgbImage::from_pixel(64, 48, image::Rgb([7, 100, 200]));
        assert!(fit(&flat, 20, 15).pixels().all(|p| p.0 == [7, 100, 200]));
    }
}
