//! breedcam's inference threads: a small fork-join pool whose helpers stay awake for the
//! length of one inference and sleep between inferences.
//!
//! An inference is about 80 parallel steps (each convolution, depthwise convolution and
//! residual add), 0.05 to 1.5 ms each. With rayon (tract's executor) a helper that found no
//! work went to sleep after a short spin, and each step then paid for waking it again. In
//! the 2-vCPU virtual machines here that wake-up costs tens of microseconds (an
//! inter-processor interrupt to a halted vCPU goes through the hypervisor), and two threads
//! ran EfficientNet-Lite2 at 0.7-0.85x of the one-thread time while two one-thread
//! processes ran side by side at full speed each.
//!
//! Here the helpers spin, yielding the core on each turn, while an inference is running
//! ([`hot`]), so a step's work is picked up within a microsecond, and block on a condition
//! variable otherwise: no core is busy between frames. The caller takes tasks too. A second
//! caller arriving while the pool is busy (the kiosk's frames in flight) runs its tasks on
//! its own thread rather than waiting.
//!
//! Where the process may use at least as many CPUs as there are inference threads, helper
//! `i` is pinned to the `i`-th allowed CPU and the inferring thread is kept off the helpers'
//! CPUs while it infers (`affinity.rs` says why; `BREEDCAM_PIN_THREADS=0` turns it off).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use super::affinity;

/// One parallel step: `f(i)` for the tasks of `Shared::shares`.
#[derive(Clone, Copy)]
struct Job {
    /// `&(dyn Fn(usize) + Sync)` with its lifetime erased; valid while the job is posted
    /// (the poster waits for every helper that took it before returning).
    f: *const (dyn Fn(usize) + Sync),
}

// SAFETY: the closure is Sync and outlives every use (see `Job::f`).
unsafe impl Send for Job {}

struct State {
    job: Option<Job>,
    /// Bumped for each posted job.
    epoch: usize,
    /// Helpers stop with the pool.
    stop: bool,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    /// Mirrors `state.epoch` for spinning helpers.
    epoch: AtomicUsize,
    /// Inferences running (helpers spin while non-zero).
    hot: AtomicUsize,
    /// Per thread (the caller is 0): the next task of its share and the end of the share.
    shares: Vec<(AtomicUsize, AtomicUsize)>,
    done: AtomicUsize,
    /// Helpers inside the current job.
    active: AtomicUsize,
    /// Held by the one caller that owns the helpers for a job.
    busy: AtomicBool,
}

/// `threads - 1` helper threads plus the calling thread.
pub struct Pool {
    shared: Arc<Shared>,
    threads: usize,
    helpers: Vec<std::thread::JoinHandle<()>>,
    placement: Option<Placement>,
}

/// Where the threads run when they are pinned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Helper `i + 1`'s CPU.
    pub helpers: Vec<usize>,
    /// The CPUs an inferring caller is kept on: the allowed ones no helper has.
    pub caller: Vec<usize>,
}

impl Placement {
    /// One CPU per helper and at least one for the caller out of `allowed`, or `None`.
    fn of(allowed: &[usize], threads: usize) -> Option<Placement> {
        if threads < 2 || allowed.len() < threads {
            return None;
        }
        Some(Placement {
            helpers: allowed[1..threads].to_vec(),
            caller: [&allowed[..1], &allowed[threads..]].concat(),
        })
    }
}

thread_local! {
    static IS_HELPER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Pool {
    /// A pool of `threads` (the caller and `threads - 1` helpers); panics if a helper cannot
    /// be started: for tests and examples. The program uses [`Pool::try_new`].
    pub fn new(threads: usize) -> Pool {
        Pool::try_new(threads).expect("starting an inference thread")
    }

    /// A pool of `threads` (the caller and `threads - 1` helpers), or the system's error when
    /// a helper cannot be started (the helpers already started are stopped).
    pub fn try_new(threads: usize) -> std::io::Result<Pool> {
        let pin = std::env::var("BREEDCAM_PIN_THREADS").map_or(true, |v| v != "0");
        let placement = pin
            .then(|| Placement::of(&affinity::allowed(), threads))
            .flatten();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                job: None,
                epoch: 0,
                stop: false,
            }),
            wake: Condvar::new(),
            epoch: AtomicUsize::new(0),
            hot: AtomicUsize::new(0),
            shares: (0..threads.max(1))
                .map(|_| (AtomicUsize::new(0), AtomicUsize::new(0)))
                .collect(),
            done: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
        });
        let mut pool = Pool {
            shared,
            threads: threads.max(1),
            helpers: vec![],
            placement,
        };
        for i in 1..threads.max(1) {
            let s = pool.shared.clone();
            let cpu = pool.placement.as_ref().map(|p| p.helpers[i - 1]);
            let helper = std::thread::Builder::new()
                .name(format!("breedcam-infer-{i}"))
                .spawn(move || {
                    if let Some(cpu) = cpu {
                        affinity::set(&[cpu]);
                    }
                    helper(&s, i)
                });
            // On an error, dropping `pool` stops and joins the helpers started so far.
            pool.helpers.push(helper?);
        }
        Ok(pool)
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The CPUs of the helpers and of an inferring caller, if pinned.
    pub fn placement(&self) -> Option<&Placement> {
        self.placement.as_ref()
    }

    /// Calls `f(i)` for every `i < tasks`, spread over the pool; returns when all are done.
    pub fn for_each(&self, tasks: usize, f: &(dyn Fn(usize) + Sync)) {
        let s = &*self.shared;
        if tasks <= 1
            || self.helpers.is_empty()
            || IS_HELPER.get()
            || s.busy.swap(true, Ordering::Acquire)
        {
            (0..tasks).for_each(f);
            return;
        }
        // Thread t starts on the t-th contiguous share of the tasks (the same pixel rows
        // step after step, so its caches hold what the previous step wrote there), then
        // takes what is left of the others'.
        let n = s.shares.len();
        for (t, (next, end)) in s.shares.iter().enumerate() {
            next.store(t * tasks / n, Ordering::Relaxed);
            end.store((t + 1) * tasks / n, Ordering::Relaxed);
        }
        s.done.store(0, Ordering::Relaxed);
        {
            let mut st = s.state.lock().unwrap();
            // SAFETY: lifetime erasure only (same pointer type); the job is withdrawn and every
            // helper that took it has left before this function returns.
            let f: *const (dyn Fn(usize) + Sync) = unsafe { std::mem::transmute(f) };
            st.job = Some(Job { f });
            st.epoch += 1;
            s.epoch.store(st.epoch, Ordering::Release);
        }
        if s.hot.load(Ordering::Relaxed) == 0 {
            s.wake.notify_all();
        }
        run_tasks(s, f, 0);
        while s.done.load(Ordering::Acquire) < tasks {
            std::hint::spin_loop();
        }
        s.state.lock().unwrap().job = None;
        while s.active.load(Ordering::Acquire) > 0 {
            std::hint::spin_loop();
        }
        s.busy.store(false, Ordering::Release);
    }

    /// Runs `f` (one inference) with the helpers awake.
    pub fn hot<R>(&self, f: impl FnOnce() -> R) -> R {
        let s = &*self.shared;
        // Off the helpers' CPUs before waking them (the guard restores on return).
        let _placed = self
            .placement
            .as_ref()
            .and_then(|p| affinity::restrict(&p.caller));
        if s.hot.fetch_add(1, Ordering::AcqRel) == 0 {
            // Take the lock so that a helper about to wait sees `hot` or gets the signal.
            drop(s.state.lock().unwrap());
            s.wake.notify_all();
        }
        struct Cool<'a>(&'a Shared);
        impl Drop for Cool<'_> {
            fn drop(&mut self) {
                self.0.hot.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _cool = Cool(s);
        f()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.state.lock().unwrap().stop = true;
        self.shared.wake.notify_all();
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}

fn run_tasks(s: &Shared, f: &(dyn Fn(usize) + Sync), me: usize) {
    let n = s.shares.len();
    for t in (0..n).map(|k| (me + k) % n) {
        let (next, end) = &s.shares[t];
        let end = end.load(Ordering::Relaxed);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= end {
                break;
            }
            f(i);
            s.done.fetch_add(1, Ordering::Release);
        }
    }
}

fn helper(s: &Shared, me: usize) {
    IS_HELPER.set(true);
    let mut seen = 0;
    loop {
        // Spin (yielding) while an inference runs and no new job is posted.
        while s.epoch.load(Ordering::Acquire) == seen && s.hot.load(Ordering::Acquire) > 0 {
            std::thread::yield_now();
        }
        let job = {
            let mut st = s.state.lock().unwrap();
            loop {
                if st.stop {
                    return;
                }
                if st.epoch != seen {
                    break;
                }
                if s.hot.load(Ordering::Acquire) > 0 {
                    break;
                }
                st = s.wake.wait(st).unwrap();
            }
            if st.epoch == seen {
                // Woken for an inference: back to spinning.
                continue;
            }
            seen = st.epoch;
            let job = st.job;
            if job.is_some() {
                s.active.fetch_add(1, Ordering::AcqRel);
            }
            job
        };
        if let Some(job) = job {
            // SAFETY: the poster keeps the closure alive until `active` drops to zero.
            let f = unsafe { &*job.f };
            run_tasks(s, f, me);
            s.active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

static POOL: Mutex<Option<Arc<Pool>>> = Mutex::new(None);

/// Uses `n` inference threads from now on (1: none besides the caller); the system's error
/// if a thread cannot be started (the previous pool then stays).
pub fn set_threads(n: usize) -> std::io::Result<()> {
    let mut p = POOL.lock().unwrap();
    if p.as_ref().map(|p| p.threads()) != Some(n.max(1)) {
        *p = match n > 1 {
            true => Some(Arc::new(Pool::try_new(n)?)),
            false => None,
        };
    }
    Ok(())
}

thread_local! {
    static OVERRIDE: std::cell::RefCell<Option<Arc<Pool>>> = const { std::cell::RefCell::new(None) };
}

/// The pool of this thread's [`with_pool`], else the one set by [`set_threads`], if more
/// than one thread.
pub fn current() -> Option<Arc<Pool>> {
    if let Some(p) = OVERRIDE.with_borrow(|o| o.clone()) {
        return Some(p);
    }
    POOL.lock().unwrap().clone()
}

/// Runs `f` with `pool` as this thread's pool (tests compare thread counts side by side).
pub fn with_pool<R>(pool: Arc<Pool>, f: impl FnOnce() -> R) -> R {
    let previous = OVERRIDE.replace(Some(pool));
    struct Restore(Option<Option<Arc<Pool>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.set(self.0.take().flatten());
        }
    }
    let _restore = Restore(Some(previous));
    f()
}

/// Runs one inference with the pool's helpers awake (if there is a pool).
pub fn inference<R>(f: impl FnOnce() -> R) -> R {
    match current() {
        Some(p) => p.hot(f),
        None => f(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// About 20 000 multiply-adds of work the optimiser cannot remove.
    fn busy(seed: u64) {
        let mut x = seed;
        for _ in 0..20_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
    }

    #[test]
    fn every_task_runs_once_on_several_threads_and_helpers_sleep_after() {
        let pool = Pool::new(3);
        // Threads that ran a task, over all rounds (a busy machine may keep the helpers off
        // the cores for a round or two).
        // (thread, its kernel thread id): the helpers' ids name their /proc entries below.
        let threads = Mutex::new(std::collections::HashSet::new());
        let caller = std::thread::current().id();
        for round in 0..200 {
            let hits: Vec<AtomicUsize> = (0..37).map(|_| AtomicUsize::new(0)).collect();
            let work = |i: usize| {
                hits[i].fetch_add(1, Ordering::Relaxed);
                // SAFETY: gettid has no preconditions and cannot fail.
                let tid = unsafe { libc::gettid() };
                threads
                    .lock()
                    .unwrap()
                    .insert((std::thread::current().id(), tid));
                // enough work that helpers get a share
                busy(i as u64);
            };
            if round % 2 == 0 {
                pool.hot(|| pool.for_each(hits.len(), &work));
            } else {
                pool.for_each(hits.len(), &work);
            }
            assert!(hits.iter().all(|h| h.load(Ordering::Relaxed) == 1));
        }
        assert!(threads.lock().unwrap().len() > 1, "no helper took a task");
        // Not hot: helpers block on the condition variable instead of spinning.
        std::thread::sleep(std::time::Duration::from_millis(50));
        let cpu = |pid: &str| -> u64 {
            let stat = std::fs::read_to_string(format!("/proc/self/task/{pid}/stat")).unwrap();
            let f: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap()
                .split_whitespace()
                .collect();
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        };
        // This pool's helpers only: other tests run pools of their own at the same time,
        // whose threads come, work and go.
        let tids: Vec<String> = threads
            .lock()
            .unwrap()
            .iter()
            .filter(|(id, _)| *id != caller)
            .map(|(_, tid)| tid.to_string())
            .collect();
        assert!(!tids.is_empty(), "helpers not found");
        let before: Vec<u64> = tids.iter().map(|t| cpu(t)).collect();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let after: Vec<u64> = tids.iter().map(|t| cpu(t)).collect();
        for (b, a) in before.iter().zip(&after) {
            assert!(a - b <= 2, "an idle helper used {} ticks in 300 ms", a - b);
        }
    }

    #[test]
    fn each_helper_gets_a_cpu_of_its_own_and_the_caller_the_rest() {
        let p = Placement::of(&[0, 2, 4, 6], 3).unwrap();
        assert_eq!(p.helpers, vec![2, 4]);
        assert_eq!(p.caller, vec![0, 6]);
        assert_eq!(Placement::of(&[0, 1], 2).unwrap().caller, vec![0]);
        // More threads than CPUs, or no helpers: nothing is pinned.
        assert_eq!(Placement::of(&[0, 1], 3), None);
        assert_eq!(Placement::of(&[0, 1, 2, 3], 1), None);
    }

    #[test]
    fn pinned_helpers_run_on_their_cpu_and_the_caller_off_it_while_inferring() {
        let allowed = affinity::allowed();
        let pool = Pool::new(2);
        let off = std::env::var("BREEDCAM_PIN_THREADS").is_ok_and(|v| v == "0");
        let Some(placement) = pool.placement().cloned() else {
            // Fewer than two CPUs here (or Linux refused to say), or pinning turned off.
            assert!(off || allowed.len() < 2, "{allowed:?} but no placement");
            return;
        };
        assert!(!off, "BREEDCAM_PIN_THREADS=0 but pinned: {placement:?}");
        assert_eq!(placement.helpers, vec![allowed[1]]);
        // (helper?, the CPUs the thread running the task may use)
        let seen = Mutex::new(std::collections::HashSet::new());
        // Enough tasks per round that a helper woken late still finds some, and rounds until
        // both were seen (a busy machine can keep the helper off its core for a while).
        for _ in 0..1000 {
            pool.hot(|| {
                pool.for_each(64, &|_| {
                    seen.lock()
                        .unwrap()
                        .insert((IS_HELPER.get(), affinity::allowed()));
                    busy(1);
                })
            });
            if seen.lock().unwrap().len() == 2 {
                break;
            }
        }
        let seen = seen.into_inner().unwrap();
        assert!(
            seen.contains(&(true, placement.helpers.clone())),
            "{seen:?}"
        );
        assert!(
            seen.contains(&(false, placement.caller.clone())),
            "{seen:?}"
        );
        assert_eq!(seen.len(), 2, "{seen:?}");
        // Back on all of its CPUs once the inference is over.
        assert_eq!(affinity::allowed(), allowed);
    }

    #[test]
    fn a_second_caller_runs_alone_instead_of_waiting() {
        let pool = Arc::new(Pool::new(2));
        let total = AtomicUsize::new(0);
        std::thread::scope(|sc| {
            for _ in 0..2 {
                sc.spawn(|| {
                    for _ in 0..100 {
                        pool.for_each(16, &|i| {
                            total.fetch_add(i, Ordering::Relaxed);
                        });
                    }
                });
            }
        });
        assert_eq!(
            total.load(Ordering::Relaxed),
            2 * 100 * (0..16).sum::<usize>()
        );
    }
}
