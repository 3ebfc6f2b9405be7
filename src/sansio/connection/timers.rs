//! The connection's timers as deadlines: the close timeout (RFC 6455
//! §7.1.1), the idle timeout and keepalive pings (§5.5.2).
//!
//! Time is a [`Duration`] since an epoch the driver picks. Every event
//! comes with its time (bytes received, a Close sent or received, the end
//! of the stream), so a timer starts when its event happens, whichever
//! thread reports it and whenever the driver next polls.

use core::time::Duration;

use crate::sansio::config::{Config, Keepalive};

pub(super) struct Timers {
    close_timeout: Duration,
    idle_timeout: Option<Duration>,
    keepalive: Option<Keepalive>,
    /// When bytes last arrived (or the first poll, before any did).
    last_activity: Option<Duration>,
    /// When the keepalive Ping went out, while its Pong is awaited.
    ping_sent: Option<Duration>,
    /// The last Close sent or received, or the end of the stream, plus
    /// the close timeout.
    close_deadline: Option<Duration>,
}

impl Timers {
    pub(super) fn new(config: &Config) -> Timers {
        Timers {
            close_timeout: config.close_timeout,
            idle_timeout: config.idle_timeout,
            keepalive: config.keepalive,
            last_activity: None,
            ping_sent: None,
            close_deadline: None,
        }
    }

    /// Whether the time bytes arrive matters: an idle timeout or keepalive
    /// is configured (without either, [`on_activity`](Self::on_activity)
    /// would record a time nothing reads).
    pub(super) fn track_activity(&self) -> bool {
        self.idle_timeout.is_some() || self.keepalive.is_some()
    }

    /// Bytes arrived at `now`: the peer is alive, as a Pong would show.
    pub(super) fn on_activity(&mut self, now: Duration) {
        self.last_activity = Some(now);
        self.ping_sent = None;
    }

    pub(super) fn on_pong(&mut self) {
        self.ping_sent = None;
    }

    pub(super) fn on_ping_sent(&mut self, now: Duration) {
        self.ping_sent = Some(now);
    }

    /// A Close was sent or received, or the stream ended, at `now`: the
    /// close deadline (re)starts.
    pub(super) fn on_close_step(&mut self, now: Duration) {
        self.close_deadline = Some(now.saturating_add(self.close_timeout));
    }

    /// The close deadline, once the close handshake has begun.
    pub(super) fn close_deadline(&self) -> Option<Duration> {
        self.close_deadline
    }

    /// The earliest deadline. The idle and keepalive clocks start at the
    /// first poll if no byte arrived before it.
    pub(super) fn poll(&mut self, now: Duration, closing: bool) -> Option<Duration> {
        if self.last_activity.is_none() {
            self.last_activity = Some(now);
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
