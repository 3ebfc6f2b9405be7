//! Every crash the fuzz targets found, as a named test: the minimized
//! input (committed as `fuzz/corpus/<target>/crash-<name>`) through the
//! target's own body, and the fixed behaviour checked directly.

use std::fs;
use std::io::Write;
use std::net::Shutdown;
use std::path::Path;

use plainws::MemoryStream;
use plainws::{Accept, Transport};

#[path = "../fuzz/src/targets.rs"]
#[allow(dead_code, unused_imports)]
mod targets;
// The permessage-deflate targets that `targets::TARGETS` lists.
#[path = "../fuzz/src/deflate_input.rs"]
#[allow(dead_code)]
mod deflate_input;
#[path = "../fuzz/src/deflate_roundtrip.rs"]
mod deflate_roundtrip;
#[path = "../fuzz/src/inflate.rs"]
#[allow(dead_code)]
mod inflate;
#[path = "../fuzz/src/inflate_split.rs"]
mod inflate_split;
// `connection`'s reference inflater: `miniz_oxide` in the fuzz crate, none
// here (see the file).
#[path = "../fuzz/src/no_miniz_reference.rs"]
mod miniz_reference;

#[global_allocator]
static ALLOC: targets::CountingAlloc = targets::CountingAlloc;

fn crash(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
        .join(format!("crash-{name}"));
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The server's bytes for `request` when the application picks the first
/// offered subprotocol, and the protocol the connection reports.
fn answer(request: &[u8]) -> (String, Option<String>) {
    let (mut client, server) = MemoryStream::pair();
    client.write_all(request).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let socket = plainws::accept_with(server, plainws::Config::default(), |request| {
        let mut accept = Accept::default();
        accept.protocol = request.protocols().next().map(str::to_owned);
        Ok(accept)
    })
    .unwrap();
    let protocol = socket.protocol().map(str::to_owned);
    drop(socket);
    let mut out = vec![0; 4096];
    let n = client.read(&mut out).unwrap();
    (String::from_utf8_lossy(&out[..n]).into_owned(), protocol)
}

/// handshake_request and connection: a subprotocol offered with a tab
/// inside ("a\tb") was chosen and echoed cleaned to "ab", a value the
/// client never offered, so a conforming client refused the 101. Fixed:
/// `Request::protocols` yields only tokens (RFC 6455 §4.1).
#[test]
fn subprotocol_with_a_tab_is_not_offered() {
    targets::handshake_request(&crash("handshake_request", "subprotocol-with-a-tab"));
    targets::blocking_echo(&crash("blocking_echo", "subprotocol-with-a-tab"));
    let request = &crash("handshake_request", "subprotocol-with-a-tab")[1..];
    let (response, protocol) = answer(request);
    assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
    assert!(!response.contains("Sec-WebSocket-Protocol"), "{response}");
    assert_eq!(protocol, None);
}

/// Found by the `handshake_response` smoke fuzz: a 101 whose status line
/// said `HTTP/2.1` was accepted once the client checked the version as
/// "1.1 or later"; the upgrade is HTTP/1.1's, so only 1.x (x ≥ 1) may carry it.
#[test]
fn a_101_from_http_2_1_is_refused() {
    targets::handshake_response(&crash("handshake_response", "101-with-http-2-1"));
    let response = "HTTP/2.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    let result = plainws::sansio::handshake::client::check_response(
        response.as_bytes(),
        100,
        "dGhlIHNhbXBsZSBub25jZQ==",
        &[],
    );
    assert!(
        matches!(result, Err(plainws::Error::HandshakeRefused(_))),
        "{result:?}"
    );
}

/// Found by the `url` smoke fuzz once the server began percent-decoding
/// paths: `ws://127.0.0.1:9001/runCa%se` was accepted by the URL parser,
/// and the request it made was refused by the server (400, a `%` without
/// two hex digits). The URL parser now refuses it (RFC 3986 §2.1).
#[test]
fn a_url_with_a_malformed_percent_escape_is_refused() {
    targets::url(&crash("url", "bad-percent-escape"));
    let error = plainws::connect("ws://127.0.0.1:9/runCa%se").expect_err("refused");
    assert!(
        matches!(&error, plainws::Error::InvalidUrl(why) if why.contains("two hex digits")),
        "{error}"
    );
}

#[test]
fn a_tail_read_as_more_of_a_block_is_refused() {
    // `inflate_differential` (fuzz-only) found its oracle taking this for
    // a well-ended message; the inflater refuses it, as it must. The
    // input replays through `inflate`, which shares its format.
    let input = crash("inflate_differential", "tail-read-as-symbols");
    inflate::inflate(&input);
    let (_, messages) = deflate_input::read_deflate_input(&input);
    let mut inflater = plainws::sansio::deflate::Inflater::new(15, false);
    let mut out = Vec::new();
    inflater.inflate(messages[0], &mut out, u64::MAX).unwrap();
    assert!(matches!(
        inflater.finish_message(&mut out, u64::MAX),
        Err(plainws::Error::InvalidCompressedData(_))
    ));
}

#[test]
fn an_incomplete_code_before_a_final_block_is_refused() {
    // `inflate_differential` (fuzz-only) reported a difference the oracle
    // should have allowed: `miniz_oxide` accepts an incomplete distance
    // code (plainws refuses it, a documented strictness difference) in a
    // block before a final one. The oracle now allows it there too.
    let input = crash("inflate_differential", "incomplete-code-before-bfinal");
    inflate::inflate(&input);
    let (_, messages) = deflate_input::read_deflate_input(&input);
    let mut inflater = plainws::sansio::deflate::Inflater::new(15, false);
    let mut out = Vec::new();
    assert!(matches!(
        inflater.inflate(messages[0], &mut out, u64::MAX),
        Err(plainws::Error::InvalidCompressedData(
            "incomplete distance code"
        ))
    ));
}

#[test]
fn a_corrupt_stream_after_a_final_block_is_refused() {
    // `inflate_differential` (fuzz-only): after a block with BFINAL set,
    // where `miniz_oxide` stops, plainws decodes the rest as a new stream
    // (RFC 7692 §7.2.3.4) and refuses its incomplete code-length code,
    // having given the same bytes up to the final block.
    let input = crash("inflate_differential", "incomplete-code-after-bfinal");
    inflate::inflate(&input);
    let (_, messages) = deflate_input::read_deflate_input(&input);
    let mut inflater = plainws::sansio::deflate::Inflater::new(15, false);
    let mut out = Vec::new();
    let result = inflater
        .inflate(messages[0], &mut out, u64::MAX)
        .and_then(|()| inflater.finish_message(&mut out, u64::MAX));
    assert!(matches!(
        result,
        Err(plainws::Error::InvalidCompressedData(
            "incomplete code-length code"
        ))
    ));
    assert!(!out.is_empty());
}

#[test]
fn a_tab_in_a_proxy_reason_phrase_is_kept() {
    // `proxy_http_response` (a run of six minutes): the oracle's own bug.
    // It refused a tab in the reason phrase of a 407, which RFC 9112 §4
    // allows (reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )); the
    // reader keeps the phrase as sent.
    let input = crash("proxy_http_response", "tab-in-reason");
    targets::proxy_http_response(&input);
    let mut reader = plainws::sansio::proxy::http_connect::ConnectResponse::new(1024, 10, false);
    match reader.receive(b"HTTP/1.1 407 Who\tgoes\r\n\r\n") {
        Err(plainws::Error::ProxyRefused { status, reason, .. }) => {
            assert_eq!((status, reason.as_str()), (407, "Who\tgoes"));
        }
        other => panic!("{other:?}"),
    }
}
