//! No reply is lost at close through the JSON echo server on the tokio
//! driver (`examples/tokio_json_echo.rs`: a reading task and a writing
//! task joined by a channel): a client that sends its commands and its
//! Close in one write gets every reply before the server's Close; one that
//! ends TCP (FIN, no Close) after pipelined commands gets every reply,
//! then the end of stream. The client is raw bytes and an independent
//! frame parser, so the server reads the commands and the end together.
#![cfg(all(feature = "tokio", feature = "json"))]

#[allow(dead_code)]
#[path = "../examples/tokio_json_echo.rs"]
mod tokio_json_echo;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// Starts the server on a runtime of its own (two worker threads) and
/// returns its address.
fn start_server() -> SocketAddr {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    thread::spawn(move || runtime.block_on(tokio_json_echo::serve(listener)));
    addr
}

/// A masked client frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x5a, 0xa5, 0x3c, 0xc3];
    let mut out = vec![0x80 | opcode];
    assert!(payload.len() < 126);
    out.push(0x80 | payload.len() as u8);
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Server frames (unmasked) after the 101 head: (opcode, payload).
fn parse_server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "a truncated header");
        assert_eq!(bytes[0] & 0x80, 0x80, "whole messages");
        assert_eq!(bytes[1] & 0x80, 0, "server frames are not masked");
        let (len, head) = match bytes[1] & 0x7f {
            126 => (u16::from_be_bytes([bytes[2], bytes[3]]) as usize, 4),
            127 => panic!("no reply is that long"),
            n => (n as usize, 2),
        };
        assert!(bytes.len() >= head + len, "a truncated payload");
        frames.push((bytes[0] & 0x0f, bytes[head..head + len].to_vec()));
        bytes = &bytes[head + len..];
    }
    frames
}

const UPGRADE: &str = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// Sends the upgrade, `count` commands and a Close (or a FIN) in one go;
/// returns how many replies came back, in order.
fn send_then_end(addr: SocketAddr, connection: usize, count: usize, close_frame: bool) -> usize {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut bytes = UPGRADE.as_bytes().to_vec();
    let commands: Vec<String> = (0..count).map(|i| format!("c{connection}-{i}")).collect();
    for command in &commands {
        bytes.extend(frame(0x1, format!(r#"{{"cmd":"{command}"}}"#).as_bytes()));
    }
    if close_frame {
        bytes.extend(frame(0x8, &1000u16.to_be_bytes()));
    }
    stream.write_all(&bytes).expect("send");
    if !close_frame {
        stream.shutdown(Shutdown::Write).expect("FIN");
    }
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("reading the replies: {e}"),
        }
    }
    assert!(all.starts_with(b"HTTP/1.1 101 "), "upgraded");
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let frames = parse_server_frames(&all[end + 4..]);
    let in_order = frames
        .iter()
        .filter(|(op, _)| *op == 0x1)
        .zip(&commands)
        .take_while(|((_, reply), command)| {
            *reply == format!(r#"{{"cmd":"Thanks for your message: {command}"}}"#).into_bytes()
        })
        .count();
    if close_frame {
        let last = frames.last().expect("some frames");
        assert_eq!(last.0, 0x8, "the server's Close comes last: {frames:?}");
        assert_eq!(last.1[..2], 1000u16.to_be_bytes(), "the code is echoed");
    } else {
        assert!(
            frames.iter().all(|(op, _)| *op == 0x1),
            "no Close frame answers a half-close: {frames:?}"
        );
    }
    in_order
}

/// `connections` clients on 8 threads; returns the replies lost.
fn lost_replies(addr: SocketAddr, connections: usize, count: usize, close_frame: bool) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let lost = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (next, lost) = (Arc::clone(&next), Arc::clone(&lost));
            thread::spawn(move || {
                loop {
                    let connection = next.fetch_add(1, Ordering::SeqCst);
                    if connection >= connections {
                        break;
                    }
                    let got = send_then_end(addr, connection, count, close_frame);
                    lost.fetch_add(count - got, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a client thread");
    }
    lost.load(Ordering::SeqCst)
}

#[test]
fn send_then_close_at_once_loses_no_reply() {
    let addr = start_server();
    assert_eq!(
        lost_replies(addr, 1000, 5, true),
        0,
        "1,000 connections x 5"
    );
}

#[test]
fn half_close_after_pipelined_commands_loses_no_reply() {
    let addr = start_server();
    assert_eq!(send_then_end(addr, 0, 50, false), 50);
    assert_eq!(
        lost_replies(addr, 1000, 5, false),
        0,
        "1,000 connections x 5"
    );
}
