//! breedcam's own int8 matmul micro-kernel for the pointwise layers on x86-64 CPUs with AVX2
//! that fault on tract's AVX2 kernel (AMD Zen 1-3, Intel Haswell/Broadwell: `cpu.rs`).
//!
//! Why not tract's: tract-linalg 0.23.9's `avx2_mmm_i32_8x8` loads each step of k with a
//! legacy-SSE `movq` while its ymm accumulators are live, and these CPUs take a microcode
//! assist of about 100 cycles on each such SSE/AVX transition (docs/avx2-cliff.md). Steered to
//! tract's 128-bit `avx_mmm_i32_8x4` instead, EfficientNet-Lite2's pointwise layers still
//! took 145 of 183 ms per inference on an AMD EPYC (Zen 3), about 5 G multiply-adds per
//! second. This kernel is written with Rust's AVX2 intrinsics, so every instruction is
//! VEX-encoded by the compiler.
//!
//! The arithmetic is XNNPACK's for AVX2 int8: both operands widened to 16 bits, then
//! `vpmaddwd` multiplies pairs of k and adds each pair into a 32-bit lane (16 multiply-adds per
//! instruction, exact: |x * w| <= 128 * 128, so a pair never leaves i32; no `vpmaddubsw`,
//! whose 16-bit saturation would change results). One micro-tile is [`MR`] pixels by 16 output
//! channels, 12 ymm accumulators, started at the bias. The i32 sums are the same integers
//! tract's kernels produce, so the outputs stay bit-identical.
//!
//! Layouts:
//! - weights, packed once: groups of 8 output channels; in a group, for each pair of k, the 8
//!   channels' two i16 weights side by side (one ymm per pair of k);
//! - pixels, packed per block: each pixel's channels as i16 (k padded to even), so one
//!   32-bit broadcast fetches a pixel's pair of k.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

/// Pixels per micro-tile.
pub const MR: usize = 6;
/// Output channels per ymm of accumulators.
const LANES: usize = 8;

/// The weights of one pointwise layer in the kernel's layout, and its bias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Pairs of k (input channels rounded up to even, halved).
    k2: usize,
    cout: usize,
    /// `[group][k2][8 channels][2]`, zero-padded past `cout` and past `k`.
    data: Vec<i16>,
    /// The bias, zero-padded to whole groups.
    bias: Vec<i32>,
}

impl Weights {
    /// `kernel` is int8 `[cout][cin]`, `bias` one i32 per output channel.
    pub fn new(cin: usize, cout: usize, kernel: &[i8], bias: &[i32]) -> Weights {
        assert!(kernel.len() == cin * cout && bias.len() == cout);
        let k2 = cin.div_ceil(2);
        let groups = cout.div_ceil(LANES);
        let mut data = vec![0i16; groups * k2 * LANES * 2];
        for (co, row) in kernel.chunks_exact(cin).enumerate() {
            let (g, c) = (co / LANES, co % LANES);
            for (k, &w) in row.iter().enumerate() {
                data[((g * k2 + k / 2) * LANES + c) * 2 + k % 2] = w as i16;
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(groups * LANES, 0);
        Weights {
            k2,
            cout,
            data,
            bias: padded,
        }
    }

    /// i16 values one packed pixel takes.
    pub fn pixel_len(&self) -> usize {
        self.k2 * 2
    }
}

/// Packs `rows` pixels of `k` bytes each into `dst` as i16, each byte XORed with `flip` and
/// read as int8; pads each pixel to even k with zero.
pub fn pack(x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
    let len = k.div_ceil(2) * 2;
    assert!(x.len() >= rows * k && dst.len() >= rows * len);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 checked just above; bounds asserted.
        unsafe { pack_avx2(x, rows, k, flip, dst) };
        return;
    }
    for (src, d) in x.chunks_exact(k).zip(dst.chunks_exact_mut(len)).take(rows) {
        for (o, &s) in d.iter_mut().zip(src) {
            *o = (s ^ flip) as i8 as i16;
        }
        if len > k {
            d[k] = 0;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn pack_avx2(x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
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

/// `acc[p][co] = bias[co] + sum_k x[p][k] * w[co][k]` for `rows` packed pixels (`x`, from
/// [`pack`], with room for `rows` rounded up to [`MR`] pixels), `acc` of `rows * cout`.
pub fn matmul(w: &Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
    let len = w.pixel_len();
    assert!(x.len() >= rows.div_ceil(MR) * MR * len);
    assert!(acc.len() >= rows * w.cout);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: AVX2 checked just above; `x` and `acc` bounds asserted.
        unsafe { matmul_avx2(w, x, rows, acc) };
        return;
    }
    matmul_portable(w, x, rows, acc)
}

/// The same sums, for CPUs without AVX2 (tests, and a guard: the kernel is only chosen where
/// AVX2 is present).
fn matmul_portable(w: &Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
    let len = w.pixel_len();
    for p in 0..rows {
        let xs = &x[p * len..][..len];
        for co in 0..w.cout {
            let (g, c) = (co / LANES, co % LANES);
            let mut s = w.bias[co];
            for kp in 0..w.k2 {
                let at = ((g * w.k2 + kp) * LANES + c) * 2;
                s += xs[2 * kp] as i32 * w.data[at] as i32
                    + xs[2 * kp + 1] as i32 * w.data[at + 1] as i32;
            }
            acc[p * w.cout + co] = s;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn matmul_avx2(w: &Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
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

/// One micro-tile: [`MR`] pixels (of which `live` are stored) by `NV * 8` output channels (of
/// which `cols` are stored, when fewer).
///
/// SAFETY: AVX2; `x` holds `MR` pixels of `xs` i16 with `k2` pairs each; `w` holds `NV`
/// groups `ws` apart of `k2 * 16` i16; `bias` `NV * 8` i32; `out` `live` rows `os` apart with
/// `min(cols, NV * 8)` i32 each.
#[cfg(target_arch = "x86_64")]
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

#[cfg(test)]
mod tests {
    use super::super::qconv::tests::bytes;
    use super::*;

    /// Against the obvious loop, on AVX2 when the CPU has it: odd k (the pad), channel counts
    /// that end in a half group and in a partial one, pixel counts that end in a partial
    /// micro-tile, the extreme values (-128 * -128 pairs), the uint8 flip.
    #[test]
    fn matmul_matches_the_obvious_loop() {
        for &(cin, cout, rows) in &[
            (1, 1, 1),
            (3, 5, 7),
            (16, 16, 6),
            (17, 24, 13),
            (32, 40, 1),
            (33, 1000, 12),
            (144, 24, 50),
            (1152, 192, 7),
        ] {
            for flip in [0u8, 0x80] {
                let mut kernel: Vec<i8> = bytes(cin * cout, cin as u32 * 7 + 1)
                    .iter()
                    .map(|&b| b as i8)
                    .collect();
                let mut x = bytes(rows * cin, cout as u32 * 3 + 2);
                // The extremes in one corner: -128 * -128 on consecutive k.
                kernel[0] = -128;
                x[0] = 0x80 ^ flip;
                if cin > 1 {
                    kernel[1] = -128;
                    x[1] = 0x80 ^ flip;
                }
                let bias: Vec<i32> = (0..cout as i32).map(|c| c * 1009 - 40000).collect();
                let w = Weights::new(cin, cout, &kernel, &bias);
                let mut packed = vec![0i16; rows.div_ceil(MR) * MR * w.pixel_len()];
                pack(&x, rows, cin, flip, &mut packed);
                let mut acc = vec![0i32; rows * cout];
                matmul(&w, &packed, rows, &mut acc);
                for p in 0..rows {
                    for co in 0..cout {
                        let want = bias[co]
                            + (0..cin)
                                .map(|k| {
                                    (x[p * cin + k] ^ flip) as i8 as i32
                                        * kernel[co * cin + k] as i32
                                })
                                .sum::<i32>();
                        assert_eq!(
                            acc[p * cout + co],
                            want,
                            "cin {cin} cout {cout} rows {rows} flip {flip:#x}: pixel {p} channel {co}"
                        );
                    }
                }
                let mut portable = vec![0i32; rows * cout];
                matmul_portable(&w, &packed, rows, &mut portable);
                assert_eq!(portable, acc);
            }
        }
    }
}
