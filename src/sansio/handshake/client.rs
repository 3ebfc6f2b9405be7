//! The client's half of the opening handshake (RFC 6455 §4.1). Sans-I/O.

use crate::error::{Error, Result};
use crate::sansio::deflate::negotiate::{self, Agreed, DeflateConfig};
use crate::sansio::handshake::accept_key;
use crate::sansio::handshake::http::{
    Field, Head, extension_values, has_token, header_count, header_tokens, parse_version,
};
use alloc::{format, string::String, vec::Vec};

/// The request line and headers of an opening handshake (§4.1 items 1–9).
///
/// `host` is the `Host` value (with the port when it is not 80),
/// `resource` the path and query, `key` a fresh `Sec-WebSocket-Key`.
pub fn request(
    host: &str,
    resource: &str,
    key: &str,
    protocols: &[String],
    extra_headers: &[(String, String)],
) -> Vec<u8> {
    let mut out = format!(
        "GET {resource} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
    );
    if !protocols.is_empty() {
        out.push_str(&format!(
            "Sec-WebSocket-Protocol: {}\r\n",
            protocols.join(", ")
        ));
    }
    for (name, value) in extra_headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// What a valid 101 response told the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The subprotocol the server chose, one of those offered.
    pub protocol: Option<String>,
    /// The response's header fields: names as sent, values as bytes
    /// (obs-text is allowed in them, RFC 9110 §5.5).
    pub headers: Vec<Field>,
    /// permessage-deflate's agreed parameters, when it was offered and the
    /// server accepted it (RFC 7692 §7.1).
    pub compression: Option<Agreed>,
}

/// Checks the server's response head against the request (§4.1, "the
/// client MUST validate the server's response as follows").
pub fn check_response(
    head: &[u8],
    max_headers: usize,
    key: &str,
    offered_protocols: &[String],
) -> Result<Accepted> {
    check_response_with(head, max_headers, key, offered_protocols, None)
}

/// As [`check_response`], for a request that offered permessage-deflate
/// with `offered_compression` (RFC 7692 §5, §7.1): the server may accept
/// it, within what was offered, or leave it out; any other extension in
/// the response fails the handshake.
pub fn check_response_with(
    head: &[u8],
    max_headers: usize,
    key: &str,
    offered_protocols: &[String],
    offered_compression: Option<&DeflateConfig>,
) -> Result<Accepted> {
    let head = Head::parse(head, max_headers)?;
    // Item 1: "If the status code received from the server is not 101, the
    // client handles the response per HTTP procedures": no redirects here.
    let mut parts = head.start_line.splitn(3, ' ');
    let (version, status) = (parts.next().unwrap_or_default(), parts.next());
    // The upgrade is an HTTP/1.1 mechanism (RFC 9110 §7.8, §15.2.2): a 101
    // comes with HTTP/1.1 or a later 1.x, never 1.0 or another major.
    let upgraded_version = matches!(parse_version(version), Some((1, minor)) if minor >= 1);
    if !upgraded_version || status != Some("101") {
        return Err(Error::HandshakeRefused(head.start_line.clone()));
    }
    // Items 2 and 3.
    if !has_token(&head.headers, "Upgrade", "websocket") {
        return Err(Error::InvalidHeader("response Upgrade is not websocket"));
    }
    if !has_token(&head.headers, "Connection", "upgrade") {
        return Err(Error::InvalidHeader(
            "response Connection does not include upgrade",
        ));
    }
    // Item 4: the accept value must be the one the key gives.
    if header_count(&head.headers, "Sec-WebSocket-Accept") != 1
        || head.header("Sec-WebSocket-Accept") != Some(accept_key(key).as_str())
    {
        return Err(Error::InvalidAccept);
    }
    // Item 5: only an extension that was offered may be in use.
    let compression = match offered_compression {
        Some(config) => {
            let values = extension_values(&head.headers)?;
            negotiate::check_response(config, values.iter().copied())?
        }
        None => {
            if header_tokens(&head.headers, "Sec-WebSocket-Extensions")
                .next()
                .is_some()
            {
                return Err(Error::InvalidHeader(
                    "server chose an extension that was not offered",
                ));
            }
            None
        }
    };
    // Item 6: a subprotocol only if it was offered, and only one.
    let mut chosen = header_tokens(&head.headers, "Sec-WebSocket-Protocol");
    let protocol = match (chosen.next(), chosen.next()) {
        (None, _) => None,
        (Some(p), None) => match offered_protocols.iter().find(|o| o.as_bytes() == p) {
            Some(offered) => Some(offered.clone()),
            None => {
                return Err(Error::InvalidHeader(
                    "server chose a subprotocol that was not offered",
                ));
            }
        },
        _ => {
            return Err(Error::InvalidHeader(
                "server chose a subprotocol that was not offered",
            ));
        }
    };
    drop(chosen);
    Ok(Accepted {
        protocol,
        headers: head.headers,
        compression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn response(extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
        .into_bytes()
    }

    #[test]
    fn accepts_the_rfc_response() {
        let accepted = check_response(&response(""), 10, KEY, &[]).unwrap();
        assert_eq!(accepted.protocol, None);
    }

    #[test]
    fn refuses_other_statuses_with_the_status_line() {
        let err = check_response(b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", 10, KEY, &[])
            .unwrap_err();
        assert!(matches!(err, Error::HandshakeRefused(line) if line == "HTTP/1.1 302 Found"));
    }

    #[test]
    fn refuses_a_101_without_a_proper_http_version() {
        for version in ["HTTP/1.x", "HTTP/1.0", "HTTP/2.1", "HTTP/11", "XTTP/1.1"] {
            let bad = String::from_utf8(response(""))
                .unwrap()
                .replacen("HTTP/1.1", version, 1);
            assert!(
                matches!(
                    check_response(bad.as_bytes(), 10, KEY, &[]),
                    Err(Error::HandshakeRefused(_))
                ),
                "{version}"
            );
        }
    }

    #[test]
    fn refuses_a_wrong_accept() {
        let bad = response("").replace_accept();
        assert!(matches!(
            check_response(&bad, 10, KEY, &[]),
            Err(Error::InvalidAccept)
        ));
    }

    #[test]
    fn refuses_unoffered_protocols_and_extensions() {
        let offered = vec!["chat".to_owned()];
        let ok = check_response(
            &response("Sec-WebSocket-Protocol: chat\r\n"),
            10,
            KEY,
            &offered,
        );
        assert_eq!(ok.unwrap().protocol.as_deref(), Some("chat"));
        for extra in [
            "Sec-WebSocket-Protocol: other\r\n",
            "Sec-WebSocket-Protocol: chat, chat\r\n",
            "Sec-WebSocket-Extensions: permessage-deflate\r\n",
        ] {
            assert!(
                check_response(&response(extra), 10, KEY, &offered).is_err(),
                "{extra}"
            );
        }
    }

    trait ReplaceAccept {
        fn replace_accept(self) -> Vec<u8>;
    }
    impl ReplaceAccept for Vec<u8> {
        fn replace_accept(self) -> Vec<u8> {
            String::from_utf8(self)
                .unwrap()
                .replace(
                    "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                )
                .into_bytes()
        }
    }
}
