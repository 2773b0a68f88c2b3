//! breedcam: a dog-breed classifier kiosk for a Raspberry Pi.
//!
//! One frame's journey: picture -> [`preprocess`] (crop, resize, quantize into the model's
//! input tensor) -> [`model`] (an int8 TFLite model imported onto tract by
//! [`engine::import`], run on breedcam's int8 ops, kernels and threads in [`engine`]) ->
//! [`scores`] (top-k breeds, "no dog") -> the user.
//!
//! | module | stage |
//! |---|---|
//! | [`preprocess`] | image decoding, centre crop, resize, normalise + quantize |
//! | [`model`] | `Classifier`: load, run, dequantize outputs; committed models; [`model::labels`] |
//! | [`engine`] | the inference engine: [`engine::import`] (TFLite -> tract graph), [`engine::ops`] (int8 ops), [`engine::kernels`] (reference + SIMD), [`engine::threads`] (pool, placement, splitting) |
//! | [`scores`] | top-k, dog gating |
//! | [`eval`] | accuracy on labelled photos; [`truth`] ground truth from a file |

pub mod bench;
pub mod camera;
pub mod display;
pub mod engine;
pub mod error;
pub mod eval;
pub mod model;
pub mod overlay;
pub mod pipeline;
pub mod preprocess;
pub mod scores;
pub mod truth;

pub use error::Error;
