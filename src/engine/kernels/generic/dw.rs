//! The depthwise convolution's inner block, the reference: 16 channels of one output pixel
//! over all its taps. The SIMD blocks (`x86_64/dw_avx2.rs`, `aarch64/dw_neon.rs`) compute
//! exactly these integers.

/// `bias + sum over taps of (x[xo + cb + j] - x0) * kernel[ko + cb + j]`, j < 16, with `x` the
/// image byte read as i8 when `SIGNED`, else as u8, and the difference taken in 16 bits.
/// Panics if a tap is out of bounds.
#[inline(always)]
pub fn block16<const SIGNED: bool>(
    image: &[u8],
    kernel: &[i16],
    taps: &[(usize, usize)],
    cb: usize,
    x0: i32,
    bias: &[i32; 16],
) -> [i32; 16] {
    let x0 = x0 as i16;
    let mut a = *bias;
    for &(xo, ko) in taps {
        let xs: &[u8; 16] = image[xo + cb..xo + cb + 16].try_into().unwrap();
        let ks: &[i16; 16] = kernel[ko + cb..ko + cb + 16].try_into().unwrap();
        for j in 0..16 {
            let xv = if SIGNED {
                xs[j] as i8 as i16
            } else {
                xs[j] as i16
            };
            a[j] += ((xv - x0) as i32) * (ks[j] as i32);
        }
    }
    a
}

/// `bias + sum over taps of x[xo + cb + j] * kernel[ko + cb + j]`, j < 16, for an int8 input
/// and an 8-bit kernel (the zero point already folded into `bias`). Panics if a tap is out of
/// bounds.
#[inline(always)]
pub fn block16_narrow(
    image: &[u8],
    kernel: &[i8],
    taps: &[(usize, usize)],
    cb: usize,
    bias: &[i32; 16],
) -> [i32; 16] {
    let mut a = *bias;
    for &(xo, ko) in taps {
        let xs = &image[xo + cb..xo + cb + 16];
        let ks = &kernel[ko + cb..ko + cb + 16];
        for j in 0..16 {
            a[j] += xs[j] as i8 as i32 * ks[j] as i32;
        }
    }
    a
}
