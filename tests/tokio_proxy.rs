//! The tokio client through proxies: real tinyproxy (HTTP CONNECT) and
//! microsocks (SOCKS5) started here on loopback, and scripted proxies for
//! what real ones rarely do. The tunnel is the blocking client's
//! (`open_tunnel`, run on tokio's blocking pool), so every failure must be
//! the very error the blocking client returns for the same proxy.
//! `scripts/setup-proxies.sh` installs the servers (scripts/test.sh runs it);
//! without them these tests fail, saying so.
#![cfg(feature = "tokio")]

mod common;
#[path = "common/proxies.rs"]
mod proxies;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::*;
use plainws::{ClientOptions, CloseCode, Config, Error, Message, Proxy};
use proxies::{Microsocks, Tinyproxy, closed_port};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-pw";
const AUTH: Option<(&str, &str)> = Some((USER, PASSWORD));

fn options(proxy: &str, connect_timeout: Duration) -> ClientOptions {
    ClientOptions::default()
        .proxy(Proxy::parse(proxy).expect("a proxy URL"))
        .connect_timeout(connect_timeout)
        .config(Config::default().close_timeout(Duration::from_secs(2)))
}

/// A WebSocket echo server on loopback (the blocking one: the server side
/// does not matter here); its port.
fn echo_server() -> u16 {
    spawn_server(echo_with(Config::default())).port()
}

/// Connects to `url` through `proxy` with the tokio client, checks that a
/// text and a large binary message come back, and closes.
async fn round_trip(url: &str, proxy: &str) {
    let mut ws = plainws::tokio::connect_with(url, options(proxy, Duration::from_secs(10)))
        .await
        .unwrap_or_else(|e| panic!("{url} through {proxy}: {e}"));
    ws.send_text("through the tunnel").await.expect("send");
    assert_eq!(
        ws.recv().await.expect("echo"),
        Message::Text("through the tunnel".into())
    );
    let big = vec![7u8; 200_000];
    ws.send_binary(&big).await.expect("send");
    assert_eq!(ws.recv().await.expect("echo"), Message::Binary(big));
    ws.close(CloseCode::NORMAL, "").await.expect("close");
    while !matches!(ws.recv().await, Ok(Message::Close(_)) | Err(_)) {}
}

/// The tokio client's error for `url` through `proxy`, after checking that
/// it is the blocking client's, word for word, and holds no password.
async fn same_failure(url: &str, proxy: &str, connect_timeout: Duration) -> Error {
    let tokio_error = match plainws::tokio::connect_with(url, options(proxy, connect_timeout)).await
    {
        Ok(_) => panic!("{url} through {proxy}: connected"),
        Err(e) => e,
    };
    let (url_owned, proxy_owned) = (url.to_string(), proxy.to_string());
    let blocking_error = tokio::task::spawn_blocking(move || {
        plainws::connect_with(&url_owned, options(&proxy_owned, connect_timeout)).err()
    })
    .await
    .expect("blocking client")
    .expect("the blocking client fails too");
    assert_eq!(tokio_error.to_string(), blocking_error.to_string());
    let debug = format!("{tokio_error:?}");
    assert!(
        !tokio_error.to_string().contains(PASSWORD) && !debug.contains(PASSWORD),
        "{debug}"
    );
    tokio_error
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tinyproxy_tunnels_with_and_without_authentication() {
    let port = echo_server();
    let open = Tinyproxy::start(None, &[port]);
    round_trip(&format!("ws://127.0.0.1:{port}/echo"), &open.url(None)).await;
    // tinyproxy logged the CONNECT: the connection went through it.
    let log = open.log();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{port}")), "{log}");

    let guarded = Tinyproxy::start(AUTH, &[port]);
    let url = format!("ws://127.0.0.1:{port}/echo");
    round_trip(&url, &guarded.url(AUTH)).await;
    // A host name as the CONNECT target, resolved by the proxy.
    round_trip(&format!("ws://localhost:{port}/echo"), &guarded.url(AUTH)).await;
    // No credentials: 407, and the scheme the proxy asks for.
    match same_failure(&url, &guarded.url(None), Duration::from_secs(10)).await {
        Error::ProxyRefused {
            status,
            authenticate,
            ..
        } => {
            assert_eq!(status, 407);
            assert_eq!(authenticate, ["Basic"]);
        }
        other => panic!("{other:?}"),
    }
    // Wrong credentials: an authentication failure.
    let wrong = guarded.url(Some((USER, "wrong")));
    let error = same_failure(&url, &wrong, Duration::from_secs(10)).await;
    assert!(matches!(error, Error::ProxyAuthFailed(_)), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsocks_tunnels_socks5_and_socks5h_with_a_password() {
    let port = echo_server();
    let proxy = Microsocks::start(AUTH);
    round_trip(
        &format!("ws://127.0.0.1:{port}/echo"),
        &proxy.url("socks5", AUTH),
    )
    .await;
    // socks5h: the proxy resolves the name.
    round_trip(
        &format!("ws://localhost:{port}/echo"),
        &proxy.url("socks5h", AUTH),
    )
    .await;
    let url = format!("ws://127.0.0.1:{port}/echo");
    let wrong = proxy.url("socks5h", Some((USER, "wrong")));
    let error = same_failure(&url, &wrong, Duration::from_secs(10)).await;
    assert!(matches!(error, Error::ProxyAuthFailed(_)), "{error:?}");
    // A target that is down: SOCKS5 reply 5.
    let down = format!("ws://127.0.0.1:{}/", closed_port());
    let open = Microsocks::start(None);
    let error = same_failure(&down, &open.url("socks5", None), Duration::from_secs(10)).await;
    assert!(
        matches!(error, Error::ProxyTargetUnreachable { reply: 5 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_proxy_that_is_not_there_is_unreachable_never_bypassed() {
    // The server is up: a client that ignored the proxy would connect.
    let port = echo_server();
    let proxy = format!("http://127.0.0.1:{}", closed_port());
    let url = format!("ws://127.0.0.1:{port}/echo");
    match same_failure(&url, &proxy, Duration::from_secs(10)).await {
        Error::ProxyUnreachable { error, .. } => {
            assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("{other:?}"),
    }
}

/// A scripted proxy for one connection: answers CONNECT with `answer`,
/// then holds the connection until the client lets go.
fn scripted_proxy(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        // Two clients: the tokio one, then the blocking one.
        for _ in 0..2 {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if stream.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            if !answer.is_empty() {
                let _ = stream.write_all(answer);
            }
            // Hold the connection until the client closes it.
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).unwrap_or(0) > 0 {}
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_after_the_proxys_answer_reach_the_handshake() {
    // The proxy's answer and, in the same write, what the tunnel's far end
    // sent first: they are the handshake's first bytes, never dropped (a
    // client that dropped them would wait for an answer until its timeout).
    let proxy = scripted_proxy(b"HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    let started = Instant::now();
    let error = same_failure("ws://127.0.0.1:9/", &proxy, Duration::from_secs(20)).await;
    assert!(error.to_string().contains("403"), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_proxy_times_out_at_the_connect_deadline() {
    let proxy = scripted_proxy(b"");
    let started = Instant::now();
    let result = plainws::tokio::connect_with(
        "ws://127.0.0.1:9/",
        options(&proxy, Duration::from_millis(600)),
    )
    .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout("proxy handshake"))),
        "{:?}",
        result.err()
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test]
async fn the_connect_timeout_bounds_the_whole_way_to_an_open_connection() {
    // A server that accepts TCP and never answers the handshake: the
    // connect timeout (600 ms) ends it, though `handshake_timeout` (10 s)
    // would allow more, as in the blocking client.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let holder = std::thread::spawn(move || listener.accept().map(|(stream, _)| stream));
    let started = Instant::now();
    let result = plainws::tokio::connect_with(
        &format!("ws://{addr}/"),
        ClientOptions::default()
            .connect_timeout(Duration::from_millis(600))
            .config(Config::default().handshake_timeout(Duration::from_secs(10))),
    )
    .await;
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout("opening handshake"))),
        "{:?}",
        result.err()
    );
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(4),
        "{took:?}"
    );
    drop(holder.join());
}
