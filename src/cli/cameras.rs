//! `breedcam cameras`: every /dev/video* node, described; exit code 1 when none is a camera
//! breedcam can use.

use std::path::Path;
use std::process::ExitCode;

pub fn run() -> anyhow::Result<ExitCode> {
    let listing = crate::camera::list::list(Path::new("/dev"));
    if listing.nodes == 0 {
        eprintln!(
            "breedcam: no V4L2 capture devices (no /dev/video* nodes); is a camera plugged in?"
        );
        return Ok(ExitCode::from(1));
    }
    print!("{}", listing.text);
    if listing.usable == 0 {
        eprintln!(
            "breedcam: none of {} /dev/video* nodes is a capture device offering a format \
             breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, MJPEG)",
            listing.nodes
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
