//! `wss://` with the proxy taken from the environment
//! (`ClientOptions::proxy_from_env`): `HTTPS_PROXY` names tinyproxy for a
//! `wss://` URL (never `HTTP_PROXY`), and `NO_PROXY` sends a listed host
//! direct. One test alone in its binary: it sets the process's
//! environment before any other thread of its own runs.

#[path = "../../../tests/common/proxies.rs"]
mod proxies;

use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use plainws::{ClientOptions, CloseCode, Message};
use plainws_tls::{TlsStream, client_config, connect, server_config};
use proxies::Tinyproxy;

#[test]
fn https_proxy_and_no_proxy_for_wss() {
    let dir = std::env::temp_dir().join(format!("plainws-tls-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, generated.cert.pem()).expect("cert.pem");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("key.pem");

    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let tls = server_config(&cert, &key).expect("the server's PEM files");
    thread::spawn(move || {
        for tcp in listener.incoming().take(2).flatten() {
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
    let auth = Some(("erin", "env-pw-77"));
    let proxy = Tinyproxy::start(auth, &[port]);
    let nowhere = format!("http://127.0.0.1:{}", proxies::closed_port());
    // SAFETY: this binary's only test, and no thread it started reads the
    // environment (the server threads above do not).
    unsafe {
        std::env::set_var("HTTPS_PROXY", proxy.url(auth));
        std::env::set_var("HTTP_PROXY", &nowhere);
        std::env::set_var("ALL_PROXY", &nowhere);
        std::env::set_var("NO_PROXY", "example.com, 10.0.0.0/8");
        for lower in ["https_proxy", "http_proxy", "all_proxy", "no_proxy"] {
            std::env::remove_var(lower);
        }
    }
    let round_trip = || {
        let options = ClientOptions::default().proxy_from_env();
        let mut ws = connect(
            "localhost",
            port,
            "/",
            client_config(&cert).unwrap(),
            options,
        )
        .unwrap_or_else(|e| panic!("wss with the environment's proxy: {e}"));
        ws.send_text("env").unwrap();
        assert_eq!(ws.recv().unwrap(), Message::Text("env".into()));
        ws.close(CloseCode::NORMAL, "").unwrap();
        while !matches!(ws.recv(), Ok(Message::Close(_)) | Err(_)) {}
    };
    // NO_PROXY misses: through HTTPS_PROXY (tinyproxy logs the CONNECT).
    round_trip();
    let connects = |log: String| log.matches("CONNECT localhost:").count();
    assert_eq!(connects(proxy.log()), 1, "{}", proxy.log());
    // NO_PROXY matches: direct (HTTP_PROXY and ALL_PROXY lead nowhere,
    // and tinyproxy sees nothing more).
    unsafe { std::env::set_var("NO_PROXY", "example.com,localhost") };
    round_trip();
    assert_eq!(connects(proxy.log()), 1, "{}", proxy.log());
}
