//! Talking to systemd when it runs the daemon (`Type=notify`): "ready" once
//! recovery is done and the inbox is watched, a watchdog ping from the main
//! loop so a hung daemon is restarted, and "stopping" on the way out.
//!
//! Outside systemd (no `NOTIFY_SOCKET`) every call does nothing. A failure
//! to notify is logged and never stops the daemon: judging plans matters
//! more than telling systemd about it.

use sd_notify::NotifyState;
use std::time::{Duration, Instant};

/// Tells systemd that start-up is finished and what is served.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells systemd that the daemon is finishing the plans in hand.
pub fn stopping() {
    send(&[NotifyState::Stopping, NotifyState::Status("finishing the plans in hand")]);
}

fn send(states: &[NotifyState]) {
    if let Err(error) = sd_notify::notify(false, states) {
        tracing::warn!("cannot notify systemd: {error}");
    }
}

/// The watchdog systemd asks for (`WatchdogSec=`): pinged from the main
/// loop at half the interval, so a loop that stops turning is noticed.
#[derive(Debug)]
pub struct Watchdog {
    /// Half of systemd's interval; `None` when no watchdog is asked for.
    every: Option<Duration>,
    /// When the next ping is due.
    next: Instant,
}

impl Watchdog {
    /// The watchdog systemd set up for this process, if any.
    pub fn from_environment() -> Watchdog {
        let mut usec = 0;
        let every = sd_notify::watchdog_enabled(false, &mut usec)
            .then(|| Duration::from_micros(usec / 2).max(Duration::from_millis(10)));
        Watchdog { every, next: Instant::now() }
    }

    /// Pings systemd if a ping is due at `now`.
    pub fn ping_if_due(&mut self, now: Instant) {
        let Some(every) = self.every else { return };
        if now >= self.next {
            send(&[NotifyState::Watchdog]);
            self.next = now + every;
        }
    }

    /// When the main loop must wake up at the latest to ping in time.
    pub fn due(&self) -> Option<Instant> {
        self.every.map(|_| self.next)
    }
}
