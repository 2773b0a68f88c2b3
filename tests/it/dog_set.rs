//! The kiosk screen follows the 121-class dog set: a dingo, dhole or African hunting dog is
//! listed by name, a wolf is "No dog in view" (crafted scores: no such photo is at hand).

use breedcam::model::labels::Labels;
use breedcam::overlay::View;
use breedcam::scores::verdict;

#[test]
fn the_screen_names_wild_dogs_and_turns_wolves_away() {
    for (classes, off) in [(1000, 0), (1001, 1)] {
        let labels = Labels::builtin_for(classes).unwrap();
        let mut p = vec![0.0f32; classes];
        p[274 + off] = 0.4; // dhole
        p[273 + off] = 0.3; // dingo
        p[275 + off] = 0.2; // African hunting dog
        p[151 + off] = 0.1; // Chihuahua
        let view = View::from_verdict(&verdict(&labels, &p, 3), 12.0, 5.0);
        assert_eq!(view.headline, None, "{classes}");
        let names: Vec<&str> = view.breeds.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            ["dhole", "dingo", "African hunting dog"],
            "{classes}"
        );

        p[270 + off] = 0.5; // white wolf
        let view = View::from_verdict(&verdict(&labels, &p, 3), 12.0, 5.0);
        assert_eq!(
            view.headline.as_deref(),
            Some("No dog in view"),
            "{classes}"
        );
        assert!(view.breeds.is_empty());
    }
}
