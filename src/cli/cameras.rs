//! `breedcam cameras`: every /dev/video* node, described, and whether rpicam-vid (a Pi camera
//! module's route) is there; exit code 1 when there is no camera breedcam can use.

use std::path::Path;
use std::process::ExitCode;

use crate::camera::rpicam;

pub fn run() -> anyhow::Result<ExitCode> {
    let listing = crate::camera::list::list(Path::new("/dev"));
    let rpicam = rpicam::find_program();
    let rpicam_line = rpicam::describe_program(rpicam.as_deref());
    if listing.nodes == 0 {
        eprintln!(
            "breedcam: no V4L2 capture devices (no /dev/video* nodes); is a camera plugged in?"
        );
        println!("{rpicam_line}");
        return Ok(ExitCode::from(if rpicam.is_some() { 0 } else { 1 }));
    }
    print!("{}", listing.text);
    println!("{rpicam_line}");
    if listing.usable == 0 && rpicam.is_none() {
        eprintln!(
            "breedcam: none of {} /dev/video* nodes is a capture device offering a format \
             breedcam decodes (RGB3, BGR3, YU12, NV12, YUYV, MJPEG)",
            listing.nodes
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
