//! What both halves of a blocking connection share: the sans-I/O
//! [`Connection`] behind one lock, and the socket's write side behind
//! another.
//!
//! Lock order is always `writer`, then `core`. The core lock is held only
//! for pure work (encoding, decoding), never across a system call, so a
//! reader decoding input never waits for a writer blocked on a slow peer.
//! (One exception: a client's masking keys come from a pool that is
//! refilled from `/dev/urandom`, 512 bytes every 128 keys, while the core
//! encodes; see `random.rs`.)
//! The writer lock is held while bytes go to the socket: whoever holds it
//! takes everything the core has encoded so far and writes it, so frames
//! leave in exactly the order the core encoded them, whole, never
//! interleaved.
//!
//! Only the connection's own threads (its receiving half, the threads
//! calling a `Sender`) write with a blocking write. Threads shared by
//! many connections (the flusher of held frames, the close watchdog) only
//! try a non-blocking write ([`Transport::try_write_vectored`]): what the
//! socket does not take at once stays in the writer's buffer, ahead of
//! anything encoded later, for the connection's next write.
//!
//! A fragmented message holds the data channel (RFC 6455 §5.4): the
//! thread that started it owns it until its last fragment, and data
//! messages from other threads wait (bounded by the write timeout) while
//! control frames still pass. A continuation from any other thread is
//! refused at once. If the owning thread ends (returns or panics) with
//! its message unfinished, the connection is closed with 1011 (internal
//! error): the peer drops the partial message and waiting senders get an
//! error at once.
//!
//! The connection ends when its last handle (the [`Receiver`] and every
//! [`Sender`]) is dropped: a Close reply still owed to the peer goes out
//! then, after everything the application handed over (see
//! [`Connection::defer_close_reply`]).
//!
//! [`Receiver`]: crate::Receiver
//! [`Sender`]: crate::Sender

use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, TryLockError, Weak};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

mod channel;
mod shared_threads;

use crate::blocking::close_watch;
use crate::blocking::random::Entropy;
use crate::blocking::transport::Transport;
use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::config::Config;
use crate::sansio::connection::{Connection, MaskSource, State, TransportEnd};
use crate::sansio::frame::{Opcode, Role};

/// Unmasked payloads this large go out as one vectored write of header
/// and payload, without copying the payload.
const VECTORED_WRITE_MIN: usize = 16 << 10;
/// A write buffer grown past this is released after the frame.
const KEEP_BUFFER_MAX: usize = 64 << 10;
/// Batched frames are written once they reach this many bytes.
pub(crate) const BATCH_MAX: usize = 64 << 10;
/// At most this much is read and thrown away while waiting for the peer
/// to close after the close handshake.
const DRAIN_LIMIT: usize = 1 << 20;

/// The driver's epoch: the first time the clock was read.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// The driver's clock: time since the first connection of the process,
/// as the core counts it.
pub(crate) fn now() -> Duration {
    epoch().elapsed()
}

/// The instant a core time stands for.
pub(crate) fn instant_at(time: Duration) -> Instant {
    epoch() + time
}

/// The core, and who holds its data channel.
pub(crate) struct Core {
    pub(crate) conn: Connection,
    /// The thread sending a fragmented message, until its last fragment
    /// (or reserving the data channel for its turn after waiting).
    fragment_owner: Option<ThreadId>,
    /// Threads waiting for the data channel, served in arrival order so
    /// that a thread sending message after message cannot starve others.
    waiting: VecDeque<ThreadId>,
    /// The receiving half holds unread input and will flush before it
    /// blocks, so frames may wait (`Config::batch_writes`).
    pub(crate) batching: bool,
}

/// The socket's write side.
struct Writer {
    /// Bytes taken from the core and not written yet, in order. Between
    /// writes it holds what a non-blocking attempt (the flusher's, the
    /// close watchdog's) left: the next write sends it first.
    buf: Vec<u8>,
    /// A write failed or timed out: the stream may hold half a frame.
    failed: bool,
    /// The write timeout set on the socket now, so that it is set again
    /// only when a write needs another one.
    socket_timeout: Option<Duration>,
}

/// Which channel a send goes through.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Ping, Pong, Close: never waits for a fragmented message.
    Control,
    /// A new data message: waits, in turn, for another thread's
    /// fragmented message to end.
    Data,
    /// The next fragment of this thread's message: never waits; refused
    /// at once from any thread but the message's own.
    Continuation,
}

impl MaskSource for Entropy {
    fn next_key(&mut self) -> [u8; 4] {
        self.mask_key()
    }
}

/// One connection's shared state.
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Signalled when a fragmented message ends or the connection fails.
    channel_free: Condvar,
    writer: Mutex<Writer>,
    /// The connection's one stream: written under `writer`, shut down from
    /// any thread, read by the receiving half.
    pub(crate) stream: Arc<dyn Transport>,
    pub(crate) role: Role,
    pub(crate) config: Config,
    /// Set once the receiving half has finished reading.
    finished: AtomicBool,
    /// Set once the transport was closed for good.
    ended: AtomicBool,
    /// A flush of held frames is scheduled with the flusher.
    flush_scheduled: AtomicBool,
    /// This connection, for scheduling flushes.
    this: Weak<Shared>,
    /// permessage-deflate was negotiated.
    compresses: bool,
    /// The write timeout in nanoseconds (0: none), from
    /// `Config::write_timeout` or `Sender::set_write_timeout`.
    write_timeout: AtomicU64,
    /// The transport can try a write without blocking, so frames may be
    /// held for the flusher (`Config::batch_writes`).
    tries_writes: bool,
    /// How many bytes a non-blocking attempt left in the writer's buffer
    /// (kept in step with it, readable without the write lock).
    left_over: AtomicUsize,
    /// A server shutdown queued its Close with one non-blocking attempt
    /// ([`try_close_now`](Shared::try_close_now)); the rest is written by
    /// [`close_within`](Shared::close_within).
    shutdown_close_queued: AtomicBool,
}

/// A duration as the nanoseconds `Shared::write_timeout` stores (0: none).
fn as_nanos(timeout: Option<Duration>) -> u64 {
    timeout.map_or(0, |t| {
        u64::try_from(t.as_nanos()).unwrap_or(u64::MAX).max(1)
    })
}

/// A write timeout as the socket takes it: zero means none.
pub(crate) fn socket_timeout(timeout: Duration) -> Option<Duration> {
    Some(timeout).filter(|t| !t.is_zero())
}

impl Shared {
    /// The shared state of `conn`'s connection over `stream`.
    pub(crate) fn new(stream: Arc<dyn Transport>, conn: Connection) -> io::Result<Arc<Shared>> {
        let config = conn.config().clone();
        let role = conn.role();
        let compresses = conn.compresses();
        let write_timeout = socket_timeout(config.write_timeout);
        stream.set_write_timeout(write_timeout)?;
        let tries_writes = stream.try_write_vectored(&[]).is_ok();
        Ok(Arc::new_cyclic(|this| Shared {
            core: Mutex::new(Core {
                conn,
                fragment_owner: None,
                waiting: VecDeque::new(),
                batching: false,
            }),
            channel_free: Condvar::new(),
            writer: Mutex::new(Writer {
                buf: Vec::new(),
                failed: false,
                socket_timeout: write_timeout,
            }),
            stream,
            role,
            config,
            finished: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            flush_scheduled: AtomicBool::new(false),
            this: this.clone(),
            compresses,
            write_timeout: AtomicU64::new(as_nanos(write_timeout)),
            tries_writes,
            left_over: AtomicUsize::new(0),
            shutdown_close_queued: AtomicBool::new(false),
        }))
    }

    // A poisoned lock means a thread panicked mid-operation: the stream
    // may hold half a frame, so the connection is failed, never a panic.
    pub(crate) fn lock_core(&self) -> Result<MutexGuard<'_, Core>> {
        self.core.lock().map_err(|_| Error::ConnectionFailed)
    }

    fn lock_writer(&self) -> Result<MutexGuard<'_, Writer>> {
        self.writer.lock().map_err(|_| Error::ConnectionFailed)
    }

    /// Records that the receiving side is done reading, waking a close
    /// watchdog.
    pub(crate) fn mark_finished(&self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            close_watch::finished();
        }
    }

    /// Whether the receiving side has finished with the stream.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Whether the transport was closed for good.
    pub(crate) fn is_ended(&self) -> bool {
        self.ended.load(Ordering::SeqCst)
    }

    /// Shuts the whole socket down: any blocked read or write returns.
    pub(crate) fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// The write timeout every later write gets (`None`: none).
    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        match self.write_timeout.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }

    /// Sets the write timeout for every later write, and for the wait for
    /// the data channel (zero: none). The socket gets it with the next
    /// write.
    pub(crate) fn set_write_timeout(&self, timeout: Duration) {
        self.write_timeout
            .store(as_nanos(socket_timeout(timeout)), Ordering::Relaxed);
    }

    /// Runs a send operation on the core and writes its frames, unless
    /// `hold` (or the receiving half's batching) lets them wait. `data`
    /// operations respect the data channel of a fragmented message.
    pub(crate) fn send(
        &self,
        data: bool,
        hold: bool,
        op: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        let channel = if data {
            Channel::Data
        } else {
            Channel::Control
        };
        self.send_on(channel, hold, op)
    }

    /// [`send`](Self::send) through `channel`.
    pub(crate) fn send_on(
        &self,
        channel: Channel,
        hold: bool,
        op: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        let me = thread::current().id();
        let (mut writer, mut core) = self.lock_for(me, channel)?;
        let result = op(&mut core.conn);
        let data = channel != Channel::Control;
        if data {
            self.update_owner(&mut core, me);
        }
        result?;
        let waiting = core.conn.data_to_send().len();
        if waiting == 0 {
            return Ok(());
        }
        // Data frames may wait: for the caller's own flush (`feed_*`), or
        // for the receiving half to come back (batching), then at most the
        // flusher's bound.
        if data && waiting + self.left_over.load(Ordering::Relaxed) < BATCH_MAX {
            if hold {
                return Ok(());
            }
            if core.batching {
                // Scheduling may start the flusher's thread: not under the
                // core lock. The write lock keeps the order meanwhile.
                drop(core);
                if self.schedule_flush() {
                    return Ok(());
                }
                core = self.lock_core()?;
            }
        }
        core.conn.take_data_to_send(&mut writer.buf);
        drop(core);
        self.write_buffer(&mut writer)
    }

    /// Takes both locks, in order, for a send. A data send first waits
    /// for the data channel, and again if another thread took it while
    /// the locks were being taken; a continuation never waits.
    fn lock_for(
        &self,
        me: ThreadId,
        channel: Channel,
    ) -> Result<(MutexGuard<'_, Writer>, MutexGuard<'_, Core>)> {
        loop {
            if channel == Channel::Data {
                self.wait_for_channel(me)?;
            }
            let writer = self.lock_writer()?;
            let mut core = self.lock_core()?;
            if writer.failed {
                if channel != Channel::Control {
                    self.update_owner(&mut core, me);
                }
                return Err(Error::ConnectionFailed);
            }
            match (channel, core.fragment_owner) {
                (Channel::Control, _) | (_, None) => return Ok((writer, core)),
                (_, Some(owner)) if owner == me => return Ok((writer, core)),
                (Channel::Continuation, Some(_)) => {
                    return Err(Error::NotAllowed(
                        "a continuation from a thread other than the one that started the message",
                    ));
                }
                (Channel::Data, Some(_)) => {}
            }
        }
    }

    /// Sends a large payload without copying it (a server's only): the
    /// frames waiting before it, its header and the payload in one
    /// vectored write.
    pub(crate) fn send_large(
        &self,
        channel: Channel,
        opcode: Opcode,
        payload: &[u8],
        fin: bool,
    ) -> Result<()> {
        let me = thread::current().id();
        let (mut writer, mut core) = self.lock_for(me, channel)?;
        let mut pending = std::mem::take(&mut writer.buf);
        let head = core
            .conn
            .send_fragment_head(opcode, payload, fin, &mut pending);
        self.update_owner(&mut core, me);
        let head = match head {
            Ok(head) => head,
            Err(e) => {
                writer.buf = pending;
                return Err(e);
            }
        };
        drop(core);
        let written = write_all_vectored(
            self.stream.as_ref(),
            &mut [&pending, head.as_bytes(), payload],
            self.write_timeout(),
            &mut writer.socket_timeout,
        );
        pending.clear();
        writer.buf = pending;
        self.left_over.store(0, Ordering::Relaxed);
        self.check_write(&mut writer, written)
    }

    /// Whether permessage-deflate was negotiated.
    pub(crate) fn compresses(&self) -> bool {
        self.compresses
    }

    /// Whether payloads of this size go out with [`Shared::send_large`].
    pub(crate) fn is_large(&self, len: usize) -> bool {
        self.role == Role::Server && len >= VECTORED_WRITE_MIN
    }

    /// Writes whatever the core has encoded.
    pub(crate) fn flush(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        self.write_pending(&mut writer)
    }

    /// Under the write lock: takes what the core has encoded and writes
    /// it, after what an earlier non-blocking attempt left.
    fn write_pending(&self, writer: &mut Writer) -> Result<()> {
        if writer.failed {
            return Err(Error::ConnectionFailed);
        }
        let mut core = self.lock_core()?;
        if core.conn.data_to_send().is_empty() && writer.buf.is_empty() {
            return Ok(());
        }
        core.conn.take_data_to_send(&mut writer.buf);
        drop(core);
        self.write_buffer(writer)
    }

    /// Writes `bytes` to the socket as they are, after the frames already
    /// encoded, under the write lock (so never inside another frame). No
    /// protocol rule is applied and the core is not told: only for
    /// [`crate::__lab::write_raw_bytes_breaking_the_protocol`].
    pub(crate) fn write_raw(&self, bytes: &[u8]) -> Result<()> {
        let mut writer = self.lock_writer()?;
        self.write_pending(&mut writer)?;
        writer.buf.extend_from_slice(bytes);
        self.write_buffer(&mut writer)
    }

    /// Whether this side sent its Close, or the connection is over.
    pub(crate) fn close_sent(&self) -> bool {
        self.lock_core().map_or(true, |core| {
            matches!(core.conn.state(), State::CloseSent | State::Closed)
        })
    }

    /// Writes the writer's buffer whole, within one write deadline.
    fn write_buffer(&self, writer: &mut Writer) -> Result<()> {
        let Writer {
            buf,
            socket_timeout,
            ..
        } = writer;
        let written = write_all_vectored(
            self.stream.as_ref(),
            &mut [buf],
            self.write_timeout(),
            socket_timeout,
        );
        writer.buf.clear();
        self.left_over.store(0, Ordering::Relaxed);
        if writer.buf.capacity() > KEEP_BUFFER_MAX {
            writer.buf = Vec::new();
        }
        self.check_write(writer, written)
    }

    /// A failed write may have left half a frame on the wire: the
    /// connection is failed for every sender, and the socket shut down so
    /// the receiving half stops too.
    fn check_write(&self, writer: &mut Writer, written: io::Result<()>) -> Result<()> {
        let Err(error) = written else {
            return Ok(());
        };
        writer.failed = true;
        if let Ok(mut core) = self.core.lock() {
            core.conn.abort();
            core.fragment_owner = None;
        }
        self.channel_free.notify_all();
        self.shutdown();
        Err(error.into())
    }

    /// Ends the transport after the close handshake or a failure (RFC 6455
    /// §7.1.1, as the core's `transport_end` rules it): what is encoded
    /// goes out, the server closes TCP first, and the peer's remaining
    /// bytes are read and dropped until its end of stream (bounded by the
    /// core's close deadline), so that closing does not reset the
    /// connection under data the peer has yet to read.
    pub(crate) fn end_transport(&self) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        let _ = self.flush();
        // Who ends TCP first and how long to linger is the core's rule.
        let end = self
            .lock_core()
            .map_or(TransportEnd::Close, |core| core.conn.transport_end());
        match end {
            TransportEnd::EndWritingFirst { deadline } => {
                let _ = self.stream.shutdown(Shutdown::Write);
                drain_until_eof(self.stream.as_ref(), instant_at(deadline));
            }
            TransportEnd::AwaitEof { deadline } => {
                drain_until_eof(self.stream.as_ref(), instant_at(deadline));
            }
            TransportEnd::Open | TransportEnd::Close => {}
        }
        self.shutdown();
        self.mark_finished();
        close_watch::finished();
    }

    /// The close watchdog's deadline passed (on the watchdog's thread,
    /// shared by every connection): a Close reply still owed is tried
    /// once without blocking (if no writer is busy on the socket), and the
    /// socket is shut down, which ends a close handshake the peer has not
    /// finished and wakes this connection's threads. A peer that is not
    /// reading by then is not waited for.
    pub(crate) fn on_close_deadline(&self) {
        if let Ok(mut writer) = self.writer.try_lock() {
            if let Ok(mut core) = self.core.lock() {
                let _ = core.conn.reply_to_close(now());
                if !writer.failed {
                    core.conn.take_data_to_send(&mut writer.buf);
                }
            }
            if !writer.failed {
                self.try_write(&mut writer);
                writer.buf.clear();
                self.left_over.store(0, Ordering::Relaxed);
            }
        }
        self.ended.store(true, Ordering::SeqCst);
        self.shutdown();
    }

    /// Closes for a server shutdown, within `budget` whatever the peer
    /// does: a writer that still holds the write lock when the budget is
    /// spent is stuck on a peer that does not read and is not waited for
    /// (the socket is shut down under it); the Close frame, after what is
    /// waiting before it, gets what is left of `budget` to be written,
    /// from the first write on (the socket's own write timeout is set to
    /// it). Returns whether the Close went out.
    pub(crate) fn close_within(&self, code: CloseCode, reason: &str, budget: Duration) -> bool {
        // The write lock may be held for a moment by a flush; only a writer
        // still holding it when the budget is spent is stuck on its peer.
        let deadline = Instant::now() + budget;
        let mut writer = loop {
            match self.writer.try_lock() {
                Ok(writer) => break writer,
                Err(TryLockError::Poisoned(_)) => {
                    self.shutdown();
                    return false;
                }
                Err(TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        self.shutdown();
                        return false;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            }
        };
        if writer.failed {
            return false;
        }
        let closed = match self.core.lock() {
            Ok(mut core) => {
                let queued = self.shutdown_close_queued.load(Ordering::SeqCst);
                let closed = queued || core.conn.close(code, reason, now()).is_ok();
                core.conn.take_data_to_send(&mut writer.buf);
                closed
            }
            Err(_) => false,
        };
        if writer.buf.is_empty() {
            return closed;
        }
        let Writer {
            buf,
            socket_timeout,
            ..
        } = &mut *writer;
        let written = write_all_vectored(
            self.stream.as_ref(),
            &mut [buf],
            Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1)),
            ),
            socket_timeout,
        );
        writer.buf.clear();
        self.left_over.store(0, Ordering::Relaxed);
        closed && self.check_write(&mut writer, written).is_ok()
    }

    /// When the close handshake gives up on the peer: the core's deadline
    /// (one clock per connection), or `close_timeout` from now if the
    /// handshake has not begun.
    pub(crate) fn close_deadline(&self) -> Instant {
        let deadline = self
            .lock_core()
            .ok()
            .and_then(|core| core.conn.close_deadline());
        deadline.map_or_else(|| Instant::now() + self.config.close_timeout, instant_at)
    }

    /// Whether a Close reply is owed to the peer.
    pub(crate) fn is_reply_due(&self) -> bool {
        self.core.lock().is_ok_and(|core| core.conn.is_reply_due())
    }
}

impl Drop for Shared {
    /// The last handle is gone: the Close reply still owed goes out after
    /// everything handed over, then the transport ends.
    fn drop(&mut self) {
        if self.ended.load(Ordering::SeqCst) {
            return;
        }
        let (reply_sent, pending) = match self.core.get_mut() {
            Ok(core) => {
                let owed = core.conn.is_reply_due();
                let _ = core.conn.reply_to_close(now());
                (owed, !core.conn.data_to_send().is_empty())
            }
            Err(_) => (false, false),
        };
        // What a non-blocking attempt left goes out too.
        if pending || self.left_over.load(Ordering::SeqCst) > 0 {
            let _ = self.flush();
        }
        if reply_sent {
            self.end_transport();
        } else {
            self.shutdown();
        }
    }
}

/// `write_all` for several slices, resuming after partial writes, within
/// one `timeout` for all of them (`None`: none). Before each write the
/// socket's write timeout is set to what is left, if the socket has
/// another one (`socket_timeout` tracks it): a first write to a full
/// socket already keeps the bound, and in the usual case (one write with
/// the connection's own timeout, already set) no extra system call is
/// made.
fn write_all_vectored(
    stream: &dyn Transport,
    parts: &mut [&[u8]],
    timeout: Option<Duration>,
    socket_timeout: &mut Option<Duration>,
) -> io::Result<()> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut fresh = true;
    let mut parts = &mut parts[..];
    loop {
        while parts.first().is_some_and(|p| p.is_empty()) {
            parts = &mut parts[1..];
        }
        if parts.is_empty() {
            return Ok(());
        }
        let wanted = match deadline {
            _ if fresh => timeout,
            None => None,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "write deadline passed",
                    ));
                }
                Some(left)
            }
        };
        fresh = false;
        if *socket_timeout != wanted {
            stream.set_write_timeout(wanted)?;
            *socket_timeout = wanted;
        }
        let mut slices = [IoSlice::new(&[]); 3];
        for (slot, part) in slices.iter_mut().zip(parts.iter()) {
            *slot = IoSlice::new(part);
        }
        let mut written = match stream.write_vectored(&slices[..parts.len().min(3)]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        while written > 0 {
            let first = parts[0].len().min(written);
            parts[0] = &parts[0][first..];
            written -= first;
            if parts[0].is_empty() {
                parts = &mut parts[1..];
            }
        }
    }
}

/// Reads and drops the peer's bytes until its end of stream, at most
/// until `deadline` and [`DRAIN_LIMIT`] bytes.
fn drain_until_eof(stream: &dyn Transport, deadline: Instant) {
    let mut scratch = [0u8; 1024];
    let mut drained = 0;
    while drained < DRAIN_LIMIT {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match stream.read(&mut scratch) {
            Ok(0) => return,
            Ok(n) => drained += n,
            // A read timeout, or a read that met the flusher's
            // non-blocking attempt: the deadline decides.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::Interrupted
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
