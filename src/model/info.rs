//! `breedcam info`: what a model file is (its ops, tensors, normalisation, labels), as text
//! or JSON. It works on models that do not load too: the survey lists what is unsupported.

use std::fmt::Write;
use std::path::Path;

use super::{Classifier, TensorSpec};
use crate::engine::import::{is_supported, Survey};

/// One model, surveyed and (if every op is supported) loaded.
pub struct About<'a> {
    pub path: &'a Path,
    /// `embedded` or `file`.
    pub origin: &'a str,
    pub bytes: usize,
    pub survey: &'a Survey,
    pub loaded: Option<&'a Classifier>,
}

impl About<'_> {
    pub fn json(&self) -> serde_json::Value {
        let s = self.survey;
        let mut j = serde_json::json!({
            "model": self.path, "origin": self.origin, "bytes": self.bytes, "ops": s.ops,
            "unsupported": s.unsupported.iter().map(|(i, n)| serde_json::json!({"operator": i, "op": n})).collect::<Vec<_>>(),
        });
        if let Some(c) = self.loaded {
            j["input"] = serde_json::json!({"shape": c.input.shape, "dtype": c.input.dtype, "quant": c.input.quant});
            j["output"] = serde_json::json!({"shape": c.output.shape, "dtype": c.output.dtype, "quant": c.output.quant});
            j["normalization"] = serde_json::json!({"mean": c.normalization.mean, "std": c.normalization.std, "source": c.norm_source});
            j["labels"] = serde_json::json!(c
                .labels
                .as_ref()
                .map(|l| serde_json::json!({"classes": l.len(), "dogs": l.dog_count()})));
        }
        j
    }

    /// As the terminal shows it.
    pub fn text(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) -> std::fmt::Result {
        let s = self.survey;
        writeln!(
            out,
            "model     {} ({}, {} bytes)",
            self.path.display(),
            self.origin,
            self.bytes
        )?;
        if let Some(c) = self.loaded {
            let q = |s: &TensorSpec| match s.quant {
                Some((scale, zp)) => {
                    format!("{} {:?} scale {scale} zero point {zp}", s.dtype, s.shape)
                }
                None => format!("{} {:?}", s.dtype, s.shape),
            };
            writeln!(out, "input     {}", q(&c.input))?;
            writeln!(out, "output    {}", q(&c.output))?;
            writeln!(
                out,
                "normalise (p - {:?}) / {:?}  [from {:?}]",
                c.normalization.mean, c.normalization.std, c.norm_source
            )?;
            match &c.labels {
                Some(l) => writeln!(
                    out,
                    "labels    {} classes, {} dog breeds",
                    l.len(),
                    l.dog_count()
                )?,
                None => writeln!(out, "labels    none (pass --labels)")?,
            }
        }
        writeln!(out, "ops       {} operators", s.ops.values().sum::<usize>())?;
        for (op, n) in &s.ops {
            let mark = if is_supported(op) {
                ""
            } else {
                "  UNSUPPORTED"
            };
            writeln!(out, "  {n:4} {op}{mark}")?;
        }
        for (i, n) in &s.unsupported {
            writeln!(out, "unsupported: {n} (operator {i})")?;
        }
        Ok(())
    }
}
