//! `deflate_roundtrip`: messages compressed by the `Deflater` and
//! inflated by an `Inflater` with the same window bits and context
//! setting (see `deflate_input.rs`; a message's first byte, when bit 4 of
//! byte 0 is set, says how many times to repeat the rest, to make long
//! and repetitive messages from short inputs).
//!
//! Asserts: every message comes back equal, inflated whole and one byte
//! at a time (so no match reaches past the window: the inflater refuses
//! those); the compressed size is at most the stored form's (5 bytes per
//! 16 KiB block and the final byte); with `no_context_takeover` a message
//! compresses the same whatever came before.

use plainws::sansio::deflate::{Deflater, Inflater};

use crate::deflate_input::read_deflate_input;

pub fn deflate_roundtrip(data: &[u8]) {
    let (setup, raw) = read_deflate_input(data);
    let messages: Vec<Vec<u8>> = raw
        .iter()
        .map(|m| match (setup.extra & 1 == 1, m.split_first()) {
            (true, Some((&repeat, rest))) => rest.repeat(usize::from(repeat) + 1),
            _ => m.to_vec(),
        })
        .collect();
    let bits = setup.window_bits;
    let reset = setup.no_context_takeover;
    let mut deflater = Deflater::new(bits, reset);
    let mut fresh = Deflater::new(bits, reset);
    let mut whole = Inflater::new(bits, reset);
    let mut bytewise = Inflater::new(bits, reset);
    for message in &messages {
        let mut compressed = Vec::new();
        deflater.compress_message(message, &mut compressed);
        let stored = message.len() + 5 * message.len().div_ceil(16 * 1024) + 1;
        assert!(
            compressed.len() <= stored,
            "{} bytes compressed to {}",
            message.len(),
            compressed.len()
        );
        if reset {
            let mut alone = Vec::new();
            fresh.reset();
            fresh.compress_message(message, &mut alone);
            assert_eq!(alone, compressed);
        }
        let mut out = Vec::new();
        whole
            .inflate(&compressed, &mut out, u64::MAX)
            .expect("inflate");
        whole.finish_message(&mut out, u64::MAX).expect("finish");
        assert!(out == *message, "whole: not the same message back");
        let mut out = Vec::new();
        for byte in &compressed {
            bytewise
                .inflate(std::slice::from_ref(byte), &mut out, u64::MAX)
                .expect("inflate a byte");
        }
        bytewise.finish_message(&mut out, u64::MAX).expect("finish");
        assert!(out == *message, "byte by byte: not the same message back");
    }
}
