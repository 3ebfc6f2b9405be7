//! A command-line WebSocket client for scripts and for studying the
//! protocol: each line of standard input goes out as a text message; each
//! message that arrives is written to standard output, one per line.
//!
//! ```text
//! $ printf '{"cmd":"a"}\n{"cmd":"b"}\n' | cargo run --example client -- ws://127.0.0.1:1235/echo
//! {"cmd":"Thanks for your message: a"}
//! {"cmd":"Thanks for your message: b"}
//! ```
//!
//! At the end of input it closes with 1000, waits for the server's Close
//! and exits 0; any other ending exits non-zero with the reason on
//! standard error. `--help` lists the options; the README has the details.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use plainws::sansio::frame::Opcode;
use plainws::sansio::trace::{format_frame, format_frame_bytes};
use plainws::{ClientOptions, CloseCode, CloseFrame, Config, Error, Message, Receiver};

// The protocol lab's options (fragments, Ping, Close, raw frames).
#[path = "client/lab.rs"]
mod lab;
// The proxy options.
#[path = "client/proxy.rs"]
mod proxy;

const USAGE: &str = "usage: client [OPTIONS] ws://HOST[:PORT]/PATH

Sends each line of standard input as a text message and writes each message
that arrives to standard output, one per line, as it arrives. At the end of
input it closes with 1000 and waits for the server's Close.

Options:
  --origin URL                send `Origin: URL` (browsers always do; some servers
                              refuse upgrades without it)
  -H, --header 'Name: value'  add a request header (repeatable)
  --protocol NAME             offer a subprotocol (repeatable, most preferred first)
  --connect-timeout SECS      give up on connecting (TCP, the proxy and the
                              WebSocket handshake) after SECS seconds
                              (default 10; 0: no limit but the handshake's)
  --proxy URL                 go through this proxy: http://[USER:PASS@]HOST:PORT
                              (CONNECT), socks5://... (the client resolves the
                              server's name) or socks5h://... (the proxy does);
                              beats the environment; an empty URL: none
  --noproxy                   connect directly, whatever the environment says
  --binary                    each input line is base64, sent as a binary message
  --wait-replies              at the end of input, wait until one message has
                              arrived per line sent before closing (for servers
                              that drop replies still queued when a Close comes)
  --reply-timeout SECS        how long --wait-replies waits (default 10)
  --trace                     print every frame in and out on stderr, one line each
  --trace=bytes               print every frame's bytes on stderr, each field annotated
  --fragments N               send each input line as one message in N frames
                              (RFC 6455 §5.4), not one
  --ping TEXT                 once connected, send a Ping with TEXT as its payload
                              (repeatable; the server's Pong shows with --trace)
  --close CODE[:REASON]       end with this Close code and reason instead of 1000
                              (a reply with the same code counts as success)
  --raw HEX                   once connected, send these bytes as one frame: the
                              frame unmasked (e.g. '81 05 48 65 6c 6c 6f'); the client
                              sets MASK, adds a random key and masks the payload
                              (repeatable, in order with --ping)
  --raw-unmasked HEX          the same, sent exactly as given: no mask (a server
                              must then fail the connection, RFC 6455 §5.1)
  -h, --help                  print this help

Output: a text message is written exactly as received, then a newline (a
message that itself holds newlines spans several lines). A binary message is
written as one line: `binary:` and its base64.

Proxy: without --proxy or --noproxy, the environment names it as for curl:
HTTPS_PROXY for wss://, HTTP_PROXY for ws://, else ALL_PROXY (lower-case forms
first), except for the hosts NO_PROXY lists (names, .domain suffixes, IP
addresses, CIDR ranges, *).

Exit status: 0 when all input was sent and the connection ended after the
client's Close: with the server's Close carrying 1000 (or no code), or with the
server ending TCP without a Close (as Go's x/net/websocket does). 1 when it
ends any other way: handshake refused, the proxy unreachable, refusing or
failing, connection lost or failed before the end of input, a close code other
than 1000, a timeout, replies missing after --wait-replies, input that is not
UTF-8 or not base64, standard output closed.
2 for bad options (a bad proxy URL, in --proxy or the environment, included).";

/// What `--trace` prints.
#[derive(Clone, Copy, PartialEq)]
enum Trace {
    Off,
    Frames,
    Bytes,
}

struct Args {
    url: String,
    options: ClientOptions,
    trace: Trace,
    binary: bool,
    /// `--wait-replies`: how long to wait for them.
    wait_replies: Option<Duration>,
    tricks: lab::Tricks,
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(why) => {
            eprintln!("client: {why}\n(client --help lists the options)");
            return ExitCode::from(2);
        }
    };
    run(args)
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut url = None;
    // The environment's proxy unless --proxy or --noproxy says otherwise.
    let mut options = ClientOptions::default().proxy_from_env();
    let mut trace = Trace::Off;
    let mut binary = false;
    let mut wait_replies = false;
    let mut reply_timeout = Duration::from_secs(10);
    let mut tricks = lab::Tricks::default();
    while let Some(arg) = argv.next() {
        let mut value = |name: &str| argv.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--trace" | "--trace=frames" => trace = Trace::Frames,
            "--trace=bytes" => trace = Trace::Bytes,
            "--binary" => binary = true,
            "--wait-replies" => wait_replies = true,
            "--reply-timeout" => reply_timeout = seconds(&arg, &value(&arg)?)?,
            "--origin" => {
                let origin = value("--origin")?;
                options.headers.push(("Origin".into(), origin));
            }
            "-H" | "--header" => {
                let header = value(&arg)?;
                let Some((name, value)) = header.split_once(':') else {
                    return Err(format!("{arg} {header:?}: expected 'Name: value'"));
                };
                options
                    .headers
                    .push((name.trim().into(), value.trim().into()));
            }
            "--protocol" => options.protocols.push(value("--protocol")?),
            "--connect-timeout" => options.connect_timeout = seconds(&arg, &value(&arg)?)?,
            // The proxy options (client/proxy.rs).
            "--proxy" => proxy::option(&mut options, Some(&value(&arg)?))?,
            "--noproxy" => proxy::option(&mut options, None)?,
            _ if tricks.parse(&arg, &mut value)? => {}
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ if url.is_none() => url = Some(arg),
            _ => return Err(format!("unexpected argument {arg:?}: only one URL")),
        }
    }
    let url = url.ok_or("no URL given: client [OPTIONS] ws://HOST[:PORT]/PATH")?;
    Ok(Some(Args {
        url,
        options,
        trace,
        binary,
        wait_replies: wait_replies.then_some(reply_timeout),
        tricks,
    }))
}

/// A duration option's value: seconds, fractions allowed.
fn seconds(option: &str, value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or(format!("{option} {value:?}: expected a number of seconds"))
}

fn run(args: Args) -> ExitCode {
    let Args {
        url,
        mut options,
        trace,
        binary,
        wait_replies,
        tricks,
    } = args;
    options.config = tracing_config(trace);
    if let Some(via) = proxy::describe(&url, &options.proxy) {
        eprintln!("client: through the proxy {via}");
    }
    let ws = match plainws::connect_with(&url, options) {
        Ok(ws) => ws,
        Err(e @ (Error::InvalidUrl(_) | Error::InvalidProxyUrl(_))) => {
            eprintln!("client: {url}: {e}");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("client: {url}: {e}");
            if let Some(hint) = proxy::hint(&e) {
                eprintln!("client: hint: {hint}");
            }
            if matches!(&e, Error::HandshakeRefused(line) if line.contains(" 403 ")) {
                eprintln!(
                    "client: hint: servers that check Origin refuse upgrades without one: try --origin URL"
                );
            }
            return ExitCode::FAILURE;
        }
    };
    match ws.protocol() {
        Some(protocol) => eprintln!("client: connected to {url} (subprotocol {protocol})"),
        None => eprintln!("client: connected to {url}"),
    }
    let (receiver, sender) = ws.split();
    let ours = tricks.close.0;
    let closing = Arc::new(AtomicBool::new(false));
    let progress = Arc::new(Progress::default());
    let reader = {
        let closing = Arc::clone(&closing);
        let progress = Arc::clone(&progress);
        thread::spawn(move || {
            let ending = print_messages(receiver, &progress);
            progress.end();
            if !closing.load(Ordering::SeqCst) {
                // The server ended the connection while we wait on stdin.
                std::process::exit(report(&ending, false, ours));
            }
            ending
        })
    };

    let traced = match trace {
        Trace::Off => None,
        Trace::Frames => Some(false),
        Trace::Bytes => Some(true),
    };
    let (input_ok, sent) = match tricks.send_before(&sender, traced) {
        Ok(()) => send_lines(&sender, binary, tricks.fragments),
        Err(e) => {
            eprintln!("client: send: {e}");
            (false, 0)
        }
    };
    let mut replies_ok = true;
    if let (true, Some(timeout)) = (input_ok, wait_replies) {
        let received = progress.wait_for(sent, timeout);
        if received < sent {
            eprintln!(
                "client: error: {received} of {sent} replies arrived within {:?} (--reply-timeout)",
                timeout
            );
            replies_ok = false;
        }
    }
    closing.store(true, Ordering::SeqCst);
    match sender.close(ours, &tricks.close.1) {
        Ok(()) | Err(Error::AlreadyClosed | Error::ConnectionClosed) => {}
        Err(e) => eprintln!("client: close: {e}"),
    }
    let status = match reader.join() {
        Ok(ending) => report(&ending, true, ours),
        Err(_) => 1,
    };
    if input_ok && replies_ok && status == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// A config that traces frames on stderr as asked.
fn tracing_config(trace: Trace) -> Config {
    let tracer: Option<plainws::Tracer> = match trace {
        Trace::Off => None,
        Trace::Frames => Some(Arc::new(|direction, header, preview| {
            eprintln!("{}", format_frame(direction, header, preview));
        })),
        Trace::Bytes => Some(Arc::new(|direction, header, preview| {
            eprintln!("{}", format_frame_bytes(direction, header, preview));
        })),
    };
    Config::default().tracer(tracer)
}

/// Messages received so far, and whether the reading thread has ended,
/// for `--wait-replies`.
#[derive(Default)]
struct Progress {
    state: Mutex<(u64, bool)>,
    changed: Condvar,
}

impl Progress {
    fn received(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.0 += 1;
            self.changed.notify_all();
        }
    }

    fn end(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.1 = true;
            self.changed.notify_all();
        }
    }

    /// Waits until `count` messages have arrived, the reader has ended, or
    /// `timeout` has passed; returns how many arrived.
    fn wait_for(&self, count: u64, timeout: Duration) -> u64 {
        let Ok(state) = self.state.lock() else {
            return 0;
        };
        let waited = self
            .changed
            .wait_timeout_while(state, timeout, |(received, ended)| {
                *received < count && !*ended
            });
        waited.map_or(0, |(state, _)| state.0)
    }
}

/// Sends each line of stdin until its end. Returns whether all went well
/// (after saying why not) and how many messages were sent.
/// `--fragments N`: each message in N frames.
fn send_lines(sender: &plainws::Sender, binary: bool, fragments: usize) -> (bool, u64) {
    let mut stdin = io::stdin().lock();
    let mut line = Vec::new();
    let mut sent = 0;
    for number in 1.. {
        line.clear();
        match stdin.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("client: stdin: {e}");
                return (false, sent);
            }
        }
        // The line ending (LF or CRLF) is not part of the message.
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        let result = if binary {
            match BASE64.decode(&line) {
                Ok(data) if fragments > 1 => {
                    lab::send_fragmented(sender, Opcode::Binary, &data, fragments)
                }
                Ok(data) => sender.send_binary(&data),
                Err(e) => {
                    eprintln!("client: stdin line {number} is not base64 (--binary): {e}");
                    return (false, sent);
                }
            }
        } else {
            match std::str::from_utf8(&line) {
                Ok(text) if fragments > 1 => {
                    lab::send_fragmented(sender, Opcode::Text, text.as_bytes(), fragments)
                }
                Ok(text) => sender.send_text(text),
                Err(_) => {
                    eprintln!(
                        "client: stdin line {number} is not UTF-8 (send bytes with --binary and base64)"
                    );
                    return (false, sent);
                }
            }
        };
        if let Err(e) = result {
            // The reader reports how the connection ended.
            if !matches!(e, Error::AlreadyClosed | Error::ConnectionClosed) {
                eprintln!("client: send: {e}");
            }
            return (false, sent);
        }
        sent += 1;
    }
    (true, sent)
}

/// How the connection ended, as the reading thread saw it.
enum Ending {
    /// The close handshake happened; the server's Close frame.
    Closed(Option<CloseFrame>),
    /// The connection failed or ended without a Close.
    Failed(Error),
    /// Standard output could not be written.
    Stdout(io::Error),
}

/// Writes each message to stdout until the connection ends.
fn print_messages(mut receiver: Receiver, progress: &Progress) -> Ending {
    let stdout = io::stdout();
    loop {
        let written = match receiver.recv() {
            Ok(Message::Text(text)) => write_line(&stdout, text.as_bytes()),
            Ok(Message::Binary(data)) => {
                let line = format!("binary:{}", BASE64.encode(data));
                write_line(&stdout, line.as_bytes())
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(frame)) => return Ending::Closed(frame),
            Err(e) => return Ending::Failed(e),
        };
        progress.received();
        if let Err(e) = written {
            // Stop reading: tell the server we are going away.
            let _ = receiver
                .sender()
                .close(CloseCode::GOING_AWAY, "output closed");
            return Ending::Stdout(e);
        }
    }
}

/// One message, a newline, flushed at once so a pipeline sees it.
fn write_line(stdout: &io::Stdout, bytes: &[u8]) -> io::Result<()> {
    let mut out = stdout.lock();
    out.write_all(bytes)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Says on stderr how the connection ended; returns the exit status.
/// A server that answers our Close with its code (`ours`, 1000 unless
/// `--close`) ended normally.
fn report(ending: &Ending, we_closed: bool, ours: CloseCode) -> i32 {
    let who = if we_closed { "closed" } else { "server closed" };
    match ending {
        Ending::Closed(None) => {
            eprintln!("client: {who} (no code)");
            0
        }
        Ending::Closed(Some(frame))
            if frame.code == CloseCode::NORMAL || (we_closed && frame.code == ours) =>
        {
            eprintln!("client: {who} ({})", describe(frame));
            0
        }
        Ending::Closed(Some(frame)) => {
            eprintln!("client: error: server closed with {}", describe(frame));
            1
        }
        Ending::Failed(Error::AbnormalClosure) if we_closed => {
            // Our Close went out after the last input line; nothing more
            // was owed to us. Some servers (Go's x/net/websocket) end TCP
            // instead of answering: RFC 6455 §7.1.5 calls that 1006.
            eprintln!("client: closed (the server ended TCP without answering our Close: 1006)");
            0
        }
        Ending::Failed(Error::Timeout("close handshake")) if we_closed => {
            // The server kept TCP open and never answered: no handshake.
            eprintln!(
                "client: error: the server neither answered our Close nor ended TCP within the close timeout"
            );
            1
        }
        Ending::Failed(e) => {
            eprintln!("client: error: connection ended without a close handshake: {e}");
            1
        }
        Ending::Stdout(e) => {
            eprintln!("client: error: cannot write to stdout: {e}");
            1
        }
    }
}

fn describe(frame: &CloseFrame) -> String {
    if frame.reason.is_empty() {
        format!("{}", frame.code)
    } else {
        format!("{} {}", frame.code, frame.reason)
    }
}
