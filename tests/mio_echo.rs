//! The event-loop example (`examples/mio_echo.rs`), run as a program: it
//! delivers what it owes a half-closed peer, cuts off a peer that stops
//! reading while serving the others, and caps its connections. `cargo
//! test` builds the example before running this.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{client_frame, upgraded_stream};
use plainws::Opcode;

/// The example binary, built by `cargo test` next to this test's own.
fn example_path() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("examples")
        .join(format!("mio_echo{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --example mio_echo` (plain `cargo test` builds it)",
        path.display()
    );
    path
}

/// mio_echo on a free loopback port; killed when dropped.
struct MioEcho {
    child: Child,
    addr: SocketAddr,
}

impl MioEcho {
    fn start(args: &[&str]) -> MioEcho {
        let mut child = Command::new(example_path())
            .arg("127.0.0.1:0")
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start mio_echo");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let mut banner = String::new();
        stderr.read_line(&mut banner).expect("banner");
        let addr = banner
            .trim()
            .rsplit("ws://")
            .next()
            .and_then(|addr| addr.parse().ok())
            .unwrap_or_else(|| panic!("no address in {banner:?}"));
        // Keep reading its log so that it never blocks on it.
        thread::spawn(move || for _ in stderr.lines().map_while(Result::ok) {});
        MioEcho { child, addr }
    }
}

impl Drop for MioEcho {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text payloads the server's replies must carry, in order, from a
/// stream of unmasked server frames of 126–65535 bytes each.
fn count_echoes(bytes: &[u8], expected: &[Vec<u8>]) -> usize {
    let mut at = 0;
    let mut count = 0;
    while at + 4 <= bytes.len() {
        assert_eq!(bytes[at], 0x81, "a whole text frame at {at}");
        assert_eq!(bytes[at + 1], 126, "a 16-bit length at {at}");
        let len = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        let payload = &bytes[at + 4..at + 4 + len];
        assert!(
            payload == expected[count].as_slice(),
            "reply {count} is its message"
        );
        at += 4 + len;
        count += 1;
    }
    assert_eq!(at, bytes.len(), "the stream ends on a frame boundary");
    count
}

/// Issue 17's half-close case: 5,000 texts of 4 KiB in one write, then
/// FIN; the client reads only after its FIN. Every reply arrives before
/// TCP ends, in 20 runs out of 20.
#[test]
fn a_half_closed_peer_gets_every_reply_owed() {
    const N: usize = 5_000;
    const RUNS: usize = 20;
    let server = MioEcho::start(&[]);
    let messages: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            let mut text = format!("{i:05}:").into_bytes();
            text.resize(4096, b'a' + (i % 26) as u8);
            text
        })
        .collect();
    let burst: Vec<u8> = messages
        .iter()
        .flat_map(|text| client_frame(Opcode::Text, true, text))
        .collect();
    let started = Instant::now();
    let runs: Vec<_> = (0..RUNS)
        .map(|_| {
            let mut stream = upgraded_stream(server.addr, "/");
            // A server that stops reading fails the test, not hangs it.
            stream
                .set_write_timeout(Some(Duration::from_secs(20)))
                .expect("timeout");
            stream.write_all(&burst).expect("the burst");
            stream.shutdown(Shutdown::Write).expect("FIN");
            let mut replies = Vec::new();
            stream.read_to_end(&mut replies).expect("until EOF");
            count_echoes(&replies, &messages)
        })
        .collect();
    let short: Vec<_> = runs.iter().filter(|&&n| n != N).collect();
    assert!(short.is_empty(), "runs short of {N} replies: {short:?}");
    eprintln!("{RUNS} runs of {N} x 4 KiB in {:?}", started.elapsed());
}

/// A peer that sends and never reads is cut off at the write timeout;
/// meanwhile, and after, another client is served at once.
#[test]
fn a_peer_that_never_reads_is_cut_off_and_the_rest_are_served() {
    let server = MioEcho::start(&["--high-water", "1048576", "--write-timeout-ms", "500"]);
    let mut stalled = upgraded_stream(server.addr, "/");
    stalled
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let text = vec![b's'; 60_000];
    let frame = client_frame(Opcode::Text, true, &text);
    // Far more replies than the high-water mark and the socket buffers
    // hold: the server stops reading, then cuts the peer off.
    let writer = {
        let mut stalled = stalled.try_clone().expect("clone");
        thread::spawn(move || {
            let mut written = 0usize;
            while written < 256 << 20 {
                if let Err(e) = stalled.write_all(&frame) {
                    return (written, Some(e.kind()));
                }
                written += frame.len();
            }
            (written, None)
        })
    };
    // Another client, served while the stalled one fills up and after.
    let mut good = upgraded_stream(server.addr, "/");
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut rounds = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        rounds += 1;
        let sent_at = Instant::now();
        good.write_all(&client_frame(Opcode::Text, true, b"ping"))
            .expect("send");
        let mut reply = [0u8; 6];
        good.read_exact(&mut reply).expect("the echo");
        assert_eq!(reply, *b"\x81\x04ping");
        slowest = slowest.max(sent_at.elapsed());
    }
    // One thread serves both: the good client waits at most for one turn
    // of the stalled peer's reads (bounded by the high-water mark), on a
    // loaded machine and an unoptimized build.
    assert!(rounds >= 10, "{rounds} round trips in 1.5 s");
    assert!(slowest < Duration::from_secs(1), "slowest echo {slowest:?}");
    // The stalled peer's writes fail once the server cuts it off (a reset,
    // not its own 10 s write timeout), well before all of its 256 MiB.
    let (written, error) = writer.join().expect("writer");
    assert!(written < 256 << 20, "the stalled peer was never cut off");
    assert!(
        matches!(
            error,
            Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe)
        ),
        "{error:?} after {written} bytes"
    );
    // What it can still read ends: reset or end of stream, no hang.
    stalled
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut sink = vec![0u8; 1 << 16];
    let ended = loop {
        match stalled.read(&mut sink) {
            Ok(0) | Err(_) => break true,
            Ok(_) => {}
        }
    };
    assert!(ended);
}

/// Past `--max-connections`, a client gets 503; once a connection ends,
/// a new one is served.
#[test]
fn connections_past_the_cap_get_503() {
    let server = MioEcho::start(&["--max-connections", "2"]);
    let first = upgraded_stream(server.addr, "/");
    let _second = upgraded_stream(server.addr, "/");
    let mut third = TcpStream::connect(server.addr).expect("connect");
    third
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    third
        .write_all(common::upgrade_request("/").as_bytes())
        .expect("request");
    let mut response = String::new();
    let _ = third.read_to_string(&mut response);
    assert!(response.starts_with("HTTP/1.1 503 "), "{response:?}");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut stream = TcpStream::connect(server.addr).expect("connect");
        stream
            .write_all(common::upgrade_request("/").as_bytes())
            .expect("request");
        let mut head = [0u8; 12];
        if stream.read_exact(&mut head).is_ok() && &head == b"HTTP/1.1 101" {
            break;
        }
        assert!(Instant::now() < deadline, "the freed slot was never reused");
        thread::sleep(Duration::from_millis(10));
    }
}
