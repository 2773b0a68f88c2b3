//! Decoded picture -> the model's input tensor: centre square crop, resize, then each pixel
//! `p` normalised `x = (p - mean) / std` and quantized with the input tensor's scale and zero
//! point, through a 256-entry table per channel built once per model.

use std::path::Path;

use image::imageops;
use image::RgbImage;
use tract_core::prelude::*;

use crate::engine::import::{Normalization, TensorSpec};
use crate::engine::ops::quant::{retyped, tensor_from_raw};
use crate::Error;

/// How a picture is fitted to the model's square input.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Crop {
    /// The largest centred square, then resized (what the reference accuracy figures use).
    #[default]
    #[value(alias = "center")]
    #[serde(alias = "center")]
    Centre,
    /// The whole picture squashed to the input size.
    None,
}

/// Reads and decodes an image file to RGB8 ([`crate::input::read`] with its size cap, then
/// [`decode_image`]). Errors name the file and the cause.
pub fn load_image(path: &Path) -> Result<RgbImage, Error> {
    let bytes = crate::input::read(path, crate::input::Kind::Image)?;
    decode_image(&bytes).map_err(|msg| Error::BadInput {
        path: path.into(),
        msg,
    })
}

/// Decodes image bytes (JPEG, PNG, BMP) to RGB8 within limits, turned by its EXIF
/// orientation ([`crate::input::image::decode`]).
pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, String> {
    crate::input::image::decode(bytes)
}

enum Table {
    /// 8-bit input: per channel, pixel value -> stored byte.
    Quantized(Box<[[u8; 256]; 3]>),
    /// Float input: per channel, pixel value -> normalised value.
    Float(Box<[[f32; 256]; 3]>),
}

/// Turns pictures into input tensors for one model.
pub struct Preprocessor {
    pub width: usize,
    pub height: usize,
    pub crop: Crop,
    table: Table,
    datum_type: DatumType,
}

impl Preprocessor {
    /// For an NHWC RGB input tensor, with the model's normalisation.
    pub fn new(
        input: &TensorSpec,
        norm: &Normalization,
        crop: Crop,
    ) -> Result<Preprocessor, String> {
        let s = &input.shape;
        if s.len() != 4 || s[0] != 1 || s[3] != 3 || s[1] == 0 || s[2] == 0 {
            return Err(format!(
                "input shape {s:?} is not a single RGB image [1, H, W, 3]"
            ));
        }
        let chan = |v: &[f32], c: usize| if v.len() == 3 { v[c] } else { v[0] };
        let real = |c: usize, p: usize| (p as f32 - chan(&norm.mean, c)) / chan(&norm.std, c);
        let table = match (input.datum_type.unquantized(), input.quant) {
            (DatumType::F32, _) => Table::Float(Box::new(std::array::from_fn(|c| {
                std::array::from_fn(|p| real(c, p))
            }))),
            (dt @ (DatumType::U8 | DatumType::I8), Some((scale, zp))) => {
                let (lo, hi) = if dt == DatumType::U8 {
                    (0, 255)
                } else {
                    (-128, 127)
                };
                Table::Quantized(Box::new(std::array::from_fn(|c| {
                    std::array::from_fn(|p| {
                        let q = ((real(c, p) / scale).round() as i32 + zp).clamp(lo, hi);
                        if dt == DatumType::U8 {
                            q as u8
                        } else {
                            q as i8 as u8
                        }
                    })
                })))
            }
            (dt, q) => {
                return Err(format!(
                    "input type {dt:?} (quantization {q:?}) is not supported"
                ))
            }
        };
        Ok(Preprocessor {
            width: s[2],
            height: s[1],
            crop,
            table,
            datum_type: input.datum_type,
        })
    }

    /// The region of a `w` x `h` picture that [`Preprocessor::fit`] keeps, `(x, y, w, h)`.
    pub fn region(&self, w: u32, h: u32) -> (u32, u32, u32, u32) {
        match self.crop {
            Crop::Centre => {
                let side = w.min(h);
                ((w - side) / 2, (h - side) / 2, side, side)
            }
            Crop::None => (0, 0, w, h),
        }
    }

    /// Crops and resizes a picture to the model's input size.
    pub fn fit(&self, img: &RgbImage) -> RgbImage {
        let (w, h) = img.dimensions();
        self.fit_region(img, self.region(w, h))
    }

    /// The `(x, y, w, h)` region of a picture (clamped to it) resized to the model's input
    /// size: a dog's crop (see [`crate::locate`]).
    pub fn fit_region(&self, img: &RgbImage, region: (u32, u32, u32, u32)) -> RgbImage {
        let (w, h) = img.dimensions();
        let x0 = region.0.min(w);
        let y0 = region.1.min(h);
        let cw = region.2.min(w - x0);
        let ch = region.3.min(h - y0);
        let (ow, oh) = (self.width as u32, self.height as u32);
        if (cw, ch) == (ow, oh) || cw == 0 || ch == 0 {
            return imageops::crop_imm(img, x0, y0, cw, ch).to_image();
        }
        triangle_resize(img, (x0, y0, cw, ch), ow, oh)
    }

    /// The input tensor for a picture already at the input size.
    pub fn tensor(&self, fitted: &RgbImage) -> Result<Tensor, Error> {
        if fitted.dimensions() != (self.width as u32, self.height as u32) {
            return Err(Error::Runtime(format!(
                "picture is {:?}, the model takes {}x{}",
                fitted.dimensions(),
                self.width,
                self.height
            )));
        }
        let shape = [1, self.height, self.width, 3];
        let raw = fitted.as_raw();
        let t = match &self.table {
            Table::Quantized(lut) => {
                let bytes: Vec<u8> = raw
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| lut[i % 3][p as usize])
                    .collect();
                tensor_from_raw(self.datum_type, &shape, &bytes)?
            }
            Table::Float(lut) => {
                let v: Vec<f32> = raw
                    .iter()
                    .enumerate()
                    .map(|(i, &p)| lut[i % 3][p as usize])
                    .collect();
                retyped(Tensor::from_shape(&shape, &v)?, self.datum_type)?
            }
        };
        Ok(t)
    }

    /// Crop, resize and quantize in one go.
    pub fn prepare(&self, img: &RgbImage) -> Result<Tensor, Error> {
        self.tensor(&self.fit(img))
    }
}

/// The `image` crate's `resize(.., FilterType::Triangle)` of the `(x, y, w, h)` region of
/// `img`, computed the same way (a vertical pass into f32, then a horizontal one; weights
/// `1 - |d|` over the scaled support, normalised by division; products summed tap by tap
/// from 0.0; clamped and rounded half away from zero), so the bytes are identical (tested),
/// but without a copy of the crop, per-pixel bounds checks and a fourth channel: about
/// 5x faster.
fn triangle_resize(
    img: &RgbImage,
    (x0, y0, w, h): (u32, u32, u32, u32),
    ow: u32,
    oh: u32,
) -> RgbImage {
    let (w, h, ow, oh) = (w as usize, h as usize, ow as usize, oh as usize);
    let stride = img.width() as usize * 3;
    let src = img.as_raw();
    // Vertical pass: (h rows of w pixels) -> (oh rows of w pixels), f32.
    let mut tmp = vec![0f32; oh * w * 3];
    for (oy, row) in tmp.chunks_exact_mut(w * 3).enumerate() {
        let (first, ws) = triangle_weights(oy, h, oh);
        for (i, &wt) in ws.iter().enumerate() {
            let y = y0 as usize + first + i;
            let line = &src[y * stride + x0 as usize * 3..][..w * 3];
            for (t, &p) in row.iter_mut().zip(line) {
                *t += p as f32 * wt;
            }
        }
    }
    // Horizontal pass: (oh rows of w pixels) -> (oh rows of ow pixels), rounded to u8.
    let mut out = vec![0u8; oh * ow * 3];
    let cols: Vec<(usize, Vec<f32>)> = (0..ow).map(|ox| triangle_weights(ox, w, ow)).collect();
    for (row, dst) in tmp.chunks_exact(w * 3).zip(out.chunks_exact_mut(ow * 3)) {
        for ((first, ws), px) in cols.iter().zip(dst.chunks_exact_mut(3)) {
            let mut t = [0f32; 3];
            for (i, &wt) in ws.iter().enumerate() {
                let p = &row[(first + i) * 3..][..3];
                for c in 0..3 {
                    t[c] += p[c] * wt;
                }
            }
            for c in 0..3 {
                // NaN cannot occur (finite pixels, positive weights).
                px[c] = t[c].clamp(0.0, 255.0).round() as u8;
            }
        }
    }
    RgbImage::from_raw(ow as u32, oh as u32, out).expect("buffer of the right size")
}

/// First input index and normalised weights of output position `o` when `n_in` samples
/// become `n_out` (the `image` crate's arithmetic, step for step).
fn triangle_weights(o: usize, n_in: usize, n_out: usize) -> (usize, Vec<f32>) {
    let ratio = n_in as f32 / n_out as f32;
    let sratio = if ratio < 1.0 { 1.0 } else { ratio };
    let support = sratio;
    let centre = (o as f32 + 0.5) * ratio;
    let left = ((centre - support).floor() as i64).clamp(0, n_in as i64 - 1);
    let right = ((centre + support).ceil() as i64).clamp(left + 1, n_in as i64);
    let centre = centre - 0.5;
    let mut ws: Vec<f32> = (left..right)
        .map(|i| {
            let x = (i as f32 - centre) / sratio;
            if x.abs() < 1.0 {
                1.0 - x.abs()
            } else {
                0.0
            }
        })
        .collect();
    let sum: f32 = ws.iter().fold(0.0, |a, &w| a + w);
    for w in ws.iter_mut() {
        *w /= sum;
    }
    (left as usize, ws)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::FilterType;

    fn spec(dt: DatumType, quant: Option<(f32, i32)>) -> TensorSpec {
        TensorSpec {
            name: "in".into(),
            shape: vec![1, 4, 4, 3],
            dtype: String::new(),
            quant,
            datum_type: dt,
        }
    }

    #[test]
    fn default_model_normalisation_maps_pixels_through_its_quantization() {
        // EfficientNet-Lite0: mean 127, std 128, uint8 input scale 0.012566 zero point 131.
        let norm = Normalization {
            mean: vec![127.0],
            std: vec![128.0],
        };
        let p = Preprocessor::new(
            &spec(DatumType::U8, Some((0.012566017, 131))),
            &norm,
            Crop::Centre,
        )
        .unwrap();
        let img = RgbImage::from_fn(4, 4, |x, _| image::Rgb([0, 127, 255 - x as u8]));
        let t = p.prepare(&img).unwrap();
        let bytes = t
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<u8>()
            .unwrap()
            .to_vec();
        // p=0 -> x=-0.992 -> q=round(-78.95)+131=52; p=127 -> 131; p=255 -> x=1.0 -> round(79.58)+131=211
        assert_eq!(&bytes[0..3], &[52, 131, 211]);
        assert_eq!(bytes[3 + 2], 210); // p=254 -> x=0.9922 -> 78.96 -> 79+131
    }

    #[test]
    fn coral_uint8_models_take_raw_pixels() {
        let norm = Normalization {
            mean: vec![128.0],
            std: vec![128.0],
        };
        let p = Preprocessor::new(
            &spec(DatumType::U8, Some((1.0 / 128.0, 128))),
            &norm,
            Crop::None,
        )
        .unwrap();
        let img = RgbImage::from_fn(4, 4, |x, y| image::Rgb([x as u8 * 60, y as u8 * 7, 255]));
        let t = p.prepare(&img).unwrap();
        assert_eq!(
            t.try_as_plain_ram().unwrap().as_slice::<u8>().unwrap(),
            img.as_raw().as_slice()
        );
    }

    #[test]
    fn centre_crop_keeps_the_middle_square() {
        let norm = Normalization {
            mean: vec![0.0],
            std: vec![1.0],
        };
        let p = Preprocessor::new(&spec(DatumType::F32, None), &norm, Crop::Centre).unwrap();
        // 12x4 picture: only the middle 4 columns (4..8) are white.
        let img = RgbImage::from_fn(12, 4, |x, _| {
            if (4..8).contains(&x) {
                image::Rgb([255; 3])
            } else {
                image::Rgb([0; 3])
            }
        });
        let fitted = p.fit(&img);
        assert!(fitted.pixels().all(|px| px.0 == [255; 3]));
    }

    #[test]
    fn undecodable_bytes_say_why() {
        assert!(decode_image(b"definitely not an image")
            .unwrap_err()
            .contains("not a JPEG"));
        let mut png = vec![];
        RgbImage::new(8, 8)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png.truncate(png.len() / 2);
        assert!(decode_image(&png).unwrap_err().contains("cannot decode"));
    }

    #[test]
    fn triangle_resize_is_byte_identical_to_the_image_crate() {
        let mut seed = 99u32;
        for (w, h, ow, oh, crop) in [
            (640, 480, 224, 224, Crop::Centre),
            (640, 480, 260, 260, Crop::Centre),
            (333, 517, 192, 192, Crop::Centre),
            (100, 80, 224, 224, Crop::Centre), // upscaling
            (640, 480, 224, 224, Crop::None),
            (37, 11, 5, 3, Crop::None),
        ] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                // smooth gradients with noise, so rounding lands everywhere
                let n = (seed >> 26) as u8;
                let (x, y) = (x as u8, y as u8);
                image::Rgb([
                    x.wrapping_mul(7).wrapping_add(y) ^ n,
                    y.wrapping_mul(3),
                    (255 - x / 2).wrapping_add(n),
                ])
            });
            let (x0, y0, cw, ch) = match crop {
                Crop::Centre => {
                    let s = w.min(h);
                    ((w - s) / 2, (h - s) / 2, s, s)
                }
                Crop::None => (0, 0, w, h),
            };
            let view = imageops::crop_imm(&img, x0, y0, cw, ch).to_image();
            let want = imageops::resize(&view, ow, oh, FilterType::Triangle);
            let got = triangle_resize(&img, (x0, y0, cw, ch), ow, oh);
            assert_eq!(got.dimensions(), want.dimensions());
            let diff = got
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .filter(|(a, b)| a != b)
                .count();
            assert_eq!(
                diff, 0,
                "{w}x{h} -> {ow}x{oh} {crop:?}: {diff} bytes differ"
            );
        }
    }
}
