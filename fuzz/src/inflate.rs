//! `inflate`: any bytes as compressed messages (see `deflate_input.rs`).
//!
//! Asserts: no panic; every error is `InvalidCompressedData` (close code
//! 1007) or `MessageTooLarge` (1009, with the fuzzer's limit); no message
//! grows past the limit, its buffer included; the heap held while
//! inflating is at most the limit plus the window plus the tables (and
//! never depends on what the data declares); after an error every call
//! fails.

use plainws::Error;
use plainws::sansio::close::CloseCode;
use plainws::sansio::deflate::Inflater;

use crate::deflate_input::read_deflate_input;
use crate::targets::heap_peak;

/// What inflating a list of messages gave: each message's bytes up to the
/// first error, and that error.
#[derive(Debug)]
pub struct Inflated {
    pub messages: Vec<Vec<u8>>,
    pub error: Option<Error>,
}

/// Inflates `messages` with one inflater, each fed in the pieces `split`
/// gives, then finished. Stops at the first error.
pub fn inflate_messages(
    window_bits: u8,
    no_context_takeover: bool,
    limit: u64,
    messages: &[&[u8]],
    split: impl Fn(&[u8]) -> Vec<&[u8]>,
) -> Inflated {
    let mut inflater = Inflater::new(window_bits, no_context_takeover);
    let mut done = Vec::new();
    for message in messages {
        let mut out = Vec::new();
        let mut result = Ok(());
        for piece in split(message) {
            result = inflater.inflate(piece, &mut out, limit);
            if result.is_err() {
                break;
            }
        }
        if result.is_ok() {
            result = inflater.finish_message(&mut out, limit);
        }
        assert!(
            out.len() as u64 <= limit && out.capacity() as u64 <= limit.max(256),
            "a message of {} bytes (capacity {}) is over the limit {limit}",
            out.len(),
            out.capacity()
        );
        done.push(out);
        if let Err(error) = result {
            check_error(&error, limit);
            // An inflater that failed stays failed.
            let mut more = Vec::new();
            assert!(inflater.inflate(&[0], &mut more, limit).is_err());
            assert!(more.is_empty());
            return Inflated {
                messages: done,
                error: Some(error),
            };
        }
    }
    Inflated {
        messages: done,
        error: None,
    }
}

/// Whether `error` is one the inflater documents, with its close code.
pub fn check_error(error: &Error, limit: u64) {
    match error {
        Error::InvalidCompressedData(_) => {
            assert_eq!(error.close_code(), Some(CloseCode::INVALID_PAYLOAD));
        }
        Error::MessageTooLarge { len, limit: l } => {
            assert_eq!(*l, limit);
            assert!(*len > limit);
            assert_eq!(error.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        }
        other => panic!("undocumented inflate error {other:?}"),
    }
}

pub fn inflate(data: &[u8]) {
    let (setup, messages) = read_deflate_input(data);
    let (inflated, peak) = heap_peak(|| {
        inflate_messages(
            setup.window_bits,
            setup.no_context_takeover,
            setup.limit,
            &messages,
            |m| vec![m],
        )
    });
    if let Some(peak) = peak {
        // The window, the tables (about 7 KiB in a box), the messages
        // kept by this harness (each at most the limit, and at most 256
        // bytes of capacity when the limit is smaller) and the list of them.
        let window = 1usize << setup.window_bits;
        let kept: usize = inflated
            .messages
            .iter()
            .map(|m| m.capacity())
            .sum::<usize>();
        let bound = window + 16 * 1024 + kept + 64 * (messages.len() + 1) * 8;
        assert!(peak <= bound, "heap peak {peak} over {bound}");
    }
}
