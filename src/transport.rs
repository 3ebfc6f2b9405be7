//! What a connection needs from the stream under it.
//!
//! `TcpStream` is the transport plainws is built for. The trait lets the
//! same connection code run over anything else that can be read, written,
//! cloned into halves and shut down: an in-memory pipe in tests and fuzz
//! targets, or a TLS stream a user brings.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

/// A byte stream that a WebSocket connection runs over.
///
/// The receiving half reads from one handle while senders write through
/// another, so a transport must hand out handles to the same stream
/// ([`Transport::try_clone_box`]), and a shutdown through any handle must
/// wake a read blocked on another.
pub trait Transport: Read + Write + Send + Sync + 'static {
    /// Another handle to the same stream.
    fn try_clone_box(&self) -> io::Result<Box<dyn Transport>>;
    /// Shuts down reading, writing or both, for every handle.
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
    /// Bounds how long one read may block (`None`: forever).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Bounds how long one write may block (`None`: forever).
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
    /// Disables Nagle's algorithm where the transport has one: every frame
    /// is written whole in one call, so there is nothing to gain by waiting.
    fn set_nodelay(&self) -> io::Result<()> {
        Ok(())
    }
}

impl Transport for TcpStream {
    fn try_clone_box(&self) -> io::Result<Box<dyn Transport>> {
        Ok(Box::new(self.try_clone()?))
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

    fn set_nodelay(&self) -> io::Result<()> {
        TcpStream::set_nodelay(self, true)
    }
}

pub use memory::MemoryStream;

mod memory {
    use std::collections::VecDeque;
    use std::io::{self, Read, Write};
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

    impl Write for MemoryStream {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut pipe = self.outgoing.pipe.lock().map_err(|_| broken())?;
            if pipe.closed {
                return Err(io::ErrorKind::BrokenPipe.into());
            }
            pipe.bytes.extend(buf);
            self.outgoing.readable.notify_all();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Transport for MemoryStream {
        fn try_clone_box(&self) -> io::Result<Box<dyn Transport>> {
            Ok(Box::new(self.clone()))
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
