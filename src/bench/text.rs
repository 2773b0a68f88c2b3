//! `breedcam bench`'s report as text, one stage per line (the JSON is the report itself).

use std::fmt::Write;

use super::Report;

/// The report as the terminal shows it.
pub fn render(r: &Report) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_all(&mut out, r);
    out
}

fn write_all(out: &mut String, r: &Report) -> std::fmt::Result {
    let b = &r.board;
    writeln!(
        out,
        "breedcam {} bench: {} ({:.1} MB, sha256 {}), {}, {} thread(s), {} frames after {} warm-up",
        r.breedcam_version,
        r.model.display(),
        r.model_bytes as f64 / 1e6,
        &r.model_sha256[..12],
        r.source,
        r.threads,
        r.frames,
        r.warmup
    )?;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let temp = |t: Option<f64>| t.map_or("-".to_string(), |t| format!("{t:.1} C"));
    writeln!(
        out,
        "board: {} | {} cores {} | {} | governor {} {} | temp {} -> {} | throttled {}",
        opt(&b.cpu_model),
        b.cores,
        b.arch,
        opt(&b.board_model),
        opt(&b.governor),
        b.freq_mhz.map_or("-".into(), |f| format!("{f:.0} MHz")),
        temp(b.temp_start_c),
        temp(b.temp_end_c),
        opt(&b.throttled)
    )?;
    writeln!(
        out,
        "model: import {:.0} ms, optimise {:.0} ms",
        r.model_import_ms, r.model_optimise_ms
    )?;
    writeln!(
        out,
        "matmul kernels: {} (isa {})",
        crate::engine::report::describe(&r.matmul_kernels),
        r.isa
    )?;
    if let Some(why) = &r.kernel_steering {
        writeln!(out, "kernel steering: {why}")?;
    }
    writeln!(
        out,
        "{:<12} {:>9} {:>9} {:>9} {:>9}   (ms)",
        "stage", "p50", "p90", "p99", "max"
    )?;
    for s in &r.stages {
        writeln!(
            out,
            "{:<12} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            s.name, s.p50, s.p90, s.p99, s.max
        )?;
    }
    let d = &r.per_dog;
    writeln!(
        out,
        "{:<12} {:>9.2} {:>9.2} {:>9.2} {:>9.2}   (crop+resize+quantize+inference of one picture; locate {}, {:.2} a frame)",
        "per dog", d.p50, d.p90, d.p99, d.max, r.locate, r.pictures_per_frame
    )?;
    if !r.overlay_sizes.is_empty() {
        writeln!(
            out,
            "overlay alone at other screens, same frame and view; resize = its picture"
        )?;
    }
    for o in &r.overlay_sizes {
        for (name, s) in [(o.screen.clone(), &o.draw), ("  resize".into(), &o.resize)] {
            writeln!(
                out,
                "{:<12} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
                name, s.p50, s.p90, s.p99, s.max
            )?;
        }
    }
    writeln!(
        out,
        "end to end: {:.2} fps; peak RSS {}",
        r.fps,
        r.peak_rss_mib.map_or("-".into(), |m| format!("{m:.0} MiB"))
    )?;
    Ok(())
}
