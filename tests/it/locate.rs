//! The locate stage: dogs found by the committed segmenter on real photos and named one by
//! one; `--locate off` is the centre crop as before locating existed.

use crate::common::{self, breedcam, path_str, stderr, stdout};
use breedcam::locate::{grid_of, segmenter::Segmenter, Locate};
use breedcam::model::ModelSource;
use breedcam::preprocess::load_image;

#[test]
fn locate_off_prints_what_classify_printed_before_locating() {
    // The fixture is the output of breedcam before the locate stage (the same two commands).
    let want =
        std::fs::read_to_string(common::root().join("tests/fixtures/locate/husky_centre_crop.txt"))
            .unwrap();
    let text = breedcam(&["classify", "--locate", "off", "tests/data/husky.png"]);
    let json = breedcam(&[
        "classify",
        "--locate",
        "off",
        "--json",
        "--top",
        "5",
        "tests/data/husky.png",
    ]);
    assert!(
        text.status.success() && json.status.success(),
        "{}",
        stderr(&text)
    );
    assert_eq!(stdout(&text) + &stdout(&json), want);
}

#[test]
fn pets_jpg_names_two_dogs_each_with_its_box() {
    let Some(shared) = common::shared() else {
        return;
    };
    let photo = shared.join("data/photos/pets.jpg");
    let o = breedcam(&["classify", "--json", path_str(&photo)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    let dogs = v["dogs"].as_array().unwrap();
    assert_eq!(dogs.len(), 2, "{v}");
    let first = |d: &serde_json::Value| d["breeds"][0]["name"].as_str().unwrap().to_string();
    let boxes: Vec<Vec<u64>> = dogs
        .iter()
        .map(|d| {
            d["box"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap())
                .collect()
        })
        .collect();
    // The Boston terrier stands on the right, the whippet-like dog on the left; pets.jpg
    // is 512x430.
    let (bull, hound) = if first(&dogs[0]) == "Boston bull" {
        (0, 1)
    } else {
        (1, 0)
    };
    assert_eq!(first(&dogs[bull]), "Boston bull", "{v}");
    assert!(
        ["Italian greyhound", "whippet"].contains(&first(&dogs[hound]).as_str()),
        "{v}"
    );
    for b in &boxes {
        assert!(
            b[0] < b[2] && b[1] < b[3] && b[2] <= 512 && b[3] <= 430,
            "{b:?}"
        );
    }
    assert!(boxes[hound][2] <= boxes[bull][0], "{boxes:?}: side by side");
    // The headline (`best` / `breeds`) is the first dog's.
    assert_eq!(v["best"], dogs[0]["best"]);
    assert_eq!(v["breeds"], dogs[0]["breeds"]);
    // As text: each dog with its box.
    let o = breedcam(&["classify", "--top", "1", path_str(&photo)]);
    let text = stdout(&o);
    assert!(text.contains("pets.jpg: dog 1 of 2 at ["), "{text}");
    assert!(text.contains("pets.jpg: dog 2 of 2 at ["), "{text}");
    assert!(text.contains("Boston bull"), "{text}");
    // Without locating it is the centre crop's mixture the issue reported.
    let o = breedcam(&["classify", "--locate", "off", "--json", path_str(&photo)]);
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(v.get("dogs").is_none(), "{v}");
    assert_eq!(v["breeds"][0]["name"], "Italian greyhound");
    assert_eq!(v["breeds"][2]["name"], "American Staffordshire terrier");
}

#[test]
fn the_segmenter_finds_the_two_dogs_of_pets_jpg_as_two_regions() {
    let Some(shared) = common::shared() else {
        return;
    };
    let frame = load_image(&shared.join("data/photos/pets.jpg")).unwrap();
    for name in ["seg", "seg-small"] {
        let seg = Segmenter::open(&ModelSource::resolve(name.as_ref()).unwrap()).unwrap();
        let grid = grid_of(&seg.class_map(&frame).unwrap());
        let regions = grid.regions();
        assert_eq!(regions.len(), 2, "{name}: {regions:?}");
        // Dogs, not a stray cell: each far above the 1 % (11 cells) minimum.
        assert!(
            regions.iter().all(|r| r.dog_cells > 50),
            "{name}: {regions:?}"
        );
        let boxes = seg.locate(&frame).unwrap();
        assert_eq!(boxes.len(), 2);
        assert!(
            boxes[0].score > 0.5 && boxes[1].score > 0.5,
            "{name}: {boxes:?}"
        );
        // The larger region (more dog cells) first.
        assert!(regions[0].dog_cells >= regions[1].dog_cells);
    }
}

#[test]
fn a_photo_without_dogs_falls_back_to_the_centre_crop() {
    let Some(shared) = common::shared() else {
        return;
    };
    let cat = shared.join("data/photos/cat.bmp");
    let on = breedcam(&["classify", "--json", path_str(&cat)]);
    let off = breedcam(&["classify", "--json", "--locate", "off", path_str(&cat)]);
    let on: serde_json::Value = serde_json::from_str(stdout(&on).trim()).unwrap();
    let mut off: serde_json::Value = serde_json::from_str(stdout(&off).trim()).unwrap();
    // No dog box: the same answer as the centre crop, and an empty list of dogs.
    off["dogs"] = serde_json::json!([]);
    assert_eq!(on, off);
}

#[test]
fn bad_locate_values_are_errors_naming_them() {
    let o = breedcam(&["classify", "--locate", "nosuchseg", "tests/data/husky.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nosuchseg"), "{}", stderr(&o));
    assert!(stderr(&o).contains("seg-small"), "{}", stderr(&o));
    let o = breedcam(&["classify", "--locate", "Cargo.toml", "tests/data/husky.png"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Cargo.toml"), "{}", stderr(&o));
}

#[test]
fn eval_scores_the_headline_dog_and_compares_with_the_centre_crop() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::root().join("tests/data/husky.png"),
        dir.path().join("n02109961_husky.png"),
    )
    .unwrap();
    let d = path_str(dir.path());
    // `seg` finds the husky (the default `seg-small` does not, and takes the centre crop).
    let o = breedcam(&["eval", "--locate", "seg", "--compare-locate", "off", d]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    // Two reports on the same photo: located (the dog is found) and the centre crop.
    assert!(
        text.contains("(locate seg: a dog found in 1 of 1 photos, the headline dog scored)"),
        "{text}"
    );
    assert_eq!(text.matches("top-1 100.0%").count(), 4, "{text}");
    assert!(
        text.contains("agreement: same top-1 breed on 1 of 1 photos"),
        "{text}"
    );
    // --locate off: the report as before locating (no locate line, no locate key).
    let o = breedcam(&["eval", "--locate", "off", "--json", d]);
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(j["reports"][0].get("locate").is_none(), "{j}");
    let o = breedcam(&["eval", "--json", d]);
    let j: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(j["reports"][0]["locate"]["locator"], "seg-small", "{j}");
    assert_eq!(j["reports"][0]["locate"]["photos_with_dog"], 0, "{j}");
}
