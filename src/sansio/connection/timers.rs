//! The connection's timers as deadlines: the close timeout (RFC 6455
//! §7.1.1), the idle timeout and keepalive pings (§5.5.2).
//!
//! Time is a [`Duration`] since an epoch the driver picks. Events mark a
//! timer to start; it starts at the time of the driver's next
//! `poll_timeout`, which a driver calls each time before it waits.

use core::time::Duration;

use crate::sansio::config::{Config, Keepalive};

pub(super) struct Timers {
    close_timeout: Duration,
    idle_timeout: Option<Duration>,
    keepalive: Option<Keepalive>,
    /// Bytes arrived since the last poll.
    activity: bool,
    last_activity: Option<Duration>,
    /// When the keepalive Ping went out, while its Pong is awaited.
    ping_sent: Option<Duration>,
    /// A Close was sent or received, or the stream ended, since the last
    /// poll: the close deadline restarts.
    close_step: bool,
    close_deadline: Option<Duration>,
}

impl Timers {
    pub(super) fn new(config: &Config) -> Timers {
        Timers {
            close_timeout: config.close_timeout,
            idle_timeout: config.idle_timeout,
            keepalive: config.keepalive,
            activity: false,
            last_activity: None,
            ping_sent: None,
            close_step: false,
            close_deadline: None,
        }
    }

    pub(super) fn on_activity(&mut self) {
        self.activity = true;
    }

    pub(super) fn on_pong(&mut self) {
        self.ping_sent = None;
    }

    pub(super) fn on_ping_sent(&mut self, now: Duration) {
        self.ping_sent = Some(now);
    }

    pub(super) fn on_close_step(&mut self) {
        self.close_step = true;
    }

    /// Starts what was marked, and returns the earliest deadline.
    pub(super) fn poll(&mut self, now: Duration, closing: bool) -> Option<Duration> {
        if self.activity || self.last_activity.is_none() {
            // Any bytes from the peer show it is alive, as a Pong would.
            if self.activity {
                self.ping_sent = None;
            }
            self.activity = false;
            self.last_activity = Some(now);
        }
        if self.close_step {
            self.close_step = false;
            self.close_deadline = Some(now.saturating_add(self.close_timeout));
        }
        if closing {
            return self.close_deadline;
        }
        let last = self.last_activity.unwrap_or(now);
        let idle = self.idle_timeout.map(|idle| last.saturating_add(idle));
        let keepalive = self.keepalive.map(|k| match self.ping_sent {
            Some(sent) => sent.saturating_add(k.timeout),
            None => last.saturating_add(k.interval),
        });
        match (idle, keepalive) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the close deadline has passed (once: it is then cleared).
    pub(super) fn close_expired(&mut self, now: Duration) -> bool {
        let expired = self.close_deadline.is_some_and(|deadline| now >= deadline);
        if expired {
            self.close_deadline = None;
        }
        expired
    }

    pub(super) fn idle_expired(&self, now: Duration) -> bool {
        match (self.idle_timeout, self.last_activity) {
            (Some(idle), Some(last)) => now >= last.saturating_add(idle),
            _ => false,
        }
    }

    pub(super) fn pong_late(&self, now: Duration) -> bool {
        match (self.keepalive, self.ping_sent) {
            (Some(keepalive), Some(sent)) => now >= sent.saturating_add(keepalive.timeout),
            _ => false,
        }
    }

    pub(super) fn ping_due(&self, now: Duration) -> bool {
        match (self.keepalive, self.ping_sent, self.last_activity) {
            (Some(keepalive), None, Some(last)) => now >= last.saturating_add(keepalive.interval),
            _ => false,
        }
    }
}
