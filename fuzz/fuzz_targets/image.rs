//! Image bytes through decoding (limits, truncation, EXIF orientation) and preprocessing
//! (`breedcam::fuzzing::image`, which tests/it/fuzz_replay.rs replays on the seeds and
//! findings). Any panic, abort, timeout or out-of-memory is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = breedcam::fuzzing::image(data);
});
