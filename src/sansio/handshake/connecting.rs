//! The client's opening handshake as one sans-I/O step (RFC 6455 §4.1):
//! the request's bytes out; the response's bytes in; a ready
//! [`Connection`] (or the error) out.
//!
//! 1. [`ClientHandshake::new`] builds the request (the key from the
//!    driver's 16 random bytes, the subprotocols, extra headers and the
//!    permessage-deflate offer when `Config::compression` is set);
//! 2. the driver writes [`ClientHandshake::request`] and feeds what it
//!    reads to [`ClientHandshake::receive`], which checks the response
//!    once its head is complete (§4.1: status 101, `Upgrade`,
//!    `Connection`, `Sec-WebSocket-Accept`, only offered extensions and
//!    subprotocols) and returns a [`Connected`]: the `Connection` (masking
//!    with the driver's keys, compression on when agreed), the subprotocol,
//!    the response's headers and the bytes that followed the response.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::sansio::config::Config;
use crate::sansio::connection::{Connection, MaskSource};
use crate::sansio::deflate::negotiate::offer;
use crate::sansio::handshake::client::{check_response_with, request};
use crate::sansio::handshake::encode_key;
use crate::sansio::handshake::http::{Field, HeadReader};

/// A client connection's opening handshake, from the request to the
/// upgrade.
pub struct ClientHandshake {
    request: Vec<u8>,
    key: String,
    protocols: Vec<String>,
    config: Config,
    head: HeadReader,
    masks: Option<Box<dyn MaskSource>>,
}

impl core::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("key", &self.key)
            .field("protocols", &self.protocols)
            .finish_non_exhaustive()
    }
}

/// The server accepted: speak WebSocket with `connection`, feeding it
/// `leftover` first.
#[derive(Debug)]
#[non_exhaustive]
pub struct Connected {
    /// The connection, masking with the driver's keys, with
    /// permessage-deflate on when the server accepted the offer.
    pub connection: Connection,
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// The response's header fields.
    pub headers: Vec<Field>,
    /// The bytes that followed the response head: the server may send its
    /// first frames in the same packet.
    pub leftover: Vec<u8>,
}

impl ClientHandshake {
    /// A handshake for `resource` (path and query) on `host` (the `Host`
    /// value, with the port unless it is the scheme's default).
    /// `nonce` is 16 random bytes (§4.1 item 7: "selected randomly for
    /// each connection"); `masks` gives the connection's masking keys.
    /// `protocols` are offered in order; `headers` are added as they are
    /// (a driver checks them first: tokens, no control characters).
    pub fn new(
        config: Config,
        masks: Box<dyn MaskSource>,
        nonce: [u8; 16],
        (host, resource): (&str, &str),
        protocols: &[String],
        headers: &[(String, String)],
    ) -> ClientHandshake {
        let key = encode_key(nonce);
        // RFC 7692 §5: offer permessage-deflate when it is configured.
        let mut headers = headers.to_vec();
        if let Some(compression) = &config.compression {
            headers.push(("Sec-WebSocket-Extensions".into(), offer(compression)));
        }
        ClientHandshake {
            request: request(host, resource, &key, protocols, &headers),
            key,
            protocols: protocols.to_vec(),
            head: HeadReader::new(config.max_handshake_bytes),
            config,
            masks: Some(masks),
        }
    }

    /// The request's bytes, to write before reading the response.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// How many more bytes the response head may take: a driver reads at
    /// most this much at a time.
    pub fn room(&self) -> usize {
        self.head.room()
    }

    /// Feeds bytes read from the server. `Ok(None)` while the response
    /// head is incomplete; then the checked upgrade, or the error that
    /// fails the handshake ([`Error::HandshakeRefused`] for a status other
    /// than 101, [`Error::InvalidAccept`], [`Error::InvalidHeader`], ...).
    pub fn receive(&mut self, input: &[u8]) -> Result<Option<Connected>> {
        if self.head.push(input)?.is_none() {
            return Ok(None);
        }
        let masks = self
            .masks
            .take()
            .ok_or(Error::NotAllowed("the handshake already completed"))?;
        let accepted = check_response_with(
            self.head.head().unwrap_or_default(),
            self.config.max_headers,
            &self.key,
            &self.protocols,
            self.config.compression.as_ref(),
        )?;
        let mut connection = Connection::client(self.config.clone(), masks);
        if let Some(agreed) = &accepted.compression {
            connection.enable_compression(agreed);
        }
        Ok(Some(Connected {
            connection,
            protocol: accepted.protocol,
            headers: accepted.headers,
            leftover: self.head.rest().to_vec(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sansio::deflate::negotiate::DeflateConfig;
    use crate::sansio::handshake::accepting::ServerHandshake;
    use crate::sansio::handshake::server::Accept;

    struct Zeros;

    impl MaskSource for Zeros {
        fn next_key(&mut self) -> [u8; 4] {
            [0; 4]
        }
    }

    /// Both steps against each other: the client's request through the
    /// server's step, the server's 101 through the client's, byte by byte.
    #[test]
    fn client_and_server_steps_agree_on_compression_and_subprotocol() {
        let config = Config::default().compression(DeflateConfig::default());
        let protocols = ["b".into(), "a".into()];
        let mut client = ClientHandshake::new(
            config.clone(),
            Box::new(Zeros),
            [7; 16],
            ("example.com", "/chat?x=1"),
            &protocols,
            &[("X-Test".into(), "1".into())],
        );
        let mut server = ServerHandshake::new(config);
        let request = server
            .receive(client.request())
            .ok()
            .flatten()
            .expect("a whole request");
        assert_eq!(request.path(), "/chat");
        assert_eq!(request.header("X-Test"), Some("1"));
        let upgrade = server
            .accept(&request, Ok(Accept::default().protocol("a")))
            .expect("accepted");
        // The head a byte at a time; its last byte with the server's first
        // frame.
        let (last, head) = upgrade.response.split_last().expect("bytes");
        for byte in head {
            if let Some(done) = client.receive(&[*byte]).expect("valid") {
                panic!("complete too early: {done:?}");
            }
        }
        let connected = client
            .receive(&[*last, 0x81, 0x00])
            .expect("valid")
            .expect("done");
        assert_eq!(connected.protocol.as_deref(), Some("a"));
        assert!(connected.connection.compresses());
        assert!(upgrade.connection.compresses());
        assert_eq!(connected.leftover, b"\x81\x00");
    }

    #[test]
    fn a_refusal_is_an_error() {
        let mut client = ClientHandshake::new(
            Config::default(),
            Box::new(Zeros),
            [1; 16],
            ("h", "/"),
            &[],
            &[],
        );
        let error = client
            .receive(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            .expect_err("refused");
        assert!(matches!(error, Error::HandshakeRefused(line) if line.contains("404")));
    }
}
