//! `breedcam cameras`: every /dev/video* node, what it offers, which of its formats breedcam
//! decodes and what `breedcam run --camera` would capture from it.

use std::fmt::Write;
use std::path::Path;

use super::v4l2::{negotiate, probe, video_nodes, DEFAULT_SIZE, FORMATS};

/// The listing of the video nodes under a `/dev`-like folder.
pub struct Listing {
    pub text: String,
    /// Video nodes found.
    pub nodes: usize,
    /// Of which capture devices breedcam can use.
    pub usable: usize,
}

pub fn list(dev: &Path) -> Listing {
    let nodes = video_nodes(dev);
    let mut out = String::new();
    let mut usable = 0;
    for node in &nodes {
        // Writing to a String cannot fail.
        let _ = describe(&mut out, node, &mut usable);
    }
    Listing {
        text: out,
        nodes: nodes.len(),
        usable,
    }
}

fn describe(out: &mut String, node: &Path, usable: &mut usize) -> std::fmt::Result {
    let info = match probe(node) {
        Ok(info) => info,
        Err(e) => return writeln!(out, "{e}"),
    };
    let head = format!(
        "{}: {} ({}, {})",
        node.display(),
        info.card,
        info.driver,
        info.bus
    );
    if let Some(why) = &info.unusable {
        return writeln!(out, "{head}: {why}");
    }
    writeln!(out, "{head}")?;
    for f in &info.formats {
        let sizes: Vec<String> = f.sizes.iter().map(|s| s.to_string()).collect();
        writeln!(
            out,
            "  {:<4} {:<22} {}",
            f.fourcc_str(),
            f.description,
            sizes.join(", ")
        )?;
    }
    let decoded: Vec<&str> = FORMATS
        .iter()
        .filter(|f| info.formats.iter().any(|o| Some(o.fourcc) == f.fourcc()))
        .map(|f| f.name())
        .collect();
    if !decoded.is_empty() {
        writeln!(out, "  breedcam decodes: {}", decoded.join(", "))?;
    }
    match negotiate(&node.display().to_string(), &info.formats, DEFAULT_SIZE) {
        Ok(choice) => {
            *usable += 1;
            writeln!(
                out,
                "  breedcam run --camera {} captures {choice}",
                node.display()
            )
        }
        Err(e) => writeln!(out, "  not usable: {e}"),
    }
}
