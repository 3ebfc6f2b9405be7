//! `blocking_echo`: a whole server connection over memory through the
//! blocking driver, its output checked byte for byte.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use plainws::MemoryStream;
use plainws::sansio::close::{CloseFrame, truncate_reason};
use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::handshake::client::check_response;
use plainws::{Accept, Config, Error, FrameHeader, Message, Opcode, Request, Role, Transport};

use super::http::{check_http_answer, read_head};
use super::input::Input;

/// The RFC 6455 §1.3 opening request, used to prefix connection inputs.
pub const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// The key of [`RFC_REQUEST`].
const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A whole server-side connection over an in-memory stream.
///
/// The input is the client's bytes. Byte 0: bit 0 prepends
/// [`RFC_REQUEST`] (so the fuzzer reaches the frames); bits 1–2 choose
/// the limits; bit 3 a small handshake limit. The client's bytes are all
/// written and its write side shut before `accept_with` starts, so the
/// server, on this thread, never waits: it answers, echoes each message
/// like an echo server, and stops at the close or the end of input.
/// Then everything it wrote is checked.
pub fn blocking_echo(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let mut client_bytes = Vec::new();
    if selector & 1 == 1 {
        client_bytes.extend_from_slice(RFC_REQUEST);
    }
    client_bytes.extend_from_slice(input.rest());
    let (max_frame_size, max_message_size, max_fragments) = match (selector >> 1) & 3 {
        0 => (1 << 10, 4 << 10, 16),
        1 => (125, 300, 4),
        2 => (0, 0, 0),
        _ => (16 << 20, 64 << 20, 1 << 17),
    };
    let config = Config::default()
        .max_frame_size(max_frame_size)
        .max_message_size(max_message_size)
        .max_fragments(max_fragments)
        .max_handshake_bytes(if selector & 8 == 0 { 16 << 10 } else { 256 })
        .max_headers(if selector & 8 == 0 { 100 } else { 8 })
        .handshake_timeout(Duration::from_millis(100))
        .close_timeout(Duration::from_millis(10));

    let (mut client, server) = MemoryStream::pair();
    client.write_all(&client_bytes).expect("memory write");
    client.shutdown(Shutdown::Write).expect("memory shutdown");
    let server_handle = server.clone();

    // The server: an echo loop on this thread.
    let mut log: Vec<Result<Message, Error>> = Vec::new();
    let accepted = plainws::accept_with(server, config.clone(), |request| {
        let mut accept = Accept::default();
        accept.protocol = request.protocols().next().map(str::to_owned);
        Ok(accept)
    });
    let mut echoed: Vec<bool> = Vec::new();
    let outcome = match accepted {
        Ok(socket) => {
            let (mut receiver, sender) = socket.split();
            loop {
                assert!(log.len() <= client_bytes.len(), "recv loop does not end");
                let received = receiver.recv();
                let sent = match &received {
                    Ok(Message::Text(text)) => sender.send_text(text).is_ok(),
                    Ok(Message::Binary(bytes)) => sender.send_binary(bytes).is_ok(),
                    _ => false,
                };
                echoed.push(sent);
                let end = !matches!(
                    received,
                    Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_))
                );
                log.push(received);
                if end {
                    break;
                }
            }
            assert!(
                matches!(receiver.recv(), Err(Error::ConnectionClosed)),
                "recv after the end must say ConnectionClosed"
            );
            Ok(())
        }
        Err(e) => Err(e),
    };
    // Whatever the server left open, the client now reads to the end.
    let _ = server_handle.shutdown(Shutdown::Write);
    let mut output = Vec::new();
    client.read_to_end(&mut output).expect("memory read");

    match outcome {
        Err(e) => match e.http_status() {
            Some(status) => check_http_answer(&output, status, is_head_request(&client_bytes)),
            None => {
                assert!(
                    matches!(e, Error::AbnormalClosure),
                    "accept failed with {e:?} though every byte was there"
                );
                assert!(output.is_empty(), "wrote {output:?} before failing");
            }
        },
        Ok(()) => check_server_output(&client_bytes, &output, &log, &echoed),
    }
}

/// Whether the request line is a HEAD's (after the one empty line a server
/// ignores before it, RFC 9112 §2.2).
fn is_head_request(client_bytes: &[u8]) -> bool {
    let line = client_bytes
        .strip_prefix(b"\r\n")
        .or_else(|| client_bytes.strip_prefix(b"\n"))
        .unwrap_or(client_bytes);
    line.starts_with(b"HEAD ")
}

/// The server's bytes after a successful accept: a 101 the client accepts,
/// then exactly the frames the received messages call for.
fn check_server_output(
    client_bytes: &[u8],
    output: &[u8],
    log: &[Result<Message, Error>],
    echoed: &[bool],
) {
    // The request the server accepted, to know its key and protocols.
    let request_len = read_head(client_bytes.len(), &[client_bytes])
        .ok()
        .flatten()
        .expect("an accepted request has a head");
    let request = Request::parse(&client_bytes[..request_len], usize::MAX).expect("it parsed");
    let key = request.header("Sec-WebSocket-Key").unwrap_or(RFC_KEY);
    let offered: Vec<String> = request.protocols().map(str::to_owned).collect();

    let head_len = match read_head(output.len(), &[output]) {
        Ok(Some(len)) => len,
        other => panic!("no 101 head: {other:?}"),
    };
    let accepted = check_response(&output[..head_len], 100, key, &offered)
        .unwrap_or_else(|e| panic!("the client refuses the server's 101: {e:?}"));
    assert_eq!(accepted.protocol, offered.first().cloned());

    // Every byte after the head is a frame a client accepts.
    let mut frames = output[head_len..].to_vec();
    let mut decoder = FrameDecoder::new(Role::Client, u64::MAX);
    let mut got: Vec<(Opcode, Vec<u8>)> = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let mut at = 0;
    loop {
        let (used, step) = decoder
            .decode(&mut frames[at..])
            .unwrap_or_else(|e| panic!("the server sent an invalid frame: {e:?}"));
        at += used;
        match step {
            Decoded::NeedMore => break,
            Decoded::Header(h) => {
                assert!(h.fin && h.rsv == 0 && h.mask.is_none(), "{h:?}");
                current = Some((h, Vec::new()));
            }
            Decoded::Payload { data, frame_end } => {
                let frame = current.as_mut().expect("payload after a header");
                frame.1.extend_from_slice(data);
                if frame_end {
                    let (h, payload) = current.take().expect("a frame");
                    got.push((h.opcode, payload));
                }
            }
        }
    }
    assert!(decoder.is_between_frames(), "output ends inside a frame");

    // Exactly the frames the messages call for, in order.
    let mut expected: Vec<(Opcode, Vec<u8>)> = Vec::new();
    for (received, &sent) in log.iter().zip(echoed) {
        match received {
            Ok(Message::Text(text)) if sent => expected.push((Opcode::Text, text.clone().into())),
            Ok(Message::Binary(data)) if sent => expected.push((Opcode::Binary, data.clone())),
            Ok(Message::Text(_) | Message::Binary(_) | Message::Pong(_)) => {}
            Ok(Message::Ping(data)) => expected.push((Opcode::Pong, data.clone())),
            Ok(Message::Close(frame)) => {
                let mut payload = Vec::new();
                if let Some(frame) = frame {
                    CloseFrame::new(frame.code, "").write_payload(&mut payload);
                }
                expected.push((Opcode::Close, payload));
            }
            Err(e) => {
                if let Some(code) = e.close_code() {
                    let mut payload = code.0.to_be_bytes().to_vec();
                    payload.extend_from_slice(truncate_reason(&e.to_string()).as_bytes());
                    expected.push((Opcode::Close, payload));
                } else {
                    assert!(
                        matches!(e, Error::AbnormalClosure),
                        "recv failed with {e:?}"
                    );
                }
            }
        }
    }
    for (opcode, payload) in &got {
        if *opcode == Opcode::Close {
            // Every close code sent is one the RFC lets an endpoint send.
            let close = CloseFrame::parse(payload).expect("a valid close payload");
            assert!(close.is_none_or(|c| c.code.is_sendable()));
        }
    }
    assert_eq!(got, expected);
}
