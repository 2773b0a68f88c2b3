//! The process's signal dispositions: a broken pipe ends us quietly, and SIGINT / SIGTERM
//! ask the kiosk loop to stop.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once SIGINT or SIGTERM arrived (after [`stop_on_signals`]).
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

/// Like other Unix tools, end quietly when the reader of our output goes away
/// (`breedcam eval ... | head`) instead of panicking on a broken pipe: SIGPIPE's default
/// action, which Rust's runtime replaces with "ignore".
pub fn end_on_broken_pipe() {
    // SAFETY: `signal` with SIG_DFL installs no code of ours; it only restores the kernel's
    // default action for SIGPIPE, which touches no memory of this process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Makes SIGINT and SIGTERM set the returned flag instead of killing the process, so the
/// kiosk loop can finish its screen and report.
pub fn stop_on_signals() -> &'static AtomicBool {
    let handler = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handler has the `void (*)(int)` signature `signal` expects and only does an
    // atomic store to a static, which is async-signal-safe (no allocation, no locks).
    unsafe {
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
    &STOP
}
