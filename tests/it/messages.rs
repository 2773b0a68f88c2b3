//! What breedcam says about bad input and how much: a misspelt source, a ground-truth file
//! in ReaL's list form, a config file's line, an embedded model's name, `-q` and `-v`.

use crate::common::{breedcam, path_str, stderr, stdout};

#[test]
fn a_misspelt_source_lists_the_keywords() {
    let o = breedcam(&["run", "--source", "synthtic", "--frames", "1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(
            "breedcam: --source synthtic: no such folder; a source is `synthetic`, `camera`, \
             `rpicam` or a folder of images"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_real_json_list_as_ground_truth_says_so_and_shows_the_conversion() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(
        crate::common::root().join("tests/data/husky.png"),
        photos.join("ILSVRC2012_val_00000001.JPEG"),
    )
    .unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "[[248, 250], [], [151]]\n").unwrap();
    for flag in ["--labels", "--truth"] {
        let o = breedcam(&["eval", path_str(&photos), flag, path_str(&real)]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("real.json: a JSON list, like ReaL's real.json")
                && e.contains("{\"ILSVRC2012_val_00000001.JPEG\": [65], ...}")
                && e.contains("python3 -c 'import json, os, sys;"),
            "{flag}: {e}"
        );
    }
}

#[test]
fn a_config_error_names_the_file_the_line_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kiosk.toml");
    std::fs::write(&cfg, "display = \"none\"\n\nthreads = \"three\"\n").unwrap();
    let o = breedcam(&["run", "--config", path_str(&cfg)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!(
            "breedcam: {}: line 3: threads: invalid value 'three'",
            cfg.display()
        )),
        "{}",
        stderr(&o)
    );
    std::fs::write(&cfg, "frames = 2\nscreen = \"800x480\ncrop = \"none\"\n").unwrap();
    let o = breedcam(&["run", "--config", path_str(&cfg)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with(&format!("breedcam: {}: line 2: ", cfg.display())),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn an_embedded_model_is_named_by_its_name_not_a_repository_path() {
    // A labels file of the wrong length: an error about the (embedded) model.
    let dir = tempfile::tempdir().unwrap();
    let labels = dir.path().join("labels.txt");
    std::fs::write(&labels, "dog\ncat\n").unwrap();
    let o = breedcam(&[
        "classify",
        "--labels",
        path_str(&labels),
        "tests/data/husky.png",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("breedcam: lite2: the model has 1000 classes but its labels have 2"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("models/"), "{}", stderr(&o));
}

#[test]
fn quiet_is_errors_only_for_run_too() {
    let o = breedcam(&["-q", "run", "--frames", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    // Without -q the summary is there.
    let o = breedcam(&["run", "--frames", "2"]);
    assert!(stderr(&o).contains("2 screens"), "{}", stderr(&o));
}

#[test]
fn verbose_shows_breedcam_s_own_lines_and_tract_s_only_at_vvv() {
    let o = breedcam(&["-vv", "classify", "tests/data/husky.png"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Eskimo dog"), "{}", stdout(&o));
    let e = stderr(&o);
    assert!(e.contains("[breedcam"), "{e}");
    let foreign: Vec<&str> = e
        .lines()
        .filter(|l| l.contains('[') && !l.contains("[breedcam"))
        .collect();
    assert!(
        foreign.is_empty(),
        "{} lines like {:?}",
        foreign.len(),
        foreign.first()
    );
    assert!(e.lines().count() < 40, "{} lines", e.lines().count());
    let o = breedcam(&["-vvv", "classify", "tests/data/husky.png"]);
    assert!(
        stderr(&o).contains("[tract"),
        "{}",
        stderr(&o).lines().count()
    );
}
