//! A connection on tokio, and the server side of its opening handshake.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::time::timeout;

use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::config::Config;
use crate::sansio::connection::Connection;
use crate::sansio::handshake::accepting::{Refusal, ServerHandshake, Upgrade};
use crate::sansio::handshake::server::{Accept, Request, Response};
use crate::sansio::message::Message;
use crate::tokio::receiver::Receiver;
use crate::tokio::sender::Sender;
use crate::tokio::shared::{ReadHalf, Shared, WriteHalf};
use crate::tokio::task;

/// How long a refused client gets to read our answer before the
/// connection closes.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// An open WebSocket connection on tokio.
///
/// Use it from one task, or [`split`](WebSocket::split) it into a
/// [`Receiver`] and a [`Sender`] that any number of tasks can clone.
#[derive(Debug)]
pub struct WebSocket {
    receiver: Receiver,
    sender: Sender,
    protocol: Option<String>,
}

impl WebSocket {
    /// Wraps a stream whose opening handshake is done: spawns the
    /// connection's task (see the module documentation).
    pub(crate) fn start<S>(
        stream: S,
        conn: Connection,
        leftover: Vec<u8>,
        protocol: Option<String>,
    ) -> WebSocket
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (read, write) = split(stream);
        let shared = Arc::new(Shared::new(conn, read, write, leftover));
        let receiver = Receiver::new(Arc::clone(&shared));
        let sender = Sender::new(Arc::clone(&shared));
        ::tokio::spawn(task::run(shared));
        WebSocket {
            receiver,
            sender,
            protocol,
        }
    }

    /// Splits the connection into its receiving and sending halves.
    ///
    /// From then on, when the peer's Close arrives, the Close reply waits
    /// until every handle is dropped, a [`Sender`] calls
    /// [`close`](Sender::close), or
    /// [`Config::close_timeout`](field@Config::close_timeout) passes:
    /// replies that other tasks are still sending go out before it. An
    /// unsplit `WebSocket` answers the peer's Close at once.
    pub fn split(self) -> (Receiver, Sender) {
        self.sender.share();
        (self.receiver, self.sender)
    }

    /// Whether permessage-deflate was negotiated (RFC 7692).
    pub fn is_compressed(&self) -> bool {
        self.sender.is_compressed()
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// Receives the next message (see [`Receiver::recv`]; cancel safe).
    pub fn recv(&mut self) -> impl Future<Output = Result<Message>> {
        self.receiver.recv()
    }

    /// Sends any message (see [`Sender::send`]).
    pub async fn send(&self, message: &Message) -> Result<()> {
        self.sender.send(message).await
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> impl Future<Output = Result<()>> {
        self.sender.send_text(text)
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: &[u8]) -> impl Future<Output = Result<()>> {
        self.sender.send_binary(data)
    }

    /// Sends a Ping.
    pub async fn ping(&self, payload: &[u8]) -> Result<()> {
        self.sender.ping(payload).await
    }

    /// Starts the close handshake (see [`Sender::close`]). Keep calling
    /// [`recv`](WebSocket::recv) until it returns the peer's Close or an
    /// error.
    pub async fn close(&self, code: CloseCode, reason: &str) -> Result<()> {
        self.sender.close(code, reason).await
    }

    /// Waits until every frame queued so far is written.
    pub async fn flush(&self) -> Result<()> {
        self.sender.flush().await
    }

    /// A sender for this connection; handing one out is like
    /// [`split`](WebSocket::split): the Close reply then waits for every
    /// handle.
    pub fn sender(&self) -> Sender {
        self.sender.share();
        self.sender.clone()
    }
}

/// Splits a stream into its halves: a `TcpStream` into its owned halves
/// (no lock between them), anything else with `tokio::io::split` (a lock
/// taken for one poll at a time, never across a wait).
fn split<S>(stream: S) -> (ReadHalf, WriteHalf)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let stream: Box<dyn Any> = Box::new(stream);
    match stream.downcast::<TcpStream>() {
        Ok(tcp) => {
            // Each frame is written whole: nothing to gain from Nagle.
            let _ = tcp.set_nodelay(true);
            let (read, write) = tcp.into_split();
            (Box::pin(read), Box::pin(write))
        }
        Err(other) => match other.downcast::<S>() {
            Ok(stream) => {
                let (read, write) = ::tokio::io::split(*stream);
                (Box::pin(read), Box::pin(write))
            }
            // `other` is the `S` that went in.
            Err(_) => unreachable!("a box holds the type it was made with"),
        },
    }
}

/// Accepts a WebSocket on a freshly accepted stream (a `TcpStream`, or any
/// `AsyncRead + AsyncWrite` transport), with the default [`Config`] and
/// any path.
pub async fn accept<S>(stream: S) -> Result<WebSocket>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    accept_with(stream, Config::default(), |_| Ok(Accept::default())).await
}

/// Accepts a WebSocket, letting `on_request` look at the request first:
/// the same callback as the blocking [`accept_with`](crate::accept_with)
/// (accept with a subprotocol or headers, or answer with a [`Response`]
/// of its own). The sequence (parse, decide, check §4.2.1, negotiate
/// permessage-deflate, 101) is the core's
/// [`ServerHandshake`]; every failure is answered with a real HTTP
/// response and returned as its error, within
/// [`Config::handshake_timeout`](field@Config::handshake_timeout).
pub async fn accept_with<S, F>(mut stream: S, config: Config, on_request: F) -> Result<WebSocket>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(&Request) -> std::result::Result<Accept, Response>,
{
    let limit = config.handshake_timeout;
    let mut handshake = ServerHandshake::new(config);
    let read = timeout(limit, read_request(&mut stream, &mut handshake)).await;
    let request = match read {
        Err(_) => return Err(Error::Timeout("opening handshake")),
        Ok(Ok(request)) => request,
        Ok(Err(Ok(e))) => return Err(e),
        Ok(Err(Err(refusal))) => return Err(refuse(&mut stream, refusal).await),
    };
    let decision = on_request(&request);
    let upgrade = match handshake.accept(&request, decision) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return Err(refuse(&mut stream, refusal).await),
    };
    let write = async {
        stream.write_all(&upgrade.response).await?;
        stream.flush().await
    };
    match timeout(limit, write).await {
        Err(_) => return Err(Error::Timeout("opening handshake")),
        Ok(written) => written?,
    }
    Ok(accept_upgraded(stream, upgrade))
}

/// Starts a server connection whose opening handshake was answered by
/// someone else: an HTTP server (hyper, axum) that ran the core's
/// [`ServerHandshake`] and wrote its 101, then handed over the upgraded
/// stream. `upgrade.response` is not written here; `upgrade.leftover` is
/// fed to the connection first.
///
/// Must be called within a tokio runtime: it spawns the connection's task.
pub fn accept_upgraded<S>(stream: S, upgrade: Upgrade) -> WebSocket
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    WebSocket::start(
        stream,
        upgrade.connection,
        upgrade.leftover,
        upgrade.protocol,
    )
}

/// Reads until the request head is complete: the request, the refusal to
/// send (`Err(Err(_))`), or an error that ends the connection without an
/// answer (`Err(Ok(_))`).
async fn read_request<S>(
    stream: &mut S,
    handshake: &mut ServerHandshake,
) -> std::result::Result<Request, std::result::Result<Error, Refusal>>
where
    S: AsyncRead + Unpin,
{
    let mut chunk = vec![0u8; 4096];
    loop {
        let want = chunk.len().min(handshake.room().max(1));
        let n = stream
            .read(&mut chunk[..want])
            .await
            .map_err(|e| Ok(Error::Io(e)))?;
        if n == 0 {
            return Err(Ok(Error::AbnormalClosure));
        }
        if let Some(request) = handshake.receive(&chunk[..n]).map_err(Err)? {
            return Ok(request);
        }
    }
}

/// Sends a refusal, ends our writing half, and lets the client read it
/// (reading its last bytes for a moment, so that closing does not reset
/// the connection under the response). Returns the refusal's error.
async fn refuse<S>(stream: &mut S, refusal: Refusal) -> Error
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let answer = async {
        stream.write_all(&refusal.response.to_bytes()).await?;
        stream.shutdown().await?;
        let mut scratch = [0u8; 1024];
        while stream.read(&mut scratch).await? > 0 {}
        Ok::<(), std::io::Error>(())
    };
    let _ = timeout(REFUSAL_LINGER, answer).await;
    refusal.error
}
