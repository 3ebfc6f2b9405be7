//! `utf8`: the incremental UTF-8 validator in any chunking against
//! `std::str::from_utf8`.

use std::str;

use plainws::sansio::utf8::Utf8Validator;

use super::input::{Input, pieces};

/// The incremental validator fed in fuzzer-chosen pieces agrees with
/// `std::str::from_utf8` on the whole input.
///
/// Input: a list of up to 8 piece sizes, then the bytes.
pub fn utf8(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.list(8);
    let bytes = input.rest();
    let expected = str::from_utf8(bytes);

    let mut validator = Utf8Validator::new();
    let mut out = String::new();
    let mut fed = 0;
    // The error, and where the piece that raised it started.
    let mut failed = None;
    for piece in pieces(bytes, &sizes) {
        match validator.feed(piece, &mut out) {
            Ok(()) => {
                fed += piece.len();
                // The text so far is the input's complete characters.
                assert_eq!(out.as_bytes(), &bytes[..out.len()]);
                assert!(fed - out.len() < 4, "held back {} bytes", fed - out.len());
                assert_eq!(validator.is_complete(), fed == out.len());
            }
            Err(e) => {
                failed = Some((e, fed));
                break;
            }
        }
    }
    match expected {
        Ok(text) => {
            assert_eq!(failed, None);
            assert_eq!(validator.finish(), Ok(()));
            assert_eq!(out, text);
        }
        Err(std_error) => {
            let valid_up_to = std_error.valid_up_to();
            match std_error.error_len() {
                Some(bad_len) => {
                    let (error, piece_start) =
                        failed.expect("std found an error, the validator none");
                    assert_eq!(error.valid_up_to, valid_up_to);
                    // Fail fast: raised by the piece that holds the byte
                    // that decides, never later.
                    let deciding = (valid_up_to + bad_len).min(bytes.len() - 1);
                    assert!(piece_start <= deciding, "error raised late");
                }
                None => {
                    assert_eq!(failed, None, "a cut character is not an error yet");
                    let error = validator
                        .finish()
                        .expect_err("stream ends inside a character");
                    assert_eq!(error.valid_up_to, valid_up_to);
                }
            }
            assert_eq!(out.as_bytes(), &bytes[..valid_up_to]);
        }
    }
}
