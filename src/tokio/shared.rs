//! What a connection's handles ([`Receiver`](super::Receiver), every
//! [`Sender`](super::Sender)) and its task share: the sans-I/O
//! [`Connection`] behind one lock, the transport's write half behind
//! another, its read half behind a third.
//!
//! No lock is held across an `.await`, and none across a wait: each is
//! taken for one poll of a non-blocking call at most, so a reader waiting
//! for bytes never holds up a writer, whatever the transport (a TLS
//! stream that writes while it reads included). Lock order is `reading`,
//! then `out`, then `core`; `out` is only ever *tried* (`try_lock`) while
//! `core` is held, so no order can deadlock.
//!
//! Frames leave in the order the core encoded them. Whoever finds the
//! write half idle takes the core's output and writes it at once, with a
//! no-op waker (no task wake-up per message); what does not fit in the
//! socket is left to the connection's task, which alone polls the write
//! half while bytes are pending, with its own waker (see `task`).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::time::Instant;

use crate::error::{Error, Result};
use crate::sansio::connection::Connection;
use crate::sansio::frame::Role;

/// The read half of a transport.
pub(crate) type ReadHalf = Pin<Box<dyn AsyncRead + Send>>;
/// The write half of a transport.
pub(crate) type WriteHalf = Pin<Box<dyn AsyncWrite + Send>>;

/// A write buffer grown past this is released once written.
const KEEP_BUFFER_MAX: usize = 64 << 10;
/// Frames held for a batch are written once they reach this many bytes.
const BATCH_MAX: usize = 64 << 10;
/// A server's unmasked payloads this large are written from the caller's
/// buffer (header and payload in one vectored write), not copied into
/// the queue, when the socket takes them at once.
pub(crate) const VECTORED_WRITE_MIN: usize = 16 << 10;

/// The core and the wakers of whoever waits on it.
pub(crate) struct Core {
    pub(crate) conn: Connection,
    /// The connection's task, to wake when it has work.
    task: Option<Waker>,
    /// The deadline the task sleeps until: an event that brings the core's
    /// next deadline earlier wakes it.
    pub(crate) armed: Option<Duration>,
    /// A `recv` waiting for bytes, woken when the task ends the connection.
    receiver: Option<Waker>,
    /// Sends waiting for room in the queue, for the data channel, or for a
    /// flush.
    senders: Vec<Waker>,
    /// The [`Sender`](super::Sender) sending a fragmented message (RFC
    /// 6455 §5.4), until its last fragment.
    pub(crate) fragment_owner: Option<u64>,
    /// Live handles: the receiver and every sender.
    pub(crate) handles: usize,
    /// What ended the connection outside a `recv` (a timer, a failed
    /// write), for the next `recv` to return.
    pub(crate) error: Option<Error>,
    /// The transport was dropped.
    pub(crate) ended: bool,
    /// The receiving half returned a message and holds more of the
    /// peer's input: data frames may wait for it to need the socket
    /// again, so that the replies to one read share one write.
    pub(crate) batching: bool,
    /// The task was woken for this batch's held frames (once per batch).
    batch_woke: bool,
}

impl Core {
    /// Wakes the connection's task.
    pub(crate) fn wake_task(&mut self) {
        if let Some(waker) = &self.task {
            waker.wake_by_ref();
        }
    }

    /// Registers the task's waker.
    pub(crate) fn set_task(&mut self, waker: &Waker) {
        if !self.task.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.task = Some(waker.clone());
        }
    }

    /// Registers a waiting `recv`'s waker.
    pub(crate) fn set_receiver(&mut self, waker: &Waker) {
        if !self.receiver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.receiver = Some(waker.clone());
        }
    }

    /// Wakes a waiting `recv` and every waiting send.
    pub(crate) fn wake_all(&mut self) {
        if let Some(waker) = self.receiver.take() {
            waker.wake();
        }
        for waker in self.senders.drain(..) {
            waker.wake();
        }
    }

    /// After a data frame from sender `id`: it holds the data channel while
    /// its fragmented message is open (RFC 6455 §5.4), and lets the next
    /// sender have it when the message ends.
    pub(crate) fn update_owner(&mut self, id: u64) {
        if self.conn.sending_message().is_some() {
            self.fragment_owner = Some(id);
        } else if self.fragment_owner == Some(id) {
            self.fragment_owner = None;
            self.wake_all();
        }
    }

    /// Records the error that ended the connection, unless one was.
    pub(crate) fn record(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }
}

/// The transport's write side.
struct Output {
    half: Option<WriteHalf>,
    /// Bytes taken from the core; `buf[pos..]` is not written yet.
    buf: Vec<u8>,
    pos: usize,
    /// Everything written was flushed.
    flushed: bool,
    /// Our writing half was ended (`shutdown`).
    shut: bool,
}

impl Output {
    fn is_idle(&self) -> bool {
        self.pos == self.buf.len() && self.flushed
    }

    /// Writes `buf[pos..]`, then flushes.
    fn poll_write_buf(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(half) = self.half.as_mut() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        while self.pos < self.buf.len() {
            match half.as_mut().poll_write(cx, &self.buf[self.pos..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => {
                    self.pos += n;
                    self.flushed = false;
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if !self.flushed {
            match half.as_mut().poll_flush(cx) {
                Poll::Ready(Ok(())) => self.flushed = true,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        self.buf.clear();
        self.pos = 0;
        if self.buf.capacity() > KEEP_BUFFER_MAX {
            self.buf = Vec::new();
        }
        Poll::Ready(Ok(()))
    }
}

/// The transport's read side, and the bytes read and not yet decoded.
pub(crate) struct Reading {
    pub(crate) half: Option<ReadHalf>,
    /// Bytes not yet fed to the core are `buf[start..end]`.
    pub(crate) buf: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The last receive used all the input, ended between frames and left
    /// no batch open: the next read may go to the socket before the core
    /// is checked (only the receiving half sets these three states).
    pub(crate) plain: bool,
}

/// One connection's shared state.
pub(crate) struct Shared {
    core: Mutex<Core>,
    out: Mutex<Output>,
    pub(crate) reading: Mutex<Reading>,
    /// Bytes taken from the core and not yet written.
    unsent: AtomicUsize,
    /// Some send waits in `Core::senders`.
    senders_waiting: AtomicBool,
    /// Ids for senders (a fragmented message belongs to one).
    next_id: AtomicU64,
    /// Time zero of the core's clock.
    epoch: Instant,
    pub(crate) role: Role,
    pub(crate) compresses: bool,
    /// `Config::send_queue_limit`.
    pub(crate) queue_limit: usize,
    /// `Config::write_timeout` (zero: none).
    pub(crate) write_timeout: Duration,
    /// `Config::batch_writes`.
    pub(crate) batch_writes: bool,
}

impl Shared {
    pub(crate) fn new(
        conn: Connection,
        read: ReadHalf,
        write: WriteHalf,
        leftover: Vec<u8>,
    ) -> Shared {
        let config = conn.config();
        let queue_limit = config.send_queue_limit;
        let write_timeout = config.write_timeout;
        let batch_writes = config.batch_writes;
        let role = conn.role();
        let compresses = conn.compresses();
        let end = leftover.len();
        Shared {
            core: Mutex::new(Core {
                conn,
                task: None,
                armed: None,
                receiver: None,
                senders: Vec::new(),
                fragment_owner: None,
                handles: 0,
                error: None,
                ended: false,
                batching: false,
                batch_woke: false,
            }),
            out: Mutex::new(Output {
                half: Some(write),
                buf: Vec::new(),
                pos: 0,
                flushed: true,
                shut: false,
            }),
            reading: Mutex::new(Reading {
                half: Some(read),
                buf: leftover,
                start: 0,
                end,
                plain: false,
            }),
            unsent: AtomicUsize::new(0),
            senders_waiting: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            epoch: Instant::now(),
            role,
            compresses,
            queue_limit,
            write_timeout,
            batch_writes,
        }
    }

    /// The core's clock: time since the connection was made.
    pub(crate) fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    /// The instant a core time stands for.
    pub(crate) fn instant_at(&self, time: Duration) -> Instant {
        self.epoch + time
    }

    /// A fresh sender id.
    pub(crate) fn sender_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    // A poisoned lock means a panic mid-operation: the stream may hold half
    // a frame, so the connection is failed, never a panic.
    #[inline]
    pub(crate) fn lock_core(&self) -> Result<MutexGuard<'_, Core>> {
        self.core.lock().map_err(|_| Error::ConnectionFailed)
    }

    #[inline]
    pub(crate) fn lock_reading(&self) -> Result<MutexGuard<'_, Reading>> {
        self.reading.lock().map_err(|_| Error::ConnectionFailed)
    }

    /// Bytes encoded and not yet written.
    pub(crate) fn queued(&self, core: &Core) -> usize {
        core.conn.data_to_send().len() + self.unsent.load(Ordering::Acquire)
    }

    /// Registers a send that waits for the queue, the data channel or a
    /// flush; it is woken when bytes are written or the connection ends.
    pub(crate) fn wait_as_sender(&self, core: &mut Core, waker: &Waker) {
        if !core.senders.iter().any(|w| w.will_wake(waker)) {
            core.senders.push(waker.clone());
        }
        self.senders_waiting.store(true, Ordering::Release);
    }

    /// After an operation on the core: wakes the task if its next deadline
    /// came earlier (a Close sent or received starts the close timeout),
    /// then writes what the operation queued.
    ///
    /// `now` is the time the operation was given, when it may have brought
    /// a deadline earlier (a Close sent or received, the end of the peer's
    /// stream, a failure); `None` when it cannot have: a frame queued, or
    /// a data message received (which only moves the idle and keepalive
    /// deadlines later: the task finds them when it wakes).
    pub(crate) fn after_op(&self, core: MutexGuard<'_, Core>, now: Option<Duration>) {
        self.after_op_or_hold(core, now, false);
    }

    /// Wakes the task if the core's next deadline, after an operation at
    /// `now`, is earlier than the one it sleeps until.
    fn rearm(&self, core: &mut Core, now: Option<Duration>) {
        let Some(now) = now else {
            return;
        };
        let deadline = core.conn.poll_timeout(now);
        if deadline.is_some() && (core.armed.is_none() || deadline < core.armed) {
            core.armed = deadline;
            core.wake_task();
        }
    }

    /// As [`after_op`](Self::after_op); with `may_hold` (a data frame, or a
    /// message received), the output may wait while the receiving half
    /// holds more input and will write it before it next reads from the
    /// socket. The task is woken once per batch, so that held frames go out
    /// even if `recv` is not called again.
    pub(crate) fn after_op_or_hold(
        &self,
        mut core: MutexGuard<'_, Core>,
        now: Option<Duration>,
        may_hold: bool,
    ) {
        self.rearm(&mut core, now);
        let waiting = core.conn.data_to_send().len();
        if waiting == 0 {
            return;
        }
        if may_hold && core.batching && waiting < BATCH_MAX {
            if !core.batch_woke {
                core.batch_woke = true;
                core.wake_task();
            }
            return;
        }
        self.push_locked(core);
    }

    /// The receiving half is about to read from the socket (or delivers a
    /// message received at `now` with nothing more buffered): the batch
    /// ends, and what it held is written.
    pub(crate) fn end_batch(&self, mut core: MutexGuard<'_, Core>, now: Option<Duration>) {
        self.rearm(&mut core, now);
        core.batching = false;
        core.batch_woke = false;
        if !core.conn.data_to_send().is_empty() {
            self.push_locked(core);
        }
    }

    /// Writes the core's output now if the write half is idle, without
    /// waiting: what the socket does not take at once is left to the task.
    /// The core is locked; the write half is only tried, never waited for,
    /// under it.
    fn push_locked(&self, mut core: MutexGuard<'_, Core>) {
        let Ok(mut out) = self.out.try_lock() else {
            // Someone is writing and takes the core's output after its own;
            // the task makes sure of it.
            core.wake_task();
            return;
        };
        if !out.is_idle() || out.half.is_none() {
            // The task owns a write in progress (and polls with its own
            // waker): it takes this output when it is done.
            return;
        }
        core.conn.take_data_to_send(&mut out.buf);
        drop(core);
        let mut cx = Context::from_waker(Waker::noop());
        let result = out.poll_write_buf(&mut cx);
        self.unsent
            .store(out.buf.len() - out.pos, Ordering::Release);
        match result {
            Poll::Ready(Ok(())) => {
                drop(out);
                self.wake_senders();
            }
            Poll::Ready(Err(e)) => {
                out.half = None;
                drop(out);
                self.fail(Error::Io(e));
            }
            Poll::Pending => {
                drop(out);
                if let Ok(mut core) = self.core.lock() {
                    core.wake_task();
                }
            }
        }
    }

    /// Sends one large data frame of sender `id` without copying its
    /// payload into the queue: when the write half is idle, the frames
    /// queued before it, its header and `payload` go out in vectored
    /// writes now, and only what the socket did not take is copied for the
    /// task. Gives the core back (`Err`) when the write half is busy: the
    /// caller then queues the frame as usual.
    pub(crate) fn send_large<'a>(
        &'a self,
        mut core: MutexGuard<'a, Core>,
        id: u64,
        (opcode, payload, fin): (crate::sansio::frame::Opcode, &[u8], bool),
    ) -> std::result::Result<Result<()>, MutexGuard<'a, Core>> {
        let Ok(mut out) = self.out.try_lock() else {
            return Err(core);
        };
        if !out.is_idle() || out.half.is_none() {
            return Err(core);
        }
        let mut pending = std::mem::take(&mut out.buf);
        pending.clear();
        let head = core
            .conn
            .send_fragment_head(opcode, payload, fin, &mut pending);
        core.update_owner(id);
        let head = match head {
            Ok(head) => head,
            Err(e) => {
                out.buf = pending;
                drop(out);
                self.after_op(core, None);
                return Ok(Err(e));
            }
        };
        drop(core);
        let mut parts: [&[u8]; 3] = [&pending, head.as_bytes(), payload];
        let mut cx = Context::from_waker(Waker::noop());
        let mut failed = None;
        let mut wrote = false;
        if let Some(half) = out.half.as_mut() {
            while parts.iter().any(|p| !p.is_empty()) {
                let slices = parts.map(io::IoSlice::new);
                match half.as_mut().poll_write_vectored(&mut cx, &slices) {
                    Poll::Ready(Ok(0)) => {
                        failed = Some(io::Error::from(io::ErrorKind::WriteZero));
                        break;
                    }
                    Poll::Ready(Ok(mut n)) => {
                        wrote = true;
                        for part in parts.iter_mut() {
                            let take = part.len().min(n);
                            *part = &part[take..];
                            n -= take;
                        }
                    }
                    Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                    Poll::Ready(Err(e)) => {
                        failed = Some(e);
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        if wrote {
            out.flushed = false;
        }
        if let Some(e) = failed {
            out.half = None;
            drop(out);
            self.fail(Error::Io(e));
            return Ok(Err(Error::ConnectionFailed));
        }
        // What the socket did not take waits for the task, in order.
        let mut rest = Vec::new();
        for part in parts {
            rest.extend_from_slice(part);
        }
        out.buf = rest;
        out.pos = 0;
        let left = out.buf.len();
        self.unsent.store(left, Ordering::Release);
        if left == 0 {
            // Written: flush (a no-op for TCP) while the half is ours.
            let _ = out.poll_write_buf(&mut cx);
        }
        let idle = out.is_idle();
        drop(out);
        if !idle {
            // A data frame moves no deadline: only the unwritten rest needs
            // the task.
            if let Ok(mut core) = self.core.lock() {
                core.wake_task();
            }
        }
        Ok(Ok(()))
    }

    /// The task's write: everything the core has encoded, with the task's
    /// waker. Ready once all is written and flushed; an error fails the
    /// connection. `progress` is set when bytes went out.
    pub(crate) fn poll_write_owed(
        &self,
        cx: &mut Context<'_>,
        progress: &mut bool,
    ) -> Poll<Result<()>> {
        let mut out = self.out.lock().map_err(|_| Error::ConnectionFailed)?;
        loop {
            if out.is_idle() {
                let mut core = self.lock_core()?;
                if core.conn.data_to_send().is_empty() {
                    drop(core);
                    drop(out);
                    if *progress {
                        // Room in the queue, or everything written: waiting
                        // sends and flushes check again.
                        self.wake_senders();
                    }
                    return Poll::Ready(Ok(()));
                }
                core.conn.take_data_to_send(&mut out.buf);
            }
            let before = out.pos;
            let result = out.poll_write_buf(cx);
            if out.pos != before || result.is_ready() {
                *progress = true;
            }
            self.unsent
                .store(out.buf.len() - out.pos, Ordering::Release);
            match result {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => {
                    out.half = None;
                    drop(out);
                    self.fail(Error::Io(e));
                    return Poll::Ready(Err(Error::ConnectionFailed));
                }
                Poll::Pending => {
                    drop(out);
                    if *progress {
                        self.wake_senders();
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Ends our writing half (a TCP FIN), once everything is written.
    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<()> {
        let Ok(mut out) = self.out.lock() else {
            return Poll::Ready(());
        };
        if out.shut {
            return Poll::Ready(());
        }
        let Some(half) = out.half.as_mut() else {
            return Poll::Ready(());
        };
        match half.as_mut().poll_shutdown(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => {
                out.shut = true;
                Poll::Ready(())
            }
        }
    }

    /// Wakes waiting sends after bytes were written (they check again).
    pub(crate) fn wake_senders(&self) {
        if !self.senders_waiting.swap(false, Ordering::AcqRel) {
            return;
        }
        if let Ok(mut core) = self.core.lock() {
            for waker in core.senders.drain(..) {
                waker.wake();
            }
        }
    }

    /// A write failed: the stream may hold half a frame, so the connection
    /// is over for every handle.
    pub(crate) fn fail(&self, error: Error) {
        if let Ok(mut core) = self.core.lock() {
            core.conn.abort();
            core.fragment_owner = None;
            core.record(error);
            core.wake_task();
            core.wake_all();
        }
    }

    /// Drops the transport: both halves, so that it closes.
    pub(crate) fn end_transport(&self) {
        if let Ok(mut reading) = self.reading.lock() {
            reading.half = None;
            reading.buf = Vec::new();
            reading.start = 0;
            reading.end = 0;
        }
        if let Ok(mut out) = self.out.lock() {
            out.half = None;
            out.buf = Vec::new();
            out.pos = 0;
        }
        self.unsent.store(0, Ordering::Release);
        if let Ok(mut core) = self.core.lock() {
            core.ended = true;
            core.fragment_owner = None;
            if !core.conn.is_finished() {
                core.conn.abort();
            }
            core.wake_all();
        }
    }
}
