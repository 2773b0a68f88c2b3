//! Splitting an output buffer over breedcam's inference threads (`--threads`,
//! [`crate::model::pool`]).

use crate::model::pool;

/// Calls `f(index, item)` for each `len`-byte item of `out`: in order on this thread, or,
/// with several inference threads, in about four runs of items per thread, each run taken by
/// whichever thread is free (finer splits cost more in hand-offs than they gain).
pub fn for_chunks(out: &mut [u8], len: usize, f: impl Fn(usize, &mut [u8]) + Sync) {
    let Some(pool) = pool::current() else {
        out.chunks_mut(len).enumerate().for_each(|(i, o)| f(i, o));
        return;
    };
    let items = out.len().div_ceil(len);
    let per = items.div_ceil(pool.threads() * 4).max(1);
    let runs = items.div_ceil(per);
    let base = Shared(out.as_mut_ptr());
    let total = out.len();
    pool.for_each(runs, &|run| {
        let start = run * per * len;
        let end = ((run + 1) * per * len).min(total);
        // SAFETY: runs cover disjoint byte ranges of `out`, which outlives `for_each`.
        let o = unsafe { std::slice::from_raw_parts_mut(base.at(start), end - start) };
        for (k, item) in o.chunks_mut(len).enumerate() {
            f(run * per + k, item)
        }
    });
}

/// A pointer into a buffer that disjoint tasks write to.
#[derive(Clone, Copy)]
pub struct Shared<T>(pub *mut T);
// SAFETY: only used for disjoint ranges, one task each, while the buffer is borrowed.
unsafe impl<T> Send for Shared<T> {}
unsafe impl<T> Sync for Shared<T> {}

impl<T> Shared<T> {
    /// The element pointer at `i` (a method, so closures capture the whole `Sync` wrapper).
    pub fn at(&self, i: usize) -> *mut T {
        self.0.wrapping_add(i)
    }
}
