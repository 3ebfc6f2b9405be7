//! Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).

use alloc::{borrow::ToOwned, string::String, vec::Vec};
use core::fmt;

use crate::error::{Error, Result};

/// A close status code (RFC 6455 §7.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: a message of a type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no code was present. Reported only, never sent (§7.4.1).
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: closed without a Close frame. Reported only, never sent (§7.4.1).
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: message data inconsistent with its type (text that is not UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message that violates the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);

    /// Whether this code may appear in a Close frame on the wire.
    ///
    /// RFC 6455 §7.4.1–§7.4.2 and the IANA registry: 1000–1003 and
    /// 1007–1014 are defined for sending; 3000–4999 belong to libraries and
    /// applications. 1004, 1005, 1006, 1015 and the rest of 0–2999 may not
    /// be sent.
    pub fn is_sendable(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The body of a Close frame: a code and a UTF-8 reason (RFC 6455 §5.5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8.
    pub reason: String,
}

/// The longest reason that fits a control frame: 125 bytes less the code.
pub const MAX_REASON_LEN: usize = 123;

impl CloseFrame {
    /// A close frame body; a reason over 123 bytes is cut on a character
    /// boundary so that the frame stays within 125 bytes (RFC 6455 §5.5).
    pub fn new(code: CloseCode, reason: &str) -> CloseFrame {
        CloseFrame {
            code,
            reason: truncate_reason(reason).to_owned(),
        }
    }

    /// Parses a received Close payload (RFC 6455 §5.5.1).
    ///
    /// Empty means no code (`Ok(None)`). "If there is a body, the first two
    /// bytes of the body MUST be a 2-byte unsigned integer": a one-byte body
    /// is a protocol error, as is a code that may not be sent. "The data
    /// ... is not guaranteed to be human readable" but it MUST be UTF-8
    /// (§5.5.1), so a bad reason is 1007.
    pub fn parse(payload: &[u8]) -> Result<Option<CloseFrame>> {
        match payload {
            [] => Ok(None),
            [_] => Err(Error::InvalidClosePayload),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_sendable() {
                    return Err(Error::InvalidCloseCode(code.0));
                }
                let reason = core::str::from_utf8(reason).map_err(|_| Error::InvalidUtf8)?;
                Ok(Some(CloseFrame {
                    code,
                    reason: reason.to_owned(),
                }))
            }
        }
    }

    /// Appends the wire form of this body: the code, big-endian, then the reason.
    pub fn write_payload(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.code.0.to_be_bytes());
        out.extend_from_slice(truncate_reason(&self.reason).as_bytes());
    }
}

/// Cuts `reason` to at most [`MAX_REASON_LEN`] bytes without splitting a character.
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sendable_codes_match_the_registry() {
        let sendable: Vec<u16> = (0..=5000).filter(|c| CloseCode(*c).is_sendable()).collect();
        let expected: Vec<u16> = (1000..=1003)
            .chain(1007..=1014)
            .chain(3000..=4999)
            .collect();
        assert_eq!(sendable, expected);
    }

    #[test]
    fn empty_payload_has_no_code() {
        assert_eq!(CloseFrame::parse(&[]).unwrap(), None);
    }

    #[test]
    fn one_byte_payload_is_a_protocol_error() {
        assert!(matches!(
            CloseFrame::parse(&[0x03]),
            Err(Error::InvalidClosePayload)
        ));
    }

    #[test]
    fn reserved_codes_are_rejected() {
        for code in [0u16, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
            let payload = code.to_be_bytes();
            assert!(
                matches!(CloseFrame::parse(&payload), Err(Error::InvalidCloseCode(c)) if c == code),
                "{code}"
            );
        }
    }

    #[test]
    fn reason_must_be_utf8() {
        assert!(matches!(
            CloseFrame::parse(&[0x03, 0xe8, 0xff]),
            Err(Error::InvalidUtf8)
        ));
        let ok = CloseFrame::parse(&[0x03, 0xe8, b'o', b'k'])
            .unwrap()
            .unwrap();
        assert_eq!(ok, CloseFrame::new(CloseCode::NORMAL, "ok"));
    }

    #[test]
    fn long_reason_is_cut_on_a_character_boundary() {
        // 61 two-byte characters = 122 bytes, then a three-byte one would end at 125.
        let reason = format!("{}€tail", "é".repeat(61));
        let cut = truncate_reason(&reason);
        assert_eq!(cut.len(), 122);
        assert!(reason.starts_with(cut));
        let mut payload = Vec::new();
        CloseFrame::new(CloseCode::NORMAL, &reason).write_payload(&mut payload);
        assert!(payload.len() <= 125);
    }
}
