//! One clock per connection for the close timeout (RFC 6455 §7.1.1): the
//! deadline starts when our Close is sent, in the core, whichever thread
//! sends it and whenever the reading thread next polls, and a Close the
//! peer never answers ends `recv` with `Timeout("close handshake")`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use plainws::sansio::handshake::accept_key;
use plainws::{ClientOptions, CloseCode, Config, Error, Request};

/// A server that upgrades every connection, then reads and drops what
/// the client sends, never answering its Close and never ending TCP
/// first: it only closes once the client has.
fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || upgrade_then_ignore(stream));
        }
    });
    url
}

fn upgrade_then_ignore(mut stream: TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read_exact(&mut byte).is_err() {
            return;
        }
        head.push(byte[0]);
    }
    let Ok(request) = Request::parse(&head, 100) else {
        return;
    };
    let key = request.header("Sec-WebSocket-Key").unwrap_or_default();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    );
    if stream.write_all(response.as_bytes()).is_err() {
        return;
    }
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

/// Issue 17, row 4: a split client calls `Sender::close` while its
/// receiving thread is already blocked in `recv`; the server never
/// answers and never ends TCP. Every run ends in the close timeout, not
/// in an abnormal closure, and not before the timeout.
#[test]
fn an_unanswered_close_from_another_thread_always_times_out() {
    const RUNS: usize = 100;
    const WORKERS: usize = 4;
    let close_timeout = Duration::from_millis(30);
    let url = silent_server();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let url = url.clone();
            thread::spawn(move || {
                let mut outcomes = Vec::new();
                for _ in 0..RUNS / WORKERS {
                    let options = ClientOptions::default()
                        .config(Config::default().close_timeout(close_timeout));
                    let ws = plainws::connect_with(&url, options).expect("connect");
                    let (mut receiver, sender) = ws.split();
                    // The receiving thread blocks first, with no deadline of
                    // its own; the Close goes out from this thread.
                    let reading = thread::spawn(move || {
                        let result = receiver.recv();
                        (result, Instant::now())
                    });
                    thread::sleep(Duration::from_millis(2));
                    let sent_at = Instant::now();
                    sender.close(CloseCode::NORMAL, "bye").expect("close");
                    let (result, ended_at) = reading.join().expect("reader");
                    outcomes.push((result, ended_at.saturating_duration_since(sent_at)));
                }
                outcomes
            })
        })
        .collect();
    let outcomes: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    assert_eq!(outcomes.len(), RUNS);
    let wrong: Vec<_> = outcomes
        .iter()
        .filter(|(result, _)| !matches!(result, Err(Error::Timeout("close handshake"))))
        .map(|(result, _)| format!("{result:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {RUNS} runs: {wrong:?}",
        wrong.len()
    );
    for (_, waited) in &outcomes {
        // Never before the deadline, which started with the Close.
        assert!(*waited >= close_timeout, "ended after {waited:?}");
        assert!(
            *waited < close_timeout + Duration::from_secs(3),
            "{waited:?}"
        );
    }
}

/// The same Close, sent from the receiving thread's own handle: the read
/// timeout comes from the core's deadline, and the outcome is the same.
#[test]
fn an_unanswered_close_from_the_reading_thread_times_out() {
    let close_timeout = Duration::from_millis(30);
    let url = silent_server();
    for _ in 0..10 {
        let options =
            ClientOptions::default().config(Config::default().close_timeout(close_timeout));
        let mut ws = plainws::connect_with(&url, options).expect("connect");
        let sent_at = Instant::now();
        ws.close(CloseCode::NORMAL, "bye").expect("close");
        let result = ws.recv();
        assert!(
            matches!(result, Err(Error::Timeout("close handshake"))),
            "{result:?}"
        );
        assert!(sent_at.elapsed() >= close_timeout);
    }
}
