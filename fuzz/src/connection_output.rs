//! `connection`'s view of our output: frames parsed independently of
//! plainws's decoder and checked against RFC 6455 §5 (and RFC 7692 §6.1),
//! the order rules across them, and the one frame each accepted call must
//! write.

use plainws::{CloseCode, Role};

use super::connection_deflate::SentMessages;

/// RSV1, the "Per-Message Compressed" bit, in a frame's first byte.
pub(super) const RSV1: u8 = 0x40;

/// One frame of our output, as the peer sees it.
#[derive(Debug)]
pub(super) struct OutFrame {
    pub(super) fin: bool,
    /// RSV1 is set (RSV2 and RSV3 never are).
    pub(super) compressed: bool,
    pub(super) opcode: u8,
    pub(super) payload: Vec<u8>,
}

/// Parses whole frames, checking what RFC 6455 §5.2 requires of a sender
/// (and RFC 7692 §6.1 when `compresses`).
pub(super) fn parse_output(role: Role, compresses: bool, mut bytes: &[u8]) -> Vec<OutFrame> {
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
pub(super) struct Wire {
    pub(super) close_sent: bool,
    pub(super) message_open: bool,
    /// The peer's Close came out of `receive`.
    pub(super) close_received: bool,
}

impl Wire {
    /// Checks the order rules across everything we sent.
    pub(super) fn check(&mut self, frames: &[OutFrame]) {
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

/// The one frame an accepted call writes.
pub(super) enum Expected {
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
    pub(super) fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Expected {
        Expected::Frame {
            opcode,
            fin,
            payload: payload.to_vec(),
        }
    }

    /// `send_text` or `send_binary`: compressed exactly when compression is on.
    pub(super) fn message(opcode: u8, message: &[u8], sent: &Option<SentMessages>) -> Expected {
        if sent.is_some() {
            Expected::Compressed {
                opcode,
                message: message.to_vec(),
            }
        } else {
            Expected::frame(opcode, true, message)
        }
    }

    pub(super) fn check(&self, out: &[OutFrame], sent: Option<&mut SentMessages>) {
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
