//! [`Binary`]: ADD / SUB / MUL with numpy broadcasting; quantized inputs are dequantized
//! with their own parameters, combined, requantized with the output's, clamped to the fused
//! activation's range. Same-shape quantized ADD (residual connections) runs in XNNPACK's
//! fixed-point form instead, so it rounds exactly as TFLite does.

use tract_core::internal::*;
use tract_core::ndarray::{ArrayD, IxDyn, Zip};

use super::quant::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinKind {
    Add,
    Sub,
    Mul,
}

impl BinKind {
    fn apply(self, a: f32, b: f32) -> f32 {
        match self {
            BinKind::Add => a + b,
            BinKind::Sub => a - b,
            BinKind::Mul => a * b,
        }
    }
}

/// Element-wise binary op with numpy broadcasting. `quant` is `Some((a, b, out))` for
/// 8-bit tensors, `None` for f32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binary {
    pub kind: BinKind,
    pub quant: Option<(QParams8, QParams8, QParams8)>,
    pub out_dt: DatumType,
    /// Fused activation: quantized clamp bounds for 8-bit, real bounds (as bits) for f32.
    pub clamp: (i32, i32),
}

impl Binary {
    pub fn float(kind: BinKind, lo: Option<f32>, hi: Option<f32>) -> Binary {
        let lo = lo.unwrap_or(f32::NEG_INFINITY).to_bits() as i32;
        let hi = hi.unwrap_or(f32::INFINITY).to_bits() as i32;
        Binary {
            kind,
            quant: None,
            out_dt: f32::datum_type(),
            clamp: (lo, hi),
        }
    }
}

fn broadcast_shape(a: &[usize], b: &[usize]) -> TractResult<Vec<usize>> {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| {
        if i + s.len() < rank {
            1
        } else {
            s[i + s.len() - rank]
        }
    };
    (0..rank)
        .map(|i| {
            let (x, y) = (dim(a, i), dim(b, i));
            if x == y || y == 1 {
                Ok(x)
            } else if x == 1 {
                Ok(y)
            } else {
                bail!("shapes {a:?} and {b:?} do not broadcast")
            }
        })
        .collect()
}

impl Op for Binary {
    fn name(&self) -> StaticName {
        format!("breedcam.{:?}", self.kind).into()
    }
    op_as_typed_op!();
}

impl EvalOp for Binary {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = args_2!(inputs);
        let shape = broadcast_shape(a.shape(), b.shape())?;
        let out = match self.quant {
            None => {
                let (lo, hi) = (
                    f32::from_bits(self.clamp.0 as u32),
                    f32::from_bits(self.clamp.1 as u32),
                );
                let av = a.to_plain_array_view::<f32>()?;
                let bv = b.to_plain_array_view::<f32>()?;
                let mut out = ArrayD::<f32>::zeros(IxDyn(&shape));
                Zip::from(&mut out)
                    .and_broadcast(&av)
                    .and_broadcast(&bv)
                    .for_each(|o, &x, &y| *o = self.kind.apply(x, y).max(lo).min(hi));
                out.into_tensor()
            }
            Some((pa, pb, po)) => {
                let qa = Q8::of(a.datum_type()).context("8-bit input expected")?;
                let qb = Q8::of(b.datum_type()).context("8-bit input expected")?;
                let qo = Q8::of(self.out_dt).context("8-bit output expected")?;
                if let Some(fixed) = (self.kind == BinKind::Add && a.shape() == b.shape())
                    .then(|| FixedAdd::new(pa, pb, po))
                    .flatten()
                {
                    let (x, y) = (bytes_of(&a)?, bytes_of(&b)?);
                    let (lo, hi) = self.clamp;
                    let out = filled_u8(self.out_dt, &shape, |out| {
                        // 16 KiB per item: a residual add is one pass over memory.
                        let per = 16 * 1024;
                        crate::engine::threads::for_chunks(out, per, |i, o| {
                            let (x, y) = (&x[i * per..][..o.len()], &y[i * per..][..o.len()]);
                            for ((o, &x), &y) in o.iter_mut().zip(x).zip(y) {
                                let v = fixed.apply(qa.value(x), qb.value(y));
                                *o = qo.to_byte(v.clamp(lo, hi));
                            }
                        });
                        Ok(())
                    })?;
                    return Ok(tvec!(out.into_tvalue()));
                }
                let av =
                    tract_core::ndarray::ArrayViewD::from_shape(IxDyn(a.shape()), bytes_of(&a)?)?;
                let bv =
                    tract_core::ndarray::ArrayViewD::from_shape(IxDyn(b.shape()), bytes_of(&b)?)?;
                let mut out = ArrayD::<u8>::zeros(IxDyn(&shape));
                let (lo, hi) = self.clamp;
                Zip::from(&mut out)
                    .and_broadcast(&av)
                    .and_broadcast(&bv)
                    .for_each(|o, &x, &y| {
                        let v = self
                            .kind
                            .apply(pa.dequantize(qa.value(x)), pb.dequantize(qb.value(y)));
                        *o = qo.to_byte(po.quantize_unclamped(v).clamp(lo, hi));
                    });
                let bytes = out.into_raw_vec_and_offset().0;
                tensor_from_bytes(self.out_dt, &shape, &bytes)?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

/// Quantized addition in fixed point, as XNNPACK (TFLite's default CPU delegate) computes it:
/// both input-to-output scale ratios become integer multipliers sharing one shift chosen so
/// the larger has 21 bits, and the sum rounds half up.
#[derive(Clone, Copy, Debug)]
struct FixedAdd {
    a_mul: i64,
    b_mul: i64,
    bias: i64,
    shift: u32,
    zero_point: i32,
}

impl FixedAdd {
    /// `None` when a scale ratio is outside what XNNPACK accepts ([2^-10, 2^8)).
    fn new(pa: QParams8, pb: QParams8, po: QParams8) -> Option<FixedAdd> {
        let (ra, rb) = (pa.scale / po.scale, pb.scale / po.scale);
        let ok = |r: f32| r.is_finite() && (2f32.powi(-10)..2f32.powi(8)).contains(&r);
        if !ok(ra) || !ok(rb) {
            return None;
        }
        let max = ra.max(rb);
        let exponent = ((max.to_bits() >> 23) & 0xff) as i32 - 127;
        let shift = (20 - exponent) as u32;
        let a_mul = (ra * 2f32.powi(shift as i32)).round_ties_even() as i64;
        let b_mul = (rb * 2f32.powi(shift as i32)).round_ties_even() as i64;
        let bias =
            (1i64 << (shift - 1)) - a_mul * pa.zero_point as i64 - b_mul * pb.zero_point as i64;
        Some(FixedAdd {
            a_mul,
            b_mul,
            bias,
            shift,
            zero_point: po.zero_point,
        })
    }

    #[inline]
    fn apply(&self, a: i32, b: i32) -> i32 {
        let acc = self.bias + a as i64 * self.a_mul + b as i64 * self.b_mul;
        (acc >> self.shift).clamp(-(1 << 20), 1 << 20) as i32 + self.zero_point
    }
}

impl TypedOp for Binary {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let (a, b) = (static_shape(inputs[0])?, static_shape(inputs[1])?);
        Ok(tvec!(self.out_dt.fact(broadcast_shape(a, b)?)))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_add_uses_each_tensors_own_scale() {
        let (pa, pb, po) = (
            QParams8 {
                scale: 0.5,
                zero_point: -9,
            },
            QParams8 {
                scale: 0.25,
                zero_point: 0,
            },
            QParams8 {
                scale: 1.0,
                zero_point: -11,
            },
        );
        let dt = |p: QParams8| {
            i8::datum_type().quantize(QParams::ZpScale {
                zero_point: p.zero_point,
                scale: p.scale,
            })
        };
        let op = Binary {
            kind: BinKind::Add,
            quant: Some((pa, pb, po)),
            out_dt: dt(po),
            clamp: (-128, 127),
        };
        let a = tensor_from_bytes(dt(pa), &[3], &[(-9i8) as u8, 1u8, 127u8]).unwrap();
        let b = tensor_from_bytes(dt(pb), &[1], &[8u8]).unwrap(); // broadcast, real 2.0
        let out = op
            .eval(
                &EvalContext::out_of_plan(),
                tvec!(a.into_tvalue(), b.into_tvalue()),
            )
            .unwrap();
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        // reals: 0+2=2 -> -9; 5+2=7 -> -4; 68+2=70 -> 59
        assert_eq!(got, vec![-9, -4, 59]);
    }
}
