//! `breedcam eval`'s summary as text: per model the accuracy lines, the worst breeds and
//! the commonest confusions; then the agreement of two models and what was left out.

use std::fmt::Write;
use std::path::Path;

use super::{agreement, Photos, Report};
use crate::model::labels::Labels;

/// The summary of `reports` (one per model, `labels` in the same order) over `all`'s photos,
/// `truth` the ground-truth file if labels came from one.
pub fn render(
    reports: &[Report],
    labels: &[Option<&Labels>],
    all: &Photos,
    truth: Option<&Path>,
) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, reports, labels, all, truth);
    out
}

fn write_all(
    out: &mut String,
    reports: &[Report],
    labels: &[Option<&Labels>],
    all: &Photos,
    truth: Option<&Path>,
) -> std::fmt::Result {
    let unlabelled = &all.unlabelled;
    for (r, labels) in reports.iter().zip(labels) {
        match &r.locate {
            None => writeln!(out, "{}", r.model.display())?,
            Some(l) => writeln!(
                out,
                "{} (locate {}: a dog found in {} of {} photos, the headline dog scored)",
                r.model.display(),
                l.locator,
                l.photos_with_dog,
                r.answers.len()
            )?,
        }
        writeln!(out, "  dog breeds:  {}", r.dogs.line())?;
        writeln!(out, "  all classes: {}", r.all.line())?;
        if !r.unknown_ids.is_empty() {
            writeln!(
                out,
                "  {} photos of ids the model does not know (not counted)",
                r.unknown_ids.len()
            )?;
        }
        for (p, why) in &r.unreadable {
            writeln!(out, "  unreadable, skipped: {} ({why})", p.display())?;
        }
        let mut worst: Vec<_> = r.breeds.iter().filter(|(_, b)| b.top1 < b.n).collect();
        worst.sort_by(|a, b| {
            (a.1.top1 as f64 / a.1.n as f64)
                .total_cmp(&(b.1.top1 as f64 / b.1.n as f64))
                .then(a.0.cmp(b.0))
        });
        if !worst.is_empty() {
            let list: Vec<String> = worst
                .iter()
                .take(5)
                .map(|(_, b)| format!("{} {}/{}", b.name, b.top1, b.n))
                .collect();
            writeln!(out, "  worst breeds: {}", list.join(", "))?;
        }
        if !r.confusions.is_empty() {
            let name = |id: &str| {
                labels
                    .and_then(|l| l.name_of_wnid(id))
                    .unwrap_or(id)
                    .to_string()
            };
            let list: Vec<String> = r
                .confusions
                .iter()
                .take(5)
                .map(|(t, p, n)| format!("{} -> {} ({n})", name(t), name(p)))
                .collect();
            writeln!(out, "  confusions: {}", list.join(", "))?;
        }
    }
    if let [a, b] = reports {
        let (both, same) = agreement(a, b);
        writeln!(
            out,
            "agreement: same top-1 breed on {same} of {both} photos ({:.1}%)",
            100.0 * same as f64 / both.max(1) as f64
        )?;
    }
    if !all.no_valid_label.is_empty() {
        writeln!(
            out,
            "{} photos with no valid label (empty list) were left out",
            all.no_valid_label.len()
        )?;
    }
    match (unlabelled.len(), truth) {
        (0, _) => {}
        (n, None) => writeln!(
            out,
            "{n} image files without a WordNet id in their folder or name were ignored"
        )?,
        (n, Some(f)) => writeln!(
            out,
            "{n} image files with no entry in {} were ignored",
            f.display()
        )?,
    }
    Ok(())
}
