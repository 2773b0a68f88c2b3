//! The Raspberry Pi camera module (CSI) through `rpicam-vid`: frames piped out of a child
//! process.
//!
//! On Raspberry Pi OS Bookworm and later a CSI camera is reachable only through libcamera
//! (/dev/video0 is the raw receiver). Rather than a V4L2 translation layer, breedcam starts
//! `rpicam-vid -t 0 -n --codec yuv420|mjpeg --width W --height H --framerate F -o -` (found
//! on PATH, else its older name `libcamera-vid`) and reads what it writes to stdout:
//!
//! - `yuv420`: raw I420 frames, each luma row padded to a multiple of 64 bytes when the
//!   width is not one, chroma rows to half that; the padding is dropped here and the frame
//!   handed on as packed [`Format::Yu12`];
//! - `mjpeg`: concatenated JPEGs, split here at each end-of-image marker.
//!
//! The default is `yuv420`, chosen by decode cost: turning a 640x480 frame into RGB took
//! 3.5 ms from I420 and 5.9 ms from a JPEG on the development machine (`cargo test --release
//! --test rpicam -- --ignored --nocapture decode_cost`), and rpicam-vid encodes MJPEG in
//! software on the Pi's own cores (libjpeg), so MJPEG costs its encode on top. The pipe
//! carries 460 KB a 640x480 frame, nothing for a pipe. `--camera-format mjpeg` chooses MJPEG.
//!
//! The child is a camera like any other: when it exits, or writes nothing for
//! [`Options::stall`], [`next_frame`](FrameSource::next_frame) fails (the kiosk shows "camera
//! lost" and opens a new one every second). It runs in its own process group, which is
//! stopped (SIGTERM, then SIGKILL) and reaped when the source is dropped. Its stderr goes to
//! breedcam's log (as warnings, which the service's log shows), a line at a time.

use std::io::{BufRead, Read};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Format, Frame, FrameSource};
use crate::Error;

/// The program names tried, in order.
pub const PROGRAMS: [&str; 2] = ["rpicam-vid", "libcamera-vid"];

/// How rpicam-vid encodes frames for the pipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    /// Raw I420, rows padded to 64 bytes.
    Yuv420,
    /// Concatenated JPEGs.
    Mjpeg,
}

impl Codec {
    /// The `--codec` value.
    pub fn arg(self) -> &'static str {
        match self {
            Codec::Yuv420 => "yuv420",
            Codec::Mjpeg => "mjpeg",
        }
    }

    /// The codec for a `--camera-format` name (`yu12`/`i420`/`yuv420`, `mjpeg`/`mjpg`).
    pub fn parse(name: &str) -> Option<Codec> {
        match name.to_ascii_lowercase().as_str() {
            "yuv420" => Some(Codec::Yuv420),
            _ => match Format::parse(name)? {
                Format::Yu12 => Some(Codec::Yuv420),
                Format::Mjpeg => Some(Codec::Mjpeg),
                _ => None,
            },
        }
    }
}

/// What to start.
#[derive(Clone, Debug)]
pub struct Options {
    /// The program to run (`None`: the first of [`PROGRAMS`] on PATH).
    pub program: Option<PathBuf>,
    pub width: u32,
    pub height: u32,
    pub framerate: u32,
    pub codec: Codec,
    /// Passed on after breedcam's own options (`--rotation 180`, `--hflip`, ...). A
    /// `--framerate` here replaces breedcam's.
    pub extra: Vec<String>,
    /// No bytes for this long (after the first frame) is a stalled camera.
    pub stall: Duration,
    /// How long the first frame may take (the camera starting up).
    pub first_frame: Duration,
}

impl Options {
    pub fn new(width: u32, height: u32) -> Options {
        Options {
            program: None,
            width,
            height,
            framerate: 30,
            codec: Codec::Yuv420,
            extra: vec![],
            stall: Duration::from_secs(3),
            first_frame: Duration::from_secs(10),
        }
    }

    /// The arguments given to the program.
    pub fn args(&self) -> Vec<String> {
        let mut a: Vec<String> = ["-t", "0", "-n", "--codec", self.codec.arg()]
            .iter()
            .map(|s| s.to_string())
            .collect();
        a.extend([
            "--width".into(),
            self.width.to_string(),
            "--height".into(),
            self.height.to_string(),
        ]);
        if !self.extra.iter().any(|x| x == "--framerate") {
            a.extend(["--framerate".into(), self.framerate.to_string()]);
        }
        a.extend(["-o".into(), "-".into()]);
        a.extend(self.extra.iter().cloned());
        a
    }
}

/// The first of [`PROGRAMS`] in the folders of `path` (a PATH value) that is an executable
/// file.
pub fn find_program_in(path: &std::ffi::OsStr) -> Option<PathBuf> {
    PROGRAMS.iter().find_map(|name| {
        std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .find(|p| executable(p).unwrap_or(false))
    })
}

/// Whether `path` is a file someone may execute.
fn executable(path: &std::path::Path) -> std::io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The rpicam-vid (or libcamera-vid) on this process's PATH.
pub fn find_program() -> Option<PathBuf> {
    find_program_in(&std::env::var_os("PATH").unwrap_or_default())
}

/// Bytes of one rpicam-vid I420 frame: (luma stride, whole frame).
pub fn yuv420_layout(width: u32, height: u32) -> (usize, usize) {
    let stride = (width as usize).div_ceil(64) * 64;
    let (h, ch) = (height as usize, (height as usize).div_ceil(2));
    (stride, stride * h + 2 * (stride / 2) * ch)
}

/// A padded rpicam-vid I420 frame to packed YU12 (the layout [`super::decode`] takes).
pub fn unpad_yuv420(data: &[u8], width: u32, height: u32) -> Vec<u8> {
    let (stride, _) = yuv420_layout(width, height);
    let (w, h) = (width as usize, height as usize);
    let (cw, ch, cstride) = (w.div_ceil(2), h.div_ceil(2), stride / 2);
    let mut out = Vec::with_capacity(w * h + 2 * cw * ch);
    for row in data[..stride * h].chunks_exact(stride) {
        out.extend_from_slice(&row[..w]);
    }
    for row in data[stride * h..].chunks_exact(cstride).take(2 * ch) {
        out.extend_from_slice(&row[..cw]);
    }
    out
}

/// Where a JPEG that starts at `data[0]` ends (one past its end-of-image marker), `Ok(None)`
/// when more bytes are needed. Walks the segments by their lengths and the entropy-coded
/// data by its markers, so an embedded thumbnail's markers do not end the frame early.
pub fn jpeg_end(data: &[u8]) -> Result<Option<usize>, String> {
    if data.len() < 2 {
        return Ok(None);
    }
    if data[0] != 0xFF || data[1] != 0xD8 {
        return Err("the MJPEG stream does not start with a JPEG start-of-image marker".into());
    }
    let mut i = 2;
    let mut in_scan = false;
    loop {
        if in_scan {
            // Entropy-coded data: FF 00 is a stuffed byte, FF D0..D7 a restart marker.
            match data[i..].iter().position(|&b| b == 0xFF) {
                None => return Ok(None),
                Some(p) => i += p,
            }
            let Some(&m) = data.get(i + 1) else {
                return Ok(None);
            };
            if m == 0x00 || (0xD0..=0xD7).contains(&m) || m == 0xFF {
                i += if m == 0xFF { 1 } else { 2 };
                continue;
            }
            in_scan = false;
            continue;
        }
        let Some(&[ff, marker]) = data.get(i..i + 2).map(|s| <&[u8; 2]>::try_from(s).unwrap())
        else {
            return Ok(None);
        };
        if ff != 0xFF {
            return Err(format!(
                "corrupt MJPEG stream: no marker at byte {i} of a frame"
            ));
        }
        match marker {
            0xFF => i += 1,
            0xD9 => return Ok(Some(i + 2)),
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let Some(len) = data.get(i + 2..i + 4) else {
                    return Ok(None);
                };
                let len = u16::from_be_bytes([len[0], len[1]]) as usize;
                if len < 2 {
                    return Err(format!("corrupt MJPEG stream: segment length {len}"));
                }
                i += 2 + len;
                in_scan = marker == 0xDA;
                if i > data.len() {
                    return Ok(None);
                }
            }
        }
    }
}

/// A frame bigger than this in the MJPEG stream is corruption, not a frame.
const MAX_JPEG: usize = 32 << 20;

/// A running rpicam-vid.
pub struct RpiCam {
    child: Child,
    stdout: ChildStdout,
    opts: Options,
    origin: String,
    /// Bytes read and not yet handed out (MJPEG).
    pending: Vec<u8>,
    sequence: u64,
    stderr_log: Option<std::thread::JoinHandle<()>>,
}

impl RpiCam {
    /// Starts the program. Fails when it is not installed or cannot start; a program that
    /// starts and dies fails in [`next_frame`](FrameSource::next_frame).
    pub fn open(opts: &Options) -> Result<RpiCam, Error> {
        let program = match &opts.program {
            Some(p) => p.clone(),
            None => find_program().ok_or_else(|| Error::BadInput {
                path: "rpicam-vid".into(),
                msg: "neither rpicam-vid nor libcamera-vid is on PATH (on Raspberry Pi OS: \
                      sudo apt install rpicam-apps)"
                    .into(),
            })?,
        };
        if opts.width == 0 || opts.height == 0 || opts.width % 2 == 1 || opts.height % 2 == 1 {
            return Err(Error::BadInput {
                path: program.clone(),
                msg: format!(
                    "frame size {}x{}: width and height must be even",
                    opts.width, opts.height
                ),
            });
        }
        // A named program must be an executable file: said here, before a spawn whose exec
        // failure some environments (qemu-user) report only as a child that exits at once.
        match executable(&program) {
            Ok(true) => {}
            Ok(false) => {
                return Err(Error::Runtime(format!(
                    "{}: cannot start: not an executable file",
                    program.display()
                )))
            }
            Err(e) if program.components().count() > 1 => {
                return Err(Error::Runtime(format!(
                    "{}: cannot start: {e}",
                    program.display()
                )))
            }
            // A bare name is looked up on PATH by the spawn.
            Err(_) => {}
        }
        let name = program
            .file_name()
            .map_or("rpicam-vid".into(), |n| n.to_string_lossy().into_owned());
        let mut child = Command::new(&program)
            .args(opts.args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // systemd's notification socket is breedcam's, not the camera's.
            .env_remove("NOTIFY_SOCKET")
            // Its own process group: stopping it stops whatever it started too.
            .process_group(0)
            .spawn()
            .map_err(|e| Error::Runtime(format!("{}: cannot start: {e}", program.display())))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let log_name = name.clone();
        let stderr_log = std::thread::Builder::new()
            .name("rpicam-stderr".into())
            .spawn(move || {
                for line in std::io::BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    // At warn: the service logs warnings only, and what the camera
                    // program says is what explains a camera that fails.
                    if !line.trim().is_empty() {
                        log::warn!("{log_name}: {line}");
                    }
                }
            })
            .ok();
        log::info!(
            "started {} {} (pid {})",
            program.display(),
            opts.args().join(" "),
            child.id()
        );
        let origin = format!("{name} (pid {})", child.id());
        Ok(RpiCam {
            child,
            stdout,
            opts: opts.clone(),
            origin,
            pending: vec![],
            sequence: 0,
            stderr_log,
        })
    }

    /// Reads some bytes into `buf`, waiting at most until `deadline`.
    fn fill(&mut self, buf: &mut [u8], deadline: Instant) -> Result<usize, Error> {
        let fd = self.stdout.as_raw_fd();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.gone(format!(
                    "no frame for {:.1} s (stalled)",
                    self.wait_limit().as_secs_f64()
                )));
            }
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            let ms = left.as_millis().clamp(1, i32::MAX as u128) as i32;
            // SAFETY: one valid pollfd for the duration of the call.
            let r = unsafe { libc::poll(&mut pfd, 1, ms) };
            if r < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(self.gone(format!("poll: {e}")));
            }
            if r == 0 {
                continue;
            }
            return match self.stdout.read(buf) {
                Ok(0) => Err(self.gone("stopped writing frames".into())),
                Ok(n) => Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => Err(self.gone(format!("reading its output: {e}"))),
            };
        }
    }

    fn wait_limit(&self) -> Duration {
        if self.sequence == 0 {
            self.opts.first_frame
        } else {
            self.opts.stall
        }
    }

    /// The error for a child that ended or stalled, with its exit status when it has one.
    fn gone(&mut self, why: String) -> Error {
        let status = match self.child.try_wait() {
            Ok(Some(s)) => format!(", {s}"),
            _ => String::new(),
        };
        Error::Runtime(format!("{}: {why}{status}", self.origin))
    }

    fn next_yuv(&mut self) -> Result<Vec<u8>, Error> {
        let (_, size) = yuv420_layout(self.opts.width, self.opts.height);
        let deadline = Instant::now() + self.wait_limit();
        let mut buf = vec![0u8; size];
        let mut filled = 0;
        while filled < size {
            filled += self.fill(&mut buf[filled..], deadline)?;
        }
        Ok(unpad_yuv420(&buf, self.opts.width, self.opts.height))
    }

    fn next_jpeg(&mut self) -> Result<Vec<u8>, Error> {
        let deadline = Instant::now() + self.wait_limit();
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            match jpeg_end(&self.pending) {
                Ok(Some(end)) => {
                    let rest = self.pending.split_off(end);
                    return Ok(std::mem::replace(&mut self.pending, rest));
                }
                Ok(None) if self.pending.len() > MAX_JPEG => {
                    return Err(self.gone(format!("no JPEG end within {} MB", MAX_JPEG >> 20)))
                }
                Ok(None) => {}
                Err(e) => return Err(self.gone(e)),
            }
            let n = self.fill(&mut chunk, deadline)?;
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }
}

impl FrameSource for RpiCam {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let (format, data) = match self.opts.codec {
            Codec::Yuv420 => (Format::Yu12, self.next_yuv()?),
            Codec::Mjpeg => (Format::Mjpeg, self.next_jpeg()?),
        };
        self.sequence += 1;
        Ok(Frame {
            format,
            width: self.opts.width,
            height: self.opts.height,
            data,
            sequence: self.sequence,
            origin: self.origin.clone(),
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} {}x{} {} at {} fps",
            self.origin,
            self.opts.width,
            self.opts.height,
            self.opts.codec.arg(),
            self.opts.framerate
        )
    }
}

impl Drop for RpiCam {
    /// Stops the child's process group (SIGTERM, SIGKILL after a second) and reaps it.
    fn drop(&mut self) {
        let pgid = self.child.id() as libc::pid_t;
        let signal_group = |sig| {
            // SAFETY: kill(2) on the child's own process group (it was started with
            // process_group(0), so its pgid is its pid).
            unsafe { libc::kill(-pgid, sig) };
        };
        if let Ok(None) = self.child.try_wait() {
            signal_group(libc::SIGTERM);
            let until = Instant::now() + Duration::from_secs(1);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Anything left in the group (the child's own children) goes too.
        signal_group(libc::SIGKILL);
        let _ = self.child.wait();
        if let Some(t) = self.stderr_log.take() {
            let _ = t.join();
        }
    }
}

/// For `breedcam cameras`: one line on rpicam-vid (`program`: what [`find_program`] found).
pub fn describe_program(program: Option<&std::path::Path>) -> String {
    match program {
        Some(p) => format!(
            "rpicam: {} (a Pi camera module: --source rpicam)",
            p.display()
        ),
        None => "rpicam: neither rpicam-vid nor libcamera-vid on PATH (for a Pi camera \
                 module: sudo apt install rpicam-apps)"
            .into(),
    }
}

/// `--source rpicam`'s settings from the kiosk's: `--camera-format` picks the codec
/// (YU12/I420/yuv420 or MJPEG), `rpicam_args` are passed on.
pub fn configure(
    opts: &mut Options,
    format: Option<&str>,
    extra: Option<Vec<String>>,
) -> Result<(), Error> {
    if let Some(name) = format {
        opts.codec = Codec::parse(name).ok_or_else(|| {
            Error::usage(
                "--camera-format",
                format!("{name}: rpicam-vid's frames are YU12 (yuv420) or MJPEG"),
            )
        })?;
    }
    opts.extra = extra.unwrap_or_default();
    Ok(())
}
