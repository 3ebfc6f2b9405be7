//! The JSON echo server binary (`cargo run --release`), end to end: its
//! replies, its page, its options, and its log on standard error, which
//! must never stop or crash it (unread, closed, or turned off).
#![cfg(feature = "json")]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// Starts the server and reads its log (standard error) line by line.
fn start(extra: &[&str]) -> ServerProcess {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plainws"))
        .args(["--addr", "127.0.0.1:0"])
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stderr = child.stderr.take().unwrap();
    let (tx, log) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let banner = log.recv_timeout(Duration::from_secs(10)).expect("banner");
    let addr = banner_addr(&banner);
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

/// Starts the server with the given standard output and error, and waits
/// until it accepts connections (without reading a banner).
fn start_with(command: &mut Command, addr: SocketAddr) -> Child {
    let mut child = command.spawn().expect("start the server");
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Something listens: make sure it is this server, not another
    // process that took the port (this one would have exited at once).
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server exited: is {addr} taken?"
    );
    child
}

fn server_command(addr: SocketAddr) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_plainws"));
    command.args(["--addr", &addr.to_string()]);
    command
}

/// One whole connection: upgrade, one command and its reply, close.
fn one_exchange(addr: SocketAddr, i: usize) {
    let mut client = open_echo(addr);
    assert_eq!(
        reply(&mut client, &format!(r#"{{"cmd": "{i}"}}"#)),
        format!(r#"{{"cmd":"Thanks for your message: {i}"}}"#)
    );
    client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
    client.expect_close(1000);
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn an_unread_log_never_stops_the_server() {
    // Pipes nobody reads: the kernel holds 64 KiB, 2,000 connections log
    // about five times that. With a line printed per connection, the
    // server stopped answering after about 600.
    let addr = free_addr();
    let mut child = Killed(start_with(
        server_command(addr)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        addr,
    ));
    let started = Instant::now();
    for i in 0..2000 {
        one_exchange(addr, i);
    }
    assert!(child.0.try_wait().unwrap().is_none(), "the server exited");
    assert!(started.elapsed() < Duration::from_secs(60));
    // The first 64 KiB of the log did reach the pipe.
    let _ = child.0.kill();
    let _ = child.0.wait();
    let mut log = String::new();
    let _ = child.0.stderr.take().unwrap().read_to_string(&mut log);
    assert!(log.contains(" open\n"), "{}", &log[..log.len().min(300)]);
}

#[test]
fn a_closed_log_neither_stops_nor_crashes_the_server() {
    // `plainws 2>&1 | head -1`: the reader goes away, writes fail with
    // EPIPE. Before, every connection thread panicked on its first line.
    let addr = free_addr();
    let mut command = server_command(addr);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = command.spawn().expect("start the server");
    drop(child.stdout.take());
    drop(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "the server exited");
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut child = Killed(child);
    for i in 0..300 {
        one_exchange(addr, i);
    }
    assert!(child.0.try_wait().unwrap().is_none(), "the server exited");

    // Descriptors 1 and 2 closed before the program starts (`plainws
    // >&- 2>&-`; the Rust runtime puts /dev/null in their place).
    let addr = free_addr();
    let mut closed = Killed(start_with(
        Command::new("sh")
            .arg("-c")
            .arg(r#"exec "$0" "$@" >&- 2>&-"#)
            .arg(env!("CARGO_BIN_EXE_plainws"))
            .args(["--addr", &addr.to_string(), "--trace"]),
        addr,
    ));
    for i in 0..300 {
        one_exchange(addr, i);
    }
    assert!(closed.0.try_wait().unwrap().is_none(), "the server exited");
}

#[test]
fn quiet_logs_nothing_and_still_serves() {
    let addr = free_addr();
    let mut child = Killed(start_with(
        server_command(addr)
            .args(["--quiet", "--trace"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        addr,
    ));
    for i in 0..3 {
        one_exchange(addr, i);
    }
    let _ = child.0.kill();
    let _ = child.0.wait();
    let (mut out, mut err) = (String::new(), String::new());
    let _ = child.0.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.0.stderr.take().unwrap().read_to_string(&mut err);
    assert_eq!((out.as_str(), err.as_str()), ("", ""));
}

#[test]
fn help_lists_every_option_on_standard_output() {
    let output = Command::new(env!("CARGO_BIN_EXE_plainws"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    assert!(output.stderr.is_empty());
    let help = String::from_utf8(output.stdout).unwrap();
    for option in [
        "--addr HOST:PORT",
        "--trace",
        "--allow-origin ORIGIN",
        "--max-connections N",
        "--quiet",
        "--no-lab",
        "-h, --help",
    ] {
        assert!(help.contains(&format!("  {option}")), "{option}: {help}");
    }
    // A mistake is said on standard error, with exit status 2.
    let output = Command::new(env!("CARGO_BIN_EXE_plainws"))
        .arg("--bogus")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let error = String::from_utf8(output.stderr).unwrap();
    assert!(error.contains("unknown argument --bogus"), "{error}");
}

#[test]
fn head_of_the_page_is_its_head_alone_and_other_methods_get_405() {
    let server = start(&[]);
    let ask = |request: &str| {
        let mut client = RawClient::connect(server.addr);
        client.send(request.as_bytes());
        client.read_http_response()
    };
    let page = ask("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let head = ask("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    // RFC 9110 §9.3.2: the same header fields as GET, and no content.
    let (page_head, body) = page.split_once("\r\n\r\n").unwrap();
    assert_eq!(head, format!("{page_head}\r\n\r\n"));
    assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    assert!(head.contains("text/html"));
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let response = ask(&format!(
            "{method} / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
        ));
        assert!(
            response.starts_with("HTTP/1.1 405 "),
            "{method}: {response}"
        );
        assert!(response.contains("\r\nAllow: GET, HEAD\r\n"), "{response}");
    }
    // Unknown paths: 404, with no body for HEAD.
    assert!(ask("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n").starts_with("HTTP/1.1 404 "));
    let head_404 = ask("HEAD /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head_404.starts_with("HTTP/1.1 404 "), "{head_404}");
    assert!(head_404.ends_with("\r\n\r\n"), "{head_404}");
    // HEAD of the WebSocket endpoint: 405, no body.
    let head_echo = ask("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n");
    assert!(head_echo.starts_with("HTTP/1.1 405 "), "{head_echo}");
    assert!(head_echo.contains("\r\nAllow: GET\r\n"), "{head_echo}");
    assert!(head_echo.ends_with("\r\n\r\n"), "{head_echo}");
}

#[test]
fn routes_on_the_percent_decoded_path() {
    let server = start(&[]);
    // `/ech%6F` is `/echo` (`Request::path` decodes before routing).
    for target in ["/ech%6F", "/%65%63%68%6f", "http://localhost/echo"] {
        let mut client = RawClient::connect(server.addr);
        client.send(upgrade_request(target).as_bytes());
        let head = client.read_http_head();
        assert!(head.starts_with("HTTP/1.1 101 "), "{target}: {head}");
        assert_eq!(
            reply(&mut client, r#"{"cmd": "routed"}"#),
            r#"{"cmd":"Thanks for your message: routed"}"#
        );
    }
    for (target, status) in [("/ech%00", "400"), ("/ech%6", "400"), ("/x/../echo", "404")] {
        let mut client = RawClient::connect(server.addr);
        client.send(upgrade_request(target).as_bytes());
        let response = client.read_http_response();
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status} ")),
            "{target}: {response}"
        );
    }
}
