//! The sending half: `Clone + Send + Sync`, any number of threads at once.
//!
//! Every call goes through the connection's core ([`Connection`]), which
//! applies the send rules and encodes the frame, then through the write
//! lock that puts encoded frames on the socket whole and in order (see
//! the `shared` module). A call returns once its frame is written (or
//! queued, for `feed_*` and while batching), or with an error. A queued
//! frame that later fails to go out (the flusher's write fails, or the
//! connection fails first) fails the connection: the caller hears it
//! from its next call (`Error::ConnectionFailed`), and `recv` ends with
//! an error.
//!
//! [`Connection`]: crate::sansio::connection::Connection

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::blocking::close_watch;
use crate::blocking::shared::{Channel, Shared, now};
use crate::error::Result;
use crate::sansio::close::CloseCode;
use crate::sansio::frame::Opcode;
use crate::sansio::message::Message;

/// The sending half of a connection. Cheap to clone; every clone writes
/// to the same connection, whole frames at a time, from any thread.
#[derive(Clone)]
pub struct Sender {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("role", &self.shared.role)
            .finish_non_exhaustive()
    }
}

impl Sender {
    pub(crate) fn new(shared: Arc<Shared>) -> Sender {
        Sender { shared }
    }

    /// Marks the connection as used from several threads: the Close reply
    /// is deferred (see [`WebSocket::split`](crate::WebSocket::split)).
    pub(crate) fn share(&self) {
        if let Ok(mut core) = self.shared.lock_core() {
            core.conn.defer_close_reply();
        }
    }

    /// A handle that does not keep the connection alive (for registries
    /// such as the server's list of connections to close on shutdown).
    pub(crate) fn downgrade(&self) -> WeakSender {
        WeakSender(Arc::downgrade(&self.shared))
    }

    /// Sends any [`Message`]: data in one frame, Ping and Pong as control
    /// frames, and `Close` as [`close`](Sender::close) does (no code: 1000).
    pub fn send(&self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => self.send_text(text),
            Message::Binary(data) => self.send_binary(data),
            Message::Ping(payload) => self.ping(payload),
            Message::Pong(payload) => self.pong(payload),
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason),
            Message::Close(None) => self.close(CloseCode::NORMAL, ""),
        }
    }

    /// Sends a text message in one frame (compressed when permessage-
    /// deflate was negotiated).
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.message(Opcode::Text, text.as_bytes(), false)
    }

    /// Sends a binary message in one frame (compressed when permessage-
    /// deflate was negotiated).
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.message(Opcode::Binary, data, false)
    }

    /// Sends a text or binary message in one frame, never compressed, even
    /// when permessage-deflate was negotiated (RFC 7692 §6 leaves the
    /// choice to each message): for data that is already compressed, or a
    /// secret next to data that a peer chooses (see SECURITY.md). Other
    /// messages are sent as [`send`](Sender::send) does.
    pub fn send_uncompressed(&self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => self.data(Opcode::Text, text.as_bytes(), true, false),
            Message::Binary(data) => self.data(Opcode::Binary, data, true, false),
            other => self.send(other),
        }
    }

    /// Queues a text message without writing it yet: it goes out with the
    /// next [`flush`](Sender::flush) or send on this connection (or once
    /// 64 KiB are queued). Many small messages then cost one write.
    pub fn feed_text(&self, text: &str) -> Result<()> {
        self.message(Opcode::Text, text.as_bytes(), true)
    }

    /// Queues a binary message without writing it yet (see
    /// [`feed_text`](Sender::feed_text)).
    pub fn feed_binary(&self, data: &[u8]) -> Result<()> {
        self.message(Opcode::Binary, data, true)
    }

    /// Writes every queued frame.
    pub fn flush(&self) -> Result<()> {
        self.shared.flush()
    }

    /// Sends one frame of a message sent in fragments (RFC 6455 §5.4):
    /// the first with `Text` or `Binary`, the rest with `Continuation`,
    /// `fin` on the last.
    ///
    /// The message holds the data channel until its last fragment: data
    /// messages from other threads wait for it (at most the write
    /// timeout), while Pings, Pongs and Closes may still go between the
    /// fragments. The thread that sent the first fragment sends the rest:
    /// a `Continuation` from another thread is refused at once with
    /// [`Error::NotAllowed`](crate::Error::NotAllowed). If that thread
    /// ends (returns or panics) before the last fragment, the connection
    /// is closed with 1011 (internal error) and the waiting threads'
    /// sends fail at once; a thread that lives on (a pool that catches
    /// panics) ends its message itself, with a last fragment or
    /// [`close`](Sender::close).
    /// Refused with nothing sent: a continuation with no message open
    /// ([`Error::NoMessageToContinue`](crate::Error::NoMessageToContinue)),
    /// a new message from the same thread while its own is open
    /// ([`Error::MessageInProgress`](crate::Error::MessageInProgress)), a
    /// control opcode ([`Error::NotAllowed`](crate::Error::NotAllowed)).
    pub fn send_fragment(&self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        self.data(opcode, payload, fin, false)
    }

    /// A whole message: compressed when permessage-deflate is on.
    fn message(&self, opcode: Opcode, payload: &[u8], hold: bool) -> Result<()> {
        if !self.shared.compresses() {
            return self.data(opcode, payload, true, hold);
        }
        self.shared
            .send(true, hold, |conn| conn.send_message(opcode, payload))
    }

    /// One frame, never compressed.
    fn data(&self, opcode: Opcode, payload: &[u8], fin: bool, hold: bool) -> Result<()> {
        let channel = if opcode == Opcode::Continuation {
            Channel::Continuation
        } else {
            Channel::Data
        };
        if !hold && self.shared.is_large(payload.len()) {
            return self.shared.send_large(channel, opcode, payload, fin);
        }
        self.shared.send_on(channel, hold, |conn| {
            conn.send_fragment(opcode, payload, fin)
        })
    }

    /// Sends a Ping; its payload may be at most 125 bytes (RFC 6455 §5.5).
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.shared.send(false, false, |conn| conn.ping(payload))
    }

    /// Sends an unsolicited Pong, a one-way heartbeat (RFC 6455 §5.5.3).
    pub fn pong(&self, payload: &[u8]) -> Result<()> {
        self.shared.send(false, false, |conn| conn.pong(payload))
    }

    /// Starts the close handshake (RFC 6455 §7.1.2) with `code` and a
    /// reason, cut to 123 bytes on a character boundary; or, after the
    /// peer's Close arrived, answers it with this code.
    ///
    /// Returns once the Close frame is written. The receiving half keeps
    /// delivering messages until the peer's Close arrives, then ends the
    /// connection; if the peer stays silent, the socket is shut down after
    /// [`Config::close_timeout`](field@crate::Config::close_timeout). Codes
    /// that may not be sent (1005, 1006,
    /// 1015, ...) are refused with
    /// [`Error::UnsendableCloseCode`](crate::Error::UnsendableCloseCode). A
    /// second close returns [`Error::AlreadyClosed`](crate::Error::AlreadyClosed).
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        let was_reply = self.shared.is_reply_due();
        self.shared
            .send(false, false, |conn| conn.close(code, reason, now()))?;
        if was_reply {
            // Both Closes have crossed: nothing more to wait for.
            if self.shared.is_finished() {
                self.shared.end_transport();
            }
        } else {
            // The core's deadline, which started when the Close was sent.
            close_watch::watch(&self.shared, self.shared.close_deadline());
        }
        Ok(())
    }

    /// A server shutdown's non-blocking first attempt (see
    /// `Shared::try_close_now`), watching the close handshake if the Close
    /// went out. Returns false when [`close_within`](Sender::close_within)
    /// must finish.
    pub(crate) fn try_close_now(&self, code: CloseCode, reason: &str) -> bool {
        match self.shared.try_close_now(code, reason) {
            Some(true) => {
                close_watch::watch(&self.shared, self.shared.close_deadline());
                true
            }
            Some(false) => true,
            None => false,
        }
    }

    /// Closes for a server shutdown, bounded by `budget` (see
    /// `Shared::close_within`), then watches the close handshake.
    pub(crate) fn close_within(&self, code: CloseCode, reason: &str, budget: Duration) {
        if self.shared.close_within(code, reason, budget) {
            close_watch::watch(&self.shared, self.shared.close_deadline());
        }
    }

    /// The connection's shared state (for `WebSocket::set_tracer` and the
    /// lab's raw writes).
    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Whether permessage-deflate was negotiated.
    pub(crate) fn compresses(&self) -> bool {
        self.shared.compresses()
    }

    /// Lets go of this handle without waiting for the peer, even if it is
    /// the connection's last (see `Shared::release_on_shared_thread`).
    pub(crate) fn release_without_waiting(self) {
        Shared::release_on_shared_thread(self.shared);
    }

    /// Shuts the connection down at the socket, without a Close.
    pub(crate) fn abort(&self) {
        self.shared.shutdown();
    }

    /// Whether a Close frame has been sent (by this side, or in reply), or
    /// the connection failed.
    pub fn is_closed(&self) -> bool {
        self.shared.close_sent()
    }

    /// How many bytes of what this connection's senders handed over have
    /// not reached the socket yet (frames held or queued, and the rest of
    /// a write the socket did not take at once), as the browser's
    /// `WebSocket.bufferedAmount`: a value that stays up tells a peer that
    /// reads slowly or not at all, without blocking on it.
    pub fn buffered_amount(&self) -> usize {
        self.shared.buffered_amount()
    }

    /// Sets how long each later write may block on a peer that does not
    /// read, in place of
    /// [`Config::write_timeout`](field@crate::Config::write_timeout), for
    /// every clone of this sender and the receiving half's replies; it
    /// also bounds a data send's wait for another thread's fragmented
    /// message. Zero means no timeout, as in `Config::write_timeout`
    /// (std's `set_write_timeout(None)`): a write then waits as long as
    /// the peer does not read. A write already blocked keeps its own
    /// deadline.
    pub fn set_write_timeout(&self, timeout: Duration) -> Result<()> {
        self.shared.set_write_timeout(timeout);
        Ok(())
    }
}

/// A [`Sender`] that does not keep its connection alive.
#[derive(Clone)]
pub(crate) struct WeakSender(Weak<Shared>);

impl std::fmt::Debug for WeakSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WeakSender")
    }
}

impl WeakSender {
    /// The sender, if the connection still has a handle.
    pub(crate) fn upgrade(&self) -> Option<Sender> {
        self.0.upgrade().map(Sender::new)
    }
}
