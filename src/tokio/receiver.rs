//! The receiving half: reads, hands the bytes to the core, and returns
//! its messages.
//!
//! Every byte read and every bit of decoder state lives in the connection
//! (the shared read buffer and the core), never in a future: a `recv`
//! dropped at any point loses nothing, and the next one goes on where it
//! stopped.

use std::future::{Future, poll_fn};
use std::mem::MaybeUninit;
use std::sync::{Arc, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::ReadBuf;

use crate::error::{Error, Result};
use crate::sansio::message::Message;
use crate::tokio::sender::Sender;
use crate::tokio::shared::{Core, Reading, Shared};

/// The read buffer while bytes come in small reads (on the stack while the
/// connection waits).
const READ_BUFFER_MIN: usize = 4 << 10;
/// Reads that fill the buffer double it, up to this.
const READ_BUFFER_MAX: usize = 256 << 10;

/// The receiving half of a connection (see [`WebSocket::split`]).
///
/// [`WebSocket::split`]: crate::tokio::WebSocket::split
pub struct Receiver {
    shared: Arc<Shared>,
    /// The connection has ended for this half.
    finished: bool,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("role", &self.shared.role)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    pub(crate) fn new(shared: Arc<Shared>) -> Receiver {
        if let Ok(mut core) = shared.lock_core() {
            core.handles += 1;
        }
        Receiver {
            shared,
            finished: false,
        }
    }

    /// Receives the next message.
    ///
    /// Pings are answered before they are returned, and the answer goes
    /// out even if the application never sends. When the peer's Close
    /// arrives it is returned, and the next `recv` returns
    /// [`Error::ConnectionClosed`]; on a split connection the Close reply
    /// waits for [`Sender::close`], for every handle to be dropped, or for
    /// [`Config::close_timeout`](field@crate::Config::close_timeout), so
    /// that replies other tasks are still sending go out before it. After
    /// an error, `recv` returns [`Error::ConnectionClosed`].
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe. If `recv` is used as the event in a
    /// `tokio::select!` statement and some other branch completes first,
    /// it is guaranteed that no bytes were lost and no message was
    /// received: the bytes read so far and the half-decoded frame stay in
    /// the connection, and the next `recv` continues from them.
    pub fn recv(&mut self) -> impl Future<Output = Result<Message>> {
        poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Polls for the next message (the poll form of [`recv`](Self::recv),
    /// for a `Stream` adapter or a hand-written future).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message>> {
        if self.finished {
            return Poll::Ready(Err(Error::ConnectionClosed));
        }
        let polled = poll_message(&self.shared, cx);
        // After an error or the peer's Close, this half is done: every
        // later `recv` returns `ConnectionClosed`.
        if let Poll::Ready(Err(_) | Ok(Message::Close(_))) = &polled {
            self.finished = true;
        }
        polled
    }

    /// A sender for this connection.
    pub fn sender(&self) -> Sender {
        let sender = Sender::new(Arc::clone(&self.shared));
        sender.share();
        sender
    }
}

/// One poll for the next message: reads, hands the bytes to the core, and
/// returns its first message (see [`Receiver::poll_recv`]).
fn poll_message(shared: &Shared, cx: &mut Context<'_>) -> Poll<Result<Message>> {
    let mut reading = match shared.lock_reading() {
        Ok(reading) => reading,
        Err(e) => return Poll::Ready(Err(e)),
    };
    let reading = &mut *reading;
    let mut stack = [MaybeUninit::<u8>::uninit(); READ_BUFFER_MIN];
    loop {
        if reading.start < reading.end {
            let mut core = match shared.lock_core() {
                Ok(core) => core,
                Err(e) => return Poll::Ready(Err(e)),
            };
            let input = &mut reading.buf[reading.start..reading.end];
            let (received, read_at) = receive(shared, &mut core, input);
            match received {
                Ok((used, message)) => {
                    reading.start += used;
                    let more = reading.start < reading.end;
                    reading.plain = may_read_first(&core, more);
                    if let Some(message) = message {
                        return deliver(shared, core, message, read_at, more);
                    }
                }
                Err(error) => return fail(shared, core, error, read_at),
            }
        }
        reading.start = 0;
        reading.end = 0;
        // The usual case, a small read that starts a frame, reads first and
        // checks the core once, when the socket answers (`plain`).
        let plain = reading.plain && reading.buf.len() <= READ_BUFFER_MIN;
        // Ended elsewhere (a timer, a failed write), or done?
        if !plain {
            let mut core = match shared.lock_core() {
                Ok(core) => core,
                Err(e) => return Poll::Ready(Err(e)),
            };
            if core.batching {
                // About to need the socket: the batch's replies go out.
                shared.end_batch(core, None);
                continue;
            }
            // Registered before the checks below: whatever ends the
            // connection after them (the task's timers, a failed
            // write) wakes this `recv`.
            core.set_receiver(cx.waker());
            if let Some(error) = ended(&mut core) {
                return Poll::Ready(Err(error));
            }
            // Large payloads are read straight into their message.
            if let Some(mut direct) = core.conn.direct_read() {
                drop(core);
                let filled = match reading.half.as_mut() {
                    Some(half) => {
                        let mut buf = ReadBuf::new(direct.space());
                        match half.as_mut().poll_read(cx, &mut buf) {
                            Poll::Ready(Ok(())) => Some(buf.filled().len()),
                            Poll::Ready(Err(_)) | Poll::Pending => None,
                        }
                    }
                    None => None,
                };
                let mut core = match shared.lock_core() {
                    Ok(core) => core,
                    Err(e) => return Poll::Ready(Err(e)),
                };
                let now = shared.now();
                match core
                    .conn
                    .finish_direct_read(direct, filled.unwrap_or(0), now)
                {
                    Ok(Some(message)) => {
                        shared.after_op(core, Some(now));
                        return Poll::Ready(Ok(message));
                    }
                    Ok(None) if filled.is_some_and(|n| n > 0) => {
                        drop(core);
                        continue;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        core.conn.stop_receiving();
                        shared.after_op(core, Some(now));
                        return Poll::Ready(Err(error));
                    }
                }
                // Nothing read: the ordinary read below reports why
                // (or registers the waker).
            }
        }
        if reading.buf.len() > READ_BUFFER_MIN {
            match poll_fill(shared, reading, cx) {
                Poll::Ready(Ok(())) => continue,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                // The transport wakes us for bytes, the task (through the
                // waker registered above) for the connection's end.
                Poll::Pending => return Poll::Pending,
            }
        }
        // A read that does not fill the stack buffer is decoded where it
        // landed: only the bytes the message leaves behind are kept (not
        // zeroed: `ReadBuf` tracks what the read initialized).
        let Some(half) = reading.half.as_mut() else {
            return Poll::Ready(Err(Error::ConnectionClosed));
        };
        let mut buf = ReadBuf::uninit(&mut stack);
        let polled = half.as_mut().poll_read(cx, &mut buf);
        if polled.is_pending() {
            // Nothing pending: give the buffer back while we wait.
            reading.buf = Vec::new();
            if !plain {
                return Poll::Pending;
            }
        }
        let mut core = match shared.lock_core() {
            Ok(core) => core,
            Err(e) => return Poll::Ready(Err(e)),
        };
        if plain {
            // The checks skipped above, before anything read is used.
            if polled.is_pending() {
                core.set_receiver(cx.waker());
            }
            if let Some(error) = ended(&mut core) {
                return Poll::Ready(Err(error));
            }
        }
        match polled {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => {
                drop(core);
                return Poll::Ready(Err(read_failed(shared, e)));
            }
            Poll::Ready(Ok(())) => {}
        }
        let filled_all = buf.remaining() == 0;
        let input = buf.filled_mut();
        if input.is_empty() {
            drop(core);
            return Poll::Ready(Err(end_of_stream(shared)));
        }
        let (received, read_at) = receive(shared, &mut core, input);
        match received {
            Ok((used, message)) => {
                let rest = &input[used..];
                reading.buf.clear();
                reading.buf.extend_from_slice(rest);
                reading.end = rest.len();
                reading.plain = may_read_first(&core, !rest.is_empty());
                if filled_all {
                    // Reads fill the buffer: the next one gets twice the
                    // room, on the heap.
                    reading.buf.resize(READ_BUFFER_MIN * 2, 0);
                }
                if let Some(message) = message {
                    return deliver(shared, core, message, read_at, !rest.is_empty());
                }
            }
            Err(error) => return fail(shared, core, error, read_at),
        }
    }
}

/// After a receive: whether the next read may go to the socket before the
/// core is checked (`Reading::plain`). Only when the input was all used
/// (`more` is false), it ended between frames, and no batch is open.
fn may_read_first(core: &Core, more: bool) -> bool {
    !more && !core.batching && core.conn.is_between_frames()
}

/// Why this side reads no more, if it does not: an error recorded outside
/// a `recv` (a timer, a failed write), the core done receiving, or the
/// transport dropped.
fn ended(core: &mut Core) -> Option<Error> {
    if let Some(error) = core.error.take() {
        return Some(error);
    }
    if core.conn.is_receive_done() || core.ended {
        return Some(Error::ConnectionClosed);
    }
    None
}

/// Feeds `input` to the core; the clock is read only if the core asks for
/// the time (see `Connection::receive_with_clock`), and returned with
/// the outcome.
fn receive(
    shared: &Shared,
    core: &mut Core,
    input: &mut [u8],
) -> (Result<(usize, Option<Message>)>, Option<Duration>) {
    let mut read_at = None;
    let received = core
        .conn
        .receive_with_clock(input, &mut || *read_at.get_or_insert_with(|| shared.now()));
    (received, read_at)
}

/// Returns a message the core gave, having read the clock at `read_at`
/// if it needed the time. With `more` of the peer's input already read,
/// the application's replies may share one write (`batch_writes`).
fn deliver(
    shared: &Shared,
    mut core: MutexGuard<'_, Core>,
    message: Message,
    read_at: Option<Duration>,
    more: bool,
) -> Poll<Result<Message>> {
    let closing = matches!(message, Message::Close(_));
    // Of the messages, only the peer's Close brings a deadline earlier
    // (the close timeout starts, and the core read the clock for it). The
    // others only move the idle and keepalive deadlines later, which the
    // task finds when it wakes.
    let moved = if closing { read_at } else { None };
    if more && shared.batch_writes && !closing {
        core.batching = true;
        shared.after_op_or_hold(core, moved, true);
    } else if core.batching {
        shared.end_batch(core, moved);
    } else {
        shared.after_op(core, moved);
    }
    Poll::Ready(Ok(message))
}

/// The core failed the connection (it queued the Close its code calls
/// for, reading the clock at `read_at` to start the close timeout): this
/// side reads no more.
fn fail(
    shared: &Shared,
    mut core: MutexGuard<'_, Core>,
    error: Error,
    read_at: Option<Duration>,
) -> Poll<Result<Message>> {
    core.conn.stop_receiving();
    let now = read_at.unwrap_or_else(|| shared.now());
    shared.after_op(core, Some(now));
    Poll::Ready(Err(error))
}

/// The peer's stream ended: what the core makes of it.
fn end_of_stream(shared: &Shared) -> Error {
    let Ok(mut core) = shared.lock_core() else {
        return Error::ConnectionFailed;
    };
    let now = shared.now();
    let outcome = core.conn.receive_eof(now);
    shared.after_op(core, Some(now));
    outcome.err().unwrap_or(Error::ConnectionClosed)
}

/// A read failed: the connection is over.
fn read_failed(shared: &Shared, error: std::io::Error) -> Error {
    let Ok(mut core) = shared.lock_core() else {
        return Error::ConnectionFailed;
    };
    core.conn.abort();
    let recorded = core.error.take().unwrap_or(Error::Io(error));
    core.wake_task();
    recorded
}

/// Reads more bytes into the read buffer, grown because reads filled it
/// (4 KiB on the stack, then 8 KiB, doubling up to 256 KiB). An end of
/// stream or an error is reported to the core and returned.
///
/// Memory follows traffic: when a read finds nothing, the buffer is
/// given back while the connection waits (the next read goes to the
/// stack), so an idle connection holds no read buffer at all.
fn poll_fill(shared: &Shared, reading: &mut Reading, cx: &mut Context<'_>) -> Poll<Result<()>> {
    let Some(half) = reading.half.as_mut() else {
        return Poll::Ready(Err(Error::ConnectionClosed));
    };
    let mut buf = ReadBuf::new(&mut reading.buf);
    let polled = half.as_mut().poll_read(cx, &mut buf);
    let (n, room) = (buf.filled().len(), buf.capacity());
    match polled {
        Poll::Pending => {
            reading.buf = Vec::new();
            Poll::Pending
        }
        Poll::Ready(Ok(())) if n == 0 => Poll::Ready(Err(end_of_stream(shared))),
        Poll::Ready(Ok(())) => {
            reading.end = n;
            if n == room && n < READ_BUFFER_MAX {
                // Reads fill the buffer: the next one gets twice the room.
                reading.buf.resize((n * 2).min(READ_BUFFER_MAX), 0);
            }
            Poll::Ready(Ok(()))
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(read_failed(shared, e))),
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Ok(mut core) = self.shared.lock_core() {
            core.handles -= 1;
            core.wake_task();
            // Nothing may wait for a receiver that is gone.
            if core.batching {
                self.shared.end_batch(core, None);
            }
        }
    }
}
