//! The TFLite loader on arbitrary bytes: verify, survey, import, and let tract optimise
//! whatever imported. Any panic, abort, timeout or out-of-memory is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = breedcam::engine::import::survey(data);
    if let Ok(imported) = breedcam::engine::import::import(data) {
        let _ = imported.model.into_optimized();
    }
});
