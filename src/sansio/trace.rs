//! One line of text per frame, for a [`Tracer`](crate::Tracer).
//!
//! ```text
//! -> fin=1 rsv=000 op=TEXT mask=1a2b3c4d len=5 payload="hello"
//! <- fin=1 rsv=000 op=TEXT mask=none len=5 payload="hello"
//! ```

use crate::sansio::config::Direction;
use crate::sansio::frame::FrameHeader;
use alloc::{format, string::String};

/// Formats a traced frame: `->` for outgoing, `<-` for incoming, the
/// header's fields (RFC 6455 §5.2) and the payload preview, lossily as text.
pub fn format_frame(direction: Direction, header: &FrameHeader, preview: &[u8]) -> String {
    let arrow = match direction {
        Direction::Incoming => "<-",
        Direction::Outgoing => "->",
    };
    let mask = header.mask.map_or("none".into(), |k| {
        format!("{:02x}{:02x}{:02x}{:02x}", k[0], k[1], k[2], k[3])
    });
    format!(
        "{arrow} fin={} rsv={:03b} op={} mask={mask} len={} payload={:?}",
        u8::from(header.fin),
        header.rsv,
        header.opcode,
        header.payload_len,
        String::from_utf8_lossy(preview),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sansio::frame::Opcode;

    #[test]
    fn shows_direction_header_and_payload() {
        let header = FrameHeader::new(Opcode::Text, 5, Some([0x1a, 0x2b, 0x3c, 0x4d]));
        assert_eq!(
            format_frame(Direction::Outgoing, &header, b"hello"),
            "-> fin=1 rsv=000 op=TEXT mask=1a2b3c4d len=5 payload=\"hello\""
        );
        let header = FrameHeader::new(Opcode::Close, 2, None);
        assert_eq!(
            format_frame(Direction::Incoming, &header, &[0x03, 0xE8]),
            "<- fin=1 rsv=000 op=CLOSE mask=none len=2 payload=\"\\u{3}\u{fffd}\""
        );
    }
}
