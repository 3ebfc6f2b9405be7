//! Frames on the wire: opcodes, headers and encoding (RFC 6455 §5.2).
//!
//! Low level, for study, fuzzing and custom drivers: applications send and
//! receive messages with [`Sender`](crate::Sender) and
//! [`Receiver`](crate::Receiver), and a driver of its own uses
//! [`Connection`](crate::sansio::connection::Connection), which encodes
//! and decodes these frames.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               |Masking-key, if MASK set to 1  |
//! +-------------------------------+-------------------------------+
//! | Masking-key (continued)       |          Payload Data         |
//! +-------------------------------- - - - - - - - - - - - - - - - +
//! ```
//!
//! Decoding lives in [`crate::sansio::decoder`]; this module holds the shared types
//! and the encoder.

use alloc::vec::Vec;
use core::fmt;

use crate::sansio::mask::apply_mask;

/// The longest header: 2 bytes, an 8-byte length and a 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload of a control frame (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: u64 = 125;

/// Which end of the connection this is; it decides who masks (RFC 6455 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts connections; sends unmasked frames and requires masked ones.
    Server,
    /// Opens connections; masks every frame and requires unmasked ones.
    Client,
}

/// A frame opcode (RFC 6455 §5.2, §11.8). Reserved values never get here:
/// the decoder rejects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opcode {
    /// 0x0: continues a fragmented message.
    Continuation,
    /// 0x1: the first frame of a UTF-8 text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: starts or answers the close handshake.
    Close,
    /// 0x9: asks for a Pong.
    Ping,
    /// 0xA: answers a Ping, or a unidirectional heartbeat.
    Pong,
}

impl Opcode {
    /// The opcode for a 4-bit value, or `None` for the reserved ones.
    pub fn from_bits(bits: u8) -> Option<Opcode> {
        Some(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Control frames have the high bit of the opcode set (RFC 6455 §5.5).
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Opcode::Continuation => "CONT",
            Opcode::Text => "TEXT",
            Opcode::Binary => "BINARY",
            Opcode::Close => "CLOSE",
            Opcode::Ping => "PING",
            Opcode::Pong => "PONG",
        };
        f.write_str(name)
    }
}

/// A decoded or to-be-encoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The final fragment of a message.
    pub fin: bool,
    /// RSV1–RSV3 as the three low bits (`0b100` is RSV1).
    pub rsv: u8,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key, present on every client frame.
    pub mask: Option<[u8; 4]>,
    /// The payload length, kept as `u64` until checked against the limits.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The header of a single, unfragmented frame.
    pub fn new(opcode: Opcode, payload_len: u64, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len,
        }
    }

    /// How many bytes this header takes on the wire.
    pub fn encoded_len(&self) -> usize {
        let length_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xFFFF => 2,
            _ => 8,
        };
        2 + length_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Writes the header into `out`, returning how many bytes it used
    /// (RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode
    /// the length").
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        out[0] = (u8::from(self.fin) << 7) | ((self.rsv & 0b111) << 4) | self.opcode.bits();
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let mut len = 2;
        match self.payload_len {
            n @ 0..=125 => out[1] = mask_bit | n as u8,
            n @ 126..=0xFFFF => {
                out[1] = mask_bit | 126;
                out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
                len = 4;
            }
            n => {
                out[1] = mask_bit | 127;
                out[2..10].copy_from_slice(&n.to_be_bytes());
                len = 10;
            }
        }
        if let Some(key) = self.mask {
            out[len..len + 4].copy_from_slice(&key);
            len += 4;
        }
        len
    }
}

/// Appends a whole frame (header, then the payload masked if `mask` is
/// set) to `out`.
pub fn encode_frame(out: &mut Vec<u8>, header: &FrameHeader, payload: &[u8]) {
    debug_assert_eq!(header.payload_len, payload.len() as u64);
    let mut head = [0u8; MAX_HEADER_LEN];
    let head_len = header.encode(&mut head);
    out.reserve(head_len + payload.len());
    out.extend_from_slice(&head[..head_len]);
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = header.mask {
        apply_mask(&mut out[start..], key, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: Opcode, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(
            &mut out,
            &FrameHeader::new(opcode, payload.len() as u64, mask),
            payload,
        );
        out
    }

    // RFC 6455 §5.7, byte for byte.
    #[test]
    fn rfc_examples_encode_exactly() {
        assert_eq!(
            frame(Opcode::Text, b"Hello", None),
            [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(Opcode::Text, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d])),
            [
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        assert_eq!(
            frame(Opcode::Ping, b"Hello", None),
            [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
        );
        assert_eq!(
            frame(Opcode::Pong, b"Hello", Some([0x37, 0xfa, 0x21, 0x3d])),
            [
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        );
        let big = frame(Opcode::Binary, &[0u8; 256], None);
        assert_eq!(&big[..4], [0x82, 0x7E, 0x01, 0x00]);
        let huge = frame(Opcode::Binary, &vec![0u8; 65536], None);
        assert_eq!(
            &huge[..10],
            [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
        );
    }

    #[test]
    fn fragmented_text_example_encodes_exactly() {
        let mut out = Vec::new();
        let mut first = FrameHeader::new(Opcode::Text, 3, None);
        first.fin = false;
        encode_frame(&mut out, &first, b"Hel");
        encode_frame(
            &mut out,
            &FrameHeader::new(Opcode::Continuation, 2, None),
            b"lo",
        );
        assert_eq!(out, [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f]);
    }

    #[test]
    fn encoded_len_matches_encode() {
        for len in [0u64, 125, 126, 65535, 65536, u64::MAX >> 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let header = FrameHeader::new(Opcode::Binary, len, mask);
                let mut out = [0u8; MAX_HEADER_LEN];
                assert_eq!(header.encode(&mut out), header.encoded_len());
            }
        }
    }

    #[test]
    fn reserved_opcodes_have_no_opcode() {
        for bits in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(Opcode::from_bits(bits), None);
        }
        for bits in [0u8, 1, 2, 8, 9, 0xA] {
            assert_eq!(Opcode::from_bits(bits).map(Opcode::bits), Some(bits));
        }
    }
}
