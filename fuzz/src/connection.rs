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
use plainws::sansio::deflate::negotiate::Agreed;
use plainws::sansio::deflate::{Inflater, TAIL};
use plainws::{CloseCode, Config, Error, FrameHeader, Keepalive, Message, Opcode, Role};

use super::model::{Setup, is_frame_error, is_message_error, model_frames_from};
use crate::miniz_reference::{Reference, reference_once};

/// RSV1, the "Per-Message Compressed" bit, in a frame's first byte.
const RSV1: u8 = 0x40;

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

/// One frame of our output, as the peer sees it.
#[derive(Debug)]
struct OutFrame {
    fin: bool,
    /// RSV1 is set (RSV2 and RSV3 never are).
    compressed: bool,
    opcode: u8,
    payload: Vec<u8>,
}

/// Parses whole frames, checking what RFC 6455 §5.2 requires of a sender
/// (and RFC 7692 §6.1 when `compresses`).
fn parse_output(role: Role, compresses: bool, mut bytes: &[u8]) -> Vec<OutFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "a truncated header in {bytes:?}");
        let (b0, b1) = (bytes[0], bytes[1]);
        assert_eq!(b0 & 0x30, 0, "RSV2 or RSV3 set: no extension defines them");
        let opcode = b0 & 0x0f;
        let compressed = b0 & RSV1 != 0;
        assert!(
            !compressed || (compresses && matches!(opcode, 0x1 | 0x2)),
            "RSV1 on opcode {opcode:#x} (compression {compresses}): only the first \
             frame of a compressed data message carries it"
        );
        assert!(
            matches!(opcode, 0x0 | 0x1 | 0x2 | 0x8 | 0x9 | 0xA),
            "reserved opcode {opcode:#x}"
        );
        let masked = b1 & 0x80 != 0;
        assert_eq!(
            masked,
            role == Role::Client,
            "§5.1: clients mask, servers do not"
        );
        let (len, mut at) = match b1 & 0x7f {
            126 => {
                let len = u16::from_be_bytes([bytes[2], bytes[3]]) as usize;
                assert!(len >= 126, "§5.2: the minimal length form");
                (len, 4)
            }
            127 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&bytes[2..10]);
                let len = u64::from_be_bytes(b);
                assert!(
                    len > 0xFFFF && len >> 63 == 0,
                    "§5.2: the minimal length form"
                );
                (len as usize, 10)
            }
            n => (n as usize, 2),
        };
        let key = masked.then(|| {
            let key = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            at += 4;
            key
        });
        assert!(bytes.len() >= at + len, "a truncated payload");
        let mut payload = bytes[at..at + len].to_vec();
        if let Some(key) = key {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= key[i % 4];
            }
        }
        let fin = b0 & 0x80 != 0;
        if opcode >= 0x8 {
            assert!(fin, "§5.5: control frames are not fragmented");
            assert!(len <= 125, "§5.5: control payload over 125");
        }
        if opcode == 0x8 {
            assert_ne!(payload.len(), 1, "§5.5.1: a one-byte close payload");
            if payload.len() >= 2 {
                let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
                assert!(code.is_sendable(), "close code {code} may not be sent");
                assert!(
                    std::str::from_utf8(&payload[2..]).is_ok(),
                    "reason not UTF-8"
                );
            }
        }
        frames.push(OutFrame {
            fin,
            compressed,
            opcode,
            payload,
        });
        bytes = &bytes[at + len..];
    }
    frames
}

/// What the peer has seen of our output so far.
#[derive(Default)]
struct Wire {
    close_sent: bool,
    message_open: bool,
    /// The peer's Close came out of `receive`.
    close_received: bool,
}

impl Wire {
    /// Checks the order rules across everything we sent.
    fn check(&mut self, frames: &[OutFrame]) {
        for frame in frames {
            assert!(
                !self.close_sent || frame.opcode == 0xA,
                "§5.5.1: only Pongs after our Close, got {frame:?}"
            );
            match frame.opcode {
                0x1 | 0x2 => {
                    assert!(!self.message_open, "§5.4: a new message inside another");
                    self.message_open = !frame.fin;
                }
                0x0 => {
                    assert!(self.message_open, "§5.4: a continuation of nothing");
                    self.message_open = !frame.fin;
                }
                0x8 => self.close_sent = true,
                _ => {}
            }
        }
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

/// The agreed permessage-deflate parameters, from the byte after the
/// flags: bits 0–2 the server's window bits − 8, bits 3–5 the client's,
/// bit 6 `server_no_context_takeover`, bit 7 `client_no_context_takeover`.
fn agreed_from(byte: u8) -> Agreed {
    Agreed {
        server_no_context_takeover: byte & 0x40 != 0,
        client_no_context_takeover: byte & 0x80 != 0,
        server_max_window_bits: 8 + (byte & 7),
        client_max_window_bits: 8 + ((byte >> 3) & 7),
    }
}

/// The window bits and context reset of what `sender` compresses.
fn side(agreed: &Agreed, sender: Role) -> (u8, bool) {
    match sender {
        Role::Server => (
            agreed.server_max_window_bits,
            agreed.server_no_context_takeover,
        ),
        Role::Client => (
            agreed.client_max_window_bits,
            agreed.client_no_context_takeover,
        ),
    }
}

/// Keeps `history` to its last `window` bytes.
fn keep_window(history: &mut Vec<u8>, window: usize) {
    let excess = history.len().saturating_sub(window);
    history.drain(..excess);
}

/// Our compressed messages, inflated back as the peer would.
struct SentMessages {
    bits: u8,
    reset: bool,
    /// plainws's own inflater with our side's parameters (made at the
    /// first compressed message).
    inflater: Option<Inflater>,
    /// What `miniz_oxide` may refer back to: the last 2^bits bytes of
    /// our earlier compressed messages (none with context reset).
    history: Vec<u8>,
}

impl SentMessages {
    fn check(&mut self, payload: &[u8], message: &[u8]) {
        let (bits, reset) = (self.bits, self.reset);
        let inflater = self
            .inflater
            .get_or_insert_with(|| Inflater::new(bits, reset));
        let mut out = Vec::new();
        let result = inflater
            .inflate(payload, &mut out, u64::MAX)
            .and_then(|()| inflater.finish_message(&mut out, u64::MAX));
        assert!(
            result.is_ok(),
            "our compressed message does not inflate: {result:?}"
        );
        assert!(
            out == message,
            "our compressed message inflates to other bytes"
        );
        let input = [payload, &TAIL[..]].concat();
        match reference_once(&input, &self.history, message.len() as u64) {
            None => {}
            Some(Reference::Done(theirs)) => {
                assert!(
                    theirs == message,
                    "miniz_oxide inflates our message to other bytes"
                );
            }
            Some(Reference::EndedEarly(_)) => panic!("a final block in our compressed message"),
            Some(Reference::Failed) => panic!("miniz_oxide refuses our compressed message"),
        }
        if !self.reset {
            self.history.extend_from_slice(message);
            keep_window(&mut self.history, 1 << self.bits);
        }
    }
}

/// The peer's bytes as the core took them (before unmasking), parsed
/// frame by frame by the model.
struct Peer {
    setup: Setup,
    stream: Vec<u8>,
    /// The frames before this offset are parsed.
    pos: usize,
    /// A fragmented message is open at `pos`.
    in_message: bool,
    /// The last whole frame parsed.
    last: Option<(FrameHeader, Vec<u8>)>,
    /// The data frames of the last data message parsed.
    message: Vec<(FrameHeader, Vec<u8>)>,
    /// With compression: the peer's context reset, and the window of its
    /// earlier compressed messages for `miniz_oxide` (32 KiB whatever the
    /// window bits, so a match plainws accepts beyond them is still
    /// checked), while it is known.
    reset: bool,
    history: Option<Vec<u8>>,
}

impl Peer {
    /// Parses the whole frames up to `upto`; returns the model's first
    /// error there and whether `upto` is a frame boundary.
    fn advance(&mut self, upto: usize) -> (Option<Error>, bool) {
        let model = model_frames_from(&self.setup, &self.stream[self.pos..upto], self.in_message);
        let mut end = 0;
        for ((header, payload), &frame_end) in model.frames.into_iter().zip(&model.ends) {
            end = frame_end;
            match header.opcode {
                Opcode::Text | Opcode::Binary => {
                    self.message.clear();
                    self.message.push((header, payload.clone()));
                    self.in_message = !header.fin;
                }
                Opcode::Continuation => {
                    self.message.push((header, payload.clone()));
                    self.in_message = !header.fin;
                }
                _ => {}
            }
            self.last = Some((header, payload));
        }
        self.pos += end;
        (model.error, self.pos == upto)
    }

    /// Bytes up to `upto` were taken without an error.
    fn check_taken(&mut self, upto: usize) {
        let (error, _) = self.advance(upto);
        assert!(
            error.is_none(),
            "the core took a frame the model refuses: {error:?}"
        );
    }

    /// The core made `message` of the bytes up to `upto`.
    fn check_message(&mut self, upto: usize, message: &Message, max_message_size: u64) {
        let (error, boundary) = self.advance(upto);
        assert!(
            error.is_none(),
            "the core took a frame the model refuses: {error:?}"
        );
        assert!(boundary, "a message that does not end at a frame boundary");
        let (last, last_payload) = self.last.as_ref().expect("a message needs a frame");
        let (opcode, bytes) = match message {
            Message::Ping(payload) => {
                assert_eq!(last_payload, payload, "the Ping's payload");
                (Opcode::Ping, None)
            }
            Message::Pong(payload) => {
                assert_eq!(last_payload, payload, "the Pong's payload");
                (Opcode::Pong, None)
            }
            Message::Close(_) => (Opcode::Close, None),
            Message::Text(text) => (Opcode::Text, Some(text.as_bytes())),
            Message::Binary(data) => (Opcode::Binary, Some(&data[..])),
        };
        let Some(bytes) = bytes else {
            assert_eq!(last.opcode, opcode, "the message is not the last frame");
            return;
        };
        assert!(
            !last.opcode.is_control() && last.fin,
            "a data message that is not the end of one"
        );
        let (first, _) = &self.message[0];
        assert_eq!(first.opcode, opcode, "the message's type");
        assert!(
            bytes.len() as u64 <= max_message_size,
            "a message over the limit"
        );
        let payload: Vec<u8> = self.message.iter().flat_map(|(_, p)| p.clone()).collect();
        if first.rsv == 0 {
            assert!(payload == bytes, "an uncompressed message changed");
            return;
        }
        assert!(
            self.setup.allow_rsv1,
            "a compressed message without compression"
        );
        let Some(history) = self.history.as_mut() else {
            return;
        };
        if self.reset {
            history.clear();
        }
        let input = [&payload[..], &TAIL[..]].concat();
        match reference_once(&input, history, bytes.len() as u64) {
            None => {}
            Some(Reference::Done(theirs)) => {
                assert!(
                    theirs == bytes,
                    "miniz_oxide inflates the peer's message otherwise"
                );
            }
            Some(Reference::EndedEarly(theirs)) => {
                // A final block inside the message: plainws goes on with a
                // new stream (RFC 7692 §7.2.3.4), miniz_oxide stops; the
                // window is no longer known here.
                assert!(bytes.starts_with(&theirs), "different bytes before BFINAL");
                self.history = None;
                return;
            }
            Some(Reference::Failed) => {
                panic!("the core accepts a compressed message miniz_oxide refuses")
            }
        }
        history.extend_from_slice(bytes);
        keep_window(history, 32 << 10);
    }

    /// The core failed with `error` somewhere in the bytes up to `upto`.
    fn check_error(&mut self, upto: usize, error: &Error) {
        let code = error
            .close_code()
            .expect("a peer's violation has a close code");
        assert!(
            matches!(code.0, 1002 | 1007 | 1009),
            "a peer's violation closes with {code}"
        );
        let compressed_data = matches!(error, Error::InvalidCompressedData(_));
        assert!(
            is_message_error(error) || (compressed_data && self.setup.allow_rsv1),
            "an undocumented error {error:?}"
        );
        let (model, _) = self.advance(upto);
        if is_frame_error(error) {
            let model = model.expect("the core refuses a frame the model accepts");
            assert_eq!(
                format!("{error:?}"),
                format!("{model:?}"),
                "the first error"
            );
        }
    }
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
                receive_piece(&mut conn, a, &mut wire, deferred, &mut peer);
                if !conn.is_receive_done() {
                    receive_piece(&mut conn, b, &mut wire, deferred, &mut peer);
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
                conn.close(code, &reason)
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
                        let result = conn.receive_eof();
                        assert_eq!(result.is_ok(), wire.close_received, "{result:?}");
                    }
                    1 => {
                        let owed = conn.is_reply_due();
                        conn.reply_to_close().expect("a reply is never refused");
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
        conn.reply_to_close().expect("the reply");
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

/// The one frame an accepted call writes.
enum Expected {
    /// A frame as given.
    Frame {
        opcode: u8,
        fin: bool,
        payload: Vec<u8>,
    },
    /// A whole message, compressed (RSV1 set) on the way.
    Compressed { opcode: u8, message: Vec<u8> },
    /// A Close with this code and (at most) this reason.
    Close(CloseCode, Vec<u8>),
}

impl Expected {
    fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Expected {
        Expected::Frame {
            opcode,
            fin,
            payload: payload.to_vec(),
        }
    }

    /// `send_text` or `send_binary`: compressed exactly when compression is on.
    fn message(opcode: u8, message: &[u8], sent: &Option<SentMessages>) -> Expected {
        if sent.is_some() {
            Expected::Compressed {
                opcode,
                message: message.to_vec(),
            }
        } else {
            Expected::frame(opcode, true, message)
        }
    }

    fn check(&self, out: &[OutFrame], sent: Option<&mut SentMessages>) {
        assert_eq!(out.len(), 1, "an accepted call writes one frame: {out:?}");
        let frame = &out[0];
        match self {
            Expected::Frame {
                opcode,
                fin,
                payload,
            } => {
                assert_eq!((frame.opcode, frame.fin), (*opcode, *fin), "the frame sent");
                assert!(!frame.compressed, "RSV1 on a frame sent as it is");
                assert!(frame.payload == *payload, "the payload sent");
            }
            Expected::Compressed { opcode, message } => {
                assert_eq!(
                    (frame.opcode, frame.fin),
                    (*opcode, true),
                    "the message sent"
                );
                assert!(
                    frame.compressed,
                    "a message sent uncompressed with compression on"
                );
                sent.expect("compression is on")
                    .check(&frame.payload, message);
            }
            Expected::Close(code, reason) => {
                assert_eq!(frame.opcode, 0x8, "the Close sent");
                assert_eq!(frame.payload[..2], code.0.to_be_bytes(), "the close code");
                let sent_reason = &frame.payload[2..];
                // Cut to 123 bytes on a character boundary (§5.5).
                assert!(reason.starts_with(sent_reason), "the reason sent");
                assert!(
                    sent_reason.len() >= reason.len().min(120),
                    "the reason cut short"
                );
            }
        }
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
        let result = conn.receive(&mut piece[at..]);
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
