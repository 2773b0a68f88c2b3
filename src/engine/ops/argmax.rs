//! [`ArgMax`]: ARG_MAX over one axis of an 8-bit tensor, the index of the first largest value
//! (ties go to the lowest index, as TFLite's kernel keeps the first maximum it meets).

use tract_core::internal::*;

use super::quant::*;

/// ARG_MAX over `axis`, which the output drops; indices as i32 or i64 (`out_dt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgMax {
    pub axis: usize,
    pub out_dt: DatumType,
}

impl ArgMax {
    fn out_shape(&self, s: &[usize]) -> TractResult<TVec<usize>> {
        ensure!(
            self.axis < s.len(),
            "ARG_MAX axis {} of a rank-{} tensor",
            self.axis,
            s.len()
        );
        let mut o: TVec<usize> = s.into();
        o.remove(self.axis);
        Ok(o)
    }

    /// For each (outer, inner) position, the index along the axis of the first largest value.
    pub fn indices(&self, shape: &[usize], src: &[u8], q: Q8) -> Vec<usize> {
        let n = shape[self.axis];
        let inner: usize = shape[self.axis + 1..].iter().product();
        let outer: usize = shape[..self.axis].iter().product();
        let mut out = Vec::with_capacity(outer * inner);
        for o in 0..outer {
            let block = &src[o * n * inner..(o + 1) * n * inner];
            for i in 0..inner {
                let mut best = (0, q.value(block[i]));
                for k in 1..n {
                    let v = q.value(block[k * inner + i]);
                    if v > best.1 {
                        best = (k, v);
                    }
                }
                out.push(best.0);
            }
        }
        out
    }
}

impl Op for ArgMax {
    fn name(&self) -> StaticName {
        "breedcam.ArgMax".into()
    }
    fn info(&self) -> TractResult<Vec<String>> {
        Ok(vec![format!("axis {} -> {:?}", self.axis, self.out_dt)])
    }
    op_as_typed_op!();
}

impl EvalOp for ArgMax {
    op_out_of_plan!();
    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let x = args_1!(inputs);
        let q = Q8::of(x.datum_type()).context("ARG_MAX: 8-bit input expected")?;
        let shape = self.out_shape(x.shape())?;
        let idx = self.indices(x.shape(), bytes_of(&x)?, q);
        let y = match self.out_dt {
            DatumType::I64 => {
                let v: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
                Tensor::from_shape(&shape, &v)?
            }
            DatumType::I32 => {
                let v: Vec<i32> = idx.iter().map(|&i| i as i32).collect();
                Tensor::from_shape(&shape, &v)?
            }
            dt => bail!("ARG_MAX output type {dt:?}"),
        };
        Ok(tvec!(y.into_tvalue()))
    }
}

impl TypedOp for ArgMax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(Q8::of(inputs[0].datum_type).is_some());
        ensure!(matches!(self.out_dt, DatumType::I32 | DatumType::I64));
        let shape = self.out_shape(static_shape(inputs[0])?)?;
        Ok(tvec!(self.out_dt.fact(shape)))
    }
    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_maximum_wins_on_any_axis() {
        // [2, 3] int8: rows (-1, 5, 5) and (-128, -128, -2).
        let src: Vec<u8> = [-1i8, 5, 5, -128, -128, -2]
            .iter()
            .map(|&v| v as u8)
            .collect();
        let last = ArgMax {
            axis: 1,
            out_dt: DatumType::I64,
        };
        assert_eq!(last.indices(&[2, 3], &src, Q8::I8), [1, 2]);
        let first = ArgMax {
            axis: 0,
            out_dt: DatumType::I32,
        };
        // Columns (-1, -128), (5, -128), (5, -2); as uint8 the same bytes are (255, 128),
        // (5, 128), (5, 254).
        assert_eq!(first.indices(&[2, 3], &src, Q8::I8), [0, 0, 0]);
        assert_eq!(first.indices(&[2, 3], &src, Q8::U8), [0, 1, 1]);
    }
}
