//! Packing a full panel of eight pixels for tract's aarch64 int8 kernel (`arm64simd_mmm_i32_8x8`,
//! k-major: byte `k * 8 + m` is pixel `m`'s channel `k`) with NEON: eight 8-byte loads, an
//! 8x8 byte transpose in three rounds of `TRN1`/`TRN2` (8, 16, then 32-bit lanes), eight
//! stores. The scalar scatter it replaces cost about three instructions per byte.

use std::arch::aarch64::*;

/// Packs `x` (8 pixels of `k` channels, pixel-major) into `panel` (at least `8 * k` bytes),
/// each byte XORed with `flip`; zeroes the rest of the panel.
pub fn kouter8(x: &[u8], k: usize, flip: u8, panel: &mut [u8]) {
    assert!(x.len() >= 8 * k && panel.len() >= 8 * k);
    let blocks = k / 8;
    // SAFETY: NEON is part of every aarch64 CPU; block `kb` reads bytes kb*8..kb*8+8 of
    // each of the 8 rows (all < 8 * k, checked above) and writes 64 bytes from kb * 64.
    unsafe {
        let f = vdup_n_u8(flip);
        let xp = x.as_ptr();
        let pp = panel.as_mut_ptr();
        for kb in 0..blocks {
            let r = |m: usize| veor_u8(vld1_u8(xp.add(m * k + kb * 8)), f);
            let t0 = vtrn_u8(r(0), r(1));
            let t1 = vtrn_u8(r(2), r(3));
            let t2 = vtrn_u8(r(4), r(5));
            let t3 = vtrn_u8(r(6), r(7));
            let h = vreinterpret_u16_u8;
            let u0 = vtrn_u16(h(t0.0), h(t1.0));
            let u1 = vtrn_u16(h(t0.1), h(t1.1));
            let u2 = vtrn_u16(h(t2.0), h(t3.0));
            let u3 = vtrn_u16(h(t2.1), h(t3.1));
            let w = vreinterpret_u32_u16;
            let v0 = vtrn_u32(w(u0.0), w(u2.0));
            let v1 = vtrn_u32(w(u1.0), w(u3.0));
            let v2 = vtrn_u32(w(u0.1), w(u2.1));
            let v3 = vtrn_u32(w(u1.1), w(u3.1));
            let cols = [v0.0, v1.0, v2.0, v3.0, v0.1, v1.1, v2.1, v3.1];
            for (j, col) in cols.into_iter().enumerate() {
                vst1_u8(pp.add((kb * 8 + j) * 8), vreinterpret_u8_u32(col));
            }
        }
    }
    for kk in blocks * 8..k {
        for m in 0..8 {
            panel[kk * 8 + m] = x[m * k + kk] ^ flip;
        }
    }
    panel[8 * k..].fill(0);
}
