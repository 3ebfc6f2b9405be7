//! What a connection needs from the stream under it.
//!
//! `TcpStream` is the transport plainws is built for. The trait lets the
//! same connection code run over anything else that can be read and
//! written from two threads at once and shut down: an in-memory pipe in
//! tests and fuzz targets, or a TLS stream a user brings.
//!
//! A connection holds its transport once, shared: the receiving half reads
//! through `&self` while a sender writes through `&self`, as `&TcpStream`
//! allows. So a TCP connection costs one file descriptor, not one per half.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::Duration;

/// A byte stream that a WebSocket connection runs over.
///
/// One thread reads while others write, through shared references: a
/// read blocked in one thread must not stop a write in another, and a
/// shutdown from any thread must wake a blocked read.
pub trait Transport: Send + Sync + 'static {
    /// Reads into `buf`, as `Read::read`: `Ok(0)` is the end of the stream.
    fn read(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes from `buf`, as `Write::write`.
    fn write(&self, buf: &[u8]) -> io::Result<usize>;
    /// Writes from several buffers, as `Write::write_vectored`. The default
    /// writes the first non-empty one.
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match bufs.iter().find(|b| !b.is_empty()) {
            Some(buf) => self.write(buf),
            None => Ok(0),
        }
    }
    /// Writes what the transport can take at once, without blocking, as
    /// `write_vectored` does on a non-blocking socket: `Err(WouldBlock)`
    /// when nothing fits now. A thread shared by many connections (the
    /// flusher of batched writes, the close watchdog) writes only this
    /// way, so that a peer that stopped reading never holds it. The
    /// default returns `Err(Unsupported)`: those threads then leave the
    /// bytes to the connection's own threads, and held frames are not
    /// held (see `Config::batch_writes`). Empty `bufs` return `Ok(0)` when
    /// the transport supports it.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let _ = bufs;
        Err(io::ErrorKind::Unsupported.into())
    }
    /// Shuts down reading, writing or both.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// Bounds how long one read may block (`None`: forever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Bounds how long one write may block (`None`: forever).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Blocks until a read would not block (bytes or end of stream are
    /// there), within the read timeout, without taking any bytes. An idle
    /// connection waits here holding no read buffer. The default returns at
    /// once, and the read that follows does the waiting.
    fn wait_readable(&self) -> io::Result<()> {
        Ok(())
    }
    /// Disables Nagle's algorithm where the transport has one: every frame
    /// is written whole in one call, so there is nothing to gain by waiting.
    fn set_nodelay(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes all of `buf`, resuming after partial writes.
pub fn write_all(transport: &dyn Transport, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match transport.write(buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl Transport for TcpStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&mut &*self).read(buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        (&mut &*self).write(buf)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (&mut &*self).write_vectored(bufs)
    }

    /// The socket is non-blocking for the one call. Callers hold the
    /// connection's write lock, so no other write sees the flag; a read in
    /// the receiving thread that starts meanwhile may return `WouldBlock`,
    /// which it treats as a read timeout and retries.
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if bufs.iter().all(|b| b.is_empty()) {
            return Ok(0);
        }
        self.set_nonblocking(true)?;
        let written = (&mut &*self).write_vectored(bufs);
        let restored = self.set_nonblocking(false);
        let written = written?;
        restored.map(|()| written)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        TcpStream::shutdown(self, how)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }

    fn wait_readable(&self) -> io::Result<()> {
        self.peek(&mut [0u8; 1]).map(|_| ())
    }

    fn set_nodelay(&self) -> io::Result<()> {
        TcpStream::set_nodelay(self, true)
    }
}

/// A transport shared with other owners, such as a server that keeps a
/// handle to shut down connections still in their handshake.
impl<T: Transport + ?Sized> Transport for Arc<T> {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (**self).read(buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        (**self).write(buf)
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (**self).write_vectored(bufs)
    }

    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        (**self).try_write_vectored(bufs)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        (**self).shutdown(how)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        (**self).set_write_timeout(timeout)
    }

    fn wait_readable(&self) -> io::Result<()> {
        (**self).wait_readable()
    }

    fn set_nodelay(&self) -> io::Result<()> {
        (**self).set_nodelay()
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use memory::MemoryStream;

/// An in-memory pipe for tests and fuzzing (feature `test-util`).
#[cfg(any(test, feature = "test-util"))]
mod memory {
    use std::collections::VecDeque;
    use std::io::{self, IoSlice, Read, Write};
    use std::net::Shutdown;
    use std::sync::{Arc, Condvar, Mutex};
    use std::time::{Duration, Instant};

    use super::Transport;

    /// One direction of a pipe.
    #[derive(Debug, Default)]
    struct Pipe {
        bytes: VecDeque<u8>,
        /// No more bytes will come (the writer shut down or went away).
        closed: bool,
    }

    #[derive(Debug, Default)]
    struct Channel {
        pipe: Mutex<Pipe>,
        readable: Condvar,
    }

    #[derive(Debug, Default)]
    struct Timeouts {
        read: Option<Duration>,
    }

    /// One end of an in-memory, full-duplex byte stream: what one end
    /// writes, the other reads. For tests and fuzzing, where a socket would
    /// be slow or unavailable; it behaves like a `TcpStream` for plainws
    /// (blocking reads, read timeouts, shutdown waking a blocked reader).
    #[derive(Debug, Clone)]
    #[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
    pub struct MemoryStream {
        incoming: Arc<Channel>,
        outgoing: Arc<Channel>,
        timeouts: Arc<Mutex<Timeouts>>,
    }

    impl MemoryStream {
        /// Two connected ends.
        pub fn pair() -> (MemoryStream, MemoryStream) {
            let a_to_b = Arc::new(Channel::default());
            let b_to_a = Arc::new(Channel::default());
            let a = MemoryStream {
                incoming: Arc::clone(&b_to_a),
                outgoing: Arc::clone(&a_to_b),
                timeouts: Arc::default(),
            };
            let b = MemoryStream {
                incoming: a_to_b,
                outgoing: b_to_a,
                timeouts: Arc::default(),
            };
            (a, b)
        }

        fn close(channel: &Channel) {
            if let Ok(mut pipe) = channel.pipe.lock() {
                pipe.closed = true;
                channel.readable.notify_all();
            }
        }
    }

    fn broken() -> io::Error {
        io::Error::other("memory stream lock poisoned")
    }

    impl Read for MemoryStream {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            Transport::read(&*self, buf)
        }
    }

    impl Write for MemoryStream {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Transport::write(&*self, buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl MemoryStream {
        fn read_pipe(&self, buf: &mut [u8]) -> io::Result<usize> {
            let timeout = self.timeouts.lock().map_err(|_| broken())?.read;
            let deadline = timeout.map(|t| Instant::now() + t);
            let mut pipe = self.incoming.pipe.lock().map_err(|_| broken())?;
            while pipe.bytes.is_empty() && !pipe.closed {
                pipe = match deadline {
                    None => self.incoming.readable.wait(pipe).map_err(|_| broken())?,
                    Some(deadline) => {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            return Err(io::ErrorKind::WouldBlock.into());
                        }
                        self.incoming
                            .readable
                            .wait_timeout(pipe, left)
                            .map_err(|_| broken())?
                            .0
                    }
                };
            }
            let n = buf.len().min(pipe.bytes.len());
            for (slot, byte) in buf.iter_mut().zip(pipe.bytes.drain(..n)) {
                *slot = byte;
            }
            Ok(n)
        }
    }

    impl MemoryStream {
        fn write_pipe(&self, buf: &[u8]) -> io::Result<usize> {
            let mut pipe = self.outgoing.pipe.lock().map_err(|_| broken())?;
            if pipe.closed {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            pipe.bytes.extend(buf);
            self.outgoing.readable.notify_all();
            Ok(buf.len())
        }
    }

    impl Transport for MemoryStream {
        fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.read_pipe(buf)
        }

        fn write(&self, buf: &[u8]) -> io::Result<usize> {
            self.write_pipe(buf)
        }

        fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            // Writes never block: the pipe has no capacity limit.
            let mut written = 0;
            for buf in bufs {
                written += self.write_pipe(buf)?;
            }
            Ok(written)
        }

        fn shutdown(&self, how: Shutdown) -> io::Result<()> {
            if matches!(how, Shutdown::Write | Shutdown::Both) {
                MemoryStream::close(&self.outgoing);
            }
            if matches!(how, Shutdown::Read | Shutdown::Both) {
                MemoryStream::close(&self.incoming);
            }
            Ok(())
        }

        fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
            self.timeouts.lock().map_err(|_| broken())?.read = timeout;
            Ok(())
        }

        fn set_write_timeout(&self, _timeout: Option<Duration>) -> io::Result<()> {
            // Writes never block: the pipe has no capacity limit.
            Ok(())
        }
    }
}
