//! aarch64 kernels: NEON ([`Neon`]).

pub mod dw_neon;
pub mod pack_neon;

use super::generic::{self, pw_i16};
use super::{Isa, Kernels};

/// The NEON kernel set (NEON is part of every aarch64 CPU).
#[derive(Clone, Copy, Debug)]
pub struct Neon(());

impl Neon {
    pub fn new() -> Neon {
        Neon(())
    }
}

impl Default for Neon {
    fn default() -> Neon {
        Neon::new()
    }
}

impl Kernels for Neon {
    const ISA: Isa = Isa::Neon;
    const NARROW_DEPTHWISE: bool = true;

    #[inline(always)]
    unsafe fn dw_block16<const SIGNED: bool>(
        self,
        image: &[u8],
        kernel: &[i16],
        taps: &[(usize, usize)],
        cb: usize,
        x0: i32,
        bias: &[i32; 16],
    ) -> [i32; 16] {
        // The NEON block needs the zero point in the input's own type (TFLite's rule).
        let fits = if SIGNED {
            i8::try_from(x0).is_ok()
        } else {
            u8::try_from(x0).is_ok()
        };
        if !fits {
            return generic::dw::block16::<SIGNED>(image, kernel, taps, cb, x0, bias);
        }
        // SAFETY: the taps are in bounds by this function's contract, which is the block's,
        // and `x0` fits the input's type (checked just above).
        unsafe { dw_neon::block16::<SIGNED>(image, kernel, taps, cb, x0, bias) }
    }

    #[inline(always)]
    unsafe fn dw_block16_narrow(
        self,
        image: &[u8],
        kernel: &[i8],
        taps: &[(usize, usize)],
        cb: usize,
        bias: &[i32; 16],
    ) -> [i32; 16] {
        // SAFETY: as `dw_block16`: the block's own contract.
        unsafe { dw_neon::block16_narrow(image, kernel, taps, cb, bias) }
    }

    fn pw_pack(self, x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
        pw_i16::pack(x, rows, k, flip, dst)
    }

    fn pw_matmul(self, w: &pw_i16::Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
        pw_i16::matmul(w, x, rows, acc)
    }

    fn pack_kouter8(self, x: &[u8], k: usize, flip: u8, panel: &mut [u8]) {
        pack_neon::kouter8(x, k, flip, panel)
    }
}
