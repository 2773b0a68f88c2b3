//! breedcam's own tract ops for the TFLite semantics tract-core has no op for, each
//! computing in the *output* tensor's quantization (every TFLite tensor carries its own scale
//! and zero point).
//!
//! - 8-bit convolutions: [`conv`] picks [`QPointwise`] (1x1), [`QIm2col`] (the rest) or
//!   [`QDepthwise`] (depthwise, multiplier one); [`Requant`] requantizes i32 accumulators
//!   from tract's `Conv` in one pass (the fallback).
//! - [`Lut8`]: any unary map from an 8-bit tensor to an 8-bit tensor as a 256-entry table:
//!   requantization (QUANTIZE int8<->uint8), fused-activation clamps, LOGISTIC, TANH,
//!   HARD_SWISH.
//! - [`Binary`]: ADD / SUB / MUL with numpy broadcasting.
//! - [`AvgPool`]: AVERAGE_POOL_2D with TFLite's rounding; [`Mean`]: MEAN over axes.
//! - [`ResizeBilinear8`]: RESIZE_BILINEAR in XNNPACK's Q11 fixed point; [`ArgMax`]: ARG_MAX
//!   (the segmenters').
//! - [`Softmax`], [`Quantize`] (f32 -> 8-bit), [`Dequantize`] (8-bit -> f32), [`ClampF32`],
//!   [`UnaryF32`].

pub mod argmax;
pub mod binary;
pub mod conv;
pub mod depthwise;
pub mod float;
pub mod im2col;
pub mod lut;
pub mod mean;
pub mod pointwise;
pub mod pooling;
pub mod quant;
pub mod quantize;
pub mod requant;
pub mod resize;
pub mod softmax;
pub mod window;

pub use argmax::ArgMax;
pub use binary::{BinKind, Binary};
pub use conv::QConv;
pub use depthwise::QDepthwise;
pub use float::{ClampF32, UnaryF32};
pub use im2col::QIm2col;
pub use lut::Lut8;
pub use mean::Mean;
pub use pointwise::QPointwise;
pub use pooling::AvgPool;
pub use quant::{
    activation_range, bytes_of, filled_u8, static_shape, tensor_from_bytes, QParams8, Q8,
};
pub use quantize::{Dequantize, Quantize};
pub use requant::{KernelZeroPoint, Requant, RequantSpec};
pub use resize::ResizeBilinear8;
pub use softmax::Softmax;
pub use window::Window;
