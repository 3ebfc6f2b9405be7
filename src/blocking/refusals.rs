//! Connections beyond `ServerOptions::max_connections` answered with 503,
//! with bounded resources however many arrive: no thread per refusal, at
//! most [`LINGER_MAX`] descriptors, and the accept loop never waits for a
//! refused client.
//!
//! The accept loop answers on its own thread without blocking: it reads
//! what has arrived of the request, writes the 503 (a fresh socket's send
//! buffer always takes it) and ends its writing half. The socket then
//! lingers, at most [`LINGER`], with one thread per server reading and
//! dropping the client's bytes until its end of stream, so that closing
//! does not reset the connection under the response. When [`LINGER_MAX`]
//! sockets already linger, the next refused one is closed at once (its
//! client still got the 503 and our end of stream, unless its request
//! arrives later than our close).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Refused sockets that may linger at once: with the listener and the
/// connections served, the whole of a server's descriptors.
pub(crate) const LINGER_MAX: usize = 32;
/// How long a refused client gets to read our answer and end its side.
const LINGER: Duration = Duration::from_secs(1);
/// How often lingering sockets are read.
const POLL: Duration = Duration::from_millis(10);
/// At most this much of a request is read and dropped at once.
const READ_CHUNK: usize = 4096;

/// One server's refusals.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Sockets waiting for their client's end of stream, oldest first.
    lingering: Mutex<Lingering>,
    /// Lingering sockets, including those the thread is reading now.
    open: AtomicUsize,
}

#[derive(Debug, Default)]
struct Lingering {
    sockets: Vec<(Instant, TcpStream)>,
    /// The lingering thread is running.
    running: bool,
}

impl Refusals {
    /// Answers `stream` with `response` and closes it, never blocking.
    pub(crate) fn refuse(&self, stream: TcpStream, response: &[u8]) {
        if stream.set_nonblocking(true).is_err() {
            return;
        }
        // What has arrived of the request: read, so that ending our side
        // does not reset the connection under the response.
        if drain(&stream).is_err() {
            return;
        }
        match (&stream).write(response) {
            Ok(n) if n == response.len() => {}
            _ => return,
        }
        let _ = stream.shutdown(Shutdown::Write);
        if self.inner.open.fetch_add(1, Ordering::SeqCst) >= LINGER_MAX {
            self.inner.open.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let Ok(mut lingering) = self.inner.lingering.lock() else {
            self.inner.open.fetch_sub(1, Ordering::SeqCst);
            return;
        };
        lingering.sockets.push((Instant::now() + LINGER, stream));
        if lingering.running {
            return;
        }
        lingering.running = true;
        drop(lingering);
        let inner = Arc::clone(&self.inner);
        let spawned = thread::Builder::new()
            .name("plainws-refused".into())
            .stack_size(64 << 10)
            .spawn(move || inner.linger());
        if spawned.is_err() {
            // No thread: close them now.
            let sockets = match self.inner.lingering.lock() {
                Ok(mut lingering) => {
                    lingering.running = false;
                    std::mem::take(&mut lingering.sockets)
                }
                Err(_) => Vec::new(),
            };
            self.inner.open.fetch_sub(sockets.len(), Ordering::SeqCst);
        }
    }
}

impl Inner {
    /// Reads lingering sockets until each one's client ends its side or
    /// its time is up; ends when none is left.
    fn linger(&self) {
        loop {
            let sockets = match self.lingering.lock() {
                Ok(mut lingering) if lingering.sockets.is_empty() => {
                    lingering.running = false;
                    return;
                }
                Ok(mut lingering) => std::mem::take(&mut lingering.sockets),
                Err(_) => return,
            };
            let now = Instant::now();
            let (done, kept): (Vec<_>, Vec<_>) = sockets
                .into_iter()
                .partition(|(until, stream)| *until <= now || !matches!(drain(stream), Ok(true)));
            self.open.fetch_sub(done.len(), Ordering::SeqCst);
            drop(done);
            match self.lingering.lock() {
                Ok(mut lingering) => lingering.sockets.extend(kept),
                Err(_) => return,
            }
            thread::sleep(POLL);
        }
    }
}

/// Reads and drops what a non-blocking socket holds. Ok(true): more may
/// come; Ok(false): the client ended its side.
fn drain(mut stream: &TcpStream) -> io::Result<bool> {
    let mut scratch = [0u8; READ_CHUNK];
    loop {
        match stream.read(&mut scratch) {
            Ok(0) => return Ok(false),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
