//! One WebSocket connection as a pure state machine (RFC 6455 §5–§7).
//!
//! [`Connection`] owns both directions of one connection:
//!
//! - **bytes in, messages out**: [`receive`](Connection::receive) decodes
//!   frames, assembles messages and validates UTF-8, and answers what the
//!   protocol answers by itself — a Pong for each Ping (§5.5.2), the Close
//!   echo (§5.5.1), the Close that fails a connection (§7.1.7);
//! - **calls in, bytes out**: `send_*`, [`ping`](Connection::ping),
//!   [`close`](Connection::close) check the send rules and encode frames
//!   (masked with keys from the driver's [`MaskSource`] on a client) into
//!   one buffer, taken with
//!   [`take_data_to_send`](Connection::take_data_to_send);
//! - **time in, deadlines out**: every event comes with its time `now`
//!   (`receive`, `receive_eof`, `close`, `reply_to_close`), so a timer
//!   starts when its event happens, whichever thread reports it;
//!   [`poll_timeout`](Connection::poll_timeout) gives the next deadline and
//!   [`handle_timeout`](Connection::handle_timeout) runs the close
//!   timeout, the idle timeout and keepalive pings. The core never reads a
//!   clock: time is a [`Duration`] since an epoch the driver picks, one
//!   clock per connection.
//!
//! A driver only moves bytes and time: it reads from its transport into a
//! buffer, feeds the buffer to `receive`, writes what `take_data_to_send`
//! gives, waits until `poll_timeout`, and closes the transport once
//! [`is_finished`](Connection::is_finished) says so.
//!
//! ```
//! use std::time::Duration;
//! use plainws::sansio::connection::Connection;
//! use plainws::{Config, Message};
//!
//! let mut server = Connection::server(Config::default());
//! let now = Duration::ZERO; // the driver's clock
//! // A masked "Hello" from a client (RFC 6455 §5.7).
//! let mut input = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let (used, message) = server.receive(&mut input, now)?;
//! assert_eq!(used, input.len());
//! assert_eq!(message, Some(Message::Text("Hello".into())));
//! server.send_text("Hello")?;
//! let mut out = Vec::new();
//! server.take_data_to_send(&mut out);
//! assert_eq!(out, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
//! # Ok::<(), plainws::Error>(())
//! ```

mod send;
mod timers;
mod transport_end;

#[cfg(test)]
mod tests;

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::error::{Error, Result};
use crate::sansio::close::{CloseCode, CloseFrame};
use crate::sansio::config::{Config, Direction};
use crate::sansio::deflate::negotiate::{Agreed, peer_of};
use crate::sansio::deflate::{Deflater, OnFirstUse};
use crate::sansio::frame::{Opcode, Role};
use crate::sansio::message::Message;
use crate::sansio::reader::{DirectRead, MessageReader};

pub use send::FrameHead;
use timers::Timers;
pub use transport_end::TransportEnd;

/// Payloads with at least this much still to come are read straight into
/// the message ([`Connection::direct_read`]).
const DIRECT_READ_MIN: usize = 64 << 10;
/// At most this much is lent for one read.
const DIRECT_READ_MAX: usize = 256 << 10;

/// Where a client's masking keys come from (RFC 6455 §5.3: "the masking
/// key MUST be derived from a strong source of entropy"). The blocking
/// driver reads the operating system's random bytes; an embedded driver
/// plugs in its hardware generator.
pub trait MaskSource: Send {
    /// The next masking key.
    fn next_key(&mut self) -> [u8; 4];
}

/// Where the close handshake stands (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Neither side has sent a Close.
    Open,
    /// This side sent a Close and waits for the peer's (§7.1.2). Only
    /// Pongs may still be sent.
    CloseSent,
    /// The peer's Close arrived and this side has not answered yet (the
    /// reply is deferred: see [`Connection::defer_close_reply`]). Data may
    /// still be sent before the reply (§5.5.1: "an endpoint MAY delay
    /// sending a Close frame until its current message is sent").
    CloseReceived,
    /// Both Closes crossed, the connection failed, or the transport ended:
    /// nothing more is sent or received.
    Closed,
}

/// One WebSocket connection, both directions, with no I/O.
pub struct Connection {
    role: Role,
    config: Config,
    reader: MessageReader,
    /// Encoded frames waiting for the driver, in the order they go out.
    out: Vec<u8>,
    masks: Option<Box<dyn MaskSource>>,
    /// permessage-deflate's compressor, once negotiated (RFC 7692); boxed,
    /// so that a connection without it carries one pointer.
    deflater: Option<Box<OnFirstUse<Deflater>>>,
    /// A compressed payload on its way into `out`.
    compressed: Vec<u8>,
    /// The data message this side is sending in fragments (§5.4).
    sending: Option<Opcode>,
    close_sent: bool,
    close_received: bool,
    /// The answer owed to the peer's Close while the reply is deferred.
    reply_due: Option<Option<CloseFrame>>,
    defer_reply: bool,
    /// A peer's violation failed the connection (§7.1.7).
    failed: bool,
    /// The peer's byte stream ended.
    eof: bool,
    /// The transport is gone or the close handshake timed out.
    aborted: bool,
    /// The driver reads no more (see [`Connection::stop_receiving`]).
    stopped: bool,
    timers: Timers,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state())
            .field("pending_output", &self.out.len())
            .field("sending", &self.sending)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// The server end of a connection whose opening handshake is done.
    pub fn server(config: Config) -> Connection {
        Connection::new(Role::Server, config, None)
    }

    /// The client end, masking every frame with keys from `masks`.
    pub fn client(config: Config, masks: Box<dyn MaskSource>) -> Connection {
        Connection::new(Role::Client, config, Some(masks))
    }

    fn new(role: Role, config: Config, masks: Option<Box<dyn MaskSource>>) -> Connection {
        let mut reader = MessageReader::new(role, &config);
        if config.tracer.is_some() {
            reader.enable_trace();
        }
        Connection {
            role,
            timers: Timers::new(&config),
            config,
            reader,
            out: Vec::new(),
            masks,
            deflater: None,
            compressed: Vec::new(),
            sending: None,
            close_sent: false,
            close_received: false,
            reply_due: None,
            defer_reply: false,
            failed: false,
            eof: false,
            aborted: false,
            stopped: false,
        }
    }

    /// After the peer's Close, wait for [`reply_to_close`](Self::reply_to_close),
    /// [`close`](Self::close) or the close timeout before answering, instead
    /// of answering inside [`receive`](Self::receive). For drivers whose
    /// application may still be sending from other threads: their
    /// messages then go out before the Close (RFC 6455 §5.5.1 allows the
    /// delay).
    pub fn defer_close_reply(&mut self) {
        self.defer_reply = true;
    }

    /// Turns permessage-deflate on with the parameters the opening
    /// handshake agreed on (RFC 7692 §7): messages marked compressed are
    /// inflated, RSV1 is accepted on their first frame only, and whole
    /// messages sent with [`send_text`](Self::send_text) and
    /// [`send_binary`](Self::send_binary) are compressed.
    pub fn enable_compression(&mut self, agreed: &Agreed) {
        let (bits, reset) = agreed.of(peer_of(self.role));
        self.reader
            .enable_inflate_on_first_use(OnFirstUse::inflater(bits, reset));
        let (bits, reset) = agreed.of(self.role);
        self.deflater = Some(Box::new(OnFirstUse::deflater(bits, reset)));
    }

    /// Whether permessage-deflate is on.
    pub fn compresses(&self) -> bool {
        self.deflater.is_some()
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The connection's settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sets this connection's [`Config::tracer`](field@Config::tracer),
    /// replacing the one it was made with: watch one connection among
    /// many, from the next frame on. With `None`, frames cost no tracing
    /// work at all.
    pub fn set_tracer(&mut self, tracer: Option<crate::sansio::config::Tracer>) {
        if tracer.is_some() {
            self.reader.enable_trace();
        } else {
            self.reader.disable_trace();
        }
        self.config.tracer = tracer;
    }

    /// Where the close handshake stands.
    pub fn state(&self) -> State {
        let done = self.close_received || self.eof || self.stopped;
        if self.aborted || self.failed || (self.close_sent && done) {
            State::Closed
        } else if self.close_sent {
            State::CloseSent
        } else if self.close_received {
            State::CloseReceived
        } else {
            State::Open
        }
    }

    /// Whether the protocol is done with the transport: the close
    /// handshake is complete, the connection failed, or the transport is
    /// gone. How the transport then ends (who closes TCP first, how long
    /// to linger) is [`transport_end`](Self::transport_end)'s answer.
    pub fn is_finished(&self) -> bool {
        self.aborted
            || self.failed
            || self.stopped
            || (self.close_sent && self.close_received)
            || (self.eof && self.close_sent)
    }

    /// A client after a clean close handshake, still waiting for the
    /// server to end TCP (§7.1.1): past the close deadline, that is a
    /// timeout.
    fn awaits_eof(&self) -> bool {
        self.role == Role::Client
            && self.close_sent
            && self.close_received
            && !self.eof
            && !self.aborted
    }

    /// Whether nothing more will be received: the peer's Close arrived, its
    /// stream ended, or the connection failed.
    pub fn is_receive_done(&self) -> bool {
        self.close_received || self.failed || self.eof || self.aborted || self.stopped
    }

    /// Whether the input fed so far ends between frames (no partial header
    /// or payload): the next bytes start a frame.
    pub fn is_between_frames(&self) -> bool {
        self.reader.is_between_frames()
    }

    /// Reports that the driver will read no more frames before it ends the
    /// transport (its reader returned an error to the application: an
    /// idle timeout, say, whose Close the peer is not waited for). The
    /// connection is then finished: what is queued still goes out, and
    /// [`transport_end`](Self::transport_end) says how the transport ends.
    pub fn stop_receiving(&mut self) {
        self.stopped = true;
    }

    /// Feeds bytes from the peer; returns how many were used and the next
    /// message, if they completed one. With no message, all of `input`
    /// was used. Payloads are unmasked in place.
    ///
    /// Control frames come out as messages too, after the protocol acted
    /// on them: a Ping was answered with a Pong, and the peer's Close was
    /// answered (unless the reply is deferred). A peer's violation fails
    /// the connection: the Close with its code is queued (RFC 6455 §7.1.7)
    /// and the error returned. Bytes after the peer's Close, or after a
    /// failure, are ignored (§5.5.1).
    ///
    /// `now` is when the bytes arrived: the idle and keepalive clocks
    /// restart, and a Close in them starts the close timeout.
    pub fn receive(&mut self, input: &mut [u8], now: Duration) -> Result<(usize, Option<Message>)> {
        self.receive_with_clock(input, &mut || now)
    }

    /// As [`receive`](Self::receive), with the time read from `clock` only
    /// when a rule needs it: bytes restart the idle and keepalive clocks
    /// (when either is configured), and the peer's Close or a violation
    /// starts the close timeout. With neither idle timeout nor keepalive,
    /// data messages need no time at all, so a driver whose clock read
    /// costs as much as a small message's decoding reads it only then.
    pub fn receive_with_clock(
        &mut self,
        input: &mut [u8],
        clock: &mut dyn FnMut() -> Duration,
    ) -> Result<(usize, Option<Message>)> {
        if self.is_receive_done() {
            return Ok((input.len(), None));
        }
        if !input.is_empty() && self.timers.track_activity() {
            self.timers.on_activity(clock());
        }
        let outcome = match self.config.tracer.clone() {
            Some(tracer) => self.reader.read_traced(input, &mut |frame| {
                if let Some(header) = &frame.header {
                    tracer(Direction::Incoming, header, &frame.preview);
                }
            }),
            None => self.reader.read(input),
        };
        if let Ok((_, Some(message))) = &outcome {
            self.on_message(message, clock);
        }
        outcome.map_err(|error| self.fail(error, clock()))
    }

    /// Acts on a received message as the protocol requires (`clock` read
    /// only for a Close).
    fn on_message(&mut self, message: &Message, clock: &mut dyn FnMut() -> Duration) {
        match message {
            // §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
            // Pong frame in response, unless it already received a Close
            // frame." Having *sent* a Close does not matter.
            Message::Ping(payload) => self.queue_control(Opcode::Pong, payload),
            Message::Pong(_) => self.timers.on_pong(),
            Message::Close(frame) => {
                let now = clock();
                self.close_received = true;
                self.timers.on_close_step(now);
                if self.close_sent {
                    return;
                }
                // §5.5.1: "If an endpoint receives a Close frame and did not
                // previously send a Close frame, the endpoint MUST send a
                // Close frame in response. (When sending a Close frame in
                // response, the endpoint typically echos the status code it
                // received.)"
                let echo = frame.as_ref().map(|f| CloseFrame::new(f.code, ""));
                if self.defer_reply {
                    self.reply_due = Some(echo);
                } else {
                    self.queue_close(echo.as_ref(), now);
                }
            }
            Message::Text(_) | Message::Binary(_) => {}
        }
    }

    /// Fails the connection for the peer's violation (RFC 6455 §7.1.7): a
    /// Close with the violation's code, then nothing more.
    fn fail(&mut self, error: Error, now: Duration) -> Error {
        if !self.close_sent {
            if let Some(code) = error.close_code() {
                let reason = error.to_string();
                self.queue_close(Some(&CloseFrame::new(code, &reason)), now);
            }
        }
        self.failed = true;
        error
    }

    /// When the next bytes of the stream are a large binary payload (64 KiB
    /// or more still to come), a buffer to read them straight into, so
    /// that they are not copied from a read buffer (see
    /// [`MessageReader::begin_direct_read`]). The space lent is at most
    /// 256 KiB past what the message holds, whatever length the frame
    /// announced: memory follows the bytes received. `None` also when
    /// that room cannot be allocated (`receive` then fails the connection
    /// with 1009). The driver reads into [`DirectRead::space`], then hands
    /// it back with [`finish_direct_read`](Self::finish_direct_read)
    /// before calling anything else that receives.
    pub fn direct_read(&mut self) -> Option<DirectRead> {
        if self.is_receive_done() {
            return None;
        }
        self.reader
            .begin_direct_read(DIRECT_READ_MIN, DIRECT_READ_MAX)
    }

    /// Takes back a [`direct_read`](Self::direct_read) buffer with `filled`
    /// bytes read into its space at `now`; as [`receive`](Self::receive)
    /// for them.
    pub fn finish_direct_read(
        &mut self,
        read: DirectRead,
        filled: usize,
        now: Duration,
    ) -> Result<Option<Message>> {
        if filled > 0 {
            self.timers.on_activity(now);
        }
        match self.reader.end_direct_read(read, filled) {
            Ok(Some(message)) => {
                self.on_message(&message, &mut || now);
                Ok(Some(message))
            }
            Ok(None) => Ok(None),
            Err(error) => Err(self.fail(error, now)),
        }
    }

    /// Reports that the peer's byte stream ended at `now`. Returns
    /// `Error::AbnormalClosure` (close code 1006, §7.1.5) unless the peer's
    /// Close came first, or [`Error::Timeout`]`("close handshake")` when
    /// our Close was sent and `now` is past its deadline (the driver gave
    /// up on the peer and ended the transport itself). What other threads
    /// already handed over may still be sent: the peer may only have
    /// closed its writing half.
    pub fn receive_eof(&mut self, now: Duration) -> Result<()> {
        if self.close_sent && !self.close_received && !self.aborted {
            if let Err(timeout) = self.handle_timeout(now) {
                self.eof = true;
                return Err(timeout);
            }
        }
        self.eof = true;
        self.timers.on_close_step(now);
        if self.close_received {
            Ok(())
        } else {
            Err(Error::AbnormalClosure)
        }
    }

    /// Reports that the transport failed or was closed: nothing more can be
    /// sent or received, and pending output is dropped.
    pub fn abort(&mut self) {
        self.aborted = true;
        self.out.clear();
    }

    /// Moves every encoded byte waiting to go out to the end of `into`.
    /// When `into` is empty the two buffers are swapped: the output's
    /// memory goes with its bytes, and `into`'s (a driver's cleared write
    /// buffer) comes back for the next frames, so neither side holds a
    /// large buffer for long.
    pub fn take_data_to_send(&mut self, into: &mut Vec<u8>) {
        if into.is_empty() {
            core::mem::swap(into, &mut self.out);
        } else {
            into.append(&mut self.out);
        }
    }

    /// The encoded bytes waiting to go out.
    pub fn data_to_send(&self) -> &[u8] {
        &self.out
    }

    /// The earliest deadline the driver must report back with
    /// [`handle_timeout`](Self::handle_timeout), given the time `now`
    /// (which starts the idle and keepalive clocks if no byte arrived
    /// yet). Events carry their own time, so a deadline does not depend on
    /// when this is called; a driver calls it before it waits.
    pub fn poll_timeout(&mut self, now: Duration) -> Option<Duration> {
        let closing = self.close_sent || self.close_received || self.eof;
        self.timers.poll(now, closing && !self.aborted)
    }

    /// When the close handshake gives up on the peer: `close_timeout`
    /// after the last Close sent or received (or the end of the peer's
    /// stream). `None` before the close handshake begins. A driver with
    /// threads of its own (a watchdog waking a blocked reader) uses this
    /// deadline rather than a clock of its own.
    pub fn close_deadline(&self) -> Option<Duration> {
        self.timers.close_deadline()
    }

    /// Runs the timers due at `now`: sends a keepalive Ping, fails the
    /// connection with 1011 when its Pong is late, closes an idle
    /// connection with 1001, sends a deferred Close reply, or gives up on
    /// a close handshake the peer does not finish. Returns the error that
    /// ended the connection, if one did.
    pub fn handle_timeout(&mut self, now: Duration) -> Result<()> {
        if self.aborted {
            return Ok(());
        }
        if self.timers.close_expired(now) {
            if self.reply_due.is_some() {
                // The application held the reply too long: answer now.
                return self.reply_to_close(now);
            }
            if self.is_finished() && !self.awaits_eof() {
                return Ok(());
            }
            self.aborted = true;
            return Err(Error::Timeout("close handshake"));
        }
        if self.close_sent || self.close_received || self.eof {
            return Ok(());
        }
        if self.timers.idle_expired(now) {
            self.queue_close(
                Some(&CloseFrame::new(CloseCode::GOING_AWAY, "idle timeout")),
                now,
            );
            return Err(Error::Timeout("idle timeout"));
        }
        if self.timers.pong_late(now) {
            return Err(self.fail(Error::PongTimeout, now));
        }
        if self.timers.ping_due(now) {
            self.queue_control(Opcode::Ping, b"keepalive");
            self.timers.on_ping_sent(now);
        }
        Ok(())
    }
}
