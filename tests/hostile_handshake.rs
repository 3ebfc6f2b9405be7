//! Hostile opening handshakes: each gets its HTTP answer (or is cut off),
//! and the server keeps serving with no thread or descriptor left behind.

mod common;

use std::io::Write;
use std::time::{Duration, Instant};

use common::*;
use plainws::{Config, ServerOptions};

fn options() -> ServerOptions {
    ServerOptions::default()
        .config(
            Config::default()
                .handshake_timeout(Duration::from_millis(800))
                .close_timeout(Duration::from_millis(500))
                .write_timeout(Duration::from_secs(1)),
        )
        .shutdown_timeout(Duration::from_secs(3))
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

/// A server that upgrades `/` and `/echo` and echoes; every other path
/// gets 404. Each request's path and the bytes of its `X-Name` header go
/// to the returned channel.
type Seen = (String, Option<Vec<u8>>);

fn routing_fixture() -> (Fixture, std::sync::mpsc::Receiver<Seen>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let fixture = Fixture::with_handler(options(), move |incoming| {
        let accepted = incoming.accept_with(|request| {
            let seen = (
                request.path().to_owned(),
                request.header_bytes("X-Name").map(<[u8]>::to_vec),
            );
            if let Ok(tx) = tx.lock() {
                let _ = tx.send(seen);
            }
            match request.path() {
                "/" | "/echo" => Ok(plainws::Accept::default()),
                _ => Err(plainws::Response::new(404, "no\n")),
            }
        });
        if let Ok(ws) = accepted {
            echo_loop(ws);
        }
    });
    (fixture, rx)
}

fn with_header(request: &str, header: &[u8]) -> Vec<u8> {
    let end = request.len() - 2;
    [&request.as_bytes()[..end], header, b"\r\n\r\n"].concat()
}

/// After the 101, the connection echoes.
fn echoes(client: &mut RawClient) {
    client.send_frame(plainws::sansio::frame::Opcode::Text, true, b"hi");
    assert_eq!(client.frame().payload, b"hi");
}

#[test]
fn obs_text_header_values_reach_the_application_as_bytes() {
    let (fixture, seen) = routing_fixture();
    // RFC 9110 §5.5: obs-text (0x80–0xFF) is allowed in a field value.
    for value in [&b"caf\xe9 \xff\x80"[..], "caf\u{e9}".as_bytes(), b"plain"] {
        let mut client = RawClient::connect(fixture.addr);
        client.send(&with_header(
            &upgrade_request("/"),
            &[b"X-Name: ", value].concat(),
        ));
        let head = client.read_http_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{value:?}: {head}");
        echoes(&mut client);
        let (path, name) = seen.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(path, "/");
        assert_eq!(name.as_deref(), Some(value));
    }
    // Still refused: obs-text in a name, NUL or a bare CR in a value.
    for bad in [&b"X-\xe9: v"[..], b"X-Name: a\0b", b"X-Name: a\rb"] {
        let response = answer(&fixture, &with_header(&upgrade_request("/"), bad));
        assert!(response.starts_with("HTTP/1.1 400 "), "{bad:?}: {response}");
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn the_absolute_form_of_the_target_is_accepted() {
    let (fixture, seen) = routing_fixture();
    // RFC 9112 §3.2.2: "A server MUST accept the absolute-form".
    for (target, path) in [
        ("http://localhost/echo", "/echo"),
        ("ws://localhost:1235/echo?x=1", "/echo"),
        ("http://localhost", "/"),
    ] {
        let mut client = RawClient::connect(fixture.addr);
        client.send(upgrade_request(target).as_bytes());
        let head = client.read_http_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{target}: {head}");
        echoes(&mut client);
        assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap().0, path);
    }
    for target in [
        "localhost/echo",
        "http:///echo",
        "http://user@localhost/echo",
        "*",
    ] {
        let response = answer(&fixture, upgrade_request(target).as_bytes());
        assert!(
            response.starts_with("HTTP/1.1 400 "),
            "{target}: {response}"
        );
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn paths_are_percent_decoded_before_routing_and_bad_escapes_get_400() {
    let (fixture, seen) = routing_fixture();
    let mut client = RawClient::connect(fixture.addr);
    client.send(upgrade_request("/ech%6F").as_bytes());
    assert!(client.read_http_head().starts_with("HTTP/1.1 101 "));
    echoes(&mut client);
    assert_eq!(
        seen.recv_timeout(Duration::from_secs(5)).unwrap().0,
        "/echo"
    );
    drop(client);
    // Dot segments are not removed: only `/echo` itself is `/echo`.
    for path in ["/x/../echo", "/%2E%2E/echo", "/echo/"] {
        let response = answer(&fixture, upgrade_request(path).as_bytes());
        assert!(response.starts_with("HTTP/1.1 404 "), "{path}: {response}");
    }
    for path in [
        "/ech%00",
        "/echo%0d%0aX:%20y",
        "/%",
        "/%6",
        "/%zz",
        "/%FF",
        "/%C3%28",
    ] {
        let response = answer(&fixture, upgrade_request(path).as_bytes());
        assert!(response.starts_with("HTTP/1.1 400 "), "{path}: {response}");
        assert!(response.contains("path"), "{path}: {response}");
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn one_empty_line_before_the_request_line_is_ignored() {
    let fixture = Fixture::echo(options());
    // RFC 9112 §2.2: a server SHOULD ignore at least one empty line.
    for prefix in ["\r\n", "\n"] {
        let mut client = RawClient::connect(fixture.addr);
        client.send(format!("{prefix}{}", upgrade_request("/")).as_bytes());
        let head = client.read_http_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{prefix:?}: {head}");
        echoes(&mut client);
    }
    let response = answer(
        &fixture,
        format!("\r\n\r\n{}", upgrade_request("/")).as_bytes(),
    );
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn an_upgrade_with_a_body_or_conflicting_framing_gets_400() {
    let fixture = Fixture::echo(options());
    let good = upgrade_request("/");
    let cases = [
        ("Content-Length: 5\r\n\r\nhello", "Content-Length is not 0"),
        (
            "Content-Length: 0\r\nContent-Length: 2\r\n\r\nhi",
            "conflicting Content-Length",
        ),
        ("Content-Length: abc\r\n\r\n", "invalid Content-Length"),
        (
            "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "Transfer-Encoding",
        ),
        (
            "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n",
            "Transfer-Encoding",
        ),
    ];
    for (tail, why) in cases {
        let request = good.replacen("\r\n\r\n", &format!("\r\n{tail}"), 1);
        let response = answer(&fixture, request.as_bytes());
        assert!(
            response.starts_with("HTTP/1.1 400 "),
            "{tail:?}: {response}"
        );
        assert!(response.contains(why), "{tail:?}: {response}");
        assert!(!response.contains("101"), "{response}");
    }
    // A zero length is no body.
    let mut client = RawClient::connect(fixture.addr);
    client.send(
        good.replacen("\r\n\r\n", "\r\nContent-Length: 0\r\n\r\n", 1)
            .as_bytes(),
    );
    assert!(client.read_http_head().starts_with("HTTP/1.1 101 "));
    echoes(&mut client);
    drop(client);
    fixture.still_serves();
    fixture.finish();
}
