//! The receiving half: one thread reads, feeds the sans-I/O reader, and
//! acts on what comes out.
//!
//! It answers Pings and completes the close handshake itself, through the
//! connection's one write lock. A protocol violation fails the connection:
//! a Close with the violation's code, then the end of the TCP connection
//! (RFC 6455 §7.1.7). The server closes TCP first; a client waits for the
//! server's end of stream, bounded by the close timeout (§7.1.1).

use std::io;
use std::net::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blocking::sender::{Sender, Shared};
use crate::blocking::transport::Transport;
use crate::error::{Error, Result};
use crate::sansio::close::{CloseCode, CloseFrame};
use crate::sansio::config::Direction;
use crate::sansio::frame::{Opcode, Role};
use crate::sansio::message::Message;
use crate::sansio::reader::MessageReader;

/// The smallest read buffer, allocated when bytes are pending.
const READ_BUFFER_MIN: usize = 4 << 10;
/// Reads that fill the buffer double it, up to this.
const READ_BUFFER_MAX: usize = 256 << 10;
/// A connection quiet this long with nothing pending gives its read
/// buffer back.
const RELEASE_AFTER: Duration = Duration::from_secs(1);
/// At most this much is read and thrown away while waiting for the peer to
/// close after the close handshake.
const DRAIN_LIMIT: usize = 1 << 20;

/// The receiving half of a connection. One thread reads from it.
pub struct Receiver {
    stream: Arc<dyn Transport>,
    reader: MessageReader,
    /// Bytes read and not yet fed to `reader` are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    shared: Arc<Shared>,
    sender: Sender,
    /// The connection has ended; further calls return `ConnectionClosed`.
    finished: bool,
    /// The read timeout currently set on the socket.
    read_timeout: Option<Duration>,
    /// When the last bytes arrived (for the idle timeout and keepalive).
    last_activity: Instant,
    /// When a keepalive Ping went out unanswered.
    ping_sent: Option<Instant>,
    /// Whether the sender is batching on our behalf (`Config::batch_writes`).
    batching: bool,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("role", &self.shared.role)
            .field("pending", &(self.end - self.start))
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    pub(crate) fn new(
        stream: Arc<dyn Transport>,
        shared: Arc<Shared>,
        leftover: &[u8],
    ) -> Receiver {
        let mut reader = MessageReader::new(shared.role, &shared.config);
        if shared.config.tracer.is_some() {
            reader.enable_trace();
        }
        Receiver {
            stream,
            reader,
            buf: leftover.to_vec(),
            start: 0,
            end: leftover.len(),
            sender: Sender::new(Arc::clone(&shared)),
            shared,
            finished: false,
            read_timeout: None,
            last_activity: Instant::now(),
            ping_sent: None,
            batching: false,
        }
    }

    /// Receives the next message.
    ///
    /// Pings are answered before they are returned. The peer's Close is
    /// answered, the connection ended, and the Close returned; after it,
    /// and after any error, `recv` returns `Error::ConnectionClosed`.
    pub fn recv(&mut self) -> Result<Message> {
        loop {
            if self.finished {
                return Err(Error::ConnectionClosed);
            }
            if self.start < self.end {
                let input = &mut self.buf[self.start..self.end];
                let outcome = match &self.shared.config.tracer {
                    Some(tracer) => self.reader.read_traced(input, &mut |frame| {
                        if let Some(header) = &frame.header {
                            tracer(Direction::Incoming, header, &frame.preview);
                        }
                    }),
                    None => self.reader.read(input),
                };
                match outcome {
                    Ok((used, message)) => {
                        self.start += used;
                        if let Some(message) = message {
                            // More input waiting means we will be back
                            // without blocking: replies may wait for us.
                            self.batch(self.start < self.end)?;
                            return self.handle(message);
                        }
                    }
                    Err(e) => return Err(self.fail(e)),
                }
            }
            self.fill()?;
        }
    }

    /// Tells the sender whether replies may wait (`Config::batch_writes`).
    fn batch(&mut self, batching: bool) -> Result<()> {
        if !self.shared.config.batch_writes || batching == self.batching {
            return Ok(());
        }
        self.batching = batching;
        self.shared
            .set_batching(batching)
            .map_err(|e| self.abort(e))
    }

    /// Acts on a message before handing it to the application.
    fn handle(&mut self, message: Message) -> Result<Message> {
        match &message {
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
            // Pong frame in response ... as soon as is practical."
            Message::Ping(payload) => {
                if let Err(e) = self.shared.send_pong(payload) {
                    return Err(self.abort(e));
                }
            }
            Message::Pong(_) => self.ping_sent = None,
            // §5.5.1: "If an endpoint receives a Close frame and did not
            // previously send a Close frame, the endpoint MUST send a Close
            // frame in response." It echoes the code.
            Message::Close(frame) => {
                let reply = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                let _ = self.shared.send_close(reply.as_ref());
                self.end_connection();
            }
            Message::Text(_) | Message::Binary(_) => {}
        }
        Ok(message)
    }

    /// Fails the connection for a violation by the peer (RFC 6455 §7.1.7):
    /// a Close with the violation's code, then the end of the connection.
    fn fail(&mut self, error: Error) -> Error {
        if let Some(code) = error.close_code() {
            let reason = error.to_string();
            let _ = self
                .shared
                .send_close(Some(&CloseFrame::new(code, &reason)));
            self.end_connection();
        } else {
            self.abort_connection();
        }
        error
    }

    /// Ends the connection without a close handshake (an I/O error).
    fn abort(&mut self, error: Error) -> Error {
        self.abort_connection();
        error
    }

    fn abort_connection(&mut self) {
        self.finished = true;
        self.release_buffer();
        self.shared.shutdown();
        self.shared.mark_finished();
    }

    /// After the Close frames have crossed: the server closes TCP first; a
    /// client waits for the server to (§7.1.1). Either way the peer's
    /// remaining bytes are read and dropped, so that closing does not
    /// reset the connection under data the peer has yet to read.
    fn end_connection(&mut self) {
        self.finished = true;
        self.release_buffer();
        if self.shared.role == Role::Server {
            let _ = self.stream.shutdown(Shutdown::Write);
        }
        self.drain_until_eof(self.shared.config.close_timeout);
        self.shared.shutdown();
        self.shared.mark_finished();
    }

    fn drain_until_eof(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut scratch = [0u8; 1024];
        let mut drained = 0;
        while drained < DRAIN_LIMIT {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.stream.read(&mut scratch) {
                Ok(0) => return,
                Ok(n) => drained += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Reads more bytes into the buffer, handling timeouts and end of stream.
    ///
    /// Memory follows traffic: the buffer is allocated when bytes arrive,
    /// doubles while reads fill it, and is released after a quiet second
    /// with nothing pending, so an idle connection holds no read buffer.
    fn fill(&mut self) -> Result<()> {
        // About to block: whatever waits for us goes out first.
        self.batch(false)?;
        // `MessageReader::read` uses all of its input unless a message ends
        // first, so nothing is pending when more is needed.
        debug_assert_eq!(self.start, self.end);
        self.start = 0;
        self.end = 0;
        loop {
            let deadline = self.next_timeout()?;
            let outcome = if self.buf.is_empty() {
                // No buffer: wait for bytes without holding one.
                self.set_read_timeout(deadline)?;
                self.stream.wait_readable().map(|()| {
                    self.buf = vec![0; READ_BUFFER_MIN];
                    None
                })
            } else {
                // A quiet second gives the buffer back.
                let timeout = deadline.map_or(RELEASE_AFTER, |d| d.min(RELEASE_AFTER));
                self.set_read_timeout(Some(timeout))?;
                self.stream.read(&mut self.buf).map(Some)
            };
            match outcome {
                Ok(None) => {}
                Ok(Some(0)) => {
                    // §7.1.5: closed without a Close frame: 1006, abnormal.
                    self.abort_connection();
                    return Err(Error::AbnormalClosure);
                }
                Ok(Some(n)) => {
                    self.end += n;
                    self.last_activity = Instant::now();
                    self.ping_sent = None;
                    if self.end == self.buf.len() {
                        self.grow_buffer();
                    }
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.release_buffer();
                    self.on_quiet()?;
                }
                Err(e) => {
                    let closed_by_us = self.shared.close_sent();
                    self.abort_connection();
                    // A shutdown by the close watchdog reads as a reset on
                    // some systems: report the timeout, not the symptom.
                    return Err(if closed_by_us {
                        Error::Timeout("close handshake")
                    } else {
                        Error::Io(e)
                    });
                }
            }
        }
    }

    /// Doubles the read buffer, up to its maximum.
    fn grow_buffer(&mut self) {
        if self.buf.len() < READ_BUFFER_MAX {
            let grown = (self.buf.len() * 2).clamp(READ_BUFFER_MIN, READ_BUFFER_MAX);
            self.buf.resize(grown, 0);
        }
    }

    /// The read timeout for the next read: the soonest of the close
    /// deadline, the idle timeout and the keepalive schedule.
    fn next_timeout(&self) -> Result<Option<Duration>> {
        let config = &self.shared.config;
        let mut deadline: Option<Instant> = None;
        let mut earliest = |at: Instant| {
            deadline = Some(deadline.map_or(at, |d: Instant| d.min(at)));
        };
        if let Some(idle) = config.idle_timeout {
            earliest(self.last_activity + idle);
        }
        if let Some(keepalive) = config.keepalive {
            match self.ping_sent {
                Some(sent) => earliest(sent + keepalive.timeout),
                None => earliest(self.last_activity + keepalive.interval),
            }
        }
        Ok(deadline.map(|d| {
            d.saturating_duration_since(Instant::now())
                .max(Duration::from_millis(1))
        }))
    }

    /// A read timed out: ping, or give up on a silent peer.
    fn on_quiet(&mut self) -> Result<()> {
        let config = &self.shared.config;
        let now = Instant::now();
        if let Some(idle) = config.idle_timeout {
            if now >= self.last_activity + idle {
                let _ = self.shared.send_close(Some(&CloseFrame::new(
                    CloseCode::GOING_AWAY,
                    "idle timeout",
                )));
                self.end_connection();
                return Err(Error::Timeout("idle timeout"));
            }
        }
        if let Some(keepalive) = config.keepalive {
            match self.ping_sent {
                Some(sent) if now >= sent + keepalive.timeout => {
                    return Err(self.fail(Error::PongTimeout));
                }
                Some(_) => {}
                None if now >= self.last_activity + keepalive.interval => {
                    if let Err(e) = self.shared.send_frame(Opcode::Ping, b"keepalive", true) {
                        return Err(self.abort(e));
                    }
                    self.ping_sent = Some(now);
                }
                None => {}
            }
        }
        Ok(())
    }

    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.read_timeout != timeout {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        Ok(())
    }

    fn release_buffer(&mut self) {
        self.buf = Vec::new();
        self.start = 0;
        self.end = 0;
    }

    /// A sender for this connection (the same one `split` returns).
    pub fn sender(&self) -> Sender {
        self.sender.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Nothing may wait for a receiver that is gone.
        if self.batching {
            let _ = self.shared.set_batching(false);
        }
        // Nobody will read the peer's Close now: let a close watchdog stop.
        self.shared.mark_finished();
    }
}
