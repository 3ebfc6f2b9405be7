//! The client over loopback: against a plainws server, and against fake
//! raw-TCP servers that misbehave on purpose (RFC 6455 §4.1, §5.1, §7.1.1).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use plainws::sansio::handshake::accept_key;
use plainws::{
    Accept, ClientOptions, CloseCode, Config, Error, Message, Request, Response, connect,
    connect_with,
};

/// A listener on a free loopback port and its `ws://` URL.
fn listen(path: &str) -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}{path}", listener.local_addr().expect("addr"));
    (listener, url)
}

/// Runs `serve` on the first connection to the listener.
fn serve_once<T: Send + 'static>(
    listener: TcpListener,
    serve: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> JoinHandle<T> {
    thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        serve(stream)
    })
}

/// Reads a request head and returns the key, for fake servers.
fn read_request(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("request byte");
        head.push(byte[0]);
    }
    let request = Request::parse(&head, 100).expect("request parses");
    request.check_upgrade().expect("a valid upgrade request");
    request.header("Sec-WebSocket-Key").expect("key").to_owned()
}

fn switching_protocols(key: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key)
    )
    .into_bytes()
}

/// Reads one client frame (payload under 126 bytes); returns whether it
/// was masked, its opcode and its unmasked payload.
fn read_client_frame(stream: &mut TcpStream) -> (bool, u8, Vec<u8>) {
    let mut header = [0u8; 2];
    stream.read_exact(&mut header).expect("frame header");
    let masked = header[1] & 0x80 != 0;
    let len = usize::from(header[1] & 0x7F);
    assert!(len < 126, "test frames are short");
    let mut key = [0u8; 4];
    if masked {
        stream.read_exact(&mut key).expect("mask key");
    }
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).expect("payload");
    for (i, b) in payload.iter_mut().enumerate() {
        *b ^= key[i % 4];
    }
    (masked, header[0] & 0x0F, payload)
}

fn options(config: Config) -> ClientOptions {
    ClientOptions::default().config(config)
}

#[test]
fn handshakes_with_a_plainws_server_and_agrees_on_a_subprotocol() {
    let (listener, url) = listen("/chat?room=1");
    let server = serve_once(listener, |stream| {
        let mut ws = plainws::accept_with(stream, Config::default(), |request| {
            assert_eq!(request.target(), "/chat?room=1");
            assert_eq!(request.header("Origin"), Some("http://example.test"));
            Ok(Accept::default().protocol("chat"))
        })
        .expect("server accepts");
        loop {
            match ws.recv() {
                Ok(Message::Text(text)) => ws.send_text(&text).expect("echo"),
                Ok(Message::Close(frame)) => return frame,
                other => panic!("server got {other:?}"),
            }
        }
    });
    let mut ws = connect_with(
        &url,
        ClientOptions::default()
            .header("Origin", "http://example.test")
            .protocols(["superchat", "chat"]),
    )
    .expect("client connects");
    assert_eq!(ws.protocol(), Some("chat"));
    ws.send_text("hello").expect("send");
    assert!(matches!(ws.recv(), Ok(Message::Text(t)) if t == "hello"));
    ws.close(CloseCode::NORMAL, "bye").expect("close");
    assert!(matches!(ws.recv(), Ok(Message::Close(Some(f))) if f.code == CloseCode::NORMAL));
    assert!(matches!(ws.recv(), Err(Error::ConnectionClosed)));
    let seen = server.join().expect("server thread");
    assert_eq!(
        seen.map(|f| (f.code, f.reason)),
        Some((CloseCode::NORMAL, "bye".into()))
    );
}

#[test]
fn refusal_carries_the_status_line() {
    let (listener, url) = listen("/missing");
    let server = serve_once(listener, |stream| {
        plainws::accept_with(stream, Config::default(), |_| {
            Err(Response::new(404, "no such endpoint\n"))
        })
        .map(|_| ())
    });
    match connect(&url) {
        Err(Error::HandshakeRefused(line)) => assert_eq!(line, "HTTP/1.1 404 Not Found"),
        other => panic!("expected HandshakeRefused, got {other:?}"),
    }
    assert!(matches!(server.join(), Ok(Err(Error::Rejected(404)))));
}

#[test]
fn wrong_accept_is_refused() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(&switching_protocols("dGhlIHNhbXBsZSBub25jZQ=="));
        thread::sleep(Duration::from_millis(200));
    });
    assert!(matches!(connect(&url), Err(Error::InvalidAccept)));
}

#[test]
fn keys_are_fresh_for_every_connection() {
    let (listener, url) = listen("/");
    let server = thread::spawn(move || {
        let mut keys = Vec::new();
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().expect("accept");
            keys.push(read_request(&mut stream));
        }
        keys
    });
    for _ in 0..2 {
        assert!(connect(&url).is_err(), "the fake server never answers");
    }
    let keys = server.join().expect("server thread");
    assert_ne!(keys[0], keys[1]);
}

#[test]
fn frames_sent_with_the_response_are_not_lost() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |mut stream| {
        let key = read_request(&mut stream);
        // The 101 and the first frame in one write, as a fast server may.
        let mut bytes = switching_protocols(&key);
        bytes.extend_from_slice(&[0x81, 5]);
        bytes.extend_from_slice(b"first");
        stream.write_all(&bytes).expect("write");
        let _ = stream.read(&mut [0u8; 64]);
    });
    let mut ws = connect(&url).expect("connect");
    assert!(matches!(ws.recv(), Ok(Message::Text(t)) if t == "first"));
}

#[test]
fn masked_server_frame_fails_the_connection_with_1002() {
    let (listener, url) = listen("/");
    let server = serve_once(listener, |mut stream| {
        let key = read_request(&mut stream);
        stream.write_all(&switching_protocols(&key)).expect("101");
        // A masked text frame: servers must not mask (§5.1).
        stream
            .write_all(&[0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2])
            .expect("frame");
        read_client_frame(&mut stream)
    });
    let mut ws = connect(&url).expect("connect");
    assert!(matches!(ws.recv(), Err(Error::MaskedFrame)));
    let (masked, opcode, payload) = server.join().expect("server thread");
    assert!(masked, "client frames are masked");
    assert_eq!(opcode, 0x8, "a Close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1002);
}

#[test]
fn bad_urls_are_invalid_url_errors() {
    for url in [
        "wss://127.0.0.1:1/",
        "http://127.0.0.1/",
        "ws://127.0.0.1/#frag",
        "ws://user@127.0.0.1/",
        "ws://127.0.0.1:99999/",
        "127.0.0.1:80",
    ] {
        assert!(
            matches!(connect(url), Err(Error::InvalidUrl(_))),
            "{url} should be an invalid URL"
        );
    }
}

#[test]
fn a_silent_server_hits_the_handshake_timeout() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |stream| {
        thread::sleep(Duration::from_secs(2));
        drop(stream);
    });
    let config = Config::default().handshake_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let result = connect_with(&url, options(config));
    assert!(
        matches!(result, Err(Error::Timeout(_))),
        "expected a timeout, got {result:?}"
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[test]
fn a_server_that_hangs_up_before_answering_is_an_error() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |mut stream| {
        read_request(&mut stream);
    });
    match connect(&url) {
        Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof),
        other => panic!("expected an EOF error, got {other:?}"),
    }
}

#[test]
fn client_close_waits_for_the_servers_end_of_stream() {
    let (listener, url) = listen("/");
    let server = serve_once(listener, |mut stream| {
        let key = read_request(&mut stream);
        stream.write_all(&switching_protocols(&key)).expect("101");
        let frame = read_client_frame(&mut stream);
        stream
            .write_all(&[0x88, 2, 0x03, 0xE8])
            .expect("close reply");
        // The server closes TCP, but only after a while: the client must
        // wait for it rather than close first (§7.1.1).
        thread::sleep(Duration::from_millis(400));
        let closed_at = Instant::now();
        drop(stream);
        (frame, closed_at)
    });
    let mut ws = connect(&url).expect("connect");
    ws.close(CloseCode::NORMAL, "done").expect("close");
    let reply = ws.recv();
    let returned_at = Instant::now();
    assert!(matches!(reply, Ok(Message::Close(Some(f))) if f.code == CloseCode::NORMAL));
    let ((masked, opcode, payload), closed_at) = server.join().expect("server thread");
    assert!(masked && opcode == 0x8);
    assert_eq!(&payload[..2], &1000u16.to_be_bytes());
    assert_eq!(&payload[2..], b"done");
    assert!(
        returned_at >= closed_at,
        "recv returned before the server closed TCP"
    );
}

#[test]
fn client_close_wait_is_bounded_by_the_close_timeout() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |mut stream| {
        let key = read_request(&mut stream);
        stream.write_all(&switching_protocols(&key)).expect("101");
        read_client_frame(&mut stream);
        stream
            .write_all(&[0x88, 2, 0x03, 0xE8])
            .expect("close reply");
        // ...and never closes TCP.
        thread::sleep(Duration::from_secs(3));
    });
    let config = Config::default().close_timeout(Duration::from_millis(300));
    let mut ws = connect_with(&url, options(config)).expect("connect");
    let started = Instant::now();
    ws.close(CloseCode::NORMAL, "").expect("close");
    assert!(matches!(ws.recv(), Ok(Message::Close(_))));
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_millis(2000),
        "waited {waited:?}"
    );
}

#[test]
fn server_initiated_close_is_answered_and_reported() {
    let (listener, url) = listen("/");
    let server = serve_once(listener, |stream| {
        let mut ws = plainws::accept(stream).expect("accept");
        ws.close(CloseCode(4000), "server done").expect("close");
        ws.recv()
    });
    let mut ws = connect(&url).expect("connect");
    match ws.recv() {
        Ok(Message::Close(Some(frame))) => {
            assert_eq!(
                (frame.code, frame.reason.as_str()),
                (CloseCode(4000), "server done")
            )
        }
        other => panic!("expected the server's Close, got {other:?}"),
    }
    assert!(matches!(server.join(), Ok(Ok(Message::Close(Some(f)))) if f.code == CloseCode(4000)));
}

#[test]
fn handshakes_over_a_transport_the_user_brings() {
    // A stand-in for a TLS stream: any connected Transport will do, and a
    // wss:// URL is fine here since the user supplied the security layer.
    let (client_end, server_end) = plainws::MemoryStream::pair();
    let server = thread::spawn(move || {
        let mut ws = plainws::accept_with(server_end, Config::default(), |request| {
            assert_eq!(request.header("Host"), Some("example.test"));
            assert_eq!(request.target(), "/feed?since=0");
            Ok(Accept::default())
        })
        .expect("server accepts");
        ws.send_text("welcome").expect("send");
        ws.recv()
    });
    let mut ws = plainws::client_with_transport(
        client_end,
        "wss://example.test/feed?since=0",
        ClientOptions::default(),
    )
    .expect("client handshake");
    assert!(matches!(ws.recv(), Ok(Message::Text(t)) if t == "welcome"));
    ws.send_binary(b"ack").expect("send");
    assert!(matches!(server.join(), Ok(Ok(Message::Binary(b))) if b == b"ack"));
}

#[test]
fn a_server_dripping_its_response_hits_one_deadline() {
    let (listener, url) = listen("/");
    let _server = serve_once(listener, |mut stream| {
        read_request(&mut stream);
        // Every byte comes well within a per-read timeout; the whole
        // response never does.
        for byte in b"HTTP/1.1 101 Switching Protocols\r\nX-Slow: yes"
            .iter()
            .cycle()
            .take(60)
        {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(25));
        }
    });
    let config = Config::default().handshake_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let result = connect_with(&url, options(config));
    assert!(matches!(result, Err(Error::Timeout(_))), "{result:?}");
    assert!(started.elapsed() < Duration::from_millis(1000));
}
