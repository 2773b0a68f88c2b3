//! The depthwise convolution's inner block in AVX2: 16 channels of one output pixel over all
//! its taps, two taps per multiply-add. The input minus its zero point and the kernel are
//! both 16 bits wide; `vpunpcklwd`/`vpunpckhwd` put tap t and tap t+1 of a channel side by
//! side, so one `vpmaddwd` adds both products into the channel's 32-bit lane (XNNPACK's AVX2
//! depthwise kernels multiply 16-bit pairs the same way). About 16 instructions per pair of
//! taps (32 multiply-adds); LLVM's vectorisation of the portable loop took about 14 per tap,
//! widening everything to 32 bits first. Exactly the portable loop's integers: `x - x0` and
//! the kernel are within [-255, 255], so each pair of products fits in i32.
//!
//! The unpacks work inside 128-bit lanes: the "low" accumulator holds channels 0-3 and 8-11,
//! the "high" one 4-7 and 12-15; the bias goes in and the sums come out through the same
//! permutation.

use std::arch::x86_64::*;

/// `bias + sum over taps of (x[xo + cb + j] - x0) * kernel[ko + cb + j]`, j < 16.
///
/// # Safety
/// AVX2 must be available. Every tap must satisfy `xo + cb + 16 <= image.len()` and
/// `ko + cb + 16 <= kernel.len()` (the caller checks each tap once per pixel).
#[inline]
#[target_feature(enable = "avx2")]
pub unsafe fn block16<const SIGNED: bool>(
    image: &[u8],
    kernel: &[i16],
    taps: &[(usize, usize)],
    cb: usize,
    x0: i16,
    bias: &[i32; 16],
) -> [i32; 16] {
    // SAFETY: the caller guarantees AVX2 and that every tap is in bounds (this
    // function's contract): each 16-byte input load and 32-byte kernel load below stays inside
    // `image` and `kernel`; the bias loads and the output stores cover the 16 values.
    unsafe {
        let (xp, kp) = (image.as_ptr().add(cb), kernel.as_ptr().add(cb));
        let z = _mm256_set1_epi16(x0);
        let widen = |xo: usize| {
            debug_assert!(xo + cb + 16 <= image.len());
            let v = _mm_loadu_si128(xp.add(xo) as *const __m128i);
            let w = if SIGNED {
                _mm256_cvtepi8_epi16(v)
            } else {
                _mm256_cvtepu8_epi16(v)
            };
            _mm256_sub_epi16(w, z)
        };
        let kernel16 = |ko: usize| {
            debug_assert!(ko + cb + 16 <= kernel.len());
            _mm256_loadu_si256(kp.add(ko) as *const __m256i)
        };
        // bias[0..8] and bias[8..16] -> (0-3, 8-11) and (4-7, 12-15).
        let b0 = _mm256_loadu_si256(bias.as_ptr() as *const __m256i);
        let b1 = _mm256_loadu_si256(bias.as_ptr().add(8) as *const __m256i);
        let mut lo = _mm256_permute2x128_si256::<0x20>(b0, b1);
        let mut hi = _mm256_permute2x128_si256::<0x31>(b0, b1);
        let mut pairs = taps.chunks_exact(2);
        for pair in &mut pairs {
            let ((x1, k1), (x2, k2)) = (pair[0], pair[1]);
            let (xa, xb) = (widen(x1), widen(x2));
            let (ka, kb) = (kernel16(k1), kernel16(k2));
            madd_taps(&mut lo, &mut hi, (xa, xb), (ka, kb));
        }
        if let [(x1, k1)] = *pairs.remainder() {
            // The odd tap, paired with zeros.
            let zero = _mm256_setzero_si256();
            madd_taps(&mut lo, &mut hi, (widen(x1), zero), (kernel16(k1), zero));
        }
        let mut out = [0i32; 16];
        let o = out.as_mut_ptr() as *mut __m256i;
        _mm256_storeu_si256(o, _mm256_permute2x128_si256::<0x20>(lo, hi));
        _mm256_storeu_si256(o.add(1), _mm256_permute2x128_si256::<0x31>(lo, hi));
        out
    }
}

/// Adds two taps' products of 16 channels: `x.0 * k.0 + x.1 * k.1` per channel, into `lo`
/// (channels 0-3, 8-11) and `hi` (4-7, 12-15).
#[inline]
#[target_feature(enable = "avx2")]
fn madd_taps(lo: &mut __m256i, hi: &mut __m256i, x: (__m256i, __m256i), k: (__m256i, __m256i)) {
    let xl = _mm256_unpacklo_epi16(x.0, x.1);
    let xh = _mm256_unpackhi_epi16(x.0, x.1);
    let kl = _mm256_unpacklo_epi16(k.0, k.1);
    let kh = _mm256_unpackhi_epi16(k.0, k.1);
    *lo = _mm256_add_epi32(*lo, _mm256_madd_epi16(xl, kl));
    *hi = _mm256_add_epi32(*hi, _mm256_madd_epi16(xh, kh));
}
