//! `breedcam run`: the kiosk's flags (or its config file's keys, see [`super::config`]),
//! checked into [`Settings`], then the live loop until stopped, and its summary on stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::display::ViewLog;
use crate::kiosk::{default_threads, Options, Schedule};
use crate::preprocess::Crop;
use crate::Error;

use super::args::ModelArgs;
use super::signals::stop_on_signals;
use super::source::{parse_size, SourceSpec};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub kiosk: KioskArgs,
    /// A TOML file whose keys are these flags' names (see board/breedcam.toml);
    /// flags given on the command line win.
    #[arg(long)]
    pub config: Option<PathBuf>,
}

// The kiosk's own flags (`Args` adds the model's and --config).
#[derive(clap::Args)]
pub struct KioskArgs {
    /// A V4L2 camera (/dev/videoN, or a stable /dev/v4l/by-id/... link); `--source camera`
    /// takes the first capture device offering a format breedcam decodes (RGB3, BGR3, YU12,
    /// NV12, YUYV, MJPEG)
    #[arg(long)]
    pub camera: Option<String>,
    /// Size to capture at, WxH; the nearest the camera offers is used [default: 640x480]
    #[arg(long)]
    pub camera_size: Option<String>,
    /// Capture only this format (RGB3, BGR3, YU12, NV12, YUYV, MJPEG) [default: the cheapest
    /// to decode at the size]
    #[arg(long)]
    pub camera_format: Option<String>,
    /// `synthetic`, `camera`, `rpicam` (a Raspberry Pi camera module through rpicam-vid) or a
    /// folder of images (shown in a loop) [default: synthetic]
    #[arg(long)]
    pub source: Option<String>,
    /// With a folder as the source: seconds each photo stays on screen, at most 25 (the
    /// service's watchdog wants a screen every 30 s) [default: 5]
    #[arg(long)]
    pub dwell: Option<f64>,
    /// `fb:/dev/fbN`, `png:DIR` or `none` [default: none]
    #[arg(long)]
    pub display: Option<String>,
    /// With `png:DIR`: keep only the newest N screens (older frame files are deleted; the
    /// views log is rotated at 8 MiB) [default: 100]
    #[arg(long)]
    pub keep: Option<usize>,
    /// Append a JSON line per screen shown (headline, breeds, where the picture is) to this
    /// file, for any display
    #[arg(long)]
    pub views: Option<PathBuf>,
    /// Stop after this many screens [default: run until stopped]
    #[arg(long)]
    pub frames: Option<u64>,
    /// [default: centre]
    #[arg(long, value_enum)]
    pub crop: Option<Crop>,
    /// Find the dogs first: a segmenter (`seg`, `seg-small`, a TFLite file) or `off`
    /// [default: seg-small]
    #[arg(long, value_name = "off|MODEL")]
    pub locate: Option<String>,
    /// Weight of the newest frame in the moving average of probabilities, (0, 1]; 1 = none
    /// [default: 0.5]
    #[arg(long)]
    pub smoothing: Option<f32>,
    /// Size of the drawn screen for png / none; a framebuffer has its own [default: 800x480]
    #[arg(long)]
    pub screen: Option<String>,
    /// Inference threads [default: the cores less one for capture and display, at least 1]
    #[arg(long)]
    pub threads: Option<usize>,
    /// Frames in flight: inference workers, each on its own newest frame, sharing the threads
    /// (each worker gets threads / workers of them) [default: 1, all threads on one frame]
    #[arg(long)]
    pub workers: Option<usize>,
    /// With `--source rpicam`: one more rpicam-vid option, as many times as needed
    /// (`--rpicam-arg=--rotation --rpicam-arg=180`); in the config file a list,
    /// `rpicam_args = ["--rotation", "180"]`
    #[arg(
        long = "rpicam-arg",
        id = "rpicam_args",
        value_name = "ARG",
        allow_hyphen_values = true
    )]
    pub rpicam_args: Option<Vec<String>>,
}

/// Seconds a folder's photo stays on screen by default.
pub const DEFAULT_DWELL: f64 = 5.0;

/// The longest `--dwell`: each screen pings systemd's watchdog (`WatchdogSec=30` in
/// board/breedcam.service), so a screen must come well within 30 s.
pub const MAX_DWELL: f64 = 25.0;

/// The kiosk's flags with their defaults filled in and checked.
pub struct Settings {
    pub source: SourceSpec,
    pub display: String,
    pub views: Option<PathBuf>,
    pub screen: (u32, u32),
    /// Screens `png:DIR` keeps.
    pub keep: usize,
    pub threads: usize,
    /// `--locate`, checked; opened into `options.locator` when the kiosk starts.
    pub locate: crate::locate::LocateMode,
    pub options: Options,
}

impl Settings {
    pub fn from_args(k: &KioskArgs) -> Result<Settings, Error> {
        let mut source = SourceSpec::resolve(
            k.source.as_deref(),
            k.camera.as_deref(),
            k.camera_size.as_deref(),
        )?;
        source.configure(k.camera_format.as_deref(), k.rpicam_args.clone())?;
        let dwell = k.dwell.unwrap_or(DEFAULT_DWELL);
        if !(0.0..=MAX_DWELL).contains(&dwell) {
            return Err(Error::usage(
                "--dwell",
                format!("{dwell}: must be 0 to {MAX_DWELL} seconds"),
            ));
        }
        source.set_dwell(Duration::from_secs_f64(dwell));
        let smoothing = k.smoothing.unwrap_or(0.5);
        if !(smoothing > 0.0 && smoothing <= 1.0) {
            return Err(Error::usage("--smoothing", "must be in (0, 1]"));
        }
        let screen = parse_size(k.screen.as_deref().unwrap_or("800x480"))?;
        let keep = k.keep.unwrap_or(crate::display::png::DEFAULT_KEEP);
        if keep == 0 {
            return Err(Error::usage("--keep", "must be at least 1"));
        }
        let threads = k.threads.unwrap_or_else(default_threads);
        // One frame at a time on all threads measured better than frames in flight on the
        // 2-core development machine (docs/performance.md, "Threads").
        let workers = k.workers.unwrap_or(1);
        if threads == 0 || workers == 0 || workers > threads {
            return Err(Error::usage(
                "--threads",
                format!(
                    "{threads} thread(s) for {workers} worker(s): need 1 <= workers <= threads"
                ),
            ));
        }
        crate::engine::threads::check_threads(threads)?;
        let locate = crate::locate::LocateMode::parse(k.locate.as_deref())?;
        Ok(Settings {
            locate,
            source,
            display: k.display.clone().unwrap_or_else(|| "none".into()),
            views: k.views.clone(),
            screen,
            keep,
            threads,
            options: Options {
                frames: k.frames,
                crop: k.crop.unwrap_or_default(),
                smoothing,
                reopen_every: Duration::from_secs(1),
                workers,
                // `--locate`, opened with the model in `run`.
                locator: None,
                schedule: Schedule::Thread,
            },
        })
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let Settings {
        source,
        display,
        views,
        screen: (w, h),
        keep,
        threads,
        mut options,
        locate,
    } = Settings::from_args(&args.kiosk)?;
    options.locator = locate.open()?.map(std::sync::Arc::from);
    let workers = options.workers;
    crate::model::set_threads(threads / workers)?;
    let stop = stop_on_signals();
    let model = args.model.load()?;
    let mut screen = crate::display::open_keeping(&display, w, h, keep)?;
    if let Some(path) = views {
        screen = Box::new(ViewLog::new(screen, path)?);
    }
    // Fail at start-up on a source that cannot open (a camera that is not there: systemd
    // restarts the service until it is); later failures show "camera lost" and are reopened.
    let mut first = Some(source.open()?);
    let mut open = move || match first.take() {
        Some(s) => Ok(s),
        None => source
            .open()
            .map_err(|e| Error::Runtime(crate::error::Report(&e).to_string())),
    };
    let stats = crate::kiosk::run(&model, &mut open, screen.as_mut(), &options, stop)?;
    log::info!("{}", serde_json::to_string(&stats)?);
    if !super::quiet() {
        eprintln!(
            "breedcam: {} screens, {} frames captured, {} dropped as stale, {} bad frames skipped, \
             {} driver error buffers skipped, {} frames missed by the driver, {} reopens",
            stats.presented,
            stats.captured,
            stats.dropped,
            stats.bad_frames,
            stats.driver_errors,
            stats.missed,
            stats.reopened
        );
        eprintln!(
            "breedcam: {threads} thread(s), {workers} worker(s): {:.2} screens/s, capture to screen p50 {:.1} ms, p90 {:.1} ms",
            stats.screens_per_second, stats.latency_p50_ms, stats.latency_p90_ms
        );
    }
    Ok(ExitCode::SUCCESS)
}
