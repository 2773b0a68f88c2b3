//! breedcam's inference engine: a TFLite model imported onto tract-core as breedcam's own
//! int8 ops, run on breedcam's kernels and threads.
//!
//! | module | what |
//! |---|---|
//! | [`import`] | TFLite flatbuffer -> tract graph: verification, the op table, builders |
//! | [`ops`] | breedcam's int8 ops; the convolution picks pointwise / im2col / depthwise |
//! | [`kernels`] | reference and SIMD kernels, and tract-linalg kernel steering |
//! | [`threads`] | the inference pool, CPU placement, the one way to split an output |
//! | [`report`] | which matmul kernels an optimised plan uses (for `bench`) |

pub mod import;
pub mod kernels;
pub mod ops;
pub mod report;
#[cfg(test)]
mod testing;
pub mod threads;
