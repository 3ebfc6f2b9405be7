//! `plainws::Server`: connection limit, origin allow-list, shutdown; and the
//! optional timers (keepalive, idle) and the write timeout.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use plainws::sansio::frame::Opcode;
use plainws::{Accept, CloseCode, Config, Error, Keepalive, ServerOptions};

fn quick() -> Config {
    Config::default()
        .close_timeout(Duration::from_millis(500))
        .write_timeout(Duration::from_secs(1))
}

#[test]
fn beyond_the_connection_limit_clients_get_503() {
    let fixture = Fixture::echo(ServerOptions::default().max_connections(2).config(quick()));
    let a = RawClient::open(fixture.addr);
    let b = RawClient::open(fixture.addr);
    let mut c = RawClient::connect(fixture.addr);
    c.send(upgrade_request("/").as_bytes());
    let response = c.read_http_response();
    assert!(
        response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{response}"
    );
    drop((a, b, c));
    assert!(eventually(Duration::from_secs(5), || fixture
        .handle
        .connections()
        == 0));
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn only_allowed_origins_are_upgraded() {
    let fixture = Fixture::echo(
        ServerOptions::default()
            .allowed_origins(vec!["https://good.example".into()])
            .config(quick()),
    );
    let with_origin = |origin: &str| {
        upgrade_request("/").replace("\r\n\r\n", &format!("\r\nOrigin: {origin}\r\n\r\n"))
    };
    let mut evil = RawClient::connect(fixture.addr);
    evil.send(with_origin("https://evil.example").as_bytes());
    assert!(evil.read_http_response().starts_with("HTTP/1.1 403 "));
    let mut good = RawClient::connect(fixture.addr);
    good.send(with_origin("https://good.example").as_bytes());
    assert!(good.read_http_head().starts_with("HTTP/1.1 101 "));
    drop((evil, good));
    // No Origin: not a browser, let through.
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn shutdown_closes_every_connection_with_1001() {
    let fixture = Fixture::echo(ServerOptions::default().config(quick()));
    let mut clients: Vec<RawClient> = (0..5).map(|_| RawClient::open(fixture.addr)).collect();
    let handle = fixture.handle.clone();
    let started = Instant::now();
    let stopper = std::thread::spawn(move || handle.shutdown());
    for client in &mut clients {
        let close = client.frame();
        assert_eq!(close.close_code(), Some(1001));
        client.send_frame(Opcode::Close, true, &close.payload);
        assert_eq!(client.next(Duration::from_secs(5)), Next::Eof);
    }
    assert!(stopper.join().unwrap(), "every connection thread ended");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(clients);
    // Refused from now on.
    assert!(
        std::net::TcpStream::connect(fixture.addr).is_err() || {
            let mut probe = RawClient::connect(fixture.addr);
            probe.send(upgrade_request("/").as_bytes());
            !probe.read_http_head().starts_with("HTTP/1.1 101")
        }
    );
    fixture.finish();
}

#[test]
fn shutdown_is_bounded_even_when_clients_ignore_the_close() {
    let fixture = Fixture::echo(
        ServerOptions::default()
            .config(quick())
            .shutdown_timeout(Duration::from_secs(2)),
    );
    let silent: Vec<RawClient> = (0..3).map(|_| RawClient::open(fixture.addr)).collect();
    let started = Instant::now();
    assert!(fixture.handle.shutdown());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
    fixture.finish();
}

/// One connection served with `config`; returns the server's last result.
fn serve_once(config: Config) -> (std::net::SocketAddr, mpsc::Receiver<Result<(), Error>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let (mut receiver, _sender) =
            plainws::accept_with(stream, config, |_| Ok(Accept::default()))
                .unwrap()
                .split();
        let result = loop {
            match receiver.recv() {
                Ok(_) => continue,
                Err(e) => break Err(e),
            }
        };
        tx.send(result).unwrap();
    });
    (addr, rx)
}

#[test]
fn keepalive_pings_a_quiet_peer_and_fails_with_1011_without_a_pong() {
    let (addr, result) = serve_once(quick().keepalive(Keepalive {
        interval: Duration::from_millis(200),
        timeout: Duration::from_millis(200),
    }));
    let mut client = RawClient::open(addr);
    let ping = client.frame();
    assert_eq!(ping.header.opcode, Opcode::Ping);
    // Answer the first one: the connection stays up.
    client.send_frame(Opcode::Pong, true, &ping.payload);
    let second = client.frame();
    assert_eq!(second.header.opcode, Opcode::Ping);
    // Ignore the second.
    client.expect_close(1011);
    let result = result.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(result, Err(Error::PongTimeout)), "{result:?}");
}

#[test]
fn an_idle_connection_is_closed_with_1001() {
    let (addr, result) = serve_once(quick().idle_timeout(Duration::from_millis(300)));
    let mut client = RawClient::open(addr);
    let started = Instant::now();
    client.expect_close(1001);
    assert!(started.elapsed() >= Duration::from_millis(250));
    let result = result.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
}

#[test]
fn a_peer_that_never_reads_fails_every_sender_at_the_write_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let config = Config::default().write_timeout(Duration::from_millis(300));
        let ws = plainws::accept_with(stream, config, |_| Ok(Accept::default())).unwrap();
        let sender = ws.sender();
        let chunk = vec![0u8; 1 << 20];
        let started = Instant::now();
        let first_error = loop {
            if let Err(e) = sender.send_binary(&chunk) {
                break e;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "writes never timed out"
            );
        };
        let other = sender.clone().send_text("after");
        let close = sender.close(CloseCode::NORMAL, "");
        tx.send((first_error, other, close)).unwrap();
    });
    let mut client = RawClient::open(addr);
    let (first, other, close) = rx.recv_timeout(Duration::from_secs(15)).unwrap();
    assert!(
        matches!(first, Error::Timeout(_) | Error::Io(_)),
        "{first:?}"
    );
    assert!(matches!(other, Err(Error::ConnectionFailed)), "{other:?}");
    assert!(matches!(close, Err(Error::ConnectionFailed)), "{close:?}");
    // The server shut the socket: draining ends at EOF or a reset.
    let mut sink = vec![0u8; 1 << 20];
    client
        .stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    loop {
        match client.stream.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

#[test]
fn several_origin_headers_get_400_with_or_without_an_allow_list() {
    // RFC 6454 §7.3: a user agent sends at most one Origin; with two, no
    // single one can be trusted, so neither is checked: the request is 400.
    let two = upgrade_request("/").replace(
        "\r\n\r\n",
        "\r\nOrigin: https://good.example\r\nOrigin: https://evil.example\r\n\r\n",
    );
    for allowed in [Some(vec!["https://good.example".into()]), None] {
        let fixture = Fixture::echo(
            ServerOptions::default()
                .allowed_origins(allowed.clone())
                .config(quick()),
        );
        let mut client = RawClient::connect(fixture.addr);
        client.send(two.as_bytes());
        let response = client.read_http_response();
        assert!(
            response.starts_with("HTTP/1.1 400 "),
            "{allowed:?}: {response}"
        );
        assert!(response.contains("more than one Origin"), "{response}");
        drop(client);
        fixture.still_serves();
        fixture.finish();
    }
}

#[test]
fn origins_are_compared_as_bytes() {
    let fixture = Fixture::echo(
        ServerOptions::default()
            .allowed_origins(vec!["https://caf\u{e9}.example".into()])
            .config(quick()),
    );
    let with_origin = |origin: &[u8]| {
        let request = upgrade_request("/");
        let end = request.len() - 2;
        [&request.as_bytes()[..end], b"Origin: ", origin, b"\r\n\r\n"].concat()
    };
    // The same characters, in Latin-1 rather than UTF-8: not the origin.
    let mut latin1 = RawClient::connect(fixture.addr);
    latin1.send(&with_origin(b"https://caf\xe9.example"));
    assert!(latin1.read_http_response().starts_with("HTTP/1.1 403 "));
    let mut utf8 = RawClient::connect(fixture.addr);
    utf8.send(&with_origin("HTTPS://CAF\u{e9}.EXAMPLE".as_bytes()));
    assert!(utf8.read_http_head().starts_with("HTTP/1.1 101 "));
    drop((latin1, utf8));
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn answers_to_head_requests_have_no_body() {
    // RFC 9110 §9.3.2: the same header fields as for GET, no content.
    let fixture = Fixture::with_handler(ServerOptions::default().config(quick()), |incoming| {
        let accepted = incoming.accept_with(|request| match request.path() {
            "/page" => Err(plainws::Response::html(200, "<p>page</p>")),
            "/" => Ok(Accept::default()),
            _ => Err(plainws::Response::new(404, "nothing here\n")),
        });
        if let Ok(ws) = accepted {
            echo_loop(ws);
        }
    });
    for (path, status, body) in [
        ("/page", "200", "<p>page</p>"),
        ("/x", "404", "nothing here\n"),
    ] {
        let mut get = RawClient::connect(fixture.addr);
        get.send(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let full = get.read_http_response();
        let mut head = RawClient::connect(fixture.addr);
        head.send(format!("HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
        let head_only = head.read_http_response();
        assert!(
            head_only.starts_with(&format!("HTTP/1.1 {status} ")),
            "{head_only}"
        );
        assert!(
            head_only.contains(&format!("Content-Length: {}\r\n", body.len())),
            "{head_only}"
        );
        assert!(head_only.ends_with("\r\n\r\n"), "{head_only}");
        assert_eq!(format!("{head_only}{body}"), full);
    }
    fixture.still_serves();
    fixture.finish();
}

#[test]
fn accept_with_answers_a_head_upgrade_with_405_and_no_body() {
    // Not through `Server`: the library's own refusal from `accept_with`.
    let addr = spawn_server(echo_with(quick()));
    let mut client = RawClient::connect(addr);
    client.send(
        b"HEAD / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let response = client.read_http_response();
    assert!(response.starts_with("HTTP/1.1 405 "), "{response}");
    assert!(response.contains("Content-Length: "), "{response}");
    assert!(
        response.ends_with("\r\n\r\n"),
        "no body after the head: {response:?}"
    );
}
