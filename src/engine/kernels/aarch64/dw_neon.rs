//! The depthwise convolution's inner block in NEON: 16 channels of one output pixel over all
//! its taps, as XNNPACK's Cortex-A72 depthwise kernels do it: the input minus its zero point
//! widened to 16 bits in one instruction (`USUBL`/`SSUBL`), then 16-bit by 16-bit
//! multiply-accumulates into 32-bit lanes (`SMLAL`, `SMLAL2`). Eight instructions per tap for
//! 16 multiply-adds; LLVM's vectorisation of the portable loop took about 36 (it widened to
//! 32 bits before subtracting and narrowed back). Exactly the portable loop's integers:
//! `(x - x0)` is within [-255, 255] and every product and sum is the same i32 arithmetic.

use std::arch::aarch64::*;

/// `bias + sum over taps of (x[xo + cb + j] - x0) * kernel[ko + cb + j]`, j < 16. `x0` must
/// be representable in the input's type (i8 when `SIGNED`, else u8).
///
/// # Safety
/// Every tap must satisfy `xo + cb + 16 <= image.len()` and `ko + cb + 16 <= kernel.len()`
/// (the caller checks each tap once per pixel rather than per block here).
#[inline(always)]
pub unsafe fn block16<const SIGNED: bool>(
    image: &[u8],
    kernel: &[i16],
    taps: &[(usize, usize)],
    cb: usize,
    x0: i32,
    bias: &[i32; 16],
) -> [i32; 16] {
    // SAFETY: NEON is part of every aarch64 CPU; the loads stay in bounds by the contract.
    unsafe {
        let (xp, kp) = (image.as_ptr().add(cb), kernel.as_ptr().add(cb));
        let [mut a0, mut a1, mut a2, mut a3] = load16(bias);
        for &(xo, ko) in taps {
            debug_assert!(xo + cb + 16 <= image.len() && ko + cb + 16 <= kernel.len());
            let (xs, ks) = (xp.add(xo), kp.add(ko));
            let (lo, hi) = if SIGNED {
                let x = vld1q_s8(xs as *const i8);
                let z = vdupq_n_s8(x0 as i8);
                (
                    vsubl_s8(vget_low_s8(x), vget_low_s8(z)),
                    vsubl_high_s8(x, z),
                )
            } else {
                let x = vld1q_u8(xs);
                let z = vdupq_n_u8(x0 as u8);
                // u8 - u8 wraps in 16 bits: read as i16 it is the exact difference.
                (
                    vreinterpretq_s16_u16(vsubl_u8(vget_low_u8(x), vget_low_u8(z))),
                    vreinterpretq_s16_u16(vsubl_high_u8(x, z)),
                )
            };
            let k0 = vld1q_s16(ks);
            let k1 = vld1q_s16(ks.add(8));
            a0 = vmlal_s16(a0, vget_low_s16(lo), vget_low_s16(k0));
            a1 = vmlal_high_s16(a1, lo, k0);
            a2 = vmlal_s16(a2, vget_low_s16(hi), vget_low_s16(k1));
            a3 = vmlal_high_s16(a3, hi, k1);
        }
        store16([a0, a1, a2, a3])
    }
}

/// `bias + sum over taps of x[xo + cb + j] * kernel[ko + cb + j]`, j < 16, for an int8
/// input and a kernel within [-127, 127] (the zero point is in `bias`; ops/depthwise.rs `Narrow`).
/// Two taps per step: `SMULL` then `SMLAL` of bytes into 16-bit lanes (at most
/// 2 * 128 * 127 = 32512, no overflow), widened into the 32-bit sums once (`SADDW`).
///
/// # Safety
/// As [`block16`], with `kernel` in place of the 16-bit one.
#[inline(always)]
pub unsafe fn block16_narrow(
    image: &[u8],
    kernel: &[i8],
    taps: &[(usize, usize)],
    cb: usize,
    bias: &[i32; 16],
) -> [i32; 16] {
    // SAFETY: NEON is part of every aarch64 CPU; the loads stay in bounds by the contract.
    unsafe {
        let (xp, kp) = (image.as_ptr().add(cb) as *const i8, kernel.as_ptr().add(cb));
        let mut a = load16(bias);
        let mut pairs = taps.chunks_exact(2);
        for pair in &mut pairs {
            let ((xa, ka), (xb, kb)) = (pair[0], pair[1]);
            debug_assert!(xa.max(xb) + cb + 16 <= image.len());
            debug_assert!(ka.max(kb) + cb + 16 <= kernel.len());
            let (x1, k1) = (vld1q_s8(xp.add(xa)), vld1q_s8(kp.add(ka)));
            let (x2, k2) = (vld1q_s8(xp.add(xb)), vld1q_s8(kp.add(kb)));
            let lo = vmull_s8(vget_low_s8(x1), vget_low_s8(k1));
            let lo = vmlal_s8(lo, vget_low_s8(x2), vget_low_s8(k2));
            let hi = vmlal_high_s8(vmull_high_s8(x1, k1), x2, k2);
            a = add_widened(a, lo, hi);
        }
        if let [(xa, ka)] = *pairs.remainder() {
            debug_assert!(xa + cb + 16 <= image.len() && ka + cb + 16 <= kernel.len());
            let (x1, k1) = (vld1q_s8(xp.add(xa)), vld1q_s8(kp.add(ka)));
            let lo = vmull_s8(vget_low_s8(x1), vget_low_s8(k1));
            let hi = vmull_high_s8(x1, k1);
            a = add_widened(a, lo, hi);
        }
        store16(a)
    }
}

/// The 16 bias values as four vectors of accumulators.
#[inline(always)]
fn load16(bias: &[i32; 16]) -> [int32x4_t; 4] {
    // SAFETY: NEON is part of every aarch64 CPU; the loads read the 16 values.
    unsafe {
        let p = bias.as_ptr();
        [
            vld1q_s32(p),
            vld1q_s32(p.add(4)),
            vld1q_s32(p.add(8)),
            vld1q_s32(p.add(12)),
        ]
    }
}

/// The four accumulator vectors as 16 values.
#[inline(always)]
fn store16(a: [int32x4_t; 4]) -> [i32; 16] {
    let mut out = [0i32; 16];
    // SAFETY: NEON is part of every aarch64 CPU; the stores write the 16 values.
    unsafe {
        let p = out.as_mut_ptr();
        vst1q_s32(p, a[0]);
        vst1q_s32(p.add(4), a[1]);
        vst1q_s32(p.add(8), a[2]);
        vst1q_s32(p.add(12), a[3]);
    }
    out
}

/// `a` plus 16 sums of 16-bit lanes (`lo`: channels 0-7, `hi`: 8-15), widened (`SADDW`).
#[inline(always)]
fn add_widened(a: [int32x4_t; 4], lo: int16x8_t, hi: int16x8_t) -> [int32x4_t; 4] {
    // SAFETY: NEON is part of every aarch64 CPU.
    unsafe {
        [
            vaddw_s16(a[0], vget_low_s16(lo)),
            vaddw_high_s16(a[1], lo),
            vaddw_s16(a[2], vget_low_s16(hi)),
            vaddw_high_s16(a[3], hi),
        ]
    }
}
