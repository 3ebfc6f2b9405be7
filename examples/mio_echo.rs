//! An echo server on one thread, driven by a readiness event loop (`mio`):
//! the second driver of plainws's sans-I/O core, next to the blocking one,
//! written to be copied into production.
//!
//! ```text
//! cargo run --release --example mio_echo -- 127.0.0.1:9001 [OPTIONS]
//!   --max-connections N   connections served at once; more get 503 (default 100000)
//!   --high-water BYTES    stop reading from a peer while this much output waits for it
//!                         (default 32 MiB)
//!   --write-timeout-ms MS cut off a peer whose output makes no progress for MS ms
//!                         (default: `Config::write_timeout`, 30 s)
//!   --compression         negotiate permessage-deflate (RFC 7692; off by default)
//! ```
//!
//! Everything the protocol decides happens in the core: the opening
//! handshake ([`ServerHandshake`]: request bytes in, a 101 and a ready
//! [`Connection`] out, permessage-deflate included), frames, the close
//! handshake, its timers, and who ends TCP first
//! ([`Connection::transport_end`]). This file only moves bytes and time:
//!
//! - **One registration per socket**, readable and writable, edge-triggered:
//!   every event reads until the socket would block and writes until it
//!   would block, so no `reregister` per event.
//! - **Backpressure**: a peer is not read while [`HIGH_WATER`] bytes of
//!   output wait for it; once its output drains below, reading resumes in
//!   the same event. Memory per connection is bounded by the high-water
//!   mark, one 64 KiB read's replies and one message.
//! - **Write timeout**: output that makes no progress for
//!   `Config::write_timeout` (a peer that stopped reading) cuts the
//!   connection off; the others are never waited for.
//! - **Nothing owed is dropped**: after the peer's end of stream (a
//!   half-close), the replies already owed are written before TCP ends.
//! - **A connection cap**: past it, a client gets 503 (from a small
//!   separate budget of refusals; past that, its socket is closed).
//! - **One deadline per connection** in an ordered set, replaced when it
//!   changes: the timer structure never holds more entries than
//!   connections, however many events pass.
//!
//! One 64 KiB read buffer serves every connection (payloads are unmasked
//! in it, in place), so an idle connection holds its socket, its
//! `Connection` and nothing else.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use plainws::sansio::connection::{Connection, TransportEnd};
use plainws::sansio::handshake::accepting::ServerHandshake;
use plainws::{Accept, Config, DeflateConfig, Error, Message, Response};

const LISTENER: Token = Token(usize::MAX);
/// Default of `--high-water`: stop reading from a peer while this much
/// output waits for it.
const HIGH_WATER: usize = 32 << 20;
/// How long a refused client has to read its 503 or 4xx.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// An output buffer emptied with more capacity than this gives it back.
const KEEP_OUTPUT: usize = 64 << 10;

enum Phase {
    /// Reading the upgrade request, until `deadline`.
    Handshake(Box<ServerHandshake>, Duration),
    /// Speaking WebSocket (and, once the core says so, ending TCP).
    Open(Box<Connection>),
    /// A refusal is being written; then TCP ends, after the peer's end of
    /// stream or at the deadline.
    Refusing(Duration),
}

struct Client {
    stream: TcpStream,
    phase: Phase,
    /// Output not written yet is `out[sent..]`.
    out: Vec<u8>,
    sent: usize,
    /// When output last made progress (or became pending).
    progress_at: Duration,
    /// The peer's end of stream was read.
    read_closed: bool,
    /// Our writing half is shut down.
    write_closed: bool,
    /// Whether this client counts against the cap (a refusal does not).
    counted: bool,
    /// The deadline this client holds in the timer set.
    timer: Option<Duration>,
}

struct Server {
    poll: Poll,
    listener: TcpListener,
    clients: Vec<Option<Client>>,
    free: Vec<usize>,
    /// (deadline, slot): at most one entry per client.
    timers: BTreeSet<(Duration, usize)>,
    config: Config,
    max_connections: usize,
    high_water: usize,
    /// Clients counted against `max_connections`, and refusals.
    served: usize,
    refusing: usize,
    epoch: Instant,
    scratch: Vec<u8>,
}

/// What `serve` decided for a client.
enum Verdict {
    Stay,
    Drop,
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr: SocketAddr = "127.0.0.1:9001".parse().map_err(invalid)?;
    let mut max_connections = 100_000;
    let mut high_water = HIGH_WATER;
    let mut config = Config::default();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--max-connections" => max_connections = number(args.next())?,
            "--high-water" => high_water = number(args.next())?,
            "--write-timeout-ms" => {
                let ms = number(args.next())? as u64;
                config = config.write_timeout(Duration::from_millis(ms));
            }
            "--compression" => config = config.compression(DeflateConfig::default()),
            other => addr = other.parse().map_err(invalid)?,
        }
    }
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
        timers: BTreeSet::new(),
        config,
        max_connections,
        high_water,
        served: 0,
        refusing: 0,
        epoch: Instant::now(),
        scratch: vec![0; 64 << 10],
    };
    server.run()
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

fn number(arg: Option<String>) -> io::Result<usize> {
    arg.ok_or_else(|| invalid("a number is missing"))?
        .parse()
        .map_err(invalid)
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
                .first()
                .map(|&(at, _)| at.saturating_sub(self.now()));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept_all(),
                    Token(slot) => self.on_event(slot, false),
                }
            }
            self.run_timers();
        }
    }

    fn accept_all(&mut self) {
        loop {
            let (mut stream, _) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: all taken. Out of descriptors or a reset
                // before accept: the next readiness event tries again.
                Err(_) => return,
            };
            let _ = stream.set_nodelay(true);
            let now = self.now();
            let counted = self.served < self.max_connections;
            let phase = if counted {
                let deadline = now + self.config.handshake_timeout;
                let handshake = ServerHandshake::new(self.config.clone());
                Phase::Handshake(Box::new(handshake), deadline)
            } else if self.refusing < self.max_connections / 8 + 16 {
                Phase::Refusing(now + REFUSAL_LINGER)
            } else {
                continue; // Past both budgets: closed at once.
            };
            let slot = self.free.pop().unwrap_or_else(|| {
                self.clients.push(None);
                self.clients.len() - 1
            });
            let interest = Interest::READABLE | Interest::WRITABLE;
            if self
                .poll
                .registry()
                .register(&mut stream, Token(slot), interest)
                .is_err()
            {
                self.free.push(slot);
                continue;
            }
            let mut client = Client {
                stream,
                phase,
                out: Vec::new(),
                sent: 0,
                progress_at: now,
                read_closed: false,
                write_closed: false,
                counted,
                timer: None,
            };
            if counted {
                self.served += 1;
            } else {
                self.refusing += 1;
                let busy = Response::for_error(&Error::ServerBusy);
                client.out = busy.to_bytes();
            }
            self.clients[slot] = Some(client);
            self.on_event(slot, false);
        }
    }

    /// Serves a client after a readiness event, or at its deadline.
    fn on_event(&mut self, slot: usize, timer: bool) {
        let Some(mut client) = self.clients.get_mut(slot).and_then(Option::take) else {
            return;
        };
        let now = self.now();
        let verdict = if timer {
            self.on_deadline(&mut client, now)
        } else {
            self.serve(&mut client, now)
        };
        match verdict {
            Verdict::Stay => {
                self.set_timer(&mut client, slot, now);
                self.clients[slot] = Some(client);
            }
            Verdict::Drop => self.remove(client, slot),
        }
    }

    fn remove(&mut self, mut client: Client, slot: usize) {
        if let Some(at) = client.timer.take() {
            self.timers.remove(&(at, slot));
        }
        let _ = self.poll.registry().deregister(&mut client.stream);
        if client.counted {
            self.served -= 1;
        } else {
            self.refusing -= 1;
        }
        self.free.push(slot);
    }

    /// Writes and reads what the socket allows, then applies the core's
    /// rule for ending the transport.
    fn serve(&mut self, client: &mut Client, now: Duration) -> Verdict {
        loop {
            if !flush(client, now) {
                return Verdict::Drop;
            }
            // Backpressure: no reading while the peer does not read.
            if client.read_closed || client.pending() >= self.high_water {
                break;
            }
            let n = match client.stream.read(&mut self.scratch) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Verdict::Drop,
            };
            if n == 0 {
                client.read_closed = true;
                if let Phase::Open(conn) = &mut client.phase {
                    let _ = conn.receive_eof(now);
                }
                continue;
            }
            if !on_input(client, &mut self.scratch[..n], now) {
                return Verdict::Drop;
            }
        }
        self.end_if_done(client, now)
    }

    /// Ends the transport as the core's rule says (RFC 6455 §7.1.1), once
    /// the output is written.
    fn end_if_done(&mut self, client: &mut Client, now: Duration) -> Verdict {
        let end = match &client.phase {
            Phase::Handshake(..) if client.read_closed => return Verdict::Drop,
            Phase::Handshake(..) => return Verdict::Stay,
            Phase::Refusing(deadline) => TransportEnd::EndWritingFirst {
                deadline: *deadline,
            },
            Phase::Open(conn) => conn.transport_end(),
        };
        match end {
            TransportEnd::Open => Verdict::Stay,
            // Owed output goes first (bounded by the write timeout).
            TransportEnd::Close if client.pending() > 0 => Verdict::Stay,
            TransportEnd::Close => Verdict::Drop,
            TransportEnd::EndWritingFirst { deadline } | TransportEnd::AwaitEof { deadline } => {
                if now >= deadline {
                    return Verdict::Drop; // Lingered long enough.
                }
                if client.pending() > 0 {
                    return Verdict::Stay;
                }
                if matches!(end, TransportEnd::EndWritingFirst { .. }) && !client.write_closed {
                    let _ = client.stream.shutdown(Shutdown::Write);
                    client.write_closed = true;
                }
                if client.read_closed {
                    Verdict::Drop
                } else {
                    Verdict::Stay
                }
            }
        }
    }

    /// The client's deadline passed: a stalled write cuts it off; the
    /// handshake and the refusal end; the core runs its timers.
    fn on_deadline(&mut self, client: &mut Client, now: Duration) -> Verdict {
        if let Some(stalled) = self.write_deadline(client) {
            if now >= stalled {
                return Verdict::Drop; // The peer stopped reading.
            }
        }
        match &mut client.phase {
            Phase::Handshake(_, deadline) | Phase::Refusing(deadline) if now >= *deadline => {
                return Verdict::Drop;
            }
            Phase::Handshake(..) | Phase::Refusing(_) => {}
            Phase::Open(conn) => {
                let _ = conn.handle_timeout(now);
                conn.take_data_to_send(&mut client.out);
            }
        }
        // Write what the timers produced, then apply the ending rule.
        self.serve(client, now)
    }

    /// When pending output counts as stalled.
    fn write_deadline(&self, client: &Client) -> Option<Duration> {
        let timeout = self.config.write_timeout;
        (client.pending() > 0 && !timeout.is_zero()).then(|| client.progress_at + timeout)
    }

    /// Keeps one entry per client in the timer set: its earliest deadline.
    fn set_timer(&mut self, client: &mut Client, slot: usize, now: Duration) {
        let phase_deadline = match &mut client.phase {
            Phase::Handshake(_, deadline) | Phase::Refusing(deadline) => Some(*deadline),
            Phase::Open(conn) => match conn.transport_end() {
                TransportEnd::Open => conn.poll_timeout(now),
                TransportEnd::EndWritingFirst { deadline }
                | TransportEnd::AwaitEof { deadline } => {
                    earliest(conn.poll_timeout(now), Some(deadline))
                }
                // The protocol is done: only the write timeout is left.
                TransportEnd::Close => None,
            },
        };
        let deadline = earliest(phase_deadline, self.write_deadline(client));
        if deadline != client.timer {
            if let Some(old) = client.timer.take() {
                self.timers.remove(&(old, slot));
            }
            if let Some(at) = deadline {
                self.timers.insert((at, slot));
            }
            client.timer = deadline;
        }
    }

    /// Serves every client whose deadline has passed.
    fn run_timers(&mut self) {
        let now = self.now();
        while let Some(&(at, slot)) = self.timers.first() {
            if at > now {
                return;
            }
            self.timers.pop_first();
            if let Some(client) = self.clients.get_mut(slot).and_then(Option::as_mut) {
                client.timer = None;
            }
            self.on_event(slot, true);
        }
    }
}

impl Client {
    fn pending(&self) -> usize {
        self.out.len() - self.sent
    }
}

fn earliest(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Feeds bytes to the client's phase. Returns whether it stays.
fn on_input(client: &mut Client, input: &mut [u8], now: Duration) -> bool {
    match &mut client.phase {
        Phase::Handshake(handshake, _) => {
            let request = match handshake.receive(input) {
                Ok(None) => return true,
                Ok(Some(request)) => request,
                Err(refusal) => return refuse(client, &refusal.response, now),
            };
            let Phase::Handshake(handshake, _) =
                std::mem::replace(&mut client.phase, Phase::Refusing(now))
            else {
                return false;
            };
            // The application's decision: any path, no subprotocol.
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
            let stays = echo(conn, input, now);
            conn.take_data_to_send(&mut client.out);
            stays
        }
        // Bytes after a refusal are read and dropped.
        Phase::Refusing(_) => true,
    }
}

/// Answers a request that is refused, then ends TCP (after a second for
/// the client to read the answer).
fn refuse(client: &mut Client, response: &Response, now: Duration) -> bool {
    client.out.extend_from_slice(&response.to_bytes());
    client.phase = Phase::Refusing(now + REFUSAL_LINGER);
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
fn flush(client: &mut Client, now: Duration) -> bool {
    if client.pending() == 0 {
        client.progress_at = now;
    }
    while client.pending() > 0 {
        match client.stream.write(&client.out[client.sent..]) {
            Ok(0) => return false,
            Ok(n) => {
                client.sent += n;
                client.progress_at = now;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    if client.pending() == 0 {
        client.out.clear();
        client.sent = 0;
        if client.out.capacity() > KEEP_OUTPUT {
            client.out = Vec::new();
        }
    } else if client.sent > client.out.len() / 2 {
        // Compact now and then, not at every partial write.
        client.out.drain(..client.sent);
        client.sent = 0;
    }
    true
}
