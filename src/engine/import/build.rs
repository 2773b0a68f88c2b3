//! Writes small TFLite files: the test suite's and the fuzzer's seed models, made by us
//! rather than copied from anywhere. Deliberately permissive: it writes what it is told,
//! including inconsistent models, so tests can check that the importer refuses them.

use flatbuffers::FlatBufferBuilder;
use tract_tflite::tflite::{
    self, BuiltinOperator, BuiltinOptions, OperatorCodeArgs, QuantizationParametersArgs, TensorType,
};

/// One tensor of a [`TinyModel`].
#[derive(Clone, Debug)]
pub struct TinyTensor {
    pub name: String,
    pub shape: Vec<i32>,
    pub ty: TensorType,
    /// (scale, zero point) per tensor.
    pub quant: Option<(f32, i64)>,
    /// Constant contents (raw little-endian bytes).
    pub data: Option<Vec<u8>>,
}

impl TinyTensor {
    pub fn new(name: &str, shape: &[i32], ty: TensorType) -> TinyTensor {
        TinyTensor {
            name: name.into(),
            shape: shape.to_vec(),
            ty,
            quant: None,
            data: None,
        }
    }
    pub fn quant(mut self, scale: f32, zero_point: i64) -> TinyTensor {
        self.quant = Some((scale, zero_point));
        self
    }
    pub fn data(mut self, bytes: Vec<u8>) -> TinyTensor {
        self.data = Some(bytes);
        self
    }
}

/// One operator: its code, input and output tensor indices, and (for ops that need them)
/// which builtin options to write.
#[derive(Clone, Debug)]
pub struct TinyOp {
    pub code: BuiltinOperator,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub options: TinyOptions,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TinyOptions {
    None,
    /// ADD / SUB / MUL options with a fused activation.
    Binary(tflite::ActivationFunctionType),
    Softmax {
        beta: f32,
    },
    ResizeBilinear {
        align_corners: bool,
        half_pixel_centers: bool,
    },
    Concatenation {
        axis: i32,
        act: tflite::ActivationFunctionType,
    },
    ArgMax {
        output_type: TensorType,
    },
}

/// A one-subgraph TFLite model.
#[derive(Clone, Debug, Default)]
pub struct TinyModel {
    pub tensors: Vec<TinyTensor>,
    pub ops: Vec<TinyOp>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
}

impl TinyModel {
    /// The flatbuffer bytes, with the TFL3 identifier.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut fb = FlatBufferBuilder::new();
        // Buffer 0 is the empty sentinel; constants get their own buffers after it.
        let mut buffers = vec![tflite::Buffer::create(
            &mut fb,
            &tflite::BufferArgs { data: None },
        )];
        let mut tensors = vec![];
        for t in &self.tensors {
            let buffer = match &t.data {
                Some(d) => {
                    let data = fb.create_vector(d);
                    buffers.push(tflite::Buffer::create(
                        &mut fb,
                        &tflite::BufferArgs { data: Some(data) },
                    ));
                    (buffers.len() - 1) as u32
                }
                None => 0,
            };
            let quantization = t.quant.map(|(s, z)| {
                let scale = fb.create_vector(&[s]);
                let zero_point = fb.create_vector(&[z]);
                tflite::QuantizationParameters::create(
                    &mut fb,
                    &QuantizationParametersArgs {
                        scale: Some(scale),
                        zero_point: Some(zero_point),
                        ..Default::default()
                    },
                )
            });
            let shape = fb.create_vector(&t.shape);
            let name = fb.create_string(&t.name);
            tensors.push(tflite::Tensor::create(
                &mut fb,
                &tflite::TensorArgs {
                    shape: Some(shape),
                    type_: t.ty,
                    buffer,
                    name: Some(name),
                    quantization,
                    ..Default::default()
                },
            ));
        }
        let mut codes: Vec<BuiltinOperator> = vec![];
        let mut operators = vec![];
        for op in &self.ops {
            let opcode_index = match codes.iter().position(|c| *c == op.code) {
                Some(i) => i,
                None => {
                    codes.push(op.code);
                    codes.len() - 1
                }
            } as u32;
            let (builtin_options_type, builtin_options) = match op.options {
                TinyOptions::None => (BuiltinOptions::NONE, None),
                TinyOptions::Binary(act) => {
                    let o = tflite::AddOptions::create(
                        &mut fb,
                        &tflite::AddOptionsArgs {
                            fused_activation_function: act,
                            ..Default::default()
                        },
                    );
                    let kind = match op.code {
                        BuiltinOperator::MUL => BuiltinOptions::MulOptions,
                        BuiltinOperator::SUB => BuiltinOptions::SubOptions,
                        _ => BuiltinOptions::AddOptions,
                    };
                    (kind, Some(o.as_union_value()))
                }
                TinyOptions::Softmax { beta } => {
                    let o = tflite::SoftmaxOptions::create(
                        &mut fb,
                        &tflite::SoftmaxOptionsArgs { beta },
                    );
                    (BuiltinOptions::SoftmaxOptions, Some(o.as_union_value()))
                }
                TinyOptions::ResizeBilinear {
                    align_corners,
                    half_pixel_centers,
                } => {
                    let o = tflite::ResizeBilinearOptions::create(
                        &mut fb,
                        &tflite::ResizeBilinearOptionsArgs {
                            align_corners,
                            half_pixel_centers,
                        },
                    );
                    (
                        BuiltinOptions::ResizeBilinearOptions,
                        Some(o.as_union_value()),
                    )
                }
                TinyOptions::Concatenation { axis, act } => {
                    let o = tflite::ConcatenationOptions::create(
                        &mut fb,
                        &tflite::ConcatenationOptionsArgs {
                            axis,
                            fused_activation_function: act,
                        },
                    );
                    (
                        BuiltinOptions::ConcatenationOptions,
                        Some(o.as_union_value()),
                    )
                }
                TinyOptions::ArgMax { output_type } => {
                    let o = tflite::ArgMaxOptions::create(
                        &mut fb,
                        &tflite::ArgMaxOptionsArgs { output_type },
                    );
                    (BuiltinOptions::ArgMaxOptions, Some(o.as_union_value()))
                }
            };
            let inputs = fb.create_vector(&op.inputs);
            let outputs = fb.create_vector(&op.outputs);
            operators.push(tflite::Operator::create(
                &mut fb,
                &tflite::OperatorArgs {
                    opcode_index,
                    inputs: Some(inputs),
                    outputs: Some(outputs),
                    builtin_options_type,
                    builtin_options,
                    ..Default::default()
                },
            ));
        }
        let codes: Vec<_> = codes
            .iter()
            .map(|c| {
                tflite::OperatorCode::create(
                    &mut fb,
                    &OperatorCodeArgs {
                        deprecated_builtin_code: c.0.min(127) as i8,
                        builtin_code: *c,
                        version: 1,
                        custom_code: None,
                    },
                )
            })
            .collect();
        let tensors = fb.create_vector(&tensors);
        let operators = fb.create_vector(&operators);
        let inputs = fb.create_vector(&self.inputs);
        let outputs = fb.create_vector(&self.outputs);
        let subgraph = tflite::SubGraph::create(
            &mut fb,
            &tflite::SubGraphArgs {
                tensors: Some(tensors),
                inputs: Some(inputs),
                outputs: Some(outputs),
                operators: Some(operators),
                ..Default::default()
            },
        );
        let subgraphs = fb.create_vector(&[subgraph]);
        let codes = fb.create_vector(&codes);
        let buffers = fb.create_vector(&buffers);
        let description = fb.create_string("breedcam tiny test model");
        let model = tflite::Model::create(
            &mut fb,
            &tflite::ModelArgs {
                version: 3,
                operator_codes: Some(codes),
                subgraphs: Some(subgraphs),
                description: Some(description),
                buffers: Some(buffers),
                ..Default::default()
            },
        );
        fb.finish(model, Some("TFL3"));
        fb.finished_data().to_vec()
    }

    /// uint8 image [1, 2, 2, 3] -> one op -> uint8 output of the same shape: the smallest
    /// model breedcam's classifier accepts.
    pub fn unary(code: BuiltinOperator, options: TinyOptions) -> TinyModel {
        TinyModel {
            tensors: vec![
                TinyTensor::new("image", &[1, 2, 2, 3], TensorType::UINT8).quant(1.0 / 128.0, 128),
                TinyTensor::new("out", &[1, 2, 2, 3], TensorType::UINT8).quant(1.0 / 128.0, 128),
            ],
            ops: vec![TinyOp {
                code,
                inputs: vec![0],
                outputs: vec![1],
                options,
            }],
            inputs: vec![0],
            outputs: vec![1],
        }
    }
}
