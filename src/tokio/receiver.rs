//! The receiving half: reads, hands the bytes to the core, and returns
//! its messages.
//!
//! Every byte read and every bit of decoder state lives in the connection
//! (the shared read buffer and the core), never in a future: a `recv`
//! dropped at any point loses nothing, and the next one goes on where it
//! stopped.

use std::future::poll_fn;
use std::mem::MaybeUninit;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::tokio::io::ReadBuf;

use crate::error::{Error, Result};
use crate::sansio::message::Message;
use crate::tokio::sender::Sender;
use crate::tokio::shared::{Reading, Shared};

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
    pub async fn recv(&mut self) -> Result<Message> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next message (the poll form of [`recv`](Self::recv),
    /// for a `Stream` adapter or a hand-written future).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Message>> {
        if self.finished {
            return Poll::Ready(Err(Error::ConnectionClosed));
        }
        let shared = Arc::clone(&self.shared);
        let mut reading = match shared.lock_reading() {
            Ok(reading) => reading,
            Err(e) => return Poll::Ready(Err(self.finish(e))),
        };
        let reading = &mut *reading;
        loop {
            if reading.start < reading.end {
                let mut core = match shared.lock_core() {
                    Ok(core) => core,
                    Err(e) => return Poll::Ready(Err(self.finish(e))),
                };
                let now = shared.now();
                let input = &mut reading.buf[reading.start..reading.end];
                match core.conn.receive(input, now) {
                    Ok((used, message)) => {
                        reading.start += used;
                        if let Some(message) = message {
                            if matches!(message, Message::Close(_)) {
                                self.finished = true;
                            }
                            // More input already here: the application's
                            // replies may share one write (`batch_writes`).
                            let more = reading.start < reading.end;
                            if more && shared.batch_writes && !self.finished {
                                core.batching = true;
                                shared.after_op_or_hold(core, Some(now), true);
                            } else if core.batching {
                                shared.end_batch(core, Some(now));
                            } else {
                                shared.after_op(core, Some(now));
                            }
                            return Poll::Ready(Ok(message));
                        }
                    }
                    Err(error) => {
                        // The core queued the Close its code calls for.
                        core.conn.stop_receiving();
                        shared.after_op(core, Some(now));
                        return Poll::Ready(Err(self.finish(error)));
                    }
                }
            }
            reading.start = 0;
            reading.end = 0;
            // Ended elsewhere (a timer, a failed write), or done?
            {
                let mut core = match shared.lock_core() {
                    Ok(core) => core,
                    Err(e) => return Poll::Ready(Err(self.finish(e))),
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
                if let Some(error) = core.error.take() {
                    return Poll::Ready(Err(self.finish(error)));
                }
                if core.conn.is_receive_done() || core.ended {
                    return Poll::Ready(Err(self.finish(Error::ConnectionClosed)));
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
                        Err(e) => return Poll::Ready(Err(self.finish(e))),
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
                            return Poll::Ready(Err(self.finish(error)));
                        }
                    }
                    // Nothing read: the ordinary read below reports why
                    // (or registers the waker).
                }
            }
            match self.poll_fill(&shared, reading, cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(self.finish(error))),
                // The transport wakes us for bytes, the task (through the
                // waker registered above) for the connection's end.
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads more bytes into the buffer. An end of stream or an error is
    /// reported to the core and returned.
    ///
    /// Memory follows traffic: while nothing is pending the connection
    /// holds no read buffer (a waiting `recv` reads into its stack and
    /// keeps only the bytes that came), so an idle connection costs no
    /// read buffer at all.
    fn poll_fill(
        &mut self,
        shared: &Shared,
        reading: &mut Reading,
        cx: &mut Context<'_>,
    ) -> Poll<Result<()>> {
        let Some(half) = reading.half.as_mut() else {
            return Poll::Ready(Err(Error::ConnectionClosed));
        };
        // Not zeroed: `ReadBuf` tracks what the read initialized.
        let mut stack = [MaybeUninit::<u8>::uninit(); READ_BUFFER_MIN];
        // A buffer grown by reads that filled it is read into while reads
        // keep filling it; otherwise the read goes to the stack, and only
        // the bytes that came are kept (no zeroed 4 KiB per message).
        let (polled, n, room) = if reading.buf.len() > READ_BUFFER_MIN {
            let mut buf = ReadBuf::new(&mut reading.buf);
            let polled = half.as_mut().poll_read(cx, &mut buf);
            (polled, buf.filled().len(), buf.capacity())
        } else {
            let mut buf = ReadBuf::uninit(&mut stack);
            let polled = half.as_mut().poll_read(cx, &mut buf);
            if !buf.filled().is_empty() {
                reading.buf.clear();
                reading.buf.extend_from_slice(buf.filled());
            }
            (polled, buf.filled().len(), buf.capacity())
        };
        match polled {
            Poll::Pending => {
                // Nothing pending: give the buffer back while we wait.
                reading.buf = Vec::new();
                Poll::Pending
            }
            Poll::Ready(Ok(())) if n == 0 => {
                let mut core = shared.lock_core()?;
                let now = shared.now();
                let outcome = core.conn.receive_eof(now);
                shared.after_op(core, Some(now));
                Poll::Ready(Err(outcome.err().unwrap_or(Error::ConnectionClosed)))
            }
            Poll::Ready(Ok(())) => {
                reading.end = n;
                if n == room && n < READ_BUFFER_MAX {
                    // Reads fill the buffer: the next one gets twice the room.
                    reading.buf.resize((n * 2).min(READ_BUFFER_MAX), 0);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                let mut core = shared.lock_core()?;
                core.conn.abort();
                let error = core.error.take().unwrap_or(Error::Io(e));
                core.wake_task();
                Poll::Ready(Err(error))
            }
        }
    }

    /// This half is done: every later `recv` returns `ConnectionClosed`.
    fn finish(&mut self, error: Error) -> Error {
        self.finished = true;
        error
    }

    /// A sender for this connection.
    pub fn sender(&self) -> Sender {
        let sender = Sender::new(Arc::clone(&self.shared));
        sender.share();
        sender
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
