//! Incremental UTF-8 validation (RFC 6455 §5.6, §8.1).
//!
//! Low level, for study, fuzzing and custom drivers: applications get
//! validated text as [`Message::Text`](crate::Message::Text) from
//! [`Receiver::recv`](crate::Receiver::recv).
//!
//! A Text message arrives in pieces: across reads, across fragments, with a
//! character split anywhere. [`Utf8Validator`] takes the pieces in order,
//! appends the valid text to a `String` as it goes, and reports the first
//! invalid byte as soon as it arrives ("fail fast": Autobahn 6.4.x), while
//! an incomplete character at the end of a piece is held until the next.
//!
//! The heavy lifting is `core::str::from_utf8`, whose ASCII fast path is hard
//! to beat; this module only stitches characters across piece boundaries.

use alloc::string::String;
use core::str;

/// The first invalid byte of a stream, at `valid_up_to` bytes from its start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    /// Bytes of the whole stream that were valid before the error.
    pub valid_up_to: usize,
}

/// Validates a byte stream fed in pieces, building the decoded text.
#[derive(Debug, Default, Clone)]
pub struct Utf8Validator {
    /// The start of a character whose remaining bytes have not arrived.
    pending: [u8; 4],
    pending_len: usize,
    /// Bytes of the stream accepted so far, `pending` included.
    consumed: usize,
}

impl Utf8Validator {
    /// A validator at the start of a stream.
    pub fn new() -> Utf8Validator {
        Utf8Validator::default()
    }

    /// Validates the next piece and appends its complete characters to `out`.
    ///
    /// Bytes that may still begin a valid character are held back. On error
    /// `out` holds the text up to the last complete character before it.
    pub fn feed(&mut self, piece: &[u8], out: &mut String) -> Result<(), Utf8Error> {
        let piece = match self.pending_len {
            0 => piece,
            _ => self.complete_pending(piece, Some(&mut *out))?,
        };
        let text = self.validate_body(piece, Some(&mut *out))?;
        out.push_str(text);
        Ok(())
    }

    /// Validates the next piece without keeping the text.
    pub fn check(&mut self, piece: &[u8]) -> Result<(), Utf8Error> {
        let piece = match self.pending_len {
            0 => piece,
            _ => self.complete_pending(piece, None)?,
        };
        self.validate_body(piece, None).map(|_| ())
    }

    /// Validates `piece` in one pass of `core::str::from_utf8`: everything up
    /// to a truncated last character, which is checked as far as it goes
    /// and held in `pending`. Only on error is the valid prefix validated
    /// again, to hand it to `out`.
    fn validate_body<'a>(
        &mut self,
        piece: &'a [u8],
        out: Option<&mut String>,
    ) -> Result<&'a str, Utf8Error> {
        let (body, tail) = piece.split_at(incomplete_tail_start(piece));
        let text = match str::from_utf8(body) {
            Ok(text) => text,
            Err(e) => {
                let valid = &body[..e.valid_up_to()];
                if let Some(out) = out {
                    out.push_str(str::from_utf8(valid).unwrap_or_default());
                }
                self.consumed += valid.len();
                return Err(self.error_here());
            }
        };
        self.consumed += body.len();
        if !tail.is_empty() {
            match str::from_utf8(tail) {
                // A proper prefix of a character: wait for the rest.
                Err(e) if e.valid_up_to() == 0 && e.error_len().is_none() => {
                    self.pending[..tail.len()].copy_from_slice(tail);
                    self.pending_len = tail.len();
                    self.consumed += tail.len();
                }
                // Already invalid (or, impossibly, complete): fail here.
                _ => {
                    if let Some(out) = out {
                        out.push_str(text);
                    }
                    return Err(self.error_here());
                }
            }
        }
        Ok(text)
    }

    /// Checks that the stream did not end inside a character.
    pub fn finish(&self) -> Result<(), Utf8Error> {
        if self.pending_len == 0 {
            Ok(())
        } else {
            Err(Utf8Error {
                valid_up_to: self.consumed - self.pending_len,
            })
        }
    }

    /// Whether the stream so far ends between characters.
    pub fn is_complete(&self) -> bool {
        self.pending_len == 0
    }

    /// Forgets everything, ready for a new stream.
    pub fn reset(&mut self) {
        *self = Utf8Validator::default();
    }

    /// Takes bytes from `piece` to finish the held character; returns the rest.
    fn complete_pending<'a>(
        &mut self,
        piece: &'a [u8],
        out: Option<&mut String>,
    ) -> Result<&'a [u8], Utf8Error> {
        let start = self.consumed - self.pending_len;
        let mut taken = 0;
        while self.pending_len < 4 && taken < piece.len() {
            self.pending[self.pending_len] = piece[taken];
            self.pending_len += 1;
            taken += 1;
            match str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(ch) => {
                    if let Some(out) = out {
                        out.push_str(ch);
                    }
                    self.pending_len = 0;
                    self.consumed += taken;
                    return Ok(&piece[taken..]);
                }
                Err(e) if e.error_len().is_some() => {
                    return Err(Utf8Error { valid_up_to: start });
                }
                Err(_) => {}
            }
        }
        // Still incomplete: the whole piece went into `pending`.
        self.consumed += taken;
        Ok(&piece[taken..])
    }

    fn error_here(&self) -> Utf8Error {
        Utf8Error {
            valid_up_to: self.consumed,
        }
    }
}

/// Where a character cut off by the end of `piece` starts, or
/// `piece.len()` when the last character is complete (or invalid: the
/// validator then reports it). A character is at most four bytes, so at
/// most three are looked at.
fn incomplete_tail_start(piece: &[u8]) -> usize {
    let len = piece.len();
    for back in 1..=len.min(3) {
        let byte = piece[len - back];
        if byte & 0xC0 != 0x80 {
            let needed = match byte {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if back < needed { len - back } else { len };
        }
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes` in pieces of `size` and returns the outcome.
    fn feed_in_pieces(bytes: &[u8], size: usize) -> Result<String, Utf8Error> {
        let mut validator = Utf8Validator::new();
        let mut out = String::new();
        for piece in bytes.chunks(size.max(1)) {
            validator.feed(piece, &mut out)?;
        }
        validator.finish()?;
        Ok(out)
    }

    fn agree_with_std(bytes: &[u8]) {
        let expected = str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|e| e.valid_up_to());
        for size in 1..=bytes.len().max(1) {
            let got = feed_in_pieces(bytes, size).map_err(|e| e.valid_up_to);
            assert_eq!(got, expected, "{bytes:x?} in pieces of {size}");
        }
    }

    #[test]
    fn valid_text_in_any_pieces() {
        agree_with_std("κόσμε — hello 𝄞 €".as_bytes());
        agree_with_std(b"");
    }

    #[test]
    fn invalid_bytes_are_found_where_std_finds_them() {
        let cases: &[&[u8]] = &[
            b"\xff",
            b"ab\xc0\xaf",       // overlong '/'
            b"\xed\xa0\x80",     // surrogate U+D800
            b"\xf4\x90\x80\x80", // above U+10FFFF
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",
            b"\xe2\x82",      // truncated at the end
            b"a\xf0\x9d\x84", // truncated four-byte
            b"\xe2\x28\xa1",  // bad second byte
            b"\x80",          // lone continuation
        ];
        for case in cases {
            agree_with_std(case);
        }
    }

    #[test]
    fn fails_at_the_first_bad_byte_before_the_stream_ends() {
        let mut validator = Utf8Validator::new();
        let mut out = String::new();
        assert!(validator.feed("héllo".as_bytes(), &mut out).is_ok());
        let err = validator.feed(b"\xed\xa0", &mut out).unwrap_err();
        assert_eq!(err.valid_up_to, "héllo".len());
    }

    #[test]
    fn every_byte_pair_agrees_with_std() {
        for a in 0..=255u8 {
            for b in [0x00, 0x41, 0x80, 0x9f, 0xa0, 0xbf, 0xc0, 0xe0, 0xf0, 0xff] {
                agree_with_std(&[a, b, 0x80, 0x80]);
            }
        }
    }
}
