//! Steering tract's kernel choice away from a kernel that is slow on some CPUs.
//!
//! On an x86-64 CPU with AVX2 but neither AVX-512 VNNI nor AVX-VNNI, tract-linalg 0.23.9
//! runs every int8 matmul on `avx2_mmm_i32_8x8`. That kernel's inner loop (one step of k)
//! starts with `movq xmm8, qword ptr [rax]` in the *legacy SSE* encoding (`f3 44 0f 7e`, no
//! VEX prefix) while its eight ymm accumulators hold non-zero upper halves. AMD's own
//! optimisation guide for Zen 2 (EPYC 7xx2, section "Mixing AVX and SSE") documents a
//! microcode fault of about 100 cycles each way for exactly this, and Intel's Haswell and
//! Broadwell have the same state-transition penalty: two penalties per 64 multiply-adds.
//! That is the "AVX2 cliff" (EfficientNet-Lite2 at 2.5 s on an EPYC without AVX-512, against
//! 34 ms for TFLite): docs/avx2-cliff.md has the reproduction and numbers.
//!
//! tract's `avx_mmm_i32_8x4` (128-bit, VEX-encoded throughout, same packing of the weights)
//! has no legacy-SSE instruction at all. breedcam therefore takes `avx2` out of the
//! instruction sets tract dispatches on, through tract's `TRACT_CPU_ISA` knob, on the CPUs
//! that have the penalty, before tract first probes the CPU. A `TRACT_CPU_ISA` in the
//! environment wins over this (set it to `+avx2` to keep the AVX2 kernel).
//!
//! The 128-bit kernel still left EfficientNet-Lite2 at 4.5x TFLite XNNPACK on an AMD EPYC
//! (Zen 3), so on the same CPUs the pointwise layers run on breedcam's own AVX2 kernel
//! ([`own_avx2_pointwise`], src/engine/kernels/x86_64/pw_avx2.rs); tract keeps the 3x3 stem.

/// Whether breedcam's own AVX2 kernel runs the pointwise layers (src/engine/kernels/x86_64/pw_avx2.rs):
/// on the CPUs with the transition penalty, unless `BREEDCAM_POINTWISE=tract` asks for
/// tract's kernel (the steered one, or whatever `TRACT_CPU_ISA` selects).
pub fn own_avx2_pointwise() -> bool {
    static OWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OWN.get_or_init(|| {
        let tract = std::env::var("BREEDCAM_POINTWISE").is_ok_and(|v| v == "tract");
        !tract && transition_penalty()
    })
}

/// What [`prepare`] did, for reports.
pub fn steering() -> Option<&'static str> {
    *STEERED.get_or_init(decide)
}

static STEERED: std::sync::OnceLock<Option<&'static str>> = std::sync::OnceLock::new();

/// Call before the first model is imported (tract probes the CPU once, then keeps the answer).
pub fn prepare() {
    let _ = steering();
}

fn decide() -> Option<&'static str> {
    if !transition_penalty() || std::env::var_os("TRACT_CPU_ISA").is_some() {
        return None;
    }
    let spec = "-avx2";
    match tract_core::knobs::set_config_global("TRACT_CPU_ISA", spec) {
        Ok(()) => {
            log::info!("this CPU pays for mixing SSE and AVX: tract's ISA edited with {spec}");
            Some("avx2 dropped for tract's int8 matmul (SSE/AVX transition penalty; docs/avx2-cliff.md)")
        }
        Err(e) => {
            log::warn!("could not steer tract's kernel choice: {e}");
            None
        }
    }
}

/// Whether tract would pick `avx2_mmm_i32_8x8` here on a CPU known to fault on its legacy-SSE
/// load: AVX2 without AVX-512 VNNI or AVX-VNNI, and an AMD CPU (Zen 1 to 3) or an Intel
/// Haswell / Broadwell.
#[cfg(target_arch = "x86_64")]
fn transition_penalty() -> bool {
    use std::arch::x86_64::__cpuid_count;
    if !std::arch::is_x86_feature_detected!("avx2") {
        return false;
    }
    let vnni512 = std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512vnni");
    let leaf0 = __cpuid_count(0, 0);
    let avx_vnni = leaf0.eax >= 7 && (__cpuid_count(7, 1).eax >> 4) & 1 == 1;
    if vnni512 || avx_vnni {
        return false;
    }
    let vendor: Vec<u8> = [leaf0.ebx, leaf0.edx, leaf0.ecx]
        .iter()
        .flat_map(|r| r.to_le_bytes())
        .collect();
    let sig = __cpuid_count(1, 0).eax;
    let (base_family, ext_family) = ((sig >> 8) & 0xf, (sig >> 20) & 0xff);
    let family = if base_family == 0xf {
        base_family + ext_family
    } else {
        base_family
    };
    let model = ((sig >> 4) & 0xf) | (((sig >> 16) & 0xf) << 4);
    match vendor.as_slice() {
        b"AuthenticAMD" | b"HygonGenuine" => true,
        // Haswell (3C 3F 45 46) and Broadwell (3D 47 4F 56).
        b"GenuineIntel" => {
            family == 6 && matches!(model, 0x3C | 0x3F | 0x45 | 0x46 | 0x3D | 0x47 | 0x4F | 0x56)
        }
        _ => false,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn transition_penalty() -> bool {
    false
}
