//! The fuzz targets' seed corpora (fuzz/seeds/<target>/) and every finding
//! (tests/fixtures/fuzz/<target>/) replayed through the same entry functions the targets
//! call (`breedcam::fuzzing`), on the stable toolchain: CI's share of the fuzzing
//! (docs/testing.md). A panic here is a fuzzer finding come back.

use std::path::Path;

use crate::common;

/// Every file of `fuzz/seeds/<target>` and `tests/fixtures/fuzz/<target>` (if any) through
/// `entry`; the names of those it accepted.
fn replay(target: &str, entry: fn(&[u8]) -> bool) -> Vec<String> {
    let mut accepted = vec![];
    let mut n = 0;
    for dir in [
        common::root().join("fuzz/seeds").join(target),
        common::root().join("tests/fixtures/fuzz").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let path = e.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            n += 1;
            if entry(&bytes) {
                accepted.push(name(&path));
            }
        }
    }
    assert!(n > 0, "no seeds for {target}");
    accepted.sort();
    accepted
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn image_seeds_and_findings_decode_or_fail_cleanly() {
    // The well-formed pictures go all the way through; the truncated JPEG and the PNG that
    // claims 23000x23000 are refused.
    assert_eq!(
        replay("image", breedcam::fuzzing::image),
        [
            "exif_turned.jpg",
            "grey.jpg",
            "grey.png",
            "rgb.bmp",
            "rgb.jpg",
            "rgb.png",
            "rgba16.png"
        ]
    );
}

#[test]
fn config_seeds_and_findings_parse_or_fail_cleanly() {
    assert_eq!(
        replay("config", breedcam::fuzzing::config),
        ["board.toml", "camera.toml", "every_key.toml"]
    );
}

#[test]
fn truth_seeds_and_findings_parse_or_fail_cleanly() {
    assert_eq!(
        replay("truth", breedcam::fuzzing::truth),
        ["dogs.json", "mixed.json"]
    );
}
