//! A `run --config` file's bytes through the TOML reading, each key checked as its flag, and the kiosk's settings
//! (`breedcam::fuzzing::config`, which tests/it/fuzz_replay.rs replays on the seeds and
//! findings). Any panic, abort, timeout or out-of-memory is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = breedcam::fuzzing::config(data);
});
