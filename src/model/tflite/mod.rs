//! breedcam's TFLite importer: a verified flatbuffer in, a tract `TypedModel` out, with the
//! int8 / uint8 graph kept quantized.
//!
//! Stock tract-tflite cannot load modern int8 classifiers (no QUANTIZE / DEQUANTIZE, binary
//! ops between tensors of different scales rejected, optional inputs panicking; see
//! `../shared/notes/tract-tflite.md`), and its op registry is private. So this module reads
//! the model through tract-tflite's public flatbuffer bindings only and wires its own graph:
//! convolutions, depthwise convolutions and fully-connected layers become tract's quantized
//! `Conv` (tract's int8 kernels); the rest are the small ops in [`ops`], each computing in
//! the output tensor's own quantization as TFLite does.
//!
//! The registry is the [`OPS`] table: builtin op code -> builder function. An op that is
//! not in the table fails the load with its name and operator index, before anything runs.

pub mod build;
#[cfg(target_arch = "x86_64")]
mod dw_avx2;
#[cfg(target_arch = "aarch64")]
mod dw_neon;
pub mod metadata;
pub mod ops;
#[cfg(target_arch = "aarch64")]
mod pack_neon;
pub mod par;
pub mod pw_avx2;
pub mod qconv;
pub mod qim2col;
pub mod qpointwise;

use std::collections::{BTreeMap, HashMap};

use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, KernelFormat, PaddingSpec, PoolSpec};
use tract_core::ops::nn::DataFormat;
use tract_tflite::tflite::{self, ActivationFunctionType, BuiltinOperator, Padding, TensorType};

pub use metadata::Normalization;
use ops::{
    activation_range, bytes_of, AvgPool, BinKind, Binary, ClampF32, Dequantize, Lut8, Mean,
    QParams8, Quantize, Softmax, UnaryF32, Window, Q8,
};
use qconv::{KernelZeroPoint, QDepthwise, Requant, RequantSpec};
use qim2col::QIm2col;
use qpointwise::QPointwise;

/// Largest element count accepted for one tensor (a 4096x4096x4 f32 image is 64 M):
/// a model declaring more is refused before anything is allocated.
pub const MAX_TENSOR_ELEMENTS: usize = 1 << 26;
/// Largest rank accepted for a tensor.
pub const MAX_RANK: usize = 8;

/// Why a model could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The bytes are not a well-formed TFLite flatbuffer, or refer outside themselves.
    #[error("not a valid TFLite model: {0}")]
    Corrupt(String),
    /// Well-formed, but uses operators breedcam does not implement.
    #[error("unsupported operator{}: {}", if .0.len() > 1 { "s" } else { "" }, .0.iter().map(|(i, n)| format!("{n} (operator {i})")).collect::<Vec<_>>().join(", "))]
    Unsupported(Vec<(usize, String)>),
    /// Well-formed, but inconsistent (shapes, types, quantization) or too large.
    #[error("{0}")]
    Invalid(String),
}

type Result<T> = std::result::Result<T, ImportError>;

fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    Err(ImportError::Corrupt(msg.into()))
}
fn invalid<T>(msg: impl Into<String>) -> Result<T> {
    Err(ImportError::Invalid(msg.into()))
}

/// Element type, shape and quantization of a model input or output.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorSpec {
    pub name: String,
    pub shape: Vec<usize>,
    /// `"f32"`, `"u8"`, `"i8"`, ...
    pub dtype: String,
    /// Per-tensor (scale, zero point) when quantized.
    pub quant: Option<(f32, i32)>,
    pub datum_type: DatumType,
}

/// The op histogram and first-look facts of a model, computed without building it.
#[derive(Clone, Debug, Default)]
pub struct Survey {
    /// Op name -> number of operators using it.
    pub ops: BTreeMap<String, usize>,
    /// (operator index, op name) of every operator breedcam cannot import.
    pub unsupported: Vec<(usize, String)>,
    pub normalization: Option<Normalization>,
    pub description: Option<String>,
}

/// An imported model, ready to optimise.
pub struct Imported {
    pub model: TypedModel,
    pub input: TensorSpec,
    pub output: TensorSpec,
    pub survey: Survey,
    /// Whether the output is SOFTMAX / LOGISTIC probabilities (possibly reshaped or
    /// re-quantized after), rather than logits.
    pub output_is_probability: bool,
}

/// Verifies the flatbuffer and returns its root.
fn verified(bytes: &[u8]) -> Result<tflite::Model<'_>> {
    if bytes.len() < 8 {
        return corrupt(format!(
            "{} bytes is too short for a TFLite file",
            bytes.len()
        ));
    }
    if !tflite::model_buffer_has_identifier(bytes) {
        return corrupt("no TFL3 file identifier (is this a .tflite file?)");
    }
    let opts = flatbuffers::VerifierOptions {
        max_depth: 64,
        max_tables: 1_000_000,
        max_apparent_size: 1 << 31,
        ignore_missing_null_terminator: false,
    };
    let model = tflite::root_as_model_with_opts(&opts, bytes).or_else(|e| {
        corrupt(
            e.to_string()
                .split('\n')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    if model.version() != 3 {
        return corrupt(format!("schema version {} (expected 3)", model.version()));
    }
    Ok(model)
}

/// The builtin op code of operator code `ix`, or its custom-op name.
fn op_name(model: &tflite::Model, ix: u32) -> Result<(Option<BuiltinOperator>, String)> {
    let codes = model
        .operator_codes()
        .ok_or_else(|| ImportError::Corrupt("no operator codes".into()))?;
    if ix as usize >= codes.len() {
        return corrupt(format!(
            "operator code index {ix} out of range ({} codes)",
            codes.len()
        ));
    }
    let code = codes.get(ix as usize);
    // Codes < 127 live in the deprecated i8 field; the larger of the two is the real one.
    let builtin =
        BuiltinOperator((code.deprecated_builtin_code() as i32).max(code.builtin_code().0));
    if builtin == BuiltinOperator::CUSTOM {
        let name = code.custom_code().unwrap_or("?");
        return Ok((None, format!("CUSTOM:{name}")));
    }
    let name = builtin
        .variant_name()
        .map(String::from)
        .unwrap_or_else(|| format!("BUILTIN#{}", builtin.0));
    Ok((Some(builtin), name))
}

fn first_subgraph<'m>(model: &tflite::Model<'m>) -> Result<tflite::SubGraph<'m>> {
    match model.subgraphs() {
        Some(s) if !s.is_empty() => Ok(s.get(0)),
        _ => corrupt("no subgraph"),
    }
}

/// The op histogram, unsupported ops and metadata of a model, without building it.
pub fn survey(bytes: &[u8]) -> Result<Survey> {
    let model = verified(bytes)?;
    let graph = first_subgraph(&model)?;
    let mut s = Survey::default();
    for (i, op) in graph.operators().iter().flatten().enumerate() {
        let (builtin, name) = op_name(&model, op.opcode_index())?;
        *s.ops.entry(name.clone()).or_default() += 1;
        if builtin.and_then(builder).is_none() {
            s.unsupported.push((i, name));
        }
    }
    s.description = model.description().map(String::from);
    if let (Some(metas), Some(buffers)) = (model.metadata(), model.buffers()) {
        for m in metas {
            if m.name() == Some("TFLITE_METADATA") && (m.buffer() as usize) < buffers.len() {
                if let Some(data) = buffers.get(m.buffer() as usize).data() {
                    s.normalization = metadata::input_normalization(data.bytes());
                }
            }
        }
    }
    Ok(s)
}

/// Imports a TFLite model. Quantized tensors keep their 8-bit types.
pub fn import(bytes: &[u8]) -> Result<Imported> {
    let survey = survey(bytes)?;
    if !survey.unsupported.is_empty() {
        return Err(ImportError::Unsupported(survey.unsupported.clone()));
    }
    let fb = verified(bytes)?;
    let graph = first_subgraph(&fb)?;
    let mut im = Importer {
        fb,
        graph,
        model: TypedModel::default(),
        wires: HashMap::new(),
    };
    // Tensors holding probabilities: SOFTMAX / LOGISTIC outputs and what only reshapes or
    // re-quantizes them.
    let mut probabilities = std::collections::HashSet::new();
    let inputs: Vec<i32> = graph
        .inputs()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let outputs: Vec<i32> = graph
        .outputs()
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    if inputs.len() != 1 || outputs.is_empty() {
        return invalid(format!(
            "expected one input and at least one output, found {} and {}",
            inputs.len(),
            outputs.len()
        ));
    }
    for &ix in &inputs {
        let t = im.tensor(ix)?;
        if t.data.is_some() {
            return invalid(format!("input tensor {ix} '{}' is a constant", t.name));
        }
        let outlet = im
            .model
            .add_source(&t.name, t.dt.fact(&t.shape))
            .map_err(|e| tract_err(&e))?;
        im.wires.insert(ix, outlet);
    }
    for (index, op) in graph.operators().iter().flatten().enumerate() {
        let (builtin, name) = op_name(&fb, op.opcode_index())?;
        let build = builtin
            .and_then(builder)
            .ok_or_else(|| ImportError::Unsupported(vec![(index, name.clone())]))?;
        let call = Call {
            index,
            name: name.clone(),
            op,
            inputs: op.inputs().map(|v| v.iter().collect()).unwrap_or_default(),
            outputs: op.outputs().map(|v| v.iter().collect()).unwrap_or_default(),
        };
        if call.outputs.len() != 1 {
            return invalid(format!(
                "operator {index} ({name}): {} outputs, expected 1",
                call.outputs.len()
            ));
        }
        let passes = matches!(
            builtin,
            Some(
                BuiltinOperator::RESHAPE
                    | BuiltinOperator::SQUEEZE
                    | BuiltinOperator::QUANTIZE
                    | BuiltinOperator::DEQUANTIZE
            )
        );
        if matches!(
            builtin,
            Some(BuiltinOperator::SOFTMAX | BuiltinOperator::LOGISTIC)
        ) || (passes
            && call
                .inputs
                .first()
                .is_some_and(|i| probabilities.contains(i)))
        {
            probabilities.insert(call.outputs[0]);
        }
        build(&mut im, &call).map_err(|e| match e {
            ImportError::Invalid(m) => {
                ImportError::Invalid(format!("operator {index} ({name}): {m}"))
            }
            ImportError::Corrupt(m) => {
                ImportError::Corrupt(format!("operator {index} ({name}): {m}"))
            }
            other => other,
        })?;
    }
    let mut outlets = vec![];
    for &ix in &outputs {
        outlets.push(im.wire(ix)?);
    }
    im.model
        .select_output_outlets(&outlets)
        .map_err(|e| tract_err(&e))?;
    let input = im.spec(inputs[0])?;
    let output = im.spec(outputs[0])?;
    let output_is_probability = probabilities.contains(&outputs[0]);
    Ok(Imported {
        model: im.model,
        input,
        output,
        survey,
        output_is_probability,
    })
}

fn tract_err(e: &TractError) -> ImportError {
    ImportError::Invalid(format!("{e:#}"))
}

/// One operator being imported.
struct Call<'m> {
    index: usize,
    name: String,
    op: tflite::Operator<'m>,
    /// Tensor indices; -1 marks an omitted optional input.
    inputs: Vec<i32>,
    outputs: Vec<i32>,
}

impl Call<'_> {
    fn input(&self, i: usize) -> Result<i32> {
        match self.inputs.get(i) {
            Some(&t) if t >= 0 => Ok(t),
            _ => invalid(format!("input {i} is missing")),
        }
    }
    fn optional_input(&self, i: usize) -> Option<i32> {
        self.inputs.get(i).copied().filter(|&t| t >= 0)
    }
    fn output(&self) -> i32 {
        self.outputs[0]
    }
}

/// A TFLite tensor, checked: shape within limits, buffer size matching the shape.
struct TInfo<'m> {
    name: String,
    dt: DatumType,
    shape: Vec<usize>,
    /// Per-tensor quantization (the first scale / zero point when per-axis).
    q: Option<QParams8>,
    /// Per-axis scales and zero points, when there are several.
    per_axis: Option<(Vec<f32>, Vec<i64>, usize)>,
    data: Option<&'m [u8]>,
}

struct Importer<'m> {
    fb: tflite::Model<'m>,
    graph: tflite::SubGraph<'m>,
    model: TypedModel,
    wires: HashMap<i32, OutletId>,
}

type Builder = for<'a, 'm> fn(&'a mut Importer<'m>, &'a Call<'m>) -> Result<()>;

/// The registry: TFLite builtin op -> the function that wires it into tract.
const OPS: &[(BuiltinOperator, Builder)] = &[
    (BuiltinOperator::CONV_2D, conv_2d),
    (BuiltinOperator::DEPTHWISE_CONV_2D, depthwise_conv_2d),
    (BuiltinOperator::FULLY_CONNECTED, fully_connected),
    (BuiltinOperator::ADD, add),
    (BuiltinOperator::SUB, sub),
    (BuiltinOperator::MUL, mul),
    (BuiltinOperator::AVERAGE_POOL_2D, average_pool_2d),
    (BuiltinOperator::SOFTMAX, softmax),
    (BuiltinOperator::RESHAPE, reshape),
    (BuiltinOperator::SQUEEZE, reshape),
    (BuiltinOperator::QUANTIZE, quantize),
    (BuiltinOperator::DEQUANTIZE, dequantize),
    (BuiltinOperator::RELU, relu),
    (BuiltinOperator::RELU6, relu6),
    (BuiltinOperator::LOGISTIC, logistic),
    (BuiltinOperator::TANH, tanh),
    (BuiltinOperator::HARD_SWISH, hard_swish),
    (BuiltinOperator::MEAN, mean),
    (BuiltinOperator::PAD, pad),
    (BuiltinOperator::PADV2, pad),
];

fn builder(op: BuiltinOperator) -> Option<Builder> {
    OPS.iter().find(|(o, _)| *o == op).map(|(_, b)| *b)
}

/// Whether breedcam can import this builtin operator.
pub fn is_supported(op_name: &str) -> bool {
    OPS.iter().any(|(o, _)| o.variant_name() == Some(op_name))
}

fn datum_type(t: TensorType) -> Result<(DatumType, usize)> {
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
    fn tensor(&self, ix: i32) -> Result<TInfo<'m>> {
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

    fn spec(&self, ix: i32) -> Result<TensorSpec> {
        let t = self.tensor(ix)?;
        Ok(TensorSpec {
            name: t.name.clone(),
            shape: t.shape.clone(),
            dtype: format!("{:?}", t.dt.unquantized()).to_lowercase(),
            quant: t.q.map(|q| (q.scale, q.zero_point)),
            datum_type: t.dt,
        })
    }

    fn const_tensor(&self, t: &TInfo) -> Result<Tensor> {
        let data = t.data.ok_or_else(|| {
            ImportError::Invalid(format!("tensor '{}' must be a constant", t.name))
        })?;
        let built = unsafe {
            match t.dt.unquantized() {
                DatumType::F32 => Tensor::from_raw::<f32>(&t.shape, data),
                DatumType::I32 => Tensor::from_raw::<i32>(&t.shape, data),
                DatumType::U8 => Tensor::from_raw::<u8>(&t.shape, data),
                DatumType::I8 => Tensor::from_raw::<i8>(&t.shape, data),
                DatumType::I64 => Tensor::from_raw::<i64>(&t.shape, data),
                DatumType::I16 => Tensor::from_raw::<i16>(&t.shape, data),
                other => return invalid(format!("constant of type {other:?}")),
            }
        };
        let mut tensor = built.map_err(|e| tract_err(&e))?;
        unsafe { tensor.set_datum_type(t.dt) };
        Ok(tensor)
    }

    /// The outlet carrying tensor `ix`: produced earlier, a graph input, or a constant.
    fn wire(&mut self, ix: i32) -> Result<OutletId> {
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

    fn node(
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

    fn konst(&mut self, call: &Call, suffix: &str, t: Tensor) -> Result<OutletId> {
        let name = self
            .model
            .unique_name(format!("op{}.{}", call.index, suffix));
        self.model.add_const(name, t).map_err(|e| tract_err(&e))
    }

    /// Binds the operator's output tensor to `outlet`, checking shape and type against the
    /// model's declaration.
    fn produce(&mut self, call: &Call, outlet: OutletId) -> Result<()> {
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
    fn activation(
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
    fn reshape(&mut self, call: &Call, outlet: OutletId, to: &[usize]) -> Result<OutletId> {
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

    /// The quantization inputs of tract's `Conv` for input `x`, kernel `k`, output `y`.
    fn conv_q_inputs(
        &mut self,
        call: &Call,
        x: &TInfo,
        k: &TInfo,
        y: &TInfo,
    ) -> Result<Option<Vec<OutletId>>> {
        let (Some(xq), Some(kq), Some(yq)) = (x.q, k.q, y.q) else {
            if x.dt.is_float() && k.dt.is_float() {
                return Ok(None);
            }
            return invalid("mixes quantized and float tensors (hybrid models are not supported)");
        };
        let scales = kernel_scales(k, kq)?;
        let kscale = if k.per_axis.is_some() {
            tensor1(&scales)
        } else {
            tensor0(scales[0])
        };
        let ins = vec![
            self.konst(call, "x0", tensor0(xq.zero_point))?,
            self.konst(call, "xscale", tensor0(xq.scale))?,
            self.konst(call, "k0", tensor0(kq.zero_point))?,
            self.konst(call, "kscale", kscale)?,
            self.konst(call, "y0", tensor0(yq.zero_point))?,
            self.konst(call, "yscale", tensor0(yq.scale))?,
        ];
        Ok(Some(ins))
    }

    /// Wires tract's `Conv` with an OHWI kernel.
    #[allow(clippy::too_many_arguments)]
    fn conv(
        &mut self,
        call: &Call,
        x: OutletId,
        xi: &TInfo,
        kernel: Tensor,
        ki: &TInfo,
        strides: (usize, usize),
        dilations: (usize, usize),
        same: bool,
        group: usize,
        act: ActivationFunctionType,
    ) -> Result<OutletId> {
        let y = self.tensor(call.output())?;
        let ks = kernel.shape().to_vec();
        // tract's OHWI kernel for `group` groups is [O / group, H, W, I] with I all input
        // channels; the output has O = ks[0] * group channels, group-major.
        let (o, kh, kw, i) = (ks[0] * group, ks[1], ks[2], ks[3]);
        if strides.0 == 0 || strides.1 == 0 || dilations.0 == 0 || dilations.1 == 0 {
            return invalid("zero stride or dilation");
        }
        if xi.shape.len() != 4 {
            return invalid(format!("input must be NHWC, got shape {:?}", xi.shape));
        }
        let in_channels = xi.shape[3];
        if i != in_channels || (group > 1 && i != group) {
            return invalid(format!(
                "kernel {ks:?} does not fit input {:?} (groups {group})",
                xi.shape
            ));
        }
        let bias = match call.optional_input(2) {
            Some(b) => {
                let bi = self.tensor(b)?;
                let t = self.const_tensor(&bi)?;
                if t.len() != o {
                    return invalid(format!(
                        "bias has {} values for {o} output channels",
                        t.len()
                    ));
                }
                let t = t.into_shape(&[o]).map_err(|e| tract_err(&e))?;
                if xi.q.is_some() {
                    // The i32 accumulator bias, plain (scale = input scale * kernel scale).
                    t.cast_to::<i32>().map_err(|e| tract_err(&e))?.into_owned()
                } else {
                    t.cast_to::<f32>().map_err(|e| tract_err(&e))?.into_owned()
                }
            }
            None if xi.q.is_some() => Tensor::zero::<i32>(&[o]).map_err(|e| tract_err(&e))?,
            None => Tensor::zero::<f32>(&[o]).map_err(|e| tract_err(&e))?,
        };
        if let Some(wire) = self.quantized_conv(
            call, x, xi, &kernel, ki, &bias, strides, dilations, same, group, act,
        )? {
            return Ok(wire);
        }
        let q = self.conv_q_inputs(call, xi, ki, &y)?;
        let pool_spec = nhwc_pool_spec((kh, kw), strides, dilations, same, in_channels, o);
        let conv = Conv {
            pool_spec,
            kernel_fmt: KernelFormat::OHWI,
            group,
            q_params: q.as_ref().map(|_| y.dt),
        };
        let mut inputs = vec![
            x,
            self.konst(call, "kernel", kernel)?,
            self.konst(call, "bias", bias)?,
        ];
        inputs.extend(q.into_iter().flatten());
        let y = self.node(call, "", conv, &inputs)?;
        self.activation(call, y, act)
    }

    /// The fast 8-bit convolution: depthwise (multiplier 1) in [`QDepthwise`], pointwise in
    /// [`QPointwise`], anything else as tract's `Conv` producing i32 accumulators followed by
    /// one [`Requant`] pass with the fused activation's clamp. `None` when the tensors are not
    /// all 8-bit quantized.
    #[allow(clippy::too_many_arguments)]
    fn quantized_conv(
        &mut self,
        call: &Call,
        x: OutletId,
        xi: &TInfo,
        kernel: &Tensor,
        ki: &TInfo,
        bias: &Tensor,
        strides: (usize, usize),
        dilations: (usize, usize),
        same: bool,
        group: usize,
        act: ActivationFunctionType,
    ) -> Result<Option<OutletId>> {
        let y = self.tensor(call.output())?;
        let (Some(xq), Some(kq), Some(yq)) = (xi.q, ki.q, y.q) else {
            return Ok(None);
        };
        let (Some(xq8), Some(kq8), Some(yq8)) = (Q8::of(xi.dt), Q8::of(ki.dt), Q8::of(y.dt)) else {
            return Ok(None);
        };
        let ks = kernel.shape().to_vec();
        let (o, kh, kw, c) = (ks[0] * group, ks[1], ks[2], ks[3]);
        let kernel_scales = kernel_scales(ki, kq)?;
        // TANH is a table after the requantization; clamps fold into it.
        let (lo, hi) = if act == ActivationFunctionType::TANH {
            (yq8.min(), yq8.max())
        } else {
            let (l, h) = clamp_bounds(act)?;
            activation_range(yq8, yq, l, h)
        };
        let spec = RequantSpec::new(
            &kernel_scales,
            xq.scale,
            yq.scale,
            o,
            yq.zero_point,
            (lo, hi),
            y.dt,
        )
        .map_err(|e| tract_err(&e))?;
        let bias: Vec<i32> = bias
            .try_as_plain_ram()
            .and_then(|b| Ok(b.as_slice::<i32>()?.to_vec()))
            .map_err(|e| tract_err(&e))?;
        let input: [usize; 4] = xi.shape[..]
            .try_into()
            .map_err(|_| ImportError::Invalid(format!("input must be NHWC, got {:?}", xi.shape)))?;
        let wire = if group > 1 && ks[0] == 1 && group == c {
            let window = Window::new(input, (kh, kw), strides, dilations, same)
                .map_err(|e| ImportError::Invalid(format!("{e:#}")))?;
            let k0 = kq.zero_point;
            let kvals = bytes_of(kernel).map_err(|e| tract_err(&e))?;
            // [1, kh, kw, c] bytes are already tap-major.
            let kernel: Vec<i16> = kvals
                .iter()
                .map(|&b| {
                    (match kq8 {
                        Q8::I8 => b as i8 as i32,
                        Q8::U8 => b as i32,
                    } - k0) as i16
                })
                .collect();
            let op = QDepthwise::new(window, kernel, bias, xq8, xq.zero_point, spec);
            self.node(call, "", op, &[x])?
        } else {
            let pool_spec = nhwc_pool_spec((kh, kw), strides, dilations, same, input[3], o);
            // Scales of one make tract's own requantization vanish: it returns the i32
            // accumulators with bias and zero points applied.
            let conv = Conv {
                pool_spec,
                kernel_fmt: KernelFormat::OHWI,
                group,
                q_params: Some(i32::datum_type()),
            };
            // uint8 kernels become int8 here (k - 128, zero point k0 - 128), so tract sees
            // an int8 kernel whose zero point can be left to Requant.
            let (kernel, k0) = match kq8 {
                Q8::U8 => {
                    let k: Vec<i8> = bytes_of(kernel)
                        .map_err(|e| tract_err(&e))?
                        .iter()
                        .map(|&b| (b ^ 0x80) as i8)
                        .collect();
                    let t = Tensor::from_shape(kernel.shape(), &k).map_err(|e| tract_err(&e))?;
                    (t, kq.zero_point - 128)
                }
                Q8::I8 => (kernel.clone(), kq.zero_point),
            };
            // A pointwise convolution's kernel zero point is cheaper in Requant (see
            // KernelZeroPoint) than in tract; so is a gathered one's (QIm2col).
            let pointwise = (kh, kw) == (1, 1) && strides == (1, 1);
            let fold = (group == 1 && k0 != 0).then_some(KernelZeroPoint {
                k0,
                x0: xq.zero_point,
                input: xq8,
            });
            // On tract-linalg's kernels, tiled by breedcam, when this build has a kernel whose
            // pixel packing breedcam writes (other group-1 convolutions gather their patches
            // first); else tract's Conv and one Requant pass.
            let on_kernels = if group == 1 {
                let kvals: Vec<i8> = bytes_of(&kernel)
                    .map_err(|e| tract_err(&e))?
                    .iter()
                    .map(|&b| b as i8)
                    .collect();
                // OHWI: each output channel's [kh][kw][c] is one patch-ordered row.
                QPointwise::new(
                    kh * kw * c,
                    o,
                    &kvals,
                    &bias,
                    xq8,
                    xq.zero_point,
                    spec.clone(),
                    fold.clone(),
                )
                .map_err(|e| tract_err(&e))?
            } else {
                None
            };
            if let Some(op) = on_kernels {
                if pointwise {
                    self.node(call, "", op, &[x])?
                } else {
                    let window = Window::new(input, (kh, kw), strides, dilations, same)
                        .map_err(|e| ImportError::Invalid(format!("{e:#}")))?;
                    let op = QIm2col::new(window, xq.zero_point, op).map_err(|e| tract_err(&e))?;
                    self.node(call, "", op, &[x])?
                }
            } else {
                // Requant's fold needs the pixels of the accumulators: pointwise only.
                let fold = fold.filter(|_| pointwise);
                let k0 = if fold.is_some() { 0 } else { k0 };
                let inputs = vec![
                    x,
                    self.konst(call, "kernel", kernel)?,
                    self.konst(call, "bias", tensor1(&bias))?,
                    self.konst(call, "x0", tensor0(xq.zero_point))?,
                    self.konst(call, "xscale", tensor0(1f32))?,
                    self.konst(call, "k0", tensor0(k0))?,
                    self.konst(call, "kscale", tensor0(1f32))?,
                    self.konst(call, "y0", tensor0(0i32))?,
                    self.konst(call, "yscale", tensor0(1f32))?,
                ];
                let acc = self.node(call, ".acc", conv, &inputs)?;
                let ins = if fold.is_some() {
                    vec![acc, x]
                } else {
                    vec![acc]
                };
                self.node(call, "", Requant(spec, fold), &ins)?
            }
        };
        if act == ActivationFunctionType::TANH {
            return self.activation(call, wire, act).map(Some);
        }
        Ok(Some(wire))
    }
}

/// tract's pooling geometry for an NHWC convolution with TFLite's SAME (extra padding after)
/// or VALID padding.
fn nhwc_pool_spec(
    (kh, kw): (usize, usize),
    strides: (usize, usize),
    dilations: (usize, usize),
    same: bool,
    input_channels: usize,
    output_channels: usize,
) -> PoolSpec {
    PoolSpec {
        data_format: DataFormat::NHWC,
        kernel_shape: tvec!(kh, kw),
        padding: if same {
            PaddingSpec::SameUpper
        } else {
            PaddingSpec::Valid
        },
        strides: Some(tvec!(strides.0, strides.1)),
        dilations: Some(tvec!(dilations.0, dilations.1)),
        input_channels,
        output_channels,
    }
}

/// A quantized kernel's scales: one per output channel when per-axis (whose zero points
/// must then all be equal), else its one scale.
fn kernel_scales(k: &TInfo, kq: QParams8) -> Result<Vec<f32>> {
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
fn clamp_bounds(act: ActivationFunctionType) -> Result<(Option<f32>, Option<f32>)> {
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

fn padding(p: Padding) -> Result<bool> {
    match p {
        Padding::SAME => Ok(true),
        Padding::VALID => Ok(false),
        other => invalid(format!("padding {:?}", other.0)),
    }
}

fn options_missing<T>() -> Result<T> {
    invalid("options missing or of the wrong type")
}

/// Two non-negative option values (height and width of a stride, a dilation, a filter).
fn pair(h: i32, w: i32, what: &str) -> Result<(usize, usize)> {
    Ok((usize_of(h, what)?, usize_of(w, what)?))
}

fn usize_of(v: i32, what: &str) -> Result<usize> {
    usize::try_from(v).map_err(|_| ImportError::Invalid(format!("{what} {v}")))
}

fn conv_2d(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_conv_2_doptions() else {
        return options_missing();
    };
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let x = im.wire(call.input(0)?)?;
    let kernel = im.const_tensor(&ki)?;
    if kernel.rank() != 4 {
        return invalid(format!("kernel shape {:?} is not OHWI", kernel.shape()));
    }
    let group = if kernel.shape()[3] == 0 {
        0
    } else {
        xi.shape.get(3).copied().unwrap_or(0) / kernel.shape()[3]
    };
    if group != 1 {
        return invalid("grouped CONV_2D is not supported");
    }
    let strides = pair(o.stride_h(), o.stride_w(), "stride")?;
    let dil = pair(o.dilation_h_factor(), o.dilation_w_factor(), "dilation")?;
    let y = im.conv(
        call,
        x,
        &xi,
        kernel,
        &ki,
        strides,
        dil,
        padding(o.padding())?,
        1,
        o.fused_activation_function(),
    )?;
    im.produce(call, y)
}

fn depthwise_conv_2d(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_depthwise_conv_2_doptions() else {
        return options_missing();
    };
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let x = im.wire(call.input(0)?)?;
    let kernel = im.const_tensor(&ki)?;
    // TFLite's depthwise kernel is [1, H, W, C * M] (output channel c * M + m); tract's
    // grouped OHWI wants [M, H, W, C] with group-major outputs, the same order.
    let ks = kernel.shape().to_vec();
    if ks.len() != 4 || ks[0] != 1 {
        return invalid(format!("depthwise kernel shape {ks:?}"));
    }
    let channels = *xi
        .shape
        .get(3)
        .ok_or_else(|| ImportError::Invalid("input is not NHWC".into()))?;
    if channels == 0 || ks[3] % channels != 0 {
        return invalid(format!(
            "depthwise kernel {ks:?} does not fit {channels} input channels"
        ));
    }
    let m = ks[3] / channels;
    let kernel = kernel
        .into_shape(&[ks[1] * ks[2], channels, m])
        .and_then(|t| t.permute_axes(&[2, 0, 1]))
        .and_then(|t| t.into_shape(&[m, ks[1], ks[2], channels]))
        .map_err(|e| tract_err(&e))?;
    let strides = pair(o.stride_h(), o.stride_w(), "stride")?;
    let dil = pair(o.dilation_h_factor(), o.dilation_w_factor(), "dilation")?;
    let y = im.conv(
        call,
        x,
        &xi,
        kernel,
        &ki,
        strides,
        dil,
        padding(o.padding())?,
        channels,
        o.fused_activation_function(),
    )?;
    im.produce(call, y)
}

fn fully_connected(im: &mut Importer, call: &Call) -> Result<()> {
    let Some(o) = call.op.builtin_options_as_fully_connected_options() else {
        return options_missing();
    };
    if o.weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT {
        return invalid("shuffled weights are not supported");
    }
    let xi = im.tensor(call.input(0)?)?;
    let ki = im.tensor(call.input(1)?)?;
    let yi = im.tensor(call.output())?;
    let kernel = im.const_tensor(&ki)?;
    if kernel.rank() != 2 {
        return invalid(format!("weights shape {:?}", kernel.shape()));
    }
    let (outs, ins) = (kernel.shape()[0], kernel.shape()[1]);
    let volume: usize = xi.shape.iter().product();
    if ins == 0 || !volume.is_multiple_of(ins) {
        return invalid(format!(
            "input {:?} does not fit weights {:?}",
            xi.shape,
            kernel.shape()
        ));
    }
    // A 1x1 convolution over an [N, 1, 1, in] image: tract's quantized conv path.
    let batch = volume / ins;
    let kernel = kernel
        .into_shape(&[outs, 1, 1, ins])
        .map_err(|e| tract_err(&e))?;
    let x = im.wire(call.input(0)?)?;
    let x = im.reshape(call, x, &[batch, 1, 1, ins])?;
    let x_as_image = TInfo {
        shape: vec![batch, 1, 1, ins],
        ..xi
    };
    let act = o.fused_activation_function();
    let y = im.conv(
        call,
        x,
        &x_as_image,
        kernel,
        &ki,
        (1, 1),
        (1, 1),
        false,
        1,
        act,
    )?;
    let y = im.reshape(call, y, &yi.shape)?;
    im.produce(call, y)
}

fn binary(
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
fn binary_activation(op: &tflite::Operator) -> ActivationFunctionType {
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

fn add(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Add, binary_activation(&call.op))
}

fn sub(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Sub, binary_activation(&call.op))
}

fn mul(im: &mut Importer, call: &Call) -> Result<()> {
    binary(im, call, BinKind::Mul, binary_activation(&call.op))
}

fn average_pool_2d(im: &mut Importer, call: &Call) -> Result<()> {
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

fn softmax(im: &mut Importer, call: &Call) -> Result<()> {
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

fn reshape(im: &mut Importer, call: &Call) -> Result<()> {
    // Static shapes only: the declared output shape is the target (the shape operand of
    // RESHAPE and the axes of SQUEEZE must agree with it, which `reshape` checks by volume).
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let y = im.reshape(call, x, &yi.shape)?;
    im.produce(call, y)
}

fn quantize(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let yi = im.tensor(call.output())?;
    let x = im.wire(call.input(0)?)?;
    let (Some(_), Some(pout)) = (Q8::of(yi.dt), yi.q) else {
        return invalid(format!("QUANTIZE to {:?}", yi.dt));
    };
    let y = match (Q8::of(xi.dt), xi.q) {
        (Some(q), Some(pin)) => {
            let lut = Lut8::real_fn("requantize", q, pin, yi.dt, pout, |v| v)
                .map_err(|e| tract_err(&e))?;
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

fn dequantize(im: &mut Importer, call: &Call) -> Result<()> {
    let xi = im.tensor(call.input(0)?)?;
    let x = im.wire(call.input(0)?)?;
    let (Some(_), Some(pin)) = (Q8::of(xi.dt), xi.q) else {
        return invalid(format!("DEQUANTIZE from {:?}", xi.dt));
    };
    let y = im.node(call, "", Dequantize { input: pin }, &[x])?;
    im.produce(call, y)
}

fn unary_activation(im: &mut Importer, call: &Call, act: ActivationFunctionType) -> Result<()> {
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

fn relu(im: &mut Importer, call: &Call) -> Result<()> {
    unary_activation(im, call, ActivationFunctionType::RELU)
}

fn relu6(im: &mut Importer, call: &Call) -> Result<()> {
    unary_activation(im, call, ActivationFunctionType::RELU6)
}

/// An element-wise real function: a 256-entry table on 8-bit tensors (in the input's and
/// output's own quantizations), or the f32 op.
fn real_function(im: &mut Importer, call: &Call, f: UnaryF32) -> Result<()> {
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

fn logistic(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::Logistic)
}

fn tanh(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::Tanh)
}

fn hard_swish(im: &mut Importer, call: &Call) -> Result<()> {
    real_function(im, call, UnaryF32::HardSwish)
}

/// The integer values of a constant tensor (axes, paddings).
fn const_ints(im: &Importer, ix: i32) -> Result<Vec<i64>> {
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

fn mean(im: &mut Importer, call: &Call) -> Result<()> {
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

fn pad(im: &mut Importer, call: &Call) -> Result<()> {
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
    let mut value = match call.optional_input(2) {
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
    unsafe { value.set_datum_type(xi.dt) };
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
