//! The input format shared by the permessage-deflate fuzz targets
//! (`inflate`, `inflate_split`, `deflate_roundtrip`,
//! `inflate_differential`), so that their corpora can be exchanged:
//!
//! - byte 0: bits 0–2 the window bits minus 8 (8..=15), bit 3
//!   `no_context_takeover`, bits 4–7 for the target's own use;
//! - bytes 1–4: the message limit (big-endian), where `0xffffffff` means
//!   none;
//! - then messages, each a big-endian `u16` length and that many bytes
//!   (the last one cut short by the end of the input).
//!
//! Past the end of the input every setup byte reads as 0.

/// The settings at the front of an input.
#[derive(Debug, Clone, Copy)]
pub struct DeflateSetup {
    pub window_bits: u8,
    pub no_context_takeover: bool,
    /// The high nibble of byte 0.
    pub extra: u8,
    pub limit: u64,
}

/// Splits an input into its setup and its messages.
pub fn read_deflate_input(data: &[u8]) -> (DeflateSetup, Vec<&[u8]>) {
    let byte = |i: usize| data.get(i).copied().unwrap_or(0);
    let raw_limit = u32::from_be_bytes([byte(1), byte(2), byte(3), byte(4)]);
    let setup = DeflateSetup {
        window_bits: 8 + (byte(0) & 7),
        no_context_takeover: byte(0) & 8 != 0,
        extra: byte(0) >> 4,
        limit: if raw_limit == u32::MAX {
            u64::MAX
        } else {
            u64::from(raw_limit)
        },
    };
    let mut rest = data.get(5..).unwrap_or_default();
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let len = match rest {
            [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        };
        rest = rest.get(2..).unwrap_or_default();
        let take = len.min(rest.len());
        messages.push(&rest[..take]);
        rest = &rest[take..];
    }
    (setup, messages)
}

/// Writes an input in this format (for the seed corpus).
pub fn write_deflate_input(
    window_bits: u8,
    no_context_takeover: bool,
    extra: u8,
    limit: Option<u32>,
    messages: &[&[u8]],
) -> Vec<u8> {
    let mut out =
        vec![(window_bits.clamp(8, 15) - 8) | (u8::from(no_context_takeover) << 3) | (extra << 4)];
    out.extend_from_slice(&limit.unwrap_or(u32::MAX).to_be_bytes());
    for message in messages {
        let len = message.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&message[..len]);
    }
    out
}
