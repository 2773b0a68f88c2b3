//! [`Requant`]: the quantized convolution tail, fused into one pass.
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
//! depthwise convolutions with a depth multiplier of one run in [`QDepthwise`](super::QDepthwise), which
//! accumulates and requantizes in the same loop. Both round exactly as tract did
//! (`round_ties_even(acc * scale) + zero point`, clamped, with the per-channel scale computed
//! as `kernel_scale * input_scale / output_scale` in f32, which is also XNNPACK's
//! requantization), so outputs are bit-identical to the unfused graph.

use tract_core::internal::*;

use super::quant::{bytes_of, filled_u8, static_shape, Q8};
use crate::engine::kernels::{with_kernels, Job, Kernels};
use crate::engine::threads::for_chunks;

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

    /// Requantizes pixels' accumulators (channels last) into `out`, compiled for the picked
    /// kernel set's instruction set.
    pub(super) fn rows(
        &self,
        acc: &[i32],
        out: &mut [u8],
        fold: Option<(&KernelZeroPoint, &[u8])>,
    ) {
        struct Rows<'a> {
            spec: &'a RequantSpec,
            acc: &'a [i32],
            out: &'a mut [u8],
            fold: Option<(&'a KernelZeroPoint, &'a [u8])>,
        }
        impl Job for Rows<'_> {
            type Out = ();
            #[inline(always)]
            fn run<K: Kernels>(self, _: K) {
                self.spec.rows_here(self.acc, self.out, self.fold)
            }
        }
        with_kernels(Rows {
            spec: self,
            acc,
            out,
            fold,
        })
    }

    /// [`RequantSpec::rows`] inside the job, compiled for the kernel set.
    #[inline(always)]
    fn rows_here(&self, acc: &[i32], out: &mut [u8], fold: Option<(&KernelZeroPoint, &[u8])>) {
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
    pub(super) fn row(&self, acc: &[i32], out: &mut [u8], offset: i32) {
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
            // 64 pixels per call of `rows`, to amortise its kernel dispatch.
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

#[cfg(test)]
mod tests {
    use super::*;

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
