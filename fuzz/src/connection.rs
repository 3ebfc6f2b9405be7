//! `connection`: the pure connection core ([`Connection`]) in either role,
//! driven by a script of operations — bytes from the peer in any
//! chunking, application sends (valid and not), time passing, end of
//! stream — with no threads, sockets or clocks.
//!
//! Oracles, checked after every operation on exactly the bytes it made:
//! - every output frame is valid RFC 6455 for the role (masked from a
//!   client only, RSV clear, minimal length, control frames whole and at
//!   most 125 bytes, sendable close codes with UTF-8 reasons), parsed here
//!   independently of plainws's decoder;
//! - data frames follow the fragment rules, and after our Close only
//!   Pongs follow;
//! - each Ping received before the peer's Close is answered by exactly
//!   its Pong, at once, also after our Close;
//! - the peer's Close is echoed with its code at once (or, when the reply
//!   is deferred, not before `reply_to_close`, `close` or the close
//!   timeout); a peer's violation is answered by one Close with the
//!   error's code; a caller's misuse writes nothing and changes nothing;
//! - the close handshake completes: once the peer's Close was received
//!   and answered, the state is `Closed` and nothing more goes out.

use std::time::Duration;

use plainws::sansio::connection::{Connection, MaskSource, State};
use plainws::{CloseCode, Config, Error, Keepalive, Message, Opcode, Role};

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
    opcode: u8,
    payload: Vec<u8>,
}

/// Parses whole frames, checking what RFC 6455 §5.2 requires of a sender.
fn parse_output(role: Role, mut bytes: &[u8]) -> Vec<OutFrame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 2, "a truncated header in {bytes:?}");
        let (b0, b1) = (bytes[0], bytes[1]);
        assert_eq!(b0 & 0x70, 0, "RSV bits set without an extension");
        let opcode = b0 & 0x0f;
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

pub fn connection(data: &[u8]) {
    let mut script = Script { bytes: data };
    let flags = script.byte();
    let role = if flags & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let deferred = flags & 2 != 0;
    let config = config_for(flags);
    let mut conn = match role {
        Role::Server => Connection::server(config),
        Role::Client => Connection::client(config, Box::new(FixedMasks(u32::from(flags)))),
    };
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
        let outcome = match op % 8 {
            0 | 1 => {
                // Bytes from the peer, in one or two pieces.
                let len = usize::from(script.byte()) * if op & 0x80 != 0 { 16 } else { 1 };
                let mut bytes = script.take(len).to_vec();
                let split = usize::from(script.byte()).min(bytes.len());
                let (a, b) = bytes.split_at_mut(split);
                receive_piece(&mut conn, a, &mut wire, deferred);
                if !conn.is_receive_done() {
                    receive_piece(&mut conn, b, &mut wire, deferred);
                }
                continue;
            }
            2 => {
                let len = usize::from(script.byte());
                let text = String::from_utf8_lossy(script.take(len)).into_owned();
                conn.send_text(&text)
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
                conn.send_fragment(opcode, script.take(len), sel & 0x80 != 0)
            }
            4 => {
                let sel = script.byte();
                let len = usize::from(script.byte()) & 0x7f | usize::from(sel & 0x80);
                let payload = script.take(len);
                if sel & 1 == 0 {
                    conn.ping(payload)
                } else {
                    conn.pong(payload)
                }
            }
            5 => {
                let code = CloseCode(u16::from_be_bytes([script.byte(), script.byte()]));
                let len = usize::from(script.byte());
                let reason = String::from_utf8_lossy(script.take(len)).into_owned();
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
        if let Err(error) = outcome {
            assert!(
                error.close_code().is_none(),
                "a send error names no close code"
            );
            assert!(out.is_empty(), "a refused send wrote {out:?}");
            assert_eq!(conn.state(), before, "a refused send changed the state");
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

/// Our new output, checked.
fn take(conn: &mut Connection, wire: &mut Wire) -> Vec<OutFrame> {
    let mut bytes = Vec::new();
    conn.take_data_to_send(&mut bytes);
    let frames = parse_output(conn.role(), &bytes);
    wire.check(&frames);
    frames
}

/// Feeds one piece; checks what each message or error made us send.
fn receive_piece(conn: &mut Connection, mut piece: &mut [u8], wire: &mut Wire, deferred: bool) {
    loop {
        let close_sent_before = wire.close_sent;
        let result = conn.receive(piece);
        let out = take(conn, wire);
        match result {
            Ok((used, message)) => {
                assert!(used <= piece.len());
                piece = &mut piece[used..];
                match message {
                    None => {
                        assert!(piece.is_empty(), "no message means all input used");
                        assert!(out.is_empty(), "output without a message: {out:?}");
                        return;
                    }
                    Some(Message::Ping(payload)) => {
                        // §5.5.2: answered at once, our Close or not.
                        assert_eq!(out.len(), 1, "one Pong for a Ping");
                        assert_eq!((out[0].opcode, &out[0].payload), (0xA, &payload));
                    }
                    Some(Message::Close(frame)) => {
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
                    Some(_) => assert!(out.is_empty(), "data is not answered by the core"),
                }
            }
            Err(error) => {
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
