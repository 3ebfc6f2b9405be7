//! Interoperability with Python's `websockets`, the reference sans-I/O
//! implementation: its client against the plainws server, and the plainws
//! client against its server (scripts/py_interop.py is the Python side).
//!
//! Needs the repo's venv: run scripts/setup-venv.sh. Without it these
//! tests fail, saying so; they never pass silently.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use plainws::{
    ClientOptions, CloseCode, CloseFrame, Config, DeflateConfig, Message, Opcode, WebSocket,
};

const LINE_TIMEOUT: Duration = Duration::from_secs(10);

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's interpreter, or a failure that says how to get it.
fn python() -> PathBuf {
    let python = repo().join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup-venv.sh to create the venv with `websockets`",
        python.display()
    );
    python
}

/// A Python process that is killed when the test ends, and its stdout lines.
struct Python {
    child: Child,
    lines: Receiver<String>,
}

impl Python {
    fn start(args: &[&str]) -> Python {
        let mut child = Command::new(python())
            .arg(repo().join("scripts/py_interop.py"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start scripts/py_interop.py");
        let stdout = child.stdout.take().expect("piped stdout");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Python { child, lines }
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(LINE_TIMEOUT)
            .expect("a line from scripts/py_interop.py in time")
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The plainws side of the Python client's script: echo, plus commands.
fn serve(mut ws: WebSocket) -> Option<CloseFrame> {
    let sender = ws.sender();
    loop {
        let message = match ws.recv() {
            Ok(message) => message,
            Err(e) => panic!("plainws server: {e}"),
        };
        let sent = match message {
            Message::Text(text) => match text.as_str() {
                "fragments-please" => sender
                    .send_fragment(Opcode::Text, b"frag", false)
                    .and_then(|()| sender.send_fragment(Opcode::Continuation, b"ment", false))
                    .and_then(|()| sender.send_fragment(Opcode::Continuation, b"ed", true)),
                "ping-me" => sender.ping(b"plainws-ping"),
                "close-me" => sender.close(CloseCode(4001), "bye from plainws"),
                _ => sender.send_text(&text),
            },
            Message::Binary(data) => sender.send_binary(&data),
            Message::Pong(payload) => {
                sender.send_text(&format!("pong: {}", String::from_utf8_lossy(&payload)))
            }
            Message::Ping(_) => Ok(()),
            Message::Close(frame) => return frame,
        };
        sent.expect("plainws server send");
    }
}

/// The Python side's permessage-deflate settings the tests go through
/// (`DEFLATE` in scripts/py_interop.py).
const DEFLATE_MODES: [&str; 4] = ["default", "no-context", "bits-9", "client-bits-10"];

#[test]
fn python_client_against_plainws_server() {
    python_client_against_plainws_server_with(None, "none");
}

#[test]
fn python_client_against_plainws_server_compressing() {
    for mode in DEFLATE_MODES {
        python_client_against_plainws_server_with(Some(DeflateConfig::default()), mode);
    }
}

fn python_client_against_plainws_server_with(compression: Option<DeflateConfig>, mode: &str) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let config = Config::default().compression(compression);
    let server = thread::spawn(move || {
        let mut closes = Vec::new();
        for _ in 0..2 {
            let (stream, _) = listener.accept().expect("accept");
            let ws = plainws::accept_with(stream, config.clone(), |_| Ok(Default::default()))
                .expect("handshake");
            assert_eq!(ws.is_compressed(), compression.is_some(), "negotiated");
            closes.push(serve(ws));
        }
        closes
    });
    let python = Python::start(&["client", &url, mode]);
    let verdict = python.line();
    assert_eq!(verdict, "ok", "the Python client found a mismatch");
    let closes = server.join().expect("server thread");
    assert_eq!(
        closes[0],
        Some(CloseFrame::new(CloseCode(4000), "bye from python"))
    );
    // The second connection was closed by plainws; Python echoed the code.
    assert_eq!(closes[1].as_ref().map(|f| f.code), Some(CloseCode(4001)));
}

fn expect(ws: &mut WebSocket, want: Message) {
    match ws.recv() {
        Ok(got) => assert_eq!(got, want),
        Err(e) => panic!("expected {want:?}, got {e}"),
    }
}

#[test]
fn plainws_client_against_python_server() {
    plainws_client_against_python_server_with(None, "none");
}

#[test]
fn plainws_client_against_python_server_compressing() {
    for mode in DEFLATE_MODES {
        plainws_client_against_python_server_with(Some(DeflateConfig::default()), mode);
    }
}

fn plainws_client_against_python_server_with(compression: Option<DeflateConfig>, mode: &str) {
    let python = Python::start(&["server", mode]);
    let listening = python.line();
    let port = listening
        .strip_prefix("listening ")
        .unwrap_or_else(|| panic!("unexpected first line {listening:?}"));
    let url = format!("ws://127.0.0.1:{port}/");

    let options = || ClientOptions::default().config(Config::default().compression(compression));
    let mut ws = plainws::connect_with(&url, options()).expect("connect to the Python server");
    assert_eq!(
        ws.is_compressed(),
        compression.is_some() && mode != "none",
        "negotiated with {mode}"
    );
    let big_binary: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
    let big_text = "é".repeat(1 << 19);
    for text in ["hello", "", big_text.as_str()] {
        ws.send_text(text).expect("send text");
        expect(&mut ws, Message::Text(text.into()));
    }
    for data in [&b"\x00\x01\xfe\xff"[..], b"", &big_binary] {
        ws.send_binary(data).expect("send binary");
        expect(&mut ws, Message::Binary(data.to_vec()));
    }

    let sender = ws.sender();
    sender.send_fragment(Opcode::Text, b"frag", false).unwrap();
    sender
        .send_fragment(Opcode::Continuation, b"ment", false)
        .unwrap();
    sender
        .send_fragment(Opcode::Continuation, b"ed", true)
        .unwrap();
    expect(&mut ws, Message::Text("fragmented".into()));
    sender
        .send_fragment(Opcode::Binary, b"\x01", false)
        .unwrap();
    sender
        .send_fragment(Opcode::Continuation, b"\x02\x03", true)
        .unwrap();
    expect(&mut ws, Message::Binary(vec![1, 2, 3]));

    ws.send_text("fragments-please").unwrap();
    expect(&mut ws, Message::Text("fragmented".into()));

    ws.ping(b"rs-ping").unwrap();
    expect(&mut ws, Message::Pong(b"rs-ping".to_vec()));

    ws.send_text("ping-me").unwrap();
    expect(&mut ws, Message::Ping(b"py-ping".to_vec()));
    expect(&mut ws, Message::Text("pong: py-ping".into()));

    ws.close(CloseCode(4000), "bye from plainws").unwrap();
    expect(
        &mut ws,
        Message::Close(Some(CloseFrame::new(CloseCode(4000), "bye from plainws"))),
    );
    assert_eq!(python.line(), "closed 4000 bye from plainws");

    let mut ws = plainws::connect_with(&url, options()).expect("second connection");
    ws.send_text("close-me").unwrap();
    expect(
        &mut ws,
        Message::Close(Some(CloseFrame::new(CloseCode(4001), "bye from python"))),
    );
    // plainws echoes the code without a reason (RFC 6455 §5.5.1).
    assert_eq!(python.line(), "closed 4001 ");
}
