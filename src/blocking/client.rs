//! The client side of a connection: connect, send the opening handshake,
//! check the answer (RFC 6455 §4.1).
//!
//! [`connect`] and [`connect_with`] open a TCP connection themselves.
//! TLS (`wss://`) is not built in: connect a TLS stream with the TLS crate
//! of your choice, implement [`Transport`] for it, and hand it to
//! [`client_with_transport`]. The repository's `docs/tls.md` has an
//! adapter for rustls.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::blocking::proxy::{self, ProxySetting};
use crate::blocking::random::Entropy;
use crate::blocking::transport::{Transport, write_all};
use crate::blocking::websocket::{WebSocket, read_some};
use crate::error::{Error, Result};
use crate::sansio::config::Config;
use crate::sansio::handshake::connecting::ClientHandshake;
use crate::sansio::handshake::http::is_token;
use crate::sansio::url::Url;

/// Headers the handshake writes itself; an extra header may not repeat them.
const HANDSHAKE_HEADERS: [&str; 7] = [
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// How a client connects, besides the connection's [`Config`].
///
/// Build it from [`ClientOptions::default`] with the setters, each named
/// after its field (or assign the public fields):
///
/// ```
/// use std::time::Duration;
/// use plainws::{ClientOptions, Config};
///
/// let options = ClientOptions::default()
///     .config(Config::default().max_message_size(1 << 20))
///     .header("Origin", "https://example.com")
///     .protocols(["chat.v2", "chat.v1"])
///     .connect_timeout(Duration::from_secs(3));
/// assert_eq!(options.protocols, ["chat.v2", "chat.v1"]);
/// ```
///
/// # Connecting
///
/// [`connect_with`] takes the options: here with an `Authorization`
/// header, two subprotocols offered, a 3-second connect timeout and a
/// smaller message limit, against a server on this machine.
///
/// ```
/// use std::net::TcpListener;
/// use std::time::Duration;
/// use plainws::{Accept, ClientOptions, CloseCode, Config, Message};
///
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let url = format!("ws://{}/feed", listener.local_addr()?);
/// std::thread::spawn(move || -> plainws::Result<()> {
///     let (stream, _) = listener.accept()?;
///     let mut ws = plainws::accept_with(stream, Config::default(), |request| {
///         assert_eq!(request.header("Authorization"), Some("Bearer let-me-in"));
///         Ok(Accept::default().protocol("feed.v1"))
///     })?;
///     ws.send_text("tick")?;
///     while !matches!(ws.recv()?, Message::Close(_)) {}
///     Ok(())
/// });
///
/// let options = ClientOptions::default()
///     .config(Config::default().max_message_size(1 << 20))
///     .header("Authorization", "Bearer let-me-in")
///     .protocols(["feed.v2", "feed.v1"])
///     .connect_timeout(Duration::from_secs(3));
/// let mut ws = plainws::connect_with(&url, options)?;
/// assert_eq!(ws.protocol(), Some("feed.v1")); // the server's choice
/// assert_eq!(ws.recv()?, Message::Text("tick".into()));
/// ws.close(CloseCode::NORMAL, "done")?;
/// while !matches!(ws.recv()?, Message::Close(_)) {}
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Through a proxy
///
/// An HTTP proxy that opens tunnels with `CONNECT`, or a SOCKS5 proxy,
/// with or without a user name and password in its URL. The proxy's
/// errors are their own variants ([`Error::ProxyRefused`] with the status
/// and, for a 407, the schemes asked for; [`Error::ProxyAuthFailed`],
/// [`Error::ProxyTargetUnreachable`], [`Error::ProxyUnreachable`], ...),
/// and none of them shows the credentials.
///
/// ```no_run
/// use plainws::{ClientOptions, Error, Proxy};
///
/// let proxy = Proxy::parse("http://alice:secret@proxy.corp.example:3128")?;
/// let options = ClientOptions::default().proxy(proxy);
/// match plainws::connect_with("ws://echo.example/feed", options) {
///     Ok(ws) => drop(ws),
///     Err(Error::ProxyRefused { status: 407, authenticate, .. }) => {
///         eprintln!("the proxy wants {authenticate:?} credentials")
///     }
///     Err(e) => eprintln!("{e}"),
/// }
///
/// // Or as curl does: HTTP_PROXY / HTTPS_PROXY / ALL_PROXY and NO_PROXY,
/// // read when connecting (and only when asked).
/// let options = ClientOptions::default().proxy_from_env();
/// let ws = plainws::connect_with("ws://echo.example/feed", options)?;
/// # Ok::<(), plainws::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Settings for the connection. `handshake_timeout` bounds the wait
    /// for the server's whole response; `max_handshake_bytes` and
    /// `max_headers` bound its size.
    pub config: Config,
    /// Extra request headers, such as `Origin`, `Authorization` or
    /// `Cookie`. The handshake's own headers may not be among them.
    /// Default: none.
    pub headers: Vec<(String, String)>,
    /// Subprotocols to offer, in order of preference (§4.1 item 10); the
    /// server's choice is [`WebSocket::protocol`]. Default: none.
    pub protocols: Vec<String>,
    /// One deadline for the whole way to an open WebSocket, from the
    /// call: the TCP connection (to the server or the proxy, each resolved
    /// address in turn), the proxy's handshake, and the WebSocket
    /// handshake, which `config.handshake_timeout` also bounds (zero: no
    /// deadline; the system's own limit for TCP). Default: 10 s.
    pub connect_timeout: Duration,
    /// Whether to go through a proxy: [`ProxySetting::Direct`] (the
    /// default; the environment is not read), a [`Proxy`](crate::Proxy), or
    /// [`ProxySetting::Environment`] ([`ClientOptions::proxy_from_env`]).
    /// [Example](ClientOptions#through-a-proxy).
    pub proxy: ProxySetting,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            config: Config::default(),
            headers: Vec::new(),
            protocols: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            proxy: ProxySetting::Direct,
        }
    }
}

impl ClientOptions {
    /// Sets [`config`](field@ClientOptions::config) (default:
    /// [`Config::default`]).
    #[must_use]
    pub fn config(mut self, config: Config) -> ClientOptions {
        self.config = config;
        self
    }

    /// Adds a header to [`headers`](field@ClientOptions::headers) (default:
    /// none).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> ClientOptions {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets [`protocols`](field@ClientOptions::protocols), in order of
    /// preference (default: none).
    #[must_use]
    pub fn protocols<S: Into<String>>(
        mut self,
        protocols: impl IntoIterator<Item = S>,
    ) -> ClientOptions {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets [`connect_timeout`](field@ClientOptions::connect_timeout)
    /// (default: 10 s).
    #[must_use]
    pub fn connect_timeout(mut self, connect_timeout: Duration) -> ClientOptions {
        self.connect_timeout = connect_timeout;
        self
    }

    /// Sets [`proxy`](field@ClientOptions::proxy): a [`Proxy`](crate::Proxy) to go
    /// through, or a [`ProxySetting`] (default: direct).
    #[must_use]
    pub fn proxy(mut self, proxy: impl Into<ProxySetting>) -> ClientOptions {
        self.proxy = proxy.into();
        self
    }

    /// Takes the proxy from the environment when connecting, as curl and
    /// python-websockets do: `https_proxy` / `HTTPS_PROXY` for `wss://`,
    /// `http_proxy` / `HTTP_PROXY` for `ws://`, else `all_proxy` /
    /// `ALL_PROXY` (lower case first; an empty value counts as unset),
    /// and none for a host that `no_proxy` / `NO_PROXY` lists (names,
    /// domain suffixes, IP addresses, CIDR ranges, `*`:
    /// [`NoProxy`](crate::sansio::proxy::env::NoProxy)). Without this call
    /// plainws reads no environment variable.
    #[must_use]
    pub fn proxy_from_env(mut self) -> ClientOptions {
        self.proxy = ProxySetting::Environment;
        self
    }
}

/// Opens a WebSocket to a `ws://` URL with the default options.
///
/// ```no_run
/// let mut ws = plainws::connect("ws://127.0.0.1:1235/echo")?;
/// ws.send_text(r#"{"cmd": "hello"}"#)?;
/// println!("{:?}", ws.recv()?);
/// # Ok::<(), plainws::Error>(())
/// ```
pub fn connect(url: &str) -> Result<WebSocket> {
    connect_with(url, ClientOptions::default())
}

/// Opens a WebSocket to a `ws://` URL: connects over TCP (directly or
/// through [`options.proxy`](field@ClientOptions::proxy)), then performs
/// the opening handshake, all within `options.connect_timeout`.
///
/// A `wss://` URL is an [`Error::InvalidUrl`]: TLS is not built in (see
/// [`client_with_transport`]). A status other than 101 is
/// [`Error::HandshakeRefused`] with the status line; redirects are not
/// followed. [`ClientOptions`] has [an example](ClientOptions#connecting).
pub fn connect_with(url: &str, options: ClientOptions) -> Result<WebSocket> {
    let parsed = Url::parse(url)?;
    if parsed.secure {
        return Err(Error::InvalidUrl(
            "wss:// needs TLS, which plainws does not include: connect a TLS stream \
             with your TLS crate (over plainws::open_tunnel to go through a proxy) \
             and pass it to plainws::client_with_transport"
                .into(),
        ));
    }
    check_options(&options)?;
    let tunnel = proxy::open(&parsed, &options)?;
    let deadline = tunnel.deadline;
    handshake(proxy::into_transport(tunnel), &parsed, options, deadline)
}

/// Performs the opening handshake over a stream that is already connected
/// to the server `url` names: a TLS stream for `wss://`, or any other
/// [`Transport`]. The URL gives the `Host` header and the resource; its
/// scheme only sets the default port.
pub fn client_with_transport<S: Transport>(
    stream: S,
    url: &str,
    options: ClientOptions,
) -> Result<WebSocket> {
    let parsed = Url::parse(url)?;
    check_options(&options)?;
    handshake(Arc::new(stream), &parsed, options, None)
}

/// Sends the request, reads the response within one deadline, checks it,
/// and hands the bytes that followed it (the server's first frames) to the
/// connection.
/// `connect_deadline`, when given, ends it earlier (the connect timeout).
fn handshake(
    stream: Arc<dyn Transport>,
    url: &Url,
    options: ClientOptions,
    connect_deadline: Option<Instant>,
) -> Result<WebSocket> {
    let config = options.config;
    stream.set_nodelay()?;
    stream.set_write_timeout(Some(config.write_timeout).filter(|t| !t.is_zero()))?;
    let deadline = Instant::now() + config.handshake_timeout;
    let deadline = connect_deadline.map_or(deadline, |d| d.min(deadline));
    // §4.1 item 7: "a nonce consisting of a randomly selected 16-byte
    // value", "selected randomly for each connection". The sequence
    // (request, checks, compression, Connection) is the core's.
    let mut handshake = ClientHandshake::new(
        config,
        Box::new(Entropy::new()),
        Entropy::new().nonce(),
        (&url.host_header(), &url.resource),
        &options.protocols,
        &options.headers,
    );
    write_all(stream.as_ref(), handshake.request())?;
    let mut chunk = vec![0u8; 4096];
    let connected = loop {
        let want = chunk.len().min(handshake.room());
        let n = match read_some(stream.as_ref(), &mut chunk[..want], deadline) {
            Ok(n) => n,
            Err(Error::AbnormalClosure) => {
                return Err(Error::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before answering the handshake",
                )));
            }
            Err(e) => return Err(e),
        };
        if let Some(connected) = handshake.receive(&chunk[..n])? {
            break connected;
        }
    };
    WebSocket::from_upgraded(
        stream,
        connected.connection,
        &connected.leftover,
        connected.protocol,
    )
}

/// Refuses options that would make a malformed or ambiguous request.
pub(crate) fn check_options(options: &ClientOptions) -> Result<()> {
    for (name, value) in &options.headers {
        if !is_token(name) {
            return Err(Error::InvalidHeader("extra header name is not a token"));
        }
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7F) {
            return Err(Error::InvalidHeader(
                "extra header value has a control character",
            ));
        }
        if HANDSHAKE_HEADERS
            .iter()
            .any(|own| own.eq_ignore_ascii_case(name))
        {
            return Err(Error::InvalidHeader(
                "extra headers may not repeat the handshake's own headers",
            ));
        }
    }
    // §4.1 item 10: each subprotocol is a token, and "unique".
    for (i, protocol) in options.protocols.iter().enumerate() {
        if !is_token(protocol) {
            return Err(Error::InvalidHeader("subprotocol is not a token"));
        }
        if options.protocols[..i].contains(protocol) {
            return Err(Error::InvalidHeader("subprotocol offered twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, value: &str) -> ClientOptions {
        ClientOptions::default().header(name, value)
    }

    #[test]
    fn refuses_headers_that_would_break_the_request() {
        assert!(check_options(&header("Origin", "http://a")).is_ok());
        for (name, value) in [
            ("Bad Name", "x"),
            ("X", "a\r\nInjected: yes"),
            ("host", "other"),
            ("Sec-WebSocket-Key", "x"),
        ] {
            assert!(
                matches!(
                    check_options(&header(name, value)),
                    Err(Error::InvalidHeader(_))
                ),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn header_adds_and_protocols_replaces() {
        let options = ClientOptions::default()
            .header("A", "1")
            .header("B", String::from("2"))
            .protocols(["x"])
            .protocols(vec![String::from("y"), String::from("z")]);
        assert_eq!(
            options.headers,
            [
                ("A".to_owned(), "1".to_owned()),
                ("B".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(options.protocols, ["y", "z"]);
    }

    #[test]
    fn refuses_bad_or_repeated_subprotocols() {
        let offer =
            |protocols: &[&str]| ClientOptions::default().protocols(protocols.iter().copied());
        assert!(check_options(&offer(&["chat", "superchat"])).is_ok());
        assert!(check_options(&offer(&["chat", "chat"])).is_err());
        assert!(check_options(&offer(&["two words"])).is_err());
        assert!(check_options(&offer(&[""])).is_err());
    }

    #[test]
    fn wss_is_refused_with_a_pointer_to_tls() {
        match connect("wss://127.0.0.1:1/") {
            Err(Error::InvalidUrl(why)) => {
                assert!(why.contains("TLS") && why.contains("client_with_transport"))
            }
            other => panic!("{other:?}"),
        }
    }
}
