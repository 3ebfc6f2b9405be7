//! The JSON echo server binary (`cargo run --release`), end to end.
#![cfg(feature = "json")]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use plainws::sansio::frame::Opcode;

struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    log: std::sync::mpsc::Receiver<String>,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &[&str]) -> ServerProcess {
    // A free port: bind, note it, release it for the server.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_plainws"))
        .args(["--addr", &addr.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stdout = child.stdout.take().unwrap();
    let (tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let banner = log.recv_timeout(Duration::from_secs(10)).expect("banner");
    assert!(banner.contains("/echo"), "{banner}");
    ServerProcess { child, addr, log }
}

fn open_echo(addr: SocketAddr) -> RawClient {
    let mut client = RawClient::connect(addr);
    client.send(upgrade_request("/echo").as_bytes());
    assert!(client.read_http_head().starts_with("HTTP/1.1 101 "));
    client
}

fn reply(client: &mut RawClient, message: &str) -> String {
    client.send_frame(Opcode::Text, true, message.as_bytes());
    let frame = client.frame();
    assert_eq!(frame.header.opcode, Opcode::Text);
    String::from_utf8(frame.payload).unwrap()
}

#[test]
fn answers_commands_like_the_seed_and_reports_bad_input() {
    let server = start(&[]);
    let mut client = open_echo(server.addr);
    assert_eq!(
        reply(&mut client, r#"{"cmd": "hello"}"#),
        r#"{"cmd":"Thanks for your message: hello"}"#
    );
    assert_eq!(
        reply(&mut client, r#"{"cmd": "ünï \"quoted\""}"#),
        r#"{"cmd":"Thanks for your message: ünï \"quoted\""}"#
    );
    assert!(reply(&mut client, "not json").starts_with(r#"{"error":"#));
    assert!(reply(&mut client, r#"{"other": 1}"#).contains("cmd"));
    client.send_frame(Opcode::Binary, true, b"\x00\x01");
    let answer = String::from_utf8(client.frame().payload).unwrap();
    assert!(answer.contains("binary"), "{answer}");
    // Still open after every bad message.
    assert_eq!(
        reply(&mut client, r#"{"cmd": "still here"}"#),
        r#"{"cmd":"Thanks for your message: still here"}"#
    );
    client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
    client.expect_close(1000);
    drop(client);
    // One line when the connection opened, one when it closed.
    let lines: Vec<String> = (0..2)
        .filter_map(|_| server.log.recv_timeout(Duration::from_secs(5)).ok())
        .collect();
    assert!(lines[0].ends_with(" open"), "{lines:?}");
    assert!(lines[1].contains("6 messages in, 6 out"), "{lines:?}");
    assert!(lines[1].contains("code 1000"), "{lines:?}");
}

#[test]
fn many_commands_pass_through_the_bounded_queue_in_order() {
    let server = start(&[]);
    let mut client = open_echo(server.addr);
    // Far more than the queue of 20, all sent before reading any reply.
    for i in 0..500 {
        client.send_frame(Opcode::Text, true, format!(r#"{{"cmd":"{i}"}}"#).as_bytes());
    }
    for i in 0..500 {
        let frame = client.frame();
        assert_eq!(
            String::from_utf8(frame.payload).unwrap(),
            format!(r#"{{"cmd":"Thanks for your message: {i}"}}"#)
        );
    }
}

#[test]
fn serves_a_page_at_the_root_and_404_elsewhere() {
    let server = start(&[]);
    let mut client = RawClient::connect(server.addr);
    client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let page = client.read_http_response();
    assert!(page.starts_with("HTTP/1.1 200 OK\r\n"), "{page}");
    assert!(page.contains("text/html"));
    assert!(page.contains("/echo"));
    let mut client = RawClient::connect(server.addr);
    client.send(upgrade_request("/elsewhere").as_bytes());
    assert!(client.read_http_response().starts_with("HTTP/1.1 404 "));
}

#[test]
fn trace_prints_frames_both_ways() {
    let server = start(&["--trace"]);
    let mut client = open_echo(server.addr);
    reply(&mut client, r#"{"cmd":"traced"}"#);
    let mut lines = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_secs(2)) {
        lines.push(line);
        if lines.iter().any(|l| l.contains("->")) {
            break;
        }
    }
    let incoming = lines
        .iter()
        .find(|l| l.contains("<-"))
        .expect("incoming frame");
    assert!(
        incoming.contains("op=TEXT") && incoming.contains("fin=1"),
        "{incoming}"
    );
    assert!(incoming.contains("mask=37fa213d"), "{incoming}");
    let outgoing = lines
        .iter()
        .find(|l| l.contains("->"))
        .expect("outgoing frame");
    assert!(
        outgoing.contains("mask=none") && outgoing.contains("traced"),
        "{outgoing}"
    );
}
