//! A raw test peer: plain `TcpStream`, hand-built bytes, and the library's
//! sans-I/O decoder to read what the server sends. Tests use it to send
//! exactly the bytes they mean, valid or not.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::frame::{FrameHeader, Opcode, Role, encode_frame};
use plainws::{Config, Message};

pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A loopback address for a server a test starts as another process and
/// cannot ask for its port (it gives it no way to say). Prefer port 0
/// and the server's banner (see `JsonServer`).
///
/// The port is below Linux's ephemeral range (32768 and up by default),
/// so no `bind` to port 0 and no outgoing connection can take it between
/// this check and the server's own bind; it is checked free, and never
/// handed out twice by one test process.
pub fn free_addr() -> SocketAddr {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    // 20000..32000, from a point that differs between processes.
    let start = (std::process::id() % 600) as u16 * 20;
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(n < 12_000, "no free port below the ephemeral range");
        let port = 20_000 + (start + n) % 12_000;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

/// The RFC's example request, for `path`.
pub fn upgrade_request(path: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// A TCP connection upgraded by hand with the RFC's request for `path`:
/// the 101 is read, nothing after it. Reads time out after 20 s.
pub fn upgraded_stream(addr: SocketAddr, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
        .write_all(upgrade_request(path).as_bytes())
        .expect("request");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("response");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "), "upgraded");
    stream
}

/// The JSON echo server binary on a free port, with `extra` arguments;
/// killed when dropped. Its log (standard error) is read and dropped so
/// that it never blocks.
pub struct JsonServer {
    pub child: std::process::Child,
    pub addr: SocketAddr,
}

impl JsonServer {
    pub fn start(extra: &[&str]) -> JsonServer {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        // Port 0: the server takes a free port and names it in its banner
        // (no race with other tests for a port released before binding).
        let mut child = Command::new(env!("CARGO_BIN_EXE_plainws"))
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the JSON echo server");
        // The log starts with the banner, once the server listens.
        let mut log = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut banner = String::new();
        log.read_line(&mut banner).expect("the banner");
        let addr = banner_addr(&banner);
        thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
        JsonServer { child, addr }
    }

    pub fn url(&self) -> String {
        format!("ws://{}/echo", self.addr)
    }
}

/// The address in the JSON server's banner (`... on ws://ADDR/echo ...`).
pub fn banner_addr(banner: &str) -> SocketAddr {
    banner
        .split("ws://")
        .nth(1)
        .and_then(|rest| rest.split("/echo").next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no ws://ADDR/echo in the banner {banner:?}"))
}

impl Drop for JsonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A masked client frame.
pub fn client_frame(opcode: Opcode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut header = FrameHeader::new(opcode, payload.len() as u64, Some(MASK));
    header.fin = fin;
    let mut out = Vec::new();
    encode_frame(&mut out, &header, payload);
    out
}

/// A Close frame body.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// A server on a free loopback port running `handler` for each connection
/// on its own thread. Returns the address; the listener thread lives until
/// the test process ends.
pub fn spawn_server<H>(handler: H) -> SocketAddr
where
    H: Fn(TcpStream) + Send + Sync + Clone + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = handler.clone();
            thread::spawn(move || handler(stream));
        }
    });
    addr
}

/// An echo handler with `config`: echoes text and binary until the end.
pub fn echo_with(config: Config) -> impl Fn(TcpStream) + Send + Sync + Clone + 'static {
    move |stream| {
        let Ok(ws) = plainws::accept_with(stream, config.clone(), |_| Ok(Default::default()))
        else {
            return;
        };
        echo_loop(ws);
    }
}

/// Echoes text and binary messages until the connection ends.
pub fn echo_loop(ws: plainws::WebSocket) {
    let (mut receiver, sender) = ws.split();
    while let Ok(message) = receiver.recv() {
        let sent = match message {
            Message::Text(text) => sender.send_text(&text),
            Message::Binary(data) => sender.send_binary(&data),
            _ => Ok(()),
        };
        if sent.is_err() {
            break;
        }
    }
}

/// One frame read by a [`RawClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    pub payload: Vec<u8>,
}

impl Frame {
    /// The close code of a Close frame, if it has one.
    pub fn close_code(&self) -> Option<u16> {
        (self.header.opcode == Opcode::Close && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// What the peer did when a test waited for a frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Frame(Frame),
    /// The server closed the TCP connection.
    Eof,
    /// Nothing arrived in time.
    Timeout,
}

/// A client that speaks raw bytes.
pub struct RawClient {
    pub stream: TcpStream,
    decoder: FrameDecoder,
    pending: Vec<u8>,
    current: Option<Frame>,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> RawClient {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        RawClient {
            stream,
            decoder: FrameDecoder::new(Role::Client, u64::MAX >> 1),
            pending: Vec::new(),
            current: None,
        }
    }

    /// Connects and completes the handshake, asserting a 101.
    pub fn open(addr: SocketAddr) -> RawClient {
        let mut client = RawClient::connect(addr);
        client.send(upgrade_request("/").as_bytes());
        let head = client.read_http_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
        client
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Writes, reporting failure instead of panicking (the server may have
    /// closed the connection already).
    pub fn try_send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)
    }

    pub fn send_frame(&mut self, opcode: Opcode, fin: bool, payload: &[u8]) {
        self.send(&client_frame(opcode, fin, payload));
    }

    /// Reads an HTTP response head (and keeps what follows it).
    pub fn read_http_head(&mut self) -> String {
        loop {
            if let Some(end) = find(&self.pending, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.pending[..end + 4]).into_owned();
                self.pending.drain(..end + 4);
                return head;
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => {
                    return String::from_utf8_lossy(&self.pending).into_owned();
                }
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads a whole HTTP response (head and body) until the server closes.
    pub fn read_http_response(&mut self) -> String {
        let mut all = std::mem::take(&mut self.pending);
        let _ = self.stream.read_to_end(&mut all);
        String::from_utf8_lossy(&all).into_owned()
    }

    /// The next frame, end of stream, or a timeout after `within`.
    pub fn next(&mut self, within: Duration) -> Next {
        let deadline = Instant::now() + within;
        loop {
            if let Some(frame) = self.decode_pending() {
                return Next::Frame(frame);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Next::Timeout;
            }
            self.stream.set_read_timeout(Some(left)).expect("timeout");
            let mut chunk = vec![0u8; 64 << 10];
            match self.stream.read(&mut chunk) {
                Ok(0) => return Next::Eof,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Next::Timeout;
                }
                Err(_) => return Next::Eof,
            }
        }
    }

    /// The next frame; panics on anything else.
    pub fn frame(&mut self) -> Frame {
        match self.next(Duration::from_secs(10)) {
            Next::Frame(frame) => frame,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// Expects a Close with `code` and then the server closing TCP.
    pub fn expect_close(&mut self, code: u16) {
        let frame = self.frame();
        assert_eq!(frame.header.opcode, Opcode::Close, "{frame:?}");
        assert_eq!(
            frame.close_code(),
            Some(code),
            "{:?}",
            String::from_utf8_lossy(&frame.payload)
        );
        assert_eq!(
            self.next(Duration::from_secs(10)),
            Next::Eof,
            "server must close TCP"
        );
    }

    fn decode_pending(&mut self) -> Option<Frame> {
        let mut used_total = 0;
        let mut result = None;
        loop {
            let (used, step) = self
                .decoder
                .decode(&mut self.pending[used_total..])
                .expect("the server sent an invalid frame");
            used_total += used;
            match step {
                Decoded::NeedMore => break,
                Decoded::Header(header) => {
                    self.current = Some(Frame {
                        header,
                        payload: Vec::new(),
                    })
                }
                Decoded::Payload { data, frame_end } => {
                    let frame = self.current.as_mut().expect("payload after header");
                    frame.payload.extend_from_slice(data);
                    if frame_end {
                        result = self.current.take();
                        break;
                    }
                }
            }
        }
        self.pending.drain(..used_total);
        result
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Threads of this process, from `/proc/self/status`.
pub fn thread_count() -> Option<usize> {
    proc_status_field("Threads:")
}

/// Threads of this process that plainws started (they are all named
/// `plainws-...`), from `/proc/self/task/*/comm`. Unlike [`thread_count`],
/// the test harness's own threads do not count.
pub fn plainws_thread_count() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|name| name.starts_with("plainws"))
            .count(),
    )
}

/// Resident memory of this process in KiB.
pub fn rss_kib() -> Option<usize> {
    proc_status_field("VmRSS:")
}

/// Open file descriptors of this process.
pub fn fd_count() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

pub fn proc_status_field(name: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|line| line.starts_with(name))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Waits until `f` returns true or `within` passes; returns the last answer.
pub fn eventually(within: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// Spawns a thread and returns its handle (a shorthand for tests).
pub fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    thread::spawn(f)
}

/// Serializes the tests of one binary that count threads and descriptors.
pub static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A `plainws::Server` running an echo handler, for tests that then check
/// that every thread and descriptor it used is released.
pub struct Fixture {
    pub addr: SocketAddr,
    pub handle: plainws::ServerHandle,
    run: Option<JoinHandle<()>>,
    threads_before: Option<usize>,
    fds_before: Option<usize>,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Fixture {
    pub fn echo(options: plainws::ServerOptions) -> Fixture {
        Fixture::with_handler(options, |incoming| {
            if let Ok(ws) = incoming.accept_with(|_| Ok(Default::default())) {
                echo_loop(ws);
            }
        })
    }

    /// A server running `handler` for each connection. `still_serves`
    /// expects `handler` to upgrade `/` and echo.
    pub fn with_handler<H>(options: plainws::ServerOptions, handler: H) -> Fixture
    where
        H: Fn(plainws::Incoming) + Send + Sync + 'static,
    {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let threads_before = plainws_thread_count();
        let fds_before = fd_count();
        let server = plainws::Server::bind("127.0.0.1:0", options).expect("bind");
        let addr = server.local_addr();
        let handle = server.handle();
        let run = thread::spawn(move || {
            server.run(handler).expect("server runs");
        });
        Fixture {
            addr,
            handle,
            run: Some(run),
            threads_before,
            fds_before,
            _serial: serial,
        }
    }

    /// Asserts that a fresh client is still echoed.
    pub fn still_serves(&self) {
        let mut client = RawClient::open(self.addr);
        client.send_frame(Opcode::Text, true, b"still there?");
        let frame = client.frame();
        assert_eq!(
            frame.payload, b"still there?",
            "the server must still serve"
        );
        client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
        client.expect_close(1000);
    }

    /// Shuts the server down and asserts threads and descriptors are back
    /// where they were before it started.
    pub fn finish(mut self) {
        assert!(self.handle.shutdown(), "shutdown ended every connection");
        if let Some(run) = self.run.take() {
            run.join().expect("server thread");
        }
        if let Some(before) = self.threads_before {
            assert!(
                eventually(Duration::from_secs(5), || plainws_thread_count()
                    <= Some(before)),
                "plainws threads: before {before}, after {:?}",
                plainws_thread_count()
            );
        }
        if let Some(before) = self.fds_before {
            assert!(
                eventually(Duration::from_secs(5), || fd_count() <= Some(before)),
                "file descriptors: before {before}, after {:?}",
                fd_count()
            );
        }
    }
}
