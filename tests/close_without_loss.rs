//! No reply is lost at close: a client that sends its commands and its
//! Close in one write gets every reply before the server's Close, from
//! the JSON echo server (a reader thread and a writer thread joined by a
//! channel, as in the seed program). Also a TCP half-close (FIN, no Close
//! frame) after pipelined commands: every reply, then the end of stream.
//!
//! The client side is raw bytes and an independent frame parser, so the
//! timing is the harshest a peer can choose: the server reads the
//! commands and the Close together.
#![cfg(feature = "json")]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// A masked client frame.
fn frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [0x5a, 0xa5, 0x3c, 0xc3];
    let mut out = vec![0x80 | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Server frames (unmasked) after the HTTP head, parsed independently of
/// plainws: (opcode, payload). Panics on anything malformed.
fn parse_server_frames(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "a truncated header");
        assert_eq!(bytes[0] & 0x80, 0x80, "the server sends whole messages");
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

/// Everything the server sends until it closes, after the 101 head.
fn read_to_end(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
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
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    assert!(all.starts_with(b"HTTP/1.1 101 "), "upgraded");
    all.split_off(end + 4)
}

const UPGRADE: &str = "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

fn commands(connection: usize, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("c{connection}-{i}")).collect()
}

fn expected_reply(command: &str) -> Vec<u8> {
    format!(r#"{{"cmd":"Thanks for your message: {command}"}}"#).into_bytes()
}

/// Opens a connection, sends the upgrade, the commands and (with
/// `close_frame`) a Close in one write, or shuts down the write side
/// after them; returns how many replies came back in order.
fn send_then_end(addr: SocketAddr, connection: usize, count: usize, close_frame: bool) -> usize {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let mut bytes = UPGRADE.as_bytes().to_vec();
    let commands = commands(connection, count);
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
    let frames = parse_server_frames(&read_to_end(&mut stream));
    let replies: Vec<&Vec<u8>> = frames
        .iter()
        .filter(|(op, _)| *op == 0x1)
        .map(|(_, p)| p)
        .collect();
    let in_order = replies
        .iter()
        .zip(&commands)
        .take_while(|(reply, command)| **reply == &expected_reply(command))
        .count();
    if close_frame {
        let last = frames.last().expect("some frames");
        assert_eq!(last.0, 0x8, "the server's Close comes last");
        assert_eq!(last.1[..2], 1000u16.to_be_bytes(), "the code is echoed");
        let close_at = frames.iter().position(|(op, _)| *op == 0x8);
        assert_eq!(close_at, Some(frames.len() - 1), "nothing after the Close");
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
    let server = common::JsonServer::start(&[]);
    assert_eq!(
        lost_replies(server.addr, 1000, 1, true),
        0,
        "1 command each"
    );
    assert_eq!(
        lost_replies(server.addr, 1000, 5, true),
        0,
        "5 commands each"
    );
}

#[test]
fn half_close_after_pipelined_commands_loses_no_reply() {
    let server = common::JsonServer::start(&[]);
    assert_eq!(send_then_end(server.addr, 0, 50, false), 50);
    assert_eq!(lost_replies(server.addr, 200, 5, false), 0);
}
