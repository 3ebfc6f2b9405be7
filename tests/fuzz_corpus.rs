//! Replays the committed fuzz corpus on stable: every file of
//! `fuzz/corpus/<target>/` goes through the target's own body, the very
//! function the fuzzer runs (`fuzz/src/targets.rs`, included by path).
//!
//! The hand-written seeds are made by `write_seed_corpus` below:
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus`
//! rewrites the `seed-*` files; fuzzer-found inputs (`found-*`) and
//! crashes (`crash-*`) are committed as they are.

use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

#[path = "../fuzz/src/targets.rs"]
mod targets;
// The permessage-deflate targets, one file each (all but
// `inflate_differential`, which needs `miniz_oxide`).
#[path = "../fuzz/src/deflate_input.rs"]
mod deflate_input;
#[path = "../fuzz/src/deflate_roundtrip.rs"]
mod deflate_roundtrip;
#[path = "../fuzz/src/inflate.rs"]
mod inflate;
#[path = "../fuzz/src/inflate_split.rs"]
mod inflate_split;
// `connection`'s reference inflater: `miniz_oxide` in the fuzz crate, none
// here (see the file).
#[path = "../fuzz/src/no_miniz_reference.rs"]
mod miniz_reference;
// The proxy targets' hand-written seeds.
#[path = "fuzz_corpus/proxy_seeds.rs"]
mod proxy_seeds;

/// Targets that only the fuzzer runs: their corpus is not replayed here.
/// `tokio_recv` needs the `tokio` feature and a runtime; its oracle (the
/// driver's messages equal the core's) is also what `tests/tokio_driver.rs`'s
/// cancel-safety test checks.
const FUZZ_ONLY: &[&str] = &["inflate_differential", "tokio_recv"];

/// The same heap counting the fuzzer runs with, so that the memory
/// oracles run in the replay too.
#[global_allocator]
static ALLOC: targets::CountingAlloc = targets::CountingAlloc;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn replay(target: &str) {
    let body = targets::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, body)| *body)
        .expect("a target of that name");
    let mut files: Vec<PathBuf> = fs::read_dir(corpus_dir(target))
        .unwrap_or_else(|e| panic!("fuzz/corpus/{target}: {e}"))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "fuzz/corpus/{target} has no seeds");
    let mut failed = Vec::new();
    for file in &files {
        let bytes = fs::read(file).expect("a readable seed");
        if catch_unwind(AssertUnwindSafe(|| body(&bytes))).is_err() {
            failed.push(file.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target} fails on {failed:#?}");
}

#[test]
fn frame_decoder_corpus() {
    replay("frame_decoder");
}

#[test]
fn frame_decoder_chunked_corpus() {
    replay("frame_decoder_chunked");
}

#[test]
fn frame_roundtrip_corpus() {
    replay("frame_roundtrip");
}

#[test]
fn handshake_request_corpus() {
    replay("handshake_request");
}

#[test]
fn handshake_response_corpus() {
    replay("handshake_response");
}

#[test]
fn utf8_corpus() {
    replay("utf8");
}

#[test]
fn connection_corpus() {
    replay("connection");
}

#[test]
fn blocking_echo_corpus() {
    replay("blocking_echo");
}

#[test]
fn mask_corpus() {
    replay("mask");
}

#[test]
fn url_corpus() {
    replay("url");
}

#[test]
fn proxy_http_response_corpus() {
    replay("proxy_http_response");
}

#[test]
fn proxy_socks5_corpus() {
    replay("proxy_socks5");
}

#[test]
fn inflate_corpus() {
    replay("inflate");
}

#[test]
fn inflate_split_corpus() {
    replay("inflate_split");
}

#[test]
fn deflate_roundtrip_corpus() {
    replay("deflate_roundtrip");
}

#[test]
fn every_target_has_a_corpus_and_a_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let names = targets::TARGETS
        .iter()
        .map(|(name, _)| *name)
        .chain(FUZZ_ONLY.iter().copied());
    for name in names {
        assert!(corpus_dir(name).is_dir(), "no fuzz/corpus/{name}");
        let bin = root.join("fuzz_targets").join(format!("{name}.rs"));
        assert!(bin.is_file(), "no {}", bin.display());
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name} not in fuzz/Cargo.toml"
        );
    }
    let dirs = fs::read_dir(root.join("corpus"))
        .expect("fuzz/corpus")
        .count();
    assert_eq!(
        dirs,
        targets::TARGETS.len() + FUZZ_ONLY.len(),
        "a corpus without a target"
    );
}

// ---------------------------------------------------------------------------
// The hand-written seeds

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One frame on the wire, masked with `KEY` when `masked`.
fn frame(opcode: u8, fin: bool, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n @ 0..=125 => out.push(mask_bit | n as u8),
        n @ 126..=0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&KEY);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ KEY[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

fn close(code: u16, reason: &[u8], masked: bool) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(0x8, true, &payload, masked)
}

/// Named frame streams, Autobahn style, masked as a client sends them
/// (`true`) or unmasked as a server does.
fn streams(masked: bool) -> Vec<(String, Vec<u8>)> {
    let m = masked;
    let mut out: Vec<(String, Vec<u8>)> =
        vec![
        ("text-hello".into(), frame(0x1, true, b"Hello", m)),
        ("binary-256-16bit-length".into(), frame(0x2, true, &[0xAB; 256], m)),
        (
            "binary-126-edge".into(),
            [frame(0x2, true, &[1; 125], m), frame(0x2, true, &[2; 126], m)].concat(),
        ),
        (
            "binary-64bit-length-truncated".into(),
            frame(0x2, true, &[7; 65536], m)[..200].to_vec(),
        ),
        (
            "fragmented-text-with-pings".into(),
            [
                frame(0x1, false, b"frag1 ", m),
                frame(0x9, true, b"ping", m),
                frame(0x0, false, b"frag2 ", m),
                frame(0xA, true, b"pong", m),
                frame(0x0, true, b"frag3", m),
            ]
            .concat(),
        ),
        (
            "fragmented-rfc-hello".into(),
            [frame(0x1, false, b"Hel", m), frame(0x0, true, b"lo", m)].concat(),
        ),
        (
            "utf8-split-inside-a-character".into(),
            [
                frame(0x1, false, "κό".as_bytes()[..3].as_ref(), m),
                frame(0x0, false, &"κό".as_bytes()[3..], m),
                frame(0x0, true, "σμε 𝄞".as_bytes(), m),
            ]
            .concat(),
        ),
        (
            "utf8-invalid-surrogate".into(),
            frame(
                0x1,
                true,
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
                m,
            ),
        ),
        (
            "utf8-invalid-in-continuation".into(),
            [frame(0x1, false, b"ok", m), frame(0x0, true, b"\xc0\xaf", m)].concat(),
        ),
        (
            "utf8-truncated-at-message-end".into(),
            frame(0x1, true, b"\xe2\x82", m),
        ),
        ("ping-125".into(), frame(0x9, true, &[b'p'; 125], m)),
        ("ping-126-too-long".into(), frame(0x9, true, &[b'p'; 126], m)),
        ("ping-fragmented".into(), frame(0x9, false, b"p", m)),
        ("close-empty".into(), frame(0x8, true, b"", m)),
        ("close-one-byte".into(), frame(0x8, true, b"\x03", m)),
        ("close-bad-utf8-reason".into(), close(1000, b"\xff", m)),
        (
            "rsv1-set".into(),
            frame(0x1, true, b"x", m)
                .into_iter()
                .enumerate()
                .map(|(i, b)| if i == 0 { b | 0x40 } else { b })
                .collect(),
        ),
        ("reserved-opcode-3".into(), frame(0x3, true, b"", m)),
        ("reserved-opcode-b".into(), frame(0xB, true, b"", m)),
        ("continuation-without-start".into(), frame(0x0, true, b"x", m)),
        (
            "text-inside-fragmented".into(),
            [frame(0x1, false, b"a", m), frame(0x1, true, b"b", m)].concat(),
        ),
        (
            "length-top-bit-set".into(),
            [
                &[0x82u8, if m { 0xFF } else { 0x7F }, 0x80, 0, 0, 0, 0, 0, 0, 0][..],
                &KEY[..],
            ]
            .concat(),
        ),
        (
            "huge-declared-length".into(),
            [
                &[0x82u8, if m { 0xFF } else { 0x7F }, 0, 0, 0, 1, 0, 0, 0, 0][..],
                &KEY[..],
                b"only a little",
            ]
            .concat(),
        ),
        (
            "many-empty-fragments".into(),
            std::iter::once(frame(0x2, false, b"", m))
                .chain((0..40).map(|_| frame(0x0, false, b"", m)))
                .chain(std::iter::once(frame(0x0, true, b"", m)))
                .collect::<Vec<_>>()
                .concat(),
        ),
    ];
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1014, 3000, 4999,
    ] {
        out.push((format!("close-{code}"), close(code, b"bye", m)));
    }
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535] {
        out.push((format!("close-{code}-not-sendable"), close(code, b"", m)));
    }
    out
}

/// Setup bytes of `targets::Setup` for a role and the default limits.
fn defaults(client: bool) -> Vec<u8> {
    vec![0b010 | u8::from(client)]
}

/// Setup bytes for small limits: frame and message size, fragments.
fn small(client: bool, frame: u16, message: u16, fragments: u8) -> Vec<u8> {
    let mut out = vec![u8::from(client)];
    out.extend_from_slice(&frame.to_be_bytes());
    out.extend_from_slice(&message.to_be_bytes());
    out.push(fragments);
    out
}

const BROWSER_REQUEST: &str = "GET /socket?token=abc HTTP/1.1\r\nHost: localhost:9001\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\nUpgrade: websocket\r\nOrigin: http://localhost:8080\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n";

const FIREFOX_REQUEST: &str = "GET /chat HTTP/1.1\r\nHost: example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0\r\nAccept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\nSec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\nSec-WebSocket-Protocol: v2.json, v1.json\r\nSec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: x3JJHMbDL1EzLkh9GBhXDw==\r\nConnection: keep-alive, Upgrade\r\nSec-Fetch-Dest: websocket\r\nSec-Fetch-Mode: websocket\r\nSec-Fetch-Site: same-origin\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n";

/// Named requests: the RFC's, browsers', and broken ones.
fn requests() -> Vec<(&'static str, String)> {
    let rfc = String::from_utf8(targets::RFC_REQUEST.to_vec()).expect("ASCII");
    let with = |from: &str, to: &str| {
        assert!(rfc.contains(from), "{from}");
        rfc.replacen(from, to, 1)
    };
    vec![
        ("rfc-1.3", rfc.clone()),
        ("chrome", BROWSER_REQUEST.into()),
        ("firefox", FIREFOX_REQUEST.into()),
        ("bare-lf", rfc.replace("\r\n", "\n")),
        (
            "plain-http-get",
            "GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n".into(),
        ),
        ("post", with("GET ", "POST ")),
        ("http-1.0", with("HTTP/1.1", "HTTP/1.0")),
        ("http-2.0", with("HTTP/1.1", "HTTP/2.0")),
        ("no-host", with("Host: server.example.com\r\n", "")),
        (
            "two-hosts",
            with("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
        ),
        ("no-upgrade", with("Upgrade: websocket\r\n", "")),
        (
            "connection-keep-alive",
            with("Connection: Upgrade", "Connection: keep-alive"),
        ),
        (
            "version-8",
            with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
        ),
        (
            "short-key",
            with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25j"),
        ),
        (
            "folded-header",
            with(
                "Origin: http://example.com\r\n",
                "Origin:\r\n http://example.com\r\n",
            ),
        ),
        ("control-char", with("/chat", "/ch\x01at")),
        ("space-in-name", with("Origin:", "Ori gin:")),
        ("no-colon", with("Origin: http://example.com", "Origin")),
        (
            "request-line-extra",
            with("GET /chat HTTP/1.1", "GET /chat HTTP/1.1 x"),
        ),
        (
            "many-headers",
            with(
                "Origin: http://example.com\r\n",
                &(0..120)
                    .map(|i| format!("X-{i}: v\r\n"))
                    .collect::<String>(),
            ),
        ),
        (
            "not-utf8",
            with("/chat", "/ch\u{fffd}at").replace('\u{fffd}', "é"),
        ),
        ("truncated", rfc[..60].to_owned()),
        (
            "absolute-form",
            with("GET /chat ", "GET http://server.example.com/chat "),
        ),
        ("percent-encoded-path", with("/chat", "/ch%61t")),
        ("percent-nul", with("/chat", "/ch%00at")),
        ("bad-percent-escape", with("/chat", "/ch%zat")),
        ("percent-not-utf8", with("/chat", "/ch%FFat")),
        ("leading-empty-line", format!("\r\n{rfc}")),
        ("two-leading-empty-lines", format!("\r\n\r\n{rfc}")),
        (
            "content-length-5",
            with("Host:", "Content-Length: 5\r\nHost:"),
        ),
        (
            "two-content-lengths",
            with("Host:", "Content-Length: 0\r\nContent-Length: 1\r\nHost:"),
        ),
        (
            "transfer-encoding",
            with("Host:", "Transfer-Encoding: chunked\r\nHost:"),
        ),
        (
            "two-origins",
            with(
                "Origin: http://example.com\r\n",
                "Origin: http://example.com\r\nOrigin: http://evil.example\r\n",
            ),
        ),
        (
            "utf8-header-value",
            with(
                "Origin: http://example.com",
                "Origin: http://ex\u{e4}mple.com",
            ),
        ),
    ]
}

/// Requests that are not UTF-8: obs-text (0x80–0xFF) in a header value,
/// allowed by RFC 9110 §5.5, and in a header name, which is refused.
fn byte_requests() -> Vec<(&'static str, Vec<u8>)> {
    let rfc = targets::RFC_REQUEST;
    let end = rfc.len() - 2;
    vec![
        (
            "obs-text-header-value",
            [&rfc[..end], b"X-Latin1: caf\xe9 \xff\r\n\r\n"].concat(),
        ),
        ("obs-text-origin", {
            let origin = b"Origin: http://example.com";
            let at = rfc
                .windows(origin.len())
                .position(|w| w == origin)
                .expect("the RFC request has an Origin");
            [
                &rfc[..at],
                b"Origin: http://caf\xe9.example",
                &rfc[at + origin.len()..],
            ]
            .concat()
        }),
        (
            "obs-text-header-name",
            [&rfc[..end], b"X-\xe9: v\r\n\r\n"].concat(),
        ),
    ]
}

/// Named responses: the RFC's and refused ones (key: the RFC's).
fn responses() -> Vec<(&'static str, u8, String)> {
    let ok = |extra: &str| {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
    };
    vec![
        ("rfc-1.3", 0, ok("")),
        ("rfc-1.3-chat", 0b100, ok("Sec-WebSocket-Protocol: chat\r\n")),
        (
            "rfc-4.2.2-key",
            1,
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nconnection: upgrade\r\nsec-websocket-accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n\r\n".into(),
        ),
        ("bare-lf", 0, ok("").replace("\r\n", "\n")),
        ("redirect-302", 0, "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n".into()),
        ("http-1.0-101", 0, ok("").replace("HTTP/1.1", "HTTP/1.0")),
        ("wrong-accept", 0, ok("").replace("s3pP", "AAAA")),
        ("two-accepts", 0, ok("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")),
        ("no-upgrade", 0, ok("").replace("Upgrade: websocket\r\n", "")),
        ("unoffered-protocol", 0b010, ok("Sec-WebSocket-Protocol: superchat\r\n")),
        ("two-protocols", 0b100, ok("Sec-WebSocket-Protocol: chat, superchat\r\n")),
        ("extension", 0, ok("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
        ("many-headers", 0b1000, ok("X-A: 1\r\nX-B: 2\r\n")),
    ]
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    let path = corpus_dir(target).join(format!("seed-{name}"));
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// `connection` scripts with permessage-deflate on (flags bit 7, then the
/// agreed parameters: bits 0-2 the server's window bits - 8, bits 3-5 the
/// client's, bits 6 and 7 `server_`/`client_no_context_takeover`), and one
/// RSV1 without it.
fn deflate_connection_scripts() -> Vec<(&'static str, Vec<u8>)> {
    use plainws::sansio::deflate::Deflater;

    let receive = |bytes: &[u8], split: u8| -> Vec<u8> {
        assert!(bytes.len() <= 255);
        [&[0u8, bytes.len() as u8][..], bytes, &[split]].concat()
    };
    let text = |t: &[u8]| [&[2u8, t.len() as u8][..], t].concat();
    let binary = |t: &[u8]| [&[0x82u8, t.len() as u8][..], t].concat();
    let rsv = |bits: u8, mut frame: Vec<u8>| {
        frame[0] |= bits;
        frame
    };
    let rsv1 = |frame: Vec<u8>| rsv(0x40, frame);
    let compress = |bits: u8, reset: bool, messages: &[&[u8]]| -> Vec<Vec<u8>> {
        let mut deflater = Deflater::new(bits, reset);
        messages
            .iter()
            .map(|m| {
                let mut out = Vec::new();
                deflater.compress_message(m, &mut out);
                out
            })
            .collect()
    };
    // RFC 7692 §7.2.3.1 and §7.2.3.2: "Hello", then "Hello" again with the
    // context kept.
    const HELLO: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    const HELLO_AGAIN: &[u8] = &[0xf2, 0x00, 0x11, 0x00, 0x01, 0x00];
    let repeated = b"abcdefghij".repeat(40);
    let fragmented = compress(15, false, &[&repeated]).remove(0);
    let (part1, part2) = fragmented.split_at(fragmented.len() / 2);
    let server_in = [
        rsv1(frame(0x1, true, HELLO, true)),
        frame(0x9, true, b"p", true),
        rsv1(frame(0x1, true, HELLO_AGAIN, true)),
        frame(0x1, true, b"plain", true),
        rsv1(frame(0x2, false, part1, true)),
        frame(0x0, true, part2, true),
    ]
    .concat();
    let client_messages = compress(9, true, &[&repeated, &repeated]);
    let client_in = [
        rsv1(frame(0x1, true, &client_messages[0], false)),
        rsv1(frame(0x1, true, &client_messages[1], false)),
    ]
    .concat();
    let zeros = compress(15, false, &[&[0; 1000]]).remove(0);
    vec![
        (
            // Windows of 2^15 both ways, context kept.
            "server-deflate-echo",
            [
                &[0x8C, 0x3F][..],
                &receive(&server_in, 9),
                &text(b"Hello"),
                &text(b"Hello"),
                &binary(&[1, 2, 3, 1, 2, 3, 1, 2, 3]),
                &[3, 0x00, 2],
                b"un",
                // 0x80: a final continuation (0x80 % 5 == 3).
                &[3, 0x80, 10],
                b"compressed",
                &[5, 0x03, 0xe8, 0],
            ]
            .concat(),
        ),
        (
            // Server window 2^9, client 2^10, no context takeover either way.
            "client-deflate-no-context-takeover",
            [
                &[0x81, 0xD1][..],
                &receive(&client_in, 40),
                &text(&b"ab".repeat(100)),
                &text(&b"ab".repeat(100)),
                &receive(&close(1000, b"", false), 1),
            ]
            .concat(),
        ),
        (
            // Windows of 2^8: long repeats reach past the window.
            "server-deflate-window-8",
            [
                &[0x8C, 0x00][..],
                &text(&repeated[..250]),
                &text(&repeated[..250]),
                &binary(&[7; 200]),
            ]
            .concat(),
        ),
        (
            "server-deflate-rsv1-on-continuation",
            [
                &[0x8C, 0x3F][..],
                &receive(
                    &[
                        frame(0x1, false, b"a", true),
                        rsv1(frame(0x0, true, b"b", true)),
                    ]
                    .concat(),
                    0,
                ),
            ]
            .concat(),
        ),
        (
            "server-deflate-rsv1-on-ping",
            [
                &[0x8C, 0x3F][..],
                &receive(&rsv1(frame(0x9, true, b"p", true)), 3),
            ]
            .concat(),
        ),
        (
            "client-deflate-rsv2",
            [
                &[0x8D, 0x3F][..],
                &receive(&rsv(0x60, frame(0x1, true, HELLO, false)), 0),
            ]
            .concat(),
        ),
        (
            // A block of the reserved type 3 (RFC 1951 §3.2.3): 1007.
            "server-deflate-corrupt",
            [
                &[0x8C, 0x3F][..],
                &receive(&rsv1(frame(0x2, true, &[0xff; 3], true)), 0),
            ]
            .concat(),
        ),
        (
            // Small limits (a 300-byte message): 1000 zeros inflate past them, 1009.
            "server-deflate-over-limit",
            [
                &[0x84, 0x3F][..],
                &receive(&rsv1(frame(0x2, true, &zeros, true)), 2),
            ]
            .concat(),
        ),
        (
            // Compression off: RSV1 is a protocol error, 1002.
            "server-rsv1-without-compression",
            [
                &[0x0C][..],
                &receive(&rsv1(frame(0x1, true, HELLO, true)), 0),
            ]
            .concat(),
        ),
    ]
}

/// Rewrites the hand-written seed files (`seed-*`) of every corpus.
#[test]
#[ignore = "writes fuzz/corpus; run by hand after changing the seeds"]
fn write_seed_corpus() {
    let all = targets::TARGETS
        .iter()
        .map(|(name, _)| *name)
        .chain(FUZZ_ONLY.iter().copied());
    for target in all {
        let dir = corpus_dir(target);
        fs::create_dir_all(&dir).expect("corpus dir");
        for entry in fs::read_dir(&dir).expect("corpus dir") {
            let path = entry.expect("entry").path();
            let is_seed = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("seed-"));
            if is_seed {
                fs::remove_file(path).expect("remove old seed");
            }
        }
    }

    // RFC 6455 §5.7, byte for byte.
    let rfc: [(&str, bool, &[u8]); 5] = [
        (
            "rfc-5.7-text-unmasked",
            true,
            &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        ),
        (
            "rfc-5.7-text-masked",
            false,
            &[
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        ),
        (
            "rfc-5.7-fragmented",
            true,
            &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
        ),
        (
            "rfc-5.7-ping-and-masked-pong",
            false,
            &[
                0x89, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58, 0x8a, 0x85, 0x37,
                0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
            ],
        ),
        ("rfc-5.7-binary-256", true, &[0x82, 0x7E, 0x01, 0x00]),
    ];
    for (name, client, bytes) in rfc {
        let mut input = defaults(client);
        input.extend_from_slice(bytes);
        if name.ends_with("256") {
            input.extend_from_slice(&[0x5A; 256]);
        }
        write("frame_decoder", name, &input);
        let mut chunked = defaults(client);
        chunked.extend_from_slice(&[2, 1, 3]);
        chunked.extend_from_slice(&input[1..]);
        write("frame_decoder_chunked", name, &chunked);
    }

    // Autobahn-style streams as a server and as a client receives them.
    // (The client side gets the first dozen: the rules are the same.)
    for (client, side, count) in [(false, "server", usize::MAX), (true, "client", 12)] {
        for (name, stream) in streams(!client).into_iter().take(count) {
            let mut whole = defaults(client);
            whole.extend_from_slice(&stream);
            write("frame_decoder", &format!("{side}-{name}"), &whole);
            // Split one byte at a time, and at odd points.
            let sizes: &[u8] = if stream.len() % 2 == 0 {
                &[0]
            } else {
                &[3, 5, 0, 2, 7]
            };
            let mut chunked = defaults(client);
            chunked.push(sizes.len() as u8);
            chunked.extend_from_slice(sizes);
            chunked.extend_from_slice(&stream);
            write("frame_decoder_chunked", &format!("{side}-{name}"), &chunked);
        }
    }
    // The same streams against small limits.
    for (name, stream) in streams(true).into_iter().take(8) {
        let mut input = small(false, 100, 300, 3);
        input.extend_from_slice(&stream);
        write("frame_decoder", &format!("small-limits-{name}"), &input);
        let mut chunked = small(false, 100, 300, 3);
        chunked.extend_from_slice(&[1, 4]);
        chunked.extend_from_slice(&stream);
        write(
            "frame_decoder_chunked",
            &format!("small-limits-{name}"),
            &chunked,
        );
    }
    // One 64-bit length frame, whole (the decoder target only).
    let mut big = defaults(false);
    big.extend(frame(0x2, true, &[7; 65536], true));
    write("frame_decoder", "server-binary-65536", &big);

    // The blocking driver over memory: the RFC request prefixed (selector
    // bit 0), then frames.
    for (name, stream) in streams(true) {
        let mut input = vec![0b001];
        input.extend_from_slice(&stream);
        if !name.starts_with("close") {
            input.extend(close(1000, b"", true));
        }
        write("blocking_echo", &name, &input);
    }
    let echo = [
        frame(0x1, true, b"Hello", true),
        frame(0x2, true, &[1, 2, 3], true),
        frame(0x9, true, b"ping", true),
        close(1000, b"done", true),
    ]
    .concat();
    write(
        "blocking_echo",
        "echo-then-close-small-limits",
        &[&[0b001][..], &echo].concat(),
    );
    write(
        "blocking_echo",
        "echo-then-close-defaults",
        &[&[0b111][..], &echo].concat(),
    );
    write(
        "blocking_echo",
        "echo-tiny-limits",
        &[&[0b011][..], &echo].concat(),
    );
    write(
        "blocking_echo",
        "echo-zero-limits",
        &[&[0b101][..], &echo].concat(),
    );
    write(
        "blocking_echo",
        "echo-then-eof",
        &[&[0b001][..], &echo[..echo.len() - 12]].concat(),
    );
    for (name, request) in requests() {
        let mut input = vec![0b000];
        input.extend_from_slice(request.as_bytes());
        input.extend_from_slice(&echo);
        write("blocking_echo", &format!("request-{name}"), &input);
    }
    for (name, request) in byte_requests() {
        let mut input = vec![0b000];
        input.extend_from_slice(&request);
        input.extend_from_slice(&echo);
        write("connection", &format!("request-{name}"), &input);
    }
    let mut small_handshake = vec![0b1000];
    small_handshake.extend_from_slice(BROWSER_REQUEST.as_bytes());
    write("blocking_echo", "request-over-256-bytes", &small_handshake);

    // The pure core, scripted (see fuzz/src/connection.rs): a flags byte
    // (bit 0 client, bit 1 deferred Close reply, bits 2-3 limits, bit 4
    // keepalive, bit 5 idle timeout), then operations.
    let receive = |bytes: &[u8], split: u8| -> Vec<u8> {
        assert!(bytes.len() <= 255);
        [&[0u8, bytes.len() as u8][..], bytes, &[split]].concat()
    };
    let server_in = [
        frame(0x1, true, b"Hello", true),
        frame(0x9, true, b"ping", true),
        frame(0x2, false, &[1, 2], true),
        frame(0xA, true, b"pong", true),
        frame(0x0, true, &[3], true),
        close(1001, b"bye", true),
    ]
    .concat();
    let client_in = [
        frame(0x1, true, b"Hello", false),
        frame(0x9, true, b"ping", false),
        close(4000, b"done", false),
    ]
    .concat();
    let text = |t: &[u8]| [&[2u8, t.len() as u8][..], t].concat();
    let scripts: Vec<(&str, Vec<u8>)> = vec![
        (
            "server-echo",
            [&[0b1100u8][..], &receive(&server_in, 7)].concat(),
        ),
        (
            "client-echo",
            [&[0b1101u8][..], &receive(&client_in, 3)].concat(),
        ),
        (
            "server-deferred-reply",
            [
                &[0b1110u8][..],
                &receive(&server_in, 0),
                &text(b"late reply"),
                &[7, 1],
            ]
            .concat(),
        ),
        (
            "client-ping-after-our-close",
            [
                &[0b1101u8][..],
                &[5, 0x03, 0xe8, 3][..],
                b"bye",
                &receive(&frame(0x9, true, b"p", false), 1),
                &receive(&close(1000, b"", false), 0),
                &[7, 0],
            ]
            .concat(),
        ),
        (
            "server-fragments-and-misuse",
            [
                &[0b1100u8][..],
                &[3, 0x00, 2][..],
                b"he",
                &[3, 0x02, 1],
                b"x",
                &[4, 0x00, 1],
                b"p",
                &[3, 0x82, 3],
                b"llo",
                &[4, 0x80, 10],
                &[0; 138],
                &[5, 0x03, 0xed, 0],
                &[5, 0x03, 0xe8, 2],
                b"ok",
            ]
            .concat(),
        ),
        (
            "server-keepalive-and-idle",
            [
                &[0b11_1100u8][..],
                &[6, 40, 6, 40][..],
                &receive(&frame(0xA, true, b"keepalive", true), 5),
                &[6, 100, 6, 100, 6, 100],
            ]
            .concat(),
        ),
        (
            "server-violation",
            [
                &[0b1100u8][..],
                &receive(&frame(0x1, true, b"unmasked", false), 4),
            ]
            .concat(),
        ),
        (
            "server-eof",
            [
                &[0b1110u8][..],
                &receive(&frame(0x1, true, b"x", true), 2),
                &[7, 0],
                &text(b"half-closed"),
            ]
            .concat(),
        ),
    ];
    for (name, script) in scripts {
        write("connection", name, &script);
    }
    for (name, script) in deflate_connection_scripts() {
        write("connection", name, &script);
    }

    // Handshake requests, whole and in pieces, with every header limit.
    for (name, request) in requests() {
        write(
            "handshake_request",
            name,
            &[&[0x00][..], request.as_bytes()].concat(),
        );
        write(
            "handshake_request",
            &format!("{name}-in-pieces-of-3-max-16-headers"),
            &[&[0x2C][..], request.as_bytes()].concat(),
        );
    }
    for (name, request) in byte_requests() {
        write("handshake_request", name, &[&[0x00][..], &request].concat());
    }
    write(
        "handshake_request",
        "rfc-1.3-max-64-bytes",
        &[&[0x01][..], targets::RFC_REQUEST].concat(),
    );
    write(
        "handshake_request",
        "rfc-1.3-with-frames-after",
        &[&[0xF0][..], targets::RFC_REQUEST, &echo].concat(),
    );

    for (name, selector, response) in responses() {
        write(
            "handshake_response",
            name,
            &[&[selector][..], response.as_bytes()].concat(),
        );
    }

    // UTF-8: a list of piece sizes, then the bytes.
    let texts: [(&str, &[u8]); 12] = [
        ("ascii", b"Hello, world"),
        ("kosme", "κόσμε".as_bytes()),
        ("four-byte", "𝄞 music €".as_bytes()),
        ("overlong-slash", b"ab\xc0\xaf"),
        ("surrogate", b"\xed\xa0\x80"),
        ("above-max", b"\xf4\x90\x80\x80"),
        (
            "autobahn-6.4",
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
        ),
        ("truncated-three-byte", b"x\xe2\x82"),
        ("truncated-four-byte", b"a\xf0\x9d\x84"),
        ("bad-second-byte", b"\xe2\x28\xa1"),
        ("lone-continuation", b"\x80abc"),
        ("ff", b"\xff"),
    ];
    for (name, text) in texts {
        write("utf8", name, &[&[0u8][..], text].concat());
        write(
            "utf8",
            &format!("{name}-pieces-1-2-0"),
            &[&[3u8, 1, 2, 0][..], text].concat(),
        );
    }

    // Masks: key, offset, split, payload.
    let payload: Vec<u8> = (0..100u8).collect();
    for (name, offset, split) in [("offset-0", 0u32, 0u16), ("offset-3-split-33", 3, 33)] {
        let mut input = KEY.to_vec();
        input.extend_from_slice(&offset.to_be_bytes());
        input.extend_from_slice(&split.to_be_bytes());
        input.extend_from_slice(&payload);
        write("mask", name, &input);
    }
    write(
        "mask",
        "rfc-5.7-hello",
        &[&KEY[..], &[0; 6], b"Hello"].concat(),
    );

    // URLs: the accepted shapes of RFC 6455 §3 and each kind of refusal.
    let urls = [
        ("plain", "ws://example.com"),
        (
            "path-and-query",
            "ws://127.0.0.1:9001/runCase?case=3&agent=plainws",
        ),
        ("query-only", "ws://h?x=1"),
        ("wss-default-port", "wss://example.com:443/socket"),
        ("wss-other-port", "WsS://example.com:8443/"),
        ("ws-port-443", "ws://h:443/"),
        ("empty-port", "ws://h:/p"),
        ("ipv6", "ws://[::1]:1235/echo"),
        ("ipv6-query", "ws://[2001:db8::1]?q"),
        ("ipv4-bad", "ws://1.2.3.999/"),
        ("unreserved-host", "ws://a-b.c_d~e/"),
        ("fragment", "ws://h/path#frag"),
        ("userinfo", "ws://user:pw@h/"),
        ("http-scheme", "http://h/"),
        ("no-scheme", "h:80/path"),
        ("no-host", "ws:///path"),
        ("port-zero", "ws://h:0"),
        ("port-too-big", "ws://h:65536"),
        ("port-plus", "ws://h:+80"),
        ("ipv6-unclosed", "ws://[::1/"),
        ("ipv6-junk-after", "ws://[::1]x/"),
        ("space-in-path", "ws://h/a b"),
        ("crlf-in-path", "ws://h/\r\nX: y"),
        ("non-ascii-path", "ws://h/\u{e9}"),
    ];
    for (name, url) in urls {
        write("url", name, url.as_bytes());
    }
    deflate_seeds();
    proxy_seeds::write_proxy_seeds(write);
}

/// Seeds of the permessage-deflate targets, in `deflate_input.rs`'s
/// format: RFC 7692 §7.2.3's examples, a few compressed messages, and
/// one stream for each rule the inflater checks.
fn deflate_seeds() {
    use deflate_input::write_deflate_input as input;
    use plainws::sansio::deflate::Deflater;

    let hello: &[u8] = &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let rfc: [(&str, Vec<&[u8]>); 6] = [
        ("rfc-7692-hello", vec![hello]),
        (
            "rfc-7692-hello-twice",
            vec![hello, &[0xf2, 0x00, 0x11, 0x00, 0x00]],
        ),
        (
            "rfc-7692-stored",
            vec![&[
                0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
            ]],
        ),
        (
            "rfc-7692-bfinal",
            vec![&[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]],
        ),
        (
            "rfc-7692-two-blocks",
            vec![&[
                0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
            ]],
        ),
        ("rfc-7692-empty", vec![&[0x00]]),
    ];
    // Corrupt streams, one per rule.
    let corrupt: [(&str, &[u8]); 5] = [
        ("block-type-3", &[0x06]),
        (
            "stored-nlen-mismatch",
            &[0x00, 0x05, 0x00, 0xfa, 0xfe, b'H', 0x00],
        ),
        ("oversubscribed-code-lengths", &[0x04, 0x00, 0x92, 0x00]),
        ("truncated-hello", &[0xf2, 0x48, 0xcd]),
        ("distance-too-far", &[0x4a, 0x04, 0x42, 0x00, 0x00]),
    ];
    let json = br#"{"id":1,"name":"alice","tags":["a","b"]},{"id":2,"name":"bob","tags":["a"]}"#;
    let mut deflater = Deflater::new(15, false);
    let mut compressed = Vec::new();
    for message in [&json[..], &json[..], b"", &[0u8; 3000][..]] {
        let mut out = Vec::new();
        deflater.compress_message(message, &mut out);
        compressed.push(out);
    }
    let compressed: Vec<&[u8]> = compressed.iter().map(Vec::as_slice).collect();
    let mut small_window = Vec::new();
    Deflater::new(8, true).compress_message(&json.repeat(10), &mut small_window);

    for target in ["inflate", "inflate_split", "inflate_differential"] {
        for (name, messages) in &rfc {
            write(target, name, &input(15, false, 0, None, messages));
        }
        for (name, bytes) in corrupt {
            write(target, name, &input(15, false, 0, None, &[bytes]));
        }
        write(
            target,
            "json-messages",
            &input(15, false, 3, None, &compressed),
        );
        write(
            target,
            "json-limit-100",
            &input(15, false, 5, Some(100), &compressed),
        );
        write(
            target,
            "window-8",
            &input(8, true, 0, None, &[&small_window]),
        );
    }
    // Round trips: plain messages (bit 4 of byte 0: repeat them).
    let text: &[u8] = b"Hello, Hello, Hello! permessage-deflate";
    let runs: &[u8] = &[200, b'a', b'b', b'c'];
    let binary: Vec<u8> = (0..=255).collect();
    for (bits, reset) in [(15, false), (8, false), (8, true), (12, true)] {
        let name = format!("bits-{bits}-{}", if reset { "reset" } else { "takeover" });
        write(
            "deflate_roundtrip",
            &name,
            &input(bits, reset, 0, None, &[text, text, b"", json, &binary]),
        );
        write(
            "deflate_roundtrip",
            &format!("{name}-repeated"),
            &input(bits, reset, 1, None, &[runs, runs, &[3, b'x'], &[9][..]]),
        );
    }
}
