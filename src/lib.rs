//! breedcam: a dog-breed classifier kiosk for a Raspberry Pi.
//!
//! One frame's journey: picture -> [`preprocess`] (crop, resize, quantize into the model's
//! input tensor) -> [`model`] (an int8 TFLite model imported onto tract by
//! [`model::tflite`], run on tract's quantized kernels) -> [`scores`] (top-k breeds, "no dog")
//! -> the user.
//!
//! | module | stage |
//! |---|---|
//! | [`preprocess`] | image decoding, centre crop, resize, normalise + quantize |
//! | [`model`] | `Classifier`: load, run, dequantize outputs; [`model::tflite`] the importer |
//! | [`labels`] | ImageNet / breed labels, WordNet ids, which classes are dogs |
//! | [`scores`] | top-k, dog gating |
//! | [`eval`] | accuracy on labelled photos; [`truth`] ground truth from a file |

pub mod bench;
pub mod camera;
pub mod display;
pub mod error;
pub mod eval;
pub mod labels;
pub mod model;
pub mod notify;
pub mod overlay;
pub mod pipeline;
pub mod preprocess;
pub mod scores;
pub mod truth;

pub use error::Error;
