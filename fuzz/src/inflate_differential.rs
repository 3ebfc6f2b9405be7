//! `inflate_differential`: the inflater against `miniz_oxide` (a
//! dependency of the fuzz crate only), on any bytes as compressed messages
//! (see `deflate_input.rs`; window bits 15, the limit at most 1 MiB).
//! Fuzz-only: not replayed by `cargo test`, which has no `miniz_oxide`.
//!
//! Each message is given to `miniz_oxide` as RFC 7692 §7.2.2 says (the
//! payload, then `00 00 ff ff`) followed by a final empty block, as a
//! new raw DEFLATE stream whose window is the earlier messages' output
//! (context takeover). It is run twice, with a final empty fixed block
//! and with a final empty stored block: both end the stream at once, with
//! the same output, only if the tail ended a block, which is what
//! `Inflater::finish_message` checks.
//!
//! Asserts: the same output when both accept; when one refuses, the other
//! refuses too, except for these documented strictness differences,
//! where plainws refuses and `miniz_oxide` accepts:
//!
//! 1. a block with BFINAL set inside the message: `miniz_oxide` ends the
//!    stream there and ignores the rest; plainws decodes the rest as a
//!    new stream (RFC 7692 §7.2.3.4), so it must give the same bytes
//!    first, then either more or an error;
//! 2. dynamic codes with more than 286 literal/length or 30 distance
//!    codes (RFC 1951 §3.2.6: those symbols "will never actually occur"),
//!    and incomplete codes other than a single one-bit code (zlib's rule);
//!
//! and the differences of limits: a message over 1 MiB is not compared.

use plainws::Error;
use plainws::sansio::deflate::{Inflater, TAIL};

use crate::deflate_input::read_deflate_input;
use crate::miniz_reference::{Reference, reference};

const LIMIT: u64 = 1 << 20;

pub fn inflate_differential(data: &[u8]) {
    let (_, messages) = read_deflate_input(data);
    let mut inflater = Inflater::new(15, false);
    let mut history = Vec::new();
    for message in messages {
        let mut out = Vec::new();
        let ours = inflater
            .inflate(message, &mut out, LIMIT)
            .and_then(|()| inflater.finish_message(&mut out, LIMIT));
        let input = [message, &TAIL[..]].concat();
        let theirs = reference(&input, &history, LIMIT);
        // The window for the next message: the last 32 KiB of output.
        history.extend_from_slice(&out);
        let excess = history.len().saturating_sub(32 * 1024);
        history.drain(..excess);
        match (&ours, theirs) {
            (Ok(()), Reference::Done(expected)) => {
                assert!(out == expected, "different output");
            }
            (Err(Error::MessageTooLarge { .. }), _) => return,
            (_, Reference::EndedEarly(expected)) if out.len() >= expected.len() => {
                // Difference 1: the same bytes up to the final block, then
                // plainws's new stream (which may fail).
                assert!(out.starts_with(&expected), "different output before BFINAL");
                return;
            }
            (Err(Error::InvalidCompressedData(why)), Reference::EndedEarly(expected)) => {
                // Difference 2 before the final block: refused part way.
                assert!(documented(why), "plainws refuses ({why}) before BFINAL");
                assert!(expected.starts_with(&out), "different output before {why}");
                return;
            }
            (_, Reference::EndedEarly(_)) => panic!("plainws stops short of BFINAL"),
            (Err(Error::InvalidCompressedData(_)), Reference::Failed) => return,
            (Err(Error::InvalidCompressedData(why)), Reference::Done(_)) => {
                // Difference 2.
                assert!(
                    documented(why),
                    "plainws refuses ({why}) what miniz_oxide accepts"
                );
                return;
            }
            (Ok(()), Reference::Failed) => {
                panic!("plainws accepts what miniz_oxide refuses")
            }
            (Err(other), _) => panic!("undocumented error {other:?}"),
        }
    }
}

/// Whether plainws's refusal is one of the documented strictness
/// differences (2. above).
fn documented(why: &str) -> bool {
    why.contains("more than 286") || why.contains("more than 30") || why.contains("incomplete")
}
