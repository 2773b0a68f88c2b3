//! breedcam's own int8 matmul micro-kernel for the pointwise layers on x86-64 CPUs with AVX2
//! that fault on tract's AVX2 kernel (AMD Zen 1-3, Intel Haswell/Broadwell: `steering.rs`).
//!
//! Why not tract's: tract-linalg 0.23.9's `avx2_mmm_i32_8x8` loads each step of k with a
//! legacy-SSE `movq` while its ymm accumulators are live, and these CPUs take a microcode
//! assist of about 100 cycles on each such SSE/AVX transition (docs/avx2-cliff.md). Steered to
//! tract's 128-bit `avx_mmm_i32_8x4` instead, EfficientNet-Lite2's pointwise layers still
//! took 145 of 183 ms per inference on an AMD EPYC (Zen 3), about 5 G multiply-adds per
//! second. This kernel is written with Rust's AVX2 intrinsics, so every instruction is
//! VEX-encoded by the compiler.
//!
//! The arithmetic and layouts are those of [`generic::pw_i16`](crate::engine::kernels::generic::pw_i16):
//! `vpmaddwd` multiplies pairs of k and adds each pair into a 32-bit lane (16 multiply-adds per
//! instruction; no `vpmaddubsw`, whose 16-bit saturation would change results), 12 ymm
//! accumulators per micro-tile, started at the bias.

use std::arch::x86_64::*;

use crate::engine::kernels::generic::pw_i16::{Weights, LANES, MR};

/// [`generic::pw_i16::pack`](crate::engine::kernels::generic::pw_i16::pack) with AVX2.
///
/// # Safety
/// The CPU must have AVX2; `x.len() >= rows * k` and `dst.len() >= rows * k.div_ceil(2) * 2`.
#[target_feature(enable = "avx2")]
pub unsafe fn pack_avx2(x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
    // SAFETY: the caller guarantees AVX2, `x.len() >= rows * k` and
    // `dst.len() >= rows * len`; each 16-byte load reads bytes i..i + 16 <= k of one pixel and
    // each store writes i16 i..i + 16 <= len of its packed row.
    unsafe {
        let len = k.div_ceil(2) * 2;
        let f = _mm_set1_epi8(flip as i8);
        for r in 0..rows {
            let src = &x[r * k..][..k];
            let d = &mut dst[r * len..][..len];
            let mut i = 0;
            while i + 16 <= k {
                let v = _mm_xor_si128(_mm_loadu_si128(src.as_ptr().add(i) as *const __m128i), f);
                _mm256_storeu_si256(
                    d.as_mut_ptr().add(i) as *mut __m256i,
                    _mm256_cvtepi8_epi16(v),
                );
                i += 16;
            }
            for j in i..k {
                d[j] = (src[j] ^ flip) as i8 as i16;
            }
            if len > k {
                d[k] = 0;
            }
        }
    }
}

/// [`generic::pw_i16::matmul`](crate::engine::kernels::generic::pw_i16::matmul) with AVX2.
///
/// # Safety
/// The CPU must have AVX2; `x` must hold `rows.div_ceil(MR) * MR * w.pixel_len()` values and
/// `acc` at least `rows * w.cout`.
#[target_feature(enable = "avx2")]
pub unsafe fn matmul_avx2(w: &Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
    // SAFETY: the caller guarantees AVX2, `x` holding `rows` rounded up to `MR`
    // packed pixels and `acc` holding `rows * cout` values: each tile reads `MR` whole pixels
    // from `p < rows`, a group pair (or one) of `w.data`/`w.bias` (padded to whole groups),
    // and writes `live` rows of at most `cout - co0` values, all inside the buffers.
    unsafe {
        let groups = w.cout.div_ceil(LANES);
        let len = w.pixel_len();
        let group_len = w.k2 * LANES * 2;
        let mut g = 0;
        while g < groups {
            let two = g + 1 < groups;
            let wp = w.data.as_ptr().add(g * group_len);
            let bp = w.bias.as_ptr().add(g * LANES);
            let co0 = g * LANES;
            let mut p = 0;
            while p < rows {
                let live = MR.min(rows - p);
                let xp = x.as_ptr().add(p * len);
                let out = acc.as_mut_ptr().add(p * w.cout + co0);
                let run = if two { tile::<2> } else { tile::<1> };
                run(
                    w.k2,
                    xp,
                    len,
                    wp,
                    group_len,
                    bp,
                    out,
                    w.cout,
                    live,
                    w.cout - co0,
                );
                p += MR;
            }
            g += if two { 2 } else { 1 };
        }
    }
}

/// One micro-tile: [`MR`] pixels (of which `live` are stored) by `NV * 8` output channels (of
/// which `cols` are stored, when fewer).
///
/// # Safety
/// The CPU must have AVX2; `x` holds `MR` pixels of `xs` i16 with `k2` pairs each; `w` holds `NV`
/// groups `ws` apart of `k2 * 16` i16; `bias` `NV * 8` i32; `out` `live` rows `os` apart with
/// `min(cols, NV * 8)` i32 each.
#[target_feature(enable = "avx2")]
#[allow(clippy::too_many_arguments)]
unsafe fn tile<const NV: usize>(
    k2: usize,
    x: *const i16,
    xs: usize,
    w: *const i16,
    ws: usize,
    bias: *const i32,
    out: *mut i32,
    os: usize,
    live: usize,
    cols: usize,
) {
    // SAFETY: the caller guarantees AVX2 and the buffer sizes in `# Safety`; the
    // loads and stores below stay within them.
    unsafe {
        let mut acc = [[_mm256_setzero_si256(); NV]; MR];
        for row in acc.iter_mut() {
            for (v, a) in row.iter_mut().enumerate() {
                *a = _mm256_loadu_si256(bias.add(v * LANES) as *const __m256i);
            }
        }
        for kp in 0..k2 {
            let mut wv = [_mm256_setzero_si256(); NV];
            for (v, wr) in wv.iter_mut().enumerate() {
                *wr = _mm256_loadu_si256(w.add(v * ws + kp * LANES * 2) as *const __m256i);
            }
            for (m, row) in acc.iter_mut().enumerate() {
                let pair = (x.add(m * xs + kp * 2) as *const i32).read_unaligned();
                let b = _mm256_set1_epi32(pair);
                for (a, &wr) in row.iter_mut().zip(&wv) {
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(b, wr));
                }
            }
        }
        for (m, row) in acc.iter().enumerate().take(live) {
            for (v, &a) in row.iter().enumerate() {
                let o = out.add(m * os + v * LANES);
                let n = cols.saturating_sub(v * LANES).min(LANES);
                if n == LANES {
                    _mm256_storeu_si256(o as *mut __m256i, a);
                } else if n > 0 {
                    let mut t = [0i32; LANES];
                    _mm256_storeu_si256(t.as_mut_ptr() as *mut __m256i, a);
                    std::ptr::copy_nonoverlapping(t.as_ptr(), o, n);
                }
            }
        }
    }
}
