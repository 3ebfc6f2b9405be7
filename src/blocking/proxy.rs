//! The client's way out: TCP to the server, or to a proxy and through its
//! tunnel, all within one deadline. The handshakes themselves are the
//! core's ([`crate::sansio::proxy`]); this file only moves their bytes.

use std::io;
use std::net::{IpAddr, Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::blocking::client::ClientOptions;
use crate::blocking::transport::{Transport, write_all};
use crate::error::{Error, Result};
use crate::sansio::config::Config;
use crate::sansio::proxy::http_connect::{ConnectResponse, connect_request};
use crate::sansio::proxy::socks5::Socks5;
use crate::sansio::proxy::{Established, Proxy, ProxyKind, Target, env};
use crate::sansio::url::Url;

/// Whether and how a client goes through a proxy
/// ([`ClientOptions::proxy`](field@ClientOptions::proxy)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxySetting {
    /// Connect to the server directly (the default). Nothing is read from
    /// the environment.
    #[default]
    Direct,
    /// Always through this proxy.
    Proxy(Proxy),
    /// Through the proxy the environment names for each URL, read when
    /// connecting: `https_proxy`/`HTTPS_PROXY` for `wss://`,
    /// `http_proxy`/`HTTP_PROXY` for `ws://`, then `all_proxy`/`ALL_PROXY`
    /// (lower case first, empty values unset), except for the hosts
    /// `no_proxy`/`NO_PROXY` lists ([`NoProxy`](crate::sansio::proxy::env::NoProxy)).
    /// Set by [`ClientOptions::proxy_from_env`].
    Environment,
}

impl From<Proxy> for ProxySetting {
    fn from(proxy: Proxy) -> ProxySetting {
        ProxySetting::Proxy(proxy)
    }
}

/// A TCP connection on its way to a WebSocket server: connected to the
/// server itself, or to a proxy whose tunnel to the server is open.
/// Made by [`open_tunnel`], for a transport of your own on top (TLS for
/// `wss://`).
#[derive(Debug)]
#[non_exhaustive]
pub struct Tunnel {
    /// The stream: bytes written go to the server.
    pub stream: TcpStream,
    /// Bytes the proxy passed on from the server along with its own
    /// answer: the first bytes of the stream, to read before reading it.
    /// Empty unless the server spoke first (a WebSocket or TLS server
    /// never does).
    pub first_bytes: Vec<u8>,
    /// The proxy the stream goes through, if any (`scheme://host:port`,
    /// no credentials).
    pub proxy: Option<Proxy>,
    /// When the connect timeout ends, if there is one: what follows (a
    /// TLS handshake, the WebSocket handshake) should end by then too.
    pub deadline: Option<Instant>,
}

impl Tunnel {
    /// What is left of the connect timeout (`None`: no deadline).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|deadline| deadline.saturating_duration_since(Instant::now()))
    }
}

/// Opens the TCP connection a client needs for `url`, within
/// `options.connect_timeout`: to the server, or to the proxy
/// [`options.proxy`](field@ClientOptions::proxy) names and through its
/// tunnel (HTTP `CONNECT`, RFC 9110 §9.3.6; SOCKS5, RFC 1928).
/// [`connect_with`](crate::connect_with) does this for `ws://`; for
/// `wss://`, run a TLS handshake over [`Tunnel::stream`] and pass the TLS
/// stream to [`client_with_transport`](crate::client_with_transport)
/// (`docs/tls.md` does it).
///
/// Errors: [`Error::ProxyUnreachable`], [`Error::ProxyRefused`],
/// [`Error::ProxyAuthFailed`], [`Error::ProxyTargetUnreachable`],
/// [`Error::ProxyClosed`], [`Error::InvalidProxyResponse`],
/// [`Error::InvalidProxyUrl`] (a bad setting in the environment),
/// [`Error::Timeout`] (`"TCP connect"`, `"TCP connect to the proxy"`,
/// `"proxy handshake"`), and for a direct connection [`Error::Io`]. None
/// of them, and nothing this function logs, holds the proxy's
/// credentials.
pub fn open_tunnel(url: &str, options: &ClientOptions) -> Result<Tunnel> {
    let parsed = Url::parse(url)?;
    open(&parsed, options)
}

/// [`open_tunnel`] for a parsed URL.
pub(crate) fn open(url: &Url, options: &ClientOptions) -> Result<Tunnel> {
    let deadline = Some(options.connect_timeout)
        .filter(|t| !t.is_zero())
        .map(|timeout| Instant::now() + timeout);
    let proxy = match &options.proxy {
        ProxySetting::Direct => None,
        ProxySetting::Proxy(proxy) => Some(proxy.clone()),
        ProxySetting::Environment => {
            env::proxy_for(url.secure, &url.host, |name| std::env::var(name).ok())?
        }
    };
    let Some(proxy) = proxy else {
        let stream = connect_tcp(&url.host, url.port, deadline).map_err(|e| match e {
            ConnectError::Resolve(e) => e,
            ConnectError::TimedOut => Error::Timeout("TCP connect"),
            ConnectError::Io(e) => Error::Io(e),
        })?;
        return Ok(Tunnel {
            stream,
            first_bytes: Vec::new(),
            proxy: None,
            deadline,
        });
    };
    let stream = connect_tcp(proxy.host(), proxy.port(), deadline).map_err(|e| match e {
        ConnectError::Resolve(Error::Io(error)) | ConnectError::Io(error) => {
            Error::ProxyUnreachable {
                proxy: proxy.to_string(),
                error,
            }
        }
        ConnectError::Resolve(_) => Error::ProxyUnreachable {
            proxy: proxy.to_string(),
            error: io::Error::new(io::ErrorKind::NotFound, "its name resolves to no address"),
        },
        ConnectError::TimedOut => Error::Timeout("TCP connect to the proxy"),
    })?;
    // The proxy's answer is bounded like the server's: by the handshake
    // timeout, and by what is left of the connect timeout.
    let handshake_deadline = Instant::now() + options.config.handshake_timeout;
    let handshake_deadline = deadline.map_or(handshake_deadline, |d| d.min(handshake_deadline));
    let target = match proxy.kind() {
        // socks5://: "the client resolves the name" and sends an address.
        ProxyKind::Socks5 => Target::Ip(resolve(&url.host, url.port)?, url.port),
        _ => Target::from_host(&url.host, url.port),
    };
    let established = run_handshake(&stream, &proxy, target, &options.config, handshake_deadline);
    match established {
        Ok(established) => Ok(Tunnel {
            stream,
            first_bytes: established.tunnel_bytes,
            proxy: Some(proxy),
            deadline,
        }),
        Err(e) => {
            let _ = stream.shutdown(Shutdown::Both);
            Err(e)
        }
    }
}

/// The stream a connection runs over: the tunnel's stream, with the
/// tunnel's first bytes in front when there are any.
pub(crate) fn into_transport(tunnel: Tunnel) -> std::sync::Arc<dyn Transport> {
    if tunnel.first_bytes.is_empty() {
        std::sync::Arc::new(tunnel.stream)
    } else {
        std::sync::Arc::new(Prefixed {
            drained: AtomicBool::new(false),
            prefix: Mutex::new(tunnel.first_bytes),
            stream: tunnel.stream,
        })
    }
}

/// Runs the proxy's handshake on `stream` until the tunnel is open.
fn run_handshake(
    stream: &TcpStream,
    proxy: &Proxy,
    target: Target,
    config: &Config,
    deadline: Instant,
) -> Result<Established> {
    stream.set_nodelay(true)?;
    let credentials = proxy.credentials();
    let mut buf = vec![0u8; 4096];
    match proxy.kind() {
        ProxyKind::HttpConnect => {
            let request = connect_request(&target, credentials)?;
            send(stream, &request, deadline)?;
            let mut response = ConnectResponse::new(
                config.max_handshake_bytes,
                config.max_headers,
                credentials.is_some(),
            );
            loop {
                let want = buf.len().min(response.room());
                let n = receive(
                    stream,
                    &mut buf[..want],
                    deadline,
                    "before its CONNECT answer",
                )?;
                if let Some(established) = response.receive(&buf[..n])? {
                    return Ok(established);
                }
            }
        }
        ProxyKind::Socks5 | ProxyKind::Socks5h => {
            let mut socks = Socks5::new(target, credentials)?;
            let mut out = Vec::new();
            loop {
                out.clear();
                socks.take_data_to_send(&mut out);
                if !out.is_empty() {
                    send(stream, &out, deadline)?;
                    // The password is not kept around longer than needed.
                    out.fill(0);
                }
                let n = receive(
                    stream,
                    &mut buf,
                    deadline,
                    "in the middle of the SOCKS5 handshake",
                )?;
                if let Some(established) = socks.receive(&buf[..n])? {
                    return Ok(established);
                }
            }
        }
    }
}

/// Writes `bytes` to the proxy before `deadline`.
fn send(stream: &TcpStream, bytes: &[u8], deadline: Instant) -> Result<()> {
    let left = left(deadline)?;
    stream.set_write_timeout(Some(left))?;
    write_all(stream, bytes).map_err(|e| proxy_io(e, "before taking the whole request"))
}

/// Reads some bytes from the proxy before `deadline`.
fn receive(
    stream: &TcpStream,
    buf: &mut [u8],
    deadline: Instant,
    when: &'static str,
) -> Result<usize> {
    loop {
        let left = left(deadline)?;
        stream.set_read_timeout(Some(left))?;
        match Transport::read(stream, buf) {
            Ok(0) => return Err(Error::ProxyClosed(when)),
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(proxy_io(e, when)),
        }
    }
}

fn left(deadline: Instant) -> Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Error::Timeout("proxy handshake"));
    }
    Ok(left)
}

/// An I/O error with the proxy, as the error a caller can match.
fn proxy_io(e: io::Error, when: &'static str) -> Error {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout("proxy handshake"),
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => Error::ProxyClosed(when),
        _ => Error::Io(e),
    }
}

/// Why a TCP connection could not be made.
enum ConnectError {
    /// The name did not resolve (an [`Error::Io`]) or to no address.
    Resolve(Error),
    TimedOut,
    Io(io::Error),
}

/// Tries each address `host` resolves to, in order, before `deadline`.
fn connect_tcp(
    host: &str,
    port: u16,
    deadline: Option<Instant>,
) -> std::result::Result<TcpStream, ConnectError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| ConnectError::Resolve(Error::Io(e)))?
        .collect();
    let mut last_error = None;
    for addr in addrs {
        let attempt = match deadline {
            None => TcpStream::connect(addr),
            Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => TcpStream::connect_timeout(&addr, left),
                _ => return Err(ConnectError::TimedOut),
            },
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) if e.kind() == io::ErrorKind::TimedOut => ConnectError::TimedOut,
        Some(e) => ConnectError::Io(e),
        None => ConnectError::Resolve(Error::InvalidUrl(format!("{host} resolves to no address"))),
    })
}

/// The first address `host` resolves to, for `socks5://`.
fn resolve(host: &str, port: u16) -> Result<IpAddr> {
    (host, port)
        .to_socket_addrs()?
        .next()
        .map(|addr| addr.ip())
        .ok_or_else(|| Error::InvalidUrl(format!("{host} resolves to no address")))
}

/// A stream with bytes already received in front of it.
struct Prefixed {
    /// Set once `prefix` is empty: reads then go straight to the stream.
    drained: AtomicBool,
    prefix: Mutex<Vec<u8>>,
    stream: TcpStream,
}

impl Transport for Prefixed {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if !self.drained.load(Ordering::Acquire) {
            let mut prefix = self
                .prefix
                .lock()
                .map_err(|_| io::Error::other("tunnel prefix lock poisoned"))?;
            if !prefix.is_empty() {
                let n = buf.len().min(prefix.len());
                buf[..n].copy_from_slice(&prefix[..n]);
                prefix.drain(..n);
                if prefix.is_empty() {
                    self.drained.store(true, Ordering::Release);
                }
                return Ok(n);
            }
        }
        Transport::read(&self.stream, buf)
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Transport::write(&self.stream, buf)
    }

    fn write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        Transport::write_vectored(&self.stream, bufs)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.stream.shutdown(how)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream.set_write_timeout(timeout)
    }

    fn wait_readable(&self) -> io::Result<()> {
        if !self.drained.load(Ordering::Acquire) {
            return Ok(());
        }
        Transport::wait_readable(&self.stream)
    }

    fn set_nodelay(&self) -> io::Result<()> {
        self.stream.set_nodelay(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::net::TcpListener;

    #[test]
    fn first_bytes_are_read_before_the_stream() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        server.write_all(b"later").unwrap();
        let transport = into_transport(Tunnel {
            stream,
            first_bytes: b"first".to_vec(),
            proxy: None,
            deadline: None,
        });
        let mut buf = [0u8; 3];
        let mut got = Vec::new();
        while got.len() < 10 {
            transport.wait_readable().unwrap();
            let n = transport.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"firstlater");
    }

    #[test]
    fn the_setting_defaults_to_direct_and_debug_hides_credentials() {
        assert_eq!(ClientOptions::default().proxy, ProxySetting::Direct);
        let proxy = Proxy::parse("socks5h://alice:hunter2@127.0.0.1:1080").unwrap();
        let options = ClientOptions::default().proxy(proxy);
        let debug = format!("{options:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("alice"),
            "{debug}"
        );
        assert!(debug.contains("127.0.0.1"), "{debug}");
    }
}
