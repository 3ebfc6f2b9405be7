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

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
use plainws::Error;
use plainws::sansio::deflate::{Inflater, TAIL};

use crate::deflate_input::read_deflate_input;

const LIMIT: u64 = 1 << 20;

/// `miniz_oxide`'s answer for one message.
enum Reference {
    /// Done at the final block after the tail: the message's bytes.
    Done(Vec<u8>),
    /// Done at a BFINAL block inside the message: the bytes before it.
    EndedEarly(Vec<u8>),
    /// Refused, or the stream did not end at a block boundary.
    Failed,
}

/// A final empty fixed block, and a final empty stored block: after a
/// stream that ends on a block boundary, each ends it at once with no
/// output; after one that does not, they are read as more of a block and
/// (but for a freak of the data) give different results.
const ENDINGS: [&[u8]; 2] = [&[0x03, 0x00], &[0x01, 0x00, 0x00, 0xff, 0xff]];

/// Decodes `input` followed by `ending` with `miniz_oxide`, as a new
/// stream after `history` (the window). Returns the status, the input
/// used and the output.
fn run_miniz(input: &[u8], ending: &[u8], history: &[u8]) -> (TINFLStatus, usize, Vec<u8>) {
    let input = [input, ending].concat();
    let mut decompressor = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let start = history.len();
    let mut out = history.to_vec();
    out.resize(start + 64 * 1024, 0);
    let (mut in_pos, mut out_pos) = (0, start);
    loop {
        let (status, consumed, written) = decompress(
            &mut decompressor,
            &input[in_pos..],
            &mut out,
            out_pos,
            flags,
        );
        in_pos += consumed;
        out_pos += written;
        if status == TINFLStatus::HasMoreOutput && (out_pos - start) as u64 <= LIMIT {
            let len = out.len();
            out.resize(len * 2, 0);
            continue;
        }
        out.truncate(out_pos);
        return (status, in_pos, out.split_off(start));
    }
}

/// What `miniz_oxide` makes of one message (`input` is the payload and
/// the tail).
fn reference(input: &[u8], history: &[u8]) -> Reference {
    let (status, used, out) = run_miniz(input, ENDINGS[0], history);
    if status != TINFLStatus::Done {
        return Reference::Failed;
    }
    if used < input.len() {
        // A final block ended before the tail.
        return Reference::EndedEarly(out);
    }
    let (status, _, other) = run_miniz(input, ENDINGS[1], history);
    if status == TINFLStatus::Done && other == out {
        Reference::Done(out)
    } else {
        Reference::Failed
    }
}

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
        let theirs = reference(&input, &history);
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
