//! The send rules over real sockets, checked on the wire by a parser
//! written here, independent of plainws's decoder: fragmented messages
//! from many threads at once never interleave, control frames may go
//! between fragments, and Pings are answered after our Close until the
//! peer's arrives (RFC 6455 §5.4, §5.5.2).

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use plainws::{CloseCode, Error, Message, Opcode};

/// One frame as it was on the wire.
#[derive(Debug, Clone)]
struct WireFrame {
    fin: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// Reads one frame (unmasking a client's), or `None` at the end of stream.
fn read_frame(stream: &mut TcpStream) -> Option<WireFrame> {
    let mut head = [0u8; 2];
    if stream.read_exact(&mut head).is_err() {
        return None;
    }
    let len = match head[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            stream.read_exact(&mut b).ok()?;
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            stream.read_exact(&mut b).ok()?;
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mask = if head[1] & 0x80 != 0 {
        let mut key = [0u8; 4];
        stream.read_exact(&mut key).ok()?;
        Some(key)
    } else {
        None
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).ok()?;
    if let Some(key) = mask {
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= key[i % 4];
        }
    }
    Some(WireFrame {
        fin: head[0] & 0x80 != 0,
        opcode: head[0] & 0x0f,
        payload,
    })
}

fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let mut out = vec![0x80 | opcode, payload.len() as u8];
    out.extend_from_slice(payload);
    out
}

fn masked_client_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let key = [1, 2, 3, 4];
    let mut out = vec![0x80 | opcode, 0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// A plainws server on a free port running `handler` on one connection.
fn serve_one(
    handler: impl FnOnce(plainws::WebSocket) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        handler(plainws::accept(stream).expect("upgrade"));
    });
    (addr, handle)
}

const THREADS: usize = 8;
const MESSAGES: usize = 150;

#[test]
fn fragmented_messages_from_many_threads_never_interleave() {
    let (addr, server) = serve_one(|ws| {
        let (mut receiver, sender) = ws.split();
        let senders: Vec<_> = (0..THREADS)
            .map(|t| {
                let sender = sender.clone();
                thread::spawn(move || {
                    for m in 0..MESSAGES {
                        // 1 to 4 fragments, text and binary in turn.
                        let parts = 1 + (t + m) % 4;
                        let body = format!("t{t}-m{m}-");
                        let kind = if m % 2 == 0 {
                            Opcode::Text
                        } else {
                            Opcode::Binary
                        };
                        for p in 0..parts {
                            let opcode = if p == 0 { kind } else { Opcode::Continuation };
                            let piece = format!("{body}{p};");
                            sender
                                .send_fragment(opcode, piece.as_bytes(), p + 1 == parts)
                                .expect("a fragment");
                        }
                    }
                })
            })
            .collect();
        // Control frames from yet another thread, between fragments.
        let pinger = {
            let sender = sender.clone();
            thread::spawn(move || {
                for i in 0..200u32 {
                    sender.ping(&i.to_be_bytes()).expect("a ping");
                }
            })
        };
        for handle in senders {
            handle.join().expect("a sending thread");
        }
        pinger.join().expect("the pinging thread");
        sender.close(CloseCode::NORMAL, "done").expect("close");
        while receiver.recv().is_ok() {}
    });

    let mut stream = common::upgraded_stream(addr, "/");
    let mut open: Option<(u8, Vec<u8>)> = None;
    let mut messages: Vec<Vec<String>> = vec![Vec::new(); THREADS];
    let mut pings = 0;
    loop {
        let frame = read_frame(&mut stream).expect("frames until the Close");
        match frame.opcode {
            0x8 => {
                stream
                    .write_all(&masked_client_frame(0x8, &frame.payload[..2]))
                    .expect("close reply");
                assert!(read_frame(&mut stream).is_none(), "the server closes TCP");
                break;
            }
            0x9 => pings += 1,
            0x1 | 0x2 => {
                assert!(open.is_none(), "a new message inside another: {frame:?}");
                open = Some((frame.opcode, frame.payload));
            }
            0x0 => {
                let (_, body) = open.as_mut().expect("a continuation of an open message");
                body.extend_from_slice(&frame.payload);
            }
            other => panic!("unexpected opcode {other}"),
        }
        if frame.fin && matches!(frame.opcode, 0x0..=0x2) {
            let (_, body) = open.take().expect("a message");
            let text = String::from_utf8(body).expect("our bodies are text");
            let t: usize = text[1..text.find('-').expect("t-")].parse().expect("t");
            messages[t].push(text);
        }
    }
    drop(stream);
    assert!(open.is_none(), "no message left open");
    assert_eq!(pings, 200);
    for (t, got) in messages.iter().enumerate() {
        assert_eq!(got.len(), MESSAGES, "thread {t}");
        for (m, text) in got.iter().enumerate() {
            let parts = 1 + (t + m) % 4;
            let expected: String = (0..parts).map(|p| format!("t{t}-m{m}-{p};")).collect();
            assert_eq!(
                text, &expected,
                "thread {t}, message {m} whole and in order"
            );
        }
    }
    server.join().expect("the server");
}

#[test]
fn fragment_misuse_is_refused_with_nothing_sent() {
    let (addr, server) = serve_one(|ws| {
        let sender = ws.sender();
        assert!(matches!(
            sender.send_fragment(Opcode::Continuation, b"x", true),
            Err(Error::NoMessageToContinue)
        ));
        assert!(matches!(
            sender.send_fragment(Opcode::Ping, b"x", true),
            Err(Error::NotAllowed(_))
        ));
        sender
            .send_fragment(Opcode::Text, b"he", false)
            .expect("start");
        assert!(matches!(
            sender.send_text("not now"),
            Err(Error::MessageInProgress)
        ));
        // The misuse left the connection as it was.
        sender
            .send_fragment(Opcode::Continuation, b"llo", true)
            .expect("end");
        sender.send_text("after").expect("the channel is free");
        let e = sender.ping(&[0; 126]).expect_err("too long");
        assert!(e.is_misuse() && e.close_code().is_none(), "{e}");
        let e = sender.close(CloseCode(1005), "").expect_err("unsendable");
        assert!(e.is_misuse() && e.close_code().is_none(), "{e}");
        sender.close(CloseCode::NORMAL, "").expect("close");
        let mut ws = ws;
        while ws.recv().is_ok() {}
    });
    let mut stream = common::upgraded_stream(addr, "/");
    let frames: Vec<WireFrame> = (0..4)
        .map(|_| read_frame(&mut stream).expect("a frame"))
        .collect();
    let summary: Vec<(bool, u8, &[u8])> = frames
        .iter()
        .map(|f| (f.fin, f.opcode, f.payload.as_slice()))
        .collect();
    assert_eq!(
        summary,
        [
            (false, 0x1, &b"he"[..]),
            (true, 0x0, &b"llo"[..]),
            (true, 0x1, &b"after"[..]),
            (true, 0x8, &1000u16.to_be_bytes()[..]),
        ]
    );
    stream
        .write_all(&masked_client_frame(0x8, &1000u16.to_be_bytes()))
        .expect("close reply");
    assert!(read_frame(&mut stream).is_none(), "the server closes TCP");
    drop(stream);
    server.join().expect("the server");
}

/// A raw server for a plainws client: answers the upgrade, then runs `f`.
fn raw_server(f: impl FnOnce(TcpStream) + Send + 'static) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("request");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).expect("ASCII");
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key");
        let accept = plainws::sansio::handshake::accept_key(key.trim());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        stream.write_all(response.as_bytes()).expect("101");
        f(stream);
    });
    (url, handle)
}

#[test]
fn pings_are_answered_after_our_close_until_the_peers_close() {
    let (url, server) = raw_server(|mut stream| {
        let close = read_frame(&mut stream).expect("the client's Close");
        assert_eq!(close.opcode, 0x8);
        // A Ping that crosses the client's Close: it must still be answered.
        stream
            .write_all(&server_frame(0x9, b"late ping"))
            .expect("ping");
        let pong = read_frame(&mut stream).expect("a Pong");
        assert_eq!(
            (pong.opcode, pong.payload.as_slice()),
            (0xA, &b"late ping"[..])
        );
        stream
            .write_all(&server_frame(0x8, &close.payload[..2]))
            .expect("close reply");
        // After the Close crossed, the client sends nothing more.
        stream
            .write_all(&server_frame(0x9, b"ignored"))
            .expect("ping");
        stream
            .shutdown(std::net::Shutdown::Write)
            .expect("the server closes TCP first");
        let rest = read_frame(&mut stream);
        assert!(rest.is_none(), "nothing after the Close: {rest:?}");
    });
    let mut ws = plainws::connect(&url).expect("connect");
    ws.close(CloseCode::NORMAL, "bye").expect("close");
    assert_eq!(
        ws.recv().expect("the ping"),
        Message::Ping(b"late ping".to_vec())
    );
    assert!(matches!(ws.recv(), Ok(Message::Close(Some(f))) if f.code == CloseCode::NORMAL));
    assert!(matches!(ws.recv(), Err(Error::ConnectionClosed)));
    server.join().expect("the raw server");
}

#[test]
fn replies_from_other_threads_go_out_before_the_close_reply() {
    // The seed's shape: the reader hands each message to a writer thread
    // and returns at the peer's Close; the writer is still sending.
    let (addr, server) = serve_one(|ws| {
        let (mut receiver, sender) = ws.split();
        let (queue, work) = std::sync::mpsc::sync_channel::<String>(20);
        let writer = thread::spawn(move || {
            for text in work {
                thread::sleep(Duration::from_millis(2));
                sender.send_text(&format!("re: {text}")).expect("a reply");
            }
        });
        while let Ok(Message::Text(text)) = receiver.recv() {
            queue.send(text).expect("queued");
        }
        drop(queue);
        drop(receiver);
        writer.join().expect("the writer");
    });
    let mut stream = common::upgraded_stream(addr, "/");
    let mut bytes = Vec::new();
    for i in 0..10 {
        bytes.extend(masked_client_frame(0x1, format!("m{i}").as_bytes()));
    }
    bytes.extend(masked_client_frame(0x8, &4000u16.to_be_bytes()));
    stream.write_all(&bytes).expect("all at once");
    for i in 0..10 {
        let frame = read_frame(&mut stream).expect("a reply");
        assert_eq!(frame.opcode, 0x1);
        assert_eq!(frame.payload, format!("re: m{i}").into_bytes());
    }
    let close = read_frame(&mut stream).expect("the Close reply");
    assert_eq!(
        (close.opcode, &close.payload[..]),
        (0x8, &4000u16.to_be_bytes()[..])
    );
    assert!(read_frame(&mut stream).is_none(), "then the end of stream");
    drop(stream);
    server.join().expect("the server");
}

#[test]
fn a_continuation_from_another_thread_is_refused_at_once() {
    let (addr, server) = serve_one(|ws| {
        let sender = ws.sender();
        sender
            .send_fragment(Opcode::Text, b"he", false)
            .expect("start");
        let other = sender.clone();
        let (outcome, took) = thread::spawn(move || {
            let started = std::time::Instant::now();
            let outcome = other.send_fragment(Opcode::Continuation, b"llo", true);
            (outcome, started.elapsed())
        })
        .join()
        .expect("the other thread");
        assert!(
            matches!(outcome, Err(Error::NotAllowed(_))),
            "a continuation from another thread: {outcome:?}"
        );
        assert!(
            took < Duration::from_secs(1),
            "refused at once, not after waiting: {took:?}"
        );
        // Nothing was sent for it: the owner ends its message.
        sender
            .send_fragment(Opcode::Continuation, b"llo", true)
            .expect("end");
        sender.close(CloseCode::NORMAL, "").expect("close");
        let mut ws = ws;
        while ws.recv().is_ok() {}
    });
    let mut stream = common::upgraded_stream(addr, "/");
    let summary: Vec<(bool, u8, Vec<u8>)> = (0..3)
        .map(|_| read_frame(&mut stream).expect("a frame"))
        .map(|f| (f.fin, f.opcode, f.payload))
        .collect();
    assert_eq!(
        summary,
        [
            (false, 0x1, b"he".to_vec()),
            (true, 0x0, b"llo".to_vec()),
            (true, 0x8, 1000u16.to_be_bytes().to_vec()),
        ]
    );
    stream
        .write_all(&masked_client_frame(0x8, &1000u16.to_be_bytes()))
        .expect("close reply");
    drop(stream);
    server.join().expect("the server");
}

/// A thread starts a fragmented message and ends (`panics`: by a panic)
/// before its last fragment: the connection is closed with 1011 and
/// another thread's send fails at once instead of waiting for the
/// channel.
fn a_thread_ending_mid_message_releases_the_channel(panics: bool) {
    let (addr, server) = serve_one(move |ws| {
        let sender = ws.sender();
        let owner = sender.clone();
        let ended = thread::spawn(move || {
            owner
                .send_fragment(Opcode::Binary, b"part", false)
                .expect("first fragment");
            if panics {
                panic!("the application's bug, mid-message");
            }
            // Returns early, leaving its message open.
        })
        .join();
        assert_eq!(ended.is_err(), panics);
        let started = std::time::Instant::now();
        let outcome = sender.send_text("after");
        assert!(
            outcome.is_err(),
            "the connection was closed under the abandoned message: {outcome:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "the channel was released at once: {:?}",
            started.elapsed()
        );
        let mut ws = ws;
        while ws.recv().is_ok() {}
    });
    let mut stream = common::upgraded_stream(addr, "/");
    let first = read_frame(&mut stream).expect("the first fragment");
    assert_eq!(
        (first.fin, first.opcode, first.payload.as_slice()),
        (false, 0x2, &b"part"[..])
    );
    let close = read_frame(&mut stream).expect("a Close");
    assert_eq!(close.opcode, 0x8, "{close:?}");
    assert_eq!(close.payload[..2], 1011u16.to_be_bytes(), "internal error");
    stream
        .write_all(&masked_client_frame(0x8, &1011u16.to_be_bytes()))
        .expect("close reply");
    assert!(read_frame(&mut stream).is_none(), "the server closes TCP");
    server.join().expect("the server");
}

#[test]
fn a_thread_that_returns_mid_message_releases_the_channel() {
    a_thread_ending_mid_message_releases_the_channel(false);
}

#[test]
fn a_thread_that_panics_mid_message_releases_the_channel() {
    a_thread_ending_mid_message_releases_the_channel(true);
}
