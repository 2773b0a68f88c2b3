//! Hostile inputs (issue 23): files that are not regular files, files over their cap, a
//! decompression bomb, truncated and turned JPEGs, a folder with a symlink loop, absurd
//! `--threads`. Each run is bounded (a time limit, an address-space limit) so that a
//! regression fails instead of hanging or exhausting the machine, and its peak memory is
//! measured (the child's own rusage).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use breedcam::input::testing::{encode, png_chunk, png_header, with_orientation};

use crate::common::{self, path_str};

struct Ran {
    /// `None` when killed (by the time limit or a signal).
    code: Option<i32>,
    stderr: String,
    stdout: String,
    peak_mb: u64,
}

/// Runs breedcam with `args` in the repository root, killed after 20 s, with at most 2 GiB
/// of address space.
fn run(args: &[&str]) -> Ran {
    use std::os::unix::process::CommandExt;
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let mut cmd = common::breedcam_command();
    cmd.args(args)
        .current_dir(common::root())
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap());
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 2 << 30,
                rlim_max: 2 << 30,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    // Waited for below with wait4, which also gives this child's own peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("starting breedcam");
    let pid = child.id() as libc::pid_t;
    let start = Instant::now();
    let (mut status, mut usage) = (0, unsafe_zeroed_rusage());
    loop {
        // SAFETY: `status` and `usage` are valid for writes; `pid` is our child.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        if start.elapsed() > Duration::from_secs(20) {
            // SAFETY: `pid` is our child, not yet waited for.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let read = |p: &Path| {
        let mut s = String::new();
        std::fs::File::open(p)
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    Ran {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stderr: read(&err),
        stdout: read(&out),
        peak_mb: usage.ru_maxrss as u64 / 1024,
    }
}

fn unsafe_zeroed_rusage() -> libc::rusage {
    // SAFETY: rusage is plain integers and timevals: all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// A refusal: exit 2, within the memory budget, the first line of stderr containing every
/// one of `says`.
fn assert_refused(r: &Ran, says: &[&str]) {
    let first = r.stderr.lines().next().unwrap_or_default();
    assert_eq!(r.code, Some(2), "stderr: {}", r.stderr);
    for s in says {
        assert!(first.contains(s), "want {s:?} in: {first}");
    }
    if cfg!(target_arch = "x86_64") {
        // Under qemu-user the figure is qemu's.
        assert!(r.peak_mb < 300, "peak RSS {} MB: {first}", r.peak_mb);
    }
}

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

#[test]
fn fifos_devices_and_folders_are_refused_at_once_as_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("photo.jpg");
    mkfifo(&fifo);
    let (fifo, d) = (path_str(&fifo), path_str(dir.path()));
    let husky = common::root().join("tests/data/husky.png");
    let husky = path_str(&husky);
    let nonreg = "not a regular file";
    // A FIFO nobody writes to: a blocking open would hang (killed at 20 s: no exit code).
    assert_refused(&run(&["classify", fifo]), &[fifo, "is a FIFO", nonreg]);
    assert_refused(
        &run(&["classify", "--labels", fifo, husky]),
        &[fifo, "is a FIFO"],
    );
    assert_refused(&run(&["eval", "--truth", fifo, d]), &[fifo, "is a FIFO"]);
    // A device that never ends: read whole, it exhausts memory.
    assert_refused(
        &run(&["classify", "/dev/zero"]),
        &["/dev/zero: is a character device, not a regular file"],
    );
    assert_refused(
        &run(&["classify", "--model", "/dev/zero", husky]),
        &["/dev/zero: is a character device"],
    );
    assert_refused(
        &run(&["run", "--config", "/dev/zero", "--frames", "1"]),
        &["/dev/zero: is a character device"],
    );
    assert_refused(&run(&["classify", d]), &[d, "is a directory"]);
}

#[test]
fn a_sparse_gigabyte_image_is_refused_by_its_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.jpg");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    assert_refused(
        &run(&["classify", path_str(&big)]),
        &["big.jpg: 1024.0 MiB is larger than 64 MiB, the limit for an image"],
    );
}

/// A real decompression bomb: an 8-bit grey PNG of `side`x`side` black pixels, its zlib
/// stream written by hand (fixed Huffman codes: one literal 0, then copies of 258 bytes
/// at distance 1), so ~13 bits per 258 pixels.
fn bomb_png(side: u32) -> Vec<u8> {
    let raw_len = side as u64 * (side as u64 + 1); // a filter byte per row
    let mut bits = BitWriter::default();
    bits.put(0b1, 1); // BFINAL
    bits.put(0b01, 2); // fixed Huffman
    let literal0 = |b: &mut BitWriter| b.put_code(0b0011_0000, 8);
    literal0(&mut bits);
    let mut left = raw_len - 1;
    while left >= 258 {
        bits.put_code(0b1100_0101, 8); // length 258 (code 285)
        bits.put_code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        literal0(&mut bits);
    }
    bits.put_code(0, 7); // end of block (256)
    let mut z = vec![0x78, 0x01];
    z.extend_from_slice(&bits.finish());
    let b = (raw_len % 65521) as u32; // Adler-32 of zeros: a = 1, b = n
    z.extend_from_slice(&((b << 16) | 1).to_be_bytes());
    let mut png = png_header(side, side, 0);
    png_chunk(&mut png, b"IDAT", &z);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl BitWriter {
    /// `n` bits of `v`, least significant first (deflate's header fields, extra bits).
    fn put(&mut self, v: u32, n: u32) {
        self.acc |= (v as u64) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code of `n` bits, most significant first.
    fn put_code(&mut self, code: u32, n: u32) {
        self.put(code.reverse_bits() >> (32 - n), n);
    }
    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

#[test]
fn a_decompression_bomb_is_refused_before_it_allocates() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.png");
    // 23000x23000: 529 MB of grey pixels (1.6 GB as RGB) from a 2.7 MB file.
    std::fs::write(&bomb, bomb_png(23_000)).unwrap();
    let r = run(&["classify", path_str(&bomb)]);
    assert_refused(
        &r,
        &[
            "bomb.png: 23000x23000 pixels is more than breedcam decodes",
            "scale it down",
        ],
    );
}

fn husky() -> image::DynamicImage {
    image::open(common::root().join("tests/data/husky.png")).unwrap()
}

/// husky.png as a JPEG, whole.
fn husky_jpeg() -> Vec<u8> {
    encode(&husky(), image::ImageFormat::Jpeg)
}

#[test]
fn a_truncated_jpeg_is_an_error_for_classify_and_unreadable_for_eval() {
    let dir = tempfile::tempdir().unwrap();
    let whole = husky_jpeg();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    assert_refused(
        &run(&["classify", path_str(&cut)]),
        &["cut.jpg: the JPEG data ends early", "truncated"],
    );
    // eval: the cut photo is listed as unreadable and not scored; the whole one is.
    let breed = dir.path().join("photos/n02110185-Siberian_husky");
    std::fs::create_dir_all(&breed).unwrap();
    std::fs::write(breed.join("whole.jpg"), &whole).unwrap();
    std::fs::write(breed.join("cut.jpg"), &whole[..whole.len() / 10]).unwrap();
    let r = run(&["eval", "--json", path_str(&dir.path().join("photos"))]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let rep = &j["reports"][0];
    assert_eq!(rep["dogs"]["n"], 1, "{rep}");
    let unreadable = rep["unreadable"].as_array().unwrap();
    assert_eq!(unreadable.len(), 1, "{unreadable:?}");
    assert!(unreadable[0][0].as_str().unwrap().ends_with("cut.jpg"));
    assert!(unreadable[0][1].as_str().unwrap().contains("truncated"));
}

#[test]
fn eval_walks_a_symlink_loop_once_and_counts_each_photo_once() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    let breed = photos.join("n02110185-Siberian_husky");
    std::fs::create_dir_all(&breed).unwrap();
    std::fs::write(breed.join("rex.jpg"), husky_jpeg()).unwrap();
    // A loop (the breed folder inside itself) and a second name for the same photo.
    std::os::unix::fs::symlink("..", breed.join("loop")).unwrap();
    std::os::unix::fs::symlink("rex.jpg", breed.join("rex-again.jpg")).unwrap();
    let r = run(&["eval", "--json", path_str(&photos)]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let answers = j["reports"][0]["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(j["reports"][0]["dogs"]["n"], 1);
}

fn best(r: &Ran) -> (String, f64) {
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let j: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    (
        j["best"]["name"].as_str().unwrap().to_string(),
        j["best"]["probability"].as_f64().unwrap(),
    )
}

#[test]
fn a_turned_photo_with_its_exif_orientation_classifies_as_the_upright_one() {
    let dir = tempfile::tempdir().unwrap();
    let jpeg = |img: image::RgbImage| encode(&img.into(), image::ImageFormat::Jpeg);
    let (upright, turned): (PathBuf, PathBuf) = (
        dir.path().join("upright.png"),
        dir.path().join("turned.jpg"),
    );
    // Stored as a phone held sideways stores it (turned a quarter anticlockwise), tagged
    // "turn 90 degrees clockwise to show" (orientation 6).
    let stored = jpeg(image::imageops::rotate270(&husky().into_rgb8()));
    std::fs::write(&turned, with_orientation(&stored, 6)).unwrap();
    // The same pixels turned upright here, saved losslessly.
    let decoded = image::load_from_memory(&stored).unwrap().into_rgb8();
    image::imageops::rotate90(&decoded).save(&upright).unwrap();
    let (name, p) = best(&run(&["classify", "--json", path_str(&upright)]));
    let (tname, tp) = best(&run(&["classify", "--json", path_str(&turned)]));
    assert_eq!((tname, tp), (name, p));
}

#[test]
fn threads_beyond_four_per_cpu_are_a_usage_error() {
    for cmd in [
        &["bench", "--frames", "1", "--threads", "100000"][..],
        &["run", "--frames", "1", "--threads", "100000"][..],
    ] {
        let r = run(cmd);
        assert_refused(
            &r,
            &["--threads: 100000: must be 1..=", "at most 4 per CPU"],
        );
    }
}
