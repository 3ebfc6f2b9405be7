//! What the application and the peer get at a limit: the rows of the
//! README's "What each limit returns to the application" for
//! `max_frame_size`, `max_message_size`, `max_fragments` and
//! `close_timeout`.
//!
//! For the size limits, a plainws server and a plainws client over an
//! in-memory stream: the client sends past the server's limit; the
//! server's `recv` must return the limit's error, the client must get a
//! Close 1009 whose reason is the error's text, and every later `recv` on
//! the server is `ConnectionClosed`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use plainws::{
    Accept, ClientOptions, CloseCode, Config, Error, MemoryStream, Message, Opcode, Sender,
};

/// Runs a server with `config`; `send` is the client's part. Returns what
/// the server's first `recv` returned and the Close the client received.
fn over_the_limit(config: Config, send: impl FnOnce(&Sender)) -> (Error, String, u16) {
    let (server_end, client_end) = MemoryStream::pair();
    let config = config.close_timeout(Duration::from_secs(2));
    let server = thread::spawn(move || {
        let mut ws =
            plainws::accept_with(server_end, config, |_| Ok(Accept::default())).expect("upgrade");
        let first = ws.recv().expect_err("the limit is an error");
        let after = ws.recv();
        assert!(
            matches!(after, Err(Error::ConnectionClosed)),
            "after the error: {after:?}"
        );
        first
    });
    let mut client =
        plainws::client_with_transport(client_end, "ws://test/", ClientOptions::default())
            .expect("the client's handshake");
    send(&client.sender());
    let (code, reason) = loop {
        match client.recv() {
            Ok(Message::Close(Some(frame))) => break (frame.code, frame.reason),
            Ok(Message::Close(None)) => panic!("a Close without a code"),
            Ok(_) => {}
            Err(e) => panic!("the client got {e:?} instead of a Close"),
        }
    };
    let first = server.join().expect("the server thread");
    assert_eq!(first.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    (first, reason, code.0)
}

#[test]
fn a_frame_over_max_frame_size() {
    let config = Config::default().max_frame_size(1000);
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender.send_binary(&[0; 1001]).expect("sent");
    });
    assert!(
        matches!(
            error,
            Error::FrameTooLarge {
                len: 1001,
                limit: 1000
            }
        ),
        "{error:?}"
    );
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}

#[test]
fn a_message_over_max_message_size() {
    let config = Config::default()
        .max_frame_size(1000)
        .max_message_size(1000);
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender
            .send_fragment(Opcode::Binary, &[0; 600], false)
            .expect("sent");
        sender
            .send_fragment(Opcode::Continuation, &[0; 600], true)
            .expect("sent");
    });
    assert!(
        matches!(
            error,
            Error::MessageTooLarge {
                len: 1200,
                limit: 1000
            }
        ),
        "{error:?}"
    );
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}

#[test]
fn a_message_over_max_fragments() {
    let config = Config::default().max_fragments(3);
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender
            .send_fragment(Opcode::Text, b"a", false)
            .expect("sent");
        for _ in 0..3 {
            sender
                .send_fragment(Opcode::Continuation, b"b", false)
                .expect("sent");
        }
        sender
            .send_fragment(Opcode::Continuation, b"c", true)
            .expect("sent");
    });
    assert!(matches!(error, Error::TooManyFragments(3)), "{error:?}");
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}

/// `close_timeout` over TCP: a peer that never answers our Close. At the
/// deadline the socket is shut down (the peer sees the end of TCP) and
/// `recv` returns `Timeout("close handshake")`, then `ConnectionClosed`;
/// the same error whether the blocked read wakes to its own timeout or to
/// the shutdown, which on Linux reads as an end of stream (a CI run once
/// got `AbnormalClosure` there, whose message blames the peer for an end
/// of TCP that was ours).
#[cfg(target_os = "linux")]
#[test]
fn a_peer_that_never_answers_our_close_is_cut_off_at_the_close_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        let config = Config::default().close_timeout(Duration::from_millis(300));
        let mut ws =
            plainws::accept_with(stream, config, |_| Ok(Accept::default())).expect("upgrade");
        ws.close(CloseCode::NORMAL, "bye").expect("close sent");
        let started = Instant::now();
        let first = ws.recv();
        let waited = started.elapsed();
        (first, waited, ws.recv())
    });
    let mut peer = TcpStream::connect(addr).expect("connected");
    peer.write_all(
        b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("request sent");
    // Read everything, answer nothing.
    peer.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    let mut seen = Vec::new();
    peer.read_to_end(&mut seen)
        .expect("the server ends the stream");
    let (first, waited, second) = server.join().expect("the server thread");
    assert!(
        matches!(first, Err(Error::Timeout("close handshake"))),
        "{first:?}"
    );
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
    assert!(matches!(second, Err(Error::ConnectionClosed)), "{second:?}");
    // The peer got the 101, our Close 1000 "bye", then the end of TCP.
    assert!(seen.starts_with(b"HTTP/1.1 101 "));
    assert!(seen.ends_with(&[0x88, 0x05, 0x03, 0xE8, b'b', b'y', b'e']));
}
