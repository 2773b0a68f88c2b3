//! Test support shared by the engine's unit tests: deterministic random data.

/// `n` pseudo-random bytes from `seed`, by a fixed linear congruential generator (tests must
/// not depend on a crate's RNG stream, which may change between versions).
pub fn bytes(n: usize, mut seed: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 24) as u8
        })
        .collect()
}
