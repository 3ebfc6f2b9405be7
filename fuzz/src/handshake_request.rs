//! `handshake_request`: request heads through the head reader (whole and
//! in pieces), `Request::parse`, `check_upgrade`, a re-serialization round
//! trip, the client's view of the server's 101, and the one-step
//! `ServerHandshake` against the pieces it is made of.

use std::str;

use plainws::sansio::handshake::accepting::ServerHandshake;
use plainws::sansio::handshake::client::check_response;
use plainws::sansio::handshake::server::switching_protocols;
use plainws::sansio::handshake::{accept_key, is_valid_key};
use plainws::{Accept, Config, Error, Request};

use super::http::{check_http_answer, read_head};
use super::input::{Input, debug};

/// Checks a found head: within the limit, ending at the first empty line.
fn check_head_bounds(bytes: &[u8], len: usize, max_bytes: usize) {
    assert!(len <= max_bytes && len <= bytes.len());
    let head = &bytes[..len];
    assert!(
        head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"),
        "{head:?}"
    );
    for i in 0..len {
        let ends_here = [&b"\n\n"[..], b"\n\r\n"]
            .iter()
            .any(|end| head[i..].starts_with(end) && i + end.len() < len);
        assert!(!ends_here, "an earlier end of head at {i}");
    }
}

/// Request heads: the head reader in two chunkings, `Request::parse`,
/// `check_upgrade`, a re-serialization round trip and the client's view of
/// the 101 answer.
///
/// Input: a setup byte (limits and a piece size), then the request bytes.
pub fn handshake_request(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let max_bytes = [16 << 10, 64, 256, 1024][usize::from(selector & 3)];
    let max_headers = [100, 0, 3, 16][usize::from((selector >> 2) & 3)];
    let piece = usize::from(selector >> 4) + 1;
    let bytes = input.rest();

    check_server_step(bytes, piece, max_bytes, max_headers);
    let whole = read_head(max_bytes, &[bytes]);
    let chunks: Vec<&[u8]> = bytes.chunks(piece).collect();
    let chunked = read_head(max_bytes, &chunks);
    assert_eq!(
        whole, chunked,
        "head found differently in pieces of {piece}"
    );
    let len = match whole {
        Ok(Some(len)) => len,
        Ok(None) => {
            assert!(bytes.len() < max_bytes);
            return;
        }
        Err(e) => {
            assert_eq!(e, debug(&Error::HeadersTooLarge));
            return;
        }
    };
    check_head_bounds(bytes, len, max_bytes);
    let head = &bytes[..len];

    let request = match Request::parse(head, max_headers) {
        Ok(request) => request,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::MalformedHttp(_) | Error::TooManyHeaders | Error::UnsupportedHttpVersion
                ),
                "undocumented {e:?}"
            );
            check_error_response(&e);
            return;
        }
    };
    check_request_fields(&request, max_headers);
    let upgrade = request.check_upgrade();
    if let Err(e) = &upgrade {
        assert!(
            matches!(
                e,
                Error::MethodNotAllowed
                    | Error::InvalidHeader(_)
                    | Error::UnsupportedWebSocketVersion
            ),
            "undocumented {e:?}"
        );
        check_error_response(e);
    }

    if upgrade.is_ok() {
        check_upgrade_framing(&request);
    }

    // What parsed writes back out as a request that parses the same, with
    // or without one empty line before it (RFC 9112 §2.2).
    let again_bytes = serialize_request(&request);
    assert_eq!(
        read_head(again_bytes.len(), &[&again_bytes]),
        Ok(Some(again_bytes.len()))
    );
    let with_empty_line = [&b"\r\n"[..], &again_bytes].concat();
    for bytes in [&again_bytes, &with_empty_line] {
        let again = Request::parse(bytes, max_headers).expect("re-serialized request");
        assert_eq!(again, request);
        assert_eq!(debug(&again.check_upgrade()), debug(&upgrade));
    }

    // The client accepts the 101 the server would send.
    if let Ok(accept_value) = upgrade {
        let key = request.header("Sec-WebSocket-Key").expect("checked key");
        assert!(is_valid_key(key));
        assert_eq!(accept_value, accept_key(key));
        let offered: Vec<String> = request.protocols().map(str::to_owned).collect();
        let mut accept = Accept::default();
        accept.protocol = offered.first().cloned();
        let response = switching_protocols(&request, &accept_value, &accept);
        let accepted = check_response(&response, 100, key, &offered)
            .unwrap_or_else(|e| panic!("client refused the server's 101: {e:?}"));
        assert_eq!(accepted.protocol, accept.protocol);
    }
}

/// Fields as `Request::parse` promises them.
fn check_request_fields(request: &Request, max_headers: usize) {
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    let is_control = |b: u8| (b < 0x20 && b != b'\t') || b == 0x7F;
    assert!(!request.method().is_empty() && request.method().bytes().all(is_tchar));
    let target = request.target();
    assert!(!target.is_empty());
    assert!(target.bytes().all(|b| b.is_ascii_graphic()));
    // The target is the raw path and query, after an authority in the
    // absolute form.
    let raw_path = request.raw_path();
    assert!(!raw_path.contains('?'));
    let suffix = match request.query() {
        Some(query) => format!("{raw_path}?{query}"),
        None => raw_path.to_owned(),
    };
    if target.starts_with('/') || target == "*" {
        assert_eq!(suffix, target);
        assert!(target != "*" || request.method() == "OPTIONS");
    } else {
        let (scheme, rest) = target.split_once("://").expect("absolute form");
        assert!(!scheme.is_empty() && scheme.as_bytes()[0].is_ascii_alphabetic());
        let host = request.host().expect("an absolute target names a host");
        assert!(!host.is_empty() && !host.contains(['@', '/', '?']));
        assert_eq!(format!("{host}{suffix}"), rest);
        assert!(raw_path.is_empty() || raw_path.starts_with('/'));
    }
    // The path is the raw path percent-decoded, with no control character.
    let path = request.path();
    if raw_path.is_empty() {
        assert_eq!(path, "/");
    } else {
        assert_eq!(
            Some(path.as_bytes().to_vec()),
            percent_decode_model(raw_path)
        );
    }
    assert!(!path.bytes().any(|b| b < 0x20 || b == 0x7F), "{path:?}");
    assert!(request.headers().len() <= max_headers);
    for (name, value) in request.headers() {
        assert!(!name.is_empty() && name.bytes().all(is_tchar), "{name:?}");
        assert!(!value.starts_with(b" ") && !value.starts_with(b"\t"));
        assert!(!value.ends_with(b" ") && !value.ends_with(b"\t"));
        assert!(!value.iter().copied().any(is_control));
        assert_eq!(request.header_bytes(name), Some(first_value(request, name)));
        assert_eq!(
            request.header(name),
            str::from_utf8(first_value(request, name)).ok()
        );
    }
    for protocol in request.protocols() {
        assert!(!protocol.is_empty() && protocol.bytes().all(is_tchar));
    }
}

/// The first value of `name`, found the plain way.
fn first_value<'a>(request: &'a Request, name: &str) -> &'a [u8] {
    request
        .headers()
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
        .expect("a header of that name")
}

/// RFC 3986 §2.1 the plain way: `%` and two hex digits is one byte; any
/// other `%` makes the path undecodable.
fn percent_decode_model(raw: &str) -> Option<Vec<u8>> {
    let mut pieces = raw.split('%');
    let mut out = pieces.next()?.as_bytes().to_vec();
    for piece in pieces {
        let hex = piece.get(..2)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        out.push(u8::from_str_radix(hex, 16).ok()?);
        out.extend_from_slice(&piece.as_bytes()[2..]);
    }
    Some(out)
}

/// An accepted upgrade is a GET with no body and no ambiguous framing,
/// and at most one `Origin`.
fn check_upgrade_framing(request: &Request) {
    assert_eq!(request.method(), "GET");
    let named = |name: &str| {
        request
            .headers()
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
            .collect::<Vec<_>>()
    };
    assert!(named("Transfer-Encoding").is_empty());
    assert!(named("Origin").len() <= 1);
    for value in named("Content-Length") {
        for element in value.split(|&b| b == b',') {
            let digits: Vec<u8> = element
                .iter()
                .copied()
                .filter(|&b| b != b' ' && b != b'\t')
                .collect();
            assert!(
                !digits.is_empty() && digits.iter().all(|&b| b == b'0'),
                "{value:?}"
            );
        }
    }
}

fn serialize_request(request: &Request) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method(), request.target()).into_bytes();
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The HTTP answer to a handshake error is well formed and carries the
/// error's status.
fn check_error_response(error: &Error) {
    let status = error.http_status().expect("a handshake error has a status");
    let bytes = plainws::Response::for_error(error).to_bytes();
    check_http_answer(&bytes, status, false);
}

/// `ServerHandshake`, fed in pieces, agrees with the head reader,
/// `Request::parse`, `check_upgrade` and `switching_protocols`: the same
/// request or the same error, the 101 they would write, the first offered
/// subprotocol agreed, and the bytes after the head handed over.
fn check_server_step(bytes: &[u8], piece: usize, max_bytes: usize, max_headers: usize) {
    let config = Config::default()
        .max_handshake_bytes(max_bytes)
        .max_headers(max_headers);
    let mut step = ServerHandshake::new(config);
    let mut request = None;
    for chunk in bytes.chunks(piece) {
        match step.receive(chunk) {
            Ok(None) => {}
            Ok(Some(parsed)) => request = Some(parsed),
            Err(refusal) => {
                let status = refusal.response.status;
                assert_eq!(Some(status), refusal.error.http_status(), "{refusal:?}");
                let found = read_head(max_bytes, &[bytes]);
                match found {
                    Err(e) => assert_eq!(e, debug(&refusal.error)),
                    Ok(Some(len)) => {
                        let parsed = Request::parse(&bytes[..len], max_headers);
                        assert_eq!(debug(&parsed.err()), debug(&Some(refusal.error)));
                    }
                    Ok(None) => panic!("a refusal for an incomplete head: {refusal:?}"),
                }
                return;
            }
        }
    }
    let Some(request) = request else {
        assert_eq!(read_head(max_bytes, &[bytes]), Ok(None));
        return;
    };
    let Ok(Some(len)) = read_head(max_bytes, &[bytes]) else {
        panic!("the step found a head the reader did not");
    };
    assert_eq!(
        Request::parse(&bytes[..len], max_headers).ok(),
        Some(request.clone())
    );
    let mut accept = Accept::default();
    accept.protocol = request.protocols().next().map(str::to_owned);
    match (
        request.check_upgrade(),
        step.accept(&request, Ok(accept.clone())),
    ) {
        (Ok(accept_value), Ok(upgrade)) => {
            assert_eq!(
                upgrade.response,
                switching_protocols(&request, &accept_value, &accept)
            );
            assert_eq!(upgrade.protocol, accept.protocol);
            assert_eq!(upgrade.leftover, &bytes[len..]);
            assert!(!upgrade.connection.compresses(), "not configured");
        }
        (Err(e), Err(refusal)) => assert_eq!(debug(&e), debug(&refusal.error)),
        (expected, got) => panic!("check_upgrade {expected:?}, the step {got:?}"),
    }
}
