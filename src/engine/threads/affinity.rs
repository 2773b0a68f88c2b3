//! Which cores a thread may run on (Linux `sched_setaffinity`), for keeping breedcam's
//! inference threads on cores of their own.
//!
//! Why: between frames the pool's helpers sleep, and when an inference wakes them Linux
//! tends to place a woken helper on the waker's core (it looks cache-hot there). The helper
//! and the inferring thread then share one core while the other idles, until the load
//! balancer separates them a few milliseconds later: `breedcam bench --threads 2` on
//! EfficientNet-Lite0 ran at 0.7-0.97x of one thread, the helper doing 0.2-0.7 of 9 ms of
//! work, while `examples/profile_ops`, whose helpers never sleep, ran at 0.56x.

/// The CPUs the calling thread may run on, ascending; empty where unknown.
pub fn allowed() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills at most its size.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes that the call may write.
        if unsafe { libc::sched_getaffinity(0, size, &mut set) } != 0 {
            return vec![];
        }
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below CPU_SETSIZE.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        vec![]
    }
}

/// Restricts the calling thread to `cpus`; false if the system refused (or is not Linux).
pub fn set(cpus: &[usize]) -> bool {
    #[cfg(target_os = "linux")]
    {
        if cpus.is_empty() {
            return false;
        }
        // SAFETY: as in `allowed`; CPU_SET is only given CPUs below CPU_SETSIZE.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            // SAFETY: `cpu` is below CPU_SETSIZE (filtered just above).
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        let size = std::mem::size_of::<libc::cpu_set_t>();
        // SAFETY: `set` is a valid cpu_set_t of `size` bytes; the call only reads it.
        unsafe { libc::sched_setaffinity(0, size, &set) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpus;
        false
    }
}

/// Puts the calling thread's previous CPUs back when dropped.
pub struct Restore(Vec<usize>);

/// Restricts the calling thread to `cpus` until the returned guard drops; `None` (nothing
/// changed) if the current set is unknown or the system refused.
pub fn restrict(cpus: &[usize]) -> Option<Restore> {
    let before = allowed();
    if before.is_empty() || before == cpus {
        return None;
    }
    set(cpus).then_some(Restore(before))
}

impl Drop for Restore {
    fn drop(&mut self) {
        set(&self.0);
    }
}
