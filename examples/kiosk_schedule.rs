//! The kiosk with localisation on a live source, for each locator schedule: screens per
//! second, the longest wait between two screens (a freeze), capture-to-screen latency and
//! the locator's runs. The source is one photo served as a live camera at 30 frames/s
//! (RGB3, so decoding costs nothing); the screen is drawn at 800x480 and not shown.
//!
//! ```text
//! cargo run --release --example kiosk_schedule -- PHOTO [SCREENS] [LOCATOR] [SCHEDULES]
//! cargo run --release --example kiosk_schedule -- ../shared/data/photos/pets.jpg 60 seg thread,1,4,8,off
//! ```
//!
//! SCHEDULES: `thread` (the locator's own thread), a number k (in the worker on every k-th
//! frame), `off` (no locator).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use breedcam::camera::{Format, Frame, FrameSource};
use breedcam::display::Display;
use breedcam::kiosk::{run, Options, Schedule};
use breedcam::locate::LocateMode;
use breedcam::model::{Classifier, LoadOptions, ModelSource};
use breedcam::overlay::{Canvas, View};
use breedcam::preprocess::{load_image, Crop};
use breedcam::Error;

/// One picture as a camera delivering `fps` frames per second.
struct Still {
    frame: Frame,
    every: Duration,
    next: Instant,
}

impl FrameSource for Still {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let now = Instant::now();
        if self.next > now {
            std::thread::sleep(self.next - now);
        }
        self.next += self.every;
        self.frame.sequence += 1;
        Ok(self.frame.clone())
    }
    fn describe(&self) -> String {
        "still".into()
    }
}

/// Draws nothing; keeps the time of each screen and how many showed dog boxes.
struct Clock {
    at: Vec<Instant>,
    boxed: usize,
}

impl Display for Clock {
    fn size(&self) -> (u32, u32) {
        (800, 480)
    }
    fn present(&mut self, _: &Canvas) -> Result<(), Error> {
        self.at.push(Instant::now());
        Ok(())
    }
    fn describe(&self) -> String {
        "clock".into()
    }
    fn present_view(
        &mut self,
        canvas: &Canvas,
        view: &View,
        _: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        self.boxed += usize::from(!view.dogs.is_empty());
        self.present(canvas)
    }
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let photo = args
        .first()
        .ok_or("usage: kiosk_schedule PHOTO [SCREENS] [LOCATOR] [SCHEDULES]")?;
    let screens: u64 = args
        .get(1)
        .map_or(Ok(60), |s| s.parse())
        .map_err(|e| format!("{e}"))?;
    let locator = args.get(2).map_or("seg", |s| s.as_str());
    let schedules = args.get(3).map_or("thread,1,4,off", |s| s.as_str());
    let err = |e: Error| breedcam::error::Report(&e).to_string();
    let picture = load_image(photo.as_ref()).map_err(err)?;
    let model =
        Classifier::open(&ModelSource::default_model(), &LoadOptions::default()).map_err(err)?;
    let locate = LocateMode::parse(Some(locator)).map_err(err)?;
    let opened: Option<Arc<dyn breedcam::locate::Locate>> =
        locate.open().map_err(err)?.map(Arc::from);
    println!("schedule | screens/s | longest gap ms | screens with boxes | latency p50/p90 ms | locator runs | locate p50/p90 ms");
    for s in schedules.split(',') {
        let (schedule, locator) = match s {
            "off" => (Schedule::Thread, None),
            "thread" => (Schedule::Thread, opened.clone()),
            k => (
                Schedule::EveryKth(k.parse().map_err(|e| format!("{k}: {e}"))?),
                opened.clone(),
            ),
        };
        let frame = Frame {
            format: Format::Rgb3,
            width: picture.width(),
            height: picture.height(),
            data: picture.as_raw().clone(),
            sequence: 0,
            origin: photo.clone(),
        };
        let mut open = move || -> Result<Box<dyn FrameSource>, Error> {
            Ok(Box::new(Still {
                frame: frame.clone(),
                every: Duration::from_millis(33),
                next: Instant::now(),
            }))
        };
        let mut clock = Clock {
            at: vec![],
            boxed: 0,
        };
        let opts = Options {
            frames: Some(screens),
            crop: Crop::Centre,
            smoothing: 0.5,
            reopen_every: Duration::from_secs(1),
            workers: 1,
            locator,
            schedule,
        };
        let stats = run(
            &model,
            &mut open,
            &mut clock,
            &opts,
            &AtomicBool::new(false),
        )
        .map_err(err)?;
        let gap = clock
            .at
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
            .fold(0.0, f64::max);
        println!(
            "{s} | {:.2} | {gap:.0} | {}/{} | {:.0}/{:.0} | {} | {:.0}/{:.0}",
            stats.screens_per_second,
            clock.boxed,
            stats.presented,
            stats.latency_p50_ms,
            stats.latency_p90_ms,
            stats.located,
            stats.locate_p50_ms,
            stats.locate_p90_ms
        );
    }
    Ok(())
}
