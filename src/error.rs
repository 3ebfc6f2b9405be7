//! The crate's one error type.
//!
//! Every variant names one violation or one way a connection can end. A
//! protocol violation knows the close code it is answered with
//! ([`Error::close_code`], RFC 6455 §7.4.1); a handshake failure knows the
//! HTTP status a server answers it with ([`Error::http_status`]).

use alloc::string::String;
use core::fmt;
#[cfg(feature = "std")]
use std::io;

use crate::sansio::close::CloseCode;

/// Everything that can go wrong in plainws.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    // ----- I/O and connection state -----
    /// The underlying stream failed.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    Io(io::Error),
    /// The connection ended normally: the close handshake finished, or the
    /// peer closed it. Receiving after this returns the same error.
    ConnectionClosed,
    /// The application tried to send after a Close frame was sent
    /// (RFC 6455 §5.5.1: no data frame may follow a Close). A programming
    /// error, kept apart from [`Error::ConnectionClosed`].
    AlreadyClosed,
    /// A previous write failed or timed out, so the stream may hold half a
    /// frame: the connection is unusable and every sender gets this error.
    ConnectionFailed,
    /// The peer closed the TCP connection without a close handshake
    /// (RFC 6455 §7.1.5: the close code is then 1006).
    AbnormalClosure,
    /// A read or write did not complete within its timeout.
    Timeout(&'static str),

    // ----- The caller's misuse: refused, nothing sent, no close code -----
    /// A Ping, Pong or Close payload over 125 bytes (RFC 6455 §5.5): the
    /// call was refused and the connection is unaffected.
    ControlPayloadTooLong(usize),
    /// A close code that may not be sent: 1004, 1005, 1006, 1015 and the
    /// rest of 0–2999 outside 1000–1003 and 1007–1014 (RFC 6455 §7.4).
    UnsendableCloseCode(u16),
    /// A continuation frame sent with no fragmented message open (§5.4).
    NoMessageToContinue,
    /// A new data message started, by the same thread, while its own
    /// fragmented message is unfinished (§5.4: fragments of one message
    /// may not be interleaved with another).
    MessageInProgress,
    /// A call this connection cannot make; the text says why (for example
    /// an unmasked payload from a client, RFC 6455 §5.1, or a control
    /// opcode given to `send_fragment`).
    NotAllowed(&'static str),

    // ----- Frame violations: close code 1002 (RFC 6455 §5.2) -----
    /// RSV1, RSV2 or RSV3 set without a negotiated extension.
    ReservedBitsSet,
    /// Opcode 0x3–0x7 or 0xB–0xF.
    ReservedOpcode(u8),
    /// A control frame with FIN clear (§5.5).
    FragmentedControlFrame,
    /// A control frame whose payload is over 125 bytes (§5.5).
    ControlFrameTooLong(u64),
    /// A 64-bit payload length with its most significant bit set (§5.2).
    InvalidPayloadLength,
    /// A client sent an unmasked frame (§5.1).
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    MaskedFrame,
    /// A continuation frame with no fragmented message to continue (§5.4).
    UnexpectedContinuation,
    /// A new Text or Binary frame while a fragmented message is unfinished (§5.4).
    ExpectedContinuation,
    /// A Close frame with a one-byte payload (§5.5.1).
    InvalidClosePayload,
    /// A Close frame with a status code that may not be sent (§7.4).
    InvalidCloseCode(u16),

    // ----- Data violations: close code 1007 (RFC 6455 §8.1) -----
    /// A Text message or a close reason that is not UTF-8.
    InvalidUtf8,
    /// A compressed message (RFC 7692 §7.2.2) that is not valid DEFLATE
    /// data (RFC 1951); the text says which rule it breaks.
    InvalidCompressedData(&'static str),

    // ----- Limits: close code 1009 -----
    /// A frame longer than [`Config::max_frame_size`](field@crate::Config::max_frame_size).
    FrameTooLarge {
        /// Declared payload length.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A message longer than [`Config::max_message_size`](field@crate::Config::max_message_size), counted across fragments.
    MessageTooLarge {
        /// Length the message would reach.
        len: u64,
        /// The configured limit.
        limit: u64,
    },
    /// More fragments in one message than [`Config::max_fragments`](field@crate::Config::max_fragments).
    TooManyFragments(usize),
    /// A message's buffer could not grow by this many bytes: the process
    /// is out of memory. The connection fails with 1009 (too big to
    /// process); the process goes on.
    OutOfMemory(usize),

    // ----- Keepalive: close code 1011 -----
    /// A keepalive Ping was not answered within its timeout.
    PongTimeout,

    // ----- Handshake (RFC 6455 §4) -----
    /// The HTTP request or response could not be parsed (400).
    MalformedHttp(&'static str),
    /// The handshake head is over [`Config::max_handshake_bytes`](field@crate::Config::max_handshake_bytes) (431).
    HeadersTooLarge,
    /// The handshake head has more than [`Config::max_headers`](field@crate::Config::max_headers) header fields (431).
    TooManyHeaders,
    /// The request method is not GET (405; §4.2.1 item 1).
    MethodNotAllowed,
    /// The request is not HTTP/1.1 or later (400; §4.2.1 item 1).
    UnsupportedHttpVersion,
    /// A header is missing, wrong or repeated (400; §4.2.1), or the request
    /// carries a body or ambiguous framing, or several `Origin`s; the text
    /// names it.
    InvalidHeader(&'static str),
    /// `Sec-WebSocket-Version` is not 13 (426 with `Sec-WebSocket-Version: 13`; §4.2.2).
    UnsupportedWebSocketVersion,
    /// The server has no room for another connection (503).
    ServerBusy,
    /// The application refused the request with this HTTP status.
    Rejected(u16),
    /// The server answered the client's handshake with something other
    /// than a valid 101 (the status line is kept).
    HandshakeRefused(String),
    /// The server's `Sec-WebSocket-Accept` was missing or wrong (§4.1).
    InvalidAccept,
    /// A URL that `connect` cannot use; the text says why.
    InvalidUrl(String),

    // ----- Proxies (RFC 9110 §9.3.6 CONNECT, RFC 1928 SOCKS5) -----
    /// A proxy URL (or a proxy setting of the environment) that cannot be
    /// used; the text says why. It never repeats the URL's credentials.
    InvalidProxyUrl(String),
    /// The TCP connection to the proxy itself failed (refused, no route,
    /// the name does not resolve). `proxy` is `scheme://host:port`,
    /// without credentials.
    #[cfg(feature = "std")]
    #[cfg_attr(docsrs, doc(cfg(feature = "std")))]
    ProxyUnreachable {
        /// The proxy, as `scheme://host:port` (never with credentials).
        proxy: String,
        /// Why the connection failed.
        error: io::Error,
    },
    /// The HTTP proxy answered CONNECT with a status other than 2xx
    /// (RFC 9110 §9.3.6). A 407 lists the authentication schemes the
    /// proxy asked for in its `Proxy-Authenticate` fields (RFC 9110
    /// §11.7.1); 502 and 504 usually mean the proxy could not reach the
    /// target.
    ProxyRefused {
        /// The status code.
        status: u16,
        /// The reason phrase, as sent (at most 128 characters kept).
        reason: String,
        /// The schemes of the `Proxy-Authenticate` challenges (`Basic`,
        /// `Negotiate`, ...), in order; empty when there were none.
        authenticate: alloc::vec::Vec<String>,
    },
    /// The proxy refused the credentials given in the proxy URL (an HTTP
    /// 407 after `Proxy-Authorization` was sent, or a SOCKS5 username and
    /// password refused, RFC 1929 §2), or accepts no authentication method
    /// offered (RFC 1928 §3). The text says which; never the credentials.
    ProxyAuthFailed(String),
    /// The SOCKS5 proxy could not connect to the target (RFC 1928 §6):
    /// the reply code, which [`Error`]'s `Display` gives in words.
    ProxyTargetUnreachable {
        /// The REP field of the SOCKS5 reply (0x01-0xFF).
        reply: u8,
    },
    /// The proxy ended the connection before its handshake was done.
    ProxyClosed(&'static str),
    /// The proxy's answer breaks its protocol (a malformed status line, an
    /// oversized head, an unknown SOCKS5 address type, ...); the text says
    /// how.
    InvalidProxyResponse(&'static str),

    // ----- Application data -----
    /// A JSON message did not serialize or deserialize.
    #[cfg(feature = "json")]
    #[cfg_attr(docsrs, doc(cfg(feature = "json")))]
    Json(serde_json::Error),
    /// A binary message arrived where text was expected.
    UnexpectedBinary,
}

impl Error {
    /// The close code a connection is failed with for this error, if the
    /// error is one the peer caused (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> Option<CloseCode> {
        use Error::*;
        let code = match self {
            ReservedBitsSet
            | ReservedOpcode(_)
            | FragmentedControlFrame
            | ControlFrameTooLong(_)
            | InvalidPayloadLength
            | UnmaskedFrame
            | MaskedFrame
            | UnexpectedContinuation
            | ExpectedContinuation
            | InvalidClosePayload
            | InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
            InvalidUtf8 | InvalidCompressedData(_) => CloseCode::INVALID_PAYLOAD,
            FrameTooLarge { .. }
            | MessageTooLarge { .. }
            | TooManyFragments(_)
            | OutOfMemory(_) => CloseCode::MESSAGE_TOO_BIG,
            PongTimeout => CloseCode::INTERNAL_ERROR,
            _ => return None,
        };
        Some(code)
    }

    /// Whether this error is the caller's own mistake: the call was refused
    /// before anything was sent, and the connection is unaffected. Such
    /// errors never carry a close code.
    pub fn is_misuse(&self) -> bool {
        use Error::*;
        matches!(
            self,
            AlreadyClosed
                | ControlPayloadTooLong(_)
                | UnsendableCloseCode(_)
                | NoMessageToContinue
                | MessageInProgress
                | NotAllowed(_)
        )
    }

    /// The HTTP status a server answers this handshake error with.
    pub fn http_status(&self) -> Option<u16> {
        use Error::*;
        match self {
            MalformedHttp(_) | UnsupportedHttpVersion | InvalidHeader(_) => Some(400),
            HeadersTooLarge | TooManyHeaders => Some(431),
            MethodNotAllowed => Some(405),
            UnsupportedWebSocketVersion => Some(426),
            ServerBusy => Some(503),
            Rejected(status) => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Error::*;
        match self {
            #[cfg(feature = "std")]
            Io(e) => write!(f, "I/O error: {e}"),
            ConnectionClosed => f.write_str("connection closed"),
            AlreadyClosed => f.write_str("cannot send: a Close frame was already sent"),
            ConnectionFailed => f.write_str("connection failed after an earlier write error"),
            AbnormalClosure => f.write_str("peer closed the TCP connection without a close frame"),
            Timeout(what) => write!(f, "timed out: {what}"),
            ControlPayloadTooLong(len) => write!(
                f,
                "cannot send: a control frame payload of {len} bytes is over 125"
            ),
            UnsendableCloseCode(code) => {
                write!(f, "cannot send close code {code}: it may not be sent")
            }
            NoMessageToContinue => {
                f.write_str("cannot send a continuation: no fragmented message is open")
            }
            MessageInProgress => f.write_str(
                "cannot start a message: this thread's fragmented message is unfinished",
            ),
            NotAllowed(why) => write!(f, "not allowed: {why}"),
            ReservedBitsSet => f.write_str("RSV bits set but no extension was negotiated"),
            ReservedOpcode(op) => write!(f, "reserved opcode {op:#x}"),
            FragmentedControlFrame => f.write_str("control frame is fragmented"),
            ControlFrameTooLong(len) => {
                write!(f, "control frame payload of {len} bytes is over 125")
            }
            InvalidPayloadLength => f.write_str("64-bit payload length has its top bit set"),
            UnmaskedFrame => f.write_str("client frame is not masked"),
            MaskedFrame => f.write_str("server frame is masked"),
            UnexpectedContinuation => {
                f.write_str("continuation frame without a message to continue")
            }
            ExpectedContinuation => f.write_str("new data frame inside a fragmented message"),
            InvalidClosePayload => f.write_str("close frame payload of one byte"),
            InvalidCloseCode(code) => write!(f, "close code {code} may not be sent"),
            InvalidUtf8 => f.write_str("text is not valid UTF-8"),
            InvalidCompressedData(why) => write!(f, "compressed message is corrupt: {why}"),
            FrameTooLarge { len, limit } => {
                write!(f, "frame of {len} bytes is over the limit of {limit}")
            }
            MessageTooLarge { len, limit } => {
                write!(f, "message of {len} bytes is over the limit of {limit}")
            }
            TooManyFragments(limit) => write!(f, "message has more than {limit} fragments"),
            OutOfMemory(len) => write!(f, "out of memory growing a message by {len} bytes"),
            PongTimeout => f.write_str("no pong answered the keepalive ping"),
            MalformedHttp(why) => write!(f, "malformed HTTP: {why}"),
            HeadersTooLarge => {
                f.write_str("HTTP head (request or status line and headers) is too large")
            }
            TooManyHeaders => f.write_str("HTTP head has too many header fields"),
            MethodNotAllowed => f.write_str("method not allowed: a WebSocket upgrade must be GET"),
            UnsupportedHttpVersion => f.write_str("HTTP version must be 1.1 or later"),
            InvalidHeader(why) => write!(f, "bad handshake: {why}"),
            UnsupportedWebSocketVersion => f.write_str("Sec-WebSocket-Version must be 13"),
            ServerBusy => f.write_str("server is at its connection limit"),
            Rejected(status) => write!(f, "request rejected with HTTP status {status}"),
            HandshakeRefused(line) => write!(f, "server refused the upgrade: {line}"),
            InvalidAccept => f.write_str("Sec-WebSocket-Accept does not match the key"),
            InvalidUrl(why) => write!(f, "invalid URL: {why}"),
            InvalidProxyUrl(why) => write!(f, "invalid proxy URL: {why}"),
            #[cfg(feature = "std")]
            ProxyUnreachable { proxy, error } => {
                write!(f, "cannot connect to the proxy {proxy}: {error}")
            }
            ProxyRefused {
                status,
                reason,
                authenticate,
            } => {
                write!(f, "the proxy refused the tunnel: {status} {reason}")?;
                if !authenticate.is_empty() {
                    write!(
                        f,
                        " (it asks for {} authentication)",
                        authenticate.join(", ")
                    )?;
                }
                Ok(())
            }
            ProxyAuthFailed(why) => write!(f, "proxy authentication failed: {why}"),
            ProxyTargetUnreachable { reply } => write!(
                f,
                "the SOCKS5 proxy could not connect to the target: {} (reply {reply:#04x})",
                crate::sansio::proxy::socks5::reply_words(*reply)
            ),
            ProxyClosed(when) => write!(f, "the proxy closed the connection {when}"),
            InvalidProxyResponse(why) => write!(f, "invalid answer from the proxy: {why}"),
            #[cfg(feature = "json")]
            Json(e) => write!(f, "JSON: {e}"),
            UnexpectedBinary => f.write_str("expected a text message, got binary"),
        }
    }
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            #[cfg(feature = "std")]
            Error::Io(e) => Some(e),
            #[cfg(feature = "std")]
            Error::ProxyUnreachable { error, .. } => Some(error),
            #[cfg(feature = "json")]
            Error::Json(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout("socket I/O"),
            _ => Error::Io(e),
        }
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
