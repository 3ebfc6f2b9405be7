//! A small threaded server that stays up: an accept loop that survives
//! accept errors, a connection limit answered with 503 before the upgrade,
//! an optional `Origin` allow-list, and a `shutdown` that closes every
//! connection with 1001 and waits, bounded, for their threads to end.

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::blocking::refusals::Refusals;
use crate::blocking::sender::{Sender, WeakSender};
use crate::blocking::websocket::{WebSocket, accept_with};
use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::config::Config;
use crate::sansio::handshake::http::header_values;
use crate::sansio::handshake::server::{Accept, Request, Response};

/// How a [`Server`] runs, besides each connection's [`Config`].
///
/// Build it from [`ServerOptions::default`] with the setters, each named
/// after its field (or assign the public fields):
///
/// ```
/// use std::time::Duration;
/// use plainws::{Config, ServerOptions};
///
/// let options = ServerOptions::default()
///     .config(Config::default().max_message_size(1 << 20))
///     .max_connections(1_000)
///     .allowed_origins(vec!["https://example.com".to_owned()])
///     .shutdown_timeout(Duration::from_secs(2));
/// assert_eq!(options.config.max_message_size, 1 << 20);
/// assert_eq!(options.thread_stack_size, 128 << 10); // the default
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// Settings for every connection.
    pub config: Config,
    /// Connections served at once; beyond it a client gets 503 before the
    /// upgrade. Refusals cost no thread: however many clients are
    /// refused, the server holds at most `max_connections` connection
    /// threads plus one for refusals, and `max_connections` + 34
    /// descriptors (the listener, the refused socket being answered, and
    /// at most 32 refused sockets waiting for their client to read the
    /// 503). Default: 10,000.
    pub max_connections: usize,
    /// When set, only requests whose `Origin` is in the list are upgraded;
    /// others get 403 (cross-site WebSocket hijacking, RFC 6455 §10.2).
    /// Origins are compared byte for byte, ASCII letters in any case; a
    /// value that is not UTF-8 never matches. Requests without `Origin`
    /// (non-browser clients) are let through. A request with more than
    /// one `Origin` header gets 400, with or without a list: RFC 6454
    /// §7.3 allows one, and no single value could be trusted.
    /// Default: none (any origin).
    pub allowed_origins: Option<Vec<String>>,
    /// Stack size of each connection thread. Default: 128 KiB.
    pub thread_stack_size: usize,
    /// How long [`shutdown`](ServerHandle::shutdown) waits for connection threads after closing
    /// them. Default: the close timeout plus one second.
    pub shutdown_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        let config = Config::default();
        ServerOptions {
            shutdown_timeout: config.close_timeout + Duration::from_secs(1),
            config,
            max_connections: 10_000,
            allowed_origins: None,
            thread_stack_size: 128 << 10,
        }
    }
}

impl ServerOptions {
    /// Sets [`config`](field@ServerOptions::config) (default:
    /// [`Config::default`]).
    #[must_use]
    pub fn config(mut self, config: Config) -> ServerOptions {
        self.config = config;
        self
    }

    /// Sets [`max_connections`](field@ServerOptions::max_connections)
    /// (default: 10,000).
    #[must_use]
    pub fn max_connections(mut self, max_connections: usize) -> ServerOptions {
        self.max_connections = max_connections;
        self
    }

    /// Sets [`allowed_origins`](field@ServerOptions::allowed_origins): a list
    /// or `None` (default: none, any origin).
    #[must_use]
    pub fn allowed_origins(
        mut self,
        allowed_origins: impl Into<Option<Vec<String>>>,
    ) -> ServerOptions {
        self.allowed_origins = allowed_origins.into();
        self
    }

    /// Sets [`thread_stack_size`](field@ServerOptions::thread_stack_size)
    /// (default: 128 KiB).
    #[must_use]
    pub fn thread_stack_size(mut self, thread_stack_size: usize) -> ServerOptions {
        self.thread_stack_size = thread_stack_size;
        self
    }

    /// Sets [`shutdown_timeout`](field@ServerOptions::shutdown_timeout)
    /// (default: the default close timeout plus one second, 6 s).
    #[must_use]
    pub fn shutdown_timeout(mut self, shutdown_timeout: Duration) -> ServerOptions {
        self.shutdown_timeout = shutdown_timeout;
        self
    }
}

/// What the server's threads share.
#[derive(Debug)]
struct State {
    options: ServerOptions,
    stopping: AtomicBool,
    next_id: AtomicU64,
    /// Live connection threads, and the senders of those upgraded.
    live: Mutex<Live>,
    all_done: Condvar,
    local_addr: SocketAddr,
    refusals: Refusals,
}

#[derive(Debug, Default)]
struct Live {
    threads: usize,
    /// Connections still in their opening handshake: shut down on shutdown.
    handshaking: HashMap<u64, Arc<TcpStream>>,
    /// Upgraded connections: closed with 1001 on shutdown.
    senders: HashMap<u64, WeakSender>,
}

/// A TCP listener that hands each connection to a handler on its own thread.
///
/// [`Server::bind`] takes [`ServerOptions`]: the connections' [`Config`], a
/// connection limit (503 beyond it, before the upgrade), an `Origin`
/// allow-list (403 outside it). [`run`](Server::run) accepts until a
/// [`ServerHandle`], taken with [`handle`](Server::handle) before `run`,
/// calls [`shutdown`](ServerHandle::shutdown) from another thread. Each
/// connection's handler gets an [`Incoming`] and decides with
/// [`Incoming::accept_with`], as with [`accept_with`](crate::accept_with).
///
/// # Examples
///
/// A chat server: routing by path, an auth check answering 401, a
/// subprotocol chosen from the client's offer, custom limits, and a
/// shutdown from another thread (here the main thread, once two clients
/// were served).
///
/// ```
/// use std::time::Duration;
/// use plainws::{Accept, ClientOptions, CloseCode, Config, Error, Message, Response};
/// use plainws::{Server, ServerOptions};
///
/// let config = Config::default()
///     .max_message_size(64 << 10) // 64 KiB messages at most
///     .idle_timeout(Duration::from_secs(300));
/// let options = ServerOptions::default().config(config).max_connections(100);
/// let server = Server::bind("127.0.0.1:0", options)?;
/// let url = format!("ws://{}/chat", server.local_addr());
/// let handle = server.handle();
///
/// let running = std::thread::spawn(move || {
///     server.run(|incoming| {
///         let accepted = incoming.accept_with(|request| {
///             // Route by path (the query is `request.query()`).
///             if request.path() != "/chat" {
///                 return Err(Response::new(404, "no such endpoint\n"));
///             }
///             // A bearer token, or a session cookie.
///             let token = request
///                 .header("Authorization")
///                 .and_then(|value| value.strip_prefix("Bearer "));
///             let session = request.header("Cookie").and_then(|cookies| {
///                 cookies.split(';').find_map(|pair| pair.trim().strip_prefix("session="))
///             });
///             if token != Some("let-me-in") && session.is_none() {
///                 return Err(Response::new(401, "log in first\n")
///                     .with_header("WWW-Authenticate", "Bearer"));
///             }
///             // The first subprotocol we speak, in the client's order.
///             let mut accept = Accept::default();
///             if let Some(chosen) = request.protocols().find(|p| ["chat.v2", "chat.v1"].contains(p)) {
///                 accept = accept.protocol(chosen);
///             }
///             Ok(accept)
///         });
///         let Ok(ws) = accepted else {
///             return; // refused: the client got its HTTP answer
///         };
///         let (mut receiver, sender) = ws.split();
///         while let Ok(message) = receiver.recv() {
///             if let Message::Text(text) = message {
///                 let _ = sender.send_text(&text);
///             }
///         }
///     })
/// });
///
/// // Without credentials: 401.
/// let refused = plainws::connect(&url).unwrap_err();
/// assert!(matches!(&refused, Error::HandshakeRefused(line) if line.contains("401")));
///
/// // With a token and two subprotocols offered: the server picks one.
/// let options = ClientOptions::default()
///     .header("Authorization", "Bearer let-me-in")
///     .protocols(["chat.v1", "chat.v2"]);
/// let mut ws = plainws::connect_with(&url, options)?;
/// assert_eq!(ws.protocol(), Some("chat.v1"));
/// ws.send_text("hello")?;
/// assert_eq!(ws.recv()?, Message::Text("hello".into()));
///
/// // Stop from another thread: the server closes every connection with
/// // 1001 (going away), then waits for their threads.
/// let stopper = std::thread::spawn(move || handle.shutdown());
/// while let Ok(message) = ws.recv() {
///     if let Message::Close(Some(frame)) = message {
///         assert_eq!(frame.code, CloseCode::GOING_AWAY);
///     }
/// }
/// let every_connection_ended = stopper.join().unwrap();
/// assert!(every_connection_ended);
/// running.join().unwrap()?; // `run` returned
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    state: Arc<State>,
}

/// Stops a running [`Server`] from another thread: taken with
/// [`Server::handle`] before [`Server::run`], cheap to clone ([example](Server#examples)).
#[derive(Clone, Debug)]
pub struct ServerHandle {
    state: Arc<State>,
}

/// A connection the server accepted, not yet upgraded.
#[derive(Debug)]
pub struct Incoming {
    stream: Arc<TcpStream>,
    peer: SocketAddr,
    id: u64,
    state: Arc<State>,
}

impl Server {
    /// Listens on `addr`.
    pub fn bind<A: ToSocketAddrs>(addr: A, options: ServerOptions) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let local_addr = listener.local_addr()?;
        Ok(Server {
            listener,
            state: Arc::new(State {
                options,
                stopping: AtomicBool::new(false),
                next_id: AtomicU64::new(0),
                live: Mutex::new(Live::default()),
                all_done: Condvar::new(),
                local_addr,
                refusals: Refusals::default(),
            }),
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.state.local_addr
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            state: Arc::clone(&self.state),
        }
    }

    /// Accepts connections until [`ServerHandle::shutdown`], running
    /// `handler` on a thread of its own for each one.
    pub fn run<H>(self, handler: H) -> io::Result<()>
    where
        H: Fn(Incoming) + Send + Sync + 'static,
    {
        let handler = Arc::new(handler);
        let mut backoff = Duration::from_millis(5);
        for stream in self.listener.incoming() {
            if self.state.stopping.load(Ordering::SeqCst) {
                break;
            }
            let stream = match stream {
                Ok(stream) => {
                    backoff = Duration::from_millis(5);
                    stream
                }
                Err(e) => {
                    // Too many open files and the like pass: back off, go on.
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted
                    ) {
                        thread::sleep(backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                    continue;
                }
            };
            self.spawn_connection(stream, &handler);
        }
        Ok(())
    }

    fn spawn_connection<H>(&self, stream: TcpStream, handler: &Arc<H>)
    where
        H: Fn(Incoming) + Send + Sync + 'static,
    {
        let Ok(peer) = stream.peer_addr() else {
            return;
        };
        if !self.state.enter() {
            // 503 without blocking and without a thread of its own: a
            // flood of refused clients cannot stall the accept loop nor
            // grow the server's threads and descriptors.
            let busy = Response::for_error(&Error::ServerBusy).to_bytes();
            self.state.refusals.refuse(stream, &busy);
            return;
        }
        let id = self.state.next_id.fetch_add(1, Ordering::Relaxed);
        // Shared, not duplicated: a connection holds one file descriptor.
        let stream = Arc::new(stream);
        if let Ok(mut live) = self.state.live.lock() {
            live.handshaking.insert(id, Arc::clone(&stream));
        }
        let incoming = Incoming {
            stream,
            peer,
            id,
            state: Arc::clone(&self.state),
        };
        let handler = Arc::clone(handler);
        let state = Arc::clone(&self.state);
        let spawned = thread::Builder::new()
            .name(format!("plainws-conn-{id}"))
            .stack_size(self.state.options.thread_stack_size)
            .spawn(move || {
                let _leave = Leave(state, id);
                handler(incoming);
            });
        // If the thread could not start, the closure was dropped without
        // running, and with it the stream; the count is restored below.
        if spawned.is_err() {
            self.state.leave(id);
        }
    }
}

/// Forgets a connection when its thread ends, however it ends.
struct Leave(Arc<State>, u64);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.leave(self.1);
    }
}

impl State {
    /// Counts a new connection thread, unless the server is full or stopping.
    fn enter(&self) -> bool {
        let Ok(mut live) = self.live.lock() else {
            return false;
        };
        if live.threads >= self.options.max_connections || self.stopping.load(Ordering::SeqCst) {
            return false;
        }
        live.threads += 1;
        true
    }

    fn leave(&self, id: u64) {
        if let Ok(mut live) = self.live.lock() {
            live.senders.remove(&id);
            live.handshaking.remove(&id);
            live.threads -= 1;
            if live.threads == 0 {
                self.all_done.notify_all();
            }
        }
    }

    /// Records an upgraded connection so that shutdown can close it, or
    /// closes it now if shutdown has begun.
    fn register(&self, id: u64, sender: WeakSender) {
        let Ok(mut live) = self.live.lock() else {
            return;
        };
        live.handshaking.remove(&id);
        // Registered even when stopping: a shutdown that runs out of time
        // cuts off every connection it finds here.
        live.senders.insert(id, sender.clone());
        if self.stopping.load(Ordering::SeqCst) {
            drop(live);
            if let Some(sender) = sender.upgrade() {
                sender.close_within(CloseCode::GOING_AWAY, SHUTTING_DOWN, CLOSE_BUDGET);
                sender.release_without_waiting();
            }
        }
    }
}

/// The close reason sent to every connection on shutdown.
const SHUTTING_DOWN: &str = "server shutting down";
/// How long one connection's Close may take to write on shutdown.
const CLOSE_BUDGET: Duration = Duration::from_millis(100);
/// Threads that close connections at once on shutdown.
const CLOSERS: usize = 16;

/// Closes every connection with 1001, concurrently: first one
/// non-blocking attempt each, so that a peer that does not read delays no
/// other's Close; then the rest, each within its budget: a connection
/// whose writer is stuck on a peer that does not read is shut down at the
/// socket instead of waited for, and past `deadline` the rest are shut
/// down without a Close.
fn close_all(senders: &[Sender], deadline: Instant) {
    let close_chunk = |chunk: &[Sender]| {
        let later: Vec<&Sender> = chunk
            .iter()
            .filter(|sender| !sender.try_close_now(CloseCode::GOING_AWAY, SHUTTING_DOWN))
            .collect();
        for sender in later {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                sender.abort();
            } else {
                sender.close_within(CloseCode::GOING_AWAY, SHUTTING_DOWN, left.min(CLOSE_BUDGET));
            }
        }
    };
    let per_thread = senders.len().div_ceil(CLOSERS).max(1);
    thread::scope(|scope| {
        for chunk in senders.chunks(per_thread) {
            let spawned = thread::Builder::new()
                .name("plainws-closer".into())
                .stack_size(64 << 10)
                .spawn_scoped(scope, move || close_chunk(chunk));
            if spawned.is_err() {
                close_chunk(chunk);
            }
        }
    });
}

impl ServerHandle {
    /// Stops accepting, closes every connection with 1001 (going away),
    /// and returns once every connection thread has ended, or at the
    /// latest [`ServerOptions::shutdown_timeout`](field@ServerOptions::shutdown_timeout)
    /// plus 100 ms, whatever the peers do: then the connections left are
    /// cut off at the socket (their threads end soon after). Returns
    /// whether all ended before that.
    pub fn shutdown(&self) -> bool {
        let state = &self.state;
        let timeout = state.options.shutdown_timeout;
        let deadline = Instant::now() + timeout;
        state.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop with a connection of our own.
        let wake = (timeout / 4).clamp(Duration::from_millis(1), Duration::from_secs(1));
        let _ = TcpStream::connect_timeout(&state.local_addr, wake);
        let senders: Vec<Sender> = match state.live.lock() {
            Ok(live) => {
                // Mid-handshake connections stop reading their request; one
                // that is already answering it registers next, sees
                // `stopping` and closes itself with 1001.
                for stream in live.handshaking.values() {
                    let _ = stream.shutdown(std::net::Shutdown::Read);
                }
                live.senders
                    .values()
                    .filter_map(WeakSender::upgrade)
                    .collect()
            }
            Err(_) => Vec::new(),
        };
        close_all(&senders, Instant::now() + timeout / 2);
        // Our handles must not be the ones that end a connection: that
        // may wait for its peer.
        senders
            .into_iter()
            .for_each(Sender::release_without_waiting);
        let Ok(mut live) = state.live.lock() else {
            return false;
        };
        while live.threads > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                // Out of time: what is left is cut off at the socket, so
                // that its threads end soon after we return.
                let streams: Vec<Arc<TcpStream>> = live.handshaking.values().cloned().collect();
                let weak: Vec<WeakSender> = live.senders.values().cloned().collect();
                drop(live);
                for stream in streams {
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                for sender in weak.iter().filter_map(WeakSender::upgrade) {
                    sender.abort();
                    sender.release_without_waiting();
                }
                return false;
            }
            live = match state.all_done.wait_timeout(live, left) {
                Ok((guard, _)) => guard,
                Err(_) => return false,
            };
        }
        true
    }

    /// How many connection threads are running.
    pub fn connections(&self) -> usize {
        self.state.live.lock().map_or(0, |live| live.threads)
    }
}

impl Incoming {
    /// The client's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Performs the opening handshake (see [`crate::accept_with`]) with the
    /// server's [`Config`], after the server's own checks (origin). A
    /// response to a `HEAD` request, the application's or the server's,
    /// goes out without its body ([`Response::omit_body`]). The
    /// connection is closed with 1001 when the server shuts down.
    pub fn accept_with<F>(self, on_request: F) -> Result<WebSocket>
    where
        F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
    {
        let Incoming {
            stream, id, state, ..
        } = self;
        let origins = state.options.allowed_origins.clone();
        let ws = accept_with(stream, state.options.config.clone(), |request| {
            let answer =
                check_origin(origins.as_deref(), request).and_then(|()| on_request(request));
            // RFC 9110 §9.3.2: no content in a response to HEAD.
            if request.method() == "HEAD" {
                answer.map_err(Response::without_body)
            } else {
                answer
            }
        })?;
        state.register(id, ws.weak_sender());
        Ok(ws)
    }
}

/// The server's `Origin` rule (RFC 6455 §10.2): refuses a request with
/// more than one `Origin` (400; RFC 6454 §7.3: "The user agent MUST NOT
/// include more than one Origin header field in any HTTP request"), and,
/// with an allow-list, one whose `Origin` is not listed (403).
fn check_origin(
    allowed: Option<&[String]>,
    request: &Request,
) -> std::result::Result<(), Response> {
    let mut origins = header_values(request.headers(), "Origin");
    let (origin, second) = (origins.next(), origins.next());
    if second.is_some() {
        return Err(Response::for_error(&Error::InvalidHeader(
            "more than one Origin header",
        )));
    }
    if let (Some(allowed), Some(origin)) = (allowed, origin) {
        if !allowed
            .iter()
            .any(|a| a.as_bytes().eq_ignore_ascii_case(origin))
        {
            return Err(Response::new(403, "origin not allowed\n"));
        }
    }
    Ok(())
}
