//! AVERAGE_POOL_2D and MEAN.

use tract_core::internal::*;

use super::importer::{clamp_bounds, const_ints, options_missing, padding, pair, Call, Importer};
use super::{invalid, tract_err, Result};
use crate::engine::ops::{activation_range, AvgPool, Lut8, Mean, Q8};

pub(super) fn average_pool_2d(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_pool_2_doptions() else {
        return options_missing();
    };
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let kernel = pair(o.filter_height(), o.filter_width(), "filter size")?;
    let stride = pair(o.stride_h(), o.stride_w(), "stride")?;
    let same = padding(o.padding())?;
    let act = o.fused_activation_function();
    // 8-bit: the fused activation clamps in the input's quantization, then a requantize
    // if the output's differs. f32: an open pool, then the activation op.
    let quantized = match (Q8::of(xi.dt), xi.q, yi.q) {
        (Some(q), Some(pin), Some(pout)) => Some((q, pin, pout)),
        (None, None, None) if xi.dt == DatumType::F32 => None,
        _ => return invalid(format!("unsupported types {:?} -> {:?}", xi.dt, yi.dt)),
    };
    let clamp = match quantized {
        Some((q, pin, _)) => {
            let bounds = clamp_bounds(act)?;
            activation_range(q, pin, bounds.0, bounds.1)
        }
        None => (
            f32::NEG_INFINITY.to_bits() as i32,
            f32::INFINITY.to_bits() as i32,
        ),
    };
    let pool = AvgPool {
        kernel,
        stride,
        same,
        clamp,
        out_dt: xi.dt,
    };
    let y = im.node(call, "", pool, &[x])?;
    let y = match quantized {
        Some((q, pin, pout)) if pin != pout || xi.dt.unquantized() != yi.dt.unquantized() => {
            let lut = Lut8::real_fn("requantize", q, pin, yi.dt, pout, |v| v)
                .map_err(|e| tract_err(&e))?;
            im.node(call, ".requantize", lut, &[y])?
        }
        Some(_) => y,
        None => im.activation(call, y, act)?,
    };
    im.produce(call, y)
}

pub(super) fn mean(im: &mut Importer, call: &Call) -> Result<()> {
    let keep_dims = call
        .op
        .builtin_options_as_reducer_options()
        .is_some_and(|o| o.keep_dims());
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let rank = xi.shape.len() as i64;
    let mut axes = vec![];
    for a in const_ints(im, call.input(1)?)? {
        let a = if a < 0 { a + rank } else { a };
        if !(0..rank).contains(&a) {
            return invalid(format!("axis {a} out of range for rank {rank}"));
        }
        axes.push(a as usize);
    }
    axes.sort_unstable();
    axes.dedup();
    let quant = match (Q8::of(xi.dt), xi.q, yi.q) {
        (Some(_), Some(a), Some(b)) if Q8::of(yi.dt).is_some() => Some((a, b)),
        (None, None, None) if xi.dt == DatumType::F32 => None,
        _ => return invalid(format!("unsupported types {:?} -> {:?}", xi.dt, yi.dt)),
    };
    let x = im.wire(call.input(0)?)?;
    let y = im.node(
        call,
        "",
        Mean {
            axes,
            keep_dims,
            quant,
            out_dt: yi.dt,
        },
        &[x],
    )?;
    im.produce(call, y)
}
