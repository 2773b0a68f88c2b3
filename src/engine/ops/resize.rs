//! [`ResizeBilinear8`]: RESIZE_BILINEAR on 8-bit NHWC tensors, computed the way XNNPACK
//! (TFLite's default delegate) does, in Q11 fixed point, so the bytes are TFLite's.
//!
//! Per output axis (rows, then columns) with `in`/`out` sizes: `adj = 1` when corners are
//! aligned and `out != 1`, else 0; `scale = f32(in - adj) / f32(out - adj)`; the source
//! coordinate `s = min(f32(o) * scale, f32(in - 1))`, `i0 = trunc(s)`, `i1 = min(i0 + 1,
//! in - 1)`, weight `w = lrintf((s - i0) * 2048)`. Per channel: `top = (tl << 11) + (tr -
//! tl) * wx`, `bottom` likewise, `acc = (top << 11) + (bottom - top) * wy`, `out = (acc +
//! (1 << 21)) >> 22` (arithmetic shift). Input and output share one quantization (the
//! importer checks), so no requantization follows.

use tract_core::internal::*;

use super::quant::*;

/// RESIZE_BILINEAR (`half_pixel_centers = false`) of an 8-bit NHWC tensor to `size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResizeBilinear8 {
    /// Output (height, width).
    pub size: (usize, usize),
    pub align_corners: bool,
}

/// One output coordinate's two source indices and the Q11 weight of the second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tap {
    pub i0: usize,
    pub i1: usize,
    pub w: i32,
}

/// The taps of one axis: `input` source positions onto `output` positions.
pub fn taps(input: usize, output: usize, align_corners: bool) -> Vec<Tap> {
    let adj = usize::from(align_corners && output != 1);
    let scale = (input - adj) as f32 / (output - adj) as f32;
    let last = (input - 1) as f32;
    (0..output)
        .map(|o| {
            let s = (o as f32 * scale).min(last);
            let i0 = s as usize; // s >= 0: truncation is floor
            let i1 = (i0 + 1).min(input - 1);
            // lrintf: round half to even, as the C library does by default.
            let w = ((s - i0 as f32) * 2048.0).round_ties_even() as i32;
            Tap { i0, i1, w }
        })
        .collect()
}

impl ResizeBilinear8 {
    fn out_shape(&self, s: &[usize]) -> TractResult<[usize; 4]> {
        ensure!(
            s.len() == 4,
            "RESIZE_BILINEAR wants an NHWC input, got {s:?}"
        );
        Ok([s[0], self.size.0, self.size.1, s[3]])
    }

    /// Resizes `src` (NHWC `shape`, stored as `q`) into `dst`.
    fn run(&self, shape: &[usize], src: &[u8], q: Q8, dst: &mut [u8]) {
        let (n, ih, iw, c) = (shape[0], shape[1], shape[2], shape[3]);
        let (oh, ow) = self.size;
        let ys = taps(ih, oh, self.align_corners);
        let xs = taps(iw, ow, self.align_corners);
        let v = |b: u8| q.value(b);
        let mut top = vec![0i32; c];
        let mut bottom = vec![0i32; c];
        for b in 0..n {
            let image = &src[b * ih * iw * c..(b + 1) * ih * iw * c];
            for (oy, ty) in ys.iter().enumerate() {
                let row0 = &image[ty.i0 * iw * c..(ty.i0 + 1) * iw * c];
                let row1 = &image[ty.i1 * iw * c..(ty.i1 + 1) * iw * c];
                let out_row = &mut dst[((b * oh + oy) * ow) * c..((b * oh + oy + 1) * ow) * c];
                for (tx, out) in xs.iter().zip(out_row.chunks_exact_mut(c)) {
                    let (l, r) = (tx.i0 * c, tx.i1 * c);
                    for k in 0..c {
                        let (tl, tr) = (v(row0[l + k]), v(row0[r + k]));
                        let (bl, br) = (v(row1[l + k]), v(row1[r + k]));
                        top[k] = (tl << 11) + (tr - tl) * tx.w;
                        bottom[k] = (bl << 11) + (br - bl) * tx.w;
                    }
                    for k in 0..c {
                        let acc = (top[k] << 11) + (bottom[k] - top[k]) * ty.w;
                        let y = (acc + (1 << 21)) >> 22;
                        out[k] = q.to_byte(y.clamp(q.min(), q.max()));
                    }
                }
            }
        }
    }
}

impl Op for ResizeBilinear8 {
    fn name(&self) -> StaticName {
        "breedcam.ResizeBilinear8".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!(
            "to {}x{}, align_corners {}",
            self.size.0, self.size.1, self.align_corners
        )])
    }
    op_as_typed_op!();
}

impl EvalOp for ResizeBilinear8 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(x.datum_type()).context("RESIZE_BILINEAR: 8-bit input expected")?;
        let shape = self.out_shape(x.shape())?;
        let src = bytes_of(&x)?;
        let y = filled_u8(x.datum_type(), &shape, |dst| {
            self.run(x.shape(), src, q, dst);
            Ok(())
        })?;
        Ok(tvec!(y.into_tvalue()))
    }
}

impl TypedOp for ResizeBilinear8 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type).is_some());
        let shape = self.out_shape(static_shape(inputs[0])?)?;
        Ok(tvec!(inputs[0].datum_type.fact(shape)))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resize(op: &ResizeBilinear8, shape: &[usize], src: &[u8]) -> Vec<u8> {
        let o = op.out_shape(shape).unwrap();
        let mut dst = vec![0; o.iter().product()];
        op.run(shape, src, Q8::U8, &mut dst);
        dst
    }

    #[test]
    fn one_pixel_broadcasts_and_same_size_is_the_identity() {
        let bcast = ResizeBilinear8 {
            size: (3, 4),
            align_corners: true,
        };
        assert_eq!(
            resize(&bcast, &[1, 1, 1, 2], &[7, 200]),
            [7, 200].repeat(12)
        );
        let same = ResizeBilinear8 {
            size: (3, 5),
            align_corners: true,
        };
        let src: Vec<u8> = (0..15).map(|i| (i * 17) as u8).collect();
        assert_eq!(resize(&same, &[1, 3, 5, 1], &src), src);
    }

    #[test]
    fn aligned_corners_upsample_interpolates_with_q11_weights() {
        // 2 -> 5 aligned: source positions 0, 0.25, 0.5, 0.75, 1.
        assert_eq!(
            taps(2, 5, true).iter().map(|t| t.w).collect::<Vec<_>>(),
            [0, 512, 1024, 1536, 0]
        );
        let op = ResizeBilinear8 {
            size: (1, 5),
            align_corners: true,
        };
        // 0 .. 255 in quarters: 63.75 -> 64, 127.5 -> 128 (the rounding adds half), 191.25.
        assert_eq!(
            resize(&op, &[1, 1, 2, 1], &[0, 255]),
            [0, 64, 128, 191, 255]
        );
        // Not aligned: 2 -> 4 samples at 0, 0.5, 1 and 1.5, clamped to the last pixel (1).
        let t = taps(2, 4, false);
        assert_eq!(
            t.iter().map(|t| (t.i0, t.i1, t.w)).collect::<Vec<_>>(),
            [(0, 1, 0), (0, 1, 1024), (1, 1, 0), (1, 1, 0)]
        );
    }
}
