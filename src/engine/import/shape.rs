//! RESHAPE, SQUEEZE, PAD and PADV2.

use tract_core::internal::*;

use super::importer::{const_ints, Call, Importer};
use super::{invalid, tract_err, Result};
use crate::engine::ops::quant::retyped;
use crate::engine::ops::Q8;

pub(super) fn reshape(im: &mut Importer, call: &Call) -> Result<()> {
    // Static shapes only: the declared output shape is the target (the shape operand of
    // RESHAPE and the axes of SQUEEZE must agree with it, which `reshape` checks by volume).
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let y = im.reshape(call, x, &yi.shape)?;
    im.produce(call, y)
}

pub(super) fn pad(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let pads = const_ints(im, call.input(1)?)?;
    if pads.len() != 2 * xi.shape.len() || pads.iter().any(|&p| !(0..=4096).contains(&p)) {
        return invalid(format!(
            "paddings {pads:?} for a rank-{} input",
            xi.shape.len()
        ));
    }
    let pads: Vec<(usize, usize)> = pads
        .chunks(2)
        .map(|c| (c[0] as usize, c[1] as usize))
        .collect();
    // PAD fills with real 0 (the zero point when quantized); PADV2 with its third input.
    let value = match call.optional_input(2) {
        Some(v) => {
            let vi = im.tensor(v)?;
            let t = im.const_tensor(&vi)?;
            if t.len() != 1 || t.datum_type().unquantized() != xi.dt.unquantized() {
                return invalid("PADV2 constant must be one value of the input's type");
            }
            t.into_shape(&[]).map_err(|e| tract_err(&e))?
        }
        None => match (Q8::of(xi.dt), xi.q) {
            (Some(Q8::I8), Some(p)) => tensor0(p.zero_point.clamp(-128, 127) as i8),
            (Some(Q8::U8), Some(p)) => tensor0(p.zero_point.clamp(0, 255) as u8),
            _ if xi.dt == DatumType::F32 => tensor0(0f32),
            _ => return invalid(format!("PAD of {:?}", xi.dt)),
        },
    };
    let value = retyped(value, xi.dt).map_err(|e| tract_err(&e))?;
    if xi.q != yi.q {
        return invalid("PAD changes the quantization");
    }
    let x = im.wire(call.input(0)?)?;
    let op = tract_core::ops::array::Pad {
        pads,
        mode: tract_core::ops::array::PadMode::Constant(value.into_arc_tensor()),
    };
    let y = im.node(call, "", op, &[x])?;
    im.produce(call, y)
}
