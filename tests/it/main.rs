//! breedcam's integration tests: one test binary, one module per subject (one binary links
//! breedcam and tract once instead of once per file). `cargo test --release --test it`
//! runs them all, `cargo test --release --test it golden::` one module. What each proves:
//! docs/testing.md.

mod common;

mod camera;
mod cli;
mod dog_set;
mod eval_bench;
mod fuzz_frames;
mod fuzz_replay;
mod golden;
mod import;
mod inputs;
mod kiosk;
mod locate;
mod messages;
mod models;
mod overlay;
mod rpicam;
mod seg_ops;
mod segmenter;
