//! breedcam's inference threads: the pool ([`pool`]), where its threads run ([`affinity`]),
//! and the one way an op splits its output over them ([`split`]).

pub mod affinity;
pub mod pool;
pub mod split;

pub use pool::{current, inference, set_threads, with_pool, Pool};

use crate::Error;

/// The CPUs this process may run on (its affinity mask; else what the system says).
pub fn usable_cpus() -> usize {
    match affinity::allowed().len() {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

/// The most inference threads `--threads` may ask for: 4 per usable CPU. More only adds
/// switching, and each `--threads` thread is two (a pool helper and a worker of
/// tract-linalg's executor for tract's own ops), so a typo like `--threads 100000` would
/// otherwise run the system out of threads.
pub fn max_threads() -> usize {
    4 * usable_cpus()
}

/// `--threads n` checked: at least 1, at most [`max_threads`].
pub fn check_threads(n: usize) -> Result<(), Error> {
    let max = max_threads();
    if n == 0 || n > max {
        return Err(Error::usage(
            "--threads",
            format!(
                "{n}: must be 1..={max} (at most 4 per CPU; this process may use {})",
                usable_cpus()
            ),
        ));
    }
    Ok(())
}
pub use split::{for_chunks, for_runs};
