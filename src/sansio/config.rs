//! Limits, timeouts and options, all finite by default.

use alloc::sync::Arc;
use core::fmt;
use core::time::Duration;

use crate::sansio::deflate::negotiate::DeflateConfig;
use crate::sansio::frame::FrameHeader;

/// Which way a traced frame went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Received from the peer.
    Incoming,
    /// Sent to the peer.
    Outgoing,
}

/// Called for every frame in and out when set in
/// [`Config::tracer`](field@Config::tracer), with the header and up to the
/// first 64 bytes of the payload as it is on the wire but unmasked (for a
/// compressed message, the compressed bytes).
pub type Tracer = Arc<dyn Fn(Direction, &FrameHeader, &[u8]) + Send + Sync>;

/// Keepalive pings: send a Ping after `interval` without traffic from the
/// peer, and fail the connection with 1011 if nothing arrives within
/// `timeout` after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Keepalive {
    /// Quiet time before a Ping is sent.
    pub interval: Duration,
    /// How long to wait for the peer after the Ping.
    pub timeout: Duration,
}

/// Limits, timeouts and options for one connection, every one finite by
/// default (the crate documentation has [the table](crate#limits-and-timeouts)).
///
/// Build one from [`Config::default`] with the setters, each named after
/// its field; the fields are public too, for assignment. New settings may
/// be added in a minor release, so the struct cannot be built literally:
///
/// ```
/// use std::time::Duration;
/// use plainws::Config;
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .close_timeout(Duration::from_secs(2));
/// // The same, by assignment:
/// let mut same = Config::default();
/// same.max_message_size = 1 << 20;
/// same.close_timeout = Duration::from_secs(2);
/// assert_eq!(same.close_timeout, config.close_timeout);
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The largest frame payload accepted, in bytes. Checked at the header,
    /// before the payload is read; over it the connection is closed with
    /// 1009. Default: 16 MiB.
    pub max_frame_size: u64,
    /// The largest message accepted, counted across fragments and checked
    /// at each header; over it the connection is closed with 1009.
    /// Default: 64 MiB. Memory per connection is bounded by this.
    pub max_message_size: u64,
    /// The most fragments one message may have, so that a stream of empty
    /// fragments cannot run forever; over it, 1009. Default: 131,072
    /// (Autobahn 9.3.1 sends 65,536).
    pub max_fragments: usize,
    /// The largest handshake head (request line or status line plus
    /// headers), in bytes; over it a server answers 431. Default: 16 KiB.
    pub max_handshake_bytes: usize,
    /// The most header fields in a handshake; over it, 431. Default: 100.
    pub max_headers: usize,
    /// One deadline for the whole opening handshake, however slowly the
    /// bytes come. Default: 10 s.
    pub handshake_timeout: Duration,
    /// How long to wait for the peer's Close and end of stream once a
    /// Close was sent. Default: 5 s.
    pub close_timeout: Duration,
    /// How long one frame write may block on a peer that does not read.
    /// When it fires the connection is failed and every sender gets an
    /// error. Zero means no timeout, everywhere it applies (the socket's
    /// write and the wait for a data channel held by a fragmented
    /// message), as `std`'s `set_write_timeout(None)`. Default: 30 s.
    pub write_timeout: Duration,
    /// Close the connection (1001) after this long without any frame from
    /// the peer. Default: none.
    pub idle_timeout: Option<Duration>,
    /// Ping a quiet peer. Default: none.
    pub keepalive: Option<Keepalive>,
    /// Batch writes: when the receiving half returns a message and already
    /// holds more of the peer's input, data frames sent before it reads
    /// again wait in one buffer and go out together when it next needs the
    /// socket, at 64 KiB, or at the latest 1 ms later. The blocking
    /// driver's one process-wide thread offers them to the socket without
    /// blocking (even if `recv` is never called again); what a full socket
    /// does not take waits for the connection's own threads and the
    /// flusher's retries, so a peer that stops reading delays no other
    /// connection. On the tokio driver the connection's own task writes
    /// them as soon as it runs.
    /// One write then carries the replies to a whole read's worth of
    /// messages: a pipelining peer costs a fraction of a system call per
    /// message. A lone request is answered at once: nothing is held when
    /// no more input waits. Close frames are never held. Default: on.
    pub batch_writes: bool,
    /// Called for every frame in and out (for `--trace`). Default: none.
    pub tracer: Option<Tracer>,
    /// permessage-deflate (RFC 7692): offered by a client, accepted by a
    /// server when the client offers it, with these window and context
    /// settings. Compression costs CPU and, when secrets share a message
    /// with data an attacker chooses, can leak them through the compressed
    /// size (CRIME, BREACH: see SECURITY.md). Default: none (off).
    pub compression: Option<DeflateConfig>,
    /// Backpressure for drivers that queue frames (the tokio driver): a
    /// send waits while more than this many bytes of encoded frames are
    /// queued and not yet written, so a peer that stops reading holds at
    /// most this much plus one message per connection. The blocking
    /// driver writes each frame before its send returns and does not
    /// need it. Default: 128 KiB.
    pub send_queue_limit: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_frame_size: 16 << 20,
            max_message_size: 64 << 20,
            max_fragments: 1 << 17,
            max_handshake_bytes: 16 << 10,
            max_headers: 100,
            handshake_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
            idle_timeout: None,
            keepalive: None,
            batch_writes: true,
            tracer: None,
            compression: None,
            send_queue_limit: 128 << 10,
        }
    }
}

impl Config {
    /// Sets [`max_frame_size`](field@Config::max_frame_size) (default: 16 MiB).
    #[must_use]
    pub fn max_frame_size(mut self, max_frame_size: u64) -> Config {
        self.max_frame_size = max_frame_size;
        self
    }

    /// Sets [`max_message_size`](field@Config::max_message_size) (default: 64 MiB).
    #[must_use]
    pub fn max_message_size(mut self, max_message_size: u64) -> Config {
        self.max_message_size = max_message_size;
        self
    }

    /// Sets [`max_fragments`](field@Config::max_fragments) (default: 131,072).
    #[must_use]
    pub fn max_fragments(mut self, max_fragments: usize) -> Config {
        self.max_fragments = max_fragments;
        self
    }

    /// Sets [`max_handshake_bytes`](field@Config::max_handshake_bytes) (default: 16 KiB).
    #[must_use]
    pub fn max_handshake_bytes(mut self, max_handshake_bytes: usize) -> Config {
        self.max_handshake_bytes = max_handshake_bytes;
        self
    }

    /// Sets [`max_headers`](field@Config::max_headers) (default: 100).
    #[must_use]
    pub fn max_headers(mut self, max_headers: usize) -> Config {
        self.max_headers = max_headers;
        self
    }

    /// Sets [`handshake_timeout`](field@Config::handshake_timeout) (default: 10 s).
    #[must_use]
    pub fn handshake_timeout(mut self, handshake_timeout: Duration) -> Config {
        self.handshake_timeout = handshake_timeout;
        self
    }

    /// Sets [`close_timeout`](field@Config::close_timeout) (default: 5 s).
    #[must_use]
    pub fn close_timeout(mut self, close_timeout: Duration) -> Config {
        self.close_timeout = close_timeout;
        self
    }

    /// Sets [`write_timeout`](field@Config::write_timeout) (default: 30 s).
    #[must_use]
    pub fn write_timeout(mut self, write_timeout: Duration) -> Config {
        self.write_timeout = write_timeout;
        self
    }

    /// Sets [`idle_timeout`](field@Config::idle_timeout): a duration or
    /// `None` (default: none).
    #[must_use]
    pub fn idle_timeout(mut self, idle_timeout: impl Into<Option<Duration>>) -> Config {
        self.idle_timeout = idle_timeout.into();
        self
    }

    /// Sets [`keepalive`](field@Config::keepalive): a [`Keepalive`] or `None`
    /// (default: none).
    #[must_use]
    pub fn keepalive(mut self, keepalive: impl Into<Option<Keepalive>>) -> Config {
        self.keepalive = keepalive.into();
        self
    }

    /// Sets [`batch_writes`](field@Config::batch_writes) (default: on).
    #[must_use]
    pub fn batch_writes(mut self, batch_writes: bool) -> Config {
        self.batch_writes = batch_writes;
        self
    }

    /// Sets [`compression`](field@Config::compression): a
    /// [`DeflateConfig`] or `None` (default: none, off).
    #[must_use]
    pub fn compression(mut self, compression: impl Into<Option<DeflateConfig>>) -> Config {
        self.compression = compression.into();
        self
    }

    /// Sets [`send_queue_limit`](field@Config::send_queue_limit) (default:
    /// 128 KiB).
    #[must_use]
    pub fn send_queue_limit(mut self, send_queue_limit: usize) -> Config {
        self.send_queue_limit = send_queue_limit;
        self
    }

    /// Sets [`tracer`](field@Config::tracer), e.g. `Some(Arc::new(f))`
    /// (default: none).
    #[must_use]
    pub fn tracer(mut self, tracer: Option<Tracer>) -> Config {
        self.tracer = tracer;
        self
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("max_frame_size", &self.max_frame_size)
            .field("max_message_size", &self.max_message_size)
            .field("max_fragments", &self.max_fragments)
            .field("max_handshake_bytes", &self.max_handshake_bytes)
            .field("max_headers", &self.max_headers)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("write_timeout", &self.write_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("keepalive", &self.keepalive)
            .field("batch_writes", &self.batch_writes)
            .field("tracer", &self.tracer.as_ref().map(|_| "Fn"))
            .field("compression", &self.compression)
            .field("send_queue_limit", &self.send_queue_limit)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_setter_sets_its_own_field() {
        let tracer: Tracer = Arc::new(|_, _, _| {});
        let keepalive = Keepalive {
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(2),
        };
        let config = Config::default()
            .max_frame_size(1)
            .max_message_size(2)
            .max_fragments(3)
            .max_handshake_bytes(4)
            .max_headers(5)
            .handshake_timeout(Duration::from_secs(6))
            .close_timeout(Duration::from_secs(7))
            .write_timeout(Duration::from_secs(8))
            .idle_timeout(Duration::from_secs(9))
            .keepalive(keepalive)
            .batch_writes(false)
            .tracer(Some(tracer))
            .compression(DeflateConfig::default())
            .send_queue_limit(10);
        assert_eq!(config.send_queue_limit, 10);
        assert_eq!(config.max_frame_size, 1);
        assert_eq!(config.max_message_size, 2);
        assert_eq!(config.max_fragments, 3);
        assert_eq!(config.max_handshake_bytes, 4);
        assert_eq!(config.max_headers, 5);
        assert_eq!(config.handshake_timeout, Duration::from_secs(6));
        assert_eq!(config.close_timeout, Duration::from_secs(7));
        assert_eq!(config.write_timeout, Duration::from_secs(8));
        assert_eq!(config.idle_timeout, Some(Duration::from_secs(9)));
        assert_eq!(config.keepalive, Some(keepalive));
        assert!(!config.batch_writes);
        assert!(config.tracer.is_some());
        assert_eq!(config.compression, Some(DeflateConfig::default()));
        // `None` turns an optional setting off again.
        let config = config.idle_timeout(None).keepalive(None).tracer(None);
        assert_eq!(config.idle_timeout, None);
        assert_eq!(config.keepalive, None);
        assert!(config.tracer.is_none());
    }
}
