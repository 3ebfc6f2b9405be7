//! Hostile frames after a good handshake: each gets the RFC's close code
//! (or the end of TCP), and the server keeps serving with nothing leaked.

mod common;

use std::io::Write;
use std::net::Shutdown;
use std::time::Duration;

use common::*;
use plainws::sansio::frame::Opcode;
use plainws::{Config, ServerOptions};

fn options() -> ServerOptions {
    ServerOptions::default()
        .config(
            Config::default()
                .max_frame_size(1 << 20)
                .max_message_size(4 << 20)
                .max_fragments(10_000)
                .close_timeout(Duration::from_millis(500))
                .write_timeout(Duration::from_secs(1)),
        )
        .shutdown_timeout(Duration::from_secs(3))
}

/// Opens a connection, sends `bytes`, and expects a Close with `code`
/// followed by the server closing TCP.
fn expect_close_for(fixture: &Fixture, what: &str, bytes: &[u8], code: u16) {
    let mut client = RawClient::open(fixture.addr);
    let _ = client.try_send(bytes);
    match client.next(Duration::from_secs(5)) {
        Next::Frame(frame) => {
            assert_eq!(frame.close_code(), Some(code), "{what}: {frame:?}");
            assert_eq!(
                client.next(Duration::from_secs(5)),
                Next::Eof,
                "{what}: TCP must close"
            );
        }
        other => panic!("{what}: expected close {code}, got {other:?}"),
    }
}

fn with_header_bytes(first: u8, second: u8, rest: &[u8]) -> Vec<u8> {
    let mut bytes = vec![first, second];
    bytes.extend_from_slice(rest);
    bytes
}

#[test]
fn frame_violations_get_1002() {
    let fixture = Fixture::echo(options());
    let mut reserved_bits = client_frame(Opcode::Text, true, b"x");
    reserved_bits[0] |= 0x40;
    let mut fragmented_then_text = client_frame(Opcode::Text, false, b"a");
    fragmented_then_text.extend(client_frame(Opcode::Text, true, b"b"));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unmasked frame", vec![0x81, 0x01, b'x']),
        ("RSV1 set", reserved_bits),
        ("opcode 3", with_header_bytes(0x83, 0x80, &MASK)),
        ("opcode 0xB", with_header_bytes(0x8B, 0x80, &MASK)),
        (
            "ping of 126 bytes",
            client_frame(Opcode::Ping, true, &[0; 126]),
        ),
        (
            "close of 126 bytes declared, none sent",
            vec![0x88, 0xFE, 0x00, 0x7E],
        ),
        ("fragmented ping", client_frame(Opcode::Ping, false, b"p")),
        (
            "continuation first",
            client_frame(Opcode::Continuation, true, b"c"),
        ),
        ("text inside a fragmented message", fragmented_then_text),
        (
            "64-bit length with the top bit",
            with_header_bytes(0x82, 0xFF, &[0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
        ),
        ("one-byte close", client_frame(Opcode::Close, true, &[3])),
    ];
    for (what, bytes) in cases {
        expect_close_for(&fixture, what, &bytes, 1002);
    }
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let frame = client_frame(Opcode::Close, true, &close_payload(code, ""));
        expect_close_for(&fixture, &format!("close code {code}"), &frame, 1002);
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn invalid_utf8_gets_1007_even_mid_frame() {
    let fixture = Fixture::echo(options());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("overlong", client_frame(Opcode::Text, true, b"a\xc0\xaf")),
        (
            "surrogate",
            client_frame(Opcode::Text, true, b"\xed\xa0\x80"),
        ),
        (
            "above U+10FFFF",
            client_frame(Opcode::Text, true, b"\xf4\x90\x80\x80"),
        ),
        (
            "truncated at the end",
            client_frame(Opcode::Text, true, b"ok\xe2\x82"),
        ),
        (
            "bad close reason",
            client_frame(Opcode::Close, true, b"\x03\xe8\xff"),
        ),
        ("split across fragments", {
            let mut bytes = client_frame(Opcode::Text, false, b"ab\xed");
            bytes.extend(client_frame(Opcode::Continuation, true, b"\xa0\x80"));
            bytes
        }),
    ];
    for (what, bytes) in cases {
        expect_close_for(&fixture, what, &bytes, 1007);
    }
    // Fail fast: a frame declaring 1000 bytes whose first bytes are bad is
    // refused before the rest arrives.
    let mut client = RawClient::open(fixture.addr);
    let frame = client_frame(Opcode::Text, true, &[0xff; 1000]);
    client.send(&frame[..20]);
    assert_eq!(client.frame().close_code(), Some(1007));
    drop(client);
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn limits_get_1009_before_the_payload() {
    let fixture = Fixture::echo(options());
    // 2^62 declared, then silence: refused at the header.
    let huge = with_header_bytes(0x82, 0xFF, &[0x40, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
    expect_close_for(&fixture, "2^62 declared", &huge, 1009);
    // Fragments each under the frame limit adding up past the message limit.
    let mut fragments = client_frame(Opcode::Binary, false, &[0; 1 << 20]);
    for _ in 0..4 {
        fragments.extend(client_frame(Opcode::Continuation, false, &[0; 1 << 20]));
    }
    expect_close_for(&fixture, "cumulative size", &fragments, 1009);
    // A fragment bomb: empty fragments past the count limit.
    let before = rss_kib();
    let mut bomb = client_frame(Opcode::Binary, false, b"");
    for _ in 0..20_000 {
        bomb.extend(client_frame(Opcode::Continuation, false, b""));
    }
    expect_close_for(&fixture, "fragment bomb", &bomb, 1009);
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        assert!(
            after < before + 64 * 1024,
            "memory grew from {before} to {after} KiB"
        );
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn data_after_close_is_ignored() {
    let fixture = Fixture::echo(options());
    let mut client = RawClient::open(fixture.addr);
    let mut bytes = client_frame(Opcode::Close, true, &close_payload(1000, "bye"));
    bytes.extend(client_frame(Opcode::Text, true, b"after close"));
    client.send(&bytes);
    client.expect_close(1000);
    drop(client);
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn half_close_and_reset_mid_frame_end_the_connection_only() {
    let fixture = Fixture::echo(options());
    // Half-close in the middle of a frame: the server sees the end of the
    // stream, an abnormal closure (1006: no Close frame is sent).
    let mut client = RawClient::open(fixture.addr);
    let frame = client_frame(Opcode::Binary, true, &[7; 500]);
    client.send(&frame[..100]);
    client.stream.shutdown(Shutdown::Write).unwrap();
    assert_eq!(client.next(Duration::from_secs(5)), Next::Eof);
    drop(client);
    // A reset in the middle of a frame: close with unread data pending.
    let mut client = RawClient::open(fixture.addr);
    client.send_frame(Opcode::Ping, true, b"unread pong");
    std::thread::sleep(Duration::from_millis(50));
    client.send(&frame[..100]);
    drop(client);
    std::thread::sleep(Duration::from_millis(50));
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn a_ping_flood_from_a_peer_that_never_reads_is_cut_off() {
    let fixture = Fixture::echo(options());
    let before = rss_kib();
    let mut client = RawClient::open(fixture.addr);
    client
        .stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let ping = client_frame(Opcode::Ping, true, &[b'p'; 125]);
    let burst: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 1000)
        .collect();
    let mut sent = 0usize;
    // Never read. The server's pongs fill the socket buffers, its write
    // blocks, and the write timeout ends the connection: our writes fail.
    let cut_off = (0..2000).any(|_| match client.stream.write_all(&burst) {
        Ok(()) => {
            sent += burst.len();
            false
        }
        Err(_) => true,
    });
    assert!(
        cut_off,
        "the server kept reading {sent} bytes of pings without answering"
    );
    if let (Some(before), Some(after)) = (before, rss_kib()) {
        assert!(
            after < before + 64 * 1024,
            "memory grew from {before} to {after} KiB"
        );
    }
    drop(client);
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn partial_header_then_silence_holds_nothing_but_the_connection() {
    let fixture = Fixture::echo(options());
    let mut client = RawClient::open(fixture.addr);
    client.stream.write_all(&[0x82]).unwrap();
    // Another client is served meanwhile.
    fixture.still_serves();
    drop(client);
    fixture.finish();
}
