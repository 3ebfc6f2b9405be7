//! `wss://` for plainws: a rustls session over a `TcpStream`, as a
//! `plainws::Transport` that one thread reads while others write.
//!
//! Three locks, taken in this order and never the other way round:
//! - `inbox`: ciphertext read from the socket and not yet decrypted. Only
//!   the reading thread takes it, and it holds it while blocked on the
//!   socket.
//! - `output`: the right to write to the socket, so that TLS records go
//!   out in the order they were sealed. A writer holds it while blocked on
//!   the socket (bounded by the write timeout); the reader never waits for
//!   it.
//! - `session`: the rustls state. Held only to move bytes in or out of it,
//!   never while blocked on the socket, so a blocked read never stops a
//!   write, and a blocked write never stops a read.

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use plainws::{ClientOptions, Transport, WebSocket};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig};
use rustls::{ServerConnection, crypto::ring};

/// How much ciphertext one socket read takes.
const INBOX_SIZE: usize = 16 << 10;

/// A TLS connection over TCP, usable by a plainws connection's two halves
/// at once.
pub struct TlsStream {
    tcp: TcpStream,
    inbox: Mutex<Inbox>,
    output: Mutex<Output>,
    session: Mutex<Connection>,
}

/// Ciphertext read from the socket: `buf[start..end]` is still to be
/// given to the session.
struct Inbox {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The socket reached its end of stream.
    eof: bool,
}

/// Sealed records on their way to the socket.
struct Output {
    buf: Vec<u8>,
    /// A socket write failed: part of a record may be on the wire, so
    /// nothing more can be sent.
    broken: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> io::Result<MutexGuard<'_, T>> {
    mutex
        .lock()
        .map_err(|_| io::Error::other("TLS stream lock poisoned"))
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

impl TlsStream {
    /// Runs the client side of the TLS handshake on `tcp`, all of it
    /// within `timeout`.
    pub fn connect(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        server_name: &str,
        timeout: Duration,
    ) -> io::Result<TlsStream> {
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let session = ClientConnection::new(config, name).map_err(tls_error)?;
        TlsStream::handshake(tcp, Connection::Client(session), timeout)
    }

    /// Runs the server side of the TLS handshake on an accepted `tcp`, all
    /// of it within `timeout`: a client that connects and sends nothing,
    /// or a byte at a time, is dropped at the deadline.
    pub fn accept(
        tcp: TcpStream,
        config: Arc<ServerConfig>,
        timeout: Duration,
    ) -> io::Result<TlsStream> {
        let session = ServerConnection::new(config).map_err(tls_error)?;
        TlsStream::handshake(tcp, Connection::Server(session), timeout)
    }

    fn handshake(
        tcp: TcpStream,
        mut session: Connection,
        timeout: Duration,
    ) -> io::Result<TlsStream> {
        // One deadline for the whole handshake. Each socket call is given
        // what is left of it, and the loop checks it between calls: a peer
        // that sends a byte at a time gets no more time than a silent one.
        // (rustls's `complete_io` loops inside until the handshake is
        // done, so read timeouts alone would not bound it.)
        let deadline = Instant::now() + timeout;
        let timed_out = || io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out");
        while session.is_handshaking() || session.wants_write() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(timed_out());
            }
            tcp.set_read_timeout(Some(left))?;
            tcp.set_write_timeout(Some(left))?;
            let reading = !session.wants_write();
            let io = if reading {
                session.read_tls(&mut &tcp)
            } else {
                session.write_tls(&mut &tcp)
            };
            match io {
                Ok(0) if reading => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the peer closed the connection during the TLS handshake",
                    ));
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(timed_out());
                }
                Err(e) => return Err(e),
            }
            if let Err(e) = session.process_new_packets() {
                // Tell the peer why (the alert rustls queued), then fail.
                let _ = session.write_tls(&mut &tcp);
                return Err(tls_error(e));
            }
        }
        // plainws sets its own timeouts from here on.
        tcp.set_read_timeout(None)?;
        tcp.set_write_timeout(None)?;
        Ok(TlsStream {
            tcp,
            inbox: Mutex::new(Inbox {
                buf: vec![0; INBOX_SIZE],
                start: 0,
                end: 0,
                eof: false,
            }),
            output: Mutex::new(Output {
                buf: Vec::new(),
                broken: false,
            }),
            session: Mutex::new(session),
        })
    }

    /// Seals plaintext with `seal` and writes the records, in order.
    fn seal_and_send(
        &self,
        seal: impl FnOnce(&mut Connection) -> io::Result<usize>,
    ) -> io::Result<usize> {
        let mut output = lock(&self.output)?;
        let n = self.send_records(&mut output, seal)?;
        drop(output);
        // Records the reader queued while we held the output lock.
        self.send_queued()?;
        Ok(n)
    }

    /// Under the output lock: seals (the session lock held only for that),
    /// then writes the records with the session free for the reader.
    fn send_records(
        &self,
        output: &mut Output,
        seal: impl FnOnce(&mut Connection) -> io::Result<usize>,
    ) -> io::Result<usize> {
        if output.broken {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "an earlier TLS write failed",
            ));
        }
        let n = {
            let mut session = lock(&self.session)?;
            let n = seal(&mut session)?;
            while session.wants_write() {
                session.write_tls(&mut output.buf)?;
            }
            n
        };
        let written = (&self.tcp).write_all(&output.buf);
        output.buf.clear();
        if written.is_err() {
            output.broken = true;
        }
        written.map(|()| n)
    }

    /// Sends records the session queued by itself (an alert, a key update
    /// answer, a close_notify), without ever waiting for the output lock:
    /// when another thread holds it, that thread checks for queued records
    /// after it lets go (see `seal_and_send`), so none is left behind.
    fn send_queued(&self) -> io::Result<()> {
        loop {
            let mut output = match self.output.try_lock() {
                Ok(output) => output,
                Err(TryLockError::WouldBlock) => return Ok(()),
                Err(TryLockError::Poisoned(_)) => {
                    return Err(io::Error::other("TLS stream lock poisoned"));
                }
            };
            if output.broken {
                return Ok(());
            }
            self.send_records(&mut output, |_| Ok(0))?;
            drop(output);
            if !lock(&self.session)?.wants_write() {
                return Ok(());
            }
        }
    }
}

impl Transport for TlsStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut inbox = lock(&self.inbox)?;
        loop {
            let queued = {
                let mut session = lock(&self.session)?;
                match session.reader().read(buf) {
                    Ok(n) => return Ok(n), // 0: the peer's close_notify
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    // TCP ended without close_notify: an end of stream for
                    // plainws, which then reports `AbnormalClosure` unless
                    // the close handshake was complete.
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                    Err(e) => return Err(e),
                }
                if inbox.start < inbox.end {
                    let mut pending = &inbox.buf[inbox.start..inbox.end];
                    let taken = session.read_tls(&mut pending)?;
                    inbox.start += taken;
                } else if inbox.eof {
                    // Told the session already, and it had nothing more.
                    return Ok(0);
                } else {
                    // Nothing to decrypt: wait for the socket, below.
                    drop(session);
                    let n = Read::read(&mut &self.tcp, &mut inbox.buf)?;
                    (inbox.start, inbox.end) = (0, n);
                    if n == 0 {
                        inbox.eof = true;
                        // An empty read tells the session the stream ended.
                        lock(&self.session)?.read_tls(&mut io::empty())?;
                    }
                    continue;
                }
                if let Err(e) = session.process_new_packets() {
                    // rustls queued an alert for the peer: try to send it.
                    drop(session);
                    let _ = self.send_queued();
                    return Err(tls_error(e));
                }
                session.wants_write()
            };
            if queued {
                self.send_queued()?;
            }
        }
    }

    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.seal_and_send(|session| session.writer().write(buf))
    }

    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.seal_and_send(|session| session.writer().write_vectored(bufs))
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        if how == Shutdown::Write {
            // The orderly end (after the close handshake): close_notify
            // first, so the peer sees a clean end of the TLS stream.
            lock(&self.session)?.send_close_notify();
            let _ = self.send_queued();
        }
        // Both: an abortive end, which must wake a blocked read at once,
        // so it waits for nothing.
        self.tcp.shutdown(how)
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_read_timeout(timeout)
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.tcp.set_write_timeout(timeout)
    }

    fn wait_readable(&self) -> io::Result<()> {
        {
            let inbox = lock(&self.inbox)?;
            if inbox.start < inbox.end || inbox.eof {
                return Ok(());
            }
            let mut session = lock(&self.session)?;
            let state = session.process_new_packets().map_err(tls_error)?;
            if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() {
                return Ok(());
            }
        }
        // Like TcpStream: wait for bytes without taking them.
        self.tcp.peek(&mut [0u8; 1]).map(|_| ())
    }

    fn set_nodelay(&self) -> io::Result<()> {
        self.tcp.set_nodelay(true)
    }
}

fn invalid_data(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// A server configuration from PEM files: the certificate chain (leaf
/// first) and its private key (PKCS #8, PKCS #1 or SEC1).
pub fn server_config(cert_chain: &Path, private_key: &Path) -> io::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert_chain)
        .map_err(invalid_data)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(invalid_data)?;
    let key = PrivateKeyDer::from_pem_file(private_key).map_err(invalid_data)?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(tls_error)?;
    Ok(Arc::new(config))
}

/// A client configuration that trusts the CA certificates of a PEM file
/// (a private CA, or a self-signed server certificate).
pub fn client_config(ca_certs: &Path) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_certs).map_err(invalid_data)? {
        roots.add(cert.map_err(invalid_data)?).map_err(tls_error)?;
    }
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Opens `wss://host:port/resource`, directly or through the proxy
/// `options.proxy` names (HTTP CONNECT or SOCKS5: `plainws::open_tunnel`),
/// all within `options.connect_timeout` (zero: no overall limit): TCP and
/// the proxy's handshake, then TLS and plainws's handshake, each also
/// within `options.config.handshake_timeout`. `host` is also the name the
/// certificate must carry.
pub fn connect(
    host: &str,
    port: u16,
    resource: &str,
    tls: Arc<ClientConfig>,
    mut options: ClientOptions,
) -> plainws::Result<WebSocket> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let url = format!("wss://{authority}{resource}");
    let tunnel = plainws::open_tunnel(&url, &options)?;
    // A TLS client speaks first: bytes from the server before its
    // ClientHello are not TLS.
    if !tunnel.first_bytes.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the server sent bytes before the TLS handshake",
        )
        .into());
    }
    // What is left of the connect timeout bounds the rest too.
    let deadline = tunnel.deadline;
    let left = |limit: Duration| {
        deadline.map_or(limit, |d| {
            d.saturating_duration_since(Instant::now()).min(limit)
        })
    };
    let handshake_timeout = options.config.handshake_timeout;
    let stream = TlsStream::connect(tunnel.stream, tls, host, left(handshake_timeout))?;
    options.config.handshake_timeout = left(handshake_timeout);
    plainws::client_with_transport(stream, &url, options)
}
