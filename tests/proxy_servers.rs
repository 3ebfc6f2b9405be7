//! The client through real proxies from Debian's packages, started here on
//! loopback ports: tinyproxy (HTTP CONNECT, RFC 9110 §9.3.6, with and
//! without Basic authentication) and microsocks (SOCKS5, RFC 1928, with
//! and without RFC 1929 username/password), `socks5://` and `socks5h://`.
//! Each refusal is asserted as the real server sends it.
//! `scripts/setup-proxies.sh` installs the servers (scripts/test.sh runs it);
//! without them these tests fail, saying so.

mod common;
#[path = "common/proxies.rs"]
mod proxies;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use plainws::{ClientOptions, Config, Error, Message, Proxy};
use proxies::{Microsocks, Tinyproxy, closed_port};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";
const AUTH: Option<(&str, &str)> = Some((USER, PASSWORD));

fn options(proxy: &str) -> ClientOptions {
    ClientOptions::default()
        .proxy(Proxy::parse(proxy).expect("a proxy URL"))
        .connect_timeout(Duration::from_secs(10))
        .config(Config::default().close_timeout(Duration::from_secs(2)))
}

/// A WebSocket echo server on loopback; its port.
fn echo_server() -> u16 {
    spawn_server(echo_with(Config::default())).port()
}

/// Connects to `url` through `proxy`, checks that a text and a binary
/// message come back, and closes.
fn round_trip(url: &str, proxy: &str) {
    let mut ws = plainws::connect_with(url, options(proxy))
        .unwrap_or_else(|e| panic!("{url} through {proxy}: {e}"));
    ws.send_text("through the tunnel").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("through the tunnel".into())
    );
    let big = vec![7u8; 200_000];
    ws.send_binary(&big).unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Binary(big));
    ws.close(plainws::CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.recv(), Ok(Message::Close(_)) | Err(_)) {}
}

/// The error, after checking that neither its Display nor its Debug
/// holds the password.
fn failure(url: &str, proxy: &str) -> Error {
    match plainws::connect_with(url, options(proxy)) {
        Ok(_) => panic!("{url} through {proxy}: connected"),
        Err(e) => {
            let (text, debug) = (e.to_string(), format!("{e:?}"));
            assert!(
                !text.contains(PASSWORD) && !debug.contains(PASSWORD),
                "{text} / {debug}"
            );
            e
        }
    }
}

#[test]
fn tinyproxy_tunnels_ws_without_authentication() {
    let port = echo_server();
    let proxy = Tinyproxy::start(None, &[port]);
    round_trip(&format!("ws://127.0.0.1:{port}/echo"), &proxy.url(None));
    // tinyproxy logged the CONNECT: the connection went through it.
    let log = proxy.log();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{port}")), "{log}");
}

#[test]
fn tinyproxy_with_basic_authentication() {
    let port = echo_server();
    let proxy = Tinyproxy::start(AUTH, &[port]);
    let url = format!("ws://127.0.0.1:{port}/echo");
    round_trip(&url, &proxy.url(AUTH));
    // A tracer sees every frame; the options' Debug everything else: no
    // credentials in either.
    let traced = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&traced);
    let tracer: plainws::Tracer = Arc::new(move |direction, header, preview| {
        let line = plainws::sansio::trace::format_frame_bytes(direction, header, preview);
        sink.lock().unwrap().push_str(&line);
    });
    let traced_options = options(&proxy.url(AUTH)).config(Config::default().tracer(Some(tracer)));
    let debug = format!("{traced_options:?}");
    assert!(
        !debug.contains(PASSWORD) && !debug.contains(USER),
        "{debug}"
    );
    let mut ws = plainws::connect_with(&url, traced_options).expect("traced");
    ws.send_text("traced").unwrap();
    assert_eq!(ws.recv().unwrap(), Message::Text("traced".into()));
    drop(ws);
    let traced = traced.lock().unwrap().clone();
    assert!(traced.contains("TEXT frame"), "{traced}");
    assert!(
        !traced.contains(PASSWORD) && !traced.contains(USER),
        "{traced}"
    );
    // A host name as the CONNECT target, resolved by the proxy.
    round_trip(&format!("ws://localhost:{port}/echo"), &proxy.url(AUTH));

    // No credentials: 407, and the scheme the proxy asks for.
    match failure(&url, &proxy.url(None)) {
        Error::ProxyRefused {
            status,
            reason,
            authenticate,
        } => {
            assert_eq!(status, 407);
            assert_eq!(reason, "Proxy Authentication Required");
            assert_eq!(authenticate, ["Basic"]);
        }
        other => panic!("{other:?}"),
    }
    // Wrong credentials: tinyproxy 1.11 answers 401 (not 407); either is
    // an authentication failure once credentials were sent.
    match failure(&url, &proxy.url(Some((USER, "wrong")))) {
        Error::ProxyAuthFailed(why) => assert!(why.contains("401 Unauthorized"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tinyproxy_refusals_carry_status_and_reason() {
    let port = echo_server();
    let down = closed_port();
    let proxy = Tinyproxy::start(None, &[port, down]);
    // A port the proxy does not CONNECT to: 403.
    let other = closed_port();
    match failure(&format!("ws://127.0.0.1:{other}/"), &proxy.url(None)) {
        Error::ProxyRefused { status, reason, .. } => {
            assert_eq!((status, reason.as_str()), (403, "Access violation"));
        }
        other => panic!("{other:?}"),
    }
    // A target that is down: tinyproxy 1.11 answers 500 (not 502).
    match failure(&format!("ws://127.0.0.1:{down}/"), &proxy.url(None)) {
        Error::ProxyRefused { status, reason, .. } => {
            assert_eq!((status, reason.as_str()), (500, "Unable to connect"));
        }
        other => panic!("{other:?}"),
    }
    // The proxy itself still tunnels.
    round_trip(&format!("ws://127.0.0.1:{port}/echo"), &proxy.url(None));
}

#[test]
fn a_proxy_that_is_not_there_is_unreachable() {
    let port = closed_port();
    for scheme in ["http", "socks5", "socks5h"] {
        let proxy = format!("{scheme}://{USER}:{PASSWORD}@127.0.0.1:{port}");
        match failure("ws://127.0.0.1:9/", &proxy) {
            Error::ProxyUnreachable { proxy, error } => {
                assert_eq!(proxy, format!("{scheme}://127.0.0.1:{port}"));
                assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn microsocks_tunnels_socks5_and_socks5h() {
    let port = echo_server();
    let proxy = Microsocks::start(None);
    round_trip(
        &format!("ws://127.0.0.1:{port}/echo"),
        &proxy.url("socks5", None),
    );
    // socks5: the client resolves localhost; socks5h: the proxy does.
    round_trip(
        &format!("ws://localhost:{port}/echo"),
        &proxy.url("socks5", None),
    );
    round_trip(
        &format!("ws://localhost:{port}/echo"),
        &proxy.url("socks5h", None),
    );
    // A target that is down: reply 5, in words.
    let down = closed_port();
    for scheme in ["socks5", "socks5h"] {
        let error = failure(&format!("ws://127.0.0.1:{down}/"), &proxy.url(scheme, None));
        assert!(
            matches!(error, Error::ProxyTargetUnreachable { reply: 5 }),
            "{error:?}"
        );
        assert!(error.to_string().contains("connection refused"), "{error}");
    }
}

#[test]
fn microsocks_with_username_and_password() {
    let port = echo_server();
    let proxy = Microsocks::start(AUTH);
    let url = format!("ws://127.0.0.1:{port}/echo");
    round_trip(&url, &proxy.url("socks5", AUTH));
    round_trip(
        &format!("ws://localhost:{port}/echo"),
        &proxy.url("socks5h", AUTH),
    );
    // A wrong password (RFC 1929 status other than 0).
    match failure(&url, &proxy.url("socks5h", Some((USER, "wrong")))) {
        Error::ProxyAuthFailed(why) => assert!(why.contains("refused the user name"), "{why}"),
        other => panic!("{other:?}"),
    }
    // None given: no acceptable method (X'FF').
    match failure(&url, &proxy.url("socks5", None)) {
        Error::ProxyAuthFailed(why) => assert!(why.contains("requires authentication"), "{why}"),
        other => panic!("{other:?}"),
    }
    // SOCKS5 asked of an HTTP proxy: tinyproxy waits for the rest of a
    // request line that never comes. The connect timeout ends it, on time.
    let http = Tinyproxy::start(None, &[port]);
    let socks = Proxy::parse(&format!("socks5://{}", http.addr)).unwrap();
    let started = std::time::Instant::now();
    let result = plainws::connect_with(
        &url,
        ClientOptions::default()
            .proxy(socks)
            .connect_timeout(Duration::from_millis(800)),
    );
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout("proxy handshake"))),
        "{:?}",
        result.err()
    );
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

/// A missing server is a failure that says what to run, never a pass.
#[test]
#[should_panic(expected = "is not installed: run scripts/setup-proxies.sh")]
fn a_missing_proxy_server_fails_saying_how_to_install_it() {
    proxies::require("no-such-proxy-server");
}
