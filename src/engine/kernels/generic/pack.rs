//! Packing pixels for tract's k-major int8 matmul kernels, the reference.

/// Packs `x` (8 pixels of `k` channels, pixel-major) into `panel` (at least `8 * k` bytes)
/// k-major (byte `k * 8 + m` is pixel `m`'s channel `k`), each byte XORed with `flip`; zeroes
/// the rest of the panel.
pub fn kouter8(x: &[u8], k: usize, flip: u8, panel: &mut [u8]) {
    assert!(x.len() >= 8 * k && panel.len() >= 8 * k);
    panel[8 * k..].fill(0);
    for m in 0..8 {
        for (kk, &s) in x[m * k..][..k].iter().enumerate() {
            panel[kk * 8 + m] = s ^ flip;
        }
    }
}
