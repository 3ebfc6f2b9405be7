//! The reference inflater of `inflate_differential` and `connection`:
//! `miniz_oxide` (a dependency of the fuzz crate only) fed one
//! permessage-deflate message as RFC 7692 §7.2.2 says, as a raw DEFLATE
//! stream after the window of the messages before it. The main crate's
//! replay (`tests/fuzz_corpus.rs`), which has no `miniz_oxide`, declares
//! `no_miniz_reference.rs` under this module's name instead.

use miniz_oxide::inflate::TINFLStatus;
use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};

/// `miniz_oxide`'s answer for one message.
pub enum Reference {
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
fn run_miniz(
    input: &[u8],
    ending: &[u8],
    history: &[u8],
    limit: u64,
) -> (TINFLStatus, usize, Vec<u8>) {
    let input = [input, ending].concat();
    let mut decompressor = DecompressorOxide::new();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let start = history.len();
    let mut out = history.to_vec();
    out.resize(start + initial_room(limit), 0);
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
        if status == TINFLStatus::HasMoreOutput && (out_pos - start) as u64 <= limit {
            let len = out.len();
            out.resize(len * 2, 0);
            continue;
        }
        out.truncate(out_pos);
        return (status, in_pos, out.split_off(start));
    }
}

/// What `miniz_oxide` makes of one message (`input` is the payload and
/// the tail) after `history`, stopping once the output is over `limit`
/// (then `Failed`).
pub fn reference(input: &[u8], history: &[u8], limit: u64) -> Reference {
    let (status, used, out) = run_miniz(input, ENDINGS[0], history, limit);
    if status != TINFLStatus::Done {
        return Reference::Failed;
    }
    if used < input.len() {
        // A final block ended before the tail.
        return Reference::EndedEarly(out);
    }
    let (status, _, other) = run_miniz(input, ENDINGS[1], history, limit);
    if status == TINFLStatus::Done && other == out {
        Reference::Done(out)
    } else {
        Reference::Failed
    }
}

/// As [`reference`], for a message plainws accepted (so one that ends on
/// a block boundary, if plainws is right): one run, with the final fixed
/// block, whose output is then compared with plainws's. Half the cost
/// (`miniz_oxide` builds its tables anew for every block). `Done` is
/// only a candidate: a stream not at a block boundary that the final
/// block happens to end gives other bytes than plainws's. Always `Some`
/// here (`None` is the corpus replay's answer: `no_miniz_reference.rs`).
pub fn reference_once(input: &[u8], history: &[u8], limit: u64) -> Option<Reference> {
    let (status, used, out) = run_miniz(input, ENDINGS[0], history, limit);
    Some(if status != TINFLStatus::Done {
        Reference::Failed
    } else if used < input.len() {
        Reference::EndedEarly(out)
    } else {
        Reference::Done(out)
    })
}

/// The output room to start with: enough for `limit` and one byte more
/// (so that going over it shows), at most 64 KiB (more is grown into).
fn initial_room(limit: u64) -> usize {
    usize::try_from(limit.saturating_add(1)).map_or(64 << 10, |room| room.clamp(64, 64 << 10))
}
