//! Loopback tests of whole connections: handshake, messages, concurrency,
//! the close handshake in both directions, timeouts and limits.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use plainws::sansio::frame::Opcode;
use plainws::{Accept, CloseCode, Config, Error, Message, Response};

#[test]
fn echoes_after_the_handshake() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::open(addr);
    client.send_frame(Opcode::Text, true, "héllo".as_bytes());
    let frame = client.frame();
    assert_eq!(frame.header.opcode, Opcode::Text);
    assert_eq!(frame.header.mask, None, "server frames are never masked");
    assert_eq!(frame.payload, "héllo".as_bytes());
}

#[test]
fn the_101_carries_the_rfc_accept_value() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::connect(addr);
    client.send(upgrade_request("/chat").as_bytes());
    let head = client.read_http_head();
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    assert!(
        head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
}

#[test]
fn each_bad_handshake_gets_its_http_status() {
    let addr = spawn_server(echo_with(Config::default()));
    let good = upgrade_request("/");
    let cases = [
        (good.replace("GET /", "POST /"), "HTTP/1.1 405 "),
        (
            good.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            "HTTP/1.1 400 ",
        ),
        (good.replace("Upgrade: websocket\r\n", ""), "HTTP/1.1 400 "),
        (
            good.replace("Connection: Upgrade", "Connection: close"),
            "HTTP/1.1 400 ",
        ),
        (good.replace("Version: 13", "Version: 12"), "HTTP/1.1 426 "),
        (
            good.replace("HTTP/1.1\r\n", "HTTP/1.0\r\n"),
            "HTTP/1.1 400 ",
        ),
        (
            good.replace(
                "\r\n\r\n",
                &format!("\r\nX-Big: {}\r\n\r\n", "a".repeat(20_000)),
            ),
            "HTTP/1.1 431 ",
        ),
        ("NOT HTTP AT ALL\r\n\r\n".to_string(), "HTTP/1.1 400 "),
    ];
    for (request, status) in cases {
        let mut client = RawClient::connect(addr);
        let _ = client.try_send(request.as_bytes());
        let response = client.read_http_response();
        assert!(
            response.starts_with(status),
            "{status} for {request:.60}: {response}"
        );
        if status == "HTTP/1.1 426 " {
            assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
        }
    }
}

#[test]
fn the_application_sees_the_request_and_may_refuse_it() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_by_server = Arc::clone(&seen);
    let addr = spawn_server(move |stream| {
        let seen = Arc::clone(&seen_by_server);
        let _ = plainws::accept_with(stream, Config::default(), move |request| {
            seen.lock().unwrap().push((
                request.path().to_owned(),
                request.query().map(str::to_owned),
            ));
            match request.path() {
                "/ok" => Ok(Accept::default().protocol("chat")),
                "/private" => Err(Response::new(403, "no")),
                _ => Err(Response::new(404, "nothing here")),
            }
        });
    });
    let mut client = RawClient::connect(addr);
    client.send(upgrade_request("/missing?x=1").as_bytes());
    assert!(
        client
            .read_http_response()
            .starts_with("HTTP/1.1 404 Not Found\r\n")
    );
    let mut client = RawClient::connect(addr);
    client.send(upgrade_request("/private").as_bytes());
    assert!(
        client
            .read_http_response()
            .starts_with("HTTP/1.1 403 Forbidden\r\n")
    );
    let mut client = RawClient::connect(addr);
    let request = upgrade_request("/ok")
        .replace("\r\n\r\n", "\r\nSec-WebSocket-Protocol: mqtt, chat\r\n\r\n");
    client.send(request.as_bytes());
    let head = client.read_http_head();
    assert!(head.contains("Sec-WebSocket-Protocol: chat\r\n"), "{head}");
    let seen = seen.lock().unwrap();
    assert!(seen.contains(&("/missing".to_owned(), Some("x=1".to_owned()))));
}

#[test]
fn a_request_and_its_first_frame_in_one_write_lose_nothing() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::connect(addr);
    let mut bytes = upgrade_request("/").into_bytes();
    bytes.extend(client_frame(Opcode::Text, true, b"first"));
    bytes.extend(client_frame(Opcode::Binary, true, b"second"));
    client.send(&bytes);
    assert!(client.read_http_head().starts_with("HTTP/1.1 101 "));
    assert_eq!(client.frame().payload, b"first");
    assert_eq!(client.frame().payload, b"second");
}

#[test]
fn eight_threads_sending_at_once_never_interleave_frames() {
    const THREADS: usize = 8;
    const EACH: usize = 10_000;
    let addr = spawn_server(|stream| {
        let Ok(ws) = plainws::accept(stream) else {
            return;
        };
        let (mut receiver, sender) = ws.split();
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let sender = sender.clone();
                std::thread::spawn(move || {
                    for i in 0..EACH {
                        // Sizes cross the 125 and 65535 length forms.
                        let filler = "x".repeat(
                            [0, 200, 70_000][(i % 97 == 0) as usize + (i % 997 == 0) as usize],
                        );
                        sender.send_text(&format!("{t}:{i}:{filler}")).unwrap();
                    }
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        sender.close(CloseCode::NORMAL, "done").unwrap();
        while receiver.recv().is_ok() {}
    });
    let mut client = RawClient::open(addr);
    let mut next_expected: HashMap<usize, usize> = HashMap::new();
    let mut total = 0;
    loop {
        let frame = client.frame();
        if frame.header.opcode == Opcode::Close {
            client.send_frame(Opcode::Close, true, &frame.payload);
            break;
        }
        assert_eq!(frame.header.opcode, Opcode::Text);
        assert!(frame.header.fin);
        let text = String::from_utf8(frame.payload).expect("each message is intact UTF-8");
        let mut parts = text.splitn(3, ':');
        let t: usize = parts.next().unwrap().parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let filler = parts.next().unwrap();
        assert!(filler.bytes().all(|b| b == b'x'));
        let expected = next_expected.entry(t).or_insert(0);
        assert_eq!(i, *expected, "thread {t} messages arrive in order");
        *expected += 1;
        total += 1;
    }
    assert_eq!(total, THREADS * EACH);
}

#[test]
fn the_client_closes_and_the_server_answers_then_closes_tcp() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::open(addr);
    client.send_frame(Opcode::Close, true, &close_payload(1000, "bye"));
    client.expect_close(1000);
}

#[test]
fn the_server_closes_and_the_handshake_completes() {
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let addr = spawn_server(move |stream| {
        let (mut receiver, sender) = plainws::accept(stream).unwrap().split();
        sender.close(CloseCode::GOING_AWAY, "restarting").unwrap();
        assert!(matches!(
            sender.send_text("late"),
            Err(Error::AlreadyClosed)
        ));
        let reply = receiver.recv();
        let after = receiver.recv();
        done_tx.send((reply, after)).unwrap();
    });
    let mut client = RawClient::open(addr);
    let close = client.frame();
    assert_eq!(close.close_code(), Some(1001));
    assert_eq!(&close.payload[2..], b"restarting");
    client.send_frame(Opcode::Close, true, &close.payload);
    assert_eq!(client.next(Duration::from_secs(5)), Next::Eof);
    // The server closed TCP first; the client now closes its end (§7.1.1).
    drop(client);
    let (reply, after) = done_rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(matches!(reply, Ok(Message::Close(Some(f))) if f.code == CloseCode::GOING_AWAY));
    assert!(matches!(after, Err(Error::ConnectionClosed)));
}

#[test]
fn messages_still_arrive_after_the_server_sent_close() {
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = spawn_server(move |stream| {
        let (mut receiver, sender) = plainws::accept(stream).unwrap().split();
        sender.close(CloseCode::NORMAL, "").unwrap();
        let first = receiver.recv();
        let second = receiver.recv();
        tx.send((first, second)).unwrap();
    });
    let mut client = RawClient::open(addr);
    assert_eq!(client.frame().close_code(), Some(1000));
    client.send_frame(Opcode::Text, true, b"in flight");
    client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
    assert_eq!(client.next(Duration::from_secs(5)), Next::Eof);
    drop(client);
    let (first, second) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first.unwrap(), Message::Text("in flight".into()));
    assert!(matches!(second, Ok(Message::Close(_))));
}

#[test]
fn a_silent_peer_is_cut_off_at_the_close_timeout() {
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = spawn_server(move |stream| {
        let config = Config::default().close_timeout(Duration::from_millis(300));
        let (mut receiver, sender) =
            plainws::accept_with(stream, config, |_| Ok(Accept::default()))
                .unwrap()
                .split();
        let started = Instant::now();
        sender.close(CloseCode::NORMAL, "").unwrap();
        let result = receiver.recv();
        tx.send((result.map(|_| ()), started.elapsed())).unwrap();
    });
    let mut client = RawClient::open(addr);
    assert_eq!(client.frame().close_code(), Some(1000));
    // Never answer; the server must give up on its own.
    let (result, elapsed) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(result.is_err());
    assert!(elapsed >= Duration::from_millis(250), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(client.next(Duration::from_secs(5)), Next::Eof);
}

#[test]
fn an_oversized_message_gets_1009_before_its_payload() {
    let config = Config::default().max_message_size(1000);
    let addr = spawn_server(echo_with(config));
    let mut client = RawClient::open(addr);
    // Two fragments that are each under the limit but not together.
    client.send_frame(Opcode::Binary, false, &[0; 600]);
    client.send(&client_frame(Opcode::Continuation, true, &[0; 600])[..8]);
    client.expect_close(1009);
}

#[test]
fn invalid_utf8_gets_1007_and_protocol_errors_get_1002() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::open(addr);
    client.send_frame(Opcode::Text, true, b"ok \xed\xa0\x80");
    client.expect_close(1007);

    let mut client = RawClient::open(addr);
    client.send(&[0x81, 0x02, b'h', b'i']); // unmasked
    client.expect_close(1002);
}

#[test]
fn pings_are_answered_with_their_payload() {
    let addr = spawn_server(echo_with(Config::default()));
    let mut client = RawClient::open(addr);
    client.send_frame(Opcode::Ping, true, b"are you there");
    let pong = client.frame();
    assert_eq!(pong.header.opcode, Opcode::Pong);
    assert_eq!(pong.payload, b"are you there");
}

#[test]
fn batched_replies_to_pipelined_messages_all_arrive_in_order() {
    let config = Config::default().batch_writes(true);
    let addr = spawn_server(echo_with(config));
    let mut client = RawClient::open(addr);
    let mut burst = Vec::new();
    for i in 0..500 {
        burst.extend(client_frame(Opcode::Text, true, format!("m{i}").as_bytes()));
    }
    client.send(&burst);
    for i in 0..500 {
        assert_eq!(client.frame().payload, format!("m{i}").as_bytes());
    }
    // A lone message, with nothing behind it, is answered at once.
    client.send_frame(Opcode::Text, true, b"alone");
    match client.next(Duration::from_secs(2)) {
        Next::Frame(frame) => assert_eq!(frame.payload, b"alone"),
        other => panic!("a lone reply must not wait: {other:?}"),
    }
}

#[test]
fn fed_messages_wait_for_flush() {
    let (go, wait) = std::sync::mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let addr = spawn_server(move |stream| {
        let (mut receiver, sender) = plainws::accept(stream).unwrap().split();
        sender.feed_text("one").unwrap();
        sender.feed_binary(b"two").unwrap();
        wait.lock().unwrap().recv().unwrap();
        sender.flush().unwrap();
        let _ = receiver.recv();
    });
    let mut client = RawClient::open(addr);
    assert_eq!(client.next(Duration::from_millis(300)), Next::Timeout);
    go.send(()).unwrap();
    assert_eq!(client.frame().payload, b"one");
    assert_eq!(client.frame().payload, b"two");
}

#[test]
fn send_takes_any_message() {
    let (tx, rx) = std::sync::mpsc::channel();
    let addr = spawn_server(move |stream| {
        let (mut receiver, sender) = plainws::accept(stream).unwrap().split();
        sender.send(&Message::Text("t".into())).unwrap();
        sender.send(&Message::Binary(vec![1])).unwrap();
        sender.send(&Message::Ping(b"p".to_vec())).unwrap();
        sender.send(&Message::Close(None)).unwrap();
        tx.send(sender.send(&Message::Text("late".into()))).unwrap();
        while receiver.recv().is_ok() {}
    });
    let mut client = RawClient::open(addr);
    assert_eq!(client.frame().header.opcode, Opcode::Text);
    assert_eq!(client.frame().header.opcode, Opcode::Binary);
    assert_eq!(client.frame().header.opcode, Opcode::Ping);
    assert_eq!(client.frame().close_code(), Some(1000));
    assert!(matches!(rx.recv().unwrap(), Err(Error::AlreadyClosed)));
}
