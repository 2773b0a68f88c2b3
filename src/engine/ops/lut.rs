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

impl Lut8 {
    /// QUANTIZE between two tensors of the same 8-bit type, the way XNNPACK converts them:
    /// `m = lrintf(256 * (s_in / s_out))`, `y = zp_out + (((x - zp_in) * m + 128) >> 8)`
    /// (arithmetic shift), saturated. XNNPACK takes the op only when `s_in / s_out` is in
    /// [1/256, 128]; outside that (`None`) TFLite's own kernel runs it, which
    /// [`Lut8::real_fn`] matches.
    pub fn xnn_requantize(
        input: Q8,
        pin: QParams8,
        out_dt: DatumType,
        pout: QParams8,
    ) -> TractResult<Option<Lut8>> {
        if Q8::of(out_dt) != Some(input) {
            return Ok(None);
        }
        let ratio = pin.scale / pout.scale;
        if !(1.0 / 256.0..=128.0).contains(&ratio) {
            return Ok(None);
        }
        let m = (256.0 * ratio).round_ties_even() as i32;
        let lut = Lut8::from_fn("requantize (XNNPACK)", input, out_dt, |x| {
            pout.zero_point + (((x - pin.zero_point) * m + 128) >> 8)
        })?;
        Ok(Some(lut))
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

    #[test]
    fn same_type_requantize_rounds_like_xnnpack() {
        // DeepLabV3 (depth 1.0) op 65: uint8 0.012422441 / 0 -> 0.03520937 / 0; m = 90.
        let (pin, pout) = (
            QParams8 {
                scale: 0.012422441,
                zero_point: 0,
            },
            QParams8 {
                scale: 0.03520937,
                zero_point: 0,
            },
        );
        let dt = u8::datum_type().quantize(QParams::ZpScale {
            zero_point: 0,
            scale: 0.03520937,
        });
        let lut = Lut8::xnn_requantize(Q8::U8, pin, dt, pout)
            .unwrap()
            .unwrap();
        // y = (x * 90 + 128) >> 8. At 27 the real value 27 * 0.35282 = 9.53 rounds to 10,
        // XNNPACK's (2430 + 128) >> 8 is 9: 43 of the 256 inputs differ that way.
        for (x, y) in [
            (0, 0),
            (7, 2),
            (10, 4),
            (27, 9),
            (43, 15),
            (199, 70),
            (255, 90),
        ] {
            assert_eq!(lut.table[x], y, "{x}");
        }
        let real = Lut8::real_fn("q", Q8::U8, pin, dt, pout, |v| v).unwrap();
        assert_eq!(real.table[27], 10);
        let differ = (0..256).filter(|&i| real.table[i] != lut.table[i]).count();
        assert_eq!(differ, 43);
        // Across types (uint8 -> int8), or a ratio XNNPACK does not take: no XNNPACK table.
        let i8dt = i8::datum_type();
        assert!(Lut8::xnn_requantize(Q8::U8, pin, i8dt, pout)
            .unwrap()
            .is_none());
        let tiny = QParams8 {
            scale: 1e-6,
            zero_point: 0,
        };
        assert!(Lut8::xnn_requantize(Q8::U8, tiny, dt, pout)
            .unwrap()
            .is_none());
    }
}
