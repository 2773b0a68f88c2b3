//! Every kernel set against the reference ([`super::generic`]), by one macro: each set gets
//! the same tests, on the same data, and must give the reference's integers exactly.

use super::generic::{dw, pack, pw_i16};
use super::Kernels;
use crate::engine::testing::bytes;

/// Taps for a block at `cb` of a `c`-channel image of `pixels` pixels and a `taps`-tap kernel:
/// every tap in bounds, in the order a window visits them, some pixels repeated.
fn taps(pixels: usize, c: usize, taps: usize, seed: u32) -> Vec<(usize, usize)> {
    bytes(taps, seed)
        .iter()
        .enumerate()
        .map(|(t, &b)| ((b as usize % pixels) * c, t * c))
        .collect()
}

/// The depthwise block, both signs, with tap counts 0 to 25 (odd ones leave a tap unpaired),
/// zero points inside and (16-bit form only) outside the input's range.
fn depthwise_block<K: Kernels>(k: K) {
    let (pixels, c) = (30, 48);
    for n in 0..=25 {
        let image = bytes(pixels * c, 7 + n as u32);
        let kernel: Vec<i16> = bytes(25 * c, 90 + n as u32)
            .iter()
            .map(|&b| b as i8 as i16 * if n % 3 == 0 { 2 } else { 1 })
            .collect();
        let t = taps(pixels, c, n, 200 + n as u32);
        let bias: Vec<i32> = (0..c as i32).map(|v| v * 977 - 20_000).collect();
        for cb in [0, 16, 32] {
            let b: &[i32; 16] = bias[cb..cb + 16].try_into().unwrap();
            for x0 in [-128, -3, 0, 5, 127] {
                let want = dw::block16::<true>(&image, &kernel, &t, cb, x0, b);
                // SAFETY: `taps` keeps every tap in bounds and cb + 16 <= c.
                let got = unsafe { k.dw_block16::<true>(&image, &kernel, &t, cb, x0, b) };
                assert_eq!(got, want, "int8, {n} taps, block {cb}, x0 {x0}");
            }
            for x0 in [0, 1, 128, 255, 300] {
                let want = dw::block16::<false>(&image, &kernel, &t, cb, x0, b);
                // SAFETY: as above.
                let got = unsafe { k.dw_block16::<false>(&image, &kernel, &t, cb, x0, b) };
                assert_eq!(got, want, "uint8, {n} taps, block {cb}, x0 {x0}");
            }
            // The 8-bit form: a kernel within [-127, 127], the zero point folded into the
            // bias; it must also equal the 16-bit block on the same taps.
            let narrow: Vec<i8> = kernel.iter().map(|&v| v.clamp(-127, 127) as i8).collect();
            let wide: Vec<i16> = narrow.iter().map(|&v| v as i16).collect();
            let x0 = -7;
            let folded: Vec<i32> = (0..16)
                .map(|j| {
                    let sum: i32 = t.iter().map(|&(_, ko)| narrow[ko + cb + j] as i32).sum();
                    b[j] - x0 * sum
                })
                .collect();
            let folded: &[i32; 16] = folded[..].try_into().unwrap();
            let want = dw::block16_narrow(&image, &narrow, &t, cb, folded);
            assert_eq!(want, dw::block16::<true>(&image, &wide, &t, cb, x0, b));
            // SAFETY: as above.
            let got = unsafe { k.dw_block16_narrow(&image, &narrow, &t, cb, folded) };
            assert_eq!(got, want, "8-bit form, {n} taps, block {cb}");
        }
    }
}

/// The i16 pointwise pack and matmul: odd k (the pad), channel counts that end in a half
/// group and a partial one, pixel counts that end in a partial micro-tile, the uint8 flip.
fn pointwise_i16<K: Kernels>(k: K) {
    for &(cin, cout, rows) in &[
        (1, 1, 1),
        (3, 5, 7),
        (17, 24, 13),
        (33, 100, 12),
        (144, 24, 50),
    ] {
        for flip in [0u8, 0x80] {
            let kernel: Vec<i8> = bytes(cin * cout, cin as u32)
                .iter()
                .map(|&b| b as i8)
                .collect();
            let x = bytes(rows * cin, cout as u32);
            let bias: Vec<i32> = (0..cout as i32).map(|c| c * 1009 - 40000).collect();
            let w = pw_i16::Weights::new(cin, cout, &kernel, &bias);
            let len = rows.div_ceil(pw_i16::MR) * pw_i16::MR * w.pixel_len();
            let (mut want_x, mut got_x) = (vec![0i16; len], vec![0i16; len]);
            pw_i16::pack(&x, rows, cin, flip, &mut want_x);
            k.pw_pack(&x, rows, cin, flip, &mut got_x);
            assert_eq!(got_x, want_x, "pack {cin} x {rows}, flip {flip:#x}");
            let (mut want, mut got) = (vec![0i32; rows * cout], vec![0i32; rows * cout]);
            pw_i16::matmul(&w, &want_x, rows, &mut want);
            k.pw_matmul(&w, &want_x, rows, &mut got);
            assert_eq!(
                got, want,
                "matmul {cin} -> {cout}, {rows} rows, flip {flip:#x}"
            );
        }
    }
}

/// The k-major panel of eight pixels.
fn kouter8<K: Kernels>(k: K) {
    for kk in [1, 7, 8, 9, 16, 24, 45, 208] {
        let x = bytes(8 * kk, kk as u32);
        for flip in [0, 0x80] {
            let mut want = vec![0x55u8; 8 * kk + 24];
            pack::kouter8(&x, kk, flip, &mut want);
            let mut got = vec![0xAAu8; want.len()];
            k.pack_kouter8(&x, kk, flip, &mut got);
            assert_eq!(got, want, "k {kk}, flip {flip:#x}");
        }
    }
}

/// The tests of one kernel set: `$set` is an `Option` of it (`None`: this CPU cannot run it,
/// and the tests say so and pass).
macro_rules! kernel_tests {
    ($name:ident, $set:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::super::*;

            fn set() -> Option<impl super::Kernels> {
                let s = $set;
                if s.is_none() {
                    eprintln!("{}: not on this CPU", stringify!($name));
                }
                s
            }
            #[test]
            fn depthwise_block() {
                if let Some(k) = set() {
                    super::depthwise_block(k)
                }
            }
            #[test]
            fn pointwise_i16() {
                if let Some(k) = set() {
                    super::pointwise_i16(k)
                }
            }
            #[test]
            fn kouter8() {
                if let Some(k) = set() {
                    super::kouter8(k)
                }
            }
        }
    };
}

kernel_tests!(generic, Some(generic::Generic));
#[cfg(target_arch = "x86_64")]
kernel_tests!(avx2, x86_64::Avx2::detect());
#[cfg(target_arch = "aarch64")]
kernel_tests!(neon, Some(aarch64::Neon::new()));

/// The references against the obvious loops they stand for.
#[test]
fn kouter8_reference_is_the_k_major_scatter() {
    let x: Vec<u8> = (0..8 * 5).map(|i| i as u8).collect();
    let mut panel = vec![0xFFu8; 8 * 5 + 3];
    pack::kouter8(&x, 5, 0x80, &mut panel);
    for m in 0..8 {
        for kk in 0..5 {
            assert_eq!(panel[kk * 8 + m], x[m * 5 + kk] ^ 0x80);
        }
    }
    assert_eq!(&panel[40..], &[0, 0, 0]);
}
