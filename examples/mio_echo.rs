//! An echo server on one thread, driven by a readiness event loop (`mio`):
//! the second driver of plainws's sans-I/O core, next to the blocking one.
//!
//! ```text
//! cargo run --release --example mio_echo -- 127.0.0.1:9001
//! ```
//!
//! Everything the protocol decides happens in
//! [`plainws::sansio::connection::Connection`] and the pure handshake
//! functions; this file only moves bytes and time. One 64 KiB read buffer
//! serves every connection (payloads are unmasked in it, in place), so an
//! idle connection holds its socket, its `Connection` and nothing else.
//!
//! Per connection:
//! 1. the opening handshake: bytes into the core's `ServerHandshake` until
//!    the request is complete, then its `accept` gives the 101 and the
//!    `Connection` (or the refusal to send);
//! 2. then bytes into `Connection::receive`, each message echoed with
//!    `send_text` / `send_binary`, and `take_data_to_send` written out;
//! 3. once `is_finished`, the output is written, the server closes TCP
//!    first (RFC 6455 §7.1.1) and reads until the client's end of stream,
//!    bounded by the close timeout.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use plainws::sansio::connection::Connection;
use plainws::sansio::handshake::accepting::ServerHandshake;
use plainws::{Accept, Config, Message};

const LISTENER: Token = Token(usize::MAX);
/// Stop reading from a peer while this much output waits for it.
const OUTPUT_HIGH_WATER: usize = 4 << 20;

enum Phase {
    /// Reading the upgrade request.
    Handshake(Box<ServerHandshake>),
    /// Speaking WebSocket.
    Open(Box<Connection>),
    /// Our answer is written (or being written); then TCP closes, after
    /// the peer's end of stream or at the deadline.
    Closing { deadline: Duration },
}

struct Client {
    stream: TcpStream,
    phase: Phase,
    /// Bytes not written yet: empty unless the peer reads slower than we
    /// write.
    out: Vec<u8>,
    /// Counts reuses of this slot, so that stale timers are ignored.
    generation: u64,
    /// Set once our side is shut down for writing.
    write_closed: bool,
}

struct Server {
    poll: Poll,
    listener: TcpListener,
    clients: Vec<Option<Client>>,
    free: Vec<usize>,
    generations: Vec<u64>,
    /// (deadline, slot, generation): the earliest first.
    timers: BinaryHeap<Reverse<(Duration, usize, u64)>>,
    config: Config,
    epoch: Instant,
    scratch: Vec<u8>,
}

fn main() -> io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("address: {e}")))?;
    let poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    eprintln!("mio_echo listening on ws://{}", listener.local_addr()?);
    let mut server = Server {
        poll,
        listener,
        clients: Vec::new(),
        free: Vec::new(),
        generations: Vec::new(),
        timers: BinaryHeap::new(),
        config: Config::default(),
        epoch: Instant::now(),
        scratch: vec![0; 64 << 10],
    };
    server.run()
}

impl Server {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let timeout = self
                .timers
                .peek()
                .map(|Reverse((at, _, _))| at.saturating_sub(self.now()));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    Token(slot) => self.on_ready(slot),
                }
            }
            self.run_timers();
        }
    }

    fn accept_all(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let slot = self.free.pop().unwrap_or_else(|| {
                        self.clients.push(None);
                        self.generations.push(0);
                        self.clients.len() - 1
                    });
                    if self
                        .poll
                        .registry()
                        .register(&mut stream, Token(slot), Interest::READABLE)
                        .is_err()
                    {
                        self.free.push(slot);
                        continue;
                    }
                    self.generations[slot] += 1;
                    let deadline = self.now() + self.config.handshake_timeout;
                    self.timers
                        .push(Reverse((deadline, slot, self.generations[slot])));
                    self.clients[slot] = Some(Client {
                        stream,
                        phase: Phase::Handshake(Box::new(ServerHandshake::new(
                            self.config.clone(),
                        ))),
                        out: Vec::new(),
                        generation: self.generations[slot],
                        write_closed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Out of descriptors or a connection reset before accept:
                // the next readiness event tries again.
                Err(_) => return,
            }
        }
    }

    /// Reads and writes what the socket allows, then acts on the result.
    fn on_ready(&mut self, slot: usize) {
        let Some(mut client) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let alive = self.serve(&mut client, slot);
        if alive {
            self.clients[slot] = Some(client);
        } else {
            let _ = self.poll.registry().deregister(&mut client.stream);
            self.free.push(slot);
        }
    }

    /// Returns whether the client stays.
    fn serve(&mut self, client: &mut Client, slot: usize) -> bool {
        if !flush(client) {
            return false;
        }
        // Backpressure: no reading while the peer does not read.
        while client.out.len() < OUTPUT_HIGH_WATER {
            let n = match client.stream.read(&mut self.scratch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            };
            if n == 0 {
                if !self.on_eof(client) {
                    return false;
                }
                break;
            }
            let now = self.epoch.elapsed();
            let input = &mut self.scratch[..n];
            if !on_input(client, input, now) {
                return false;
            }
            if !flush(client) {
                return false;
            }
        }
        self.after_io(client, slot)
    }

    /// The peer's stream ended. Returns whether the client stays (to
    /// flush what is owed to a half-closed peer).
    fn on_eof(&mut self, client: &mut Client) -> bool {
        match &mut client.phase {
            Phase::Handshake(_) | Phase::Closing { .. } => false,
            Phase::Open(conn) => {
                let _ = conn.receive_eof(self.now());
                client.phase = Phase::Closing {
                    deadline: self.now() + self.config.close_timeout,
                };
                !client.out.is_empty()
            }
        }
    }

    /// Moves to closing when the protocol is done, sets timers, and picks
    /// the readiness the client waits for. Returns whether it stays.
    fn after_io(&mut self, client: &mut Client, slot: usize) -> bool {
        let now = self.now();
        if let Phase::Open(conn) = &mut client.phase {
            if conn.is_finished() {
                client.phase = Phase::Closing {
                    deadline: now + self.config.close_timeout,
                };
            } else if let Some(deadline) = conn.poll_timeout(now) {
                self.timers
                    .push(Reverse((deadline, slot, client.generation)));
            }
        }
        if let Phase::Closing { deadline } = client.phase {
            if client.out.is_empty() && !client.write_closed {
                // RFC 6455 §7.1.1: the server closes TCP first, then reads
                // until the client's end of stream.
                let _ = client.stream.shutdown(Shutdown::Write);
                client.write_closed = true;
            }
            self.timers
                .push(Reverse((deadline, slot, client.generation)));
        }
        let interest = if client.out.is_empty() {
            Interest::READABLE
        } else if client.out.len() >= OUTPUT_HIGH_WATER {
            Interest::WRITABLE
        } else {
            Interest::READABLE | Interest::WRITABLE
        };
        self.poll
            .registry()
            .reregister(&mut client.stream, Token(slot), interest)
            .is_ok()
    }

    /// Runs the timers that are due: the core's (close handshake,
    /// keepalive, idle), the handshake deadline and the closing deadline.
    fn run_timers(&mut self) {
        let now = self.now();
        while let Some(&Reverse((at, slot, generation))) = self.timers.peek() {
            if at > now {
                return;
            }
            self.timers.pop();
            let Some(mut client) = self.clients.get_mut(slot).and_then(Option::take) else {
                continue;
            };
            if client.generation != generation {
                self.clients[slot] = Some(client);
                continue;
            }
            let alive = match &mut client.phase {
                // The whole handshake must arrive by its deadline.
                Phase::Handshake(_) => false,
                Phase::Closing { deadline } => *deadline > now,
                Phase::Open(conn) => {
                    let _ = conn.handle_timeout(now);
                    conn.take_data_to_send(&mut client.out);
                    flush(&mut client) && self.after_io(&mut client, slot)
                }
            };
            if alive {
                self.clients[slot] = Some(client);
            } else {
                let _ = self.poll.registry().deregister(&mut client.stream);
                self.free.push(slot);
            }
        }
    }
}

/// Feeds bytes to the client's phase. Returns whether it stays.
fn on_input(client: &mut Client, input: &mut [u8], now: Duration) -> bool {
    match &mut client.phase {
        Phase::Handshake(handshake) => {
            let request = match handshake.receive(input) {
                Ok(None) => return true,
                Ok(Some(request)) => request,
                Err(refusal) => return refuse(client, &refusal.response, now),
            };
            // The application's decision: any path, no subprotocol.
            let Phase::Handshake(handshake) =
                std::mem::replace(&mut client.phase, Phase::Closing { deadline: now })
            else {
                return false;
            };
            match handshake.accept(&request, Ok(Accept::default())) {
                Ok(upgrade) => {
                    client.out.extend_from_slice(&upgrade.response);
                    let mut conn = upgrade.connection;
                    let mut leftover = upgrade.leftover;
                    let stays = echo(&mut conn, &mut leftover, now);
                    conn.take_data_to_send(&mut client.out);
                    client.phase = Phase::Open(Box::new(conn));
                    stays
                }
                Err(refusal) => refuse(client, &refusal.response, now),
            }
        }
        Phase::Open(conn) => {
            echo(conn, input, now);
            conn.take_data_to_send(&mut client.out);
            true
        }
        // Bytes after our side is done are read and dropped.
        Phase::Closing { .. } => true,
    }
}

/// Answers a bad request with its HTTP status, then closes (after a
/// second for the client to read the answer).
fn refuse(client: &mut Client, response: &plainws::Response, now: Duration) -> bool {
    client.out.extend_from_slice(&response.to_bytes());
    client.phase = Phase::Closing {
        deadline: now + Duration::from_secs(1),
    };
    true
}

/// The application: every text and binary message goes back as it came.
/// Returns false only if the core refused a send (it never should here).
fn echo(conn: &mut Connection, mut input: &mut [u8], now: Duration) -> bool {
    loop {
        let (used, message) = match conn.receive(input, now) {
            Ok(step) => step,
            // The core queued the Close the violation calls for.
            Err(_) => return true,
        };
        input = &mut input[used..];
        let sent = match message {
            None => return true,
            Some(Message::Text(text)) => conn.send_text(&text),
            Some(Message::Binary(data)) => conn.send_binary(&data),
            // Pongs and the Close echo were queued by the core.
            Some(_) => Ok(()),
        };
        if sent.is_err() && !conn.is_finished() {
            return false;
        }
    }
}

/// Writes what the socket takes. Returns false when the socket failed.
fn flush(client: &mut Client) -> bool {
    let mut written = 0;
    while written < client.out.len() {
        match client.stream.write(&client.out[written..]) {
            Ok(0) => return false,
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    client.out.drain(..written);
    if client.out.is_empty() && client.out.capacity() > 64 << 10 {
        client.out = Vec::new();
    }
    true
}
