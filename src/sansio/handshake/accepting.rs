//! The server's opening handshake as one sans-I/O step (RFC 6455 §4.2):
//! request bytes in; a 101 response and a ready [`Connection`], or a
//! refusal, out.
//!
//! Every server driver runs the same sequence through it, so none of
//! them can skip a part (compression, the subprotocol rule, the bytes
//! that followed the request):
//!
//! 1. [`ServerHandshake::receive`] takes the bytes read so far and returns
//!    the parsed [`Request`] once its head is complete (a malformed or
//!    too-large one is a [`Refusal`] to send);
//! 2. the application looks at the request and decides: an [`Accept`]
//!    (a subprotocol, extra headers, compression declined) or its own
//!    [`Response`] (a 404, a 401, a page);
//! 3. [`ServerHandshake::accept`] checks the WebSocket fields (§4.2.1),
//!    negotiates permessage-deflate (RFC 7692 §5), and returns an
//!    [`Upgrade`]: the 101's bytes, the [`Connection`] with compression on
//!    when it was agreed, the subprotocol chosen, and the bytes that came
//!    after the request (the client's first frames). Or a [`Refusal`]:
//!    the HTTP response to write and the error it stands for.
//!
//! ```
//! use plainws::sansio::handshake::accepting::ServerHandshake;
//! use plainws::{Accept, Config};
//!
//! let mut handshake = ServerHandshake::new(Config::default());
//! let request = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x80";
//! let Ok(Some(request)) = handshake.receive(request) else { panic!("a whole request") };
//! let decision = if request.path() == "/chat" {
//!     Ok(Accept::default().protocol("chat"))
//! } else {
//!     Err(plainws::Response::new(404, "no such endpoint\n"))
//! };
//! let upgrade = handshake.accept(&request, decision).expect("accepted");
//! assert!(upgrade.response.starts_with(b"HTTP/1.1 101 "));
//! assert_eq!(upgrade.protocol.as_deref(), Some("chat"));
//! assert_eq!(upgrade.leftover, b"\x81\x80"); // the client's first frame
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::sansio::config::Config;
use crate::sansio::connection::Connection;
use crate::sansio::handshake::http::HeadReader;
use crate::sansio::handshake::server::{
    Accept, Request, Response, negotiate_compression, skip_one_empty_line, switching_protocols,
};

/// A server connection's opening handshake, from its first byte to the
/// upgrade or the refusal.
#[derive(Debug)]
pub struct ServerHandshake {
    head: HeadReader,
    config: Config,
    /// The request was returned: further bytes are the client's first
    /// frames.
    complete: bool,
}

/// The handshake succeeded: write `response`, then speak WebSocket with
/// `connection`, feeding it `leftover` first.
#[derive(Debug)]
#[non_exhaustive]
pub struct Upgrade {
    /// The 101 response's bytes (§4.2.2 item 5).
    pub response: Vec<u8>,
    /// The connection, with permessage-deflate on when it was agreed.
    pub connection: Connection,
    /// The subprotocol agreed: the application's choice when the client
    /// offered it, or none (§4.2.2 item 5.4).
    pub protocol: Option<String>,
    /// The bytes that followed the request head: the client may send its
    /// first frames in the same packet as its request.
    pub leftover: Vec<u8>,
}

/// The handshake failed: write `response`, then close the transport
/// (after letting the client read it).
#[derive(Debug)]
#[non_exhaustive]
pub struct Refusal {
    /// The HTTP response: the error's status (400, 405, 426, 431, ...)
    /// or the application's own response. On the wire:
    /// [`Response::to_bytes`].
    pub response: Response,
    /// What went wrong: the handshake error, or
    /// [`Error::Rejected`]`(status)` for the application's response.
    pub error: Error,
}

impl Refusal {
    fn for_error(error: Error) -> Refusal {
        Refusal {
            response: Response::for_error(&error),
            error,
        }
    }

    /// The refusal of a request whose method is `HEAD` when `head` is
    /// true: the same head, without content (RFC 9110 §9.3.2).
    fn answering(error: Error, head: bool) -> Refusal {
        let mut refusal = Refusal::for_error(error);
        if head {
            refusal.response = refusal.response.without_body();
        }
        refusal
    }
}

impl ServerHandshake {
    /// A handshake for a connection with `config` (its handshake limits,
    /// its permessage-deflate settings, and the limits of the connection
    /// it becomes).
    pub fn new(config: Config) -> ServerHandshake {
        ServerHandshake {
            head: HeadReader::new(config.max_handshake_bytes),
            config,
            complete: false,
        }
    }

    /// How many more bytes the request head may take: a driver reads at
    /// most this much at a time, so that nothing past the limit is held.
    pub fn room(&self) -> usize {
        self.head.room()
    }

    /// Feeds bytes read from the client. Returns the request once its
    /// head is complete, `Ok(None)` while more is needed, or the refusal
    /// for a head that is malformed or too large (400, 431, 505).
    /// Bytes fed after the request was returned are kept as leftover.
    pub fn receive(&mut self, input: &[u8]) -> Result<Option<Request>, Refusal> {
        if self.complete {
            self.head.push(input).map_err(|e| self.refusal(e))?;
            return Ok(None);
        }
        if self
            .head
            .push(input)
            .map_err(|e| self.refusal(e))?
            .is_none()
        {
            return Ok(None);
        }
        self.complete = true;
        let head = self.head.head().unwrap_or_default();
        Request::parse(head, self.config.max_headers)
            .map(Some)
            .map_err(|e| self.refusal(e))
    }

    /// The refusal for `error` found in the head read so far: without
    /// content when its request line is a `HEAD`'s, even when the rest of
    /// the head is malformed or too large (RFC 9110 §9.3.2).
    fn refusal(&self, error: Error) -> Refusal {
        let line = skip_one_empty_line(self.head.seen());
        Refusal::answering(error, line.starts_with(b"HEAD "))
    }

    /// Completes the handshake with the application's `decision` on
    /// `request`: its own response is sent as it is
    /// ([`Error::Rejected`]); an [`Accept`] is checked against the
    /// request's WebSocket fields (§4.2.1; a refusal answers a `HEAD`
    /// request without content, RFC 9110 §9.3.2) and permessage-deflate
    /// is negotiated (RFC 7692 §5, unless
    /// [`Accept::decline_compression`](field@Accept::decline_compression)).
    pub fn accept(
        self,
        request: &Request,
        decision: Result<Accept, Response>,
    ) -> Result<Upgrade, Refusal> {
        let mut accept = match decision {
            Ok(accept) => accept,
            Err(response) => {
                return Err(Refusal {
                    error: Error::Rejected(response.status),
                    response,
                });
            }
        };
        let head = request.method() == "HEAD";
        let accept_value = request
            .check_upgrade()
            .map_err(|error| Refusal::answering(error, head))?;
        // RFC 7692 §5: accept a permessage-deflate offer, or leave it out.
        let compression = negotiate_compression(request, self.config.compression.as_ref(), &accept)
            .map_err(|error| Refusal::answering(error, head))?;
        if let Some(accepted) = &compression {
            accept.headers.push((
                "Sec-WebSocket-Extensions".to_owned(),
                accepted.response.clone(),
            ));
        }
        let response = switching_protocols(request, &accept_value, &accept);
        // §4.2.2 item 5.4: only a subprotocol the client offered is agreed.
        let protocol = accept
            .protocol
            .filter(|chosen| request.protocols().any(|offered| offered == chosen));
        let mut connection = Connection::server(self.config);
        if let Some(accepted) = &compression {
            connection.enable_compression(&accepted.agreed);
        }
        Ok(Upgrade {
            response,
            connection,
            protocol,
            leftover: self.head.rest().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sansio::deflate::negotiate::DeflateConfig;

    const REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
        Sec-WebSocket-Version: 13\r\n";

    fn request_with(extra: &str) -> Vec<u8> {
        let mut bytes = REQUEST.as_bytes().to_vec();
        bytes.extend_from_slice(extra.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        bytes
    }

    fn text(bytes: &[u8]) -> &str {
        core::str::from_utf8(bytes).expect("ASCII")
    }

    #[test]
    fn a_request_a_byte_at_a_time_completes_once() {
        let bytes = request_with("");
        let mut handshake = ServerHandshake::new(Config::default());
        let (last, head) = bytes.split_last().expect("bytes");
        for byte in head {
            assert!(matches!(handshake.receive(&[*byte]), Ok(None)));
        }
        let request = handshake.receive(&[*last]).ok().flatten().expect("done");
        assert_eq!(request.path(), "/chat");
        // Later bytes are the client's first frames.
        assert!(matches!(handshake.receive(b"\x81"), Ok(None)));
        let upgrade = handshake
            .accept(&request, Ok(Accept::default()))
            .expect("accepted");
        assert_eq!(upgrade.leftover, b"\x81");
        assert!(text(&upgrade.response).contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    }

    #[test]
    fn compression_is_agreed_and_enabled_in_the_connection() {
        let config = Config::default().compression(DeflateConfig::default());
        let bytes = request_with("Sec-WebSocket-Extensions: permessage-deflate\r\n");
        let mut handshake = ServerHandshake::new(config.clone());
        let request = handshake.receive(&bytes).ok().flatten().expect("done");
        let upgrade = handshake
            .accept(&request, Ok(Accept::default()))
            .expect("accepted");
        assert!(text(&upgrade.response).contains("Sec-WebSocket-Extensions: permessage-deflate"));
        assert!(upgrade.connection.compresses());
        // Declined by the application: no header, no compression.
        let mut handshake = ServerHandshake::new(config);
        let request = handshake.receive(&bytes).ok().flatten().expect("done");
        let upgrade = handshake
            .accept(&request, Ok(Accept::default().decline_compression(true)))
            .expect("accepted");
        assert!(!text(&upgrade.response).contains("Sec-WebSocket-Extensions"));
        assert!(!upgrade.connection.compresses());
    }

    #[test]
    fn only_an_offered_subprotocol_is_agreed() {
        let bytes = request_with("Sec-WebSocket-Protocol: a, b\r\n");
        for (chosen, agreed) in [("b", Some("b")), ("c", None)] {
            let mut handshake = ServerHandshake::new(Config::default());
            let request = handshake.receive(&bytes).ok().flatten().expect("done");
            let upgrade = handshake
                .accept(&request, Ok(Accept::default().protocol(chosen)))
                .expect("accepted");
            assert_eq!(upgrade.protocol.as_deref(), agreed);
            let header = text(&upgrade.response).contains("Sec-WebSocket-Protocol");
            assert_eq!(header, agreed.is_some());
        }
    }

    #[test]
    fn refusals_carry_their_status() {
        // Malformed: 400 from `receive`.
        let mut handshake = ServerHandshake::new(Config::default());
        let refusal = handshake.receive(b"GET\r\n\r\n").expect_err("malformed");
        assert!(text(&refusal.response.to_bytes()).starts_with("HTTP/1.1 400 "));
        // Too large: 431.
        let mut handshake = ServerHandshake::new(Config::default().max_handshake_bytes(64));
        let refusal = handshake.receive(&[b'a'; 64]).expect_err("too large");
        assert!(text(&refusal.response.to_bytes()).starts_with("HTTP/1.1 431 "));
        assert!(matches!(refusal.error, Error::HeadersTooLarge));
        // The application's own response.
        let bytes = request_with("");
        let mut handshake = ServerHandshake::new(Config::default());
        let request = handshake.receive(&bytes).ok().flatten().expect("done");
        let refusal = handshake
            .accept(&request, Err(Response::new(404, "no\n")))
            .expect_err("refused");
        assert!(text(&refusal.response.to_bytes()).starts_with("HTTP/1.1 404 "));
        assert!(matches!(refusal.error, Error::Rejected(404)));
        // A version we do not speak: 426; for HEAD, without content.
        let bytes = REQUEST
            .replace("Version: 13", "Version: 8")
            .replace("GET", "HEAD");
        let mut handshake = ServerHandshake::new(Config::default());
        let request = handshake
            .receive(&request_with_bytes(bytes))
            .ok()
            .flatten()
            .expect("done");
        let refusal = handshake
            .accept(&request, Ok(Accept::default()))
            .expect_err("refused");
        let bytes = refusal.response.to_bytes();
        let response = text(&bytes);
        assert!(response.starts_with("HTTP/1.1 405 "));
        assert!(response.ends_with("\r\n\r\n"), "no content: {response}");
    }

    /// RFC 9110 §9.3.2: whatever makes a HEAD request fail — a malformed
    /// head, one too large — its answer has no content (found by the
    /// `blocking_echo` fuzz target: a 400 carried a body).
    #[test]
    fn a_head_request_refused_before_it_parses_gets_no_content() {
        let mut handshake = ServerHandshake::new(Config::default());
        let refusal = handshake
            .receive(b"HEAD chat HTTP/1.1\r\nHost: h\r\n\r\n")
            .expect_err("a target without a slash");
        let bytes = refusal.response.to_bytes();
        assert!(
            text(&bytes).starts_with("HTTP/1.1 400 "),
            "{}",
            text(&bytes)
        );
        assert!(text(&bytes).ends_with("\r\n\r\n"), "{}", text(&bytes));
        let mut handshake = ServerHandshake::new(Config::default().max_handshake_bytes(64));
        let mut head = b"\r\nHEAD /chat HTTP/1.1\r\nX: ".to_vec();
        head.resize(64, b'a');
        let refusal = handshake.receive(&head).expect_err("too large");
        let bytes = refusal.response.to_bytes();
        assert!(
            text(&bytes).starts_with("HTTP/1.1 431 "),
            "{}",
            text(&bytes)
        );
        assert!(text(&bytes).ends_with("\r\n\r\n"), "{}", text(&bytes));
        // A GET refused alike keeps its one-line reason.
        let mut handshake = ServerHandshake::new(Config::default());
        let refusal = handshake
            .receive(b"GET chat HTTP/1.1\r\nHost: h\r\n\r\n")
            .expect_err("a target without a slash");
        assert!(!text(&refusal.response.to_bytes()).ends_with("\r\n\r\n"));
    }

    fn request_with_bytes(head: String) -> Vec<u8> {
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(b"\r\n");
        bytes
    }
}
