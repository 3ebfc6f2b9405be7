//! The receiving half: one thread reads, hands the bytes to the core, and
//! writes what the core answers.
//!
//! The protocol's rules all live in the core
//! ([`Connection`](crate::sansio::connection::Connection)): Pong replies,
//! the Close echo, failing the connection with the right code, the
//! timers. This half only reads, reports time, and ends the transport
//! when the core is done with it (RFC 6455 §7.1.1: the server closes TCP
//! first; a client waits for the server's end of stream, bounded by the
//! close timeout).

use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::blocking::close_watch;
use crate::blocking::sender::Sender;
use crate::blocking::shared::{BATCH_MAX, Shared, now};
use crate::blocking::transport::Transport;
use crate::error::{Error, Result};
use crate::sansio::connection::State;
use crate::sansio::message::Message;

/// The smallest read buffer, allocated when bytes are pending.
const READ_BUFFER_MIN: usize = 4 << 10;
/// Reads that fill the buffer double it, up to this.
const READ_BUFFER_MAX: usize = 256 << 10;
/// A connection quiet this long with nothing pending gives its read
/// buffer back.
const RELEASE_AFTER: Duration = Duration::from_secs(1);

/// The receiving half of a connection. One thread reads from it.
pub struct Receiver {
    stream: Arc<dyn Transport>,
    /// Bytes read and not yet fed to the core are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    shared: Arc<Shared>,
    /// The connection has ended for this half; further calls return
    /// `ConnectionClosed`.
    finished: bool,
    /// The read timeout currently set on the socket.
    read_timeout: Option<Duration>,
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
        Receiver {
            stream,
            buf: leftover.to_vec(),
            start: 0,
            end: leftover.len(),
            shared,
            finished: false,
            read_timeout: None,
            batching: false,
        }
    }

    /// Receives the next message.
    ///
    /// Pings are answered before they are returned. When the peer's Close
    /// arrives it is returned, and this half is done: the next `recv`
    /// returns [`Error::ConnectionClosed`]. On a split connection the Close
    /// reply goes out once every handle to the connection is dropped (or
    /// on [`Sender::close`], or after
    /// [`Config::close_timeout`](field@crate::Config::close_timeout)), so replies
    /// other threads still send go out before it (see
    /// [`WebSocket::split`](crate::WebSocket::split)). After an error,
    /// `recv` returns [`Error::ConnectionClosed`].
    pub fn recv(&mut self) -> Result<Message> {
        loop {
            if self.finished {
                return Err(Error::ConnectionClosed);
            }
            if self.start < self.end {
                let outcome = {
                    let mut core = self.shared.lock_core()?;
                    // The clock is read only if a rule needs the time.
                    core.conn
                        .receive_with_clock(&mut self.buf[self.start..self.end], &mut now)
                };
                match outcome {
                    Ok((used, message)) => {
                        self.start += used;
                        if let Some(message) = message {
                            return self.deliver(message);
                        }
                    }
                    Err(error) => return Err(self.end_with(error)),
                }
            }
            if let Some(message) = self.read_direct()? {
                return self.deliver(message);
            }
            self.fill()?;
        }
    }

    /// Reads a large binary payload straight into its message, when the
    /// core offers to (see `Connection::direct_read`). Returns a message
    /// if the bytes completed one; when nothing was read (a timeout, the
    /// end of the stream, an error), `fill` reads again and handles it.
    fn read_direct(&mut self) -> Result<Option<Message>> {
        let Some(mut direct) = self.shared.lock_core()?.conn.direct_read() else {
            return Ok(None);
        };
        // About to block: whatever waits for us goes out first.
        let ready = self
            .batch(false)
            .and_then(|()| self.write_answers())
            .and_then(|()| self.next_timeout())
            .and_then(|timeout| self.set_read_timeout(timeout));
        let filled = match ready {
            Ok(()) => self.stream.read(direct.space()).unwrap_or(0),
            Err(_) => 0,
        };
        let outcome = self
            .shared
            .lock_core()?
            .conn
            .finish_direct_read(direct, filled, now());
        ready?;
        match outcome {
            Ok(message) => Ok(message),
            Err(error) => Err(self.end_with(error)),
        }
    }

    /// Writes what the core answered, then hands the message over.
    ///
    /// More input waiting means we will be back without blocking: replies
    /// may wait for us (`Config::batch_writes`). The last message of a
    /// batch ends it, but if it is a data message what the batch holds is
    /// not written here: the
    /// reply the application is about to send takes it along in the same
    /// write. If no send comes, the next `recv` writes it before it
    /// blocks, and the flusher tries it (without blocking) within its
    /// bound whatever happens.
    fn deliver(&mut self, message: Message) -> Result<Message> {
        let was_batching = self.batching;
        self.set_batching(self.start < self.end);
        let data = matches!(message, Message::Text(_) | Message::Binary(_));
        self.write_answers_or_hold(was_batching && data)?;
        if let Message::Close(_) = &message {
            self.finished = true;
            self.release_buffer();
            let done = self
                .shared
                .lock_core()
                .map_or(true, |core| core.conn.is_finished());
            if done {
                // Our Close went first: the handshake is complete.
                self.shared.end_transport();
            } else {
                // The reply waits for the application's last handle, at
                // most the close timeout.
                self.shared.mark_finished();
                close_watch::watch(&self.shared, self.shared.close_deadline());
            }
        }
        Ok(message)
    }

    /// Writes the core's answers (Pongs, Closes) unless batching lets
    /// them wait.
    fn write_answers(&mut self) -> Result<()> {
        self.write_answers_or_hold(false)
    }

    /// As [`write_answers`](Self::write_answers); `hold` lets what is
    /// waiting wait (for the flusher's bound at most) even though this
    /// batch has ended.
    fn write_answers_or_hold(&mut self, hold: bool) -> Result<()> {
        // Counting what a non-blocking attempt left: held bytes stay bounded.
        let waiting = self.shared.buffered_amount();
        let may_wait = self.batching || hold;
        if waiting == 0 || (may_wait && waiting < BATCH_MAX && self.shared.schedule_flush()) {
            return Ok(());
        }
        self.shared.flush().map_err(|e| self.abort(e))
    }

    /// Tells the sender whether replies may wait (`Config::batch_writes`),
    /// and writes what waited when they no longer may.
    fn batch(&mut self, batching: bool) -> Result<()> {
        if !self.set_batching(batching) || batching {
            return Ok(());
        }
        self.shared.flush().map_err(|e| self.abort(e))
    }

    /// Tells the sender whether replies may wait; true if that changed.
    fn set_batching(&mut self, batching: bool) -> bool {
        if !self.shared.config.batch_writes || batching == self.batching {
            return false;
        }
        self.batching = batching;
        if let Ok(mut core) = self.shared.lock_core() {
            core.batching = batching;
        }
        true
    }

    /// The connection ended with `error` (the core already queued the
    /// Close its code calls for): the transport is ended.
    fn end_with(&mut self, error: Error) -> Error {
        if matches!(error, Error::Timeout("close handshake")) {
            // The peer never finished the handshake: nothing to wait for.
            return self.abort(error);
        }
        self.finished = true;
        self.release_buffer();
        self.batching = false;
        if let Ok(mut core) = self.shared.lock_core() {
            core.batching = false;
            // This half reads no more: the transport ends by the core's
            // rule for a finished connection.
            core.conn.stop_receiving();
        }
        self.shared.end_transport();
        error
    }

    /// Ends the connection without a close handshake (an I/O error).
    fn abort(&mut self, error: Error) -> Error {
        self.finished = true;
        self.release_buffer();
        if let Ok(mut core) = self.shared.lock_core() {
            core.conn.abort();
        }
        self.shared.shutdown();
        self.shared.mark_finished();
        error
    }

    /// Reads more bytes into the buffer, running the core's timers while
    /// the peer is quiet.
    ///
    /// Memory follows traffic: the buffer is allocated when bytes arrive,
    /// doubles while reads fill it, and is released after a quiet second
    /// with nothing pending, so an idle connection holds no read buffer.
    fn fill(&mut self) -> Result<()> {
        // About to block: whatever waits for us goes out first.
        self.batch(false)?;
        self.write_answers()?;
        // The core uses all of its input unless a message ends first, so
        // nothing is pending when more is needed.
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
                Ok(Some(0)) => return Err(self.on_eof()),
                Ok(Some(n)) => {
                    self.end += n;
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
                    // A shutdown by the close watchdog at the core's close
                    // deadline reads as a reset on some systems: report the
                    // timeout, not the symptom.
                    let error = self.close_timed_out().unwrap_or(Error::Io(e));
                    return Err(self.abort(error));
                }
            }
        }
    }

    /// The peer's stream ended. Without its Close first that is an
    /// abnormal closure (1006, RFC 6455 §7.1.5); the peer may still be
    /// reading, so what other threads send still goes out, and the
    /// transport closes when the last handle is dropped.
    ///
    /// After our Close, an end of stream at or past the core's close
    /// deadline is the close watchdog shutting the socket down: the core
    /// reports `Timeout("close handshake")`, as a read timing out at the
    /// same deadline does, whichever of the two happens first.
    fn on_eof(&mut self) -> Error {
        self.finished = true;
        self.release_buffer();
        let outcome = match self.shared.lock_core() {
            Ok(mut core) => core.conn.receive_eof(now()),
            Err(e) => Err(e),
        };
        self.shared.mark_finished();
        match outcome {
            Ok(()) => Error::ConnectionClosed,
            Err(error) => error,
        }
    }

    /// Doubles the read buffer, up to its maximum.
    fn grow_buffer(&mut self) {
        if self.buf.len() < READ_BUFFER_MAX {
            let grown = (self.buf.len() * 2).clamp(READ_BUFFER_MIN, READ_BUFFER_MAX);
            self.buf.resize(grown, 0);
        }
    }

    /// The read timeout for the next read: until the core's next deadline.
    fn next_timeout(&mut self) -> Result<Option<Duration>> {
        let now = now();
        let deadline = self.shared.lock_core()?.conn.poll_timeout(now);
        Ok(deadline.map(|d| d.saturating_sub(now).max(Duration::from_millis(1))))
    }

    /// After our Close, the timeout the core reports if its close deadline
    /// has passed (a watchdog ended the transport at that deadline).
    fn close_timed_out(&self) -> Option<Error> {
        let mut core = self.shared.lock_core().ok()?;
        if core.conn.state() != State::CloseSent {
            return None;
        }
        core.conn.handle_timeout(now()).err()
    }

    /// A read timed out: the core's timers run (a keepalive Ping, a late
    /// Pong, the idle timeout).
    fn on_quiet(&mut self) -> Result<()> {
        let outcome = self.shared.lock_core()?.conn.handle_timeout(now());
        self.write_answers()?;
        match outcome {
            Ok(()) => Ok(()),
            Err(error) => Err(self.end_with(error)),
        }
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

    /// A sender for this connection (the same one
    /// [`split`](crate::WebSocket::split) returns).
    pub fn sender(&self) -> Sender {
        let sender = Sender::new(Arc::clone(&self.shared));
        sender.share();
        sender
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        // Nothing may wait for a receiver that is gone.
        if self.batching {
            if let Ok(mut core) = self.shared.lock_core() {
                core.batching = false;
            }
            let _ = self.shared.flush();
        }
        // Nobody will read the peer's Close now: let a close watchdog stop.
        self.shared.mark_finished();
    }
}
