//! Text for a [`Tracer`](crate::Tracer): one line per frame, or a frame's
//! bytes taken apart field by field.
//!
//! [`format_frame`] gives one line:
//!
//! ```text
//! -> fin=1 rsv=000 op=TEXT mask=1a2b3c4d len=5 payload="hello"
//! <- fin=1 rsv=000 op=TEXT mask=none len=5 payload="hello"
//! ```
//!
//! [`format_frame_bytes`] shows the exact bytes on the wire, annotated
//! (RFC 6455 §5.2), here the RFC's own masked example (§5.7):
//!
//! ```text
//! -> TEXT frame: 6 header bytes, 5 payload bytes
//!    byte 0      81                      = 1 000 0001: FIN=1 RSV1=0 RSV2=0 RSV3=0 opcode=0x1 (TEXT)
//!    byte 1      85                      = 1 0000101: MASK=1, length 5 (7-bit form)
//!    bytes 2-5   37 fa 21 3d             masking key
//!    payload     7f 9f 4d 51 58          as sent (masked)
//!    unmasked    48 65 6c 6c 6f          "Hello"
//! ```
//!
//! A tracer sees the header and the first [`TRACE_PREVIEW`](crate::sansio::reader::TRACE_PREVIEW) payload bytes,
//! unmasked; the masked bytes are those bytes masked again with the key,
//! exactly as they went over the wire.

use crate::sansio::config::Direction;
use crate::sansio::frame::{FrameHeader, MAX_HEADER_LEN, Opcode};
use crate::sansio::mask::apply_mask;
use alloc::{format, string::String, vec::Vec};
use core::fmt::Write;

/// Formats a traced frame: `->` for outgoing, `<-` for incoming, the
/// header's fields (RFC 6455 §5.2) and the payload preview, lossily as text.
///
/// A Close frame's payload is shown as its code and reason (§5.5.1):
/// `code=1000 reason="bye"`.
pub fn format_frame(direction: Direction, header: &FrameHeader, preview: &[u8]) -> String {
    let mask = header.mask.map_or("none".into(), |k| hex_compact(&k));
    let payload = match (header.opcode, preview) {
        (Opcode::Close, [hi, lo, reason @ ..]) => format!(
            "code={} reason={:?}",
            u16::from_be_bytes([*hi, *lo]),
            String::from_utf8_lossy(reason)
        ),
        _ => format!("payload={:?}", String::from_utf8_lossy(preview)),
    };
    format!(
        "{} fin={} rsv={:03b} op={} mask={mask} len={} {payload}",
        arrow(direction),
        u8::from(header.fin),
        header.rsv,
        header.opcode,
        header.payload_len,
    )
}

/// Formats a frame's bytes as they are on the wire, each header field
/// called out (RFC 6455 §5.2): FIN, RSV1–3 and the opcode in byte 0; MASK
/// and the 7-bit length in byte 1; the 16- or 64-bit extended length; the
/// masking key; then the payload as sent (masked, for a client's frame)
/// and unmasked, with text shown as a string and a Close frame's code and
/// reason.
///
/// `preview` is the start of the payload, unmasked, as a
/// [`Tracer`](crate::Tracer) gets it; when it is shorter than the payload
/// the lines say how much is shown. Lines after the first are indented by
/// three spaces; the result ends without a newline.
pub fn format_frame_bytes(direction: Direction, header: &FrameHeader, preview: &[u8]) -> String {
    let mut wire = [0u8; MAX_HEADER_LEN];
    let header_len = header.encode(&mut wire);
    let (b0, b1) = (wire[0], wire[1]);
    let len = header.payload_len;
    let mut out = format!(
        "{} {} frame: {header_len} header bytes, {len} payload bytes",
        arrow(direction),
        header.opcode
    );
    row(
        &mut out,
        "byte 0",
        &hex(&[b0]),
        &format!("{} {:03b} {:04b}", b0 >> 7, (b0 >> 4) & 0b111, b0 & 0x0F),
        &format!(
            "FIN={} RSV1={} RSV2={} RSV3={} opcode={:#x} ({})",
            b0 >> 7,
            (b0 >> 6) & 1,
            (b0 >> 5) & 1,
            (b0 >> 4) & 1,
            b0 & 0x0F,
            header.opcode
        ),
    );
    let len7 = b1 & 0x7F;
    let length_note = match len7 {
        126 => String::from("length 126: a 16-bit length follows"),
        127 => String::from("length 127: a 64-bit length follows"),
        n => format!("length {n} (7-bit form)"),
    };
    row(
        &mut out,
        "byte 1",
        &hex(&[b1]),
        &format!("{} {:07b}", b1 >> 7, len7),
        &format!("MASK={}, {length_note}", b1 >> 7),
    );
    let mut at = 2;
    let extended = match len7 {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    if extended > 0 {
        let form = if extended == 2 { 16 } else { 64 };
        row(
            &mut out,
            &byte_range(at, extended),
            &hex(&wire[at..at + extended]),
            "",
            &format!("length {len} ({form}-bit form, big-endian)"),
        );
        at += extended;
    }
    if header.mask.is_some() {
        row(
            &mut out,
            &byte_range(at, 4),
            &hex(&wire[at..at + 4]),
            "",
            "masking key",
        );
    }
    if len == 0 {
        row(&mut out, "payload", "(none)", "", "");
        return out;
    }
    let shown = if (preview.len() as u64) < len {
        format!(" (first {} of {len} bytes)", preview.len())
    } else {
        String::new()
    };
    let meaning = payload_meaning(header.opcode, preview, (preview.len() as u64) < len);
    match header.mask {
        Some(key) => {
            let mut masked: Vec<u8> = preview.to_vec();
            apply_mask(&mut masked, key, 0);
            hex_rows(
                &mut out,
                "payload",
                &masked,
                &format!("as sent (masked){shown}"),
            );
            hex_rows(&mut out, "unmasked", preview, &meaning);
        }
        None => {
            let note = if meaning.is_empty() {
                format!("not masked{shown}")
            } else {
                format!("not masked{shown}: {meaning}")
            };
            hex_rows(&mut out, "payload", preview, &note);
        }
    }
    out
}

/// Bytes as lowercase hex pairs separated by spaces: `81 85 37`.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, byte) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn hex_compact(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn arrow(direction: Direction) -> &'static str {
    match direction {
        Direction::Incoming => "<-",
        Direction::Outgoing => "->",
    }
}

fn byte_range(start: usize, count: usize) -> String {
    format!("bytes {start}-{}", start + count - 1)
}

/// One annotated line: label, hex, then the bits (if any) and meaning.
fn row(out: &mut String, label: &str, hex: &str, bits: &str, meaning: &str) {
    let line = if bits.is_empty() {
        format!("\n   {label:<11} {hex:<23} {meaning}")
    } else {
        format!("\n   {label:<11} {hex:<23} = {bits}: {meaning}")
    };
    out.push_str(line.trim_end());
}

/// Hex in rows of 8 bytes; the note goes on the first row.
fn hex_rows(out: &mut String, label: &str, bytes: &[u8], note: &str) {
    const PER_ROW: usize = 8;
    for (i, chunk) in bytes.chunks(PER_ROW).enumerate() {
        let label = if i == 0 { label } else { "" };
        let note = if i == 0 { note } else { "" };
        let line = format!("\n   {label:<11} {:<23} {note}", hex(chunk));
        out.push_str(line.trim_end());
    }
}

/// What an unmasked payload says: text as a quoted string, a Close
/// frame's code and reason (§5.5.1), nothing for binary.
fn payload_meaning(opcode: Opcode, payload: &[u8], cut: bool) -> String {
    let ellipsis = if cut { "..." } else { "" };
    match opcode {
        Opcode::Text | Opcode::Continuation | Opcode::Ping | Opcode::Pong => {
            match core::str::from_utf8(payload) {
                Ok(text) => format!("{text:?}{ellipsis}"),
                // A cut preview may end inside a character.
                Err(e) if cut && e.error_len().is_none() => {
                    let text = core::str::from_utf8(&payload[..e.valid_up_to()]).unwrap_or("");
                    format!("{text:?}{ellipsis}")
                }
                Err(_) if opcode == Opcode::Text => String::from("not UTF-8"),
                Err(_) => String::new(),
            }
        }
        Opcode::Close => match payload {
            [hi, lo, reason @ ..] => {
                let code = u16::from_be_bytes([*hi, *lo]);
                format!("code {code}, reason {:?}", String::from_utf8_lossy(reason))
            }
            [_] => String::from("a one-byte Close payload (invalid, §5.5.1)"),
            [] => String::new(),
        },
        Opcode::Binary => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sansio::frame::encode_frame;

    #[test]
    fn shows_direction_header_and_payload() {
        let header = FrameHeader::new(Opcode::Text, 5, Some([0x1a, 0x2b, 0x3c, 0x4d]));
        assert_eq!(
            format_frame(Direction::Outgoing, &header, b"hello"),
            "-> fin=1 rsv=000 op=TEXT mask=1a2b3c4d len=5 payload=\"hello\""
        );
        let header = FrameHeader::new(Opcode::Close, 5, None);
        assert_eq!(
            format_frame(Direction::Incoming, &header, b"\x03\xe8bye"),
            "<- fin=1 rsv=000 op=CLOSE mask=none len=5 code=1000 reason=\"bye\""
        );
        // A one-byte Close payload has no code: shown as it is.
        let header = FrameHeader::new(Opcode::Close, 1, None);
        assert_eq!(
            format_frame(Direction::Incoming, &header, &[0x03]),
            "<- fin=1 rsv=000 op=CLOSE mask=none len=1 payload=\"\\u{3}\""
        );
    }

    // The module documentation's example: RFC 6455 §5.7's masked "Hello".
    #[test]
    fn takes_the_rfc_masked_example_apart() {
        let header = FrameHeader::new(Opcode::Text, 5, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(
            format_frame_bytes(Direction::Outgoing, &header, b"Hello"),
            "-> TEXT frame: 6 header bytes, 5 payload bytes
   byte 0      81                      = 1 000 0001: FIN=1 RSV1=0 RSV2=0 RSV3=0 opcode=0x1 (TEXT)
   byte 1      85                      = 1 0000101: MASK=1, length 5 (7-bit form)
   bytes 2-5   37 fa 21 3d             masking key
   payload     7f 9f 4d 51 58          as sent (masked)
   unmasked    48 65 6c 6c 6f          \"Hello\""
        );
    }

    #[test]
    fn the_masked_bytes_are_the_bytes_on_the_wire() {
        let key = [0xa1, 0x02, 0xc3, 0x04];
        let payload: Vec<u8> = (0..40u8).collect();
        let header = FrameHeader::new(Opcode::Binary, 40, Some(key));
        let mut wire = Vec::new();
        encode_frame(&mut wire, &header, &payload);
        let text = format_frame_bytes(Direction::Incoming, &header, &payload);
        // The header bytes, in order, and the masked payload in rows of 16.
        assert!(
            text.contains(&format!("byte 0      {:02x} ", wire[0])),
            "{text}"
        );
        assert!(text.contains(&hex(&wire[2..6])), "{text}");
        for row in wire[6..].chunks(8) {
            assert!(text.contains(&hex(row)), "{text}");
        }
        for row in payload.chunks(8) {
            assert!(text.contains(&hex(row)), "{text}");
        }
        assert!(text.starts_with("<- BINARY frame: 6 header bytes, 40 payload bytes"));
    }

    #[test]
    fn shows_the_16_bit_and_64_bit_length_forms() {
        let header = FrameHeader::new(Opcode::Binary, 256, None);
        let text = format_frame_bytes(Direction::Incoming, &header, &[0; 64]);
        assert!(
            text.contains("byte 1      7e                      = 0 1111110: MASK=0, length 126: a 16-bit length follows"),
            "{text}"
        );
        assert!(
            text.contains(
                "bytes 2-3   01 00                   length 256 (16-bit form, big-endian)"
            ),
            "{text}"
        );
        assert!(
            text.contains("not masked (first 64 of 256 bytes)"),
            "{text}"
        );

        let header = FrameHeader::new(Opcode::Binary, 65536, Some([1, 2, 3, 4]));
        let text = format_frame_bytes(Direction::Outgoing, &header, &[0; 64]);
        assert!(
            text.contains("MASK=1, length 127: a 64-bit length follows"),
            "{text}"
        );
        assert!(
            text.contains(
                "bytes 2-9   00 00 00 00 00 01 00 00 length 65536 (64-bit form, big-endian)"
            ),
            "{text}"
        );
        assert!(text.contains("bytes 10-13 01 02 03 04"), "{text}");
        assert!(
            text.contains("as sent (masked) (first 64 of 65536 bytes)"),
            "{text}"
        );
    }

    #[test]
    fn shows_fin_rsv_and_control_payloads() {
        let mut header = FrameHeader::new(Opcode::Text, 3, None);
        header.fin = false;
        header.rsv = 0b100;
        let text = format_frame_bytes(Direction::Incoming, &header, b"Hel");
        assert!(
            text.contains("byte 0      41                      = 0 100 0001: FIN=0 RSV1=1 RSV2=0 RSV3=0 opcode=0x1 (TEXT)"),
            "{text}"
        );
        assert!(text.contains("not masked: \"Hel\""), "{text}");

        let header = FrameHeader::new(Opcode::Close, 5, None);
        let text = format_frame_bytes(Direction::Incoming, &header, b"\x03\xe8bye");
        assert!(text.contains("code 1000, reason \"bye\""), "{text}");

        let header = FrameHeader::new(Opcode::Ping, 0, None);
        let text = format_frame_bytes(Direction::Outgoing, &header, b"");
        assert!(text.ends_with("payload     (none)"), "{text}");
    }

    #[test]
    fn a_cut_preview_never_breaks_a_character() {
        // 63 ASCII bytes, then a 2-byte character cut after its first byte.
        let mut payload = alloc::vec![b'a'; 63];
        payload.extend_from_slice("é".as_bytes());
        let header = FrameHeader::new(Opcode::Text, 65, None);
        let text = format_frame_bytes(Direction::Incoming, &header, &payload[..64]);
        assert!(
            text.contains(&format!("\"{}\"...", "a".repeat(63))),
            "{text}"
        );
        let header = FrameHeader::new(Opcode::Text, 1, None);
        let text = format_frame_bytes(Direction::Incoming, &header, &[0xff]);
        assert!(text.contains("not UTF-8"), "{text}");
    }
}
