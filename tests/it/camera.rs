//! V4L2 from the command line: `breedcam cameras`, `run --camera`, `bench --source camera`.
//!
//! The build machines have no /dev/video* and cannot load vivid or v4l2loopback, so these
//! tests drive the real open path up to where a camera would answer: missing devices, files
//! and character devices that are not V4L2, and what the kiosk does at start-up without its
//! camera. Negotiation is unit-tested in src/camera/v4l2/negotiation.rs.

use crate::common::{breedcam, path_str, stderr, stdout};

fn video_nodes() -> Vec<String> {
    let mut nodes: Vec<String> = std::fs::read_dir("/dev")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .filter(|n| {
            n.strip_prefix("video")
                .is_some_and(|d| d.parse::<u32>().is_ok())
        })
        .collect();
    nodes.sort();
    nodes
}

#[test]
fn cameras_lists_the_devices_or_says_there_are_none() {
    let o = breedcam(&["cameras"]);
    let nodes = video_nodes();
    // The last line says whether rpicam-vid (a Pi camera module's route) is there: not on
    // this machine's PATH.
    assert!(
        stdout(&o).ends_with(
            "rpicam: neither rpicam-vid nor libcamera-vid on PATH (for a Pi camera module: \
             sudo apt install rpicam-apps)\n"
        ),
        "{}",
        stdout(&o)
    );
    if nodes.is_empty() {
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            "breedcam: no V4L2 capture devices (no /dev/video* nodes); is a camera plugged in?\n"
        );
    } else {
        // A machine with cameras: every node is listed, usable or with the reason why not.
        for n in &nodes {
            assert!(stdout(&o).contains(&format!("/dev/{n}")), "{}", stdout(&o));
        }
        let usable = stdout(&o).contains("breedcam run --camera");
        assert_eq!(o.status.success(), usable, "{}{}", stdout(&o), stderr(&o));
    }
}

#[test]
fn a_missing_camera_fails_at_start_up_naming_it() {
    // The kiosk does not start without its camera (exit 2, one line; systemd restarts the
    // service until the camera is there). Only a camera lost while running shows
    // "camera lost" and is reopened every second.
    let out = tempfile::tempdir().unwrap();
    let display = format!("png:{}", out.path().display());
    let o = breedcam(&[
        "run",
        "--camera",
        "/dev/video99",
        "--display",
        &display,
        "--frames",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "breedcam: /dev/video99: no such device (No such file or directory (os error 2)); \
         `breedcam cameras` lists the capture devices\n"
    );
    let written: Vec<_> = std::fs::read_dir(out.path()).unwrap().flatten().collect();
    assert!(
        written.is_empty(),
        "no screens without a camera: {written:?}"
    );

    let o = breedcam(&["bench", "--source", "camera", "--camera", "/dev/video99"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("breedcam: /dev/video99: no such device"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn source_camera_takes_the_first_capture_device() {
    if !video_nodes().is_empty() {
        eprintln!("SKIPPED: this machine has /dev/video* nodes; the test needs none");
        return;
    }
    for args in [
        &["run", "--source", "camera", "--frames", "1"][..],
        &["bench", "--source", "camera", "--frames", "1"][..],
    ] {
        let o = breedcam(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(
            stderr(&o),
            "breedcam: /dev/video*: no V4L2 capture devices; is a camera plugged in?\n",
            "{args:?}"
        );
    }
}

#[test]
fn things_that_are_not_cameras_are_refused_with_the_reason() {
    let o = breedcam(&["run", "--camera", "README.md", "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        "breedcam: README.md: not a device node (V4L2 cameras are /dev/videoN)\n"
    );
    // A character device, but not V4L2: the capability query is refused.
    let o = breedcam(&["run", "--camera", "/dev/null", "--frames", "1"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).starts_with("breedcam: /dev/null: ") && stderr(&o).lines().count() == 1,
        "{}",
        stderr(&o)
    );
    if cfg!(target_arch = "x86_64") {
        // (qemu-user answers V4L2 ioctls it does not know with ENOSYS, not the kernel's ENOTTY.)
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("not a V4L2 device (Inappropriate ioctl for device"),
            "{}",
            stderr(&o)
        );
    }
}

#[test]
fn camera_flags_are_checked() {
    let o = breedcam(&["bench", "--source", "tests/data", "--camera", "/dev/video0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--camera needs --source camera, not --source tests/data"),
        "{}",
        stderr(&o)
    );
    let o = breedcam(&["run", "--camera", "/dev/video0", "--camera-size", "640"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("640: a size must be WxH"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn where_frames_come_from_is_one_setting_between_config_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("breedcam.toml");
    std::fs::write(
        &cfg,
        "camera = \"/dev/video99\"\ncamera_size = \"1280x720\"\ndisplay = \"none\"\n",
    )
    .unwrap();
    // The file's camera is used...
    let o = breedcam(&["run", "--config", path_str(&cfg), "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/video99: no such device"),
        "{}",
        stderr(&o)
    );
    // ...unless the command line says where frames come from.
    let o = breedcam(&[
        "run",
        "--config",
        path_str(&cfg),
        "--source",
        "tests/data",
        "--frames",
        "1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 screens"), "{}", stderr(&o));
}
