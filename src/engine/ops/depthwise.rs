//! [`QDepthwise`]: a direct quantized depthwise convolution (depth multiplier one) that
//! accumulates and requantizes in the same loop.

use tract_core::internal::*;

use super::quant::{bytes_of, filled_u8, Q8};
use super::requant::RequantSpec;
use super::window::Window;
use crate::engine::kernels::{self, with_kernels, Job, Kernels};
use crate::engine::threads::for_chunks;

/// Depthwise convolution of an 8-bit NHWC tensor with depth multiplier 1, i32 accumulation
/// and the requantization in the same loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QDepthwise {
    pub window: Window,
    /// `kernel - kernel_zero_point`, tap-major: `[kh * kw][channels]`.
    pub kernel: Vec<i16>,
    pub bias: Vec<i32>,
    pub input: Q8,
    pub input_zero_point: i32,
    pub requant: RequantSpec,
    /// The 8-bit form for pixels whose taps are all inside the image (see [`Narrow`]), kept
    /// only where the picked kernels have an 8-bit block.
    narrow: Option<Narrow>,
}

/// An int8 input and a kernel within [-127, 127]: then a pixel whose taps all lie inside the
/// image is `bias - x0 * sum(kernel) + sum(x * kernel)`, exactly, and two taps' products
/// add up in 16 bits (`|x * k| <= 128 * 127`, two of them at most 32512). The aarch64 block
/// then multiplies bytes (`SMULL`, `SMLAL`) and widens once per two taps (dw_neon.rs), as
/// XNNPACK's Cortex-A72 depthwise kernels do. Border pixels keep the 16-bit block. Built only
/// when the picked kernel set has such a block ([`kernels::narrow_depthwise`]).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Narrow {
    kernel: Vec<i8>,
    /// `bias - x0 * sum over all taps of kernel`, per channel.
    bias: Vec<i32>,
}

/// Channels accumulated together in registers.
const BLOCK: usize = 16;

impl QDepthwise {
    /// `kernel` is `kernel - kernel_zero_point`, tap-major `[kh * kw][channels]`.
    pub fn new(
        window: Window,
        kernel: Vec<i16>,
        bias: Vec<i32>,
        input: Q8,
        input_zero_point: i32,
        requant: RequantSpec,
    ) -> QDepthwise {
        let c = window.input[3];
        let narrow = (kernels::narrow_depthwise()
            && input == Q8::I8
            && c > 0
            && kernel.len().is_multiple_of(c)
            && bias.len() == c
            && i8::try_from(input_zero_point).is_ok()
            && kernel.iter().all(|&k| (-127..=127).contains(&k)))
        .then(|| {
            let bias = (0..c)
                .map(|ch| {
                    let sum: i32 = kernel.iter().skip(ch).step_by(c).map(|&k| k as i32).sum();
                    bias[ch].wrapping_sub(input_zero_point.wrapping_mul(sum))
                })
                .collect();
            Narrow {
                kernel: kernel.iter().map(|&k| k as i8).collect(),
                bias,
            }
        });
        QDepthwise {
            window,
            kernel,
            bias,
            input,
            input_zero_point,
            requant,
            narrow,
        }
    }

    /// All output rows, split over the inference threads.
    fn eval_bytes(&self, x: &[u8], out: &mut [u8]) {
        let [_, _, _, c] = self.window.input;
        let (oh, ow) = self.window.output;
        let row_len = ow * c;
        if row_len == 0 {
            return;
        }
        for_chunks(out, row_len, |r, o| {
            // The kernel dispatch sits inside the thread-local access: `LocalKey::with` is
            // generic code compiled for the baseline CPU, and a loop inlined into its closure
            // from an AVX2 function came out as SSE2, four channels at a time.
            ROW_SCRATCH.with_borrow_mut(|(acc, taps)| {
                with_kernels(Row {
                    op: self,
                    x,
                    b: r / oh,
                    oy: r % oh,
                    out: o,
                    acc,
                    taps,
                })
            })
        });
    }

    /// One output row on kernel set `k`.
    #[inline(always)]
    fn row<K: Kernels, const SIGNED: bool>(&self, k: K, row: Row<'_>) {
        let Row {
            x,
            b,
            oy,
            out,
            acc,
            taps,
            ..
        } = row;
        let [_, h, w, c] = self.window.input;
        let (kh, kw) = self.window.kernel;
        let (_, ow) = self.window.output;
        let x0 = self.input_zero_point;
        let image = &x[b * h * w * c..][..h * w * c];
        acc.resize(c, 0);
        let blocks = c / BLOCK * BLOCK;
        for ox in 0..ow {
            // (input offset, kernel offset) of each tap inside the image for this pixel.
            taps.clear();
            for ky in 0..kh {
                let Some(iy) = self.window.input_row(oy, ky) else {
                    continue;
                };
                for kx in 0..kw {
                    if let Some(ix) = self.window.input_col(ox, kx) {
                        let tap = ((iy * w + ix) * c, (ky * kw + kx) * c);
                        // What the unchecked SIMD blocks rely on, checked once per pixel.
                        assert!(tap.0 + c <= image.len() && tap.1 + c <= self.kernel.len());
                        taps.push(tap);
                    }
                }
            }
            // Every tap inside the image: the 8-bit block (see `Narrow`).
            let narrow = self.narrow.as_ref().filter(|_| taps.len() == kh * kw);
            for cb in (0..blocks).step_by(BLOCK) {
                let a = match narrow {
                    // SAFETY: every tap was checked against the image and the kernel above
                    // (the 8-bit kernel has the 16-bit one's layout), and cb + 16 <= c.
                    Some(n) => unsafe {
                        k.dw_block16_narrow(image, &n.kernel, taps, cb, block_of(&n.bias, cb))
                    },
                    // SAFETY: every tap was checked against the image and the kernel above,
                    // and cb + 16 <= c.
                    None => unsafe {
                        k.dw_block16::<SIGNED>(
                            image,
                            &self.kernel,
                            taps,
                            cb,
                            x0,
                            block_of(&self.bias, cb),
                        )
                    },
                };
                acc[cb..cb + BLOCK].copy_from_slice(&a);
            }
            let x0 = x0 as i16;
            for ch in blocks..c {
                let mut a = self.bias[ch];
                for &(xo, ko) in taps.iter() {
                    let xb = image[xo + ch];
                    let xv = if SIGNED { xb as i8 as i16 } else { xb as i16 };
                    a += ((xv - x0) as i32) * (self.kernel[ko + ch] as i32);
                }
                acc[ch] = a;
            }
            self.requant.row(&acc[..c], &mut out[ox * c..][..c], 0);
        }
    }
}

/// The 16 values of `v` from `cb`.
#[inline(always)]
fn block_of(v: &[i32], cb: usize) -> &[i32; BLOCK] {
    v[cb..cb + BLOCK].try_into().unwrap()
}

/// One output row of a [`QDepthwise`], with this thread's buffers: a [`Job`] for
/// [`with_kernels`].
struct Row<'a> {
    op: &'a QDepthwise,
    x: &'a [u8],
    b: usize,
    oy: usize,
    out: &'a mut [u8],
    acc: &'a mut Vec<i32>,
    taps: &'a mut Vec<(usize, usize)>,
}

impl Job for Row<'_> {
    type Out = ();
    #[inline(always)]
    fn run<K: Kernels>(self, k: K) {
        let op = self.op;
        match op.input {
            Q8::I8 => op.row::<K, true>(k, self),
            Q8::U8 => op.row::<K, false>(k, self),
        }
    }
}

/// One thread's accumulators and (input offset, kernel offset) taps for a depthwise row.
type RowScratch = (Vec<i32>, Vec<(usize, usize)>);

thread_local! {
    /// Reused: no allocation per row once the widest layer has been seen.
    static ROW_SCRATCH: std::cell::RefCell<RowScratch> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

impl Op for QDepthwise {
    fn name(&self) -> StaticName {
        "breedcam.QDepthwise".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("{:?}", self.window)])
    }
    op_as_typed_op!();
}

impl EvalOp for QDepthwise {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        ensure!(
            x.shape() == self.window.input,
            "input shape {:?}",
            x.shape()
        );
        let bytes = bytes_of(&x)?;
        let [n, _, _, c] = self.window.input;
        let (oh, ow) = self.window.output;
        let out = filled_u8(self.requant.out_dt, &[n, oh, ow, c], |out| {
            self.eval_bytes(bytes, out);
            Ok(())
        })?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for QDepthwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type) == Some(self.input));
        ensure!(inputs[0].shape.as_concrete() == Some(&self.window.input[..]));
        let [n, _, _, c] = self.window.input;
        let (oh, ow) = self.window.output;
        ensure!(self.kernel.len() == self.window.kernel.0 * self.window.kernel.1 * c);
        ensure!(self.bias.len() == c && self.requant.scale.len() == c);
        Ok(tvec!(self.requant.out_dt.fact([n, oh, ow, c])))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::bytes;

    /// Depthwise convolution written the obvious way, with TFLite's padding rule.
    #[allow(clippy::too_many_arguments)]
    fn naive(
        x: &[i32],
        [n, h, w, c]: [usize; 4],
        k: &[i32],
        (kh, kw): (usize, usize),
        (sh, sw): (usize, usize),
        (dh, dw): (usize, usize),
        same: bool,
        bias: &[i32],
    ) -> (Vec<i64>, usize, usize) {
        let reach = |k: usize, d: usize| (k - 1) * d + 1;
        let (oh, ow, pt, pl) = if same {
            let (oh, ow) = (h.div_ceil(sh), w.div_ceil(sw));
            let pt = ((oh - 1) * sh + reach(kh, dh)).saturating_sub(h) / 2;
            let pl = ((ow - 1) * sw + reach(kw, dw)).saturating_sub(w) / 2;
            (oh, ow, pt, pl)
        } else {
            (
                (h - reach(kh, dh)) / sh + 1,
                (w - reach(kw, dw)) / sw + 1,
                0,
                0,
            )
        };
        let mut out = vec![0i64; n * oh * ow * c];
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..c {
                        let mut acc = bias[ch] as i64;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (oy * sh + ky * dh) as isize - pt as isize;
                                let ix = (ox * sw + kx * dw) as isize - pl as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                    continue;
                                }
                                let xi = ((b * h + iy as usize) * w + ix as usize) * c + ch;
                                acc += x[xi] as i64 * k[(ky * kw + kx) * c + ch] as i64;
                            }
                        }
                        out[((b * oh + oy) * ow + ox) * c + ch] = acc;
                    }
                }
            }
        }
        (out, oh, ow)
    }

    #[test]
    fn depthwise_matches_the_obvious_loop_on_odd_shapes() {
        // Channel counts around the 16-channel block, strides, dilations, both paddings,
        // both 8-bit types, a batch of two.
        // The last three have int8 kernels within [-127, 127], so interior pixels take the
        // 8-bit block (`Narrow`; on aarch64 dw_neon::block16_narrow): random bytes, then the
        // largest products (x = -128, k = -127 and +127) with an odd and an even tap count.
        #[derive(Clone, Copy, PartialEq)]
        enum Bytes {
            Random,
            NoMinus128,
            Extreme,
        }
        use Bytes::*;
        let cases = [
            ([1, 9, 7, 3], (3, 3), (1, 1), (1, 1), true, Q8::I8, Random),
            (
                [2, 10, 11, 17],
                (3, 3),
                (2, 2),
                (1, 1),
                true,
                Q8::U8,
                Random,
            ),
            (
                [1, 12, 12, 32],
                (5, 5),
                (2, 1),
                (1, 1),
                true,
                Q8::I8,
                Random,
            ),
            (
                [1, 13, 9, 33],
                (3, 5),
                (1, 2),
                (2, 1),
                false,
                Q8::U8,
                Random,
            ),
            ([1, 6, 6, 48], (5, 5), (1, 1), (2, 2), true, Q8::I8, Random),
            (
                [1, 14, 13, 40],
                (3, 3),
                (1, 1),
                (1, 1),
                true,
                Q8::I8,
                NoMinus128,
            ),
            (
                [1, 9, 9, 32],
                (3, 3),
                (2, 2),
                (1, 1),
                false,
                Q8::I8,
                Extreme,
            ),
            (
                [1, 8, 8, 16],
                (2, 2),
                (1, 1),
                (1, 1),
                false,
                Q8::I8,
                Extreme,
            ),
        ];
        for (i, &(shape, kernel, strides, dil, same, q, kind)) in cases.iter().enumerate() {
            let c = shape[3];
            let mut xb = bytes(shape.iter().product(), 7 + i as u32);
            let mut kb = bytes(kernel.0 * kernel.1 * c, 99 + i as u32);
            match kind {
                Random => {}
                NoMinus128 => kb
                    .iter_mut()
                    .filter(|b| **b == 0x80)
                    .for_each(|b| *b = 0x81),
                Extreme => {
                    xb.fill(0x80);
                    // -127 and 127 in alternate channels: sums at both ends.
                    kb.iter_mut()
                        .enumerate()
                        .for_each(|(j, b)| *b = if j % 2 == 0 { 0x81 } else { 0x7f });
                }
            }
            let (x0, k0) = match q {
                Q8::I8 => (-5, 0),
                Q8::U8 => (131, 120),
            };
            let val = |b: u8| match q {
                Q8::I8 => b as i8 as i32,
                Q8::U8 => b as i32,
            };
            let x: Vec<i32> = xb.iter().map(|&b| val(b) - x0).collect();
            let k: Vec<i32> = kb.iter().map(|&b| val(b) - k0).collect();
            let bias: Vec<i32> = (0..c as i32).map(|v| v * 37 - 300).collect();
            let (want, oh, ow) = naive(&x, shape, &k, kernel, strides, dil, same, &bias);
            // Scale 1/64 and a wide-open clamp: the requantized value is the accumulator
            // divided by 64, rounded to nearest even, then saturated.
            let out_dt = match q {
                Q8::I8 => i8::datum_type(),
                Q8::U8 => u8::datum_type(),
            };
            let zp = if q == Q8::I8 { 3 } else { 128 };
            let op = QDepthwise::new(
                Window::new(shape, kernel, strides, dil, same).unwrap(),
                k.iter().map(|&v| v as i16).collect(),
                bias.clone(),
                q,
                x0,
                RequantSpec::new(&[1.0 / 64.0], 1.0, 1.0, c, zp, (q.min(), q.max()), out_dt)
                    .unwrap(),
            );
            assert_eq!(op.window.output, (oh, ow), "case {i}");
            if kind != Random {
                let want = kernels::narrow_depthwise();
                assert_eq!(op.narrow.is_some(), want, "case {i}: the 8-bit form");
            }
            let mut got = vec![0u8; want.len()];
            op.eval_bytes(&xb, &mut got);
            // The same on three threads (rows spread over breedcam's pool).
            let mut threaded = vec![0u8; want.len()];
            let pool = std::sync::Arc::new(crate::engine::threads::Pool::new(3));
            crate::engine::threads::with_pool(pool, || op.eval_bytes(&xb, &mut threaded));
            assert_eq!(got, threaded, "case {i}: threads changed the result");
            for (j, (&g, &a)) in got.iter().zip(&want).enumerate() {
                let expect = ((a as f64 / 64.0).round_ties_even() as i64 + zp as i64)
                    .clamp(q.min() as i64, q.max() as i64);
                assert_eq!(q.value(g) as i64, expect, "case {i}, element {j}, acc {a}");
            }
        }
    }
}
