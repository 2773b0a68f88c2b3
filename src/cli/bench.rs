//! `breedcam bench`: the field benchmark's flags, checked into the library's
//! [`crate::bench::Options`], and its report as text or JSON.

use std::process::ExitCode;

use crate::bench::Options;
use crate::preprocess::Crop;
use crate::Error;

use super::args::{LocateArgs, ModelArgs};
use super::source::{parse_size, SourceSpec};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub locate: LocateArgs,
    /// `synthetic` (made-up 640x480 JPEG frames), `camera` or a folder of images
    /// [default: synthetic, or camera with --camera]
    #[arg(long)]
    pub source: Option<String>,
    /// The V4L2 camera for `--source camera` [default: the first capture device]
    #[arg(long)]
    pub camera: Option<String>,
    /// Size to capture at, WxH [default: 640x480]
    #[arg(long)]
    pub camera_size: Option<String>,
    /// Timed frames.
    #[arg(long, default_value_t = 50)]
    pub frames: usize,
    /// Untimed frames first.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Inference threads (breedcam's pool, which runs its int8 ops on them).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    #[arg(long, value_enum, default_value_t = Crop::Centre)]
    pub crop: Crop,
    /// `none` or `png:DIR`.
    #[arg(long, default_value = "none")]
    pub display: String,
    /// Screen size the overlay is drawn at.
    #[arg(long, default_value = "800x480")]
    pub screen: String,
    /// Afterwards, time the overlay alone at these screen sizes (WxH,WxH,...; "" for none).
    #[arg(long, default_value = "480x320,1280x800,1920x1080")]
    pub overlay_sizes: String,
    /// One self-describing JSON record.
    #[arg(long)]
    pub json: bool,
}

/// The flags, checked.
struct Settings {
    source: SourceSpec,
    screen: (u32, u32),
    options: Options,
}

impl Settings {
    fn from_args(args: &Args) -> Result<Settings, Error> {
        let source = SourceSpec::resolve(
            args.source.as_deref(),
            args.camera.as_deref(),
            args.camera_size.as_deref(),
        )?;
        let screen = parse_size(&args.screen)?;
        let overlay_sizes = args
            .overlay_sizes
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_size(s.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        if args.frames == 0 || args.threads == 0 {
            return Err(Error::usage("bench", "at least one frame and one thread"));
        }
        crate::engine::threads::check_threads(args.threads)?;
        Ok(Settings {
            source,
            screen,
            options: Options {
                frames: args.frames,
                warmup: args.warmup,
                threads: args.threads,
                crop: args.crop,
                locate: args.locate.mode()?.describe(),
                overlay_sizes,
            },
        })
    }
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let settings = Settings::from_args(args)?;
    if settings.options.threads > 1 {
        crate::model::set_threads(settings.options.threads)?;
    }
    let mut src = settings.source.open()?;
    let model = args.model.load()?;
    let locator = args.locate.mode()?.open()?;
    let (w, h) = settings.screen;
    let mut screen = crate::display::open(&args.display, w, h)?;
    let report = crate::bench::run(
        &model,
        locator.as_deref(),
        src.as_mut(),
        screen.as_mut(),
        &settings.options,
    )?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", crate::bench::text::render(&report));
    }
    Ok(ExitCode::SUCCESS)
}
