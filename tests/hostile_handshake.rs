//! Hostile opening handshakes: each gets its HTTP answer (or is cut off),
//! and the server keeps serving with no thread or descriptor left behind.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use plainws::{Config, ServerOptions};

fn options() -> ServerOptions {
    ServerOptions {
        config: Config {
            handshake_timeout: Duration::from_millis(800),
            close_timeout: Duration::from_millis(500),
            write_timeout: Duration::from_secs(1),
            ..Config::default()
        },
        shutdown_timeout: Duration::from_secs(3),
        ..ServerOptions::default()
    }
}

/// Sends `request` and returns the whole response.
fn answer(fixture: &Fixture, request: &[u8]) -> String {
    let mut client = RawClient::connect(fixture.addr);
    let _ = client.try_send(request);
    client.read_http_response()
}

#[test]
fn oversized_request_line_and_headers_get_431() {
    let fixture = Fixture::echo(options());
    let long_target = upgrade_request(&format!("/{}", "a".repeat(20_000)));
    assert!(answer(&fixture, long_target.as_bytes()).starts_with("HTTP/1.1 431 "));
    let big_header = upgrade_request("/").replace(
        "\r\n\r\n",
        &format!("\r\nCookie: {}\r\n\r\n", "c".repeat(17_000)),
    );
    assert!(answer(&fixture, big_header.as_bytes()).starts_with("HTTP/1.1 431 "));
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn ten_thousand_headers_get_431() {
    let fixture = Fixture::echo(options());
    let mut request = upgrade_request("/").trim_end().to_owned();
    for i in 0..10_000 {
        request.push_str(&format!("\r\nX-{i}: v"));
    }
    request.push_str("\r\n\r\n");
    assert!(answer(&fixture, request.as_bytes()).starts_with("HTTP/1.1 431 "));
    // Small headers, but more of them than the count limit allows.
    let mut request = upgrade_request("/").trim_end().to_owned();
    for i in 0..150 {
        request.push_str(&format!("\r\nX{i}:"));
    }
    request.push_str("\r\n\r\n");
    assert!(answer(&fixture, request.as_bytes()).starts_with("HTTP/1.1 431 "));
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn a_slowloris_client_is_cut_off_at_the_deadline() {
    let fixture = Fixture::echo(options());
    let mut client = RawClient::connect(fixture.addr);
    let started = Instant::now();
    let request = upgrade_request("/");
    let mut cut_off = None;
    for byte in request.as_bytes() {
        if client.stream.write_all(&[*byte]).is_err() {
            cut_off = Some(started.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        if client.next(Duration::from_millis(1)) == Next::Eof {
            cut_off = Some(started.elapsed());
            break;
        }
    }
    let cut_off = cut_off.expect("a byte every 50 ms must not keep the handshake alive");
    assert!(cut_off < Duration::from_secs(3), "{cut_off:?}");
    drop(client);
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn malformed_requests_get_400() {
    let fixture = Fixture::echo(options());
    let good = upgrade_request("/");
    let cases: Vec<Vec<u8>> = vec![
        good.replace("Host: localhost", "Host: local\0host")
            .into_bytes(),
        good.replace("Host: localhost", "Hostlocalhost")
            .into_bytes(),
        good.replace("Host: localhost", " folded: x").into_bytes(),
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\xff\xfe\n\n".to_vec(),
        b"\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        good.replace("GET / HTTP/1.1", "GET / HTTP/9").into_bytes(),
    ];
    for request in cases {
        let response = answer(&fixture, &request);
        assert!(
            response.starts_with("HTTP/1.1 400 "),
            "{:?}: {response}",
            String::from_utf8_lossy(&request)
        );
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn every_invalid_handshake_field_is_refused() {
    let fixture = Fixture::echo(options());
    let good = upgrade_request("/");
    let cases = [
        (good.replace("GET", "PUT"), "405"),
        (good.replace("Host: localhost\r\n", ""), "400"),
        (
            good.replace("Host: localhost\r\n", "Host: a\r\nHost: b\r\n"),
            "400",
        ),
        (
            good.replace("Upgrade: websocket", "Upgrade: websocketx"),
            "400",
        ),
        (
            good.replace("Connection: Upgrade", "Connection: Upgraded"),
            "400",
        ),
        (
            good.replace("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"),
            "400",
        ),
        (
            good.replace(
                "dGhlIHNhbXBsZSBub25jZQ==",
                "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            ),
            "400",
        ),
        (good.replace("Version: 13", "Version: 13, 8"), "426"),
        (good.replace("Sec-WebSocket-Version: 13\r\n", ""), "426"),
    ];
    for (request, status) in cases {
        let response = answer(&fixture, request.as_bytes());
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{request:?}: {response}"
        );
        assert!(response.contains("Connection: close"));
    }
    fixture.still_serves();
    fixture.finish();
}
