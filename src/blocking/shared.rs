//! What both halves of a blocking connection share: the sans-I/O
//! [`Connection`] behind one lock, and the socket's write side behind
//! another.
//!
//! Lock order is always `writer`, then `core`. The core lock is held only
//! for pure work (encoding, decoding), never across a system call, so a
//! reader decoding input never waits for a writer blocked on a slow peer.
//! The writer lock is held while bytes go to the socket: whoever holds it
//! takes everything the core has encoded so far and writes it, so frames
//! leave in exactly the order the core encoded them, whole, never
//! interleaved.
//!
//! A fragmented message holds the data channel (RFC 6455 §5.4): the
//! thread that started it owns it until its last fragment, and data
//! messages from other threads wait (bounded by the write timeout) while
//! control frames still pass.
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use crate::blocking::close_watch;
use crate::blocking::flusher;
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
    /// Bytes taken from the core, being written.
    buf: Vec<u8>,
    /// A write failed or timed out: the stream may hold half a frame.
    failed: bool,
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
}

impl Shared {
    /// The shared state of `conn`'s connection over `stream`.
    pub(crate) fn new(stream: Arc<dyn Transport>, conn: Connection) -> io::Result<Arc<Shared>> {
        let config = conn.config().clone();
        let role = conn.role();
        let compresses = conn.compresses();
        stream.set_write_timeout(Some(config.write_timeout).filter(|t| !t.is_zero()))?;
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
            }),
            stream,
            role,
            config,
            finished: AtomicBool::new(false),
            ended: AtomicBool::new(false),
            flush_scheduled: AtomicBool::new(false),
            this: this.clone(),
            compresses,
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

    /// Runs a send operation on the core and writes its frames, unless
    /// `hold` (or the receiving half's batching) lets them wait. `data`
    /// operations respect the data channel of a fragmented message.
    pub(crate) fn send(
        &self,
        data: bool,
        hold: bool,
        op: impl FnOnce(&mut Connection) -> Result<()>,
    ) -> Result<()> {
        let me = thread::current().id();
        let (mut writer, mut core) = self.lock_for(me, data)?;
        let result = op(&mut core.conn);
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
        if data && waiting < BATCH_MAX && (hold || (core.batching && self.schedule_flush())) {
            return Ok(());
        }
        core.conn.take_data_to_send(&mut writer.buf);
        drop(core);
        self.write_buffer(&mut writer)
    }

    /// Takes both locks, in order, for a send. A `data` send first waits
    /// for the data channel, and again if another thread took it while
    /// the locks were being taken.
    fn lock_for(
        &self,
        me: ThreadId,
        data: bool,
    ) -> Result<(MutexGuard<'_, Writer>, MutexGuard<'_, Core>)> {
        loop {
            if data {
                self.wait_for_channel(me)?;
            }
            let writer = self.lock_writer()?;
            let mut core = self.lock_core()?;
            if writer.failed {
                if data {
                    self.update_owner(&mut core, me);
                }
                return Err(Error::ConnectionFailed);
            }
            if !data || core.fragment_owner.is_none_or(|owner| owner == me) {
                return Ok((writer, core));
            }
        }
    }

    /// Waits, in turn, while another thread's fragmented message holds the
    /// data channel, at most the write timeout. A thread that had to wait
    /// gets the channel reserved for its send.
    fn wait_for_channel(&self, me: ThreadId) -> Result<()> {
        let mut core = self.lock_core()?;
        let free = core.fragment_owner.is_none() && core.waiting.is_empty();
        if free || core.fragment_owner == Some(me) {
            return Ok(());
        }
        core.waiting.push_back(me);
        let deadline = Instant::now() + self.config.write_timeout;
        loop {
            if core.fragment_owner.is_none() && core.waiting.front() == Some(&me) {
                core.waiting.pop_front();
                core.fragment_owner = Some(me);
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                core.waiting.retain(|waiter| *waiter != me);
                self.channel_free.notify_all();
                return Err(Error::Timeout(
                    "waiting for another thread's fragmented message",
                ));
            }
            core = self
                .channel_free
                .wait_timeout(core, left)
                .map_err(|_| Error::ConnectionFailed)?
                .0;
        }
    }

    /// Records whether this thread holds the data channel after a send:
    /// while its message is open it does; otherwise it lets the next
    /// waiting thread have it.
    fn update_owner(&self, core: &mut Core, me: ThreadId) {
        if core.conn.sending_message().is_some() {
            core.fragment_owner = Some(me);
        } else if core.fragment_owner == Some(me) {
            core.fragment_owner = None;
            self.channel_free.notify_all();
        }
    }

    /// Sends a large payload without copying it (a server's only): the
    /// frames waiting before it, its header and the payload in one
    /// vectored write.
    pub(crate) fn send_large(&self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        let me = thread::current().id();
        let (mut writer, mut core) = self.lock_for(me, true)?;
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
            self.config.write_timeout,
        );
        pending.clear();
        writer.buf = pending;
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

    /// Makes sure held frames are written within the flusher's bound.
    /// Returns false when they must be written now.
    pub(crate) fn schedule_flush(&self) -> bool {
        if self.flush_scheduled.swap(true, Ordering::SeqCst) {
            return true;
        }
        if flusher::schedule(self.this.clone()) {
            return true;
        }
        self.flush_scheduled.store(false, Ordering::SeqCst);
        false
    }

    /// The flusher's call: writes held frames, unless a writer is busy on
    /// the socket (then it tries again a bound later).
    pub(crate) fn flush_held(&self) {
        self.flush_scheduled.store(false, Ordering::SeqCst);
        let Ok(mut writer) = self.writer.try_lock() else {
            self.schedule_flush();
            return;
        };
        let _ = self.write_pending(&mut writer);
    }

    /// Writes whatever the core has encoded.
    pub(crate) fn flush(&self) -> Result<()> {
        let mut writer = self.lock_writer()?;
        self.write_pending(&mut writer)
    }

    /// Under the write lock: takes what the core has encoded and writes it.
    fn write_pending(&self, writer: &mut Writer) -> Result<()> {
        if writer.failed {
            return Err(Error::ConnectionFailed);
        }
        let mut core = self.lock_core()?;
        if core.conn.data_to_send().is_empty() {
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
        let written = write_all(self.stream.as_ref(), &writer.buf, self.config.write_timeout);
        writer.buf.clear();
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

    /// The close watchdog's deadline passed: a Close reply still owed goes
    /// out now (if no writer is stuck on the socket), and a close
    /// handshake the peer has not finished is given up on.
    pub(crate) fn on_close_deadline(&self) {
        if let Ok(mut writer) = self.writer.try_lock() {
            if let Ok(mut core) = self.core.lock() {
                let _ = core.conn.reply_to_close(now());
                if !writer.failed {
                    core.conn.take_data_to_send(&mut writer.buf);
                }
            }
            if !writer.failed && !writer.buf.is_empty() {
                let _ = self.write_buffer(&mut writer);
            }
        }
        self.ended.store(true, Ordering::SeqCst);
        self.shutdown();
    }

    /// Closes for a server shutdown, within `budget` whatever the peer
    /// does: a writer that still holds the write lock when the budget is
    /// spent is stuck on a peer that does not read and is not waited for
    /// (the socket is shut down under it); the Close frame itself gets
    /// what is left of `budget` to be written. Returns whether the Close
    /// went out.
    pub(crate) fn close_within(&self, code: CloseCode, reason: &str, budget: Duration) -> bool {
        // The write lock may be held for a moment by a flush; only a writer
        // still holding it when the budget is spent is stuck on its peer.
        let deadline = Instant::now() + budget;
        let mut writer = loop {
            match self.writer.try_lock() {
                Ok(writer) => break writer,
                Err(std::sync::TryLockError::Poisoned(_)) => {
                    self.shutdown();
                    return false;
                }
                Err(std::sync::TryLockError::WouldBlock) => {
                    if Instant::now() >= deadline {
                        self.shutdown();
                        return false;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
            }
        };
        let budget = deadline.saturating_duration_since(Instant::now());
        if writer.failed {
            return false;
        }
        let closed = match self.core.lock() {
            Ok(mut core) => {
                let closed = core.conn.close(code, reason, now()).is_ok();
                core.conn.take_data_to_send(&mut writer.buf);
                closed
            }
            Err(_) => false,
        };
        if writer.buf.is_empty() {
            return closed;
        }
        let written = write_all(
            self.stream.as_ref(),
            &writer.buf,
            budget.max(Duration::from_millis(1)),
        );
        writer.buf.clear();
        let _ = self
            .stream
            .set_write_timeout(Some(self.config.write_timeout).filter(|t| !t.is_zero()));
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
        if pending {
            let _ = self.flush();
        }
        if reply_sent {
            self.end_transport();
        } else {
            self.shutdown();
        }
    }
}

/// `write_all` within one deadline for the whole buffer: the socket's
/// write timeout is set to what is left after each partial write.
fn write_all(stream: &dyn Transport, buf: &[u8], timeout: Duration) -> io::Result<()> {
    write_all_vectored(stream, &mut [buf], timeout)
}

/// `write_all` for several slices, resuming after partial writes, within
/// one deadline for all of them (`timeout` zero: none).
fn write_all_vectored(
    stream: &dyn Transport,
    parts: &mut [&[u8]],
    timeout: Duration,
) -> io::Result<()> {
    let deadline = (!timeout.is_zero()).then(|| Instant::now() + timeout);
    let mut shortened = false;
    let mut parts = &mut parts[..];
    let result = loop {
        while parts.first().is_some_and(|p| p.is_empty()) {
            parts = &mut parts[1..];
        }
        if parts.is_empty() {
            break Ok(());
        }
        let mut slices = [IoSlice::new(&[]); 3];
        for (slot, part) in slices.iter_mut().zip(parts.iter()) {
            *slot = IoSlice::new(part);
        }
        let mut written = match stream.write_vectored(&slices[..parts.len().min(3)]) {
            Ok(0) => break Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        while written > 0 {
            let first = parts[0].len().min(written);
            parts[0] = &parts[0][first..];
            written -= first;
            if parts[0].is_empty() {
                parts = &mut parts[1..];
            }
        }
        // A partial write: the rest gets only what is left of the deadline.
        if let (Some(deadline), false) = (deadline, parts.is_empty()) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "write deadline passed",
                ));
            }
            shortened = true;
            if let Err(e) = stream.set_write_timeout(Some(left)) {
                break Err(e);
            }
        }
    };
    if shortened {
        let _ = stream.set_write_timeout(Some(timeout));
    }
    result
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
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}
