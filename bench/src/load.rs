//! The load generator: plain blocking `TcpStream`s, a handshake with a fixed
//! key, client frames built and masked once up front, and every byte of every
//! reply checked against what the server must send back.
//!
//! With [`Config::compress`] it offers permessage-deflate (RFC 7692),
//! sends every request compressed with `miniz_oxide` (a dependency of this
//! crate only) and inflates compressed replies before checking them, with
//! plainws's own inflater: `miniz_oxide` rebuilds its decoding tables for
//! every block, which cost the load generator more than the server spent
//! on the whole round trip (the replies' DEFLATE is checked against other
//! implementations by Autobahn and `tests/interop_python.rs`). Each
//! request is compressed once, up front and on its own (a fresh compressor
//! per message, as a client without context takeover does), which any
//! server can inflate whatever was negotiated: its inflater's window only
//! has more history than the message refers to. So the load generator's
//! CPU goes to sending and to inflating replies, not to compressing the
//! same 64 requests again, and the server's share of the machine is what
//! is measured.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use miniz_oxide::deflate::core::CompressorOxide;
use plainws::sansio::deflate::Inflater;

use crate::{miniz, procfs};

/// RFC 6455's example key and its accept value: no SHA-1 needed here.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
const IO_TIMEOUT: Duration = Duration::from_secs(10);
const OP_TEXT: u8 = 0x1;
const OP_BINARY: u8 = 0x2;
const OP_CLOSE: u8 = 0x8;
const OP_PONG: u8 = 0xA;
/// RSV1 in a frame's first byte: "Per-Message Compressed" (RFC 7692 §6).
const RSV1: u8 = 0x40;
/// The extension offer sent with `--compress`: any window for the server,
/// and `client_max_window_bits` (as browsers do) so that a server may ask
/// for a smaller client window, which is then refused (below).
const DEFLATE_OFFER: &str = "permessage-deflate; client_max_window_bits";
/// The most a compressed reply may inflate to.
const REPLY_LIMIT: u64 = 64 << 20;
/// miniz_oxide's compression level for requests: 1, its fastest, to keep
/// the load generator's share of the CPU small.
const DEFLATE_LEVEL: i32 = 1;

/// What to run and against which server.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: String,
    /// Request path; the Go seed only serves `/echo`, the Rust servers any path.
    pub path: String,
    /// Server pid, for CPU time (all workloads) and RSS/threads (`idle`).
    pub pid: Option<u32>,
    pub duration: Duration,
    pub conns: usize,
    pub inflight: usize,
    /// Payload size for `small`, `large` and `latency`.
    pub size: usize,
    /// Connections for `idle`.
    pub idle_conns: usize,
    /// How long the idle workload keeps its connections open after measuring.
    pub hold: Duration,
    /// A text message the server sends first on every connection (the
    /// README's server says "welcome"): awaited and checked after the
    /// handshake, before the workload starts.
    pub greeting: Option<String>,
    /// Offer permessage-deflate (RFC 7692) in the handshake, fail if the
    /// server does not accept it, send requests compressed and inflate
    /// compressed replies (`--compress`; see the module's documentation).
    pub compress: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// Pipelined 32-byte binary echoes: msgs/s.
    Small,
    /// 1 MiB binary echoes, one in flight per connection: MB/s.
    Large,
    /// One connection, one 32-byte message in flight: round-trip percentiles.
    Latency,
    /// Pipelined `{"cmd":"hello N"}` text, checked against the seed's reply.
    Json,
    /// Many handshaken, idle connections: server RSS and threads.
    Idle,
    /// Many active connections (500), one 32-byte message in flight each:
    /// msgs/s and server CPU per message with many sockets ready at once.
    Many,
}

impl Workload {
    pub const ALL: [Workload; 6] = [
        Workload::Small,
        Workload::Json,
        Workload::Large,
        Workload::Latency,
        Workload::Idle,
        Workload::Many,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Small => "small",
            Workload::Large => "large",
            Workload::Latency => "latency",
            Workload::Json => "json",
            Workload::Idle => "idle",
            Workload::Many => "many",
        }
    }

    pub fn parse(s: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == s)
    }

    /// The workload's default configuration (duration 5 s, 2000 idle connections).
    pub fn config(self, addr: &str) -> Config {
        let (conns, inflight, size) = match self {
            Workload::Small | Workload::Json => (4, 16, 32),
            Workload::Large => (2, 1, 1 << 20),
            Workload::Latency | Workload::Idle => (1, 1, 32),
            Workload::Many => (500, 1, 32),
        };
        Config {
            addr: addr.to_string(),
            path: "/echo".to_string(),
            pid: None,
            duration: Duration::from_secs(5),
            conns,
            inflight,
            size,
            idle_conns: 2000,
            hold: Duration::ZERO,
            greeting: None,
            compress: false,
        }
    }
}

/// Results of one workload run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Round trips completed (every reply verified).
    pub msgs: u64,
    /// Payload bytes received back.
    pub bytes: u64,
    pub elapsed: Duration,
    /// Server CPU time (user + system) during the run.
    pub server_cpu: Option<Duration>,
    /// The load generator's own CPU time (this process, every thread)
    /// during the run: with `--compress` its compression and inflation.
    pub client_cpu: Option<Duration>,
    /// Sorted round-trip times (`latency` only).
    pub rtts: Vec<Duration>,
    pub idle: Option<IdleReport>,
}

#[derive(Debug, Clone, Copy)]
pub struct IdleReport {
    pub conns: usize,
    pub before: procfs::Memory,
    pub after: procfs::Memory,
}

impl IdleReport {
    pub fn kib_per_conn(&self) -> f64 {
        (self.after.rss_kib as f64 - self.before.rss_kib as f64) / self.conns as f64
    }
}

impl Report {
    pub fn msgs_per_sec(&self) -> f64 {
        self.msgs as f64 / self.elapsed.as_secs_f64()
    }

    /// Echoed payload, 10^6 bytes per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64() / 1e6
    }

    pub fn cpu_us_per_msg(&self) -> Option<f64> {
        let cpu = self.server_cpu?;
        (self.msgs > 0).then(|| cpu.as_secs_f64() * 1e6 / self.msgs as f64)
    }

    /// The load generator's CPU time per round trip, µs.
    pub fn client_cpu_us_per_msg(&self) -> Option<f64> {
        let cpu = self.client_cpu?;
        (self.msgs > 0).then(|| cpu.as_secs_f64() * 1e6 / self.msgs as f64)
    }

    /// Round-trip percentile in µs (`q` in 0..=1).
    pub fn rtt_us(&self, q: f64) -> Option<f64> {
        let last = self.rtts.len().checked_sub(1)?;
        let i = ((last as f64) * q).round() as usize;
        Some(self.rtts[i].as_secs_f64() * 1e6)
    }

    /// One human-readable line.
    pub fn summary(&self, w: Workload) -> String {
        let mut cpu = match self.cpu_us_per_msg() {
            Some(c) => format!(", server CPU {c:.2} µs/msg"),
            None => String::new(),
        };
        if let Some(c) = self.client_cpu_us_per_msg() {
            cpu.push_str(&format!(" (load generator {c:.2} µs/msg)"));
        }
        match w {
            Workload::Small | Workload::Json | Workload::Many => format!(
                "{}: {} msgs in {:.2} s = {:.0} msgs/s{cpu}",
                w.name(),
                self.msgs,
                self.elapsed.as_secs_f64(),
                self.msgs_per_sec()
            ),
            Workload::Large => format!(
                "large: {} msgs in {:.2} s = {:.1} MB/s{cpu}",
                self.msgs,
                self.elapsed.as_secs_f64(),
                self.mb_per_sec()
            ),
            Workload::Latency => format!(
                "latency: {} round trips, p50 {:.1} µs, p99 {:.1} µs{cpu}",
                self.msgs,
                self.rtt_us(0.5).unwrap_or(f64::NAN),
                self.rtt_us(0.99).unwrap_or(f64::NAN)
            ),
            Workload::Idle => match &self.idle {
                Some(i) => format!(
                    "idle: {} conns, RSS {} -> {} KiB = {:.1} KiB/conn, threads {} -> {}",
                    i.conns,
                    i.before.rss_kib,
                    i.after.rss_kib,
                    i.kib_per_conn(),
                    i.before.threads,
                    i.after.threads
                ),
                None => "idle: no server pid, nothing measured".to_string(),
            },
        }
    }
}

/// Runs one workload against `cfg.addr`.
pub fn run(w: Workload, cfg: &Config) -> io::Result<Report> {
    match w {
        Workload::Small | Workload::Latency | Workload::Many => {
            let msgs = (0..64).map(|i| binary_msg(cfg.size, i)).collect();
            echo(cfg, msgs, w == Workload::Latency)
        }
        Workload::Large => echo(
            cfg,
            (0..2).map(|i| binary_msg(cfg.size, i)).collect(),
            false,
        ),
        Workload::Json => echo(cfg, (0..64).map(json_msg).collect(), false),
        Workload::Idle => idle(cfg),
    }
}

/// One pre-built request and the exact reply expected for it.
struct Msg {
    /// The whole masked frame, sent as is without compression.
    frame: Vec<u8>,
    opcode: u8,
    /// The request's payload, compressed at send time with compression.
    payload: Vec<u8>,
    reply: Vec<u8>,
}

fn binary_msg(size: usize, seed: u64) -> Msg {
    // xorshift64*: cheap, and every message and offset differs.
    let mut x = 0x9e37_79b9_7f4a_7c15 ^ (seed + 1);
    let payload: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect();
    Msg {
        frame: client_frame(OP_BINARY, &payload),
        opcode: OP_BINARY,
        payload: payload.clone(),
        reply: payload,
    }
}

fn json_msg(n: u64) -> Msg {
    let text = format!(r#"{{"cmd":"hello {n}"}}"#);
    Msg {
        frame: client_frame(OP_TEXT, text.as_bytes()),
        opcode: OP_TEXT,
        payload: text.clone().into_bytes(),
        reply: format!(r#"{{"cmd":"Thanks for your message: hello {n}"}}"#).into_bytes(),
    }
}

/// A single final, masked client frame.
fn client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(payload.len() + 14);
    push_frame(0x80 | opcode, payload, &mut f);
    f
}

/// Appends a masked client frame whose first byte is `b0` (FIN, RSV, opcode).
fn push_frame(b0: u8, payload: &[u8], f: &mut Vec<u8>) {
    let len = payload.len();
    f.push(b0);
    if len < 126 {
        f.push(0x80 | len as u8);
    } else if len <= 0xffff {
        f.push(0x80 | 126);
        f.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        f.push(0x80 | 127);
        f.extend_from_slice(&(len as u64).to_be_bytes());
    }
    f.extend_from_slice(&MASK);
    f.extend(payload.iter().zip(MASK.iter().cycle()).map(|(b, m)| b ^ m));
}

/// Opens a connection and completes the opening handshake.
fn connect(cfg: &Config) -> io::Result<Conn> {
    let mut stream = TcpStream::connect(&cfg.addr)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let extensions = if cfg.compress {
        format!("Sec-WebSocket-Extensions: {DEFLATE_OFFER}\r\n")
    } else {
        String::new()
    };
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\
         Origin: http://127.0.0.1\r\n{extensions}\r\n",
        cfg.path, cfg.addr
    );
    stream.write_all(req.as_bytes())?;
    let mut rx = RxBuf::new(64 * 1024);
    let head_len = loop {
        if let Some(i) = rx.data().windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if rx.data().len() > 16 * 1024 {
            return Err(proto("handshake response too long"));
        }
        rx.fill(&mut stream)?;
    };
    let head = String::from_utf8_lossy(&rx.data()[..head_len]).into_owned();
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(proto(&format!("handshake refused: {status:?}")));
    }
    let accept = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-accept")
            .then(|| value.trim())
    });
    if accept != Some(ACCEPT) {
        return Err(proto(&format!("bad Sec-WebSocket-Accept: {accept:?}")));
    }
    let extensions: Vec<&str> = head
        .lines()
        .filter_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim())
        })
        .collect();
    let deflate = match (cfg.compress, extensions.as_slice()) {
        (_, []) if cfg.compress => {
            return Err(proto(&format!(
                "--compress: the server did not accept permessage-deflate \
                 (no Sec-WebSocket-Extensions in its response to \"{DEFLATE_OFFER}\")"
            )));
        }
        // Without --compress nothing was offered: the header is not read.
        (false, _) => None,
        (true, [value]) => Some(
            DeflateParams::from_response(value)
                .map_err(|e| proto(&format!("--compress: response {value:?}: {e}")))?,
        ),
        (true, values) => {
            return Err(proto(&format!(
                "--compress: several Sec-WebSocket-Extensions headers: {values:?}"
            )));
        }
    };
    rx.consume(head_len);
    if let Some(greeting) = &cfg.greeting {
        // Nothing is sent yet, so the first message must be the greeting.
        let f = loop {
            if let Some(f) = parse_frame(rx.data())? {
                break f;
            }
            rx.fill(&mut stream)?;
        };
        if f.rsv1 {
            return Err(proto("the greeting is compressed: not supported"));
        }
        if !f.fin
            || f.opcode != OP_TEXT
            || &rx.data()[f.payload_start..f.end] != greeting.as_bytes()
        {
            return Err(proto(&format!("expected the greeting {greeting:?} first")));
        }
        rx.consume(f.end);
    }
    Ok(Conn {
        stream,
        rx,
        frag: None,
        deflate,
        codec: None,
        compressed: false,
    })
}

/// The permessage-deflate parameters in force, from the server's response
/// (RFC 7692 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DeflateParams {
    /// The server resets its compressor for each message: reset the
    /// inflater after each compressed reply.
    server_no_context_takeover: bool,
    /// This client must reset its compressor for each request.
    client_no_context_takeover: bool,
    /// The server's window (8..=15): the inflater keeps 2^15, which
    /// covers every smaller window.
    server_max_window_bits: u8,
}

impl DeflateParams {
    /// Reads the response's `Sec-WebSocket-Extensions` value: exactly one
    /// `permessage-deflate` element with valid, non-repeated parameters.
    fn from_response(value: &str) -> Result<DeflateParams, String> {
        if value.contains(',') {
            return Err("more than one extension accepted".into());
        }
        let mut parts = value.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        if !name.eq_ignore_ascii_case("permessage-deflate") {
            return Err(format!("not permessage-deflate but {name:?}"));
        }
        let mut p = DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
        };
        let mut seen = Vec::new();
        for param in parts {
            let (key, val) = match param.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"'))),
                None => (param, None),
            };
            let key = key.to_ascii_lowercase();
            if seen.contains(&key) {
                return Err(format!("{key} repeated"));
            }
            let bits = || -> Result<u8, String> {
                val.and_then(|v| v.parse().ok())
                    .filter(|b| (8..=15).contains(b))
                    .ok_or_else(|| format!("{key}: bad value {val:?}"))
            };
            match (key.as_str(), val) {
                ("server_no_context_takeover", None) => p.server_no_context_takeover = true,
                ("client_no_context_takeover", None) => p.client_no_context_takeover = true,
                ("server_max_window_bits", _) => p.server_max_window_bits = bits()?,
                // miniz_oxide always compresses with a 2^15 window.
                ("client_max_window_bits", _) if bits()? < 15 => {
                    return Err(format!(
                        "client_max_window_bits={} asked, but the load generator \
                         (miniz_oxide) only compresses with a 2^15 window",
                        bits()?
                    ));
                }
                ("client_max_window_bits", _) => {}
                _ => return Err(format!("unexpected parameter {param:?}")),
            }
            seen.push(key);
        }
        Ok(p)
    }
}

/// One connection's permessage-deflate state: a raw DEFLATE stream for
/// requests and one for replies. Made when a connection starts sending
/// (the idle workload's connections never make one: only the server's
/// memory is measured).
struct Codec {
    params: DeflateParams,
    compressor: Box<CompressorOxide>,
    /// The replies' decompressor: plainws's own (module docs).
    inflater: Inflater,
    /// Scratch output buffer of both directions.
    buf: Vec<u8>,
    /// A request's compressed payload.
    compressed: Vec<u8>,
    /// The reply being inflated.
    plain: Vec<u8>,
}

impl Codec {
    fn new(params: DeflateParams) -> Codec {
        Codec {
            params,
            compressor: miniz::compressor(DEFLATE_LEVEL),
            inflater: Inflater::new(
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
            buf: vec![0; 64 << 10],
            compressed: Vec::new(),
            plain: Vec::new(),
        }
    }

    /// Appends `m` to `out` as one compressed, masked frame with RSV1
    /// (RFC 7692 §7.2.1: compress, sync flush, the `00 00 ff ff` removed).
    fn push_compressed(&mut self, m: &Msg, out: &mut Vec<u8>) -> io::Result<()> {
        if self.params.client_no_context_takeover {
            self.compressor.reset();
        }
        self.compressed.clear();
        miniz::compress_message(
            &mut self.compressor,
            &mut self.buf,
            &m.payload,
            &mut self.compressed,
        )
        .map_err(|e| proto(&e))?;
        push_frame(0x80 | RSV1 | m.opcode, &self.compressed, out);
        Ok(())
    }

    /// `m` as one compressed, masked frame made with a fresh compressor:
    /// valid under any negotiated parameters, so it can be sent again and
    /// again (see the module's documentation).
    fn standalone_frame(&mut self, m: &Msg) -> io::Result<Vec<u8>> {
        self.compressor.reset();
        let mut frame = Vec::new();
        let made = self.push_compressed(m, &mut frame);
        self.compressor.reset();
        made.map(|()| frame)
    }

    /// Inflates one frame's payload of a compressed reply onto `plain`.
    fn inflate(&mut self, input: &[u8]) -> io::Result<()> {
        self.inflater
            .inflate(input, &mut self.plain, REPLY_LIMIT)
            .map_err(|e| proto(&format!("inflating a reply: {e}")))
    }

    /// The reply's last frame is in: puts the tail back (and resets the
    /// window if the server does not keep its context).
    fn finish(&mut self) -> io::Result<()> {
        self.inflater
            .finish_message(&mut self.plain, REPLY_LIMIT)
            .map_err(|e| proto(&format!("ending a compressed reply: {e}")))
    }
}

/// Pipelined request/reply over `cfg.conns` connections, one thread each.
fn echo(cfg: &Config, msgs: Vec<Msg>, record_rtt: bool) -> io::Result<Report> {
    let msgs = Arc::new(msgs);
    let conns = (0..cfg.conns)
        .map(|_| connect(cfg))
        .collect::<io::Result<Vec<_>>>()?;
    let cpu_before = cfg.pid.map(procfs::cpu_time).transpose()?;
    let own_before = procfs::cpu_time(std::process::id())?;
    let start = Instant::now();
    let deadline = start + cfg.duration;
    let threads: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, conn)| {
            let msgs = Arc::clone(&msgs);
            let first = i * cfg.inflight;
            let inflight = cfg.inflight.max(1);
            thread::spawn(move || conn.drive(&msgs, first, inflight, deadline, record_rtt))
        })
        .collect();
    let mut report = Report::default();
    let mut first_err = None;
    for t in threads {
        match t.join().expect("load thread panicked") {
            Ok(s) => {
                report.msgs += s.msgs;
                report.bytes += s.bytes;
                report.rtts.extend(s.rtts);
            }
            Err(e) => first_err = first_err.or(Some(e)),
        }
    }
    report.elapsed = start.elapsed();
    if let Some(e) = first_err {
        return Err(e);
    }
    if let (Some(pid), Some(before)) = (cfg.pid, cpu_before) {
        report.server_cpu = Some(procfs::cpu_time(pid)?.saturating_sub(before));
    }
    report.client_cpu = Some(procfs::cpu_time(std::process::id())?.saturating_sub(own_before));
    report.rtts.sort_unstable();
    Ok(report)
}

fn idle(cfg: &Config) -> io::Result<Report> {
    let limit = procfs::raise_nofile_limit();
    if limit < (cfg.idle_conns + 64) as libc::rlim_t {
        return Err(io::Error::other(format!(
            "open-files limit {limit} too low for {} connections",
            cfg.idle_conns
        )));
    }
    let pid = cfg.pid;
    let before = pid.map(procfs::memory).transpose()?;
    let start = Instant::now();
    let mut conns = Vec::with_capacity(cfg.idle_conns);
    for _ in 0..cfg.idle_conns {
        conns.push(connect(cfg)?);
    }
    // Let the server finish whatever it does after sending the 101.
    thread::sleep(Duration::from_millis(500));
    let after = pid.map(procfs::memory).transpose()?;
    let report = Report {
        elapsed: start.elapsed(),
        idle: before.zip(after).map(|(before, after)| IdleReport {
            conns: conns.len(),
            before,
            after,
        }),
        ..Report::default()
    };
    if !cfg.hold.is_zero() {
        eprintln!("holding {} connections for {:?}", conns.len(), cfg.hold);
        thread::sleep(cfg.hold);
    }
    drop(conns);
    Ok(report)
}

struct ConnStats {
    msgs: u64,
    bytes: u64,
    rtts: Vec<Duration>,
}

struct Conn {
    stream: TcpStream,
    rx: RxBuf,
    /// Bytes of the current reply already matched, while it arrives fragmented.
    frag: Option<usize>,
    /// permessage-deflate's parameters, when the handshake negotiated it.
    deflate: Option<DeflateParams>,
    /// Made from `deflate` when the connection starts sending.
    codec: Option<Codec>,
    /// The reply in progress is compressed (its first frame had RSV1).
    compressed: bool,
}

impl Conn {
    /// Keeps `inflight` requests outstanding until `deadline`, then drains
    /// the outstanding replies and closes the connection.
    fn drive(
        mut self,
        msgs: &[Msg],
        mut next: usize,
        inflight: usize,
        deadline: Instant,
        record_rtt: bool,
    ) -> io::Result<ConnStats> {
        let mut stats = ConnStats {
            msgs: 0,
            bytes: 0,
            rtts: Vec::new(),
        };
        let mut pending: VecDeque<(usize, Instant)> = VecDeque::with_capacity(inflight);
        let mut out = Vec::new();
        let mut stopping = false;
        self.codec = self.deflate.map(Codec::new);
        // With compression, each request compressed once (module docs).
        let compressed = match &mut self.codec {
            Some(codec) => msgs
                .iter()
                .map(|m| codec.standalone_frame(m))
                .collect::<io::Result<Vec<_>>>()?,
            None => Vec::new(),
        };
        loop {
            while !stopping && pending.len() < inflight {
                let i = next % msgs.len();
                next += 1;
                out.extend_from_slice(compressed.get(i).unwrap_or(&msgs[i].frame));
                pending.push_back((i, Instant::now()));
            }
            if !out.is_empty() {
                self.stream.write_all(&out)?;
                out.clear();
            }
            if pending.is_empty() {
                break;
            }
            // Take every reply already buffered, then refill the pipeline in one write.
            let mut progressed = false;
            while let Some(&(i, sent)) = pending.front() {
                if !self.reply_complete(&msgs[i])? {
                    break;
                }
                pending.pop_front();
                progressed = true;
                stats.msgs += 1;
                stats.bytes += msgs[i].reply.len() as u64;
                if record_rtt {
                    stats.rtts.push(sent.elapsed());
                }
            }
            if !progressed {
                self.rx.fill(&mut self.stream)?;
                stopping = stopping || Instant::now() >= deadline;
            }
        }
        self.close();
        Ok(stats)
    }

    /// Consumes buffered frames of the reply to `m`; true once it is complete
    /// and matched byte for byte, false if more input is needed.
    fn reply_complete(&mut self, m: &Msg) -> io::Result<bool> {
        while let Some(f) = parse_frame(self.rx.data())? {
            let payload = &self.rx.data()[f.payload_start..f.end];
            // RFC 7692 §6: RSV1 only on the first frame of a data message,
            // and only when the extension is in use.
            if f.rsv1 && (self.codec.is_none() || !matches!(f.opcode, OP_TEXT | OP_BINARY)) {
                return Err(proto(&format!("RSV1 set (opcode {})", f.opcode)));
            }
            match f.opcode {
                OP_PONG => {}
                op if op == m.opcode || (op == 0 && self.frag.is_some()) => {
                    let off = if op == 0 { self.frag.unwrap_or(0) } else { 0 };
                    if op != 0 && self.frag.is_some() {
                        return Err(proto("new message inside a fragmented one"));
                    }
                    if op != 0 {
                        self.compressed = f.rsv1;
                    }
                    let done = match (&mut self.codec, self.compressed) {
                        (Some(codec), true) => {
                            // Inflated as it arrives, checked as it grows.
                            if op != 0 {
                                codec.plain.clear();
                            }
                            codec.inflate(payload)?;
                            if f.fin {
                                codec.finish()?;
                            }
                            if !m.reply.starts_with(&codec.plain) {
                                return Err(proto(&format!(
                                    "inflated reply mismatch (opcode {op}, {} bytes so far)",
                                    codec.plain.len()
                                )));
                            }
                            codec.plain.len()
                        }
                        _ => {
                            let expected = m.reply.get(off..off + payload.len());
                            if expected != Some(payload) {
                                return Err(proto(&format!(
                                    "reply mismatch at byte {off} (opcode {op}, {} bytes)",
                                    payload.len()
                                )));
                            }
                            off + payload.len()
                        }
                    };
                    self.frag = (!f.fin).then_some(done);
                    self.rx.consume(f.end);
                    if f.fin {
                        if done != m.reply.len() {
                            return Err(proto("reply too short"));
                        }
                        return Ok(true);
                    }
                    continue;
                }
                op => return Err(proto(&format!("unexpected frame, opcode {op}"))),
            }
            self.rx.consume(f.end);
        }
        Ok(false)
    }

    /// Best-effort closing handshake, bounded in time.
    fn close(mut self) {
        let frame = client_frame(OP_CLOSE, &1000u16.to_be_bytes());
        if self.stream.write_all(&frame).is_err() {
            return;
        }
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(500)));
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until {
            while let Ok(Some(f)) = parse_frame(self.rx.data()) {
                if f.opcode == OP_CLOSE {
                    return;
                }
                self.rx.consume(f.end);
            }
            if !matches!(self.rx.fill(&mut self.stream), Ok(n) if n > 0) {
                return;
            }
        }
    }
}

struct Frame {
    fin: bool,
    /// RSV1: a compressed message's first frame (checked by the caller).
    rsv1: bool,
    opcode: u8,
    payload_start: usize,
    end: usize,
}

/// Parses one server frame (unmasked) at the start of `b`; `None` if incomplete.
fn parse_frame(b: &[u8]) -> io::Result<Option<Frame>> {
    if b.len() < 2 {
        return Ok(None);
    }
    if b[1] & 0x80 != 0 {
        return Err(proto("server frame is masked"));
    }
    if b[0] & 0x30 != 0 {
        return Err(proto("RSV2 or RSV3 set"));
    }
    let (len, hdr) = match b[1] & 0x7f {
        126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as u64, 4),
        127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap()), 10),
        126 | 127 => return Ok(None),
        n => (n as u64, 2),
    };
    let end = hdr as u64 + len;
    if (b.len() as u64) < end {
        return Ok(None);
    }
    Ok(Some(Frame {
        fin: b[0] & 0x80 != 0,
        rsv1: b[0] & RSV1 != 0,
        opcode: b[0] & 0x0f,
        payload_start: hdr,
        end: end as usize,
    }))
}

/// Receive buffer: bytes `start..end` of `buf` are unparsed input.
struct RxBuf {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl RxBuf {
    fn new(cap: usize) -> RxBuf {
        RxBuf {
            buf: vec![0; cap],
            start: 0,
            end: 0,
        }
    }

    fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// One `read` into the free space (compacting or growing first if full).
    fn fill(&mut self, stream: &mut TcpStream) -> io::Result<usize> {
        if self.end == self.buf.len() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = stream.read(&mut self.buf[self.end..])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        self.end += n;
        Ok(n)
    }
}

fn proto(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plainws::sansio::deflate::TAIL;

    #[test]
    fn client_frame_is_masked() {
        let f = client_frame(OP_BINARY, b"Hello");
        assert_eq!(&f[..6], &[0x82, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        // RFC 6455 section 5.7's masked "Hello".
        assert_eq!(&f[6..], &[0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        assert_eq!(client_frame(OP_BINARY, &[0; 300])[1], 0x80 | 126);
        assert_eq!(client_frame(OP_BINARY, &[0; 70_000])[1], 0x80 | 127);
    }

    #[test]
    fn checks_fragmented_replies() {
        let mut conn = loopback_conn(None);
        let m = json_msg(3);
        let (a, b) = m.reply.split_at(10);
        let mut wire = vec![0x01, a.len() as u8];
        wire.extend_from_slice(a);
        wire.extend_from_slice(&[0x8a, 0]); // a pong in between is ignored
        wire.extend_from_slice(&[0x80, b.len() as u8]);
        wire.extend_from_slice(b);
        conn.rx.buf = wire.clone();
        conn.rx.end = wire.len();
        assert!(conn.reply_complete(&m).unwrap());
        assert!(conn.rx.data().is_empty());

        wire[3] ^= 1; // corrupt one byte
        conn.rx.buf = wire.clone();
        conn.rx.end = wire.len();
        conn.frag = None;
        assert!(conn.reply_complete(&m).is_err());
    }

    #[test]
    fn reads_deflate_responses() {
        let p = DeflateParams::from_response("permessage-deflate").unwrap();
        assert_eq!(
            p,
            DeflateParams {
                server_no_context_takeover: false,
                client_no_context_takeover: false,
                server_max_window_bits: 15,
            }
        );
        let p = DeflateParams::from_response(
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=15",
        )
        .unwrap();
        assert!(p.server_no_context_takeover && p.client_no_context_takeover);
        assert_eq!(p.server_max_window_bits, 10);
        for bad in [
            "x-webkit-deflate-frame",
            "permessage-deflate; client_max_window_bits=9",
            "permessage-deflate; server_max_window_bits=16",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; foo",
            "permessage-deflate, permessage-deflate",
        ] {
            assert!(DeflateParams::from_response(bad).is_err(), "{bad}");
        }
    }

    /// A server frame: unmasked, `b0` as given.
    fn server_frame(b0: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = client_frame(b0 & 0x0f, payload);
        f[0] = b0;
        f[1] &= 0x7f;
        let hdr = f.len() - payload.len() - 4;
        f.drain(hdr..hdr + 4);
        f[hdr..].copy_from_slice(payload);
        f
    }

    /// The payload of a masked client frame shorter than 126 bytes.
    /// The payload of one whole masked client frame, unmasked.
    fn unmask(frame: &[u8]) -> Vec<u8> {
        let (header, len) = match frame[1] & 0x7f {
            126 => (8, usize::from(u16::from_be_bytes([frame[2], frame[3]]))),
            127 => (
                14,
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
            ),
            n => (6, usize::from(n)),
        };
        assert_eq!(len, frame.len() - header, "one whole frame");
        frame[header..]
            .iter()
            .zip(MASK.iter().cycle())
            .map(|(b, k)| b ^ k)
            .collect()
    }

    /// A connection over loopback (nothing listens behind it: tests put
    /// bytes in its receive buffer), with permessage-deflate's `deflate`
    /// parameters and a codec for them.
    fn loopback_conn(deflate: Option<DeflateParams>) -> Conn {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        Conn {
            stream,
            rx: RxBuf::new(16),
            frag: None,
            deflate,
            codec: deflate.map(Codec::new),
            compressed: false,
        }
    }

    #[test]
    fn compresses_requests_and_inflates_replies() {
        for takeover in [true, false] {
            let params = DeflateParams {
                server_no_context_takeover: !takeover,
                client_no_context_takeover: !takeover,
                server_max_window_bits: 15,
            };
            // The "server": a codec whose compressor makes the replies.
            let mut server = Codec::new(params);
            let mut conn = loopback_conn(Some(params));
            let mut sizes = Vec::new();
            for n in 0..3 {
                let m = json_msg(n);
                // Requests: RSV1 text frames that inflate to the JSON.
                let mut out = Vec::new();
                conn.codec
                    .as_mut()
                    .unwrap()
                    .push_compressed(&m, &mut out)
                    .unwrap();
                assert_eq!(out[0], 0x80 | RSV1 | OP_TEXT);
                let body = unmask(&out);
                assert!(!body.ends_with(&TAIL));
                server.plain.clear();
                server.inflate(&body).unwrap();
                server.finish().unwrap();
                assert_eq!(server.plain, m.payload);
                sizes.push(body.len());

                // A compressed reply in two fragments, a pong between them.
                let mut reply = Vec::new();
                server
                    .push_compressed(
                        &Msg {
                            frame: Vec::new(),
                            opcode: OP_TEXT,
                            payload: m.reply.clone(),
                            reply: Vec::new(),
                        },
                        &mut reply,
                    )
                    .unwrap();
                let body = unmask(&reply);
                let (a, b) = body.split_at(body.len() / 2);
                let mut wire = server_frame(RSV1 | OP_TEXT, a);
                wire.extend_from_slice(&server_frame(0x80 | OP_PONG, b""));
                wire.extend_from_slice(&server_frame(0x80, b));
                conn.rx.buf = wire.clone();
                conn.rx.start = 0;
                conn.rx.end = wire.len();
                assert!(conn.reply_complete(&m).unwrap());
                assert!(conn.rx.data().is_empty());
            }
            // With context kept, a request like the last compresses smaller.
            assert_eq!(takeover, sizes[2] < sizes[0], "{sizes:?}");
        }
    }

    #[test]
    fn standalone_requests_inflate_on_a_server_that_keeps_its_context() {
        // Context takeover negotiated both ways: the server's inflater
        // keeps its window, yet frames made once on their own inflate
        // again and again, in any order, and the client's own stream is
        // untouched by making them.
        let params = DeflateParams::from_response("permessage-deflate").unwrap();
        let mut client = Codec::new(params);
        let mut server = Codec::new(params);
        let msgs: Vec<Msg> = (0..4).map(json_msg).collect();
        let frames: Vec<Vec<u8>> = msgs
            .iter()
            .map(|m| client.standalone_frame(m).unwrap())
            .collect();
        for i in [0, 1, 2, 3, 3, 0, 2, 1, 0] {
            server.plain.clear();
            server.inflate(&unmask(&frames[i])).unwrap();
            server.finish().unwrap();
            assert_eq!(server.plain, msgs[i].payload);
        }
        assert_eq!(client.standalone_frame(&msgs[2]).unwrap(), frames[2]);
    }

    #[test]
    fn compresses_large_messages() {
        let params = DeflateParams::from_response("permessage-deflate").unwrap();
        let mut client = Codec::new(params);
        let mut server = Codec::new(params);
        for m in [binary_msg(1 << 20, 0), binary_msg(1 << 20, 1), json_msg(1)] {
            let mut out = Vec::new();
            client.push_compressed(&m, &mut out).unwrap();
            let body = unmask(&out);
            server.plain.clear();
            server.inflate(&body).unwrap();
            server.finish().unwrap();
            assert!(server.plain == m.payload);
        }
    }

    #[test]
    fn rsv1_needs_the_extension() {
        let mut conn = loopback_conn(None);
        let wire = server_frame(0x80 | RSV1 | OP_TEXT, b"x");
        conn.rx.buf = wire.clone();
        conn.rx.end = wire.len();
        assert!(conn.reply_complete(&json_msg(0)).is_err());
    }

    #[test]
    fn parses_server_frames() {
        let f = parse_frame(&[0x81, 0x05, b'H', b'e', b'l', b'l', b'o'])
            .unwrap()
            .unwrap();
        assert!(f.fin);
        assert_eq!((f.opcode, f.payload_start, f.end), (1, 2, 7));
        assert!(parse_frame(&[0x81, 0x05, b'H']).unwrap().is_none());
        assert!(parse_frame(&[0x82, 0x7e, 0x01]).unwrap().is_none());
        assert!(parse_frame(&[0x82, 0x85, 0, 0, 0, 0]).is_err());
    }
}
