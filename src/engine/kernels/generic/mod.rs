//! The reference kernels: plain Rust, on every CPU. Every SIMD kernel is tested against these
//! (`kernels/tests.rs`).

pub mod dw;
pub mod pack;
pub mod pw_i16;

use super::{Isa, Kernels};

/// The reference kernels as a kernel set.
#[derive(Clone, Copy, Debug)]
pub struct Generic;

impl Kernels for Generic {
    const ISA: Isa = Isa::Generic;

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
        dw::block16::<SIGNED>(image, kernel, taps, cb, x0, bias)
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
        dw::block16_narrow(image, kernel, taps, cb, bias)
    }

    fn pw_pack(self, x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
        pw_i16::pack(x, rows, k, flip, dst)
    }

    fn pw_matmul(self, w: &pw_i16::Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
        pw_i16::matmul(w, x, rows, acc)
    }

    fn pack_kouter8(self, x: &[u8], k: usize, flip: u8, panel: &mut [u8]) {
        pack::kouter8(x, k, flip, panel)
    }
}
