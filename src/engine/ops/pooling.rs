//! [`AvgPool`]: AVERAGE_POOL_2D with TFLite's rounding.

use tract_core::internal::*;

use super::quant::*;
use super::window::Window;

/// AVERAGE_POOL_2D on NHWC; padded positions are not counted (TFLite semantics).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvgPool {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    /// TFLite SAME padding (before = total / 2) when true, VALID otherwise.
    pub same: bool,
    /// 8-bit: quantized clamp bounds of the fused activation; f32: bits of real bounds.
    pub clamp: (i32, i32),
    pub out_dt: DatumType,
}

impl AvgPool {
    /// Output size and padding: the same TFLite SAME / VALID rule as convolutions.
    fn window(&self, shape: &[usize]) -> TractResult<Window> {
        let input: [usize; 4] = shape
            .try_into()
            .map_err(|_| format_err!("AVERAGE_POOL_2D wants NHWC input, got {shape:?}"))?;
        Window::new(input, self.kernel, self.stride, (1, 1), self.same)
    }

    fn out_shape(&self, shape: &[usize]) -> TractResult<[usize; 4]> {
        let w = self.window(shape)?;
        Ok([shape[0], w.output.0, w.output.1, shape[3]])
    }
}

/// For each pooling window (batch, rows ya..yb, columns xa..xb) of an NHWC tensor of
/// `shape`, the per-channel sums of `value(flat index)` and the number of positions summed.
fn window_sums<A: Copy + Default + std::ops::AddAssign>(
    windows: &[(usize, usize, usize, usize, usize)],
    shape: &[usize],
    value: impl Fn(usize) -> A,
    mut emit: impl FnMut(&[A], usize),
) {
    let c = shape[3];
    let mut acc = vec![A::default(); c];
    for &(n, ya, yb, xa, xb) in windows {
        acc.iter_mut().for_each(|a| *a = A::default());
        for y in ya..yb {
            for x in xa..xb {
                let base = ((n * shape[1] + y) * shape[2] + x) * c;
                for (k, a) in acc.iter_mut().enumerate() {
                    *a += value(base + k);
                }
            }
        }
        emit(&acc, ((yb - ya) * (xb - xa)).max(1));
    }
}

impl Op for AvgPool {
    fn name(&self) -> StaticName {
        "breedcam.AvgPool".into()
    }
    op_as_typed_op!();
}

impl EvalOp for AvgPool {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let s = x.shape();
        let w = self.window(s)?;
        let o = [s[0], w.output.0, w.output.1, s[3]];
        let c = s[3];
        // Every output position with the part of its window inside the image.
        let mut windows = Vec::with_capacity(o[0] * o[1] * o[2]);
        for n in 0..o[0] {
            for oy in 0..o[1] {
                let ys = w.input_rows(oy);
                for ox in 0..o[2] {
                    let xs = w.input_cols(ox);
                    windows.push((n, ys.start, ys.end, xs.start, xs.end));
                }
            }
        }
        let out = if let Some(q) = Q8::of(x.datum_type()) {
            let data = bytes_of(&x)?;
            let mut out = Vec::with_capacity(windows.len() * c);
            window_sums(
                &windows,
                s,
                |i| q.value(data[i]),
                |sums, count| {
                    let count = count as i32;
                    for &a in sums {
                        // TFLite: round half away from zero with integer division.
                        let avg = if a > 0 {
                            (a + count / 2) / count
                        } else {
                            (a - count / 2) / count
                        };
                        out.push(q.to_byte(avg.clamp(self.clamp.0, self.clamp.1)));
                    }
                },
            );
            tensor_from_bytes(self.out_dt, &o, &out)?
        } else {
            let data = x.try_as_plain_ram()?.as_slice::<f32>()?;
            let (lo, hi) = (
                f32::from_bits(self.clamp.0 as u32),
                f32::from_bits(self.clamp.1 as u32),
            );
            let mut out = Vec::with_capacity(windows.len() * c);
            window_sums(
                &windows,
                s,
                |i| data[i],
                |sums, count| {
                    out.extend(sums.iter().map(|a| (a / count as f32).max(lo).min(hi)));
                },
            );
            Tensor::from_shape(&o, &out)?
        };
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for AvgPool {
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
    fn quantized_average_rounds_half_away_from_zero() {
        let dt = i8::datum_type().quantize(QParams::ZpScale {
            zero_point: 0,
            scale: 1.0,
        });
        let op = AvgPool {
            kernel: (2, 1),
            stride: (2, 1),
            same: false,
            clamp: (-128, 127),
            out_dt: dt,
        };
        let x =
            tensor_from_bytes(dt, &[1, 2, 1, 2], &[1u8, (-1i8) as u8, 2u8, (-2i8) as u8]).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()))
            .unwrap();
        let got: Vec<i8> = bytes_of(&out[0])
            .unwrap()
            .iter()
            .map(|&b| b as i8)
            .collect();
        assert_eq!(got, vec![2, -2]); // 1.5 -> 2, -1.5 -> -2
    }
}
