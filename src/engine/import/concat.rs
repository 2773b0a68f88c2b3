//! CONCATENATION: inputs in the output's quantization are joined as they are; the others are
//! requantized first, the way TFLite's own kernel does (XNNPACK takes the op only when
//! every quantization is the same).

use tract_core::internal::*;
use tract_tflite::tflite::ActivationFunctionType;

use super::importer::{options_missing, Call, Importer};
use super::{invalid, tract_err, Result};
use crate::engine::ops::{Lut8, QParams8, Q8};

pub(super) fn concatenation(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_concatenation_options() else {
        return options_missing();
    };
    let act = o.fused_activation_function();
    if act != ActivationFunctionType::NONE {
        return invalid(format!(
            "fused activation {} is not supported",
            act.variant_name().unwrap_or("?")
        ));
    }
    if call.inputs.is_empty() {
        return invalid("no inputs");
    }
    let yi = im.tensor(call.output())?;
    let rank = yi.shape.len() as i64;
    let axis = o.axis() as i64;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return invalid(format!("axis {} out of range for rank {rank}", o.axis()));
    }
    let axis = axis as usize;
    let (Some(q), Some(pout)) = (Q8::of(yi.dt), yi.q) else {
        return invalid(format!("output type {:?}: only quantized 8-bit", yi.dt));
    };
    let mut wires = vec![];
    let mut along = 0;
    for i in 0..call.inputs.len() {
        let xi = im.tensor(call.input(i)?)?;
        let same_dims = xi.shape.len() == yi.shape.len()
            && (0..yi.shape.len()).all(|d| d == axis || xi.shape[d] == yi.shape[d]);
        if !same_dims {
            return invalid(format!(
                "input {i} shape {:?} does not fit output {:?} on axis {axis}",
                xi.shape, yi.shape
            ));
        }
        along += xi.shape[axis];
        let (Some(qx), Some(pin)) = (Q8::of(xi.dt), xi.q) else {
            return invalid(format!("input {i} type {:?}: only quantized 8-bit", xi.dt));
        };
        if qx != q {
            return invalid(format!("input {i} is {:?}, the output {:?}", xi.dt, yi.dt));
        }
        let mut x = im.wire(call.input(i)?)?;
        if pin != pout {
            x = im.node(
                call,
                ".requantize",
                builtin_requantize(q, pin, yi.dt, pout)?,
                &[x],
            )?;
        } else if xi.dt != yi.dt {
            // The same scale and zero point, written differently: retag only.
            x = im.node(
                call,
                ".requantize",
                Lut8::from_fn("retag", q, yi.dt, |v| v).map_err(|e| tract_err(&e))?,
                &[x],
            )?;
        }
        wires.push(x);
    }
    if along != yi.shape[axis] {
        return invalid(format!(
            "inputs add up to {along} on axis {axis}, the output has {}",
            yi.shape[axis]
        ));
    }
    let y = if wires.len() == 1 {
        wires[0]
    } else {
        im.node(
            call,
            "",
            tract_core::ops::array::TypedConcat { axis },
            &wires,
        )?
    };
    im.produce(call, y)
}

/// TFLite's reference requantization inside CONCATENATION: `scale = s_in * (1 / s_out)`,
/// `y = round(x * scale - zp_in * scale) + zp_out` in f32, rounded half away from zero.
fn builtin_requantize(q: Q8, pin: QParams8, out_dt: DatumType, pout: QParams8) -> Result<Lut8> {
    let scale = pin.scale * (1.0 / pout.scale);
    let bias = -(pin.zero_point as f32) * scale;
    Lut8::from_fn("requantize (TFLite concatenation)", q, out_dt, |x| {
        (x as f32 * scale + bias).round() as i32 + pout.zero_point
    })
    .map_err(|e| tract_err(&e))
}
