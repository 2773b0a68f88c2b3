//! x86-64 kernels: AVX2 ([`Avx2`]).

pub mod dw_avx2;
pub mod pw_avx2;

use super::generic::pw_i16;
use super::{Isa, Job, Kernels};

/// The AVX2 kernel set. A value exists only on a CPU with AVX2 ([`Avx2::detect`]).
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());

impl Avx2 {
    /// The AVX2 kernels, if this CPU has AVX2. The one place breedcam asks.
    pub fn detect() -> Option<Avx2> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Avx2(()))
    }

    /// Runs `job` inside a function compiled for AVX2.
    #[inline]
    pub fn enter<J: Job>(self, job: J) -> J::Out {
        #[target_feature(enable = "avx2")]
        fn entry<J: Job>(k: Avx2, job: J) -> J::Out {
            job.run(k)
        }
        // SAFETY: an `Avx2` value exists only when the CPU has AVX2 (`detect`).
        unsafe { entry(self, job) }
    }
}

impl Kernels for Avx2 {
    const ISA: Isa = Isa::Avx2;

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
        // SAFETY: the CPU has AVX2 (`self` exists); the taps are in bounds by this function's
        // contract, which is the block's.
        unsafe { dw_avx2::block16::<SIGNED>(image, kernel, taps, cb, x0 as i16, bias) }
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
        super::generic::dw::block16_narrow(image, kernel, taps, cb, bias)
    }

    fn pw_pack(self, x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]) {
        let len = k.div_ceil(2) * 2;
        assert!(x.len() >= rows * k && dst.len() >= rows * len);
        // SAFETY: the CPU has AVX2 (`self` exists); bounds asserted just above.
        unsafe { pw_avx2::pack_avx2(x, rows, k, flip, dst) }
    }

    fn pw_matmul(self, w: &pw_i16::Weights, x: &[i16], rows: usize, acc: &mut [i32]) {
        assert!(x.len() >= rows.div_ceil(pw_i16::MR) * pw_i16::MR * w.pixel_len());
        assert!(acc.len() >= rows * w.cout);
        // SAFETY: the CPU has AVX2 (`self` exists); `x` and `acc` bounds asserted just above.
        unsafe { pw_avx2::matmul_avx2(w, x, rows, acc) }
    }

    fn pack_kouter8(self, x: &[u8], k: usize, flip: u8, panel: &mut [u8]) {
        super::generic::pack::kouter8(x, k, flip, panel)
    }
}
