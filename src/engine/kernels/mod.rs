//! The compute kernels under breedcam's int8 ops, chosen once per process.
//!
//! A kernel set implements [`Kernels`]: [`generic::Generic`] (plain Rust, the reference, on
//! every CPU), `x86_64::Avx2` and `aarch64::Neon`. [`with_kernels`] runs a [`Job`] on the set
//! picked for this CPU: the CPU is probed once ([`picked`], a `OnceLock`), never on a hot path,
//! and a job's loop is compiled once per set (generic over `K: Kernels`, inlined into an entry
//! compiled with the set's instruction set), so the portable code around the SIMD blocks is
//! vectorised for that CPU too. SIMD intrinsics appear only under this folder. Every kernel is
//! tested against the reference by one macro (`tests.rs`).
//!
//! [`steering`] is the other half of the choice: which of tract-linalg's matmul kernels run
//! (tract's own dispatch, steered away from a kernel that is slow on some CPUs).

#[cfg(target_arch = "aarch64")]
pub mod aarch64;
pub mod generic;
pub mod steering;
#[cfg(test)]
mod tests;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;

use std::sync::OnceLock;

use generic::pw_i16;

/// The instruction sets breedcam has kernels for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    Generic,
    Avx2,
    Neon,
}

/// One instruction set's kernels. A value of the type is the proof that the CPU has the
/// instruction set (only [`picked`] and the tests make the SIMD ones, after probing), so the
/// methods need no CPU check.
pub trait Kernels: Copy {
    const ISA: Isa;
    /// Whether [`Kernels::dw_block16_narrow`] is faster than [`Kernels::dw_block16`] here:
    /// only then do depthwise ops keep the 8-bit copy of their kernel it reads.
    const NARROW_DEPTHWISE: bool = false;

    /// The depthwise block, [`generic::dw::block16`]: 16 channels of one output pixel.
    ///
    /// # Safety
    /// Every tap `(xo, ko)` must satisfy `xo + cb + 16 <= image.len()` and
    /// `ko + cb + 16 <= kernel.len()` (the caller checks each tap once per pixel rather than
    /// per block here).
    #[allow(clippy::too_many_arguments)]
    unsafe fn dw_block16<const SIGNED: bool>(
        self,
        image: &[u8],
        kernel: &[i16],
        taps: &[(usize, usize)],
        cb: usize,
        x0: i32,
        bias: &[i32; 16],
    ) -> [i32; 16];

    /// The depthwise block on an int8 input with an 8-bit kernel and the zero point folded into
    /// `bias`, [`generic::dw::block16_narrow`].
    ///
    /// # Safety
    /// As [`Kernels::dw_block16`], with `kernel` the 8-bit one.
    unsafe fn dw_block16_narrow(
        self,
        image: &[u8],
        kernel: &[i8],
        taps: &[(usize, usize)],
        cb: usize,
        bias: &[i32; 16],
    ) -> [i32; 16];

    /// [`pw_i16::pack`].
    fn pw_pack(self, x: &[u8], rows: usize, k: usize, flip: u8, dst: &mut [i16]);

    /// [`pw_i16::matmul`].
    fn pw_matmul(self, w: &pw_i16::Weights, x: &[i16], rows: usize, acc: &mut [i32]);

    /// [`generic::pack::kouter8`].
    fn pack_kouter8(self, x: &[u8], k: usize, flip: u8, panel: &mut [u8]);
}

/// Work that runs on a kernel set: [`with_kernels`] calls `run` with this CPU's.
pub trait Job {
    type Out;
    /// Implementations should be `#[inline(always)]`, so that the loop is compiled inside
    /// the kernel set's entry, for its instruction set.
    fn run<K: Kernels>(self, k: K) -> Self::Out;
}

/// The kernel set this process uses.
#[derive(Clone, Copy, Debug)]
enum Picked {
    Generic,
    #[cfg(target_arch = "x86_64")]
    Avx2(x86_64::Avx2),
    #[cfg(target_arch = "aarch64")]
    Neon(aarch64::Neon),
}

static PICKED: OnceLock<Picked> = OnceLock::new();

fn picked_set() -> Picked {
    *PICKED.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        if let Some(k) = x86_64::Avx2::detect() {
            return Picked::Avx2(k);
        }
        #[cfg(target_arch = "aarch64")]
        return Picked::Neon(aarch64::Neon::new());
        #[allow(unreachable_code)]
        Picked::Generic
    })
}

/// The instruction set of the kernels this process uses (probed once).
pub fn picked() -> Isa {
    match picked_set() {
        Picked::Generic => Isa::Generic,
        #[cfg(target_arch = "x86_64")]
        Picked::Avx2(_) => Isa::Avx2,
        #[cfg(target_arch = "aarch64")]
        Picked::Neon(_) => Isa::Neon,
    }
}

/// Whether depthwise ops should keep the 8-bit copy of their kernel
/// ([`Kernels::NARROW_DEPTHWISE`] of the picked set).
pub fn narrow_depthwise() -> bool {
    struct Narrow;
    impl Job for Narrow {
        type Out = bool;
        fn run<K: Kernels>(self, _: K) -> bool {
            K::NARROW_DEPTHWISE
        }
    }
    with_kernels(Narrow)
}

/// Runs `job` on this CPU's kernel set.
#[inline]
pub fn with_kernels<J: Job>(job: J) -> J::Out {
    match picked_set() {
        Picked::Generic => job.run(generic::Generic),
        #[cfg(target_arch = "x86_64")]
        Picked::Avx2(k) => k.enter(job),
        #[cfg(target_arch = "aarch64")]
        Picked::Neon(k) => job.run(k),
    }
}
