//! `--source rpicam`: frames piped out of rpicam-vid, against the stand-in
//! tests/rpicam/rpicam-vid (a shell script that checks its arguments, writes a prepared frame
//! again and again, and dies or stalls when asked).

use crate::common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{path_str, root, stderr};
use breedcam::camera::rpicam::{self, Codec, Options, RpiCam};
use breedcam::camera::{decode, FrameSource};
use image::RgbImage;

/// The test photo at `w` x `h`.
fn photo(w: u32, h: u32) -> RgbImage {
    let img = image::open(root().join("tests/data/husky.png"))
        .unwrap()
        .to_rgb8();
    image::imageops::resize(&img, w, h, image::imageops::FilterType::Triangle)
}

/// `img` as rpicam-vid writes an I420 frame: BT.601 limited range, rows padded to 64 bytes,
/// chroma rows to 32, each chroma sample the mean of its 2x2 block.
fn i420_padded(img: &RgbImage) -> Vec<u8> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (stride, size) = rpicam::yuv420_layout(img.width(), img.height());
    let mut out = vec![0u8; size];
    let px = |x: usize, y: usize| {
        let p = img.get_pixel(x as u32, y as u32).0;
        (p[0] as f32, p[1] as f32, p[2] as f32)
    };
    for y in 0..h {
        for x in 0..w {
            let (r, g, b) = px(x, y);
            out[y * stride + x] = (16.0 + (65.738 * r + 129.057 * g + 25.064 * b) / 256.0)
                .round()
                .clamp(0.0, 255.0) as u8;
        }
    }
    let cs = stride / 2;
    let (u0, v0) = (stride * h, stride * h + cs * h.div_ceil(2));
    for cy in 0..h / 2 {
        for cx in 0..w / 2 {
            let (mut r, mut g, mut b) = (0.0, 0.0, 0.0);
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let p = px(2 * cx + dx, 2 * cy + dy);
                (r, g, b) = (r + p.0 / 4.0, g + p.1 / 4.0, b + p.2 / 4.0);
            }
            let q = |v: f32| v.round().clamp(0.0, 255.0) as u8;
            out[u0 + cy * cs + cx] = q(128.0 + (-37.945 * r - 74.494 * g + 112.439 * b) / 256.0);
            out[v0 + cy * cs + cx] = q(128.0 + (112.439 * r - 94.154 * g - 18.285 * b) / 256.0);
        }
    }
    out
}

fn jpeg(img: &RgbImage) -> Vec<u8> {
    let mut out = vec![];
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 95)
        .encode_image(img)
        .unwrap();
    out
}

/// A folder with the stand-in as `rpicam-vid` and the photo's frames at each size.
fn standin(sizes: &[(u32, u32)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("tests/rpicam/rpicam-vid"),
        dir.path().join("rpicam-vid"),
    )
    .unwrap();
    for &(w, h) in sizes {
        let img = photo(w, h);
        let base = dir.path().join(format!("frame-{w}x{h}"));
        std::fs::write(base.with_extension("yuv420"), i420_padded(&img)).unwrap();
        std::fs::write(base.with_extension("mjpeg"), jpeg(&img)).unwrap();
    }
    dir
}

fn options(dir: &Path, codec: Codec, w: u32, h: u32) -> Options {
    let mut o = Options::new(w, h);
    o.program = Some(dir.join("rpicam-vid"));
    o.codec = codec;
    o
}

fn lines(p: PathBuf) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// Mean absolute difference per channel value, and the share of values off by more than 24.
fn difference(a: &RgbImage, b: &RgbImage) -> (f64, f64) {
    assert_eq!(a.dimensions(), b.dimensions());
    let (mut sum, mut far) = (0u64, 0usize);
    for (x, y) in a.as_raw().iter().zip(b.as_raw()) {
        let d = x.abs_diff(*y);
        sum += d as u64;
        far += (d > 24) as usize;
    }
    let n = a.as_raw().len() as f64;
    (sum as f64 / n, far as f64 / n)
}

fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process (or group, for a negative id) exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn frames_padded_or_not_decode_to_the_photo_in_both_codecs() {
    // 320 is a multiple of 64 (no padding), 330 is not (rows padded to 384, chroma to 192).
    let sizes = [(320, 240), (330, 246)];
    let dir = standin(&sizes);
    for (w, h) in sizes {
        let want = photo(w, h);
        for codec in [Codec::Yuv420, Codec::Mjpeg] {
            let mut o = options(dir.path(), codec, w, h);
            o.extra = vec!["--rotation".into(), "180".into()];
            let mut cam = RpiCam::open(&o).unwrap();
            for i in 1..=3 {
                let frame = cam.next_frame().unwrap();
                assert_eq!((frame.width, frame.height, frame.sequence), (w, h, i));
                let got = decode(&frame).unwrap();
                let (mean, far) = difference(&got, &want);
                // I420 loses colour detail at edges (2x2 chroma), JPEG a little more.
                assert!(
                    mean < 3.0 && far < 0.01,
                    "{w}x{h} {codec:?} frame {i}: mean difference {mean:.2}, {:.2}% far off",
                    far * 100.0
                );
            }
        }
    }
    assert_eq!(
        lines(dir.path().join("starts")),
        [
            "-t 0 -n --codec yuv420 --width 320 --height 240 --framerate 30 -o - --rotation 180",
            "-t 0 -n --codec mjpeg --width 320 --height 240 --framerate 30 -o - --rotation 180",
            "-t 0 -n --codec yuv420 --width 330 --height 246 --framerate 30 -o - --rotation 180",
            "-t 0 -n --codec mjpeg --width 330 --height 246 --framerate 30 -o - --rotation 180",
        ]
    );
}

#[test]
fn padding_is_dropped_not_shown() {
    // A frame whose padding bytes are white and picture black: any padding byte read as a
    // pixel would show.
    let (w, h) = (66u32, 4u32);
    let (stride, size) = rpicam::yuv420_layout(w, h);
    assert_eq!((stride, size), (128, 128 * 4 + 2 * 64 * 2));
    let mut data = vec![255u8; size];
    for y in 0..4 {
        data[y * 128..y * 128 + 66].fill(16);
    }
    for c in 0..4 {
        data[512 + c * 64..512 + c * 64 + 33].fill(128);
    }
    let packed = rpicam::unpad_yuv420(&data, w, h);
    assert_eq!(packed.len(), 66 * 4 + 2 * 33 * 2);
    assert!(packed[..264].iter().all(|&y| y == 16));
    assert!(packed[264..].iter().all(|&c| c == 128));
}

#[test]
fn jpeg_frames_split_at_their_end_not_at_a_thumbnail_end_marker() {
    let a = jpeg(&photo(32, 24));
    // A JPEG with an APP1 segment holding a whole other JPEG (as an Exif thumbnail does).
    let thumb = jpeg(&photo(8, 6));
    let mut b = a[..2].to_vec();
    b.extend([0xFF, 0xE1]);
    b.extend(((thumb.len() + 2) as u16).to_be_bytes());
    b.extend(&thumb);
    b.extend(&a[2..]);
    let mut stream = b.clone();
    stream.extend(&a);
    assert_eq!(rpicam::jpeg_end(&stream), Ok(Some(b.len())));
    assert_eq!(rpicam::jpeg_end(&stream[b.len()..]), Ok(Some(a.len())));
    assert_eq!(rpicam::jpeg_end(&a[..a.len() - 1]), Ok(None));
    assert!(rpicam::jpeg_end(b"garbage").is_err());
}

#[test]
fn a_child_that_dies_or_stalls_fails_the_source_and_is_stopped_and_reaped() {
    let dir = standin(&[(64, 48)]);
    let d = dir.path();
    // Dies: the next frame fails, naming the program and its exit status.
    let mut cam = RpiCam::open(&options(d, Codec::Yuv420, 64, 48)).unwrap();
    cam.next_frame().unwrap();
    std::fs::write(d.join("die"), "").unwrap();
    let e = loop {
        match cam.next_frame() {
            Ok(_) => continue,
            Err(e) => break e.to_string(),
        }
    };
    assert!(
        e.contains("rpicam-vid (pid ") && e.contains("stopped writing frames"),
        "{e}"
    );
    drop(cam);
    std::fs::remove_file(d.join("die")).unwrap();
    // Stalls: no bytes for `stall` is an error too; dropping the source ends the child and
    // everything in its process group (the stalled script's `sleep`).
    let mut o = options(d, Codec::Mjpeg, 64, 48);
    o.stall = Duration::from_millis(500);
    let mut cam = RpiCam::open(&o).unwrap();
    cam.next_frame().unwrap();
    std::fs::write(d.join("stall"), "").unwrap();
    let t = Instant::now();
    let e = loop {
        match cam.next_frame() {
            Ok(_) => continue,
            Err(e) => break e.to_string(),
        }
    };
    assert!(e.contains("no frame for 0.5 s (stalled)"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    let pid: i32 = lines(d.join("pids")).last().unwrap().parse().unwrap();
    assert!(alive(pid), "a stalled child is still running until dropped");
    drop(cam);
    assert!(!alive(pid), "the child is reaped");
    // The script's `sleep`, killed with the group, is reaped by init a moment later.
    let t = Instant::now();
    while alive(-pid) && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(-pid), "nothing is left in its process group");
}

#[test]
fn a_missing_program_is_a_clear_error() {
    let mut o = Options::new(64, 48);
    o.program = Some("/nonexistent/rpicam-vid".into());
    let e = RpiCam::open(&o).err().unwrap().to_string();
    assert!(e.contains("/nonexistent/rpicam-vid: cannot start"), "{e}");
    assert_eq!(
        rpicam::find_program_in(std::ffi::OsStr::new("/nonexistent")),
        None
    );
    let dir = standin(&[]);
    assert_eq!(
        rpicam::find_program_in(dir.path().as_os_str()),
        Some(dir.path().join("rpicam-vid"))
    );
}

/// `breedcam run --source rpicam` with the stand-in on PATH: screens of the photo; the
/// stand-in dies after 3 frames, the kiosk shows "camera lost", starts it again and shows
/// the photo again; on exit no stand-in is left running.
#[test]
fn the_kiosk_shows_camera_lost_and_restarts_a_dead_rpicam_vid() {
    let dir = standin(&[(320, 240)]);
    let d = dir.path();
    std::fs::write(d.join("die-after"), "3").unwrap();
    let out = tempfile::tempdir().unwrap();
    let path = format!(
        "{}:{}",
        d.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let views = out.path().join("views.jsonl");
    let o = common::breedcam_command()
        .args([
            "-v",
            "run",
            "--model",
            "lite0",
            "--source",
            "rpicam",
            "--camera-size",
            "320x240",
            "--rpicam-arg=--hflip",
            "--display",
            &format!("png:{}", out.path().display()),
            "--views",
            path_str(&views),
            "--frames",
            "12",
        ])
        .env("PATH", path)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let views: Vec<serde_json::Value> = std::fs::read_to_string(&views)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let lost = |v: &serde_json::Value| {
        v["headline"]
            .as_str()
            .is_some_and(|h| h.starts_with("camera lost: rpicam-vid (pid "))
    };
    let first_lost = views.iter().position(lost).unwrap_or_else(|| {
        panic!("no camera lost screen: {views:?}\n{}", stderr(&o));
    });
    assert!(first_lost >= 1, "{views:?}");
    assert!(
        views[first_lost + 1..].iter().any(|v| !lost(v)),
        "no picture after the restart: {views:?}"
    );
    // Each picture screen names breeds (the husky photo is a dog).
    for v in views.iter().filter(|v| !lost(v)) {
        assert_eq!(v["breeds"].as_array().map(Vec::len), Some(3), "{v}");
    }
    let starts = lines(d.join("starts"));
    assert!(starts.len() >= 2, "{starts:?}");
    assert_eq!(
        starts[0],
        "-t 0 -n --codec yuv420 --width 320 --height 240 --framerate 30 -o - --hflip"
    );
    let err = stderr(&o);
    assert!(
        err.contains("stand-in rpicam-vid: dying as asked after 3 frames"),
        "the child's stderr is in breedcam's log: {err}"
    );
    for pid in lines(d.join("pids")) {
        let pid: i32 = pid.parse().unwrap();
        assert!(!alive(pid), "stand-in {pid} left running");
    }
}

/// The codec choice (rpicam.rs): time to turn one 640x480 frame into RGB, I420 vs MJPEG.
/// `cargo test --release --test rpicam -- --ignored --nocapture decode_cost`
#[test]
#[ignore]
fn decode_cost() {
    let img = photo(640, 480);
    let yuv = rpicam::unpad_yuv420(&i420_padded(&img), 640, 480);
    let mjpeg = jpeg(&img);
    let frame = |format, data: &Vec<u8>| breedcam::camera::Frame {
        format,
        width: 640,
        height: 480,
        data: data.clone(),
        sequence: 0,
        origin: "test".into(),
    };
    for (name, f) in [
        ("yuv420", frame(breedcam::camera::Format::Yu12, &yuv)),
        ("mjpeg", frame(breedcam::camera::Format::Mjpeg, &mjpeg)),
    ] {
        let n = 50;
        let t = Instant::now();
        for _ in 0..n {
            decode(&f).unwrap();
        }
        println!(
            "{name}: {:.2} ms per 640x480 frame ({} bytes)",
            t.elapsed().as_secs_f64() * 1e3 / n as f64,
            f.data.len()
        );
    }
}

#[test]
fn cameras_says_where_rpicam_vid_is() {
    let dir = standin(&[]);
    let o = common::breedcam_command()
        .arg("cameras")
        // The stand-in first; the rest of PATH still finds the test runner (qemu) if any.
        .env(
            "PATH",
            format!(
                "{}:{}",
                dir.path().display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    let want = format!(
        "rpicam: {} (a Pi camera module: --source rpicam)\n",
        dir.path().join("rpicam-vid").display()
    );
    assert!(
        common::stdout(&o).ends_with(&want),
        "{}",
        common::stdout(&o)
    );
    // rpicam-vid is a usable camera: success even without a usable V4L2 device.
    assert!(o.status.success(), "{}", stderr(&o));
}
