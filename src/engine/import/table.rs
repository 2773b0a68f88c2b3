//! The op table: TFLite builtin op -> the builder that wires it into tract.

use tract_tflite::tflite::BuiltinOperator;

use super::argmax::arg_max;
use super::binary::{add, mul, sub};
use super::concat::concatenation;
use super::conv::{conv_2d, depthwise_conv_2d, fully_connected};
use super::importer::{Call, Importer};
use super::pooling::{average_pool_2d, mean};
use super::resize::resize_bilinear;
use super::shape::{pad, reshape};
use super::unary::{dequantize, hard_swish, logistic, quantize, relu, relu6, softmax, tanh};
use super::Result;

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
    (BuiltinOperator::RESIZE_BILINEAR, resize_bilinear),
    (BuiltinOperator::CONCATENATION, concatenation),
    (BuiltinOperator::ARG_MAX, arg_max),
];

pub(super) fn builder(op: BuiltinOperator) -> Option<Builder> {
    OPS.iter().find(|(o, _)| *o == op).map(|(_, b)| *b)
}

/// Whether breedcam can import this builtin operator.
pub fn is_supported(op_name: &str) -> bool {
    OPS.iter().any(|(o, _)| o.variant_name() == Some(op_name))
}
