//! The sending half: `Clone + Send + Sync`, for any number of tasks.
//!
//! Every call goes through the connection's core, which applies the send
//! rules and encodes the frame into its output, in order; the frame is
//! then written at once if the socket takes it, or by the connection's
//! task. A send returns once its frame is queued: whole, in order, never
//! interleaved with another. It first waits while more than
//! [`Config::send_queue_limit`](field@crate::Config::send_queue_limit)
//! bytes are queued and unwritten (backpressure), and, for a data frame,
//! while another sender's fragmented message holds the data channel.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use ::tokio::time::{Sleep, sleep};

use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::connection::Connection;
use crate::sansio::frame::Opcode;
use crate::sansio::message::Message;
use crate::tokio::shared::{Shared, VECTORED_WRITE_MIN};

/// The sending half of a connection. Cheap to clone; every clone sends on
/// the same connection from any task.
///
/// # Cancel safety
///
/// Every method is cancel safe in this sense: a send whose future is
/// dropped before it completes has queued nothing, and one that completed
/// has queued its whole frame, which goes out (or the connection fails).
pub struct Sender {
    shared: Arc<Shared>,
    /// Identifies this handle as the owner of a fragmented message.
    id: u64,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("role", &self.shared.role)
            .finish_non_exhaustive()
    }
}

impl Clone for Sender {
    fn clone(&self) -> Sender {
        Sender::new(Arc::clone(&self.shared))
    }
}

/// An operation on the core, given the time or not.
enum Op<U, T> {
    Untimed(U),
    Timed(T),
}

/// What a send needs before it may go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A data frame: waits for the queue and the data channel.
    Data,
    /// A Ping, Pong or Close: waits for the queue only.
    Control,
}

impl Sender {
    pub(crate) fn new(shared: Arc<Shared>) -> Sender {
        if let Ok(mut core) = shared.lock_core() {
            core.handles += 1;
        }
        let id = shared.sender_id();
        Sender { shared, id }
    }

    /// Marks the connection as used from several tasks: the Close reply
    /// is deferred (see [`WebSocket::split`](crate::tokio::WebSocket::split)).
    pub(crate) fn share(&self) {
        if let Ok(mut core) = self.shared.lock_core() {
            core.conn.defer_close_reply();
        }
    }

    /// Runs `op` on the core once the queue has room (and, for data, the
    /// data channel is free), then writes what it encoded.
    fn run(
        &self,
        kind: Kind,
        op: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> impl Future<Output = Result<()>> {
        self.run_or_large(kind, None, op)
    }

    /// As [`run`](Self::run), for an operation given the time (a Close
    /// starts the close timeout): the clock is read when `op` runs.
    fn run_at(
        &self,
        kind: Kind,
        op: impl FnOnce(&mut Connection, Duration) -> Result<()>,
    ) -> impl Future<Output = Result<()>> {
        let op: Op<fn(&mut Connection) -> Result<()>, _> = Op::Timed(op);
        self.run_op(kind, None, op)
    }

    /// As [`run`](Self::run); a large frame (`large`: opcode, payload, fin)
    /// is written from the caller's buffer when it can be (see
    /// `Shared::send_large`), else `op` queues it.
    fn run_or_large(
        &self,
        kind: Kind,
        large: Option<(Opcode, &[u8], bool)>,
        op: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> impl Future<Output = Result<()>> {
        let op: Op<_, fn(&mut Connection, Duration) -> Result<()>> = Op::Untimed(op);
        self.run_op(kind, large, op)
    }

    /// What [`run`](Self::run), [`run_at`](Self::run_at) and
    /// [`run_or_large`](Self::run_or_large) share.
    fn run_op<U, T>(
        &self,
        kind: Kind,
        large: Option<(Opcode, &[u8], bool)>,
        op: Op<U, T>,
    ) -> impl Future<Output = Result<()>>
    where
        U: FnOnce(&mut Connection) -> Result<()>,
        T: FnOnce(&mut Connection, Duration) -> Result<()>,
    {
        let mut op = Some(op);
        // The wait for another sender's fragmented message is bounded by
        // `write_timeout` (the wait for room in the queue is bounded by
        // the task: a write that stalls that long fails the connection).
        let mut channel_wait: Option<Pin<Box<Sleep>>> = None;
        poll_fn(move |cx| {
            let mut core = self.shared.lock_core()?;
            let open = !core.ended && !core.conn.is_finished();
            if open {
                let channel_taken =
                    kind == Kind::Data && core.fragment_owner.is_some_and(|o| o != self.id);
                if channel_taken && !self.shared.write_timeout.is_zero() {
                    let timer = channel_wait
                        .get_or_insert_with(|| Box::pin(sleep(self.shared.write_timeout)));
                    if timer.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(Error::Timeout(
                            "waiting for another sender's fragmented message",
                        )));
                    }
                }
                if channel_taken || self.shared.queued(&core) > self.shared.queue_limit {
                    self.shared.wait_as_sender(&mut core, cx.waker());
                    return Poll::Pending;
                }
            }
            let Some(op) = op.take() else {
                return Poll::Ready(Err(Error::ConnectionFailed));
            };
            if let (Some(large), true, false) = (large, open, core.batching) {
                match self.shared.send_large(core, self.id, large) {
                    Ok(result) => return Poll::Ready(result),
                    Err(back) => core = back,
                }
            }
            // Only an operation given the time can move the core's
            // deadlines (see `Shared::after_op`).
            let (result, now) = match op {
                Op::Untimed(op) => (op(&mut core.conn), None),
                Op::Timed(op) => {
                    let now = self.shared.now();
                    (op(&mut core.conn, now), Some(now))
                }
            };
            if kind == Kind::Data {
                core.update_owner(self.id);
            }
            if core.ended {
                // The transport is gone: nothing more can be written.
                return Poll::Ready(Err(result.err().unwrap_or(Error::ConnectionClosed)));
            }
            self.shared.after_op_or_hold(core, now, kind == Kind::Data);
            Poll::Ready(result)
        })
    }

    /// Sends any [`Message`]: data in one frame, Ping and Pong as control
    /// frames, and `Close` as [`close`](Sender::close) does (no code: 1000).
    pub async fn send(&self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => self.send_text(text).await,
            Message::Binary(data) => self.send_binary(data).await,
            Message::Ping(payload) => self.ping(payload).await,
            Message::Pong(payload) => self.pong(payload).await,
            Message::Close(Some(frame)) => self.close(frame.code, &frame.reason).await,
            Message::Close(None) => self.close(CloseCode::NORMAL, "").await,
        }
    }

    /// Sends a text message in one frame (compressed when permessage-
    /// deflate was negotiated).
    pub fn send_text(&self, text: &str) -> impl Future<Output = Result<()>> {
        let large = self.large(Opcode::Text, text.as_bytes(), true, false);
        self.run_or_large(Kind::Data, large, move |conn| conn.send_text(text))
    }

    /// Sends a binary message in one frame (compressed when permessage-
    /// deflate was negotiated).
    pub fn send_binary(&self, data: &[u8]) -> impl Future<Output = Result<()>> {
        let large = self.large(Opcode::Binary, data, true, false);
        self.run_or_large(Kind::Data, large, move |conn| conn.send_binary(data))
    }

    /// Whether a frame goes out from the caller's buffer (a server's
    /// uncompressed payload of 16 KiB or more).
    fn large<'p>(
        &self,
        opcode: Opcode,
        payload: &'p [u8],
        fin: bool,
        uncompressed: bool,
    ) -> Option<(Opcode, &'p [u8], bool)> {
        let server = self.shared.role == crate::sansio::frame::Role::Server;
        let plain = uncompressed || !self.shared.compresses;
        (server && plain && payload.len() >= VECTORED_WRITE_MIN).then_some((opcode, payload, fin))
    }

    /// Sends a text or binary message in one frame, never compressed (RFC
    /// 7692 §6 leaves the choice to each message): for data already
    /// compressed, or a secret next to data a peer chooses. Other messages
    /// are sent as [`send`](Sender::send) does.
    pub async fn send_uncompressed(&self, message: &Message) -> Result<()> {
        match message {
            Message::Text(text) => {
                let bytes = text.as_bytes();
                self.run(Kind::Data, |conn| {
                    conn.send_uncompressed(Opcode::Text, bytes)
                })
                .await
            }
            Message::Binary(data) => {
                self.run(Kind::Data, |conn| {
                    conn.send_uncompressed(Opcode::Binary, data)
                })
                .await
            }
            other => self.send(other).await,
        }
    }

    /// Sends one frame of a message sent in fragments (RFC 6455 §5.4):
    /// the first with `Text` or `Binary`, the rest with `Continuation`,
    /// `fin` on the last.
    ///
    /// The message holds the data channel until its last fragment: data
    /// sends from other `Sender` clones wait for it (at most
    /// [`Config::write_timeout`](field@crate::Config::write_timeout), then
    /// [`Error::Timeout`]), while Pings, Pongs and
    /// Closes may still go between the fragments. The clone that sent the
    /// first fragment sends the rest; if it is dropped mid-message, the
    /// connection is closed with 1011 (a truncated message is never
    /// completed as if it were whole).
    pub async fn send_fragment(&self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        let large = self.large(opcode, payload, fin, true);
        self.run_or_large(Kind::Data, large, |conn| {
            conn.send_fragment(opcode, payload, fin)
        })
        .await
    }

    /// Sends a Ping; its payload may be at most 125 bytes (RFC 6455 §5.5).
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.run(Kind::Control, |conn| conn.ping(payload)).await
    }

    /// Sends an unsolicited Pong, a one-way heartbeat (RFC 6455 §5.5.3).
    pub async fn pong(&self, payload: &[u8]) -> Result<()> {
        self.run(Kind::Control, |conn| conn.pong(payload)).await
    }

    /// Starts the close handshake (RFC 6455 §7.1.2) with `code` and a
    /// reason, cut to 123 bytes on a character boundary; or, after the
    /// peer's Close arrived, answers it.
    ///
    /// Everything queued before it is written before the Close frame;
    /// returns once the Close is written. The receiving half keeps
    /// delivering messages until the peer's Close arrives; if the peer
    /// stays silent, the connection ends after
    /// [`Config::close_timeout`](field@crate::Config::close_timeout). Codes
    /// that may not be sent (1005, 1006, 1015, ...) are refused with
    /// [`Error::UnsendableCloseCode`]; a second close returns
    /// [`Error::AlreadyClosed`].
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.run_at(Kind::Control, |conn, now| conn.close(code, reason, now))
            .await?;
        self.flush().await
    }

    /// Waits until every frame queued so far is written.
    pub async fn flush(&self) -> Result<()> {
        poll_fn(|cx| {
            let mut core = self.shared.lock_core()?;
            if self.shared.queued(&core) == 0 {
                return Poll::Ready(Ok(()));
            }
            if core.ended || core.conn.data_to_send().is_empty() && core.error.is_some() {
                return Poll::Ready(Err(Error::ConnectionFailed));
            }
            self.shared.wait_as_sender(&mut core, cx.waker());
            core.wake_task();
            Poll::Pending
        })
        .await
    }

    /// Whether permessage-deflate was negotiated.
    pub fn is_compressed(&self) -> bool {
        self.shared.compresses
    }

    /// Whether a Close frame has been sent (by this side, or in reply), or
    /// the connection is over.
    pub fn is_closed(&self) -> bool {
        use crate::sansio::connection::State;
        self.shared.lock_core().map_or(true, |core| {
            core.ended || matches!(core.conn.state(), State::CloseSent | State::Closed)
        })
    }

    /// Bytes encoded and not yet written (at most
    /// [`Config::send_queue_limit`](field@crate::Config::send_queue_limit)
    /// plus one message).
    pub fn queued_bytes(&self) -> usize {
        self.shared
            .lock_core()
            .map_or(0, |core| self.shared.queued(&core))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let Ok(mut core) = self.shared.lock_core() else {
            return;
        };
        core.handles -= 1;
        if core.fragment_owner == Some(self.id) {
            // Abandoned mid-message: the message cannot be completed
            // honestly, so the connection is closed.
            core.fragment_owner = None;
            let now = self.shared.now();
            let _ = core.conn.close(
                CloseCode::INTERNAL_ERROR,
                "fragmented message abandoned",
                now,
            );
            core.wake_all();
            core.wake_task();
            self.shared.after_op(core, Some(now));
            return;
        }
        core.wake_task();
    }
}
