//! [`Softmax`] over the last axis, float or 8-bit.

use tract_core::internal::*;

use super::quant::*;

/// SOFTMAX over the last axis: `exp(beta * x)` normalised. 8-bit tensors are dequantized
/// with their own parameters and the result requantized with the output's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Softmax {
    pub beta_bits: u32,
    pub quant: Option<(QParams8, QParams8)>,
    pub out_dt: DatumType,
}

impl Op for Softmax {
    fn name(&self) -> StaticName {
        "breedcam.Softmax".into()
    }
    op_as_typed_op!();
}

fn softmax_rows(x: &[f32], row: usize, beta: f32, out: &mut Vec<f32>) {
    for r in x.chunks(row.max(1)) {
        let max = r.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let start = out.len();
        out.extend(r.iter().map(|v| ((v - max) * beta).exp()));
        let sum: f32 = out[start..].iter().sum();
        out[start..].iter_mut().for_each(|v| *v /= sum);
    }
}

impl EvalOp for Softmax {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let row = *x.shape().last().context("SOFTMAX on a scalar")?;
        let beta = f32::from_bits(self.beta_bits);
        let mut out = Vec::with_capacity(x.len());
        let out = match self.quant {
            None => {
                softmax_rows(
                    x.try_as_plain_ram()?.as_slice::<f32>()?,
                    row,
                    beta,
                    &mut out,
                );
                Tensor::from_shape(x.shape(), &out)?
            }
            Some((pin, pout)) => {
                let qi = Q8::of(x.datum_type()).context("8-bit input expected")?;
                let qo = Q8::of(self.out_dt).context("8-bit output expected")?;
                let real: Vec<f32> = bytes_of(&x)?
                    .iter()
                    .map(|&b| pin.dequantize(qi.value(b)))
                    .collect();
                softmax_rows(&real, row, beta, &mut out);
                let bytes: Vec<u8> = out.iter().map(|&p| qo.quantize(pout, p)).collect();
                tensor_from_bytes(self.out_dt, x.shape(), &bytes)?
            }
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Softmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self.out_dt.fact(inputs[0].shape.clone())))
    }
    as_op!();
}
