//! Which of tract-linalg's matrix-multiplication kernels the optimised plan uses.
//!
//! tract picks a kernel per matmul at optimisation time from the CPU's instruction sets
//! (`avx512vnni_mmm_i32_8x8` with AVX-512 VNNI, `avx2_mmm_i32_8x8` on AVX2-only x86-64,
//! `arm64simd_mmm_i32_8x8` on a Cortex-A72...). The choice decides inference speed more than
//! anything breedcam does, so `breedcam bench` reports it: two field reports with different
//! kernels are not comparable.

use serde::Serialize;
use tract_core::internal::*;
use tract_core::ops::matmul::optimized::OptMatMul;

use super::ops::{QIm2col, QPointwise};

/// One kernel and the number of matmul nodes of the plan that run on it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KernelUse {
    pub kernel: String,
    pub nodes: usize,
}

/// The kernels of every `OptMatMul`, `breedcam.QPointwise` and `breedcam.QIm2col` node, most
/// used first (ties by name).
pub fn matmul_kernels(model: &TypedModel) -> Vec<KernelUse> {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for node in model.nodes() {
        if let Some(mm) = node.op_as::<OptMatMul>() {
            // An OptMatMul may carry several kernels (one per packing mode); name each once.
            let mut names: Vec<&str> = mm.mmm.iter().map(|k| k.name()).collect();
            names.sort_unstable();
            names.dedup();
            for n in names {
                *counts.entry(n.to_string()).or_default() += 1;
            }
        } else if let Some(pw) = node.op_as::<QPointwise>() {
            // breedcam's pointwise convolutions call tract's kernels themselves.
            *counts.entry(pw.kernel_name().to_string()).or_default() += 1;
        } else if let Some(conv) = node.op_as::<QIm2col>() {
            *counts
                .entry(conv.matmul.kernel_name().to_string())
                .or_default() += 1;
        }
    }
    let mut v: Vec<KernelUse> = counts
        .into_iter()
        .map(|(kernel, nodes)| KernelUse { kernel, nodes })
        .collect();
    v.sort_by(|a, b| b.nodes.cmp(&a.nodes).then_with(|| a.kernel.cmp(&b.kernel)));
    v
}

/// `name xN, name xM` for a one-line report.
pub fn describe(kernels: &[KernelUse]) -> String {
    if kernels.is_empty() {
        return "none (no matmul in the plan)".into();
    }
    kernels
        .iter()
        .map(|k| format!("{} x{}", k.kernel, k.nodes))
        .collect::<Vec<_>>()
        .join(", ")
}
