//! What the threads shared by many connections do with one of them (the
//! flusher of held frames, the close watchdog, a server's shutdown): only
//! non-blocking attempts, so that a peer that stopped reading never holds
//! them. What a full socket does not take stays in the writer's buffer for
//! the connection's own threads and the flusher's retries.

use std::io::{self, IoSlice};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, TryLockError};
use std::thread;

use crate::blocking::flusher;
use crate::blocking::shared::{Shared, Writer};
use crate::sansio::close::CloseCode;

impl Shared {
    /// Makes sure held frames are written within the flusher's bound.
    /// Returns false when they must be written now: the transport cannot
    /// try a write without blocking, or no flusher thread could be had.
    /// Never called under the core lock (it may start a thread).
    pub(crate) fn schedule_flush(&self) -> bool {
        if !self.tries_writes {
            return false;
        }
        if self.flush_scheduled.swap(true, Ordering::SeqCst) {
            return true;
        }
        if flusher::schedule(self.this.clone()) {
            return true;
        }
        self.flush_scheduled.store(false, Ordering::SeqCst);
        false
    }

    /// The flusher's call, on a thread shared by every connection: writes
    /// held frames with one non-blocking attempt, never waiting for this
    /// peer. What the socket does not take stays in the writer's buffer
    /// for this connection's own threads: their next send, flush or
    /// `recv` writes it first, and the flusher tries again later (returns
    /// true then). A writer busy on the socket is left alone (the flusher
    /// tries again a bound later). A write error fails the connection: the
    /// socket is shut down, so `recv` ends with an error, and every later
    /// send returns `Error::ConnectionFailed`.
    pub(crate) fn flush_held(&self) -> bool {
        self.flush_scheduled.store(false, Ordering::SeqCst);
        let mut writer = match self.writer.try_lock() {
            Ok(writer) => writer,
            Err(TryLockError::WouldBlock) => {
                self.schedule_flush();
                return false;
            }
            Err(TryLockError::Poisoned(_)) => return false,
        };
        if writer.failed {
            return false;
        }
        match self.core.lock() {
            Ok(mut core) => core.conn.take_data_to_send(&mut writer.buf),
            Err(_) => return false,
        }
        !self.try_write(&mut writer) && !writer.failed && !self.is_ended()
    }

    /// Under the write lock: one non-blocking write of the writer's
    /// buffer; the rest stays there. Returns whether it is all out.
    pub(super) fn try_write(&self, writer: &mut Writer) -> bool {
        if writer.buf.is_empty() {
            return true;
        }
        let all_out = match self.stream.try_write_vectored(&[IoSlice::new(&writer.buf)]) {
            Ok(n) => {
                writer.buf.drain(..n.min(writer.buf.len()));
                writer.buf.is_empty()
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                        | io::ErrorKind::Unsupported
                ) =>
            {
                false
            }
            Err(e) => {
                let _ = self.check_write(writer, Err(e));
                writer.buf.clear();
                false
            }
        };
        self.left_over.store(writer.buf.len(), Ordering::Relaxed);
        all_out
    }

    /// Bytes accepted by sends that have not reached the socket yet: held
    /// or queued frames, and what a non-blocking attempt left.
    pub(crate) fn buffered_amount(&self) -> usize {
        let queued = self
            .lock_core()
            .map_or(0, |core| core.conn.data_to_send().len());
        queued + self.left_over.load(Ordering::Relaxed)
    }

    /// A server shutdown's first, non-blocking attempt: queues the Close
    /// and tries it once, so that a peer that does not read delays no
    /// other connection's Close. `Some(closed)`: done (the Close went out
    /// whole, or cannot be sent); `None`: the writer is busy or the socket
    /// did not take everything, and [`close_within`](Self::close_within)
    /// finishes.
    pub(crate) fn try_close_now(&self, code: CloseCode, reason: &str) -> Option<bool> {
        let mut writer = match self.writer.try_lock() {
            Ok(writer) => writer,
            Err(TryLockError::WouldBlock) => return None,
            Err(TryLockError::Poisoned(_)) => return Some(false),
        };
        if writer.failed {
            return Some(false);
        }
        let closed = match self.core.lock() {
            Ok(mut core) => {
                let closed = core.conn.close(code, reason, super::now()).is_ok();
                core.conn.take_data_to_send(&mut writer.buf);
                closed
            }
            Err(_) => return Some(false),
        };
        if !closed {
            return Some(false);
        }
        self.shutdown_close_queued.store(true, Ordering::SeqCst);
        self.try_write(&mut writer).then_some(true)
    }

    /// Lets go of a handle taken on a thread shared by many connections
    /// (the flusher, the close watchdog). If it was the last one (the
    /// application dropped its handles meanwhile), the connection ends as
    /// `Drop` ends it — what was handed over, then the Close reply owed,
    /// then the transport's end — on a short-lived thread of its own,
    /// since that may wait on the peer: the shared thread never does, and
    /// nothing the application handed over is lost because a shared
    /// thread happened to hold the last handle. Only if no thread can be
    /// had does what is owed get one non-blocking attempt before the
    /// socket is shut down.
    pub(crate) fn release_on_shared_thread(this: Arc<Shared>) {
        let Some(shared) = Arc::into_inner(this) else {
            return;
        };
        if shared.ended.load(Ordering::SeqCst) {
            // `Drop` has nothing to do: it returns at once.
            return;
        }
        let handover = Arc::new(Mutex::new(Some(shared)));
        let theirs = Arc::clone(&handover);
        let spawned = thread::Builder::new()
            .name("plainws-last".into())
            .stack_size(64 << 10)
            .spawn(move || {
                let shared = theirs.lock().ok().and_then(|mut slot| slot.take());
                drop(shared);
            });
        if spawned.is_ok() {
            return;
        }
        let left = handover.lock().ok().and_then(|mut slot| slot.take());
        if let Some(shared) = left {
            shared.end_without_waiting();
        }
    }

    /// Ends the connection from a shared thread with no thread to hand it
    /// to: one non-blocking attempt at what is owed, then the socket is
    /// shut down; `Drop`, which may wait, then has nothing to do.
    fn end_without_waiting(mut self) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        if let (Ok(writer), Ok(core)) = (self.writer.get_mut(), self.core.get_mut()) {
            let _ = core.conn.reply_to_close(super::now());
            if !writer.failed {
                core.conn.take_data_to_send(&mut writer.buf);
                if !writer.buf.is_empty() {
                    let _ = self.stream.try_write_vectored(&[IoSlice::new(&writer.buf)]);
                }
            }
        }
        self.shutdown();
        self.mark_finished();
    }
}
