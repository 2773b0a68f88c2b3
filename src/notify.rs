//! Telling systemd how the kiosk is doing (the sd_notify protocol, through the `sd-notify`
//! crate), for `Type=notify` with `WatchdogSec=` in board/breedcam.service:
//!
//! - `READY=1` once the first screen is presented (the camera, model and display all work);
//! - `WATCHDOG=1` from the loop that presents screens, at most every quarter of the
//!   watchdog interval: a hung inference, a stuck capture or a display that blocks stops the
//!   pings, and systemd kills and restarts the service;
//! - `STOPPING=1` when the loop ends.
//!
//! Without `NOTIFY_SOCKET` (not started by systemd) every call does nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// The presenter's side: call [`Watchdog::screen_presented`] after every screen.
#[derive(Debug)]
pub struct Watchdog {
    ready: bool,
    /// Pings at most this often (`None`: no watchdog asked for).
    every: Option<Duration>,
    last_ping: Option<Instant>,
}

impl Watchdog {
    /// The watchdog interval systemd asked for (`WATCHDOG_USEC`), if any.
    pub fn from_env() -> Watchdog {
        Watchdog {
            ready: false,
            every: sd_notify::watchdog_enabled().map(|d| d / 4),
            last_ping: None,
        }
    }

    /// A screen was presented: ready after the first, and a watchdog ping when one is due.
    pub fn screen_presented(&mut self) {
        if !self.ready {
            self.ready = true;
            send(&[NotifyState::Ready, NotifyState::Status("showing screens")]);
            log::debug!("systemd: ready (first screen presented)");
        }
        let Some(every) = self.every else { return };
        if self.last_ping.is_none_or(|t| t.elapsed() >= every) {
            self.last_ping = Some(Instant::now());
            send(&[NotifyState::Watchdog]);
        }
    }
}

/// The kiosk is stopping.
pub fn stopping() {
    send(&[NotifyState::Stopping]);
}

fn send(state: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(state) {
        log::warn!("systemd notification failed: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;

    /// The one test touching NOTIFY_SOCKET / WATCHDOG_USEC (process-wide variables).
    #[test]
    fn ready_after_the_first_screen_pings_and_stopping_reach_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        std::env::set_var("NOTIFY_SOCKET", &path);
        std::env::set_var("WATCHDOG_USEC", "400000"); // 0.4 s: pings at most every 0.1 s
        std::env::set_var("WATCHDOG_PID", std::process::id().to_string());
        let mut w = Watchdog::from_env();
        assert_eq!(w.every, Some(Duration::from_millis(100)));
        let recv = || {
            let mut buf = [0u8; 256];
            let n = sock.recv(&mut buf).expect("a notification");
            String::from_utf8_lossy(&buf[..n]).into_owned()
        };
        w.screen_presented();
        assert_eq!(recv(), "READY=1\nSTATUS=showing screens\n");
        assert_eq!(recv(), "WATCHDOG=1\n");
        // The next screen, too soon for another ping: nothing is sent.
        w.screen_presented();
        sock.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        assert!(sock.recv(&mut buf).is_err(), "a ping sooner than every/4");
        sock.set_nonblocking(false).unwrap();
        std::thread::sleep(Duration::from_millis(120));
        w.screen_presented();
        assert_eq!(recv(), "WATCHDOG=1\n", "no READY twice, a ping once due");
        stopping();
        assert_eq!(recv(), "STOPPING=1\n");
        // Another process's watchdog (WATCHDOG_PID not ours) is not ours to ping.
        std::env::set_var("WATCHDOG_PID", "1");
        assert_eq!(Watchdog::from_env().every, None);
        for v in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            std::env::remove_var(v);
        }
    }
}
