//! The JSON echo server that plainws grew from: the seed's Go program in Rust.
//!
//! `ws://127.0.0.1:1235/echo` reads `{"cmd": "..."}` and answers
//! `{"cmd":"Thanks for your message: ..."}`. Each connection has a reader
//! thread and a writer thread joined by a bounded channel of 20, as in the
//! seed; every error, close and release is handled. `GET /` serves a page
//! that talks to `/echo` from a browser (`/?auto=hello` sends `hello` as
//! soon as the connection opens); `HEAD /` its head alone. The page is the
//! protocol lab ([`lab`]): it shows its own connection frame by frame,
//! with reports on a second WebSocket, `/lab`; `--no-lab` turns that off.
//!
//! Every line it logs goes to standard error through [`log`]: a bounded
//! queue and one logging thread, so a slow, unread or closed standard
//! error never stops or crashes a connection. Standard output is unused
//! but for `--help`.
//!
//! ```text
//! cargo run --release -- [--addr 127.0.0.1:1235] [--trace] [--allow-origin URL]...
//!                        [--max-connections N] [--trust-proxy IP]... [--keepalive SECS]
//!                        [--quiet] [--no-lab]
//! ```
//!
//! Behind a reverse proxy (`deploy/nginx.conf`), `--trust-proxy IP` makes
//! the log and `--trace` show the client's address from `X-Forwarded-For`
//! when the connection comes from that proxy (see [`client_address`]).

mod lab;
mod log;

use std::cell::RefCell;
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use plainws::sansio::frame::FrameHeader;
use plainws::sansio::trace::format_frame;
use plainws::{
    Accept, CloseCode, Config, DeflateConfig, Direction, Error, Incoming, Keepalive, Message,
    Request, Response, Server, ServerOptions,
};
use serde::{Deserialize, Serialize};

use crate::lab::{Lab, Route, Watch, query_token};
use crate::log::{Log, log};

/// The seed's queue between the reader and the writer.
const QUEUE_SIZE: usize = 20;

const USAGE: &str = "usage: plainws [--addr HOST:PORT] [--trace] [--allow-origin ORIGIN]...
               [--max-connections N] [--trust-proxy IP]... [--keepalive SECS] [--quiet]
               [--no-lab]

A JSON echo server: ws://HOST:PORT/echo answers {\"cmd\": \"x\"} with
{\"cmd\": \"Thanks for your message: x\"}; http://HOST:PORT/ is a page to try it:
the protocol lab, which shows the page's own connection frame by frame.

  --addr HOST:PORT       where to listen (default 127.0.0.1:1235)
  --trace                log every frame in and out
  --allow-origin ORIGIN  accept browser connections only from ORIGIN (repeatable)
  --max-connections N    connections served at once (default 10000)
  --trust-proxy IP       a reverse proxy at IP: log the client address it puts in
                         X-Forwarded-For (repeatable; without it the header is ignored)
  --keepalive SECS       ping a connection quiet for SECS seconds; close it (1011)
                         if nothing comes back within SECS more (default: off)
  --quiet                log nothing (by default a line per connection goes to
                         standard error; lines it cannot keep up with are dropped
                         and counted, never waited for)
  --no-lab               turn the protocol lab off: the page still echoes, but /lab
                         is a 404 and no connection is ever traced for it
  -h, --help             print this help and exit";

#[derive(Deserialize)]
struct Input {
    cmd: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Reply {
    Cmd { cmd: String },
    Error { error: String },
}

struct Args {
    addr: String,
    trace: bool,
    origins: Vec<String>,
    max_connections: usize,
    trusted_proxies: Vec<IpAddr>,
    keepalive: Option<Duration>,
    quiet: bool,
    lab: bool,
}

/// Why the arguments do not start a server.
enum Usage {
    /// `--help`: the usage on standard output, exit 0.
    Help,
    /// A mistake: said on standard error with the usage, exit 2.
    Wrong(String),
}

impl From<&str> for Usage {
    fn from(why: &str) -> Usage {
        Usage::Wrong(why.into())
    }
}

fn parse_args() -> Result<Args, Usage> {
    let mut args = Args {
        addr: "127.0.0.1:1235".into(),
        trace: false,
        origins: Vec::new(),
        max_connections: ServerOptions::default().max_connections,
        trusted_proxies: Vec::new(),
        keepalive: None,
        quiet: false,
        lab: true,
    };
    let mut argv = std::env::args().skip(1);
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--addr" => args.addr = argv.next().ok_or("--addr needs HOST:PORT")?,
            "--trace" => args.trace = true,
            "--quiet" => args.quiet = true,
            "--no-lab" => args.lab = false,
            "--allow-origin" => args
                .origins
                .push(argv.next().ok_or("--allow-origin needs an origin")?),
            "--max-connections" => {
                args.max_connections = argv
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--max-connections needs a number")?;
            }
            "--trust-proxy" => args.trusted_proxies.push(
                argv.next()
                    .and_then(|ip| ip.parse().ok())
                    .ok_or("--trust-proxy needs an IP address")?,
            ),
            "--keepalive" => {
                let secs: u64 = argv
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or("--keepalive needs a number of seconds")?;
                args.keepalive = Some(Duration::from_secs(secs));
            }
            "-h" | "--help" => return Err(Usage::Help),
            other => return Err(Usage::Wrong(format!("unknown argument {other}"))),
        }
    }
    Ok(args)
}

fn main() {
    // Before the log exists, and after it cannot help: written directly,
    // errors ignored (a closed stdout or stderr must not panic even here).
    let args = match parse_args() {
        Ok(args) => args,
        Err(Usage::Help) => {
            let _ = writeln!(std::io::stdout(), "{USAGE}");
            return;
        }
        Err(Usage::Wrong(why)) => {
            let _ = writeln!(std::io::stderr(), "plainws: {why}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    log::init(if args.quiet {
        Log::off()
    } else {
        Log::to_stderr()
    });
    let mut options = ServerOptions::default()
        // JSON compresses several times over; browsers offer it.
        .config(Config::default().compression(DeflateConfig::default()))
        .max_connections(args.max_connections)
        .allowed_origins((!args.origins.is_empty()).then_some(args.origins));
    if args.trace && log::global().is_on() {
        options.config.tracer = Some(std::sync::Arc::new(trace_frame));
    }
    options.config.keepalive = args.keepalive.map(|interval| Keepalive {
        interval,
        timeout: interval,
    });
    let options_config = options.config.clone();
    let server = match Server::bind(&args.addr, options) {
        Ok(server) => server,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "plainws: cannot listen on {}: {e}",
                args.addr
            );
            std::process::exit(1);
        }
    };
    log!(
        "plainws JSON echo server on ws://{}/echo (page: http://{}/)",
        server.local_addr(),
        server.local_addr()
    );
    let trusted = args.trusted_proxies;
    let site = Site {
        lab: args.lab.then(Lab::default),
        config: options_config,
    };
    if let Err(e) = server.run(move |incoming| serve(incoming, &trusted, &site)) {
        let _ = writeln!(std::io::stderr(), "plainws: {e}");
        std::process::exit(1);
    }
}

/// What every connection shares: the lab (unless `--no-lab`) and the
/// connections' configuration (for the lab's handshake report).
struct Site {
    lab: Option<Lab>,
    config: Config,
}

/// Routes a request: `/echo` upgrades, `/` is the page, `/lab` is the
/// lab's report channel, the rest is 404.
///
/// `/echo?deflate=off` declines permessage-deflate (the lab shows exact
/// frame lengths that way); `/echo?lab=TOKEN` is watched by the lab
/// channel `/lab?conn=TOKEN` when that one is open.
///
/// Paths are compared after percent-decoding ([`Request::path`]), so
/// `/ech%6F` is `/echo`. The page answers GET, and HEAD with the same
/// head and no body (RFC 9110 §9.3.2; `Server` leaves the body out of
/// every answer to HEAD); other methods get 405 with the methods allowed
/// (§15.5.6: "The origin server MUST generate an Allow header field").
fn route(request: &Request, lab: Option<&Lab>) -> Result<(Accept, Route), Response> {
    match request.path() {
        // Anything but GET is refused by the upgrade check (405, `Allow:
        // GET`); HEAD here, so that its answer goes out without a body.
        "/echo" | "/lab" if request.method() == "HEAD" => {
            Err(Response::for_error(&Error::MethodNotAllowed))
        }
        "/echo" => {
            let query = request.query();
            let plain = query.is_some_and(|q| q.split('&').any(|pair| pair == "deflate=off"));
            // Only an upgrade may claim a lab channel's watch.
            let watch = lab
                .zip(query_token(query, "lab"))
                .filter(|_| request.is_upgrade() && request.check_upgrade().is_ok())
                .and_then(|(lab, token)| lab.watch_for(token));
            Ok((
                Accept::default().decline_compression(plain),
                Route::Echo(watch),
            ))
        }
        "/lab" => {
            let Some(lab) = lab else {
                return Err(Response::new(404, "not found: the lab is off (--no-lab)\n"));
            };
            let Some(token) = query_token(request.query(), "conn") else {
                return Err(Response::new(
                    400,
                    "the lab channel is /lab?conn=TOKEN (8-64 letters or digits)\n",
                ));
            };
            if request.check_upgrade().is_err() {
                return Err(Response::new(400, "the lab channel is a WebSocket\n"));
            }
            match lab.open(token) {
                Some(watch) => Ok((Accept::default(), Route::Channel(token.to_owned(), watch))),
                None => Err(Response::new(
                    409,
                    "that lab channel is taken, or too many are open\n",
                )),
            }
        }
        "/" if !request.is_upgrade() => match request.method() {
            "GET" | "HEAD" => Err(Response::html(200, lab::PAGE)),
            _ => Err(
                Response::new(405, "method not allowed: / answers GET and HEAD\n")
                    .with_header("Allow", "GET, HEAD"),
            ),
        },
        _ => Err(Response::new(
            404,
            "not found: the WebSocket endpoint is /echo\n",
        )),
    }
}

/// Who a connection is from, for the log: the TCP peer, or, when the
/// peer is a trusted proxy, the client it names in `X-Forwarded-For`
/// followed by `via` and the proxy.
///
/// The trust rule: `X-Forwarded-For` is read only when the TCP peer's IP
/// is one of `trusted` (`--trust-proxy`); from anyone else the header is
/// ignored, since a client can send any value. Each proxy appends the
/// address it received the connection from, so the list is read from the
/// right, skipping trusted proxies: the first other address is the client
/// as the nearest untrusted hop saw it. Entries to its left were written
/// by the client or by proxies we do not know, and are not believed.
fn client_address(peer: SocketAddr, request: &Request, trusted: &[IpAddr]) -> String {
    if !trusted.contains(&peer.ip()) {
        return peer.to_string();
    }
    // A value that is not UTF-8 reads as an entry that is not an address.
    let forwarded: Vec<&str> = request
        .headers()
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("X-Forwarded-For"))
        .flat_map(|(_, value)| std::str::from_utf8(value).unwrap_or("?").split(','))
        .map(str::trim)
        .collect();
    let client = forwarded
        .iter()
        .rev()
        .find_map(|entry| match entry.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => None,
            Ok(ip) => Some(Ok(ip)),
            // Not an address (`unknown`, a name, garbage): stop believing the list.
            Err(_) => Some(Err(())),
        });
    match client {
        Some(Ok(ip)) => format!("{ip} via {peer}"),
        _ => peer.to_string(),
    }
}

thread_local! {
    /// The connection this thread serves, as `--trace` shows it.
    static CONNECTION: RefCell<String> = const { RefCell::new(String::new()) };
}

/// One connection, on its own thread.
fn serve(incoming: Incoming, trusted: &[IpAddr], site: &Site) {
    let peer = incoming.peer_addr();
    let mut client = peer.to_string();
    let mut routed = None;
    let mut handshake = None;
    let ws = match incoming.accept_with(|request| {
        client = client_address(peer, request, trusted);
        let (accept, route) = route(request, site.lab.as_ref())?;
        if let Route::Echo(Some(_)) = route {
            handshake = Some(lab::handshake_report(request, &site.config, &accept));
        }
        routed = Some(route);
        Ok(accept)
    }) {
        Ok(ws) => ws,
        Err(Error::Rejected(status)) => {
            log!("{client} http {status}");
            return;
        }
        Err(e) => {
            log!("{client} handshake failed: {e}");
            return;
        }
    };
    let watch = match routed {
        Some(Route::Channel(token, watch)) => {
            log!("{client} lab channel open");
            if let Some(lab) = &site.lab {
                lab::serve_channel(ws, lab, &token, watch);
            }
            log!("{client} lab channel closed");
            return;
        }
        Some(Route::Echo(watch)) => watch,
        None => None,
    };
    if let (Some(watch), Some(handshake)) = (&watch, handshake) {
        watch.handshake(handshake);
        let also = site.config.tracer.clone();
        if ws.set_tracer(Some(watch.tracer(also))).is_ok() {
            watch.attach(ws.sender());
        }
    }
    let label = format!("{} {client}", thread::current().name().unwrap_or("conn"));
    CONNECTION.with(|c| c.replace(label));
    let opened = Instant::now();
    log!("{client} open");
    let (mut receiver, sender) = ws.split();
    let (queue, replies) = sync_channel::<Reply>(QUEUE_SIZE);
    let watch_of_writer = watch.clone();

    // The writer: sends replies in order; ends on a send error or when the
    // reader drops the queue. Replies already queued go out in one write.
    let writer_name = format!("{}-writer", thread::current().name().unwrap_or("conn"));
    let client_of_writer = client.clone();
    let writer = thread::Builder::new()
        .name(writer_name)
        .stack_size(64 << 10)
        .spawn(move || {
            let name = thread::current().name().unwrap_or("writer").to_owned();
            CONNECTION.with(|c| c.replace(format!("{name} {client_of_writer}")));
            write_loop(&sender, &replies, peer, watch_of_writer.as_deref())
        });
    let writer = match writer {
        Ok(handle) => handle,
        Err(e) => {
            log!("{client} no writer thread: {e}");
            let _ = receiver
                .sender()
                .close(CloseCode::INTERNAL_ERROR, "server overloaded");
            let _ = receiver.recv();
            return;
        }
    };

    let (received, close) = read_loop(&mut receiver, &queue, watch.as_deref());
    if let Some(watch) = &watch {
        watch.ended(&close);
    }
    drop(queue);
    let sent = writer.join().unwrap_or(0);
    log!(
        "{client} closed after {:.3}s, {received} messages in, {sent} out, {close}",
        opened.elapsed().as_secs_f64()
    );
}

/// The writer: takes replies from the queue as they come and sends them,
/// all that are waiting in one write. Returns how many it sent.
/// A watched connection's replies go one by one, each reported (see
/// [`Watch::send_reply`]).
fn write_loop(
    sender: &plainws::Sender,
    replies: &Receiver<Reply>,
    peer: SocketAddr,
    watch: Option<&Watch>,
) -> u64 {
    let mut sent = 0u64;
    if let Some(watch) = watch {
        while let Ok(reply) = replies.recv() {
            let text = serde_json::to_string(&reply).unwrap_or_default();
            if let Err(e) = watch.send_reply(sender, &text) {
                log_send_error(peer, &e);
                return sent;
            }
            sent += 1;
        }
        return sent;
    }
    while let Ok(first) = replies.recv() {
        let mut batch = 0;
        let mut next = Some(first);
        while let Some(reply) = next {
            if let Err(e) = sender.feed_json(&reply) {
                log_send_error(peer, &e);
                return sent;
            }
            batch += 1;
            next = replies.try_recv().ok();
        }
        if let Err(e) = sender.flush() {
            log_send_error(peer, &e);
            return sent;
        }
        sent += batch;
    }
    sent
}

fn log_send_error(peer: SocketAddr, error: &Error) {
    if !matches!(error, Error::AlreadyClosed | Error::ConnectionClosed) {
        log!("{peer} send failed: {error}");
    }
}

/// The reader: parses each message and queues its reply. Returns the
/// number of messages and how the connection ended.
fn read_loop(
    receiver: &mut plainws::Receiver,
    queue: &SyncSender<Reply>,
    watch: Option<&Watch>,
) -> (u64, String) {
    let mut received = 0u64;
    loop {
        let message = receiver.recv();
        if let (Some(watch), Ok(message)) = (watch, &message) {
            watch.message_in(message);
        }
        let reply = match message {
            Ok(Message::Text(text)) => match plainws::json::from_text::<Input>(&text) {
                Ok(input) => Reply::Cmd {
                    cmd: format!("Thanks for your message: {}", input.cmd),
                },
                Err(e) => Reply::Error {
                    error: format!("expected {{\"cmd\": \"...\"}}: {e}"),
                },
            },
            Ok(Message::Binary(_)) => Reply::Error {
                error: "binary messages are not supported: send JSON text".into(),
            },
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(frame)) => {
                let code = frame.map_or("no code".into(), |f| format!("code {}", f.code));
                return (received, format!("closed by peer ({code})"));
            }
            Err(e) => {
                let how = match e.close_code() {
                    Some(code) => format!("failed with close code {code}: {e}"),
                    None => format!("ended: {e}"),
                };
                return (received, how);
            }
        };
        received += 1;
        if queue.send(reply).is_err() {
            // The writer is gone after a send error: end the connection.
            let _ = receiver
                .sender()
                .close(CloseCode::INTERNAL_ERROR, "send failed");
            return (received, "ended: writer failed".into());
        }
    }
}

/// `--trace`: one line per frame, after the connection thread's name and
/// the client's address.
fn trace_frame(direction: Direction, header: &FrameHeader, preview: &[u8]) {
    let frame = format_frame(direction, header, preview);
    CONNECTION.with(|c| log!("[{}] {frame}", c.borrow()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(headers: &str) -> Request {
        let head = format!("GET /echo HTTP/1.1\r\nHost: x\r\n{headers}\r\n");
        Request::parse(head.as_bytes(), 100).expect("a valid request")
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const PROXY: &str = "127.0.0.1:40000";

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let peer: SocketAddr = PROXY.parse().unwrap();
        let trusted = [ip("127.0.0.1")];
        let seen = |headers: &str| client_address(peer, &request(headers), &trusted);
        assert_eq!(
            seen("X-Forwarded-For: 203.0.113.7\r\n"),
            "203.0.113.7 via 127.0.0.1:40000"
        );
        // What the client wrote itself (left of the proxy's entry) is not believed.
        assert_eq!(
            seen("X-Forwarded-For: 6.6.6.6, 203.0.113.7\r\n"),
            "203.0.113.7 via 127.0.0.1:40000"
        );
        // Several headers are one list; trusted hops are skipped.
        assert_eq!(
            seen("X-Forwarded-For: 6.6.6.6\r\nx-forwarded-for: 2001:db8::1, 127.0.0.1\r\n"),
            "2001:db8::1 via 127.0.0.1:40000"
        );
        // No header, only proxies, or garbage: the proxy itself.
        assert_eq!(seen(""), PROXY);
        assert_eq!(seen("X-Forwarded-For: 127.0.0.1\r\n"), PROXY);
        assert_eq!(seen("X-Forwarded-For: 6.6.6.6, unknown\r\n"), PROXY);
    }

    #[test]
    fn anyone_else_cannot_choose_the_logged_address() {
        let peer: SocketAddr = "192.0.2.9:5555".parse().unwrap();
        let forged = request("X-Forwarded-For: 203.0.113.7\r\n");
        assert_eq!(client_address(peer, &forged, &[]), "192.0.2.9:5555");
        assert_eq!(
            client_address(peer, &forged, &[ip("127.0.0.1")]),
            "192.0.2.9:5555"
        );
    }
}
