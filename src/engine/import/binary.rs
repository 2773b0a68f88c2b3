//! ADD, SUB and MUL.

use tract_core::internal::*;
use tract_tflite::tflite::{self, ActivationFunctionType};

use super::importer::{clamp_bounds, Call, Importer};
use super::{invalid, Result};
use crate::engine::ops::{activation_range, BinKind, Binary, Q8};

pub(super) fn binary(
    im: &mut Importer,
    call: &Call,
    kind: BinKind,
    act: ActivationFunctionType,
) -> Result<()> {
    let (ai, bi, yi) = (
        im.tensor(call.input(0)?)?,
        im.tensor(call.input(1)?)?,
        im.tensor(call.output())?,
    );
    let a = im.wire(call.input(0)?)?;
    let b = im.wire(call.input(1)?)?;
    let op = match (ai.q, bi.q, yi.q, Q8::of(yi.dt)) {
        (Some(pa), Some(pb), Some(po), Some(q))
            if Q8::of(ai.dt).is_some() && Q8::of(bi.dt).is_some() =>
        {
            let bounds = clamp_bounds(act)?;
            Binary {
                kind,
                quant: Some((pa, pb, po)),
                out_dt: yi.dt,
                clamp: activation_range(q, po, bounds.0, bounds.1),
            }
        }
        (None, None, None, None) if ai.dt == DatumType::F32 && bi.dt == DatumType::F32 => {
            let y = im.node(call, "", Binary::float(kind, None, None), &[a, b])?;
            let y = im.activation(call, y, act)?;
            return im.produce(call, y);
        }
        _ => {
            return invalid(format!(
                "unsupported operand types {:?}, {:?} -> {:?}",
                ai.dt, bi.dt, yi.dt
            ))
        }
    };
    let y = im.node(call, "", op, &[a, b])?;
    im.produce(call, y)
}

/// The fused activation of ADD / SUB / MUL (each has its own options table).
pub(super) fn binary_activation(op: &tflite::Operator) -> ActivationFunctionType {
    op.builtin_options_as_add_options()
        .map(|o| o.fused_activation_function())
        .or_else(|| {
            op.builtin_options_as_sub_options()
                .map(|o| o.fused_activation_function())
        })
        .or_else(|| {
            op.builtin_options_as_mul_options()
                .map(|o| o.fused_activation_function())
        })
        .unwrap_or(ActivationFunctionType::NONE)
}

pub(super) fn add(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Add, binary_activation(&call.op))
}

pub(super) fn sub(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Sub, binary_activation(&call.op))
}

pub(super) fn mul(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Mul, binary_activation(&call.op))
}
