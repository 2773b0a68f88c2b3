//! [`Mean`]: MEAN over axes, float or 8-bit.

use tract_core::internal::*;
use tract_core::ndarray::{ArrayD, IxDyn};

use super::quant::*;

/// MEAN over `axes` (sorted, distinct). 8-bit: dequantize, average, requantize with the
/// output's parameters (TFLite's int8 semantics); f32: a plain average.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mean {
    pub axes: Vec<usize>,
    pub keep_dims: bool,
    pub quant: Option<(QParams8, QParams8)>,
    pub out_dt: DatumType,
}

impl Mean {
    fn out_shape(&self, shape: &[usize]) -> TractResult<Vec<usize>> {
        ensure!(
            self.axes.iter().all(|&a| a < shape.len()),
            "MEAN axes {:?} on rank {}",
            self.axes,
            shape.len()
        );
        Ok(shape
            .iter()
            .enumerate()
            .filter_map(|(i, &d)| match (self.axes.contains(&i), self.keep_dims) {
                (false, _) => Some(d),
                (true, true) => Some(1),
                (true, false) => None,
            })
            .collect())
    }
}

impl Op for Mean {
    fn name(&self) -> StaticName {
        "breedcam.Mean".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axes {:?}", self.axes)])
    }
    op_as_typed_op!();
}

impl EvalOp for Mean {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let shape = x.shape().to_vec();
        let real: ArrayD<f32> = match self.quant {
            Some((pin, _)) => {
                let q = Q8::of(x.datum_type()).context("8-bit input expected")?;
                let v: Vec<f32> = bytes_of(&x)?
                    .iter()
                    .map(|&b| pin.dequantize(q.value(b)))
                    .collect();
                ArrayD::from_shape_vec(IxDyn(&shape), v)?
            }
            None => x.to_plain_array_view::<f32>()?.to_owned(),
        };
        let mut acc = real;
        for &axis in self.axes.iter().rev() {
            let n = acc.shape()[axis].max(1) as f32;
            acc = acc
                .sum_axis(tract_core::ndarray::Axis(axis))
                .mapv(|v| v / n);
        }
        let out_shape = self.out_shape(&shape)?;
        let values = acc.into_raw_vec_and_offset().0;
        let out = match self.quant {
            Some((_, pout)) => {
                let q = Q8::of(self.out_dt).context("8-bit output expected")?;
                let bytes: Vec<u8> = values.iter().map(|&v| q.quantize(pout, v)).collect();
                tensor_from_bytes(self.out_dt, &out_shape, &bytes)?
            }
            None => Tensor::from_shape(&out_shape, &values)?,
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Mean {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(self
            .out_dt
            .fact(self.out_shape(static_shape(inputs[0])?)?)))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantized_mean_requantizes_to_the_output() {
        let pin = QParams8 {
            scale: 0.5,
            zero_point: 10,
        };
        let pout = QParams8 {
            scale: 0.25,
            zero_point: -3,
        };
        let dt = |p: QParams8| {
            i8::datum_type().quantize(QParams::ZpScale {
                zero_point: p.zero_point,
                scale: p.scale,
            })
        };
        let op = Mean {
            axes: vec![1, 2],
            keep_dims: true,
            quant: Some((pin, pout)),
            out_dt: dt(pout),
        };
        // 2x2 spatial, 2 channels: channel 0 reals 0, 1, 2, 3.5 -> mean 1.625 -> 6.5 -> 7 - 3 = 4
        let vals: [i8; 8] = [10, 0, 12, 0, 14, 0, 17, 0];
        let x = tensor_from_bytes(dt(pin), &[1, 2, 2, 2], &vals.map(|v| v as u8)).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()))
            .unwrap();
        assert_eq!(out[0].shape(), &[1, 1, 1, 2]);
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        // channel 1: reals (0-10)*0.5 = -5 each -> -20 - 3 = -23
        assert_eq!(got, vec![4, -23]);
    }
}
