//! The i16 pointwise matmul (breedcam's own, for the x86-64 CPUs where tract's AVX2 kernel
//! faults: `steering.rs`): the weight and pixel layouts, and the reference computation the
//! AVX2 kernel (`x86_64/pw_avx2.rs`) must match.
//!
//! The arithmetic is XNNPACK's for AVX2 int8: both operands widened to 16 bits, pairs of k
//! multiplied and added into one 32-bit lane (exact: |x * w| <= 128 * 128, so a pair never
//! leaves i32). One micro-tile is [`MR`] pixels by 16 output channels. The i32 sums are the
//! same integers tract's kernels produce, so the outputs stay bit-identical.
//!
//! Layouts:
//! - weights, packed once: groups of 8 output channels; in a group, for each pair of k, the 8
//!   channels' two i16 weights side by side (one ymm per pair of k);
//! - pixels, packed per block: each pixel's channels as i16 (k padded to even), so one
//!   32-bit broadcast fetches a pixel's pair of k.

/// Pixels per micro-tile.
pub const MR: usize = 6;
/// Output channels per ymm of accumulators.
pub const LANES: usize = 8;

/// The weights of one pointwise layer in the kernel's layout, and its bias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Weights {
    /// Pairs of k (input channels rounded up to even, halved).
    pub k2: usize,
    pub cout: usize,
    /// `[group][k2][8 channels][2]`, zero-padded past `cout` and past `k`.
    pub data: Vec<i16>,
    /// The bias, zero-padded to whole groups.
    pub bias: Vec<i32>,
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
    for (src, d) in x.chunks_exact(k).zip(dst.chunks_exact_mut(len)).take(rows) {
        for (o, &s) in d.iter_mut().zip(src) {
            *o = (s ^ flip) as i8 as i16;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::testing::bytes;

    /// Against the obvious loop: odd k (the pad), channel counts
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
            }
        }
    }
}
