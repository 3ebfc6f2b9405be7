//! The command-line client (`examples/client.rs`), run as a program: its
//! options, its output and its exit status, against the JSON echo server
//! binary and against small servers written here. `cargo test` builds the
//! example before running this; the test against the Go seed server is
//! `scripts/cli-test.sh`.
#![cfg(feature = "json")]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use plainws::{Accept, Config, Message};

const WAIT: Duration = Duration::from_secs(15);

/// The example binary, built by `cargo test` next to this test's own.
fn client_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/cli_client-<hash> -> target/<profile>/examples/client
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("examples")
        .join(format!("client{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example client` (plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// A running client: its stdin, its stdout lines as they come, and its
/// stderr collected.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

impl Client {
    fn start(args: &[&str]) -> Client {
        let mut child = Command::new(client_path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the client");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            collected.lock().unwrap().push_str(&text);
        });
        let stdin = child.stdin.take();
        Client {
            child,
            stdin,
            lines,
            stderr,
        }
    }

    fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin still open");
        writeln!(stdin, "{line}").expect("write to the client's stdin");
        stdin.flush().unwrap();
    }

    fn line(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no line from the client; stderr: {}", self.stderr()))
    }

    fn end_input(&mut self) {
        self.stdin.take();
    }

    /// Waits for the client to exit; its status and whole stderr.
    fn wait(&mut self) -> (ExitStatus, String) {
        self.end_input();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the stderr thread finish reading.
                thread::sleep(Duration::from_millis(50));
                return (status, self.stderr());
            }
            assert!(Instant::now() < deadline, "the client did not exit");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the client with `input` on stdin to the end: status, stdout, stderr.
fn run(args: &[&str], input: &str) -> (ExitStatus, String, String) {
    let mut child = Command::new(client_path())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the client");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().expect("client output");
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

use common::JsonServer;

/// A plainws server in this process: `handler` runs on each accepted
/// connection after the handshake; the request's headers are recorded.
/// The request headers a test server saw last.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn spawn<H>(handler: H) -> (String, Seen)
where
    H: Fn(plainws::WebSocket) + Send + Sync + Clone + 'static,
{
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let addr = common::spawn_server(move |stream| {
        let record = Arc::clone(&record);
        let ws = plainws::accept_with(stream, Config::default(), move |request| {
            *record.lock().unwrap() = request.headers().to_vec();
            let mut accept = Accept::default();
            accept.protocol = request.protocols().last().map(str::to_owned);
            Ok(accept)
        });
        if let Ok(ws) = ws {
            handler(ws);
        }
    });
    (format!("ws://{addr}/"), seen)
}

fn reply(i: usize) -> String {
    format!(r#"{{"cmd":"Thanks for your message: {i}"}}"#)
}

#[test]
fn help_lists_every_option_on_stdout() {
    let (status, stdout, _) = run(&["--help"], "");
    assert!(status.success());
    for option in [
        "--origin",
        "-H, --header",
        "--protocol",
        "--connect-timeout",
        "--binary",
        "--wait-replies",
        "--reply-timeout",
        "--trace",
        "--trace=bytes",
        "Exit status",
    ] {
        assert!(stdout.contains(option), "{option} missing from:\n{stdout}");
    }
}

#[test]
fn the_readme_shows_the_real_options() {
    let (_, help, _) = run(&["--help"], "");
    let options: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let shown: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("`cargo run --example client -- --help`"))
        .skip(3)
        .take_while(|l| !l.starts_with("```"))
        .collect();
    assert!(options.len() > 10, "{help}");
    assert_eq!(
        shown, options,
        "README.md's client options differ from --help"
    );
}

#[test]
fn bad_options_exit_2_saying_why() {
    for (args, why) in [
        (
            &["--connect-timeout", "soon", "ws://127.0.0.1:1/"][..],
            "--connect-timeout \"soon\"",
        ),
        (
            &["--reply-timeout", "-1", "ws://127.0.0.1:1/"],
            "--reply-timeout \"-1\"",
        ),
        (
            &["-H", "no colon", "ws://127.0.0.1:1/"],
            "expected 'Name: value'",
        ),
        (&["--origin"], "--origin needs a value"),
        (&["--bogus", "ws://127.0.0.1:1/"], "unknown option --bogus"),
        (&[], "no URL given"),
        (&["ws://127.0.0.1:1/", "ws://127.0.0.1:2/"], "only one URL"),
        (&["http://127.0.0.1:1/"], "invalid URL"),
    ] {
        let (status, stdout, stderr) = run(args, "");
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
    }
}

#[test]
fn pipes_commands_to_the_json_server_and_writes_each_reply_on_its_own_line() {
    let server = JsonServer::start(&[]);
    let mut client = Client::start(&[&server.url()]);
    for i in 0..50 {
        client.send_line(&format!(r#"{{"cmd":"{i}"}}"#));
    }
    // Each reply exactly as the server sent it, in order, no prefix.
    for i in 0..50 {
        assert_eq!(client.line(), reply(i));
    }
    let (status, stderr) = client.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("closed (1000)"), "{stderr}");
}

#[test]
fn wait_replies_lets_a_whole_pipeline_through() {
    let server = JsonServer::start(&[]);
    let input: String = (0..50).map(|i| format!("{{\"cmd\":\"{i}\"}}\n")).collect();
    let (status, stdout, stderr) = run(&["--wait-replies", &server.url()], &input);
    assert!(status.success(), "{stderr}");
    let expected: Vec<String> = (0..50).map(reply).collect();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected, "{stderr}");
}

#[test]
fn sends_origin_headers_and_protocols_and_reports_the_choice() {
    let (url, seen) = spawn(common::echo_loop);
    let (status, stdout, stderr) = run(
        &[
            "--origin",
            "http://example.test",
            "-H",
            "X-One: 1",
            "--header",
            "Authorization:  Bearer abc ",
            "--protocol",
            "chat",
            "--protocol",
            "superchat",
            "--wait-replies",
            &url,
        ],
        "hello\r\n\nlast line without a newline",
    );
    assert!(status.success(), "{stderr}");
    // CRLF and LF endings are not part of the message; an empty line is an
    // empty message.
    assert_eq!(stdout, "hello\n\nlast line without a newline\n");
    assert!(stderr.contains("(subprotocol superchat)"), "{stderr}");
    let headers = seen.lock().unwrap().clone();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header("Origin").as_deref(), Some("http://example.test"));
    assert_eq!(header("X-One").as_deref(), Some("1"));
    assert_eq!(header("Authorization").as_deref(), Some("Bearer abc"));
    assert_eq!(
        header("Sec-WebSocket-Protocol").as_deref(),
        Some("chat, superchat")
    );
}

#[test]
fn binary_goes_out_from_base64_and_comes_back_marked() {
    let (url, _) = spawn(common::echo_loop);
    let (status, stdout, stderr) = run(&["--binary", "--wait-replies", &url], "AAEC/w==\n\naGk=\n");
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "binary:AAEC/w==\nbinary:\nbinary:aGk=\n");

    let (status, _, stderr) = run(&["--binary", &url], "not base64!\n");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 1 is not base64"), "{stderr}");
}

#[test]
fn text_with_newlines_is_written_as_it_came() {
    let (url, _) = spawn(|mut ws: plainws::WebSocket| {
        ws.send_text("first\nsecond").unwrap();
        while let Ok(message) = ws.recv() {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    });
    let mut client = Client::start(&[&url]);
    assert_eq!(client.line(), "first");
    assert_eq!(client.line(), "second");
    let (status, stderr) = client.wait();
    assert!(status.success(), "{stderr}");
}

#[test]
fn input_that_is_not_utf8_fails_after_closing() {
    let (url, _) = spawn(common::echo_loop);
    let mut child = Command::new(client_path())
        .arg(&url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"ok\n\xff\xfe\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 2 is not UTF-8"), "{stderr}");
}

#[test]
fn a_refused_handshake_exits_1_with_the_status_line() {
    let server = JsonServer::start(&[]);
    let url = format!("ws://{}/elsewhere", server.addr);
    let (status, stdout, stderr) = run(&[&url], "");
    assert_eq!(status.code(), Some(1));
    assert!(
        stderr.contains("server refused the upgrade: HTTP/1.1 404 Not Found"),
        "{stderr}"
    );
    assert!(stdout.is_empty());
}

#[test]
fn a_refused_connection_exits_1() {
    let port = common::free_addr().port();
    let (status, _, stderr) = run(
        &["--connect-timeout", "2", &format!("ws://127.0.0.1:{port}/")],
        "",
    );
    assert_eq!(status.code(), Some(1));
    assert!(stderr.contains("refused"), "{stderr}");
}

#[test]
fn a_server_that_vanishes_mid_session_is_an_error() {
    let mut server = JsonServer::start(&[]);
    let mut client = Client::start(&[&server.url()]);
    client.send_line(r#"{"cmd":"before"}"#);
    assert_eq!(
        client.line(),
        r#"{"cmd":"Thanks for your message: before"}"#
    );
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    // The client notices while its input is still open.
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the client did not notice");
        thread::sleep(Duration::from_millis(10));
    };
    thread::sleep(Duration::from_millis(50));
    let stderr = client.stderr();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("without a close handshake"), "{stderr}");
}

#[test]
fn a_close_code_other_than_1000_is_an_error() {
    let (url, _) = spawn(|ws: plainws::WebSocket| {
        let _ = ws.sender().close(plainws::CloseCode(4001), "go away");
        let (mut receiver, _) = ws.split();
        while receiver.recv().is_ok() {}
    });
    let mut client = Client::start(&[&url]);
    let (status, stderr) = client.wait();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("server closed with 4001 go away"),
        "{stderr}"
    );
}

#[test]
fn wait_replies_gives_up_after_the_reply_timeout() {
    // A server that reads and never answers.
    let (url, _) = spawn(|mut ws: plainws::WebSocket| while ws.recv().is_ok() {});
    let started = Instant::now();
    let (status, _, stderr) = run(
        &["--wait-replies", "--reply-timeout", "0.3", &url],
        "one\ntwo\n",
    );
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("0 of 2 replies arrived"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn trace_bytes_annotates_every_frame_on_stderr() {
    let (url, _) = spawn(common::echo_loop);
    let (status, stdout, stderr) = run(&["--trace=bytes", "--wait-replies", &url], "Hello\n");
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "Hello\n");
    // Our masked Text, the server's unmasked echo, both Close frames.
    assert!(
        stderr.contains("-> TEXT frame: 6 header bytes, 5 payload bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("MASK=1, length 5 (7-bit form)"), "{stderr}");
    assert!(stderr.contains("masking key"), "{stderr}");
    assert!(stderr.contains("as sent (masked)"), "{stderr}");
    assert!(
        stderr.contains("48 65 6c 6c 6f          \"Hello\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("<- TEXT frame: 2 header bytes, 5 payload bytes"),
        "{stderr}"
    );
    assert!(stderr.contains("not masked: \"Hello\""), "{stderr}");
    assert!(
        stderr.contains("code 1000, reason \"end of input\""),
        "{stderr}"
    );
}

// The protocol lab's options: --fragments, --ping, --close, --raw.

/// A server written with raw bytes: it answers the handshake by hand and
/// hands each client frame over as it came (first two bytes, masking
/// key, unmasked payload), so a test checks exactly what the client sent.
struct RawPeer {
    stream: std::net::TcpStream,
}

impl RawPeer {
    fn accept(listener: &std::net::TcpListener) -> RawPeer {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key");
        let accept = plainws::sansio::handshake::accept_key(key.trim());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        stream.write_all(response.as_bytes()).unwrap();
        RawPeer { stream }
    }

    /// The next frame: its first two bytes, its key (if masked) and its
    /// payload unmasked. Payloads here are under 126 bytes.
    fn frame(&mut self) -> ([u8; 2], Option<[u8; 4]>, Vec<u8>) {
        let mut start = [0u8; 2];
        self.stream.read_exact(&mut start).unwrap();
        let len = usize::from(start[1] & 0x7F);
        assert!(len < 126, "{start:?}");
        let key = (start[1] & 0x80 != 0).then(|| {
            let mut key = [0u8; 4];
            self.stream.read_exact(&mut key).unwrap();
            key
        });
        let mut payload = vec![0u8; len];
        self.stream.read_exact(&mut payload).unwrap();
        if let Some(key) = key {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= key[i % 4];
            }
        }
        (start, key, payload)
    }
}

#[test]
fn lab_options_send_exactly_the_frames_asked_for() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let client = thread::spawn(move || {
        run(
            &[
                "--ping",
                "are you there?",
                "--raw",
                "82 03 01 02 03",
                "--raw-unmasked",
                "81 02 68 69",
                "--fragments",
                "3",
                "--close",
                "4000:bye",
                &url,
            ],
            "abcdefg\n",
        )
    });
    let mut peer = RawPeer::accept(&listener);
    // The Ping, masked like every client frame (RFC 6455 §5.3).
    let (start, key, payload) = peer.frame();
    assert_eq!(
        (start, payload),
        ([0x89, 0x80 | 14], b"are you there?".to_vec())
    );
    assert!(key.is_some());
    // --raw: the bytes given, with MASK set and a key added by the client.
    let (start, key, payload) = peer.frame();
    assert_eq!(
        (start, key.is_some(), payload),
        ([0x82, 0x83], true, vec![1, 2, 3])
    );
    // --raw-unmasked: exactly the bytes given.
    let (start, key, payload) = peer.frame();
    assert_eq!((start, key, payload), ([0x81, 0x02], None, b"hi".to_vec()));
    // The input line in three fragments: TEXT, CONT, CONT with FIN.
    let fragments: Vec<_> = (0..3)
        .map(|_| peer.frame())
        .map(|(s, _, p)| (s[0], p))
        .collect();
    assert_eq!(
        fragments,
        [
            (0x01, b"ab".to_vec()),
            (0x00, b"cd".to_vec()),
            (0x80, b"efg".to_vec())
        ]
    );
    // The Close with our code and reason.
    let (start, _, payload) = peer.frame();
    assert_eq!((start[0], payload), (0x88, b"\x0f\xa0bye".to_vec()));
    peer.stream.write_all(b"\x88\x02\x0f\xa0").unwrap();
    drop(peer);
    let (status, stdout, stderr) = client.join().unwrap();
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("client: closed (4000)"), "{stderr}");
}

#[test]
fn lab_options_against_the_json_server() {
    let server = JsonServer::start(&[]);
    let (status, stdout, stderr) = run(
        &[
            "--trace=bytes",
            "--fragments",
            "4",
            "--ping",
            "ping!",
            "--raw",
            "89 02 68 69",
            &server.url(),
        ],
        "{\"cmd\":\"in four frames\"}\n",
    );
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "{\"cmd\":\"Thanks for your message: in four frames\"}\n"
    );
    // The raw Ping is traced like the page shows frames, and answered.
    assert!(
        stderr.contains("(raw, from --raw: plainws checked nothing)"),
        "{stderr}"
    );
    assert!(stderr.contains("not masked: \"hi\""), "{stderr}");
    assert!(stderr.contains("not masked: \"ping!\""), "{stderr}");
    assert_eq!(stderr.matches("-> CONT frame").count(), 3, "{stderr}");
    // An unmasked client frame: the server fails the connection (§5.1).
    let (status, _, stderr) = run(&["--raw-unmasked", "81 02 68 69", &server.url()], "");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("1002"), "{stderr}");
}

#[test]
fn lab_options_refuse_what_they_cannot_send() {
    for (args, why) in [
        (
            &["--fragments", "0", "ws://127.0.0.1:1/"][..],
            "--fragments \"0\"",
        ),
        (
            &["--raw", "8", "ws://127.0.0.1:1/"],
            "an odd number of hex digits",
        ),
        (&["--raw", "zz 00", "ws://127.0.0.1:1/"], "is not hex"),
        (
            &["--raw", "81 85 00 00 00 00 68", "ws://127.0.0.1:1/"],
            "give the frame unmasked",
        ),
        (
            &["--close", "1005", "ws://127.0.0.1:1/"],
            "--close \"1005\"",
        ),
        (
            &["--ping", &"x".repeat(126), "ws://127.0.0.1:1/"],
            "at most 125 bytes",
        ),
    ] {
        let (status, _, stderr) = run(args, "");
        assert_eq!(status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
    let (_, help, _) = run(&["--help"], "");
    for option in [
        "--fragments N",
        "--ping TEXT",
        "--close CODE[:REASON]",
        "--raw HEX",
        "--raw-unmasked HEX",
    ] {
        assert!(help.contains(option), "{option} missing from:\n{help}");
    }
}

/// Issue 17, row 4: a server that upgrades, then neither answers the
/// client's Close nor ends TCP. The client says so and exits 1, every
/// time (it used to blame a TCP end that never happened, and exit 0).
#[test]
fn a_server_that_never_answers_our_close_is_an_error() {
    use plainws::sansio::handshake::accept_key;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("ws://{}/", listener.local_addr().expect("addr"));
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("request");
            head.push(byte[0]);
        }
        let request = plainws::Request::parse(&head, 100).expect("request");
        let key = request.header("Sec-WebSocket-Key").expect("key");
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_key(key)
        );
        stream.write_all(response.as_bytes()).expect("101");
        // Read and drop everything, the Close included, until the client
        // ends TCP.
        let mut sink = [0u8; 1024];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    let mut client = Client::start(&[&url]);
    let started = Instant::now();
    let (status, stderr) = client.wait();
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("neither answered our Close nor ended TCP"),
        "{stderr}"
    );
    // The default close timeout (5 s), started when the Close went out.
    assert!(
        started.elapsed() >= Config::default().close_timeout,
        "{stderr}"
    );
    server.join().expect("server");
}
