//! The opening handshake (RFC 6455 §4): an HTTP/1.1 Upgrade. Sans-I/O.
//!
//! Low level, for study, fuzzing and custom drivers: applications accept
//! with [`accept_with`](crate::accept_with) (which shows them the
//! [`Request`](crate::Request)) and connect with
//! [`connect_with`](crate::connect_with).
//!
//! - [`http`]: reading and parsing a message head, bounded and linear.
//! - [`server`]: checking a client's request and answering it.
//! - [`accepting`]: the server's whole handshake as one step, request
//!   bytes in, a 101 and a ready `Connection` (or a refusal) out: what
//!   every server driver runs.
//! - [`client`]: writing a request and checking the server's answer.
//! - [`connecting`]: the client's whole handshake as one step, the
//!   request's bytes out, the response's bytes in, a ready `Connection`
//!   out.

use alloc::string::String;

pub mod accepting;
pub mod client;
pub mod connecting;
pub mod http;
pub mod server;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// The GUID appended to the key (RFC 6455 §1.3).
pub const WEBSOCKET_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key` (RFC 6455 §4.2.2 item
/// 5.4): base64 of the SHA-1 of the key followed by the GUID.
pub fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha1.finalize())
}

/// Whether `key` is base64 of exactly 16 bytes (RFC 6455 §4.2.1 item 5).
pub fn is_valid_key(key: &str) -> bool {
    key.len() == 24
        && STANDARD
            .decode(key)
            .is_ok_and(|decoded| decoded.len() == 16)
}

/// A `Sec-WebSocket-Key` for 16 bytes of nonce.
pub fn encode_key(nonce: [u8; 16]) -> String {
    STANDARD.encode(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_key_gives_rfc_accept() {
        // RFC 6455 §1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn keys_must_be_sixteen_bytes_of_base64() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZQ")); // unpadded
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZWU=")); // 17 bytes
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25j")); // 15 bytes
        assert!(!is_valid_key("!!!!!!!!!!!!!!!!!!!!!!=="));
        assert!(!is_valid_key(""));
        assert_eq!(encode_key([0; 16]).len(), 24);
    }
}
