//! The connection state machine byte by byte: what goes in, what comes out
//! and what is sent back, with time passed in by hand.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::time::Duration;

use super::*;
use crate::sansio::config::Keepalive;
use crate::sansio::decoder::{Decoded, FrameDecoder};
use crate::sansio::deflate::negotiate::{Agreed, DeflateConfig};
use crate::sansio::frame::{FrameHeader, encode_frame};

/// Keys 1, 2, 3, ... so that client output is reproducible.
struct CountingMasks(u8);

impl MaskSource for CountingMasks {
    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_add(1);
        [self.0, 0x10, 0x20, 0x30]
    }
}

fn client() -> Connection {
    Connection::client(Config::default(), Box::new(CountingMasks(0)))
}

fn server() -> Connection {
    Connection::server(Config::default())
}

/// A frame as a client sends it (masked), to feed a server.
fn from_client(opcode: Opcode, payload: &[u8], fin: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut header = FrameHeader::new(opcode, payload.len() as u64, Some([9, 8, 7, 6]));
    header.fin = fin;
    encode_frame(&mut out, &header, payload);
    out
}

/// Everything `connection` wants to send, decoded as its peer would.
fn sent(connection: &mut Connection) -> Vec<(Opcode, bool, Vec<u8>)> {
    let mut bytes = Vec::new();
    connection.take_data_to_send(&mut bytes);
    let peer = match connection.role() {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    };
    let mut decoder = FrameDecoder::new(peer, u64::MAX >> 1);
    let mut frames = Vec::new();
    let mut at = 0;
    let mut current: Option<(Opcode, bool, Vec<u8>)> = None;
    loop {
        let (used, step) = decoder.decode(&mut bytes[at..]).expect("valid frames");
        at += used;
        match step {
            Decoded::NeedMore => break,
            Decoded::Header(h) => current = Some((h.opcode, h.fin, Vec::new())),
            Decoded::Payload { data, frame_end } => {
                let frame = current.as_mut().expect("a header first");
                frame.2.extend_from_slice(data);
                if frame_end {
                    frames.extend(current.take());
                }
            }
        }
    }
    assert_eq!(at, bytes.len(), "output ends on a frame boundary");
    frames
}

fn receive_all(connection: &mut Connection, bytes: Vec<u8>) -> Result<Vec<Message>> {
    receive_all_at(connection, bytes, Duration::ZERO)
}

/// As `receive_all`, the bytes arriving at `now`.
fn receive_all_at(
    connection: &mut Connection,
    mut bytes: Vec<u8>,
    now: Duration,
) -> Result<Vec<Message>> {
    let mut messages = Vec::new();
    let mut at = 0;
    loop {
        let (used, message) = connection.receive(&mut bytes[at..], now)?;
        at += used;
        match message {
            Some(message) => messages.push(message),
            None => return Ok(messages),
        }
    }
}

fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason.as_bytes());
    payload
}

const S: fn(u64) -> Duration = Duration::from_secs;

#[test]
fn rfc_example_hello_in_and_out() {
    // RFC 6455 §5.7: a masked "Hello" from a client, an unmasked one back.
    let mut server = server();
    let input = vec![
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let messages = receive_all(&mut server, input).expect("valid");
    assert_eq!(messages, [Message::Text("Hello".into())]);
    server.send_text("Hello").expect("open");
    let mut out = Vec::new();
    server.take_data_to_send(&mut out);
    assert_eq!(out, [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
}

#[test]
fn client_frames_are_masked_with_the_drivers_keys() {
    let mut client = client();
    client.send_text("Hi").expect("open");
    let mut out = Vec::new();
    client.take_data_to_send(&mut out);
    let key = [1, 0x10, 0x20, 0x30];
    assert_eq!(out[..2], [0x81, 0x82]);
    assert_eq!(out[2..6], key);
    assert_eq!(out[6..], [b'H' ^ key[0], b'i' ^ key[1]]);
}

#[test]
fn a_ping_is_answered_with_its_payload() {
    let mut server = server();
    let messages = receive_all(&mut server, from_client(Opcode::Ping, b"abc", true));
    assert_eq!(messages.expect("valid"), [Message::Ping(b"abc".to_vec())]);
    assert_eq!(sent(&mut server), [(Opcode::Pong, true, b"abc".to_vec())]);
}

#[test]
fn pings_are_answered_after_our_close_until_the_peers_close() {
    // §5.5.2: a Pong is owed unless a Close was *received*.
    let mut client = client();
    client.close(CloseCode::NORMAL, "bye", S(0)).expect("open");
    assert_eq!(client.state(), State::CloseSent);
    let _ = sent(&mut client);
    let mut ping = Vec::new();
    encode_frame(&mut ping, &FrameHeader::new(Opcode::Ping, 2, None), b"hi");
    receive_all(&mut client, ping).expect("valid");
    assert_eq!(sent(&mut client), [(Opcode::Pong, true, b"hi".to_vec())]);
    let mut close = Vec::new();
    let payload = close_payload(1000, "");
    encode_frame(
        &mut close,
        &FrameHeader::new(Opcode::Close, 2, None),
        &payload,
    );
    let mut ping_after = Vec::new();
    encode_frame(
        &mut ping_after,
        &FrameHeader::new(Opcode::Ping, 0, None),
        b"",
    );
    close.extend_from_slice(&ping_after);
    let messages = receive_all(&mut client, close).expect("valid");
    assert_eq!(
        messages,
        [Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "")))]
    );
    assert!(
        sent(&mut client).is_empty(),
        "nothing after the peer's Close"
    );
    assert_eq!(client.state(), State::Closed);
    assert_eq!(
        client.transport_end(),
        TransportEnd::AwaitEof { deadline: S(5) },
        "a client waits for the server's FIN"
    );
    client.receive_eof(S(0)).expect("a clean end");
    assert_eq!(client.transport_end(), TransportEnd::Close);
}

#[test]
fn the_peers_close_is_echoed_with_its_code() {
    let mut server = server();
    let input = from_client(Opcode::Close, &close_payload(4001, "done"), true);
    let messages = receive_all(&mut server, input).expect("valid");
    assert_eq!(
        messages,
        [Message::Close(Some(CloseFrame::new(
            CloseCode(4001),
            "done"
        )))]
    );
    assert_eq!(
        sent(&mut server),
        [(Opcode::Close, true, close_payload(4001, ""))]
    );
    assert_eq!(server.state(), State::Closed);
    assert!(server.is_finished());
    assert_eq!(
        server.transport_end(),
        TransportEnd::EndWritingFirst { deadline: S(5) },
        "the server closes TCP first"
    );
}

#[test]
fn an_empty_close_is_echoed_empty() {
    let mut server = server();
    receive_all(&mut server, from_client(Opcode::Close, b"", true)).expect("valid");
    assert_eq!(sent(&mut server), [(Opcode::Close, true, Vec::new())]);
}

#[test]
fn a_deferred_reply_lets_data_out_first() {
    let mut server = server();
    server.defer_close_reply();
    let mut input = from_client(Opcode::Text, b"one", true);
    input.extend(from_client(Opcode::Close, &close_payload(1000, ""), true));
    let messages = receive_all(&mut server, input).expect("valid");
    assert_eq!(messages.len(), 2);
    assert!(sent(&mut server).is_empty(), "no echo yet");
    assert_eq!(server.state(), State::CloseReceived);
    assert!(server.is_reply_due());
    server
        .send_text("reply to one")
        .expect("data before our Close");
    server.reply_to_close(S(0)).expect("answer");
    assert_eq!(
        sent(&mut server),
        [
            (Opcode::Text, true, b"reply to one".to_vec()),
            (Opcode::Close, true, close_payload(1000, "")),
        ]
    );
    assert_eq!(server.state(), State::Closed);
    assert!(matches!(
        server.send_text("late"),
        Err(Error::AlreadyClosed)
    ));
}

#[test]
fn a_deferred_reply_goes_out_at_the_close_timeout() {
    let mut server = server();
    server.defer_close_reply();
    receive_all_at(&mut server, from_client(Opcode::Close, b"", true), S(100)).expect("valid");
    // The deadline runs from the Close's arrival, however late the poll.
    let deadline = server.poll_timeout(S(103)).expect("a deadline");
    assert_eq!(deadline, S(105));
    server.handle_timeout(S(104)).expect("not yet");
    assert!(sent(&mut server).is_empty());
    server.handle_timeout(S(105)).expect("the reply, late");
    assert_eq!(sent(&mut server), [(Opcode::Close, true, Vec::new())]);
    assert!(server.is_finished());
}

#[test]
fn a_close_in_reply_to_the_peers_uses_our_code() {
    let mut server = server();
    server.defer_close_reply();
    receive_all(&mut server, from_client(Opcode::Close, b"", true)).expect("valid");
    server
        .close(CloseCode::GOING_AWAY, "restart", S(0))
        .expect("the reply");
    assert_eq!(
        sent(&mut server),
        [(Opcode::Close, true, close_payload(1001, "restart"))]
    );
    assert!(server.reply_to_close(S(0)).is_ok(), "nothing more is owed");
    assert!(sent(&mut server).is_empty());
}

#[test]
fn a_violation_fails_the_connection_with_its_code() {
    let mut server = server();
    // An unmasked frame from a client (§5.1): 1002.
    let mut input = Vec::new();
    encode_frame(&mut input, &FrameHeader::new(Opcode::Text, 2, None), b"hi");
    let error = receive_all(&mut server, input).expect_err("unmasked");
    assert!(matches!(error, Error::UnmaskedFrame));
    let frames = sent(&mut server);
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0, Opcode::Close);
    assert_eq!(frames[0].2[..2], 1002u16.to_be_bytes());
    assert!(server.is_finished());
    // Nothing is read after a failure.
    let more = from_client(Opcode::Ping, b"", true);
    assert!(receive_all(&mut server, more).expect("ignored").is_empty());
    assert!(sent(&mut server).is_empty());
}

#[test]
fn bad_utf8_fails_with_1007() {
    let mut server = server();
    let error = receive_all(&mut server, from_client(Opcode::Text, &[0xff], true));
    assert!(matches!(error, Err(Error::InvalidUtf8)));
    assert_eq!(sent(&mut server)[0].2[..2], 1007u16.to_be_bytes());
}

#[test]
fn caller_mistakes_are_refused_without_a_close_code() {
    let mut server = server();
    let long = [0u8; 126];
    let refused = [
        (server.ping(&long), Error::ControlPayloadTooLong(126)),
        (server.pong(&long), Error::ControlPayloadTooLong(126)),
        (
            server.close(CloseCode::NO_STATUS, "", S(0)),
            Error::UnsendableCloseCode(1005),
        ),
        (
            server.close(CloseCode(1006), "", S(0)),
            Error::UnsendableCloseCode(1006),
        ),
        (
            server.send_fragment(Opcode::Continuation, b"x", true),
            Error::NoMessageToContinue,
        ),
    ];
    for (result, expected) in refused {
        let error = result.expect_err("refused");
        assert_eq!(error.to_string(), expected.to_string());
        assert!(error.is_misuse(), "{error} is the caller's");
        assert_eq!(error.close_code(), None);
    }
    let control = server.send_fragment(Opcode::Ping, b"", true);
    assert!(matches!(control, Err(Error::NotAllowed(_))));
    assert!(sent(&mut server).is_empty(), "nothing was sent");
    assert_eq!(server.state(), State::Open, "the connection is unaffected");
    server.send_text("still fine").expect("open");
}

#[test]
fn a_fragmented_message_holds_the_data_channel() {
    let mut server = server();
    server
        .send_fragment(Opcode::Text, b"he", false)
        .expect("start");
    assert!(matches!(
        server.send_text("x"),
        Err(Error::MessageInProgress)
    ));
    assert!(matches!(
        server.send_fragment(Opcode::Binary, b"x", true),
        Err(Error::MessageInProgress)
    ));
    // §5.4: control frames may be injected between fragments.
    server.ping(b"p").expect("a ping between fragments");
    server
        .send_fragment(Opcode::Continuation, b"llo", true)
        .expect("end");
    server.send_text("next").expect("the channel is free again");
    assert_eq!(
        sent(&mut server),
        [
            (Opcode::Text, false, b"he".to_vec()),
            (Opcode::Ping, true, b"p".to_vec()),
            (Opcode::Continuation, true, b"llo".to_vec()),
            (Opcode::Text, true, b"next".to_vec()),
        ]
    );
}

#[test]
fn only_pongs_follow_our_close() {
    let mut server = server();
    server.close(CloseCode::NORMAL, "", S(0)).expect("open");
    assert!(matches!(server.send_text("x"), Err(Error::AlreadyClosed)));
    assert!(matches!(
        server.send_binary(b"x"),
        Err(Error::AlreadyClosed)
    ));
    assert!(matches!(server.ping(b""), Err(Error::AlreadyClosed)));
    assert!(matches!(
        server.close(CloseCode::NORMAL, "", S(0)),
        Err(Error::AlreadyClosed)
    ));
    server
        .pong(b"heartbeat")
        .expect("a pong is a control frame");
    let frames = sent(&mut server);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1], (Opcode::Pong, true, b"heartbeat".to_vec()));
}

#[test]
fn a_long_close_reason_is_cut_on_a_character_boundary() {
    let mut server = server();
    let reason: String = core::iter::repeat_n('é', 100).collect();
    server
        .close(CloseCode::NORMAL, &reason, S(0))
        .expect("open");
    let frames = sent(&mut server);
    assert!(frames[0].2.len() <= 125);
    assert!(core::str::from_utf8(&frames[0].2[2..]).is_ok());
}

#[test]
fn the_close_handshake_times_out_when_the_peer_stays_silent() {
    let mut server = server();
    server.close(CloseCode::NORMAL, "", S(10)).expect("open");
    // The deadline runs from the Close, not from the next poll.
    assert_eq!(server.close_deadline(), Some(S(15)));
    assert_eq!(server.poll_timeout(S(12)), Some(S(15)));
    assert!(server.handle_timeout(S(14)).is_ok());
    assert!(matches!(
        server.handle_timeout(S(15)),
        Err(Error::Timeout("close handshake"))
    ));
    assert!(server.is_finished());
}

#[test]
fn keepalive_pings_a_quiet_peer_and_fails_without_a_pong() {
    let config = Config::default().keepalive(Keepalive {
        interval: S(20),
        timeout: S(5),
    });
    let mut server = Connection::server(config);
    assert_eq!(server.poll_timeout(S(0)), Some(S(20)));
    server.handle_timeout(S(20)).expect("a ping");
    assert_eq!(
        sent(&mut server),
        [(Opcode::Ping, true, b"keepalive".to_vec())]
    );
    assert_eq!(server.poll_timeout(S(20)), Some(S(25)));
    assert!(matches!(
        server.handle_timeout(S(25)),
        Err(Error::PongTimeout)
    ));
    assert_eq!(sent(&mut server)[0].2[..2], 1011u16.to_be_bytes());
}

#[test]
fn a_pong_resets_keepalive() {
    let config = Config::default().keepalive(Keepalive {
        interval: S(20),
        timeout: S(5),
    });
    let mut server = Connection::server(config);
    server.poll_timeout(S(0));
    server.handle_timeout(S(20)).expect("a ping");
    let _ = sent(&mut server);
    receive_all_at(
        &mut server,
        from_client(Opcode::Pong, b"keepalive", true),
        S(22),
    )
    .expect("valid");
    assert_eq!(server.poll_timeout(S(23)), Some(S(42)));
    assert!(server.handle_timeout(S(25)).is_ok());
}

#[test]
fn an_idle_connection_is_closed_with_1001() {
    let config = Config::default().idle_timeout(S(60));
    let mut server = Connection::server(config);
    assert_eq!(server.poll_timeout(S(0)), Some(S(60)));
    receive_all_at(&mut server, from_client(Opcode::Text, b"x", true), S(30)).expect("valid");
    assert_eq!(
        server.poll_timeout(S(45)),
        Some(S(90)),
        "activity restarts it, at the time the bytes arrived"
    );
    assert!(matches!(
        server.handle_timeout(S(90)),
        Err(Error::Timeout("idle timeout"))
    ));
    let frames = sent(&mut server);
    assert_eq!(frames[0].2[..2], 1001u16.to_be_bytes());
    assert_eq!(server.state(), State::CloseSent);
}

/// `receive_with_clock` with a clock that counts its reads.
fn receive_counting_reads(connection: &mut Connection, mut bytes: Vec<u8>, now: Duration) -> usize {
    let mut reads = 0;
    let mut at = 0;
    let mut clock = || {
        reads += 1;
        now
    };
    while at < bytes.len() {
        let (used, _) = connection
            .receive_with_clock(&mut bytes[at..], &mut clock)
            .unwrap_or((bytes.len() - at, None));
        at += used;
    }
    reads
}

#[test]
fn the_clock_is_read_only_when_a_rule_needs_the_time() {
    // No idle timeout, no keepalive: data and control frames need no time.
    let mut quiet = server();
    let mut frames = from_client(Opcode::Text, b"a", true);
    frames.extend(from_client(Opcode::Binary, b"b", true));
    frames.extend(from_client(Opcode::Ping, b"p", true));
    assert_eq!(receive_counting_reads(&mut quiet, frames, S(3)), 0);
    // The peer's Close starts the close timeout at the time read for it.
    let close = from_client(Opcode::Close, &close_payload(1000, ""), true);
    assert_eq!(receive_counting_reads(&mut quiet, close, S(7)), 1);
    assert_eq!(quiet.close_deadline(), Some(S(12)));

    // A violation starts it too.
    let mut failing = server();
    let bad = from_client(Opcode::Text, b"\xff", true);
    assert_eq!(receive_counting_reads(&mut failing, bad, S(4)), 1);
    assert_eq!(failing.close_deadline(), Some(S(9)));

    // With an idle timeout, any bytes restart its clock.
    let mut idle = Connection::server(Config::default().idle_timeout(S(60)));
    let text = from_client(Opcode::Text, b"x", true);
    assert_eq!(receive_counting_reads(&mut idle, text, S(30)), 1);
    assert_eq!(idle.poll_timeout(S(31)), Some(S(90)));
}

#[test]
fn end_of_stream_without_a_close_is_abnormal() {
    let mut server = server();
    assert!(matches!(
        server.receive_eof(S(0)),
        Err(Error::AbnormalClosure)
    ));
    assert!(server.is_receive_done());
    // The peer may only have closed its writing half: replies still go.
    server.send_text("still delivered").expect("half-close");
    assert_eq!(sent(&mut server).len(), 1);
}

#[test]
fn bytes_after_the_peers_close_are_ignored() {
    let mut server = server();
    let mut input = from_client(Opcode::Close, b"", true);
    input.extend(from_client(Opcode::Text, b"late", true));
    input.extend(b"garbage that is not a frame");
    let messages = receive_all(&mut server, input).expect("valid");
    assert_eq!(messages, [Message::Close(None)]);
}

#[test]
fn a_server_can_write_large_payloads_itself() {
    let mut server = server();
    server.ping(b"first").expect("open");
    let payload = vec![7u8; 70_000];
    let mut pending = Vec::new();
    let head = server
        .send_fragment_head(Opcode::Binary, &payload, true, &mut pending)
        .expect("a server may");
    assert_eq!(pending.len(), 2 + 5, "the ping waiting before it");
    assert_eq!(head.as_bytes()[..2], [0x82, 127]);
    assert_eq!(head.as_bytes()[2..], 70_000u64.to_be_bytes());
    assert!(server.data_to_send().is_empty());
    let mut client = client();
    let refused = client.send_fragment_head(Opcode::Binary, b"x", true, &mut pending);
    assert!(matches!(refused, Err(Error::NotAllowed(_))));
}

#[test]
fn input_split_anywhere_gives_the_same_messages_and_replies() {
    let mut input = from_client(Opcode::Text, b"hel", false);
    input.extend(from_client(Opcode::Ping, b"p", true));
    input.extend(from_client(Opcode::Continuation, b"lo", true));
    input.extend(from_client(Opcode::Close, &close_payload(1000, "x"), true));
    for split in 0..=input.len() {
        let mut server = server();
        let mut messages = receive_all(&mut server, input[..split].to_vec()).expect("valid");
        messages.extend(receive_all(&mut server, input[split..].to_vec()).expect("valid"));
        assert_eq!(
            messages,
            [
                Message::Ping(b"p".to_vec()),
                Message::Text("hello".into()),
                Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "x"))),
            ],
            "split at {split}"
        );
        assert_eq!(
            sent(&mut server),
            [
                (Opcode::Pong, true, b"p".to_vec()),
                (Opcode::Close, true, close_payload(1000, "")),
            ]
        );
    }
}

/// Feeds `input` to `conn` as a driver with direct reads would: whatever
/// the core lends is filled from the input `chunk` bytes at a time, the
/// rest goes through `receive`.
fn receive_with_direct_reads(
    conn: &mut Connection,
    input: &[u8],
    chunk: usize,
) -> (Vec<Message>, usize) {
    let mut messages = Vec::new();
    let mut direct = 0;
    let mut at = 0;
    while at < input.len() {
        if let Some(mut read) = conn.direct_read() {
            let space = read.space();
            let n = space.len().min(chunk).min(input.len() - at);
            space[..n].copy_from_slice(&input[at..at + n]);
            at += n;
            direct += n;
            messages.extend(conn.finish_direct_read(read, n, S(0)).expect("valid"));
            continue;
        }
        let end = (at + chunk).min(input.len());
        let mut piece = input[at..end].to_vec();
        at = end;
        messages.extend(receive_all(conn, core::mem::take(&mut piece)).expect("valid"));
    }
    (messages, direct)
}

#[test]
fn large_binary_payloads_read_straight_into_the_message_match_the_copying_path() {
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    let mut input = from_client(Opcode::Binary, &big[..100_000], false);
    input.extend(from_client(Opcode::Ping, b"between", true));
    input.extend(from_client(Opcode::Continuation, &big[100_000..], true));
    input.extend(from_client(Opcode::Text, b"after", true));
    for chunk in [1, 7, 4096, 65_536, 70_001, 1 << 20] {
        let mut server = server();
        let (messages, direct) = receive_with_direct_reads(&mut server, &input, chunk);
        // A driver only asks when its read buffer is empty: with the whole
        // input in one piece, everything goes through `receive`.
        assert_eq!(direct > 0, chunk < input.len(), "direct bytes: {direct}");
        assert_eq!(
            messages,
            [
                Message::Ping(b"between".to_vec()),
                Message::Binary(big.clone()),
                Message::Text("after".into()),
            ],
            "chunk {chunk}"
        );
        assert_eq!(
            sent(&mut server),
            [(Opcode::Pong, true, b"between".to_vec())]
        );
    }
}

#[test]
fn a_direct_read_is_offered_only_for_large_binary_payloads() {
    let mut server = server();
    assert!(server.direct_read().is_none(), "nothing under way");
    // A text payload is validated as it is copied: no direct read.
    let text = "é".repeat(50_000);
    let frame = from_client(Opcode::Text, text.as_bytes(), true);
    receive_all(&mut server, frame[..20].to_vec()).expect("valid");
    assert!(server.direct_read().is_none(), "text");
    // A small binary payload: not worth it.
    let mut server = self::server();
    let frame = from_client(Opcode::Binary, &[1; 1000], true);
    receive_all(&mut server, frame[..20].to_vec()).expect("valid");
    assert!(server.direct_read().is_none(), "small");
}

#[test]
fn a_message_over_the_limit_fails_before_any_direct_read() {
    let config = Config {
        max_message_size: 100_000,
        ..Config::default()
    };
    let mut server = Connection::server(config);
    let frame = from_client(Opcode::Binary, &vec![0; 200_000], true);
    let error = receive_all(&mut server, frame[..20].to_vec()).expect_err("too large");
    assert!(matches!(error, Error::MessageTooLarge { .. }));
    assert!(server.direct_read().is_none());
}

fn agreed() -> Agreed {
    use crate::sansio::deflate::negotiate::{accept_offers, offer};
    let offer = offer(&DeflateConfig::default());
    accept_offers(&DeflateConfig::default(), [offer.as_str()])
        .expect("a valid offer")
        .expect("accepted")
        .agreed
}

/// A masked client frame with RSV1 set: a compressed message's first frame.
fn compressed_from_client(opcode: Opcode, payload: &[u8], fin: bool) -> Vec<u8> {
    let mut frame = from_client(opcode, payload, fin);
    frame[0] |= 0x40;
    frame
}

#[test]
fn rfc_7692_hello_is_inflated_and_answered_compressed() {
    let mut server = server();
    server.enable_compression(&agreed());
    // RFC 7692 §7.2.3.1: "Hello" compressed, the tail removed.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let messages = receive_all(
        &mut server,
        compressed_from_client(Opcode::Text, &hello, true),
    );
    assert_eq!(messages.expect("valid"), [Message::Text("Hello".into())]);
    // Split across frames (§7.2.3.3): RSV1 on the first only.
    let mut split = compressed_from_client(Opcode::Text, &hello[..3], false);
    split.extend(from_client(Opcode::Continuation, &hello[3..], true));
    let messages = receive_all(&mut server, split);
    assert_eq!(messages.expect("valid"), [Message::Text("Hello".into())]);
    server.send_text("Hello").expect("open");
    let mut out = Vec::new();
    server.take_data_to_send(&mut out);
    assert_eq!(out[0], 0xc1, "FIN, RSV1, text");
    // Our client inflates what our server compressed, with context takeover.
    let mut client = client();
    client.enable_compression(&agreed());
    server.send_text("Hello").expect("open");
    server.send_binary(&[7; 1000]).expect("open");
    server
        .send_uncompressed(Opcode::Binary, b"as is")
        .expect("open");
    server.take_data_to_send(&mut out);
    assert_eq!(
        receive_all(&mut client, out).expect("valid"),
        [
            Message::Text("Hello".into()),
            Message::Text("Hello".into()),
            Message::Binary(vec![7; 1000]),
            Message::Binary(b"as is".to_vec()),
        ]
    );
}

#[test]
fn compression_memory_is_taken_at_the_first_compressed_message_each_way() {
    let mut server = server();
    server.enable_compression(&agreed());
    let made = |server: &Connection| {
        (
            server.reader.inflater_made(),
            server.deflater.as_ref().is_some_and(|d| d.is_made()),
        )
    };
    assert_eq!(made(&server), (false, false));
    // Uncompressed traffic both ways needs neither.
    let messages = receive_all(&mut server, from_client(Opcode::Text, b"plain", true));
    assert_eq!(messages.expect("valid"), [Message::Text("plain".into())]);
    server
        .send_uncompressed(Opcode::Text, b"plain")
        .expect("open");
    server.ping(b"").expect("open");
    assert_eq!(made(&server), (false, false));
    // A compressed message in: the inflater; one out: the deflater.
    let hello = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
    let messages = receive_all(
        &mut server,
        compressed_from_client(Opcode::Text, &hello, true),
    );
    assert_eq!(messages.expect("valid"), [Message::Text("Hello".into())]);
    assert_eq!(made(&server), (true, false));
    server.send_text("Hello").expect("open");
    assert_eq!(made(&server), (true, true));
}

#[test]
fn rsv1_without_compression_or_on_a_continuation_is_1002() {
    let mut server = server();
    let error = receive_all(
        &mut server,
        compressed_from_client(Opcode::Text, b"x", true),
    );
    assert!(matches!(error, Err(Error::ReservedBitsSet)));
    assert_eq!(sent(&mut server)[0].2[..2], 1002u16.to_be_bytes());
    let mut server = self::server();
    server.enable_compression(&agreed());
    let mut input = from_client(Opcode::Binary, b"a", false);
    input.extend(compressed_from_client(Opcode::Continuation, b"b", true));
    let error = receive_all(&mut server, input);
    assert!(matches!(error, Err(Error::ReservedBitsSet)));
}

#[test]
fn a_compression_bomb_fails_with_1009_at_the_limit() {
    let config = Config {
        max_message_size: 100_000,
        ..Config::default()
    };
    let mut server = Connection::server(config);
    server.enable_compression(&agreed());
    // 10 MB of zeros compress to a few kilobytes.
    let mut bomb = Vec::new();
    crate::sansio::deflate::Deflater::new(15, false)
        .compress_message(&vec![0u8; 10_000_000], &mut bomb);
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    let error = receive_all(
        &mut server,
        compressed_from_client(Opcode::Binary, &bomb, true),
    )
    .expect_err("too large once inflated");
    assert!(matches!(error, Error::MessageTooLarge { .. }), "{error}");
    assert_eq!(sent(&mut server)[0].2[..2], 1009u16.to_be_bytes());
}

#[test]
fn corrupt_compressed_data_fails_with_1007() {
    let mut server = server();
    server.enable_compression(&agreed());
    // Block type 3 does not exist (RFC 1951 §3.2.3).
    let error = receive_all(
        &mut server,
        compressed_from_client(Opcode::Binary, &[0x06], true),
    )
    .expect_err("corrupt");
    assert!(matches!(error, Error::InvalidCompressedData(_)), "{error}");
    assert_eq!(sent(&mut server)[0].2[..2], 1007u16.to_be_bytes());
}

#[test]
fn the_transport_ends_by_the_rules_of_section_7_1_1() {
    // Open until the protocol is done.
    let mut server = server();
    assert_eq!(server.transport_end(), TransportEnd::Open);
    // A violation at 7 s: the server ends TCP first, lingering until the
    // close timeout (5 s) counted from the failing Close.
    let error = receive_all_at(&mut server, vec![0x81, 0x01, b'x'], S(7));
    assert!(error.is_err(), "unmasked");
    assert_eq!(
        server.transport_end(),
        TransportEnd::EndWritingFirst { deadline: S(12) }
    );
    // The peer's end of stream: nothing left to wait for.
    let _ = server.receive_eof(S(8));
    assert_eq!(server.transport_end(), TransportEnd::Close);
    // A peer that half-closes without a Close still gets what is owed,
    // then the transport closes.
    let mut server = self::server();
    assert!(server.receive_eof(S(1)).is_err());
    server.send_text("owed").expect("half-close");
    assert_eq!(server.transport_end(), TransportEnd::Close);
    // A client waits for the server's end of stream, bounded.
    let mut client = client();
    client.close(CloseCode::NORMAL, "", S(3)).expect("open");
    assert_eq!(client.transport_end(), TransportEnd::Open);
    // A transport that failed: close now.
    client.abort();
    assert_eq!(client.transport_end(), TransportEnd::Close);
}
