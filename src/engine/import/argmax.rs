//! ARG_MAX over one axis of an 8-bit tensor.

use tract_core::internal::*;
use tract_tflite::tflite::TensorType;

use super::importer::{const_ints, Call, Importer};
use super::{invalid, Result};
use crate::engine::ops::{ArgMax, Q8};

pub(super) fn arg_max(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    if Q8::of(xi.dt).is_none() {
        return invalid(format!("input type {:?}: only 8-bit", xi.dt));
    }
    let out_dt = match call.op.builtin_options_as_arg_max_options() {
        Some(o) if o.output_type() == TensorType::INT64 => DatumType::I64,
        Some(o) if o.output_type() == TensorType::INT32 => DatumType::I32,
        Some(o) => {
            return invalid(format!(
                "output type {} is not INT32 or INT64",
                o.output_type().variant_name().unwrap_or("?")
            ))
        }
        None => yi.dt,
    };
    if !matches!(yi.dt, DatumType::I64 | DatumType::I32) || yi.dt != out_dt {
        return invalid(format!(
            "output tensor is {:?}, the options say {out_dt:?}",
            yi.dt
        ));
    }
    let axis = const_ints(im, call.input(1)?)?;
    let rank = xi.shape.len() as i64;
    let axis = match axis[..] {
        [a] if (-rank..rank).contains(&a) => (if a < 0 { a + rank } else { a }) as usize,
        _ => return invalid(format!("axis {axis:?} for a rank-{rank} input")),
    };
    let x = im.wire(call.input(0)?)?;
    let y = im.node(call, "", ArgMax { axis, out_dt }, &[x])?;
    im.produce(call, y)
}
