//! Proxies that misbehave, played by a raw socket here: an answer in
//! one-byte writes, no blank line, an endless head, a SOCKS5 reply with an
//! unknown address type, a proxy that closes mid-handshake, one that says
//! nothing, one that trickles. Each ends in its own clear error (or, for
//! the slow but valid answer, a working connection), within the connect
//! timeout, with no panic, and with every thread and descriptor back.
//!
//! The tests take turns (one lock), so each can count the process's
//! descriptors and plainws's threads before and after.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;
use plainws::{ClientOptions, Config, Error, Message, Proxy};

static TURN: Mutex<()> = Mutex::new(());

/// This test's turn; the process's descriptors and plainws's threads are
/// counted once it starts and must be back when it ends.
struct Turn {
    _guard: MutexGuard<'static, ()>,
    fds: usize,
    threads: usize,
}

fn turn() -> Turn {
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    Turn {
        _guard: guard,
        fds: fd_count().expect("/proc/self/fd"),
        threads: own_threads().expect("/proc/self/task"),
    }
}

impl Turn {
    fn everything_back(self, fake: JoinHandle<()>) {
        fake.join().expect("the fake proxy's thread");
        let back = eventually(Duration::from_secs(5), || {
            fd_count() == Some(self.fds) && own_threads() == Some(self.threads)
        });
        assert!(
            back,
            "descriptors {:?} (were {}), plainws threads {:?} (were {})",
            fd_count(),
            self.fds,
            own_threads(),
            self.threads
        );
    }
}

/// Threads of plainws (`plainws-*`) and of the fakes (`plainws-fakepx`),
/// but for the two the library shares between all connections of the
/// process (`plainws-close`, `plainws-flush`), which start and end on
/// their own schedule (an earlier test's may end during this one).
fn own_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
            .filter(|name| name.starts_with("plainws"))
            .filter(|name| !name.starts_with("plainws-close") && !name.starts_with("plainws-flush"))
            .count(),
    )
}

/// A fake proxy for one connection, on its own thread (named so that
/// `own_threads` sees it).
fn fake(handler: impl FnOnce(TcpStream) + Send + 'static) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let thread = thread::Builder::new()
        .name("plainws-fakepx".into())
        .spawn(move || {
            if let Ok((stream, _)) = listener.accept() {
                stream.set_nodelay(true).expect("nodelay");
                handler(stream);
            }
        })
        .expect("spawn");
    (addr, thread)
}

/// Reads up to the end of an HTTP head (the CONNECT request).
fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    head
}

/// Reads exactly `n` bytes (a SOCKS5 message of known length).
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    stream.read_exact(&mut buf).expect("the client's bytes");
    buf
}

fn options(proxy: &str, timeout: Duration) -> ClientOptions {
    ClientOptions::default()
        .proxy(Proxy::parse(proxy).expect("proxy URL"))
        .connect_timeout(timeout)
        .config(Config::default().close_timeout(Duration::from_secs(1)))
}

/// Connects through the fake proxy at `addr`; the error and how long it
/// took.
fn fails(proxy: String, timeout: Duration) -> (Error, Duration) {
    let started = Instant::now();
    match plainws::connect_with("ws://127.0.0.1:9/", options(&proxy, timeout)) {
        Ok(_) => panic!("connected through {proxy}"),
        Err(e) => (e, started.elapsed()),
    }
}

#[test]
fn an_answer_in_one_byte_writes_opens_the_tunnel() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        let request = read_head(&mut stream);
        assert!(request.starts_with(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n"));
        for byte in b"HTTP/1.1 200 Connection established\r\nVia: fake\r\n\r\n" {
            stream.write_all(&[*byte]).expect("write");
            thread::sleep(Duration::from_millis(2));
        }
        // The tunnel's far end: the fake is the WebSocket server now.
        let Ok(ws) = plainws::accept(stream) else {
            return;
        };
        echo_loop(ws);
    });
    let mut ws = plainws::connect_with(
        "ws://127.0.0.1:9/",
        options(&format!("http://{addr}"), Duration::from_secs(10)),
    )
    .expect("through the slow proxy");
    ws.send_text("one byte at a time").unwrap();
    assert_eq!(
        ws.recv().unwrap(),
        Message::Text("one byte at a time".into())
    );
    ws.close(plainws::CloseCode::NORMAL, "").unwrap();
    while !matches!(ws.recv(), Ok(Message::Close(_)) | Err(_)) {}
    drop(ws);
    turn.everything_back(proxy);
}

#[test]
fn bytes_after_the_answer_are_the_tunnels() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n\r\nserver spoke first");
        let _ = stream.read(&mut [0u8; 1]);
    });
    let options = options(&format!("http://{addr}"), Duration::from_secs(10));
    let tunnel = plainws::open_tunnel("ws://example.invalid:80/", &options).expect("tunnel");
    assert_eq!(tunnel.first_bytes, b"server spoke first");
    // What is left of the 10 s connect timeout, for what comes next.
    let left = tunnel.remaining().expect("a deadline");
    assert!(
        left > Duration::from_secs(5) && left <= Duration::from_secs(10),
        "{left:?}"
    );
    assert_eq!(
        tunnel.proxy.as_ref().map(|p| p.to_string()),
        Some(format!("http://{addr}"))
    );
    drop(tunnel);
    turn.everything_back(proxy);
}

#[test]
fn an_answer_without_a_blank_line_then_eof_is_the_proxy_closing() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nX-Half: a head\r\n");
    });
    let (error, took) = fails(format!("http://{addr}"), Duration::from_secs(10));
    assert!(matches!(error, Error::ProxyClosed(_)), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("closed the connection before its CONNECT answer"),
        "{error}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    turn.everything_back(proxy);
}

#[test]
fn an_endless_head_is_refused_at_the_size_limit() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
        let line =
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
        // Until the client hangs up (a write fails).
        for _ in 0..100_000 {
            if stream.write_all(line).is_err() {
                return;
            }
        }
    });
    let (error, took) = fails(format!("http://{addr}"), Duration::from_secs(10));
    match &error {
        Error::InvalidProxyResponse(why) => assert!(why.contains("size limit"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(took < Duration::from_secs(5), "{took:?}");
    turn.everything_back(proxy);
}

#[test]
fn a_socks5_reply_with_an_unknown_address_type_is_refused() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        assert_eq!(read_n(&mut stream, 3), [5, 1, 0]);
        stream.write_all(&[5, 0]).unwrap();
        // CONNECT 127.0.0.1:9 by address (socks5://).
        assert_eq!(read_n(&mut stream, 10), [5, 1, 0, 1, 127, 0, 0, 1, 0, 9]);
        let _ = stream.write_all(&[5, 0, 0, 7, 1, 2, 3, 4, 0, 80]);
        let _ = stream.read(&mut [0u8; 1]);
    });
    let (error, took) = fails(format!("socks5://{addr}"), Duration::from_secs(10));
    match &error {
        Error::InvalidProxyResponse(why) => assert!(why.contains("unknown address type"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(took < Duration::from_secs(5), "{took:?}");
    turn.everything_back(proxy);
}

#[test]
fn a_socks5_proxy_that_closes_mid_handshake() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        // Takes the username and password, then hangs up.
        assert_eq!(read_n(&mut stream, 4), [5, 2, 0, 2]);
        stream.write_all(&[5, 2]).unwrap();
        let auth = read_n(&mut stream, 3 + 5 + 7);
        assert_eq!(&auth[..], b"\x01\x05alice\x07hunter2");
    });
    let (error, took) = fails(
        format!("socks5h://alice:hunter2@{addr}"),
        Duration::from_secs(10),
    );
    assert!(matches!(error, Error::ProxyClosed(_)), "{error:?}");
    let (text, debug) = (error.to_string(), format!("{error:?}"));
    assert!(text.contains("SOCKS5 handshake"), "{text}");
    assert!(!text.contains("hunter2") && !debug.contains("hunter2"));
    assert!(took < Duration::from_secs(5), "{took:?}");
    turn.everything_back(proxy);
}

/// One deadline: a proxy that never answers, or trickles a byte at a
/// time, gets the connect timeout and no more, however long the
/// handshake timeout is.
#[test]
fn a_silent_or_trickling_proxy_times_out_at_the_connect_deadline() {
    let turn = turn();
    let (addr, silent) = fake(|mut stream| {
        read_head(&mut stream);
        let _ = stream.read(&mut [0u8; 1]); // until the client hangs up
    });
    let (error, took) = fails(format!("http://{addr}"), Duration::from_millis(600));
    assert!(
        matches!(error, Error::Timeout("proxy handshake")),
        "{error:?}"
    );
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
    silent.join().unwrap();

    let (addr, trickle) = fake(|mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
        loop {
            thread::sleep(Duration::from_millis(50));
            if stream.write_all(b"X").is_err() {
                return;
            }
        }
    });
    let (error, took) = fails(format!("http://{addr}"), Duration::from_millis(600));
    assert!(
        matches!(error, Error::Timeout("proxy handshake")),
        "{error:?}"
    );
    assert!(
        took >= Duration::from_millis(550) && took < Duration::from_secs(3),
        "{took:?}"
    );
    turn.everything_back(trickle);
}

/// The WebSocket handshake is inside the same deadline: a tunnel that
/// opens at once to a server that never answers the upgrade times out at
/// the connect timeout, though the handshake timeout is 10 s.
#[test]
fn the_websocket_handshake_shares_the_connect_deadline() {
    let turn = turn();
    let (addr, proxy) = fake(|mut stream| {
        read_head(&mut stream);
        stream.write_all(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        read_head(&mut stream); // the upgrade request, left unanswered
        let _ = stream.read(&mut [0u8; 1]);
    });
    let started = Instant::now();
    let options = options(&format!("http://{addr}"), Duration::from_millis(700))
        .config(Config::default().handshake_timeout(Duration::from_secs(10)));
    let result = plainws::connect_with("ws://127.0.0.1:9/", options);
    let took = started.elapsed();
    assert!(
        matches!(result, Err(Error::Timeout("opening handshake"))),
        "{:?}",
        result.err()
    );
    assert!(
        took >= Duration::from_millis(650) && took < Duration::from_secs(3),
        "{took:?}"
    );
    turn.everything_back(proxy);
}
