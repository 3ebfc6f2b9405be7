//! The client side on tokio: connect, then the core's opening handshake
//! ([`ClientHandshake`]: the request out, the response checked, RFC 6455
//! §4.1), as the blocking client runs it.

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::time::timeout;

use crate::blocking::client::{ClientOptions, check_options};
use crate::blocking::proxy::ProxySetting;
use crate::blocking::random::Entropy;
use crate::error::{Error, Result};
use crate::sansio::handshake::connecting::ClientHandshake;
use crate::sansio::url::Url;
use crate::tokio::websocket::WebSocket;

/// Opens a WebSocket to a `ws://` URL with the default options.
pub async fn connect(url: &str) -> Result<WebSocket> {
    connect_with(url, ClientOptions::default()).await
}

/// Opens a WebSocket to a `ws://` URL: connects over TCP within
/// `options.connect_timeout`, then performs the opening handshake within
/// `options.config.handshake_timeout`. `wss://` is an
/// [`Error::InvalidUrl`]: connect a TLS stream (tokio-rustls) yourself and
/// pass it to [`client_with_transport`]. A proxy in `options` is refused
/// with [`Error::NotAllowed`] (nothing is sent): this driver does not open
/// proxy tunnels yet.
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
    if !matches!(options.proxy, ProxySetting::Direct) {
        // Never connect directly when a proxy was asked for.
        return Err(Error::NotAllowed(
            "the tokio driver does not open proxy tunnels yet: connect through the \
             proxy yourself and pass the stream to plainws::tokio::client_with_transport",
        ));
    }
    let connecting = TcpStream::connect((parsed.host.as_str(), parsed.port));
    let stream = if options.connect_timeout.is_zero() {
        connecting.await?
    } else {
        match timeout(options.connect_timeout, connecting).await {
            Ok(stream) => stream?,
            Err(_) => return Err(Error::Timeout("TCP connect")),
        }
    };
    handshake(stream, &parsed, options).await
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
    handshake(stream, &parsed, options).await
}

async fn handshake<S>(mut stream: S, url: &Url, options: ClientOptions) -> Result<WebSocket>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let limit = options.config.handshake_timeout;
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
