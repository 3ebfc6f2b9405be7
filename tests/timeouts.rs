//! `Config::write_timeout` is one deadline for the whole frame, not a
//! timeout per system call: a peer that keeps reading a trickle cannot
//! keep a sender blocked past it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use plainws::{Config, Error};

#[test]
fn a_trickling_reader_cannot_stretch_the_write_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let config = Config::default().write_timeout(Duration::from_secs(1));
        let ws = plainws::accept_with(stream, config, |_| Ok(Default::default())).expect("upgrade");
        let sender = ws.sender();
        let started = Instant::now();
        // Far more than the socket buffers hold, so the write is partial
        // again and again while the client reads a little at a time.
        let outcome = sender.send_binary(&vec![0u8; 64 << 20]);
        (outcome, started.elapsed())
    });
    let mut client = TcpStream::connect(addr).expect("connect");
    client
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .expect("request");
    client
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    // Read 16 KiB every 50 ms until the server gives up.
    let reader = thread::spawn(move || {
        let mut chunk = vec![0u8; 16 << 10];
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            match client.read(&mut chunk) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    let (outcome, took) = server.join().expect("the server");
    assert!(
        matches!(outcome, Err(Error::Timeout(_) | Error::Io(_))),
        "the send must fail at its deadline: {outcome:?}"
    );
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_millis(1800),
        "a 1 s write deadline fired after {took:?}"
    );
    reader.join().expect("the reader");
}

/// A server connection with `config` whose client reads everything until
/// told to stop, then nothing.
fn with_reader_that_stops(
    config: Config,
    server: impl FnOnce(plainws::WebSocket, std::sync::mpsc::Sender<()>) + Send + 'static,
) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = std::sync::mpsc::channel();
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let ws = plainws::accept_with(stream, config, |_| Ok(Default::default())).expect("upgrade");
        server(ws, stop_tx);
    });
    let mut client = TcpStream::connect(addr).expect("connect");
    client
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .expect("request");
    client
        .set_read_timeout(Some(Duration::from_millis(20)))
        .expect("timeout");
    let mut chunk = vec![0u8; 256 << 10];
    while stop_rx.try_recv().is_err() {
        match client.read(&mut chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
    }
    server.join().expect("the server");
    drop(client);
}

#[test]
fn set_write_timeout_holds_for_every_later_write() {
    // The configured timeout is long; the one set on the sender is short.
    let config = Config::default().write_timeout(Duration::from_secs(30));
    with_reader_that_stops(config, |ws, stop| {
        let sender = ws.sender();
        sender
            .set_write_timeout(Duration::from_secs(1))
            .expect("set");
        // Partial writes while the client reads: each used to put the
        // configured timeout back on the socket.
        sender.send_binary(&vec![0u8; 8 << 20]).expect("read whole");
        stop.send(()).expect("stop reading");
        let started = Instant::now();
        let outcome = sender.send_binary(&vec![0u8; 64 << 20]);
        let took = started.elapsed();
        assert!(
            matches!(outcome, Err(Error::Timeout(_) | Error::Io(_))),
            "{outcome:?}"
        );
        assert!(
            took < Duration::from_millis(1800),
            "a 1 s write timeout fired after {took:?}"
        );
    });
}

#[test]
fn a_zero_write_timeout_means_none_for_the_channel_wait_too() {
    let config = Config::default().write_timeout(Duration::ZERO);
    with_reader_that_stops(config, |ws, stop| {
        let sender = ws.sender();
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let owner = sender.clone();
        let fragmented = thread::spawn(move || {
            owner
                .send_fragment(plainws::Opcode::Text, b"a", false)
                .expect("start");
            started_tx.send(()).expect("started");
            thread::sleep(Duration::from_millis(300));
            owner
                .send_fragment(plainws::Opcode::Continuation, b"b", true)
                .expect("end");
        });
        started_rx.recv().expect("the message started");
        let started = Instant::now();
        // No timeout: the send waits for the message to end, then goes.
        sender
            .send_text("after")
            .expect("sent once the channel is free");
        assert!(
            started.elapsed() >= Duration::from_millis(200),
            "the send waited for the fragmented message: {:?}",
            started.elapsed()
        );
        fragmented.join().expect("the fragmented message");
        stop.send(()).expect("stop");
    });
}
