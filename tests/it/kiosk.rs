//! The kiosk loop (`breedcam run` and `kiosk::run`): real photos to PNG screens, a source
//! that fails mid-run and comes back, corrupt frames in the stream.

use crate::common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::common::{breedcam, path_str, stderr};
use breedcam::camera::{Format, Frame, FrameSource, Synthetic};
use breedcam::display::{Display, NoDisplay};
use breedcam::kiosk::{run, Options, Schedule};
use breedcam::model::{Classifier, LoadOptions};
use breedcam::preprocess::Crop;
use breedcam::Error;

#[test]
fn run_on_photos_names_the_breeds_and_says_no_dog_for_the_cat() {
    let Some(shared) = common::shared() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let display = format!("png:{}", out.path().display());
    let photos = shared.join("data/photos");
    let o = breedcam(&[
        "run",
        "--source",
        path_str(&photos),
        "--display",
        &display,
        "--frames",
        "9",
        "--smoothing",
        "1",
        "--dwell",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Files are shown in name order: cat, checker, dog_segmentation, dog_test_0, dog_train_0,
    // grace_hopper, hot_dog, owl, pets.
    let views: Vec<serde_json::Value> = std::fs::read_to_string(out.path().join("views.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(views.len(), 9);
    assert_eq!(views[0]["headline"], "No dog in view", "cat: {}", views[0]);
    assert_eq!(views[2]["breeds"][0][0], "Samoyed", "{}", views[2]);
    assert_eq!(
        views[5]["headline"], "No dog in view",
        "person: {}",
        views[5]
    );
    assert_eq!(
        views[6]["headline"], "No dog in view",
        "hot dog: {}",
        views[6]
    );
    for i in [2, 3, 4, 8] {
        assert!(
            views[i]["headline"].is_null() && views[i]["breeds"].as_array().unwrap().len() == 3,
            "{}",
            views[i]
        );
    }
    let first = image::open(out.path().join("frame-000001.png")).unwrap();
    assert_eq!((first.width(), first.height()), (800, 480));
    assert!(stderr(&o).contains("9 screens"), "{}", stderr(&o));
}

#[test]
fn frames_in_flight_are_shown_in_capture_order() {
    let Some(shared) = common::shared() else {
        return;
    };
    let photos = shared.join("data/photos");
    let views = |threads: &str| -> Vec<(serde_json::Value, serde_json::Value)> {
        let out = tempfile::tempdir().unwrap();
        let display = format!("png:{}", out.path().display());
        let o = breedcam(&[
            "run",
            "--source",
            path_str(&photos),
            "--display",
            &display,
            "--frames",
            "18",
            "--smoothing",
            "1",
            "--threads",
            threads,
            "--workers",
            threads,
            "--screen",
            "160x120",
            "--dwell",
            "0",
            // the subject is the workers' order, not the model: the smallest one
            "--model",
            "lite0",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("{threads} thread(s), {threads} worker(s)")),
            "{}",
            stderr(&o)
        );
        std::fs::read_to_string(out.path().join("views.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .map(|v| (v["headline"].clone(), v["breeds"].clone()))
            .collect()
    };
    // A folder is not live: no frame is dropped, so three workers must show exactly what one
    // shows, in the same order (the photos twice over), whichever worker finishes first.
    let one = views("1");
    assert_eq!(one.len(), 18);
    assert_eq!(views("3"), one);
}

#[test]
fn threads_and_workers_are_checked() {
    let o = breedcam(&["run", "--threads", "2", "--workers", "3", "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("need 1 <= workers <= threads"),
        "{}",
        stderr(&o)
    );
}

/// Synthetic frames; fails after `fail_after` frames, and every third frame is truncated.
struct Flaky {
    inner: Synthetic,
    served: usize,
    fail_after: usize,
}

impl FrameSource for Flaky {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        if self.served == self.fail_after {
            return Err(Error::Runtime(
                "/dev/video0: No such device (unplugged)".into(),
            ));
        }
        self.served += 1;
        let mut f = self.inner.next_frame()?;
        if self.served.is_multiple_of(3) {
            f.data.truncate(f.data.len() / 2);
        }
        assert_eq!(f.format, Format::Mjpeg);
        Ok(f)
    }
    fn describe(&self) -> String {
        "flaky".into()
    }
}

#[test]
fn the_loop_survives_an_unplugged_camera_and_corrupt_frames() {
    let model = Classifier::load(&common::default_model(), &LoadOptions::default()).unwrap();
    let opens = Arc::new(AtomicUsize::new(0));
    let counter = opens.clone();
    let mut open = move || -> Result<Box<dyn FrameSource>, Error> {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        // Open #2 fails too (still unplugged); the others work for 6 frames each.
        if n == 1 {
            return Err(Error::Runtime(
                "/dev/video0: No such file or directory".into(),
            ));
        }
        Ok(Box::new(Flaky {
            inner: Synthetic::new(2, 160, 120)?,
            served: 0,
            fail_after: 6,
        }))
    };
    let mut display = NoDisplay {
        width: 320,
        height: 240,
    };
    assert_eq!(display.size(), (320, 240));
    let opts = Options {
        frames: Some(12),
        crop: Crop::Centre,
        smoothing: 0.5,
        reopen_every: Duration::from_millis(10),
        // Two frames in flight: a lost camera and its reopening still go through workers.
        workers: 2,
        locator: None,
        schedule: Schedule::Thread,
    };
    let stop = AtomicBool::new(false);
    let stats = run(&model, &mut open, &mut display, &opts, &stop).unwrap();
    assert_eq!(stats.presented, 12);
    assert!(stats.reopened >= 1, "{stats:?}");
    assert!(opens.load(Ordering::SeqCst) >= 3, "{stats:?}");
    assert!(stats.lost_screens >= 1, "{stats:?}");
    assert!(stats.bad_frames >= 1, "{stats:?}");
}

#[test]
fn a_source_that_cannot_open_at_start_is_an_error() {
    let model = Classifier::load(&common::default_model(), &LoadOptions::default()).unwrap();
    let mut open = || -> Result<Box<dyn FrameSource>, Error> {
        Err(Error::Runtime(
            "/dev/video7: No such file or directory".into(),
        ))
    };
    let mut display = NoDisplay {
        width: 64,
        height: 64,
    };
    let opts = Options {
        frames: Some(1),
        crop: Crop::Centre,
        smoothing: 1.0,
        reopen_every: Duration::from_millis(10),
        workers: 1,
        locator: None,
        schedule: Schedule::Thread,
    };
    let e = run(
        &model,
        &mut open,
        &mut display,
        &opts,
        &AtomicBool::new(false),
    )
    .unwrap_err();
    assert!(e.to_string().contains("/dev/video7"), "{e}");
}

#[test]
fn a_missing_framebuffer_is_a_clear_error_at_start_up() {
    let o = breedcam(&["run", "--display", "fb:/dev/fb-nope", "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("/dev/fb-nope: No such file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_file_keys_are_the_flags_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cfg = dir.path().join("breedcam.toml");
    std::fs::write(
        &cfg,
        format!(
            "source = \"tests/data\"\ndisplay = \"png:{}\"\nframes = 5\nsmoothing = 1.0\nscreen = \"320x240\"\ncrop = \"centre\"\n",
            out.display()
        ),
    )
    .unwrap();
    // The flag --frames 2 wins over the file's 5.
    let o = breedcam(&["run", "--config", path_str(&cfg), "--frames", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let views = std::fs::read_to_string(out.join("views.jsonl")).unwrap();
    assert_eq!(views.lines().count(), 2);
    assert!(views.contains("Eskimo dog"), "{views}");
    let png = image::open(out.join("frame-000001.png")).unwrap();
    assert_eq!((png.width(), png.height()), (320, 240));
    // The example in board/ parses; it stops at its screen, which this machine lacks.
    std::fs::write(&cfg, "fps = 3\n").unwrap();
    let o = breedcam(&["run", "--config", path_str(&cfg)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("breedcam.toml") && stderr(&o).contains("unknown field `fps`"),
        "{}",
        stderr(&o)
    );
    let example = common::root().join("board/breedcam.toml");
    // Its model is embedded (lite2), so what it misses here is a device.
    let o = breedcam(&["run", "--config", path_str(&example), "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("/dev/fb0"), "{}", stderr(&o));
}

/// The views a `breedcam run` on a folder of photos logged.
fn run_views(args: &[&str]) -> Vec<serde_json::Value> {
    let out = tempfile::tempdir().unwrap();
    let display = format!("png:{}", out.path().display());
    let mut all = vec![
        "run",
        "--display",
        &display,
        "--smoothing",
        "1",
        "--dwell",
        "0",
    ];
    all.extend_from_slice(args);
    let o = breedcam(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(out.path().join("views.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn run_boxes_both_dogs_of_pets_and_locate_off_shows_none() {
    let Some(shared) = common::shared() else {
        return;
    };
    // pets.jpg alone, as a folder.
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        shared.join("data/photos/pets.jpg"),
        dir.path().join("pets.jpg"),
    )
    .unwrap();
    let src = path_str(dir.path());
    let views = run_views(&["--source", src, "--frames", "2"]);
    for v in &views {
        let dogs = v["dogs"].as_array().unwrap_or_else(|| panic!("{v}"));
        assert_eq!(dogs.len(), 2, "{v}");
        // The whippet-like dog on the left, the Boston terrier on the right.
        let mut by_x: Vec<&serde_json::Value> = dogs.iter().collect();
        by_x.sort_by_key(|d| d["box"][0].as_u64().unwrap());
        let left = by_x[0]["breed"].as_str().unwrap();
        assert!(["whippet", "Italian greyhound"].contains(&left), "{v}");
        assert_eq!(by_x[1]["breed"], "Boston bull", "{v}");
        assert!(by_x[0]["box"][2].as_u64().unwrap() <= 300, "{v}");
        assert!(by_x[1]["box"][0].as_u64().unwrap() >= 300, "{v}");
        // The list under the picture is the headline (first) dog's.
        assert_eq!(v["breeds"][0][0], dogs[0]["breed"], "{v}");
    }
    // (Each of a folder's photos starts afresh, the same photo shown again too: the dogs'
    // ids carried from screen to screen are checked on a live source below.)
    // --locate off: the centre crop, no boxes.
    let off = run_views(&["--source", src, "--frames", "1", "--locate", "off"]);
    assert!(off[0].get("dogs").is_none(), "{}", off[0]);
    assert_eq!(off[0]["breeds"][0][0], "Italian greyhound", "{}", off[0]);
}

/// One picture file as a live camera, 100 frames a second.
struct Live(Vec<u8>);

impl FrameSource for Live {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        std::thread::sleep(Duration::from_millis(10));
        Ok(Frame {
            format: Format::File,
            width: 0,
            height: 0,
            data: self.0.clone(),
            sequence: 0,
            origin: "husky.png".into(),
        })
    }
    fn describe(&self) -> String {
        "live husky".into()
    }
}

/// Boxes fixed in advance, as a stand-in locator; `fail` makes it fail instead.
struct Fixed {
    boxes: Vec<breedcam::locate::DogBox>,
    fail: bool,
}

impl breedcam::locate::Locate for Fixed {
    fn locate(&self, _: &image::RgbImage) -> Result<Vec<breedcam::locate::DogBox>, Error> {
        if self.fail {
            return Err(Error::Runtime("the locator broke".into()));
        }
        Ok(self.boxes.clone())
    }
}

/// Keeps each presented view.
struct Views(Vec<breedcam::overlay::View>);

impl Display for Views {
    fn size(&self) -> (u32, u32) {
        (320, 240)
    }
    fn present(&mut self, _: &breedcam::overlay::Canvas) -> Result<(), Error> {
        Ok(())
    }
    fn describe(&self) -> String {
        "views".into()
    }
    fn present_view(
        &mut self,
        _: &breedcam::overlay::Canvas,
        view: &breedcam::overlay::View,
        _: Option<(u32, u32, u32, u32)>,
    ) -> Result<(), Error> {
        self.0.push(view.clone());
        Ok(())
    }
}

/// `breedcam run` with a deadline: the output, or `None` if it was still running (then it
/// is killed).
fn run_within(args: &[&str], secs: u64) -> Option<std::process::Output> {
    let mut child = common::breedcam_command()
        .args(args)
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return Some(child.wait_with_output().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    None
}

#[test]
fn a_folder_where_nothing_decodes_ends_the_run_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let husky = std::fs::read(common::root().join("tests/data/husky.png")).unwrap();
    std::fs::write(dir.path().join("a.jpg"), b"not a jpeg at all").unwrap();
    std::fs::write(dir.path().join("b.png"), &husky[..husky.len() / 3]).unwrap();
    std::fs::write(dir.path().join("c.bmp"), [0u8; 64]).unwrap();
    let started = std::time::Instant::now();
    let o = run_within(&["run", "--source", path_str(dir.path())], 60)
        .expect("run on a folder of broken files must end, not spin");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "{}: none of its 3 image files decodes",
            dir.path().display()
        )),
        "{e}"
    );
}

#[test]
fn a_folder_is_a_slideshow_and_one_photo_is_not_smoothed_into_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let husky = image::open(common::root().join("tests/data/husky.png")).unwrap();
    husky.save(dir.path().join("1.png")).unwrap();
    husky.fliph().save(dir.path().join("2.png")).unwrap();
    let views = |smoothing: &str, dwell: &str| {
        let out = tempfile::tempdir().unwrap();
        let display = format!("png:{}", out.path().display());
        let started = std::time::Instant::now();
        let o = breedcam(&[
            "run",
            "--source",
            path_str(dir.path()),
            "--display",
            &display,
            "--frames",
            "2",
            "--smoothing",
            smoothing,
            "--dwell",
            dwell,
            "--screen",
            "160x120",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let views: Vec<serde_json::Value> = std::fs::read_to_string(out.path().join("views.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["breeds"].clone())
            .collect();
        (views, started.elapsed())
    };
    let (alone, _) = views("1", "0");
    assert_eq!(alone.len(), 2);
    assert_ne!(alone[0], alone[1], "the two photos must score differently");
    // Smoothing starts over at each photo: the second screen is the second photo's own.
    let (smoothed, slow) = views("0.5", "1.5");
    assert_eq!(smoothed, alone);
    // The next photo is read the dwell time after the last one was.
    assert!(slow >= Duration::from_millis(1500), "{slow:?}");
}

/// A live source that hands out garbage at once, counting how often it is read.
struct Garbage {
    reads: Arc<AtomicUsize>,
}

impl FrameSource for Garbage {
    fn next_frame(&mut self) -> Result<Frame, Error> {
        let n = self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(Frame {
            format: Format::Mjpeg,
            width: 640,
            height: 480,
            data: (0..256).map(|i| (i * 31 + n) as u8).collect(),
            sequence: n as u64,
            origin: "/dev/video9".into(),
        })
    }
    fn describe(&self) -> String {
        "/dev/video9".into()
    }
}

#[test]
fn a_live_source_is_located_on_its_own_thread_and_its_boxes_carried() {
    let model = Classifier::load(&common::small_model(), &LoadOptions::default()).unwrap();
    // husky.png (194x222) as a live camera. Both boxes' crops are the centre square the
    // fallback takes too (a box's square is cut to the picture's width, around the same
    // centre), so the classifier is exactly as sure of the dogs as of the centre crop and
    // the dogs are shown.
    let husky = std::fs::read(common::root().join("tests/data/husky.png")).unwrap();
    let dog = |x0, y0, x1, y1, score| breedcam::locate::DogBox {
        x0,
        y0,
        x1,
        y1,
        score,
    };
    let boxes = vec![dog(0, 14, 194, 208, 0.9), dog(10, 24, 184, 198, 0.8)];
    for (schedule, fail) in [
        (Schedule::Thread, false),
        (Schedule::EveryKth(3), false),
        (Schedule::Thread, true),
    ] {
        let mut open =
            || -> Result<Box<dyn FrameSource>, Error> { Ok(Box::new(Live(husky.clone()))) };
        let opts = Options {
            frames: Some(12),
            crop: Crop::Centre,
            smoothing: 0.5,
            reopen_every: Duration::from_millis(10),
            workers: 1,
            locator: Some(Arc::new(Fixed {
                boxes: boxes.clone(),
                fail,
            })),
            schedule,
        };
        let mut views = Views(vec![]);
        let outcome = run(
            &model,
            &mut open,
            &mut views,
            &opts,
            &AtomicBool::new(false),
        );
        if fail {
            let e = outcome.unwrap_err();
            assert!(e.to_string().contains("the locator broke"), "{e}");
            continue;
        }
        let stats = outcome.unwrap();
        assert_eq!(stats.presented, 12, "{schedule:?}");
        assert!(stats.located >= 1, "{schedule:?}: {stats:?}");
        if schedule == Schedule::EveryKth(3) {
            // Frames 1, 4, 7 and 10 of the 12 shown; the worker may have taken a 13th
            // before the run ended.
            assert!((4..=5).contains(&stats.located), "{stats:?}");
        }
        // Once the first boxes are there, every screen has them (carried between runs);
        // each dog keeps its id and its box.
        let first = views.0.iter().position(|v| !v.dogs.is_empty());
        let first = first.unwrap_or_else(|| panic!("{schedule:?}: no boxes"));
        for v in &views.0[first..] {
            let ids: Vec<(u64, (u32, u32, u32, u32))> =
                v.dogs.iter().map(|d| (d.id, d.bbox)).collect();
            assert_eq!(
                ids,
                [(0, (0, 14, 194, 208)), (1, (10, 24, 184, 198))],
                "{schedule:?}"
            );
            assert_eq!(v.breeds[0].name, v.dogs[0].name);
        }
        // Before them (the locator thread's first run), the centre crop.
        for v in &views.0[..first] {
            assert!(v.dogs.is_empty() && v.breeds.len() == 3, "{v:?}");
        }
    }
}

#[test]
fn a_camera_sending_garbage_is_shown_as_such_and_not_read_in_a_busy_loop() {
    let model = Classifier::load(&common::default_model(), &LoadOptions::default()).unwrap();
    let reads = Arc::new(AtomicUsize::new(0));
    let counter = reads.clone();
    let mut open = move || -> Result<Box<dyn FrameSource>, Error> {
        Ok(Box::new(Garbage {
            reads: counter.clone(),
        }))
    };
    let mut display = NoDisplay {
        width: 64,
        height: 64,
    };
    let opts = Options {
        frames: Some(1),
        crop: Crop::Centre,
        smoothing: 1.0,
        reopen_every: Duration::from_millis(300),
        workers: 1,
        locator: None,
        schedule: Schedule::Thread,
    };
    let stop = AtomicBool::new(false);
    let started = std::time::Instant::now();
    let stats = std::thread::scope(|s| {
        s.spawn(|| {
            // A safety net: the run must end by itself long before this.
            while started.elapsed() < Duration::from_secs(10) && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            stop.store(true, Ordering::SeqCst);
        });
        let stats = run(&model, &mut open, &mut display, &opts, &stop);
        stop.store(true, Ordering::SeqCst);
        stats.unwrap()
    });
    // The one screen says the frames do not decode.
    assert_eq!((stats.presented, stats.lost_screens), (1, 1), "{stats:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{stats:?}");
    // About 300 ms of garbage at one read per 10 ms, not a busy loop.
    let n = reads.load(Ordering::SeqCst);
    assert!((2..200).contains(&n), "{n} reads: {stats:?}");
}
