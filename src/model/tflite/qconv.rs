//! The quantized convolution tail, fused, and a direct quantized depthwise convolution.
//!
//! tract's quantized `Conv` lowers every 8-bit convolution to im2col + integer matmul and then
//! requantizes in five separate passes over the i32 accumulators (per-channel `Scale`, add the
//! zero point, `Min`, `Max`, `Cast`); its optimiser cannot fold a per-channel scale into the
//! matmul, so none of them fuse. Depthwise convolutions go the same way: an im2col per group
//! and a matmul with one output row, followed by a broadcast `Sub` over a rank-4 tensor whose
//! last axis has length one. On EfficientNet-Lite0 those passes were 70 % of inference
//! (`cargo run --release --example profile_ops`).
//!
//! breedcam therefore asks tract's `Conv` only for the i32 accumulators (zero points and bias
//! still handled inside tract's matmul) and requantizes them in one pass with [`Requant`];
//! depthwise convolutions with a depth multiplier of one run in [`QDepthwise`], which
//! accumulates and requantizes in the same loop. Both round exactly as tract did
//! (`round_ties_even(acc * scale) + zero point`, clamped, with the per-channel scale computed
//! as `kernel_scale * input_scale / output_scale` in f32, which is also XNNPACK's
//! requantization), so outputs are bit-identical to the unfused graph.

use tract_core::internal::*;

use super::ops::{bytes_of, filled_u8, static_shape, Window, Q8};
use super::par::for_chunks;

/// Per-channel requantization of i32 accumulators into an 8-bit tensor.
#[derive(Clone, Debug)]
pub struct RequantSpec {
    /// One f32 multiplier per output channel (`kernel_scale * input_scale / output_scale`).
    pub scale: Vec<f32>,
    pub zero_point: i32,
    /// Clamp bounds in quantized units (type range intersected with the fused activation).
    pub lo: i32,
    pub hi: i32,
    pub out_dt: DatumType,
}

impl PartialEq for RequantSpec {
    fn eq(&self, o: &Self) -> bool {
        self.scale.len() == o.scale.len()
            && self
                .scale
                .iter()
                .zip(&o.scale)
                .all(|(a, b)| a.to_bits() == b.to_bits())
            && (self.zero_point, self.lo, self.hi, self.out_dt)
                == (o.zero_point, o.lo, o.hi, o.out_dt)
    }
}
impl Eq for RequantSpec {}

impl RequantSpec {
    /// `scale` holds one value (per-tensor) or one per channel.
    pub fn new(
        kernel_scales: &[f32],
        input_scale: f32,
        output_scale: f32,
        channels: usize,
        zero_point: i32,
        (lo, hi): (i32, i32),
        out_dt: DatumType,
    ) -> TractResult<RequantSpec> {
        ensure!(Q8::of(out_dt).is_some(), "requantization to {out_dt:?}");
        ensure!(lo <= hi, "clamp {lo}..={hi}");
        // XNNPACK's per-channel requantization scale, in f32 and this order.
        let f = |k: f32| -> f32 { input_scale * k / output_scale };
        let scale: Vec<f32> = match kernel_scales.len() {
            1 => vec![f(kernel_scales[0]); channels],
            n if n == channels => kernel_scales.iter().map(|&k| f(k)).collect(),
            n => bail!("{n} kernel scales for {channels} channels"),
        };
        Ok(RequantSpec {
            scale,
            zero_point,
            lo,
            hi,
            out_dt,
        })
    }

    /// Requantizes pixels' accumulators (channels last) into `out`.
    pub(super) fn rows(
        &self,
        acc: &[i32],
        out: &mut [u8],
        fold: Option<(&KernelZeroPoint, &[u8])>,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above).
            unsafe { self.rows_avx2(acc, out, fold) };
            return;
        }
        self.rows_portable(acc, out, fold)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rows_avx2(
        &self,
        acc: &[i32],
        out: &mut [u8],
        fold: Option<(&KernelZeroPoint, &[u8])>,
    ) {
        self.rows_portable(acc, out, fold)
    }

    #[inline(always)]
    fn rows_portable(&self, acc: &[i32], out: &mut [u8], fold: Option<(&KernelZeroPoint, &[u8])>) {
        let c = self.scale.len();
        let pixels = acc.chunks_exact(c).zip(out.chunks_exact_mut(c));
        match fold {
            None => pixels.for_each(|(a, o)| self.row(a, o, 0)),
            Some((kz, x)) => {
                let cin = x.len() / (acc.len() / c);
                for ((a, o), xs) in pixels.zip(x.chunks_exact(cin)) {
                    self.row(a, o, kz.correction(xs));
                }
            }
        }
    }

    /// Requantizes one pixel's accumulators (one per channel, plus `offset`) into `out`.
    #[inline(always)]
    fn row(&self, acc: &[i32], out: &mut [u8], offset: i32) {
        // XNNPACK's fp32 requantization: clamp in the float domain (clamping to integer
        // bounds commutes with rounding), then round to nearest even by adding 1.5 * 2^23 and
        // reading the integer back from the float's bits. No saturating float-to-int casts,
        // so the loop vectorises on SSE2 and NEON alike.
        const MAGIC: f32 = 12_582_912.0;
        const MAGIC_BITS: i32 = 0x4B40_0000;
        let lo = (self.lo - self.zero_point) as f32;
        let hi = (self.hi - self.zero_point) as f32;
        let zp = self.zero_point;
        for ((o, &a), &s) in out.iter_mut().zip(acc).zip(&self.scale) {
            let v = a.wrapping_add(offset) as f32 * s;
            let v = if v > lo { v } else { lo };
            let v = if v < hi { v } else { hi };
            let r = ((v + MAGIC).to_bits() as i32).wrapping_sub(MAGIC_BITS) + zp;
            *o = r as u8;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Requant

/// A pointwise convolution's kernel zero point, applied here rather than by tract: tract
/// computes it as a cast, a sum, a multiply and two broadcast passes over the accumulators,
/// none fused (uint8 TF1 models, whose kernels have zero points near 128). With the zero
/// point `k0` left out of tract's Conv, each output pixel's accumulators lack
/// `-k0 * sum(x - x0)` over that pixel's input channels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelZeroPoint {
    pub k0: i32,
    pub x0: i32,
    pub input: Q8,
}

impl KernelZeroPoint {
    #[inline(always)]
    fn correction(&self, x: &[u8]) -> i32 {
        let sum: i32 = match self.input {
            Q8::I8 => x.iter().map(|&b| b as i8 as i32).sum(),
            Q8::U8 => x.iter().map(|&b| b as i32).sum(),
        };
        -self.k0 * (sum - self.x0 * x.len() as i32)
    }
}

/// i32 accumulators (channels last) -> 8-bit, one pass. With a [`KernelZeroPoint`] the
/// op takes the convolution's input as a second input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requant(pub RequantSpec, pub Option<KernelZeroPoint>);

impl Op for Requant {
    fn name(&self) -> StaticName {
        "breedcam.Requant".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Requant {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let acc_t = &inputs[0];
        let acc = acc_t.try_as_plain_ram()?;
        let acc = acc.as_slice::<i32>()?;
        let c = self.0.scale.len();
        ensure!(c > 0 && acc.len().is_multiple_of(c));
        let x = match (&self.1, inputs.get(1)) {
            (Some(kz), Some(x)) => {
                let bytes = bytes_of(x)?;
                let pixels = acc.len() / c;
                ensure!(pixels > 0 && bytes.len().is_multiple_of(pixels));
                ensure!(Q8::of(x.datum_type()) == Some(kz.input));
                Some((kz, bytes, bytes.len() / pixels))
            }
            (None, None) => None,
            _ => bail!("Requant: input count does not match its kernel zero point"),
        };
        let out = filled_u8(self.0.out_dt, acc_t.shape(), |out| {
            // 64 pixels per call of `rows`, to amortise its CPU-feature dispatch.
            let per = 64;
            for_chunks(out, per * c, |i, o| {
                let a = &acc[i * per * c..][..o.len()];
                let xs =
                    x.map(|(kz, bytes, cin)| (kz, &bytes[i * per * cin..][..o.len() / c * cin]));
                self.0.rows(a, o, xs);
            });
            Ok(())
        })?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Requant {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 1 + self.1.is_some() as usize);
        ensure!(inputs[0].datum_type == i32::datum_type());
        ensure!(inputs[0].shape.last() == Some(&self.0.scale.len().to_dim()));
        if let Some(kz) = &self.1 {
            ensure!(Q8::of(inputs[1].datum_type) == Some(kz.input));
            let (a, x) = (static_shape(inputs[0])?, static_shape(inputs[1])?);
            ensure!(
                a[..a.len() - 1] == x[..x.len() - 1],
                "pixels of {a:?} and {x:?}"
            );
        }
        Ok(tvec!(self.0.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

// ---------------------------------------------------------------------------------------
// QDepthwise

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
    /// The 8-bit form for pixels whose taps are all inside the image (see [`Narrow`]).
    #[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
    narrow: Option<Narrow>,
}

/// An int8 input and a kernel within [-127, 127]: then a pixel whose taps all lie inside the
/// image is `bias - x0 * sum(kernel) + sum(x * kernel)`, exactly, and two taps' products
/// add up in 16 bits (`|x * k| <= 128 * 127`, two of them at most 32512). The aarch64 block
/// then multiplies bytes (`SMULL`, `SMLAL`) and widens once per two taps (dw_neon.rs), as
/// XNNPACK's Cortex-A72 depthwise kernels do. Border pixels keep the 16-bit block.
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
        let narrow = (input == Q8::I8
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

    /// All output rows, on tract's executor's threads when it has several.
    fn eval_bytes(&self, x: &[u8], out: &mut [u8]) {
        let [_, _, _, c] = self.window.input;
        let (oh, ow) = self.window.output;
        let row_len = ow * c;
        if row_len == 0 {
            return;
        }
        for_chunks(out, row_len, |r, o| self.row_dispatch(x, r / oh, r % oh, o));
    }

    fn row_dispatch(&self, x: &[u8], b: usize, oy: usize, out: &mut [u8]) {
        // The feature dispatch sits inside the thread-local access: `LocalKey::with` is
        // generic code compiled for the baseline CPU, and a loop inlined into its closure
        // from an AVX2 function came out as SSE2, four channels at a time.
        ROW_SCRATCH.with_borrow_mut(|(acc, taps)| {
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked just above).
                unsafe { self.row_avx2(x, b, oy, out, (acc, taps)) };
                return;
            }
            self.row(x, b, oy, out, (acc, taps), false)
        })
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn row_avx2(&self, x: &[u8], b: usize, oy: usize, out: &mut [u8], s: Bufs<'_>) {
        self.row(x, b, oy, out, s, true)
    }

    /// `avx2`: the caller runs with AVX2 enabled and checked (`dw_avx2` may be used).
    #[inline(always)]
    fn row(&self, x: &[u8], b: usize, oy: usize, out: &mut [u8], s: Bufs<'_>, avx2: bool) {
        match self.input {
            Q8::I8 => self.row_with::<true>(x, b, oy, out, s, avx2),
            Q8::U8 => self.row_with::<false>(x, b, oy, out, s, avx2),
        }
    }

    #[inline(always)]
    fn row_with<const SIGNED: bool>(
        &self,
        x: &[u8],
        b: usize,
        oy: usize,
        out: &mut [u8],
        (acc, taps): Bufs<'_>,
        avx2: bool,
    ) {
        #[cfg(not(target_arch = "x86_64"))]
        let _ = avx2;
        let [_, h, w, c] = self.window.input;
        let (kh, kw) = self.window.kernel;
        let (_, ow) = self.window.output;
        let x0 = self.input_zero_point as i16;
        let image = &x[b * h * w * c..][..h * w * c];
        acc.resize(c, 0);
        let blocks = c / BLOCK * BLOCK;
        // The NEON block needs the zero point in the input's own type (TFLite's rule).
        #[cfg(target_arch = "aarch64")]
        let neon = if SIGNED {
            i8::try_from(self.input_zero_point).is_ok()
        } else {
            u8::try_from(self.input_zero_point).is_ok()
        };
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
            #[cfg(target_arch = "aarch64")]
            let narrow = self.narrow.as_ref().filter(|_| taps.len() == kh * kw);
            for cb in (0..blocks).step_by(BLOCK) {
                #[cfg(target_arch = "aarch64")]
                if let Some(n) = narrow {
                    // SAFETY: as below; the 8-bit kernel has the 16-bit one's layout.
                    let a = unsafe {
                        super::dw_neon::block16_narrow(
                            image,
                            &n.kernel,
                            taps,
                            cb,
                            &n.bias[cb..cb + BLOCK],
                        )
                    };
                    acc[cb..cb + BLOCK].copy_from_slice(&a);
                    continue;
                }
                #[cfg(target_arch = "aarch64")]
                if neon {
                    // SAFETY: every tap was checked against the image and kernel above, and
                    // cb + 16 <= c.
                    let a = unsafe {
                        super::dw_neon::block16::<SIGNED>(
                            image,
                            &self.kernel,
                            taps,
                            cb,
                            self.input_zero_point,
                            &self.bias[cb..cb + BLOCK],
                        )
                    };
                    acc[cb..cb + BLOCK].copy_from_slice(&a);
                    continue;
                }
                #[cfg(target_arch = "x86_64")]
                if avx2 {
                    // SAFETY: `avx2` says the CPU has it (row_dispatch); every tap was
                    // checked against the image and kernel above, and cb + 16 <= c.
                    let a = unsafe {
                        super::dw_avx2::block16::<SIGNED>(
                            image,
                            &self.kernel,
                            taps,
                            cb,
                            x0,
                            &self.bias[cb..cb + BLOCK],
                        )
                    };
                    acc[cb..cb + BLOCK].copy_from_slice(&a);
                    continue;
                }
                let mut a: [i32; BLOCK] = self.bias[cb..cb + BLOCK].try_into().unwrap();
                for &(xo, ko) in taps.iter() {
                    let xs: &[u8; BLOCK] = image[xo + cb..xo + cb + BLOCK].try_into().unwrap();
                    let ks: &[i16; BLOCK] =
                        self.kernel[ko + cb..ko + cb + BLOCK].try_into().unwrap();
                    for j in 0..BLOCK {
                        let xv = if SIGNED {
                            xs[j] as i8 as i16
                        } else {
                            xs[j] as i16
                        };
                        a[j] += ((xv - x0) as i32) * (ks[j] as i32);
                    }
                }
                acc[cb..cb + BLOCK].copy_from_slice(&a);
            }
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

/// One thread's accumulators and (input offset, kernel offset) taps for a depthwise row.
type RowScratch = (Vec<i32>, Vec<(usize, usize)>);
/// The same, borrowed for one row.
type Bufs<'a> = (&'a mut Vec<i32>, &'a mut Vec<(usize, usize)>);

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
pub(super) mod tests {
    use super::*;

    /// A small deterministic generator (tests must not depend on a crate's RNG stream).
    pub(in crate::model::tflite) fn bytes(n: usize, mut seed: u32) -> Vec<u8> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 24) as u8
            })
            .collect()
    }

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
                assert!(op.narrow.is_some(), "case {i}: the 8-bit form");
            }
            let mut got = vec![0u8; want.len()];
            op.eval_bytes(&xb, &mut got);
            // The same on three threads (rows spread over breedcam's pool).
            let mut threaded = vec![0u8; want.len()];
            let pool = std::sync::Arc::new(crate::model::pool::Pool::new(3));
            crate::model::pool::with_pool(pool, || op.eval_bytes(&xb, &mut threaded));
            assert_eq!(got, threaded, "case {i}: threads changed the result");
            for (j, (&g, &a)) in got.iter().zip(&want).enumerate() {
                let expect = ((a as f64 / 64.0).round_ties_even() as i64 + zp as i64)
                    .clamp(q.min() as i64, q.max() as i64);
                assert_eq!(q.value(g) as i64, expect, "case {i}, element {j}, acc {a}");
            }
        }
    }

    #[test]
    fn requantization_rounds_ties_to_even_and_clamps() {
        let spec =
            RequantSpec::new(&[0.5, 0.25], 1.0, 1.0, 2, -1, (-128, 6), i8::datum_type()).unwrap();
        // channel 0 scale 0.5, channel 1 scale 0.25
        let acc = [1, 2, 3, 6, -3, -10, 1000, -1000, 5, 14];
        let mut out = [0u8; 10];
        spec.rows(&acc, &mut out, None);
        let got: Vec<i32> = out.iter().map(|&b| b as i8 as i32).collect();
        // 0.5 -> 0, 0.5 -> 0, 1.5 -> 2, 1.5 -> 2, -1.5 -> -2, -2.5 -> -2, 500 -> clamp 6,
        // -250 -> clamp -128, 2.5 -> 2, 3.5 -> 4; then the zero point -1 (clamped to
        // -128..=6 after it).
        assert_eq!(got, vec![-1, -1, 1, 1, -3, -3, 6, -128, 1, 3]);
    }
}
