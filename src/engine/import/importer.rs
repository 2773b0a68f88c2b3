//! The importer's state and the helpers every builder uses: checked tensors, wiring,
//! constants, fused activations, reshapes, option decoding.

use std::collections::HashMap;

use tract_core::internal::*;
use tract_tflite::tflite::{self, ActivationFunctionType, Padding, TensorType};

use super::{
    corrupt, invalid, tract_err, ImportError, Result, TensorSpec, MAX_RANK, MAX_TENSOR_ELEMENTS,
};
use crate::engine::ops::quant::tensor_from_raw;
use crate::engine::ops::{activation_range, ClampF32, Lut8, QParams8, UnaryF32, Q8};

/// One operator being imported.
pub(super) struct Call<'m> {
    pub(super) index: usize,
    pub(super) name: String,
    pub(super) op: tflite::Operator<'m>,
    /// Tensor indices; -1 marks an omitted optional input.
    pub(super) inputs: Vec<i32>,
    pub(super) outputs: Vec<i32>,
}

impl Call<'_> {
    pub(super) fn input(&self, i: usize) -> Result<i32> {
        match self.inputs.get(i) {
            Some(&t) if t >= 0 => Ok(t),
            _ => invalid(format!("input {i} is missing")),
        }
    }
    pub(super) fn optional_input(&self, i: usize) -> Option<i32> {
        self.inputs.get(i).copied().filter(|&t| t >= 0)
    }
    pub(super) fn output(&self) -> i32 {
        self.outputs[0]
    }
}

/// A TFLite tensor, checked: shape within limits, buffer size matching the shape.
pub(super) struct TInfo<'m> {
    pub(super) name: String,
    pub(super) dt: DatumType,
    pub(super) shape: Vec<usize>,
    /// Per-tensor quantization (the first scale / zero point when per-axis).
    pub(super) q: Option<QParams8>,
    /// Per-axis scales and zero points, when there are several.
    pub(super) per_axis: Option<(Vec<f32>, Vec<i64>, usize)>,
    pub(super) data: Option<&'m [u8]>,
}

pub(super) struct Importer<'m> {
    pub(super) fb: tflite::Model<'m>,
    pub(super) graph: tflite::SubGraph<'m>,
    pub(super) model: TypedModel,
    pub(super) wires: HashMap<i32, OutletId>,
}

pub(super) fn datum_type(t: TensorType) -> Result<(DatumType, usize)> {
    Ok(match t {
        TensorType::FLOAT32 => (DatumType::F32, 4),
        TensorType::INT32 => (DatumType::I32, 4),
        TensorType::UINT8 => (DatumType::U8, 1),
        TensorType::INT8 => (DatumType::I8, 1),
        TensorType::INT64 => (DatumType::I64, 8),
        TensorType::INT16 => (DatumType::I16, 2),
        other => {
            return invalid(format!(
                "tensor type {:?} is not supported",
                other.variant_name().unwrap_or("?")
            ))
        }
    })
}

impl<'m> Importer<'m> {
    pub(super) fn tensor(&self, ix: i32) -> Result<TInfo<'m>> {
        let tensors = self
            .graph
            .tensors()
            .ok_or_else(|| ImportError::Corrupt("subgraph has no tensors".into()))?;
        if ix < 0 || ix as usize >= tensors.len() {
            return corrupt(format!(
                "tensor index {ix} out of range ({} tensors)",
                tensors.len()
            ));
        }
        let t = tensors.get(ix as usize);
        let name = t.name().unwrap_or("").to_string();
        let (mut dt, size) = datum_type(t.type_())?;
        let dims: Vec<i32> = t.shape().map(|s| s.iter().collect()).unwrap_or_default();
        if dims.len() > MAX_RANK {
            return invalid(format!("tensor {ix} '{name}' has rank {}", dims.len()));
        }
        let mut shape = Vec::with_capacity(dims.len());
        let mut volume: usize = 1;
        for &d in &dims {
            if d < 0 {
                return invalid(format!(
                    "tensor {ix} '{name}' has a dynamic or negative dimension {dims:?}"
                ));
            }
            if d == 0 {
                // Empty tensors have no place in a classifier, and an empty tensor with
                // huge other dimensions overflows stride arithmetic downstream.
                return invalid(format!(
                    "tensor {ix} '{name}' has a zero dimension {dims:?}"
                ));
            }
            volume = volume.saturating_mul(d as usize);
            shape.push(d as usize);
        }
        if volume > MAX_TENSOR_ELEMENTS {
            return invalid(format!("tensor {ix} '{name}' shape {dims:?} has {volume} elements (limit {MAX_TENSOR_ELEMENTS})"));
        }
        let mut q = None;
        let mut per_axis = None;
        if let Some(qp) = t.quantization() {
            if let (Some(scales), Some(zps)) = (qp.scale(), qp.zero_point()) {
                if !scales.is_empty() {
                    let scales: Vec<f32> = scales.iter().collect();
                    let zps: Vec<i64> = zps.iter().collect();
                    if zps.len() != scales.len() && zps.len() > 1 {
                        return invalid(format!(
                            "tensor {ix} '{name}': {} scales but {} zero points",
                            scales.len(),
                            zps.len()
                        ));
                    }
                    if scales.iter().any(|s| !s.is_finite() || *s <= 0.0) {
                        return invalid(format!(
                            "tensor {ix} '{name}': non-positive or non-finite scale"
                        ));
                    }
                    let zp0 = zps.first().copied().unwrap_or(0);
                    let zp_range = match dt {
                        DatumType::I8 => -128..=127,
                        DatumType::U8 => 0..=255,
                        _ => -128..=255,
                    };
                    if zps.iter().any(|z| !zp_range.contains(z)) {
                        return invalid(format!(
                            "tensor {ix} '{name}': zero point {zps:?} out of range for {dt:?}"
                        ));
                    }
                    let p = QParams8 {
                        scale: scales[0],
                        zero_point: zp0 as i32,
                    };
                    if scales.len() > 1 {
                        let axis = qp.quantized_dimension();
                        if axis < 0
                            || axis as usize >= shape.len()
                            || shape[axis as usize] != scales.len()
                        {
                            return invalid(format!(
                                "tensor {ix} '{name}': {} scales on axis {axis} of {dims:?}",
                                scales.len()
                            ));
                        }
                        per_axis = Some((scales, zps, axis as usize));
                    }
                    if matches!(dt, DatumType::I8 | DatumType::U8) {
                        dt = dt.quantize(tract_core::prelude::QParams::ZpScale {
                            zero_point: p.zero_point,
                            scale: p.scale,
                        });
                    }
                    q = Some(p);
                }
            }
        }
        let buffers = self
            .fb
            .buffers()
            .ok_or_else(|| ImportError::Corrupt("model has no buffers".into()))?;
        let b = t.buffer() as usize;
        if b >= buffers.len() {
            return corrupt(format!(
                "tensor {ix} '{name}': buffer index {b} out of range ({} buffers)",
                buffers.len()
            ));
        }
        let data = match buffers.get(b).data() {
            Some(d) if !d.is_empty() => {
                if d.len() != volume * size {
                    return corrupt(format!(
                        "tensor {ix} '{name}': buffer {b} has {} bytes, shape {dims:?} needs {}",
                        d.len(),
                        volume * size
                    ));
                }
                Some(d.bytes())
            }
            _ => None,
        };
        Ok(TInfo {
            name,
            dt,
            shape,
            q,
            per_axis,
            data,
        })
    }

    pub(super) fn spec(&self, ix: i32) -> Result<TensorSpec> {
        let t = self.tensor(ix)?;
        Ok(TensorSpec {
            name: t.name.clone(),
            shape: t.shape.clone(),
            dtype: format!("{:?}", t.dt.unquantized()).to_lowercase(),
            quant: t.q.map(|q| (q.scale, q.zero_point)),
            datum_type: t.dt,
        })
    }

    pub(super) fn const_tensor(&self, t: &TInfo) -> Result<Tensor> {
        let data = t.data.ok_or_else(|| {
            ImportError::Invalid(format!("tensor '{}' must be a constant", t.name))
        })?;
        tensor_from_raw(t.dt, &t.shape, data).map_err(|e| tract_err(&e))
    }

    /// The outlet carrying tensor `ix`: produced earlier, a graph input, or a constant.
    pub(super) fn wire(&mut self, ix: i32) -> Result<OutletId> {
        if let Some(o) = self.wires.get(&ix) {
            return Ok(*o);
        }
        let t = self.tensor(ix)?;
        if t.data.is_none() {
            return invalid(format!(
                "tensor {ix} '{}' is read before any operator writes it",
                t.name
            ));
        }
        let tensor = self.const_tensor(&t)?;
        let outlet = self
            .model
            .add_const(format!("{}.{ix}", t.name), tensor)
            .map_err(|e| tract_err(&e))?;
        self.wires.insert(ix, outlet);
        Ok(outlet)
    }

    pub(super) fn node(
        &mut self,
        call: &Call,
        suffix: &str,
        op: impl Into<Box<dyn TypedOp>>,
        inputs: &[OutletId],
    ) -> Result<OutletId> {
        let name = format!("op{}.{}{suffix}", call.index, call.name);
        let name = self.model.unique_name(name);
        Ok(self
            .model
            .wire_node(name, op, inputs)
            .map_err(|e| tract_err(&e))?[0])
    }

    pub(super) fn konst(&mut self, call: &Call, suffix: &str, t: Tensor) -> Result<OutletId> {
        let name = self
            .model
            .unique_name(format!("op{}.{}", call.index, suffix));
        self.model.add_const(name, t).map_err(|e| tract_err(&e))
    }

    /// Binds the operator's output tensor to `outlet`, checking shape and type against the
    /// model's declaration.
    pub(super) fn produce(&mut self, call: &Call, outlet: OutletId) -> Result<()> {
        let ix = call.output();
        let t = self.tensor(ix)?;
        let fact = self.model.outlet_fact(outlet).map_err(|e| tract_err(&e))?;
        let shape = fact.shape.as_concrete().map(|s| s.to_vec());
        if shape.as_deref() != Some(&t.shape[..]) {
            return invalid(format!(
                "computes shape {:?}, but output tensor {ix} '{}' is declared {:?}",
                fact.shape, t.name, t.shape
            ));
        }
        if fact.datum_type.unquantized() != t.dt.unquantized() {
            return invalid(format!(
                "computes {:?}, but output tensor {ix} '{}' is {:?}",
                fact.datum_type, t.name, t.dt
            ));
        }
        self.wires.insert(ix, outlet);
        Ok(())
    }

    /// Applies a fused activation to `outlet`, whose values are in output tensor `out`.
    pub(super) fn activation(
        &mut self,
        call: &Call,
        outlet: OutletId,
        act: ActivationFunctionType,
    ) -> Result<OutletId> {
        let out = self.tensor(call.output())?;
        if act == ActivationFunctionType::NONE {
            return Ok(outlet);
        }
        if act == ActivationFunctionType::TANH {
            return match (Q8::of(out.dt), out.q) {
                (Some(q), Some(p)) => {
                    let lut = Lut8::real_fn("tanh", q, p, out.dt, p, f32::tanh)
                        .map_err(|e| tract_err(&e))?;
                    self.node(call, ".tanh", lut, &[outlet])
                }
                _ => self.node(call, ".tanh", UnaryF32::Tanh, &[outlet]),
            };
        }
        let bounds = clamp_bounds(act)?;
        match (Q8::of(out.dt), out.q) {
            (Some(q), Some(p)) => {
                let (lo, hi) = activation_range(q, p, bounds.0, bounds.1);
                if lo <= q.min() && hi >= q.max() {
                    return Ok(outlet); // the requantization already saturates to this range
                }
                let lut =
                    Lut8::from_fn(format!("clamp {lo}..={hi}"), q, out.dt, |v| v.clamp(lo, hi))
                        .map_err(|e| tract_err(&e))?;
                self.node(call, ".act", lut, &[outlet])
            }
            _ => self.node(call, ".act", ClampF32::new(bounds.0, bounds.1), &[outlet]),
        }
    }

    /// Reshape `outlet` to `to` (same volume).
    pub(super) fn reshape(
        &mut self,
        call: &Call,
        outlet: OutletId,
        to: &[usize],
    ) -> Result<OutletId> {
        let fact = self.model.outlet_fact(outlet).map_err(|e| tract_err(&e))?;
        let from: TVec<TDim> = fact.shape.iter().cloned().collect();
        let from_volume = fact
            .shape
            .as_concrete()
            .map(|s| s.iter().product::<usize>());
        if from_volume != Some(to.iter().product()) {
            return invalid(format!("cannot reshape {:?} to {to:?}", fact.shape));
        }
        if fact.shape.as_concrete() == Some(to) {
            return Ok(outlet);
        }
        let to: TVec<TDim> = to.iter().map(|d| d.to_dim()).collect();
        self.node(call, ".reshape", AxisOp::Reshape(0, from, to), &[outlet])
    }
}

/// A quantized kernel's scales: one per output channel when per-axis (whose zero points
/// must then all be equal), else its one scale.
pub(super) fn kernel_scales(k: &TInfo, kq: QParams8) -> Result<Vec<f32>> {
    match &k.per_axis {
        Some((scales, zps, _)) => {
            if zps.iter().any(|z| *z != zps[0]) {
                return invalid("per-channel kernel zero points differ");
            }
            Ok(scales.clone())
        }
        None => Ok(vec![kq.scale]),
    }
}

/// The real-valued clamp of a fused activation: (lower, upper) bound, `None` for open.
pub(super) fn clamp_bounds(act: ActivationFunctionType) -> Result<(Option<f32>, Option<f32>)> {
    match act {
        ActivationFunctionType::NONE => Ok((None, None)),
        ActivationFunctionType::RELU => Ok((Some(0.0), None)),
        ActivationFunctionType::RELU6 => Ok((Some(0.0), Some(6.0))),
        ActivationFunctionType::RELU_N1_TO_1 => Ok((Some(-1.0), Some(1.0))),
        other => invalid(format!(
            "fused activation {:?} is not supported here",
            other.variant_name().unwrap_or("?")
        )),
    }
}

pub(super) fn padding(p: Padding) -> Result<bool> {
    match p {
        Padding::SAME => Ok(true),
        Padding::VALID => Ok(false),
        other => invalid(format!("padding {:?}", other.0)),
    }
}

pub(super) fn options_missing<T>() -> Result<T> {
    invalid("options missing or of the wrong type")
}

/// Two non-negative option values (height and width of a stride, a dilation, a filter).
pub(super) fn pair(h: i32, w: i32, what: &str) -> Result<(usize, usize)> {
    Ok((usize_of(h, what)?, usize_of(w, what)?))
}

pub(super) fn usize_of(v: i32, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| ImportError::Invalid(format!("{what} {v}")))
}

/// The integer values of a constant tensor (axes, paddings).
pub(super) fn const_ints(im: &Importer, ix: i32) -> Result<Vec<i64>> {
    let t = im.tensor(ix)?;
    let tensor = im.const_tensor(&t)?;
    let v = tensor.cast_to::<i64>().map_err(|e| tract_err(&e))?;
    let v = v
        .try_as_plain_ram()
        .map_err(|e| tract_err(&e))?
        .as_slice::<i64>()
        .map_err(|e| tract_err(&e))?
        .to_vec();
    Ok(v)
}
