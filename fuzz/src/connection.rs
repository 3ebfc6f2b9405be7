//! `connection`: the pure connection core ([`Connection`]) in either role,
//! driven by a script of operations — bytes from the peer in any
//! chunking, application sends (valid and not), time passing, end of
//! stream — with no threads, sockets or clocks, with or without
//! permessage-deflate (RFC 7692).
//!
//! The input: a flags byte (bit 0 the role, bit 1 the deferred Close
//! reply, bits 2–3 the limits, bit 4 keepalive, bit 5 the idle timeout,
//! bit 6 unused, bit 7 permessage-deflate); with bit 7, one more byte
//! gives the agreed parameters ([`agreed_from`]); then the operations.
//! Bit 7 was ignored before compression was added, so inputs without it
//! mean what they always meant.
//!
//! Oracles, checked after every operation on exactly the bytes it made:
//! - every output frame is valid RFC 6455 for the role (masked from a
//!   client only, RSV2 and RSV3 clear, RSV1 only on a compressed message,
//!   minimal length, control frames whole and at most 125 bytes, sendable
//!   close codes with UTF-8 reasons), parsed here independently of
//!   plainws's decoder;
//! - data frames follow the fragment rules, and after our Close only
//!   Pongs follow;
//! - each accepted send writes exactly its one frame: the payload as
//!   given, or, for `send_text`/`send_binary` with compression on, RSV1
//!   and a payload that inflates back to the message, both with plainws's
//!   own `Inflater` (the agreed window bits and context setting of our
//!   side) and, in the fuzz build, with `miniz_oxide` as RFC 7692 §7.2.2
//!   says (raw DEFLATE, `00 00 ff ff` appended, after the window of our
//!   earlier compressed messages, cut to our window and emptied when our
//!   side's `*_no_context_takeover` is set), so a match never reaches
//!   before the window or into a message it may not;
//! - each Ping received before the peer's Close is answered by exactly
//!   its Pong, at once, also after our Close;
//! - the peer's Close is echoed with its code at once (or, when the reply
//!   is deferred, not before `reply_to_close`, `close` or the close
//!   timeout); a peer's violation is answered by one Close with the
//!   error's code (1002, 1007 or 1009); a caller's misuse writes nothing
//!   and changes nothing;
//! - the peer's bytes as received agree with `model::model_frames` (RSV1
//!   allowed on a data message's first frame exactly when compression is
//!   on): a frame-level error is the model's first error; bytes taken
//!   without an error hold none; each message ends at a frame boundary
//!   and is the model's last frame (control) or message (data: the
//!   payloads as sent, or for a compressed one, what `miniz_oxide`
//!   inflates them to, after the window of the peer's earlier messages,
//!   in the fuzz build). A compressed message that plainws refuses (1007,
//!   1009) is not compared: plainws is stricter than `miniz_oxide` in
//!   documented ways (see `inflate_differential.rs`);
//! - the close handshake completes: once the peer's Close was received
//!   and answered, the state is `Closed` and nothing more goes out.

use std::time::Duration;

use plainws::sansio::connection::{Connection, MaskSource, State};
use plainws::{CloseCode, Config, Error, Keepalive, Message, Opcode, Role};

use super::connection_deflate::{SentMessages, agreed_from, side};
use super::connection_output::{Expected, OutFrame, Wire, parse_output};
use super::connection_peer::Peer;
use super::model::Setup;

/// Keys from the input's first bytes, so that runs are reproducible.
struct FixedMasks(u32);

impl MaskSource for FixedMasks {
    fn next_key(&mut self) -> [u8; 4] {
        self.0 = self.0.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        self.0.to_be_bytes()
    }
}

/// Reads the script; past the end every read gives zeros.
struct Script<'a> {
    bytes: &'a [u8],
}

impl<'a> Script<'a> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self
            .bytes
            .split_first()
            .map_or((0, &[][..]), |(b, r)| (*b, r));
        self.bytes = rest;
        first
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.bytes.len());
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        taken
    }
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

fn config_for(flags: u8) -> Config {
    let (max_frame_size, max_message_size, max_fragments) = match (flags >> 2) & 3 {
        0 => (1 << 10, 4 << 10, 16),
        1 => (125, 300, 4),
        2 => (0, 0, 0),
        _ => (16 << 20, 64 << 20, 1 << 17),
    };
    Config::default()
        .max_frame_size(max_frame_size)
        .max_message_size(max_message_size)
        .max_fragments(max_fragments)
        .close_timeout(Duration::from_millis(500))
        .keepalive((flags & 0x10 != 0).then_some(Keepalive {
            interval: Duration::from_millis(300),
            timeout: Duration::from_millis(200),
        }))
        .idle_timeout((flags & 0x20 != 0).then_some(Duration::from_millis(700)))
}

pub fn connection(data: &[u8]) {
    let mut script = Script { bytes: data };
    let flags = script.byte();
    let role = if flags & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let deferred = flags & 2 != 0;
    let agreed = (flags & 0x80 != 0).then(|| agreed_from(script.byte()));
    let config = config_for(flags);
    let mut peer = Peer {
        setup: Setup {
            role,
            max_frame_size: config.max_frame_size,
            max_message_size: config.max_message_size,
            max_fragments: config.max_fragments,
            allow_rsv1: agreed.is_some(),
        },
        stream: Vec::new(),
        pos: 0,
        in_message: false,
        last: None,
        message: Vec::new(),
        reset: false,
        history: None,
    };
    let mut conn = match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::client(config, Box::new(FixedMasks(u32::from(flags)))),
    };
    let mut sent = None;
    if let Some(agreed) = &agreed {
        conn.enable_compression(agreed);
        assert!(conn.compresses());
        let (bits, reset) = side(agreed, role);
        sent = Some(SentMessages {
            bits,
            reset,
            inflater: None,
            history: Vec::new(),
        });
        let peer_role = match role {
            Role::Server => Role::Client,
            Role::Client => Role::Server,
        };
        peer.reset = side(agreed, peer_role).1;
        peer.history = Some(Vec::new());
    }
    if deferred {
        conn.defer_close_reply();
    }
    let mut wire = Wire::default();
    let mut now = Duration::ZERO;
    conn.poll_timeout(now);
    let mut ops = 0;
    while !script.is_empty() && ops < 4096 {
        ops += 1;
        let before = conn.state();
        let op = script.byte();
        // What an accepted call must have written: its one frame.
        let expected: Expected;
        let outcome = match op % 8 {
            0 | 1 => {
                // Bytes from the peer, in one or two pieces.
                let len = usize::from(script.byte()) * if op & 0x80 != 0 { 16 } else { 1 };
                let mut bytes = script.take(len).to_vec();
                let split = usize::from(script.byte()).min(bytes.len());
                let (a, b) = bytes.split_at_mut(split);
                receive_piece(&mut conn, a, &mut wire, deferred, &mut peer, now);
                if !conn.is_receive_done() {
                    receive_piece(&mut conn, b, &mut wire, deferred, &mut peer, now);
                }
                continue;
            }
            2 => {
                let len = usize::from(script.byte());
                let bytes = script.take(len);
                // With compression on, bit 7 (ignored before) sends the raw
                // bytes as a binary message instead.
                if sent.is_some() && op & 0x80 != 0 {
                    expected = Expected::message(0x2, bytes, &sent);
                    conn.send_binary(bytes)
                } else {
                    let text = String::from_utf8_lossy(bytes).into_owned();
                    expected = Expected::message(0x1, text.as_bytes(), &sent);
                    conn.send_text(&text)
                }
            }
            3 => {
                let sel = script.byte();
                let opcode = match sel % 5 {
                    0 => Opcode::Text,
                    1 => Opcode::Binary,
                    2 | 3 => Opcode::Continuation,
                    _ => Opcode::Ping,
                };
                let len = usize::from(script.byte());
                let payload = script.take(len);
                let fin = sel & 0x80 != 0;
                expected = Expected::frame(opcode.bits(), fin, payload);
                conn.send_fragment(opcode, payload, fin)
            }
            4 => {
                let sel = script.byte();
                let len = usize::from(script.byte()) & 0x7f | usize::from(sel & 0x80);
                let payload = script.take(len);
                if sel & 1 == 0 {
                    expected = Expected::frame(0x9, true, payload);
                    conn.ping(payload)
                } else {
                    expected = Expected::frame(0xA, true, payload);
                    conn.pong(payload)
                }
            }
            5 => {
                let code = CloseCode(u16::from_be_bytes([script.byte(), script.byte()]));
                let len = usize::from(script.byte());
                let reason = String::from_utf8_lossy(script.take(len)).into_owned();
                expected = Expected::Close(code, reason.clone().into_bytes());
                conn.close(code, &reason, now)
            }
            6 => {
                now += Duration::from_millis(u64::from(script.byte()) * 8);
                conn.poll_timeout(now);
                let result = conn.handle_timeout(now);
                let out = take(&mut conn, &mut wire);
                if let Err(Error::PongTimeout) = &result {
                    assert!(out.iter().any(|f| f.opcode == 0x8), "a 1011 Close");
                }
                conn.poll_timeout(now);
                continue;
            }
            _ => {
                match script.byte() % 3 {
                    0 => {
                        // §7.1.5: an end of stream without a Close is 1006.
                        let result = conn.receive_eof(now);
                        assert_eq!(result.is_ok(), wire.close_received, "{result:?}");
                    }
                    1 => {
                        let owed = conn.is_reply_due();
                        conn.reply_to_close(now).expect("a reply is never refused");
                        let out = take(&mut conn, &mut wire);
                        assert_eq!(
                            out.iter().filter(|f| f.opcode == 0x8).count(),
                            usize::from(owed)
                        );
                    }
                    _ => {}
                }
                continue;
            }
        };
        let out = take(&mut conn, &mut wire);
        match outcome {
            Err(error) => {
                assert!(
                    error.close_code().is_none(),
                    "a send error names no close code"
                );
                assert!(out.is_empty(), "a refused send wrote {out:?}");
                assert_eq!(conn.state(), before, "a refused send changed the state");
            }
            Ok(()) => expected.check(&out, sent.as_mut()),
        }
    }
    // The handshake completes: once the peer's Close is answered, nothing
    // more goes out.
    if conn.state() == State::CloseReceived {
        conn.reply_to_close(now).expect("the reply");
        let out = take(&mut conn, &mut wire);
        assert!(out.iter().any(|f| f.opcode == 0x8), "the owed Close");
        assert_eq!(conn.state(), State::Closed);
    }
    if conn.is_finished() {
        let _ = conn.send_text("late");
        let _ = conn.ping(b"late");
        assert!(
            take(&mut conn, &mut wire).iter().all(|f| f.opcode == 0xA),
            "nothing but Pongs once finished"
        );
    }
}

/// Our new output, checked.
fn take(conn: &mut Connection, wire: &mut Wire) -> Vec<OutFrame> {
    let mut bytes = Vec::new();
    conn.take_data_to_send(&mut bytes);
    let frames = parse_output(conn.role(), conn.compresses(), &bytes);
    wire.check(&frames);
    frames
}

/// Feeds one piece; checks what each message or error made us send, and
/// what the core made of the bytes against the model.
fn receive_piece(
    conn: &mut Connection,
    piece: &mut [u8],
    wire: &mut Wire,
    deferred: bool,
    peer: &mut Peer,
    now: Duration,
) {
    // The bytes the core takes, as sent (it unmasks them in place).
    let base = peer.stream.len();
    if !conn.is_receive_done() {
        peer.stream.extend_from_slice(piece);
    }
    let mut at = 0;
    loop {
        let close_sent_before = wire.close_sent;
        // After the peer's Close or a failure, bytes are ignored.
        let live = !conn.is_receive_done();
        let result = conn.receive(&mut piece[at..], now);
        let out = take(conn, wire);
        match result {
            Ok((used, message)) => {
                assert!(used <= piece.len() - at);
                at += used;
                match message {
                    None => {
                        assert_eq!(at, piece.len(), "no message means all input used");
                        assert!(out.is_empty(), "output without a message: {out:?}");
                        if live {
                            peer.check_taken(base + at);
                        }
                        return;
                    }
                    Some(message) => {
                        assert!(live, "a message after the end of receiving");
                        let limit = conn.config().max_message_size;
                        peer.check_message(base + at, &message, limit);
                        check_answer(message, &out, wire, close_sent_before, deferred);
                    }
                }
            }
            Err(error) => {
                assert!(live, "an error after the end of receiving: {error:?}");
                peer.check_error(base + piece.len(), &error);
                let code = error
                    .close_code()
                    .expect("a peer's violation has a close code");
                if close_sent_before {
                    assert!(out.is_empty(), "a second Close: {out:?}");
                } else {
                    assert_eq!(out.len(), 1, "one Close fails the connection");
                    assert_eq!(out[0].payload[..2], code.0.to_be_bytes());
                }
                assert!(conn.is_finished());
                return;
            }
        }
    }
}

/// What the core sent on receiving `message`.
fn check_answer(
    message: Message,
    out: &[OutFrame],
    wire: &mut Wire,
    close_sent_before: bool,
    deferred: bool,
) {
    match message {
        Message::Ping(payload) => {
            // §5.5.2: answered at once, our Close or not.
            assert_eq!(out.len(), 1, "one Pong for a Ping");
            assert_eq!((out[0].opcode, &out[0].payload), (0xA, &payload));
        }
        Message::Close(frame) => {
            wire.close_received = true;
            if close_sent_before || deferred {
                assert!(out.is_empty(), "no reply: {out:?}");
            } else {
                assert_eq!(out.len(), 1, "the Close echo");
                assert_eq!(out[0].opcode, 0x8);
                let code = frame.map(|f| f.code.0.to_be_bytes().to_vec());
                assert_eq!(out[0].payload, code.unwrap_or_default(), "echoed code");
            }
        }
        _ => assert!(out.is_empty(), "data is not answered by the core"),
    }
}
