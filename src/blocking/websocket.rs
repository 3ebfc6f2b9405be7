//! A connection over `TcpStream`, and the server side of its opening.

use std::net::Shutdown;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blocking::receiver::Receiver;
use crate::blocking::sender::{Sender, WeakSender};
use crate::blocking::shared::Shared;
use crate::blocking::transport::{Transport, write_all};
use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::config::Config;
use crate::sansio::connection::Connection;
use crate::sansio::handshake::accepting::{Refusal, ServerHandshake};
use crate::sansio::handshake::server::{Accept, Request, Response};
use crate::sansio::message::Message;

/// How long a refused client gets to read our answer before the socket closes.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// An open WebSocket connection.
///
/// Use it directly from one thread, or [`split`](WebSocket::split) it into
/// a [`Receiver`] for one reading thread and a [`Sender`] that any number
/// of threads can clone and use at once.
#[derive(Debug)]
pub struct WebSocket {
    receiver: Receiver,
    sender: Sender,
    protocol: Option<String>,
}

impl WebSocket {
    /// Wraps a stream whose opening handshake is done, and the core's
    /// connection for it. `leftover` holds the bytes that arrived after
    /// the handshake (the peer's first frames).
    pub(crate) fn from_upgraded(
        stream: Arc<dyn Transport>,
        conn: Connection,
        leftover: &[u8],
        protocol: Option<String>,
    ) -> Result<WebSocket> {
        stream.set_read_timeout(None)?;
        let shared = Shared::new(Arc::clone(&stream), conn)?;
        let receiver = Receiver::new(stream, Arc::clone(&shared), leftover);
        Ok(WebSocket {
            sender: Sender::new(shared),
            receiver,
            protocol,
        })
    }

    /// Splits the connection into its receiving and sending halves.
    ///
    /// From then on, when the peer's Close arrives, the Close reply waits
    /// until every handle (the [`Receiver`] and every [`Sender`] clone) is
    /// dropped, a `Sender` calls [`close`](Sender::close), or
    /// [`Config::close_timeout`](field@Config::close_timeout) passes:
    /// replies that other threads are still sending go out before it. An
    /// unsplit `WebSocket`, used from
    /// one thread, answers the peer's Close at once.
    pub fn split(self) -> (Receiver, Sender) {
        self.sender.share();
        (self.receiver, self.sender)
    }

    /// Whether permessage-deflate was negotiated (RFC 7692): messages sent
    /// with [`send_text`](WebSocket::send_text) and
    /// [`send_binary`](WebSocket::send_binary) are then compressed.
    pub fn is_compressed(&self) -> bool {
        self.sender.compresses()
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Receives the next message (see [`Receiver::recv`]).
    pub fn recv(&mut self) -> Result<Message> {
        self.receiver.recv()
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<()> {
        self.sender.send_text(text)
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> Result<()> {
        self.sender.send_binary(data)
    }

    /// Sends a Ping.
    pub fn ping(&self, payload: &[u8]) -> Result<()> {
        self.sender.ping(payload)
    }

    /// Starts the close handshake (see [`Sender::close`]). Keep calling
    /// [`recv`](WebSocket::recv) until it returns the peer's Close or an
    /// error.
    pub fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.sender.close(code, reason)
    }

    /// A sender for this connection.
    ///
    /// Handing out a sender is like [`split`](WebSocket::split): the Close
    /// reply then waits for every handle.
    pub fn sender(&self) -> Sender {
        self.sender.share();
        self.sender.clone()
    }

    /// A handle for the server's registry, which does not keep the
    /// connection alive.
    pub(crate) fn weak_sender(&self) -> WeakSender {
        self.sender.downgrade()
    }
}

/// Accepts a WebSocket on a freshly accepted stream (a `TcpStream`, or any
/// [`Transport`]), with the default [`Config`] and any path.
pub fn accept<S: Transport>(stream: S) -> Result<WebSocket> {
    accept_with(stream, Config::default(), |_| Ok(Accept::default()))
}

/// Accepts a WebSocket, letting `on_request` look at the request first.
///
/// `on_request` may accept (choosing a subprotocol or adding headers) or
/// answer with its own HTTP response: a 404, a 403, or a page for a plain
/// browser request. Then the WebSocket fields are checked (RFC 6455
/// §4.2.1). Every failure is answered with a real HTTP response (400, 405,
/// 426, 431, ...) and returned as the matching error; an application's own
/// response returns [`Error::Rejected`]`(status)`. [`Request`] gives the
/// path, the query and the headers; `config` sets the connection's limits.
/// With a [`Server`](crate::Server), the same callback goes to
/// [`Incoming::accept_with`](crate::Incoming::accept_with) ([a whole
/// server](crate::Server#examples)).
///
/// # Examples
///
/// One connection, routed by path, authenticated by a session cookie (401
/// without it), with a subprotocol chosen from the client's offer and a
/// smaller message limit:
///
/// ```
/// use std::net::TcpListener;
/// use plainws::{Accept, ClientOptions, Config, Error, Message, Response};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let url = format!("ws://{}/chat?room=1", listener.local_addr()?);
/// let client = std::thread::spawn(move || -> plainws::Result<()> {
///     let options = ClientOptions::default()
///         .header("Cookie", "theme=dark; session=abc123")
///         .protocols(["chat.v3", "chat.v2"]);
///     let mut ws = plainws::connect_with(&url, options)?;
///     assert_eq!(ws.protocol(), Some("chat.v2"));
///     ws.send_text("hi")?;
///     Ok(())
/// });
///
/// let (stream, _) = listener.accept()?;
/// let config = Config::default().max_message_size(1 << 20);
/// let ws = plainws::accept_with(stream, config, |request| {
///     if request.path() != "/chat" {
///         return Err(Response::new(404, "no such endpoint\n"));
///     }
///     assert_eq!(request.query(), Some("room=1"));
///     let session = request.header("Cookie").and_then(|cookies| {
///         cookies.split(';').find_map(|pair| pair.trim().strip_prefix("session="))
///     });
///     if session != Some("abc123") {
///         return Err(Response::new(401, "log in first\n"));
///     }
///     match request.protocols().find(|p| *p == "chat.v2") {
///         Some(chosen) => Ok(Accept::default().protocol(chosen)),
///         None => Err(Response::new(400, "chat.v2 only\n")),
///     }
/// });
/// let mut ws = match ws {
///     Ok(ws) => ws,
///     Err(Error::Rejected(status)) => panic!("we answered {status}"),
///     Err(e) => return Err(e.into()),
/// };
/// assert_eq!(ws.recv()?, Message::Text("hi".into()));
/// client.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn accept_with<S, F>(stream: S, config: Config, on_request: F) -> Result<WebSocket>
where
    S: Transport,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    let stream: Arc<dyn Transport> = Arc::new(stream);
    stream.set_nodelay()?;
    stream.set_write_timeout(Some(config.write_timeout).filter(|t| !t.is_zero()))?;
    let deadline = Instant::now() + config.handshake_timeout;
    // The sequence is the core's (parse, decide, check, negotiate, 101):
    // this driver only reads the request and writes the answer.
    let mut handshake = ServerHandshake::new(config);
    let request = match read_request(stream.as_ref(), &mut handshake, deadline) {
        Ok(request) => request,
        Err(Ok(e)) => return Err(e),
        Err(Err(refusal)) => return Err(refuse_with(stream.as_ref(), refusal)),
    };
    let decision = on_request(&request);
    let upgrade = match handshake.accept(&request, decision) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return Err(refuse_with(stream.as_ref(), refusal)),
    };
    write_all(stream.as_ref(), &upgrade.response)?;
    WebSocket::from_upgraded(
        stream,
        upgrade.connection,
        &upgrade.leftover,
        upgrade.protocol,
    )
}

/// Reads until the request head is complete: the request, or the
/// refusal to send (`Err(Err(_))`), or an error that ends the connection
/// without an answer (`Err(Ok(_))`: the peer left, the deadline passed).
fn read_request(
    stream: &dyn Transport,
    handshake: &mut ServerHandshake,
    deadline: Instant,
) -> std::result::Result<Request, std::result::Result<Error, Refusal>> {
    // On the heap: a connection thread's stack pages, once touched, stay
    // resident for as long as it lives.
    let mut chunk = vec![0u8; 4096];
    loop {
        let want = chunk.len().min(handshake.room());
        let n = read_some(stream, &mut chunk[..want], deadline).map_err(Ok)?;
        if let Some(request) = handshake.receive(&chunk[..n]).map_err(Err)? {
            return Ok(request);
        }
    }
}

/// Sends a refusal (see [`refuse`]) and returns its error.
fn refuse_with(stream: &dyn Transport, refusal: Refusal) -> Error {
    refuse(stream, &refusal.response, refusal.error)
}

/// One read of the opening handshake, within its deadline: at least one
/// byte, or the end of stream (`AbnormalClosure`), or the deadline
/// (`Timeout("opening handshake")`).
pub(crate) fn read_some(
    stream: &dyn Transport,
    chunk: &mut [u8],
    deadline: Instant,
) -> Result<usize> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Error::Timeout("opening handshake"));
        }
        stream.set_read_timeout(Some(left))?;
        return match stream.read(chunk) {
            Ok(0) => Err(Error::AbnormalClosure),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(Error::Timeout("opening handshake"))
            }
            Err(e) => Err(e.into()),
        };
    }
}

/// Sends `response`, then closes without resetting: the write side first,
/// then a short read so the client's unread bytes do not turn our close
/// into a reset that could destroy the response.
pub(crate) fn refuse(stream: &dyn Transport, response: &Response, error: Error) -> Error {
    if write_all(stream, &response.to_bytes()).is_ok() {
        let _ = stream.shutdown(Shutdown::Write);
        let _ = stream.set_read_timeout(Some(REFUSAL_LINGER));
        let deadline = Instant::now() + REFUSAL_LINGER;
        let mut scratch = [0u8; 1024];
        while Instant::now() < deadline {
            match stream.read(&mut scratch) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
    error
}
