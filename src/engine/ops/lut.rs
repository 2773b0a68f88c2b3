//! [`Lut8`]: any unary map from an 8-bit tensor to an 8-bit tensor as a 256-entry table:
//! requantization (QUANTIZE int8<->uint8), fused-activation clamps, LOGISTIC, TANH, HARD_SWISH.

use tract_core::internal::*;

use super::quant::*;

/// 8-bit -> 8-bit element-wise map through a 256-entry table indexed by the input byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lut8 {
    pub what: String,
    pub table: Vec<u8>,
    pub input: Q8,
    pub out_dt: DatumType,
}

impl Lut8 {
    /// A table from a function on the quantized integer values (already clamped by the caller
    /// or clamped here to the output range).
    pub fn from_fn(
        what: impl Into<String>,
        input: Q8,
        out_dt: DatumType,
        f: impl Fn(i32) -> i32,
    ) -> TractResult<Lut8> {
        let out = Q8::of(out_dt).context("Lut8 output must be 8-bit")?;
        let table = (0..=255u8)
            .map(|b| out.to_byte(f(input.value(b)).clamp(out.min(), out.max())))
            .collect();
        Ok(Lut8 {
            what: what.into(),
            table,
            input,
            out_dt,
        })
    }

    /// Requantize `x` (in `pin`) through the real function `f` into `pout`.
    pub fn real_fn(
        what: impl Into<String>,
        input: Q8,
        pin: QParams8,
        out_dt: DatumType,
        pout: QParams8,
        f: impl Fn(f32) -> f32,
    ) -> TractResult<Lut8> {
        Lut8::from_fn(what, input, out_dt, |q| {
            pout.quantize_unclamped(f(pin.dequantize(q)))
        })
    }
}

impl Op for Lut8 {
    fn name(&self) -> StaticName {
        "breedcam.Lut8".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![self.what.clone()])
    }
    op_as_typed_op!();
}

impl EvalOp for Lut8 {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let bytes = bytes_of(&x)?;
        let out: Vec<u8> = bytes.iter().map(|&b| self.table[b as usize]).collect();
        Ok(tvec!(
            tensor_from_bytes(self.out_dt, x.shape(), &out)?.into_tvalue()
        ))
    }
}

impl TypedOp for Lut8 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type) == Some(self.input));
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint8_to_int8_requantize_is_a_shift_by_128() {
        let p_in = QParams8 {
            scale: 0.0125,
            zero_point: 131,
        };
        let p_out = QParams8 {
            scale: 0.0125,
            zero_point: 3,
        };
        let dt = i8::datum_type().quantize(QParams::ZpScale {
            zero_point: 3,
            scale: 0.0125,
        });
        let lut = Lut8::real_fn("q", Q8::U8, p_in, dt, p_out, |x| x).unwrap();
        for b in 0..=255u8 {
            assert_eq!(lut.table[b as usize] as i8 as i32, b as i32 - 128);
        }
    }
}
