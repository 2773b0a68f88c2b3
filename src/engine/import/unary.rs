//! Element-wise and per-row ops: SOFTMAX, QUANTIZE, DEQUANTIZE, RELU, RELU6, LOGISTIC, TANH,
//! HARD_SWISH.

use tract_core::internal::*;
use tract_tflite::tflite::ActivationFunctionType;

use super::importer::{Call, Importer};
use super::{invalid, tract_err, Result};
use crate::engine::ops::{Dequantize, Lut8, Quantize, Softmax, UnaryF32, Q8};

pub(super) fn softmax(im: &mut Importer, call: &Call) -> Result<()> {
    let beta = call
        .op
        .builtin_options_as_softmax_options()
        .map_or(1.0, |o| o.beta());
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let quant = match (xi.q, yi.q) {
        (Some(a), Some(b)) if Q8::of(xi.dt).is_some() && Q8::of(yi.dt).is_some() => Some((a, b)),
        (None, None) if xi.dt == DatumType::F32 => None,
        _ => return invalid(format!("unsupported types {:?} -> {:?}", xi.dt, yi.dt)),
    };
    let y = im.node(
        call,
        "",
        Softmax {
            beta_bits: beta.to_bits(),
            quant,
            out_dt: yi.dt,
        },
        &[x],
    )?;
    im.produce(call, y)
}

pub(super) fn quantize(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let (Some(_), Some(pout)) = (Q8::of(yi.dt), yi.q) else {
        return invalid(format!("QUANTIZE to {:?}", yi.dt));
    };
    let y = match (Q8::of(xi.dt), xi.q) {
        (Some(q), Some(pin)) => {
            // Same type: XNNPACK's fixed-point conversion (what TFLite runs by default);
            // int8 <-> uint8 or a ratio XNNPACK leaves to TFLite: the real-valued table.
            let lut = match Lut8::xnn_requantize(q, pin, yi.dt, pout) {
                Ok(Some(lut)) => lut,
                Ok(None) => Lut8::real_fn("requantize", q, pin, yi.dt, pout, |v| v)
                    .map_err(|e| tract_err(&e))?,
                Err(e) => return Err(tract_err(&e)),
            };
            im.node(call, "", lut, &[x])?
        }
        _ if xi.dt == DatumType::F32 => im.node(
            call,
            "",
            Quantize {
                out: pout,
                out_dt: yi.dt,
            },
            &[x],
        )?,
        _ => return invalid(format!("QUANTIZE from {:?}", xi.dt)),
    };
    im.produce(call, y)
}

pub(super) fn dequantize(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let x = im.wire(call.input(0)?)?;
    let (Some(_), Some(pin)) = (Q8::of(xi.dt), xi.q) else {
        return invalid(format!("DEQUANTIZE from {:?}", xi.dt));
    };
    let y = im.node(call, "", Dequantize { input: pin }, &[x])?;
    im.produce(call, y)
}

pub(super) fn unary_activation(
    im: &mut Importer,
    call: &Call,
    act: ActivationFunctionType,
) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let mut x = im.wire(call.input(0)?)?;
    if let (Some(q), Some(pin), Some(pout)) = (Q8::of(xi.dt), xi.q, yi.q) {
        if pin != pout {
            let lut = Lut8::real_fn("requantize", q, pin, yi.dt, pout, |v| v)
                .map_err(|e| tract_err(&e))?;
            x = im.node(call, ".requantize", lut, &[x])?;
        }
    }
    let y = im.activation(call, x, act)?;
    im.produce(call, y)
}

pub(super) fn relu(im: &mut Importer, call: &Call) -> Result<()> {
    unary_activation(im, call, ActivationFunctionType::RELU)
}

pub(super) fn relu6(im: &mut Importer, call: &Call) -> Result<()> {
    unary_activation(im, call, ActivationFunctionType::RELU6)
}

/// An element-wise real function: a 256-entry table on 8-bit tensors (in the input's and
/// output's own quantizations), or the f32 op.
pub(super) fn real_function(im: &mut Importer, call: &Call, f: UnaryF32) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let y = match (Q8::of(xi.dt), xi.q, yi.q) {
        (Some(q), Some(pin), Some(pout)) => {
            let what = format!("{f:?}").to_lowercase();
            let lut = Lut8::real_fn(what, q, pin, yi.dt, pout, |v| f.apply(v))
                .map_err(|e| tract_err(&e))?;
            im.node(call, "", lut, &[x])?
        }
        (None, None, None) if xi.dt == DatumType::F32 => im.node(call, "", f, &[x])?,
        _ => return invalid(format!("unsupported types {:?} -> {:?}", xi.dt, yi.dt)),
    };
    im.produce(call, y)
}

pub(super) fn logistic(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::Logistic)
}

pub(super) fn tanh(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::Tanh)
}

pub(super) fn hard_swish(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::HardSwish)
}
