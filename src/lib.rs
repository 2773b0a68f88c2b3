//! breedcam: a dog-breed classifier kiosk for a Raspberry Pi.
//!
//! One frame's journey: picture -> [`locate`] (dog boxes) -> per dog [`preprocess`] (crop, resize, quantize into the model's
//! input tensor) -> [`model`] (an int8 TFLite model imported onto tract by
//! [`engine::import`], run on breedcam's int8 ops, kernels and threads in [`engine`]) ->
//! [`scores`] (top-k breeds, "no dog") -> the user.
//!
//! | module | stage |
//! |---|---|
//! | [`camera`] | frame sources (V4L2 camera, rpicam-vid pipe, folder, synthetic) and decoding frames to RGB |
//! | [`locate`] | frame -> dog boxes (a segmenter's class grid), each dog's crop, one classification per dog |
//! | [`preprocess`] | image decoding, centre crop, resize, normalise + quantize |
//! | [`model`] | `Classifier`: load, run, dequantize outputs; committed models; [`model::labels`] |
//! | [`engine`] | the inference engine: [`engine::import`] (TFLite -> tract graph), [`engine::ops`] (int8 ops), [`engine::kernels`] (reference + SIMD), [`engine::threads`] (pool, placement, splitting) |
//! | [`scores`] | top-k, dog gating |
//! | [`overlay`] | the screen: picture, breed names and bars drawn with embedded-graphics |
//! | [`display`] | where a screen goes: framebuffer, PNG files, nowhere; the views log |
//! | [`kiosk`] | `breedcam run`: capture, inference workers, presenter |
//! | [`notify`] | systemd's notify protocol: ready after the first screen, watchdog pings |
//! | [`bench`] | `breedcam bench`: the kiosk's stages timed one by one |
//! | [`stats`] | percentiles and memory figures shared by `bench` and the kiosk |
//! | [`eval`] | accuracy on labelled photos; [`eval::truth`] ground truth from a file |
//! | [`input`] | reading outside files: regular files only, a size cap per kind, image decoding within limits |
//! | [`cli`] | the command line: flags, the config file as flags, one file per command |
//! | [`fuzzing`] | the fuzz targets' entry points (image, config file, ground truth) |
//! | [`error`] | the library's error type; [`error::Report`] prints one with its causes |

// Every unsafe block says why it is sound (`// SAFETY:`), every unsafe fn when it may be
// called (`# Safety`), and an unsafe fn's body marks its own unsafe operations.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod bench;
pub mod camera;
pub mod cli;
pub mod display;
pub mod engine;
pub mod error;
pub mod eval;
pub mod fuzzing;
pub mod input;
pub mod kiosk;
pub mod locate;
pub mod model;
pub mod notify;
pub mod overlay;
pub mod preprocess;
pub mod scores;
pub mod stats;

pub use error::Error;
