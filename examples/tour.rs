//! The commands of the protocol tour (`docs/protocol-tour.md`): RFC 6455
//! shown with plainws's own code and its real output.
//!
//! ```text
//! cargo run -q --example tour -- handshake          the opening handshake's bytes
//! cargo run -q --example tour -- accept KEY         Sec-WebSocket-Accept by hand
//! cargo run -q --example tour -- frame HEX...       one frame taken apart
//! cargo run -q --example tour -- length N           the header for an N-byte payload
//! cargo run -q --example tour -- session NAME       a conversation with a plainws
//!                                                   server: fragments, ping, close
//! cargo run -q --example tour -- bad-frames         what the server does with bad frames
//! cargo run -q --example tour -- bad-handshakes     ... and with bad opening handshakes
//! ```
//!
//! Sessions run a real plainws server (`plainws::accept` and an echo loop)
//! on a thread, over an in-memory stream: the bytes are those a socket
//! would carry, and with the RFC's fixed masking key the output is the same
//! on every run. `tests/protocol_tour.rs` checks every command in the tour
//! against this program's output.

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::frame::{FrameHeader, Opcode, Role, encode_frame};
use plainws::sansio::handshake::client::request;
use plainws::sansio::handshake::{WEBSOCKET_GUID, accept_key};
use plainws::sansio::trace::{format_frame, format_frame_bytes, hex};
use plainws::{Direction, Error, MemoryStream, Message, Transport};
use sha1::{Digest, Sha1};

/// The RFC's example key (§1.3) and masking key (§5.7).
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// How long a session waits for the server's next bytes.
const WAIT: Duration = Duration::from_secs(5);

#[allow(dead_code)] // `tests/protocol_tour.rs` includes this file for `run`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match run(&args) {
        Ok(output) => println!("{output}"),
        Err(why) => {
            eprintln!("tour: {why}");
            std::process::exit(2);
        }
    }
}

/// Runs one tour command; its output without the final newline.
pub fn run(args: &[&str]) -> Result<String, String> {
    match args {
        ["handshake"] => Ok(handshake()),
        ["accept", key] => Ok(accept(key)),
        ["frame", bytes @ ..] if !bytes.is_empty() => frame(&parse_hex(&bytes.concat())?),
        ["length", n] => length(n.parse().map_err(|_| format!("not a length: {n}"))?),
        ["session", name] => session(name),
        ["bad-frames"] => Ok(bad_frames()),
        ["bad-handshakes"] => Ok(bad_handshakes()),
        _ => Err(format!(
            "unknown command {args:?}: handshake | accept KEY | frame HEX | length N | \
             session fragments|ping|close | bad-frames | bad-handshakes"
        )),
    }
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits in {text:?}"));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let pair: String = pair.iter().collect();
            u8::from_str_radix(&pair, 16).map_err(|_| format!("not hex: {pair}"))
        })
        .collect()
}

/// Shows bytes of an HTTP head with its line ends made visible.
fn show_head(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .split_inclusive("\r\n")
        .map(|line| format!("  {}\\r\\n", line.trim_end_matches("\r\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A plainws server on a thread, echoing text and binary, over one end of
/// an in-memory stream; the other end is returned.
fn echo_server() -> MemoryStream {
    let (client, server) = MemoryStream::pair();
    thread::spawn(move || {
        let Ok(mut ws) = plainws::accept(server) else {
            return;
        };
        loop {
            match ws.recv() {
                Ok(Message::Text(text)) => {
                    let _ = ws.send_text(&text);
                }
                Ok(Message::Binary(data)) => {
                    let _ = ws.send_binary(&data);
                }
                Ok(Message::Close(_)) | Err(_) => return,
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
            }
        }
    });
    let _ = client.set_read_timeout(Some(WAIT));
    client
}

/// Reads an HTTP head (up to the blank line) from `stream`.
fn read_head(stream: &mut MemoryStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

fn rfc_request(extra: &[(String, String)]) -> Vec<u8> {
    request("server.example.com", "/chat", KEY, &[], extra)
}

fn handshake() -> String {
    let origin = [("Origin".to_owned(), "http://example.com".to_owned())];
    let req = rfc_request(&origin);
    let mut stream = echo_server();
    let _ = stream.write_all(&req);
    let response = read_head(&mut stream);
    format!(
        "client -> server: the opening handshake (RFC 6455 §4.1), {} bytes\n{}\n\
         server -> client: the server's answer (§4.2.2), {} bytes\n{}",
        req.len(),
        show_head(&req),
        response.len(),
        show_head(&response)
    )
}

fn accept(key: &str) -> String {
    let joined = format!("{key}{WEBSOCKET_GUID}");
    let digest = Sha1::digest(joined.as_bytes());
    let by_hand = BASE64.encode(digest);
    format!(
        "Sec-WebSocket-Key           {key}\n\
         + the GUID (§1.3)           {WEBSOCKET_GUID}\n\
         = the string hashed         {joined}\n\
         SHA-1 of it (20 bytes)      {}\n\
         base64 of the SHA-1         {by_hand}\n\
         plainws's accept_key(key)   {}",
        hex(&digest),
        accept_key(key)
    )
}

/// Decodes one frame and takes it apart; masked frames are read as a
/// server reads them (`->`, from the client), unmasked ones as a client.
fn frame(bytes: &[u8]) -> Result<String, String> {
    let masked = bytes.get(1).is_some_and(|b| b & 0x80 != 0);
    let (role, direction) = if masked {
        (Role::Server, Direction::Outgoing)
    } else {
        (Role::Client, Direction::Incoming)
    };
    let mut decoder = FrameDecoder::new(role, u64::MAX >> 1);
    let mut input = bytes.to_vec();
    let mut at = 0;
    let mut header = None;
    let mut payload = Vec::new();
    loop {
        let (used, step) = match decoder.decode(&mut input[at..]) {
            Ok(step) => step,
            Err(e) => return Ok(refusal(&e)),
        };
        at += used;
        match step {
            Decoded::NeedMore => {
                return Err(format!(
                    "the frame is incomplete after {} bytes",
                    bytes.len()
                ));
            }
            Decoded::Header(h) => header = Some(h),
            Decoded::Payload { data, frame_end } => {
                payload.extend_from_slice(data);
                if frame_end {
                    break;
                }
            }
        }
    }
    let header = header.ok_or("no header")?;
    let mut out = format_frame_bytes(direction, &header, &payload);
    if at < bytes.len() {
        out.push_str(&format!(
            "\n({} more bytes follow the frame)",
            bytes.len() - at
        ));
    }
    Ok(out)
}

/// How the decoder refuses a frame.
fn refusal(e: &Error) -> String {
    match e.close_code() {
        Some(code) => format!("refused: {e}: the connection is failed with close code {code}"),
        None => format!("refused: {e}"),
    }
}

/// The header lines for a frame of `len` bytes (unmasked, and masked).
fn length(len: u64) -> Result<String, String> {
    let mut out = Vec::new();
    for mask in [None, Some(MASK)] {
        let header = FrameHeader::new(Opcode::Binary, len, mask);
        let direction = match mask {
            Some(_) => Direction::Outgoing,
            None => Direction::Incoming,
        };
        let text = format_frame_bytes(direction, &header, &[]);
        out.extend(
            text.lines()
                .take_while(|line| !line.trim_start().starts_with("payload"))
                .map(str::to_owned),
        );
    }
    Ok(out.join("\n"))
}

/// A client frame, masked with the RFC's key.
fn client_frame(opcode: Opcode, fin: bool, payload: &[u8]) -> (FrameHeader, Vec<u8>) {
    let mut header = FrameHeader::new(opcode, payload.len() as u64, Some(MASK));
    header.fin = fin;
    let mut bytes = Vec::new();
    encode_frame(&mut bytes, &header, payload);
    (header, bytes)
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// What the server sent back after the client's bytes, read to the end
/// of the stream: one line per frame, then how the stream ended.
fn server_answer(stream: &mut MemoryStream) -> Vec<String> {
    let mut lines = Vec::new();
    let mut decoder = FrameDecoder::new(Role::Client, u64::MAX >> 1);
    let mut buf = vec![0u8; 4096];
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let deadline = Instant::now() + WAIT;
    loop {
        let n = match Transport::read(stream, &mut buf) {
            Ok(0) => {
                lines.push(
                    "<- end of stream: the server closed the TCP connection (§7.1.1)".to_owned(),
                );
                return lines;
            }
            Ok(n) => n,
            Err(_) if Instant::now() < deadline => continue,
            Err(_) => {
                lines.push("   (the server did not close the connection)".to_owned());
                return lines;
            }
        };
        let mut at = 0;
        while at < n {
            let (used, step) = match decoder.decode(&mut buf[at..n]) {
                Ok(step) => step,
                Err(e) => {
                    lines.push(format!("   the server's bytes are invalid: {e}"));
                    return lines;
                }
            };
            at += used;
            match step {
                Decoded::NeedMore => {}
                Decoded::Header(header) => current = Some((header, Vec::new())),
                Decoded::Payload { data, frame_end } => {
                    if let Some((header, payload)) = &mut current {
                        payload.extend_from_slice(data);
                        if frame_end {
                            lines.push(format_frame(Direction::Incoming, header, payload));
                            current = None;
                        }
                    }
                }
            }
        }
    }
}

/// Opens a session: the handshake done, the 101 read.
fn open_session() -> MemoryStream {
    let mut stream = echo_server();
    let _ = stream.write_all(&rfc_request(&[]));
    read_head(&mut stream);
    stream
}

fn session(name: &str) -> Result<String, String> {
    let frames: Vec<(FrameHeader, Vec<u8>)> = match name {
        // §5.4: a message in three fragments, a Ping between two of them.
        "fragments" => vec![
            client_frame(Opcode::Text, false, b"Hel"),
            client_frame(Opcode::Ping, true, b"still there?"),
            client_frame(Opcode::Continuation, false, b"lo, "),
            client_frame(Opcode::Continuation, true, b"world"),
            client_frame(Opcode::Close, true, &close_payload(1000, "")),
        ],
        // §5.5.2, §5.5.3: a Pong answers with the Ping's payload; an
        // unsolicited Pong is a heartbeat and gets no answer.
        "ping" => vec![
            client_frame(Opcode::Ping, true, b"are you there?"),
            client_frame(Opcode::Pong, true, b"heartbeat"),
            client_frame(Opcode::Ping, true, b""),
            client_frame(Opcode::Close, true, &close_payload(1000, "")),
        ],
        // §5.5.1, §7.1.1: the client starts the closing handshake; the
        // server answers with a Close and closes TCP first.
        "close" => vec![
            client_frame(Opcode::Text, true, b"last words"),
            client_frame(Opcode::Close, true, &close_payload(1000, "bye")),
        ],
        _ => return Err(format!("no session {name:?}: fragments | ping | close")),
    };
    let mut stream = open_session();
    let mut lines = Vec::new();
    for (header, bytes) in &frames {
        let mut payload = bytes[header.encoded_len()..].to_vec();
        if let Some(key) = header.mask {
            plainws::sansio::mask::apply_mask(&mut payload, key, 0);
        }
        lines.push(format_frame(Direction::Outgoing, header, &payload));
    }
    let all: Vec<u8> = frames.iter().flat_map(|(_, bytes)| bytes.clone()).collect();
    let _ = stream.write_all(&all);
    lines.extend(server_answer(&mut stream));
    Ok(lines.join("\n"))
}

/// Raw frame bytes for the bad-frame table.
fn raw(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![first, 0x80 | payload.len() as u8];
    out.extend_from_slice(&MASK);
    let mut masked = payload.to_vec();
    plainws::sansio::mask::apply_mask(&mut masked, MASK, 0);
    out.extend_from_slice(&masked);
    out
}

fn bad_frames() -> String {
    let (_, text_start) = client_frame(Opcode::Text, false, b"Hel");
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("RSV1 set, no extension", "§5.2", raw(0xC1, b"hi")),
        ("reserved opcode 0x3", "§5.2", raw(0x83, b"")),
        ("fragmented Ping (FIN=0)", "§5.5", raw(0x09, b"")),
        ("Ping of 126 bytes", "§5.5", {
            let mut f = vec![0x89, 0xFE, 0x00, 0x7E];
            f.extend_from_slice(&MASK);
            f.extend_from_slice(&[0u8; 126]);
            f
        }),
        ("64-bit length with its top bit set", "§5.2", {
            let mut f = vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0];
            f.extend_from_slice(&MASK);
            f
        }),
        (
            "unmasked client frame",
            "§5.1",
            vec![0x81, 0x02, b'h', b'i'],
        ),
        (
            "continuation with nothing to continue",
            "§5.4",
            raw(0x80, b"lo"),
        ),
        ("new Text inside a fragmented message", "§5.4", {
            let mut f = text_start;
            f.extend(raw(0x81, b"again"));
            f
        }),
        (
            "text that is not UTF-8",
            "§8.1",
            raw(0x81, &[0xce, 0xba, 0xff]),
        ),
        (
            "Close with a one-byte payload",
            "§5.5.1",
            raw(0x88, &[0x03]),
        ),
        (
            "Close with code 1005",
            "§7.4.1",
            raw(0x88, &close_payload(1005, "")),
        ),
        (
            "Close reason not UTF-8",
            "§5.5.1",
            raw(0x88, &[0x03, 0xe8, 0xff]),
        ),
        ("text over the 16 MiB frame limit", "§10.4", {
            let mut f = vec![0x81, 0xFF];
            f.extend_from_slice(&(17u64 << 20).to_be_bytes());
            f.extend_from_slice(&MASK);
            f
        }),
    ];
    let mut out = Vec::new();
    for (what, section, bytes) in cases {
        let mut stream = open_session();
        let _ = stream.write_all(&bytes);
        let answer = server_answer(&mut stream);
        let shown: Vec<u8> = bytes.iter().copied().take(14).collect();
        let more = if bytes.len() > 14 { " ..." } else { "" };
        out.push(format!("{what} ({section})\n  sent: {}{more}", hex(&shown)));
        out.extend(answer.iter().map(|line| format!("  {line}")));
    }
    out.join("\n")
}

fn bad_handshakes() -> String {
    let good = String::from_utf8(rfc_request(&[])).unwrap_or_default();
    let cases: Vec<(&str, String)> = vec![
        ("POST instead of GET", good.replacen("GET", "POST", 1)),
        ("HTTP/1.0", good.replacen("HTTP/1.1", "HTTP/1.0", 1)),
        (
            "no Upgrade: websocket",
            good.replacen("Upgrade: websocket\r\n", "", 1),
        ),
        (
            "key of 15 bytes",
            good.replacen(KEY, "dGhlIHNhbXBsZSBub25j", 1),
        ),
        (
            "Sec-WebSocket-Version: 8",
            good.replacen("Version: 13", "Version: 8", 1),
        ),
        ("a 20 KiB header", {
            let big = format!("X-Big: {}\r\n\r\n", "a".repeat(20 << 10));
            good.replacen("\r\n\r\n", &format!("\r\n{big}"), 1)
        }),
    ];
    let mut out = Vec::new();
    for (what, req) in cases {
        let mut stream = echo_server();
        let _ = stream.write_all(req.as_bytes());
        let head = read_head(&mut stream);
        let head = String::from_utf8_lossy(&head);
        let status = head.lines().next().unwrap_or("(no answer)");
        let extra: Vec<&str> = head
            .lines()
            .filter(|l| l.starts_with("Sec-WebSocket-Version"))
            .collect();
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(", {}", extra.join(", "))
        };
        out.push(format!("{what:<28} -> {status}{extra}"));
    }
    out.join("\n")
}
