//! The sending half: `Clone + Send + Sync`, one lock for all writes.
//!
//! The write state — the stream's write half, whether a Close was sent or a
//! write failed, a reusable buffer, the masking keys — sits behind one
//! `Mutex`. A frame is written whole under the lock, in one write (header
//! and payload together), so frames from different threads never
//! interleave. The lock is never held while reading or while running user
//! code. The receiving half answers Pings and Closes through the same lock,
//! synchronously: there is no queue of pending control frames to grow.

use std::io::{self, IoSlice};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::blocking::close_watch;
use crate::blocking::random::Entropy;
use crate::blocking::transport::{Transport, write_all};
use crate::error::{Error, Result};
use crate::sansio::close::{CloseCode, CloseFrame};
use crate::sansio::config::{Config, Direction};
use crate::sansio::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, Role, encode_frame,
};
use crate::sansio::message::Message;
use crate::sansio::reader::TRACE_PREVIEW;

/// Unmasked payloads larger than this go out as a vectored write of
/// header and payload, without copying the payload.
const VECTORED_WRITE_MIN: usize = 16 << 10;
/// A write buffer grown past this is released after the frame.
const KEEP_BUFFER_MAX: usize = 64 << 10;
/// Batched frames are written once they reach this many bytes.
const BATCH_MAX: usize = 64 << 10;

/// Where the sending side stands (RFC 6455 §7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    /// A Close frame went out: no data frame may follow (§5.5.1).
    CloseSent,
    /// A write failed or timed out: the stream may hold half a frame.
    Failed,
}

struct WriteState {
    phase: Phase,
    /// Encoded frames not written yet: empty except while batching.
    buf: Vec<u8>,
    /// Batching: the receiving half holds unread input and will take the
    /// lock again before it blocks, so frames may wait in `buf` until then
    /// (see `Config::batch_writes`).
    batching: bool,
    entropy: Option<Entropy>,
}

/// What both halves of a connection share.
pub(crate) struct Shared {
    write: Mutex<WriteState>,
    /// Set once the receiving side has finished with the stream.
    finished: AtomicBool,
    /// The connection's one stream: written under `write`, shut down from
    /// any thread, read by the receiving half.
    stream: Arc<dyn Transport>,
    pub(crate) role: Role,
    pub(crate) config: Config,
}

impl Shared {
    pub(crate) fn new(
        stream: Arc<dyn Transport>,
        role: Role,
        config: Config,
    ) -> io::Result<Arc<Shared>> {
        stream.set_write_timeout(Some(config.write_timeout).filter(|t| !t.is_zero()))?;
        Ok(Arc::new(Shared {
            write: Mutex::new(WriteState {
                phase: Phase::Open,
                buf: Vec::new(),
                batching: false,
                entropy: (role == Role::Client).then(Entropy::new),
            }),
            finished: AtomicBool::new(false),
            stream,
            role,
            config,
        }))
    }

    /// Records that the receiving side is done, waking a close watchdog.
    pub(crate) fn mark_finished(&self) {
        if !self.finished.swap(true, Ordering::SeqCst) {
            close_watch::finished();
        }
    }

    /// Whether the receiving side has finished with the stream.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Shuts the whole socket down: any blocked read or write returns.
    pub(crate) fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }

    /// Whether a Close frame has been sent (or the connection failed).
    pub(crate) fn close_sent(&self) -> bool {
        self.lock().map_or(true, |state| state.phase != Phase::Open)
    }

    fn lock(&self) -> Result<MutexGuard<'_, WriteState>> {
        // A poisoned lock means a thread panicked mid-write: the stream may
        // hold half a frame, so the connection is failed.
        self.write.lock().map_err(|_| Error::ConnectionFailed)
    }

    /// Writes one frame under the lock. `Close` frames move the phase to
    /// `CloseSent`; data and Ping frames after that are refused.
    pub(crate) fn send_frame(&self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        self.write(opcode, payload, fin, false)
    }

    /// Writes one frame under the lock, or with `hold`, leaves it in the
    /// buffer for a later write (see [`Sender::feed_text`]).
    fn write(&self, opcode: Opcode, payload: &[u8], fin: bool, hold: bool) -> Result<()> {
        let mut state = self.lock()?;
        match state.phase {
            Phase::Failed => return Err(Error::ConnectionFailed),
            Phase::CloseSent => return Err(Error::AlreadyClosed),
            Phase::Open => {}
        }
        let mask = state.entropy.as_mut().map(Entropy::mask_key);
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        if let Some(tracer) = &self.config.tracer {
            tracer(
                Direction::Outgoing,
                &header,
                &payload[..payload.len().min(TRACE_PREVIEW)],
            );
        }
        if opcode == Opcode::Close {
            state.phase = Phase::CloseSent;
        }
        let written = write_frame(self.stream.as_ref(), &mut state, &header, payload, hold);
        self.check_write(state, written)
    }

    /// A failed write may have left half a frame on the wire: the
    /// connection is failed for every sender, and the socket shut down so
    /// the receiving half stops too.
    fn check_write(
        &self,
        mut state: MutexGuard<'_, WriteState>,
        written: io::Result<()>,
    ) -> Result<()> {
        match written {
            Ok(()) => Ok(()),
            Err(e) => {
                state.phase = Phase::Failed;
                drop(state);
                self.shutdown();
                Err(e.into())
            }
        }
    }

    /// Starts or stops batching (see `Config::batch_writes`). Stopping
    /// writes whatever waits. Called by the receiving half only.
    pub(crate) fn set_batching(&self, batching: bool) -> Result<()> {
        let mut state = self.lock()?;
        state.batching = batching;
        if batching {
            return Ok(());
        }
        self.flush_locked(state)
    }

    /// Writes what waits in the buffer, unless the receiving half is
    /// batching (it will write it before it blocks).
    fn flush_unless_batching(&self) -> Result<()> {
        let state = self.lock()?;
        if state.phase == Phase::Failed {
            return Err(Error::ConnectionFailed);
        }
        if state.batching {
            return Ok(());
        }
        self.flush_locked(state)
    }

    fn flush_locked(&self, mut state: MutexGuard<'_, WriteState>) -> Result<()> {
        if state.buf.is_empty() || state.phase == Phase::Failed {
            return Ok(());
        }
        let written = flush(self.stream.as_ref(), &mut state);
        self.check_write(state, written)
    }

    /// Answers a Ping, unless a Close was already sent (then the Pong is
    /// not needed: the connection is closing).
    pub(crate) fn send_pong(&self, payload: &[u8]) -> Result<()> {
        match self.send_frame(Opcode::Pong, payload, true) {
            Err(Error::AlreadyClosed) => Ok(()),
            other => other,
        }
    }

    /// Sends a Close unless one was sent already. Returns whether it did.
    pub(crate) fn send_close(&self, frame: Option<&CloseFrame>) -> Result<bool> {
        let mut payload = Vec::with_capacity(MAX_CONTROL_PAYLOAD as usize);
        if let Some(frame) = frame {
            frame.write_payload(&mut payload);
        }
        match self.send_frame(Opcode::Close, &payload, true) {
            Ok(()) => Ok(true),
            Err(Error::AlreadyClosed) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Writes header and payload as one write: appended to the buffer (and
/// masked there), or as one vectored write for large unmasked payloads.
/// While batching, small frames stay in the buffer for a later write.
fn write_frame(
    stream: &dyn Transport,
    state: &mut WriteState,
    header: &FrameHeader,
    payload: &[u8],
    hold: bool,
) -> io::Result<()> {
    if header.mask.is_none() && payload.len() >= VECTORED_WRITE_MIN {
        let mut head = [0u8; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head);
        write_all_vectored(stream, &mut [&state.buf, &head[..head_len], payload])?;
        state.buf.clear();
        return Ok(());
    }
    encode_frame(&mut state.buf, header, payload);
    if (hold || state.batching) && header.opcode != Opcode::Close && state.buf.len() < BATCH_MAX {
        return Ok(());
    }
    flush(stream, state)
}

/// Writes the buffered frames.
fn flush(stream: &dyn Transport, state: &mut WriteState) -> io::Result<()> {
    write_all(stream, &state.buf)?;
    state.buf.clear();
    if state.buf.capacity() > KEEP_BUFFER_MAX {
        state.buf = Vec::new();
    }
    Ok(())
}

/// `write_all` for several slices, resuming after partial writes.
fn write_all_vectored(stream: &dyn Transport, parts: &mut [&[u8]]) -> io::Result<()> {
    let mut parts = &mut parts[..];
    while !parts.is_empty() {
        if parts[0].is_empty() {
            parts = &mut parts[1..];
            continue;
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
    Ok(())
}

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

    /// Sends a text message in one frame.
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.shared.send_frame(Opcode::Text, text.as_bytes(), true)
    }

    /// Sends a binary message in one frame.
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.shared.send_frame(Opcode::Binary, data, true)
    }

    /// Queues a text message without writing it yet: it goes out with the
    /// next [`flush`](Sender::flush) or send on this connection (or once
    /// 64 KiB are queued). Many small messages then cost one write.
    pub fn feed_text(&self, text: &str) -> Result<()> {
        self.shared.write(Opcode::Text, text.as_bytes(), true, true)
    }

    /// Queues a binary message without writing it yet (see
    /// [`feed_text`](Sender::feed_text)).
    pub fn feed_binary(&self, data: &[u8]) -> Result<()> {
        self.shared.write(Opcode::Binary, data, true, true)
    }

    /// Writes every queued frame.
    pub fn flush(&self) -> Result<()> {
        self.shared.flush_unless_batching()
    }

    /// Sends a Ping; its payload may be at most 125 bytes (RFC 6455 §5.5).
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        self.shared.send_frame(Opcode::Ping, payload, true)
    }

    /// Sends an unsolicited Pong, a one-way heartbeat (RFC 6455 §5.5.3).
    pub fn pong(&self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        self.shared.send_frame(Opcode::Pong, payload, true)
    }

    /// Sends one frame of a message the caller fragments itself: the first
    /// with `Text` or `Binary`, the rest with `Continuation`, `fin` on the
    /// last (RFC 6455 §5.4). Hold a lock of your own around the sequence if
    /// other threads send on this connection meanwhile: their messages may
    /// not come between the fragments.
    pub fn send_fragment(&self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        if opcode.is_control() {
            return Err(Error::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "send_fragment is for data frames; use ping, pong or close",
            )));
        }
        self.shared.send_frame(opcode, payload, fin)
    }

    /// Starts the close handshake (RFC 6455 §7.1.2) with `code` and a
    /// reason, cut to 123 bytes on a character boundary.
    ///
    /// Returns once the Close frame is written. The receiving half keeps
    /// delivering messages until the peer's Close arrives, then ends the
    /// connection; if the peer stays silent, the socket is shut down after
    /// `Config::close_timeout`. Codes that may not be sent (1005, 1006,
    /// 1015, ...) are refused with `Error::InvalidCloseCode`. A second
    /// close returns `Error::AlreadyClosed`.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        if !code.is_sendable() {
            return Err(Error::InvalidCloseCode(code.0));
        }
        if self
            .shared
            .send_close(Some(&CloseFrame::new(code, reason)))?
        {
            close_watch::watch(
                &self.shared,
                Instant::now() + self.shared.config.close_timeout,
            );
            Ok(())
        } else {
            Err(Error::AlreadyClosed)
        }
    }

    /// Whether a Close frame has been sent (by this side, or in reply).
    pub fn is_closed(&self) -> bool {
        self.shared.close_sent()
    }

    /// Sets how long one frame write may block (see `Config::write_timeout`).
    pub fn set_write_timeout(&self, timeout: Duration) -> Result<()> {
        self.shared
            .stream
            .set_write_timeout(Some(timeout).filter(|t| !t.is_zero()))?;
        Ok(())
    }
}

fn check_control_payload(payload: &[u8]) -> Result<()> {
    if payload.len() as u64 > MAX_CONTROL_PAYLOAD {
        return Err(Error::ControlFrameTooLong(payload.len() as u64));
    }
    Ok(())
}
