//! The one way an op's output is split over breedcam's inference threads ([`super::pool`]).

use super::pool;

/// Runs per inference thread: more than one, so that a thread the host preempts (these are
/// shared vCPUs) leaves work for the others to take; finer splits cost more in hand-offs
/// than they gain. (1, 2 and 4 measured on the 2-vCPU build machine: lite2 at 2 threads took
/// 0.75x, 0.62x and 0.58x of the one-thread time (`profile_ops`), medians of four
/// interleaved rounds.)
pub const RUNS_PER_THREAD: usize = 4;

/// Cuts `out` into runs of whole `unit`-byte units (the last unit may be short) and calls
/// `f(first unit, run)` for each: one run on this thread without a pool (or with a single
/// unit), else about [`RUNS_PER_THREAD`] runs per inference thread. Returns an error of `f`
/// if any run failed.
pub fn for_runs<E: Send>(
    out: &mut [u8],
    unit: usize,
    f: impl Fn(usize, &mut [u8]) -> Result<(), E> + Sync,
) -> Result<(), E> {
    let units = out.len().div_ceil(unit.max(1));
    let Some(pool) = pool::current().filter(|_| units > 1) else {
        return f(0, out);
    };
    let per = units.div_ceil(pool.threads() * RUNS_PER_THREAD).max(1);
    let runs = units.div_ceil(per);
    let total = out.len();
    let base = Shared(out.as_mut_ptr());
    let failed = std::sync::Mutex::new(None);
    pool.for_each(runs, &|run| {
        let start = run * per * unit;
        let end = ((run + 1) * per * unit).min(total);
        // SAFETY: runs cover disjoint byte ranges of `out`, which is borrowed mutably for the
        // whole of `for_each`, and `start <= end <= out.len()`.
        let o = unsafe { std::slice::from_raw_parts_mut(base.at(start), end - start) };
        if let Err(e) = f(run * per, o) {
            *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        }
    });
    match failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Calls `f(index, item)` for each `len`-byte item of `out` (the last may be short), split
/// over the inference threads by [`for_runs`].
pub fn for_chunks(out: &mut [u8], len: usize, f: impl Fn(usize, &mut [u8]) + Sync) {
    let done: Result<(), std::convert::Infallible> = for_runs(out, len, |first, run| {
        for (k, item) in run.chunks_mut(len).enumerate() {
            f(first + k, item)
        }
        Ok(())
    });
    let Ok(()) = done;
}

/// A pointer into a buffer that disjoint tasks write to.
#[derive(Clone, Copy)]
struct Shared<T>(*mut T);
// SAFETY: only used for disjoint ranges, one task each, while the buffer is borrowed.
unsafe impl<T> Send for Shared<T> {}
// SAFETY: as for `Send`: no two tasks touch the same element.
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The element pointer at `i` (a method, so closures capture the whole `Sync` wrapper).
    fn at(&self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}
