//! The `proxy_http_response` target: an HTTP proxy's answer to `CONNECT`
//! through `ConnectResponse` (`src/sansio/proxy/http_connect.rs`,
//! RFC 9110 §9.3.6).
//!
//! Included by `targets.rs`; it depends only on plainws and std.

use plainws::Error;
use plainws::sansio::handshake::http::{Head, HeadReader};
use plainws::sansio::proxy::http_connect::ConnectResponse;

use super::input::Input;

/// How a run ended: the tunnel's bytes (those handed over plus every byte
/// not fed yet), an error (as its `Debug` text), or still waiting.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Tunnel(Vec<u8>),
    Failed(String),
    Waiting,
}

fn run(
    bytes: &[u8],
    pieces: &[usize],
    max: usize,
    max_headers: usize,
    credentials: bool,
) -> Outcome {
    let mut reader = ConnectResponse::new(max, max_headers, credentials);
    let mut at = 0;
    let mut sizes = pieces.iter().copied().cycle();
    while at < bytes.len() {
        let room = reader.room();
        assert!(room >= 1, "room is at least one byte");
        let size = sizes
            .next()
            .unwrap_or(bytes.len())
            .max(1)
            .min(bytes.len() - at);
        let piece = &bytes[at..at + size];
        at += size;
        match reader.receive(piece) {
            Ok(None) => {}
            Ok(Some(established)) => {
                let mut tunnel = established.tunnel_bytes;
                tunnel.extend_from_slice(&bytes[at..]);
                // Once done, nothing more is taken.
                assert!(reader.receive(b"x").is_err(), "bytes taken after the end");
                return Outcome::Tunnel(tunnel);
            }
            Err(e) => {
                check_error(&e, credentials);
                assert!(reader.receive(b"x").is_err(), "bytes taken after an error");
                return Outcome::Failed(format!("{e:?}"));
            }
        }
    }
    Outcome::Waiting
}

/// Every error is one the reader documents, and holds what it promises.
fn check_error(e: &Error, credentials: bool) {
    match e {
        Error::ProxyRefused {
            status,
            reason,
            authenticate,
        } => {
            assert!((100..=999).contains(status) && !(200..300).contains(status));
            assert!(
                !(100..200).contains(status),
                "an interim status is not final"
            );
            assert!(reason.chars().count() <= 128);
            // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ).
            assert!(!reason.chars().any(|c| c.is_control() && c != '\t'));
            for scheme in authenticate {
                assert!(
                    !scheme.is_empty()
                        && scheme
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
                    "scheme {scheme:?} is not a token"
                );
            }
            if credentials {
                assert!(*status != 407 && *status != 401);
            }
        }
        Error::ProxyAuthFailed(why) => {
            assert!(credentials, "an authentication failure without credentials");
            assert!(why.contains("407") || why.contains("401"));
        }
        Error::InvalidProxyResponse(_) => {}
        other => panic!("undocumented {other:?}"),
    }
}

/// Bytes through the CONNECT answer reader, whole and in pieces.
///
/// Input: a setup byte (bit 0: credentials were sent; bit 1: a small
/// limit of 256 bytes and 4 headers instead of 16 KiB and 100), up to 8
/// piece sizes, then the proxy's bytes.
///
/// Oracles: never a panic; the same outcome whole and in any pieces
/// (tunnel bytes, error, or waiting); errors are documented ones
/// (`ProxyRefused` with a non-2xx final status, a short reason without
/// controls but tab, token schemes, never 401/407 once credentials were sent;
/// `ProxyAuthFailed` only after credentials; `InvalidProxyResponse`);
/// nothing is taken after the end. An open tunnel's bytes are the input
/// after the last head, and that head is a 2xx.
pub fn proxy_http_response(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let credentials = setup & 1 == 1;
    let (max, max_headers) = if setup & 2 == 2 {
        (256, 4)
    } else {
        (16 << 10, 100)
    };
    let pieces: Vec<usize> = input.list(8).into_iter().map(usize::from).collect();
    let bytes = input.rest();

    let whole = run(bytes, &[bytes.len()], max, max_headers, credentials);
    let split = run(
        bytes,
        if pieces.is_empty() { &[1] } else { &pieces },
        max,
        max_headers,
        credentials,
    );
    assert_eq!(whole, split, "whole and in pieces {pieces:?}");

    if let Outcome::Tunnel(tunnel) = &whole {
        assert!(bytes.ends_with(tunnel));
        let heads = &bytes[..bytes.len() - tunnel.len()];
        // The last head in front of the tunnel is a 2xx.
        let mut start = 0;
        let mut last = None;
        while start < heads.len() {
            let mut reader = HeadReader::new(max);
            let len = reader
                .push(&heads[start..])
                .expect("an accepted head is within the limit")
                .expect("the heads end where the tunnel starts");
            last = Some(start..start + len);
            start += len;
        }
        let last = last.expect("at least one head");
        let head = Head::parse(&heads[last], max_headers).expect("the accepted head parses");
        let status = head.start_line.split(' ').nth(1).unwrap_or_default();
        assert!(status.starts_with('2') && status.len() == 3, "{status:?}");
    }
}
