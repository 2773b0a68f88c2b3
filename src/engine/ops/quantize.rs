//! [`Quantize`] (f32 -> 8-bit) and [`Dequantize`] (8-bit -> f32).

use tract_core::internal::*;

use super::quant::*;

/// QUANTIZE from f32 to an 8-bit type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quantize {
    pub out: QParams8,
    pub out_dt: DatumType,
}

impl Op for Quantize {
    fn name(&self) -> StaticName {
        "breedcam.Quantize".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Quantize {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(self.out_dt).context("8-bit output expected")?;
        let bytes: Vec<u8> = x
            .try_as_plain_ram()?
            .as_slice::<f32>()?
            .iter()
            .map(|&v| q.quantize(self.out, v))
            .collect();
        Ok(tvec!(
            tensor_from_bytes(self.out_dt, x.shape(), &bytes)?.into_tvalue()
        ))
    }
}

impl TypedOp for Quantize {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// DEQUANTIZE from an 8-bit type to f32.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dequantize {
    pub input: QParams8,
}

impl Op for Dequantize {
    fn name(&self) -> StaticName {
        "breedcam.Dequantize".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Dequantize {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(x.datum_type()).context("8-bit input expected")?;
        let v: Vec<f32> = bytes_of(&x)?
            .iter()
            .map(|&b| self.input.dequantize(q.value(b)))
            .collect();
        Ok(tvec!(Tensor::from_shape(x.shape(), &v)?.into_tvalue()))
    }
}

impl TypedOp for Dequantize {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(f32::datum_type().fact(inputs[0].shape.clone())))
    }
    as_op!();
}
