//! The connection's own task: it writes what the handles could not write
//! at once, runs the core's timers (keepalive pings, the idle timeout, a
//! deferred Close reply, the close timeout), bounds a stalled write by
//! `write_timeout`, and ends the transport as the core rules (RFC 6455
//! §7.1.1: a server ends TCP first, then lingers; a client waits for the
//! server's end of stream), reading and dropping the peer's last bytes.
//!
//! So control frames need no help from the application: a Pong queued by
//! a `recv`, a Close reply, a keepalive Ping go out even if it never sends.
//!
//! Cost per connection: one spawned task (its state is this module's
//! future, a few hundred bytes) and, while the core has a deadline, one
//! entry in tokio's timer wheel. It is woken only when there is work: a
//! write the socket did not take at once, a deadline that came earlier,
//! the last handle dropped. An echo round trip never wakes it.

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ::tokio::io::ReadBuf;
use ::tokio::time::{Sleep, sleep_until};

use crate::error::Error;
use crate::sansio::connection::{State, TransportEnd};
use crate::tokio::shared::Shared;

/// At most this much is read and dropped while lingering after the close
/// handshake.
const DRAIN_LIMIT: usize = 1 << 20;

/// Runs the connection until its transport ends, then drops it.
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut state = Task {
        sleep: None,
        stalled_since: None,
        drained: 0,
        released: false,
    };
    poll_fn(|cx| state.poll(&shared, cx)).await;
    shared.end_transport();
}

struct Task {
    /// The timer, made at the first deadline and reset after.
    sleep: Option<Pin<Box<Sleep>>>,
    /// When the pending write last made progress.
    stalled_since: Option<Duration>,
    /// Bytes dropped while lingering.
    drained: usize,
    /// Every handle was dropped and the task acted on it.
    released: bool,
}

impl Task {
    fn poll(&mut self, shared: &Shared, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            let mut progress = false;
            let written = match shared.poll_write_owed(cx, &mut progress) {
                Poll::Ready(Ok(())) => true,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => false,
            };
            let now = shared.now();
            if written || progress {
                self.stalled_since = (!written).then_some(now);
            } else if self.stalled_since.is_none() {
                self.stalled_since = Some(now);
            }
            let Ok(mut core) = shared.lock_core() else {
                return Poll::Ready(());
            };
            core.set_task(cx.waker());
            if core.ended {
                return Poll::Ready(());
            }
            if core.handles == 0 && !self.released {
                // The application is gone: the Close reply still owed goes
                // out after everything it handed over; a connection never
                // closed ends now (what was queued is written first).
                self.released = true;
                let _ = core.conn.reply_to_close(now);
                if core.conn.transport_end() == TransportEnd::Open {
                    core.conn.stop_receiving();
                }
                continue;
            }
            // A write stalled on a peer that does not read fails the
            // connection after `write_timeout`.
            let mut deadline = None;
            if let (false, Some(since)) = (written, self.stalled_since) {
                if !shared.write_timeout.is_zero() {
                    let limit = since.saturating_add(shared.write_timeout);
                    if now >= limit {
                        core.conn.abort();
                        core.record(Error::Timeout("write"));
                        core.wake_all();
                        return Poll::Ready(());
                    }
                    deadline = Some(limit);
                }
            }
            if written {
                match core.conn.transport_end() {
                    TransportEnd::Open => {}
                    // The transport failed, or the peer's stream ended
                    // after the close handshake: done. A peer that only
                    // ended its writing half still gets what the
                    // application sends, until its last handle is dropped.
                    TransportEnd::Close => {
                        if core.handles == 0 || core.conn.state() == State::Closed {
                            return Poll::Ready(());
                        }
                    }
                    TransportEnd::EndWritingFirst { deadline: linger }
                    | TransportEnd::AwaitEof { deadline: linger } => {
                        let server = shared.role == crate::sansio::frame::Role::Server;
                        drop(core);
                        if server && shared.poll_shutdown(cx).is_pending() {
                            return self.wait(shared, cx, Some(linger));
                        }
                        if self.poll_drain(shared, cx).is_ready() {
                            if let Ok(mut core) = shared.lock_core() {
                                let _ = core.conn.receive_eof(shared.now());
                            }
                            return Poll::Ready(());
                        }
                        if shared.now() >= linger {
                            if let Ok(mut core) = shared.lock_core() {
                                if let Err(e) = core.conn.handle_timeout(shared.now()) {
                                    core.record(e);
                                    core.wake_all();
                                }
                            }
                            return Poll::Ready(());
                        }
                        match self.wait(shared, cx, Some(linger)) {
                            Poll::Ready(()) => continue,
                            Poll::Pending => return Poll::Pending,
                        }
                    }
                }
            }
            // The core's timers.
            let timer = core.conn.poll_timeout(now);
            if let Some(at) = timer {
                if at <= now {
                    if let Err(error) = core.conn.handle_timeout(now) {
                        // The connection is over: this side reads no more,
                        // and the next `recv` returns why.
                        core.conn.stop_receiving();
                        core.record(error);
                        core.wake_all();
                    }
                    continue;
                }
            }
            let deadline = match (deadline, timer) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            core.armed = deadline;
            drop(core);
            match self.wait(shared, cx, deadline) {
                Poll::Ready(()) => continue,
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Sleeps until `deadline` (none: until woken).
    fn wait(
        &mut self,
        shared: &Shared,
        cx: &mut Context<'_>,
        deadline: Option<Duration>,
    ) -> Poll<()> {
        let Some(deadline) = deadline else {
            return Poll::Pending;
        };
        let at = shared.instant_at(deadline);
        match &mut self.sleep {
            Some(sleep) => {
                if sleep.deadline() != at {
                    sleep.as_mut().reset(at);
                }
            }
            None => self.sleep = Some(Box::pin(sleep_until(at))),
        }
        match &mut self.sleep {
            Some(sleep) => sleep.as_mut().poll(cx),
            None => Poll::Pending,
        }
    }

    /// Reads and drops the peer's bytes until its end of stream (Ready),
    /// an error, or [`DRAIN_LIMIT`].
    fn poll_drain(&mut self, shared: &Shared, cx: &mut Context<'_>) -> Poll<()> {
        let Ok(mut reading) = shared.lock_reading() else {
            return Poll::Ready(());
        };
        let Some(half) = reading.half.as_mut() else {
            return Poll::Ready(());
        };
        let mut scratch = [0u8; 1024];
        loop {
            if self.drained >= DRAIN_LIMIT {
                return Poll::Ready(());
            }
            let mut buf = ReadBuf::new(&mut scratch);
            match half.as_mut().poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => self.drained += buf.filled().len(),
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

use std::future::Future;
