//! The `breedcam` command line: parse, set up logging, call the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use breedcam::model::{Classifier, LoadOptions, ModelSource, Tta};
use breedcam::preprocess::{load_image, Crop};
use breedcam::scores::{verdict, Verdict};

#[derive(Parser)]
#[command(
    name = "breedcam",
    version,
    about = "Dog-breed classifier: int8 TFLite on tract, for a Raspberry Pi kiosk"
)]
struct Cli {
    /// More logging (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ModelArgs {
    /// A committed model by name (lite2, lite0, lite0-seed: embedded in the binary) or a
    /// TFLite file [default: lite2, or the file $BREEDCAM_MODEL]
    #[arg(long, short)]
    model: Option<PathBuf>,
    /// The model's class labels (`name` or `wnid<TAB>name` per line) [default: sidecar, or
    /// built-in ImageNet]
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Input normalisation mean, 1 or 3 values (overrides the model's metadata)
    #[arg(long, value_delimiter = ',', requires = "std")]
    mean: Option<Vec<f32>>,
    /// Input normalisation std, 1 or 3 values
    #[arg(long, value_delimiter = ',', requires = "mean")]
    std: Option<Vec<f32>>,
}

impl ModelArgs {
    /// The model: `--model` resolved (a name or a path), else the default.
    fn source(&self) -> anyhow::Result<ModelSource> {
        Ok(match &self.model {
            Some(m) => ModelSource::resolve(m)?,
            None => ModelSource::default_model(),
        })
    }

    fn load(&self) -> anyhow::Result<Classifier> {
        let source = self.source()?;
        let opts = LoadOptions {
            labels: self.labels.clone(),
            mean: self.mean.clone(),
            std: self.std.clone(),
        };
        let started = std::time::Instant::now();
        // The library's errors already name the model file.
        let c = Classifier::open(&source, &opts)?;
        log::info!(
            "loaded {} in {:.0} ms",
            source.path().display(),
            started.elapsed().as_secs_f64() * 1e3
        );
        Ok(c)
    }
}

/// The kiosk's settings: flags of `breedcam run`, or keys of its `--config` TOML file.
#[derive(clap::Args, serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct KioskArgs {
    /// A V4L2 camera (/dev/videoN, or a stable /dev/v4l/by-id/... link); `--source camera`
    /// takes the first capture device offering a format breedcam decodes (RGB3, BGR3, YU12,
    /// NV12, YUYV, MJPEG)
    #[arg(long)]
    camera: Option<String>,
    /// Size to capture at, WxH; the nearest the camera offers is used [default: 640x480]
    #[arg(long)]
    camera_size: Option<String>,
    /// Capture only this format (RGB3, BGR3, YU12, NV12, YUYV, MJPEG) [default: the cheapest
    /// to decode at the size]
    #[arg(long)]
    camera_format: Option<String>,
    /// `synthetic`, `camera`, `rpicam` (a Raspberry Pi camera module through rpicam-vid) or a
    /// folder of images (shown in a loop) [default: synthetic]
    #[arg(long)]
    source: Option<String>,
    /// `fb:/dev/fbN`, `png:DIR` or `none` [default: none]
    #[arg(long)]
    display: Option<String>,
    /// Append a JSON line per screen shown (headline, breeds, where the picture is) to this
    /// file, for any display
    #[arg(long)]
    views: Option<PathBuf>,
    /// Stop after this many screens [default: run until stopped]
    #[arg(long)]
    frames: Option<u64>,
    /// [default: centre]
    #[arg(long, value_enum)]
    crop: Option<Crop>,
    /// Weight of the newest frame in the moving average of probabilities, (0, 1]; 1 = none
    /// [default: 0.5]
    #[arg(long)]
    smoothing: Option<f32>,
    /// Size of the drawn screen for png / none; a framebuffer has its own [default: 800x480]
    #[arg(long)]
    screen: Option<String>,
    /// Inference threads [default: the cores less one for capture and display, at least 1]
    #[arg(long)]
    threads: Option<usize>,
    /// Frames in flight: inference workers, each on its own newest frame, sharing the threads
    /// (each worker gets threads / workers of them) [default: 1, all threads on one frame]
    #[arg(long)]
    workers: Option<usize>,
    /// With `--source rpicam`: one more rpicam-vid option, as many times as needed
    /// (`--rpicam-arg=--rotation --rpicam-arg=180`); in the config file a list,
    /// `rpicam_args = ["--rotation", "180"]`
    #[arg(long = "rpicam-arg", value_name = "ARG", allow_hyphen_values = true)]
    rpicam_args: Option<Vec<String>>, // issue 25
    /// Config file only (the flag is --model).
    #[arg(skip)]
    model: Option<PathBuf>,
    /// Config file only (the flag is --labels).
    #[arg(skip)]
    labels: Option<PathBuf>,
}

impl KioskArgs {
    /// Each setting from `self`, else from `other`. Where frames come from (`camera`,
    /// `source`) is one setting: given in `self` at all, `other`'s is ignored.
    fn or(self, other: KioskArgs) -> KioskArgs {
        let (camera, source) = if self.camera.is_some() || self.source.is_some() {
            (self.camera, self.source)
        } else {
            (other.camera, other.source)
        };
        KioskArgs {
            camera,
            source,
            camera_size: self.camera_size.or(other.camera_size),
            camera_format: self.camera_format.or(other.camera_format),
            display: self.display.or(other.display),
            views: self.views.or(other.views),
            frames: self.frames.or(other.frames),
            crop: self.crop.or(other.crop),
            smoothing: self.smoothing.or(other.smoothing),
            screen: self.screen.or(other.screen),
            threads: self.threads.or(other.threads),
            workers: self.workers.or(other.workers),
            rpicam_args: self.rpicam_args.or(other.rpicam_args), // issue 25
            model: self.model.or(other.model),
            labels: self.labels.or(other.labels),
        }
    }
}

const TRUTH_HELP: &str = "\
--labels FILE (or --truth FILE) with a ground-truth file: one JSON object, photo -> list of
acceptable classes, e.g.
  {\"ILSVRC2012_val_00000001.JPEG\": [65], \"dogs/rex.jpg\": [\"n02109961\", 250], \"blur.jpg\": []}
A key is the photo's path relative to DIR ('/' between folders). A class is a 0-based
ImageNet-1k index (0..=999, sorted-WordNet-id order as in ReaL; the same for 1001-class
models) or a WordNet id. [] = no valid label: left out and counted. A photo is right at
top-k when any acceptable class is in its top k. Every entry must name a photo under DIR;
photos with no entry are not scored (counted as unlabelled). Dog breeds: the 121 ImageNet
dog classes (151..=268 and 273..=275).";

#[derive(Subcommand)]
enum Command {
    /// Print the most likely dog breeds for each image.
    Classify {
        #[command(flatten)]
        model: ModelArgs,
        /// How many breeds to list.
        #[arg(long, short = 'k', default_value_t = 3)]
        top: usize,
        /// How the picture is fitted to the model's square input.
        #[arg(long, value_enum, default_value_t = Crop::Centre)]
        crop: Crop,
        /// Test-time augmentation: `flip` averages the picture and its mirror image (2x time).
        #[arg(long, value_enum, default_value_t = Tta::None)]
        tta: Tta,
        /// One JSON object per image, one per line.
        #[arg(long)]
        json: bool,
        /// Images (JPEG, PNG, BMP).
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Accuracy on a labelled folder: Stanford-Dogs layout (`n02085620-Chihuahua/*.jpg`) or
    /// ImageNet-style file names (`n02085620_*.JPEG`); the label is the WordNet id. Or
    /// several acceptable classes per photo from a ground-truth file (--labels / --truth).
    #[command(after_help = TRUTH_HELP)]
    Eval {
        #[command(flatten)]
        model: ModelArgs,
        /// A second model (name or file) to run on the same photos, side by side with
        /// per-photo agreement.
        #[arg(long)]
        compare: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Crop::Centre)]
        crop: Crop,
        /// Test-time augmentation: `flip` averages the picture and its mirror image (2x time).
        #[arg(long, value_enum, default_value_t = Tta::None)]
        tta: Tta,
        /// The whole report (per breed, per photo) as one JSON object.
        #[arg(long)]
        json: bool,
        /// Ground truth from this JSON file instead of folder or file names (format below;
        /// `--labels FILE` takes it too when FILE is a JSON object).
        #[arg(long, value_name = "FILE")]
        truth: Option<PathBuf>,
        dir: PathBuf,
    },
    /// The kiosk: frames -> top-3 breeds on the screen, until stopped (SIGINT / SIGTERM).
    Run {
        #[command(flatten)]
        model: ModelArgs,
        #[command(flatten)]
        kiosk: KioskArgs,
        /// A TOML file whose keys are these flags' names (see board/breedcam.toml);
        /// flags given on the command line win.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// List the V4L2 devices: driver, card, bus, formats, frame sizes and rates.
    Cameras,
    /// Field benchmark: per-stage latency (p50/p90/p99/max), fps, peak memory, board facts.
    Bench {
        #[command(flatten)]
        model: ModelArgs,
        /// `synthetic` (made-up 640x480 JPEG frames), `camera` or a folder of images
        /// [default: synthetic, or camera with --camera]
        #[arg(long)]
        source: Option<String>,
        /// The V4L2 camera for `--source camera` [default: the first capture device]
        #[arg(long)]
        camera: Option<String>,
        /// Size to capture at, WxH [default: 640x480]
        #[arg(long)]
        camera_size: Option<String>,
        /// Timed frames.
        #[arg(long, default_value_t = 50)]
        frames: usize,
        /// Untimed frames first.
        #[arg(long, default_value_t = 5)]
        warmup: usize,
        /// Threads for tract's matrix products.
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[arg(long, value_enum, default_value_t = Crop::Centre)]
        crop: Crop,
        /// `none` or `png:DIR`.
        #[arg(long, default_value = "none")]
        display: String,
        /// Screen size the overlay is drawn at.
        #[arg(long, default_value = "800x480")]
        screen: String,
        /// Afterwards, time the overlay alone at these screen sizes (WxH,WxH,...; "" for none).
        #[arg(long, default_value = "480x320,1280x800,1920x1080")]
        overlay_sizes: String,
        /// One self-describing JSON record.
        #[arg(long)]
        json: bool,
    },
    /// Write an image's input tensor (raw bytes, the model's dtype and shape) to a file:
    /// the same bytes the golden tests feed to TFLite's reference interpreter.
    #[command(hide = true)]
    Tensor {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long, value_enum, default_value_t = Crop::Centre)]
        crop: Crop,
        /// With several images: a directory, written as DIR/<image file name>.bin.
        out: PathBuf,
        #[arg(required = true)]
        images: Vec<PathBuf>,
    },
    /// Run the model on a raw input tensor file; write the raw output tensor.
    #[command(hide = true)]
    RunRaw {
        #[command(flatten)]
        model: ModelArgs,
        input: PathBuf,
        out: PathBuf,
    },
    /// Describe a model: input/output, quantization, normalisation, op histogram, labels.
    Info {
        #[command(flatten)]
        model: ModelArgs,
        #[arg(long)]
        json: bool,
    },
}

/// Exit code 2 when the user gave something unusable, 1 for failures while running.
fn exit_code(e: &anyhow::Error) -> u8 {
    let bad_input = e.chain().any(|c| {
        c.downcast_ref::<breedcam::Error>()
            .is_some_and(|e| e.is_bad_input())
            || c.downcast_ref::<breedcam::model::tflite::ImportError>()
                .is_some()
    });
    if bad_input {
        2
    } else {
        1
    }
}

fn main() -> ExitCode {
    // Like other Unix tools, end quietly when the reader of our output goes away
    // (`breedcam eval ... | head`) instead of panicking on a broken pipe.
    // SAFETY: resetting a signal disposition before any thread is started.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => log::LevelFilter::Error,
        (_, 0) => log::LevelFilter::Warn,
        (_, 1) => log::LevelFilter::Info,
        (_, 2) => log::LevelFilter::Debug,
        _ => log::LevelFilter::Trace,
    };
    // tract_linalg warns when /proc/cpuinfo lacks CPU feature lines, which is the case under
    // qemu-user but not on a Pi: keep that to -v so one-line errors stay one line.
    let linalg = if cli.verbose > 0 {
        level
    } else {
        log::LevelFilter::Error
    };
    simple_logger::SimpleLogger::new()
        .with_level(level)
        .with_module_level("tract_linalg", linalg)
        .init()
        .ok();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("breedcam: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Classify {
            model,
            top,
            crop,
            tta,
            json,
            images,
        } => classify(&model, top, crop, tta, json, &images),
        Command::Info { model, json } => info(&model, json),
        Command::Run {
            model,
            kiosk: flags,
            config,
        } => {
            let file = match &config {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(path).map_err(|e| breedcam::Error::io(path, e))?;
                    toml::from_str::<KioskArgs>(&text).map_err(|e| breedcam::Error::BadInput {
                        path: path.clone(),
                        msg: e.message().to_string(),
                    })?
                }
                None => KioskArgs::default(),
            };
            let model = ModelArgs {
                model: model.model.or(file.model.clone()),
                labels: model.labels.or(file.labels.clone()),
                ..model
            };
            kiosk(&model, flags.or(file))
        }
        Command::Cameras => cameras(),
        Command::Bench {
            model,
            source,
            camera,
            camera_size,
            frames,
            warmup,
            threads,
            crop,
            display,
            screen,
            overlay_sizes,
            json,
        } => {
            let spec =
                SourceSpec::resolve(source.as_deref(), camera.as_deref(), camera_size.as_deref())?;
            bench(
                &model,
                &spec,
                frames,
                warmup,
                threads,
                crop,
                &display,
                (&screen, &overlay_sizes),
                json,
            )
        }
        Command::Eval {
            model,
            compare,
            crop,
            tta,
            json,
            truth,
            dir,
        } => eval(
            &model,
            compare.as_deref(),
            crop,
            tta,
            json,
            truth.as_deref(),
            &dir,
        ),
        Command::Tensor {
            model,
            crop,
            images,
            out,
        } => {
            let c = model.load()?;
            let pre = c.preprocessor(crop)?;
            for image in &images {
                let t = pre.prepare(&load_image(image)?)?;
                let dest = match images.len() {
                    1 => out.clone(),
                    _ => out.join(format!(
                        "{}.bin",
                        image.file_name().unwrap_or_default().to_string_lossy()
                    )),
                };
                std::fs::write(&dest, breedcam::model::tensor_bytes(&t)?)
                    .with_context(|| format!("writing {}", dest.display()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::RunRaw { model, input, out } => {
            let c = model.load()?;
            let bytes =
                std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let t = c
                .tensor_from_bytes(&bytes)
                .map_err(|msg| breedcam::Error::BadInput {
                    path: input.clone(),
                    msg,
                })?;
            let y = c.run_raw(t)?;
            std::fs::write(&out, breedcam::model::tensor_bytes(&y)?)
                .with_context(|| format!("writing {}", out.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_verdict(path: &Path, v: &Verdict) {
    if v.is_dog {
        println!("{}: dog", path.display());
    } else {
        println!(
            "{}: no dog (saw {} {:.1}%)",
            path.display(),
            v.best.name,
            v.best.probability * 100.0
        );
    }
    for (i, p) in v.breeds.iter().enumerate() {
        println!("  {}. {:<32} {:5.1}%", i + 1, p.name, p.probability * 100.0);
    }
}

fn classify(
    args: &ModelArgs,
    top: usize,
    crop: Crop,
    tta: Tta,
    json: bool,
    images: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let c = args.load()?;
    let labels = c.labels.as_ref().with_context(|| {
        format!(
            "{}: no labels for a {}-class model: pass --labels FILE",
            c.path.display(),
            c.output.shape.last().unwrap_or(&0)
        )
    })?;
    let pre = c.preprocessor(crop)?;
    let mut failed = None;
    for path in images {
        let result = load_image(path).and_then(|img| c.run_tta(pre.prepare(&img)?, tta));
        match result {
            Ok(probs) => {
                let v = verdict(labels, &probs, top);
                if json {
                    println!(
                        "{}",
                        serde_json::json!({ "image": path, "dog": v.is_dog, "best": v.best, "breeds": v.breeds })
                    );
                } else {
                    print_verdict(path, &v);
                }
            }
            Err(e) => {
                // Keep going through the other images; report each failure, fail at the end.
                eprintln!("breedcam: {e}");
                failed = Some(if e.is_bad_input() { 2 } else { 1 });
            }
        }
    }
    Ok(failed.map_or(ExitCode::SUCCESS, ExitCode::from))
}

fn info(args: &ModelArgs, json: bool) -> anyhow::Result<ExitCode> {
    let source = args.source()?;
    let path = source.path();
    let origin = if source.is_embedded() {
        "embedded"
    } else {
        "file"
    };
    // Survey first: it works on models that do not load, and lists what is unsupported.
    let bytes = source.bytes()?;
    let survey =
        breedcam::model::tflite::survey(&bytes).map_err(|cause| breedcam::Error::Model {
            path: path.clone(),
            cause,
        })?;
    let loaded = if survey.unsupported.is_empty() {
        Some(args.load()?)
    } else {
        None
    };
    let about = breedcam::model::info::About {
        path: &path,
        origin,
        bytes: bytes.len(),
        survey: &survey,
        loaded: loaded.as_ref(),
    };
    if json {
        println!("{}", about.json());
    } else {
        print!("{}", about.text());
    }
    Ok(if survey.unsupported.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

fn eval(
    args: &ModelArgs,
    compare: Option<&Path>,
    crop: Crop,
    tta: Tta,
    json: bool,
    truth: Option<&Path>,
    dir: &Path,
) -> anyhow::Result<ExitCode> {
    use breedcam::eval::{agreement, collect, evaluate, Report};
    // `--labels FILE`: a JSON object is ground truth, anything else the model's class list.
    let labels_is_truth = args
        .labels
        .as_deref()
        .is_some_and(breedcam::truth::is_truth_file);
    if labels_is_truth && truth.is_some() {
        return Err(breedcam::Error::BadInput {
            path: args.labels.clone().unwrap_or_default(),
            msg: "a ground-truth file in both --labels and --truth; give one".into(),
        }
        .into());
    }
    let (truth, args) = if labels_is_truth {
        let model_only = ModelArgs {
            model: args.model.clone(),
            labels: None,
            mean: args.mean.clone(),
            std: args.std.clone(),
        };
        (args.labels.as_deref(), std::borrow::Cow::Owned(model_only))
    } else {
        (truth, std::borrow::Cow::Borrowed(args))
    };
    // The photos and their labels, before the models load (a bad file fails fast).
    let ground_truth = truth.map(breedcam::truth::Truth::load).transpose()?;
    let all = match &ground_truth {
        None => collect(dir)?,
        Some(t) => t.label(dir)?,
    };
    if all.labelled.is_empty() {
        return Err(breedcam::Error::BadInput {
            path: dir.into(),
            msg: match truth {
                None => "no labelled photos (nXXXXXXXX-Name/ or nXXXXXXXX_*.jpg)".into(),
                Some(f) => format!("no labelled photos ({} labels none of them)", f.display()),
            },
        }
        .into());
    }
    let mut models = vec![args.load()?];
    if let Some(m) = compare {
        let other = ModelArgs {
            model: Some(m.into()),
            labels: None,
            mean: None,
            std: None,
        };
        models.push(other.load()?);
    }
    if let Some(t) = &ground_truth {
        let labels: Vec<_> = models.iter().filter_map(|m| m.labels.as_ref()).collect();
        t.check_classes(&labels)?;
    }
    let (photos, unlabelled) = (&all.labelled, &all.unlabelled);
    let bar = indicatif::ProgressBar::new((photos.len() * models.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} photos {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let reports: Vec<Report> = models
        .iter()
        .map(|m| evaluate(m, crop, tta, photos, &|| bar.inc(1)))
        .collect::<Result<_, _>>()?;
    bar.finish_and_clear();
    if json {
        let mut j = serde_json::json!({
            "dir": dir, "crop": crop, "tta": tta, "truth": truth, "unlabelled": unlabelled,
            "no_valid_label": all.no_valid_label, "reports": reports
        });
        if let [a, b] = &reports[..] {
            let (both, same) = agreement(a, b);
            j["agreement"] = serde_json::json!({ "photos": both, "same_top1": same });
        }
        println!("{j}");
        return Ok(ExitCode::SUCCESS);
    }
    let labels: Vec<_> = models.iter().map(|m| m.labels.as_ref()).collect();
    print!(
        "{}",
        breedcam::eval::text::render(&reports, &labels, &all, truth)
    );
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
fn bench(
    args: &ModelArgs,
    source: &SourceSpec,
    frames: usize,
    warmup: usize,
    threads: usize,
    crop: Crop,
    display: &str,
    (screen, overlay_sizes): (&str, &str),
    json: bool,
) -> anyhow::Result<ExitCode> {
    use breedcam::bench::{run, Options};
    let (w, h) = parse_screen(screen)?;
    let overlay_sizes = overlay_sizes
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_screen(s.trim()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if frames == 0 || threads == 0 {
        return Err(breedcam::Error::BadInput {
            path: "bench".into(),
            msg: "at least one frame and one thread".into(),
        }
        .into());
    }
    if threads > 1 {
        breedcam::model::set_threads(threads);
    }
    let mut src = source.open()?;
    let model = args.load()?;
    let mut screen = breedcam::display::open(display, w, h)?;
    let report = run(
        &model,
        src.as_mut(),
        screen.as_mut(),
        &Options {
            frames,
            warmup,
            threads,
            crop,
            overlay_sizes,
        },
    )?;
    if json {
        println!("{}", serde_json::to_string(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", breedcam::bench::text::render(&report));
    Ok(ExitCode::SUCCESS)
}

/// `WxH`, 1..=8192 pixels a side (screens, capture sizes).
fn parse_screen(screen: &str) -> anyhow::Result<(u32, u32)> {
    let bad = || breedcam::Error::BadInput {
        path: screen.into(),
        msg: "a size must be WxH, 1..8192 a side".into(),
    };
    let (w, h) = screen.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if w == 0 || h == 0 || w > 8192 || h > 8192 {
        return Err(bad().into());
    }
    Ok((w, h))
}

/// Where frames come from.
enum SourceSpec {
    Synthetic,
    Folder(PathBuf),
    /// A V4L2 camera (`None`: the first capture device) at about this size.
    Camera(Option<PathBuf>, (u32, u32), Vec<breedcam::camera::Format>),
    /// issue 25: frames piped from rpicam-vid.
    Rpicam(breedcam::camera::rpicam::Options),
}

impl SourceSpec {
    /// From `--source`, `--camera` and `--camera-size`: `--camera DEV` alone or with
    /// `--source camera` is that camera, `--source camera` alone the first one.
    fn resolve(
        source: Option<&str>,
        camera: Option<&str>,
        size: Option<&str>,
    ) -> anyhow::Result<SourceSpec> {
        let size = match size {
            Some(s) => parse_screen(s)?,
            None => breedcam::camera::v4l2::DEFAULT_SIZE,
        };
        let all = breedcam::camera::v4l2::FORMATS.to_vec();
        Ok(match (source, camera) {
            (None | Some("camera"), Some(dev)) => SourceSpec::Camera(Some(dev.into()), size, all),
            (Some("camera"), None) => SourceSpec::Camera(None, size, all),
            (Some(other), Some(dev)) => {
                return Err(breedcam::Error::BadInput {
                    path: dev.into(),
                    msg: format!("--camera needs --source camera, not --source {other}"),
                }
                .into())
            }
            (None | Some("synthetic"), None) => SourceSpec::Synthetic,
            // issue 25
            (Some("rpicam"), None) => {
                SourceSpec::Rpicam(breedcam::camera::rpicam::Options::new(size.0, size.1))
            }
            (Some(dir), None) => SourceSpec::Folder(dir.into()),
        })
    }

    fn open(&self) -> anyhow::Result<Box<dyn breedcam::camera::FrameSource>> {
        use breedcam::camera::{v4l2::Camera, Files, Synthetic};
        Ok(match self {
            SourceSpec::Synthetic => Box::new(Synthetic::new(8, 640, 480)?),
            SourceSpec::Folder(dir) => Box::new(Files::new(dir)?),
            SourceSpec::Camera(dev, size, formats) => {
                Box::new(Camera::open_as(dev.as_deref(), *size, formats)?)
            }
            SourceSpec::Rpicam(o) => Box::new(breedcam::camera::rpicam::RpiCam::open(o)?), // issue 25
        })
    }
}

/// `breedcam cameras`: every /dev/video* node, described; exit code 1 when none is a
/// camera breedcam can use.
fn cameras() -> anyhow::Result<ExitCode> {
    let listing = breedcam::camera::list::list(Path::new("/dev"));
    // issue 25: whether rpicam-vid (the Pi camera module's route) is there, on the last line.
    let rpicam = breedcam::camera::rpicam::find_program();
    let rpicam_line = breedcam::camera::rpicam::describe_program(rpicam.as_deref());
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

static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn kiosk(args: &ModelArgs, k: KioskArgs) -> anyhow::Result<ExitCode> {
    use breedcam::pipeline::{run, Options};
    let mut source = SourceSpec::resolve(
        k.source.as_deref(),
        k.camera.as_deref(),
        k.camera_size.as_deref(),
    )?;
    // issue 25: rpicam-vid's codec (--camera-format) and extra options (rpicam_args).
    if let SourceSpec::Rpicam(o) = &mut source {
        breedcam::camera::rpicam::configure(o, k.camera_format.as_deref(), k.rpicam_args)?;
    } else if let Some(name) = &k.camera_format {
        let format =
            breedcam::camera::Format::parse(name).ok_or_else(|| breedcam::Error::BadInput {
                path: "--camera-format".into(),
                msg: format!("{name}: not one of RGB3, BGR3, YU12, NV12, YUYV, MJPEG"),
            })?;
        match &mut source {
            SourceSpec::Camera(_, _, formats) => *formats = vec![format],
            _ => {
                return Err(breedcam::Error::BadInput {
                    path: "--camera-format".into(),
                    msg: "needs a camera (--camera or --source camera)".into(),
                }
                .into())
            }
        }
    }
    let display = k.display.unwrap_or_else(|| "none".into());
    let (frames, crop, smoothing) = (
        k.frames,
        k.crop.unwrap_or_default(),
        k.smoothing.unwrap_or(0.5),
    );
    let screen = k.screen.unwrap_or_else(|| "800x480".into());
    if !(smoothing > 0.0 && smoothing <= 1.0) {
        return Err(breedcam::Error::BadInput {
            path: "--smoothing".into(),
            msg: "must be in (0, 1]".into(),
        }
        .into());
    }
    let (w, h) = parse_screen(&screen)?;
    let threads = k
        .threads
        .unwrap_or_else(breedcam::pipeline::default_threads);
    // One frame at a time on all threads measured better than frames in flight on the 2-core
    // development machine (README, "Threads").
    let workers = k.workers.unwrap_or(1);
    if threads == 0 || workers == 0 || workers > threads {
        return Err(breedcam::Error::BadInput {
            path: "--threads".into(),
            msg: format!(
                "{threads} thread(s) for {workers} worker(s): need 1 <= workers <= threads"
            ),
        }
        .into());
    }
    breedcam::model::set_threads(threads / workers);
    // SAFETY: installing an async-signal-safe handler (one atomic store).
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_stop_signal as *const () as libc::sighandler_t,
        );
        libc::signal(
            libc::SIGTERM,
            on_stop_signal as *const () as libc::sighandler_t,
        );
    }
    let model = args.load()?;
    let mut screen = breedcam::display::open(&display, w, h)?;
    if let Some(path) = k.views {
        screen = Box::new(breedcam::display::ViewLog::new(screen, path)?);
    }
    // Fail at start-up on a source that cannot open (a camera that is not there: systemd
    // restarts the service until it is); later failures show "camera lost" and are reopened.
    let first = source.open()?;
    let mut first = Some(first);
    let mut open = move || match first.take() {
        Some(s) => Ok(s),
        None => source
            .open()
            .map_err(|e| breedcam::Error::Runtime(format!("{e:#}"))),
    };
    let opts = Options {
        frames,
        crop,
        smoothing,
        reopen_every: std::time::Duration::from_secs(1),
        workers,
    };
    let stats = run(&model, &mut open, screen.as_mut(), &opts, &STOP)?;
    log::info!("{}", serde_json::to_string(&stats)?);
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
    Ok(ExitCode::SUCCESS)
}
