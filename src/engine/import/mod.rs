//! breedcam's TFLite importer: a verified flatbuffer in, a tract `TypedModel` out, with the
//! int8 / uint8 graph kept quantized.
//!
//! Stock tract-tflite cannot load modern int8 classifiers (no QUANTIZE / DEQUANTIZE, binary
//! ops between tensors of different scales rejected, optional inputs panicking), and its op
//! registry is private. So this module reads the model through tract-tflite's public
//! flatbuffer bindings only and wires its own graph of breedcam's ops
//! ([`crate::engine::ops`]), each computing in the output tensor's own quantization as
//! TFLite does. It states what each operator computes and never picks a kernel: an 8-bit
//! convolution becomes a [`QConv`](crate::engine::ops::QConv), which chooses how it runs.
//!
//! The registry is the op table ([`table`]): builtin op code -> builder function, one file
//! per op family. An op that is not in the table fails the load with its name and operator
//! index, before anything runs.

mod argmax;
mod binary;
pub mod build;
mod concat;
mod conv;
mod importer;
pub mod metadata;
mod pooling;
mod resize;
mod shape;
mod table;
mod unary;

use std::collections::{BTreeMap, HashMap};

use tract_core::internal::*;
use tract_tflite::tflite::{self, BuiltinOperator};

use importer::{Call, Importer};
pub use metadata::Normalization;
use table::builder;
pub use table::is_supported;

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

pub(crate) type Result<T> = std::result::Result<T, ImportError>;

pub(crate) fn corrupt<T>(msg: impl Into<String>) -> Result<T> {
    Err(ImportError::Corrupt(msg.into()))
}
pub(crate) fn invalid<T>(msg: impl Into<String>) -> Result<T> {
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
    import_to(bytes, None)
}

/// The operators each tensor comes from: tensor index -> operator index.
fn producers(graph: &tflite::SubGraph) -> HashMap<i32, usize> {
    let mut by = HashMap::new();
    for (i, op) in graph.operators().iter().flatten().enumerate() {
        for t in op.outputs().iter().flatten() {
            by.insert(t, i);
        }
    }
    by
}

/// A segmenter's class scores at their own resolution: from the graph's output, back
/// through a final ARG_MAX and the RESIZE_BILINEARs that upsample before it, to the first
/// tensor no resize produced (DeepLabV3's 33x33x21 logits). `None` when the output is not
/// made that way (no ARG_MAX or resize at the end).
pub fn segmentation_logits(bytes: &[u8]) -> Result<Option<i32>> {
    let model = verified(bytes)?;
    let graph = first_subgraph(&model)?;
    let by = producers(&graph);
    let ops: Vec<tflite::Operator> = graph.operators().iter().flatten().collect();
    let Some(mut t) = graph.outputs().and_then(|o| o.iter().next()) else {
        return Ok(None);
    };
    let mut moved = false;
    // At most one step per operator: a malformed graph with a cycle cannot loop forever.
    for _ in 0..=ops.len() {
        let Some(&i) = by.get(&t) else { break };
        let (code, _) = op_name(&model, ops[i].opcode_index())?;
        let (BuiltinOperator::ARG_MAX | BuiltinOperator::RESIZE_BILINEAR) =
            code.unwrap_or(BuiltinOperator::CUSTOM)
        else {
            break;
        };
        match ops[i].inputs().and_then(|v| v.iter().next()) {
            Some(input) if input >= 0 => t = input,
            _ => break,
        }
        moved = true;
    }
    Ok(moved.then_some(t))
}

/// Imports a TFLite model with `outputs` (tensor indices) as its outputs instead of the
/// graph's own: only the operators they depend on are built (and need to be supported).
pub fn import_to(bytes: &[u8], outputs: Option<&[i32]>) -> Result<Imported> {
    let survey = survey(bytes)?;
    let fb = verified(bytes)?;
    let graph = first_subgraph(&fb)?;
    let outputs: Vec<i32> = match outputs {
        Some(o) => o.to_vec(),
        None => graph
            .outputs()
            .map(|v| v.iter().collect())
            .unwrap_or_default(),
    };
    // The operators the outputs depend on, walking back from them.
    let all_ops: Vec<tflite::Operator> = graph.operators().iter().flatten().collect();
    let mut wanted: std::collections::HashSet<i32> = outputs.iter().copied().collect();
    let mut needed = vec![false; all_ops.len()];
    for (i, op) in all_ops.iter().enumerate().rev() {
        if op.outputs().iter().flatten().any(|t| wanted.contains(&t)) {
            needed[i] = true;
            wanted.extend(op.inputs().iter().flatten());
        }
    }
    let unsupported: Vec<(usize, String)> = survey
        .unsupported
        .iter()
        .filter(|(i, _)| needed.get(*i).copied().unwrap_or(true))
        .cloned()
        .collect();
    if !unsupported.is_empty() {
        return Err(ImportError::Unsupported(unsupported));
    }
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
        if !needed[index] {
            continue;
        }
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

pub(crate) fn tract_err(e: &TractError) -> ImportError {
    ImportError::Invalid(format!("{e:#}"))
}
