//! `wss://` through real proxies (and `wss_proxy_env.rs`: from the environment): the rustls adapter of `src/lib.rs` on
//! the tunnel `plainws::open_tunnel` opens, through tinyproxy (HTTP
//! CONNECT with Basic credentials) and microsocks (SOCKS5, `socks5h://`
//! and `socks5://`, with a username and password), started here on
//! loopback ports. `scripts/setup-proxies.sh` installs them (scripts/test.sh
//! runs it); without them these tests fail, saying so.

#[path = "../../../tests/common/proxies.rs"]
mod proxies;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use plainws::{ClientOptions, CloseCode, Config, Error, Message, Proxy};
use plainws_tls::{TlsStream, client_config, connect, server_config};
use proxies::{Microsocks, Tinyproxy};

const AUTH: Option<(&str, &str)> = Some(("dave", "tls-pw-51"));

/// A self-signed certificate for `localhost`: (certificate, key) files.
fn certificate_files(test: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("plainws-tls-proxy-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).expect("cert.pem");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("key.pem");
    (cert, key)
}

/// A wss:// echo server on 127.0.0.1 for `connections` connections; its
/// port.
fn wss_echo(cert: &Path, key: &Path, connections: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let tls = server_config(cert, key).expect("the server's PEM files");
    thread::spawn(move || {
        for tcp in listener.incoming().take(connections).flatten() {
            let tls = Arc::clone(&tls);
            thread::spawn(move || -> plainws::Result<()> {
                let stream = TlsStream::accept(tcp, tls, Duration::from_secs(5))?;
                let mut ws = plainws::accept(stream)?;
                loop {
                    match ws.recv()? {
                        Message::Text(text) => ws.send_text(&text)?,
                        Message::Close(_) => return Ok(()),
                        _ => {}
                    }
                }
            });
        }
    });
    port
}

fn round_trip(port: u16, cert: &Path, proxy: &str) {
    let options = ClientOptions::default()
        .proxy(Proxy::parse(proxy).expect("a proxy URL"))
        .connect_timeout(Duration::from_secs(10));
    // The certificate names localhost: the proxy (or, for socks5://, the
    // client) resolves it.
    let mut ws = connect(
        "localhost",
        port,
        "/echo",
        client_config(cert).unwrap(),
        options,
    )
    .unwrap_or_else(|e| panic!("wss through {proxy}: {e}"));
    ws.send_text("secret through a tunnel").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("secret through a tunnel".into())
    );
    ws.close(CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.recv(), Ok(Message::Close(_)) | Err(_)) {}
}

#[test]
fn wss_through_tinyproxy_with_basic_credentials() {
    let (cert, key) = certificate_files("tinyproxy");
    let port = wss_echo(&cert, &key, 1);
    let proxy = Tinyproxy::start(AUTH, &[port]);
    round_trip(port, &cert, &proxy.url(AUTH));
    assert!(
        proxy.log().contains(&format!("CONNECT localhost:{port}")),
        "{}",
        proxy.log()
    );
}

#[test]
fn wss_through_microsocks_socks5h_and_socks5() {
    let (cert, key) = certificate_files("microsocks");
    let port = wss_echo(&cert, &key, 2);
    let socks = Microsocks::start(AUTH);
    round_trip(port, &cert, &socks.url("socks5h", AUTH));
    round_trip(port, &cert, &socks.url("socks5", AUTH));
}

#[test]
fn a_refusal_and_a_silent_server_behind_the_tunnel() {
    let (cert, key) = certificate_files("refusal");
    let port = wss_echo(&cert, &key, 0);
    let proxy = Tinyproxy::start(None, &[port]);
    // Not an allowed port: 403, before any TLS.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = listener.local_addr().unwrap().port();
    let options = ClientOptions::default().proxy(Proxy::parse(&proxy.url(None)).unwrap());
    match connect(
        "localhost",
        silent_port,
        "/",
        client_config(&cert).unwrap(),
        options,
    ) {
        Err(Error::ProxyRefused { status: 403, .. }) => {}
        other => panic!("{:?}", other.err()),
    }
    // Allowed, but the server behind it never answers the TLS handshake:
    // the one connect deadline ends it (the handshake timeout is 10 s).
    let proxy = Tinyproxy::start(None, &[silent_port]);
    let options = ClientOptions::default()
        .proxy(Proxy::parse(&proxy.url(None)).unwrap())
        .connect_timeout(Duration::from_millis(800))
        .config(Config::default().handshake_timeout(Duration::from_secs(10)));
    let started = Instant::now();
    let result = connect(
        "localhost",
        silent_port,
        "/",
        client_config(&cert).unwrap(),
        options,
    );
    let took = started.elapsed();
    match result {
        Err(Error::Timeout(_)) => {}
        other => panic!("{:?}", other.err()),
    }
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(4),
        "{took:?}"
    );
    drop(listener);
}
