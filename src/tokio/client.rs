//! The client side on tokio: connect (directly, or through a proxy's
//! tunnel), then the core's opening handshake ([`ClientHandshake`]: the
//! request out, the response checked, RFC 6455 §4.1), as the blocking
//! client runs it, within the same one deadline.

use std::time::{Duration, Instant};

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::task::spawn_blocking;
use ::tokio::time::timeout;

use crate::blocking::client::{ClientOptions, check_options};
use crate::blocking::proxy::{self, ProxySetting};
use crate::blocking::random::Entropy;
use crate::error::{Error, Result};
use crate::sansio::handshake::connecting::ClientHandshake;
use crate::sansio::url::Url;
use crate::tokio::websocket::WebSocket;

/// Opens a WebSocket to a `ws://` URL with the default options.
pub async fn connect(url: &str) -> Result<WebSocket> {
    connect_with(url, ClientOptions::default()).await
}

/// Opens a WebSocket to a `ws://` URL, as the blocking
/// [`connect_with`](crate::connect_with) does: `options.connect_timeout` is
/// one deadline for the whole way (the TCP connection, a proxy's tunnel,
/// the opening handshake, which `options.config.handshake_timeout` bounds
/// too). `wss://` is an [`Error::InvalidUrl`]: connect a TLS stream
/// (tokio-rustls) yourself and pass it to [`client_with_transport`].
///
/// # Proxies
///
/// With [`ClientOptions::proxy`](field@ClientOptions::proxy) set (or
/// [`ClientOptions::proxy_from_env`]), the connection goes through the
/// proxy's tunnel: HTTP `CONNECT` (RFC 9110 §9.3.6) or SOCKS5 (RFC 1928),
/// with the blocking client's rules, code and errors
/// ([`open_tunnel`](crate::open_tunnel)): the proxy is chosen, reached and
/// asked on tokio's blocking pool ([`spawn_blocking`]): one thread while
/// the tunnel opens (within the connect timeout; with none, the proxy's
/// answer is still bounded by `handshake_timeout`), and the tunnel's
/// socket is then handed to the runtime. A dropped `connect_with` leaves
/// that thread to finish on its own, within the same bounds. Without a
/// proxy nothing leaves the runtime.
pub async fn connect_with(url: &str, options: ClientOptions) -> Result<WebSocket> {
    let parsed = Url::parse(url)?;
    if parsed.secure {
        return Err(Error::InvalidUrl(
            "wss:// needs TLS, which plainws does not include: connect a TLS stream \
             with your TLS crate and pass it to plainws::tokio::client_with_transport"
                .into(),
        ));
    }
    check_options(&options)?;
    let (stream, first_bytes, deadline) = match options.proxy {
        ProxySetting::Direct => {
            let deadline = deadline_after(options.connect_timeout);
            let connecting = TcpStream::connect((parsed.host.as_str(), parsed.port));
            let stream = match deadline {
                None => connecting.await?,
                Some(at) => match timeout(remaining(at), connecting).await {
                    Ok(stream) => stream?,
                    Err(_) => return Err(Error::Timeout("TCP connect")),
                },
            };
            (stream, Vec::new(), deadline)
        }
        _ => {
            let (url, tunnel_options) = (parsed.clone(), options.clone());
            let tunnel = spawn_blocking(move || proxy::open(&url, &tunnel_options))
                .await
                .map_err(|_| Error::ConnectionFailed)??;
            tunnel.stream.set_nonblocking(true)?;
            let stream = TcpStream::from_std(tunnel.stream)?;
            (stream, tunnel.first_bytes, tunnel.deadline)
        }
    };
    handshake(stream, &parsed, options, first_bytes, deadline).await
}

/// When a timeout that starts now ends (zero: never).
fn deadline_after(limit: Duration) -> Option<Instant> {
    (!limit.is_zero()).then(|| Instant::now() + limit)
}

/// What is left until `deadline`.
fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

/// Performs the opening handshake over a stream already connected to the
/// server `url` names: a TLS stream for `wss://`, or any other
/// `AsyncRead + AsyncWrite` transport.
pub async fn client_with_transport<S>(
    stream: S,
    url: &str,
    options: ClientOptions,
) -> Result<WebSocket>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let parsed = Url::parse(url)?;
    check_options(&options)?;
    handshake(stream, &parsed, options, Vec::new(), None).await
}

/// The opening handshake over `stream`, whose first bytes, already read
/// (by a proxy's answer), are `first_bytes`; within `handshake_timeout`
/// and, when given, by `connect_deadline`.
async fn handshake<S>(
    mut stream: S,
    url: &Url,
    options: ClientOptions,
    first_bytes: Vec<u8>,
    connect_deadline: Option<Instant>,
) -> Result<WebSocket>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limit = match connect_deadline {
        Some(at) => options.config.handshake_timeout.min(remaining(at)),
        None => options.config.handshake_timeout,
    };
    // §4.1 item 7: a nonce "selected randomly for each connection". The
    // sequence (request, checks, compression, Connection) is the core's.
    let mut handshake = ClientHandshake::new(
        options.config,
        Box::new(Entropy::new()),
        Entropy::new().nonce(),
        (&url.host_header(), &url.resource),
        &options.protocols,
        &options.headers,
    );
    let exchange = async {
        stream.write_all(handshake.request()).await?;
        stream.flush().await?;
        if !first_bytes.is_empty() {
            if let Some(connected) = handshake.receive(&first_bytes)? {
                return Ok(connected);
            }
        }
        let mut chunk = vec![0u8; 4096];
        loop {
            let want = chunk.len().min(handshake.room().max(1));
            let n = stream.read(&mut chunk[..want]).await?;
            if n == 0 {
                return Err(Error::Io(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before answering the handshake",
                )));
            }
            if let Some(connected) = handshake.receive(&chunk[..n])? {
                return Ok(connected);
            }
        }
    };
    let connected = match timeout(limit, exchange).await {
        Err(_) => return Err(Error::Timeout("opening handshake")),
        Ok(result) => result?,
    };
    Ok(WebSocket::start(
        stream,
        connected.connection,
        connected.leftover,
        connected.protocol,
    ))
}
