//! The inflater against RFC 7692 §7.2.3's examples, hand-made streams for
//! each RFC 1951 rule, every split point, and the message limit.

use super::*;
use crate::sansio::deflate::tables::{DIST_BASE, DIST_EXTRA};
use alloc::vec::Vec;

const NO_LIMIT: u64 = u64::MAX;

/// Inflates one message given whole, then its tail.
fn message(inflater: &mut Inflater, payload: &[u8], limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    inflater.inflate(payload, &mut out, limit)?;
    inflater.finish_message(&mut out, limit)?;
    Ok(out)
}

fn inflate_one(payload: &[u8]) -> Result<Vec<u8>> {
    message(&mut Inflater::new(15, false), payload, NO_LIMIT)
}

fn corrupt_with(payload: &[u8]) -> &'static str {
    match inflate_one(payload) {
        Err(Error::InvalidCompressedData(why)) => why,
        other => panic!("expected corrupt data, got {other:?}"),
    }
}

/// RFC 7692 §7.2.3.1: "Hello" compressed, a fixed Huffman block then the
/// start of the empty stored block.
const HELLO: [u8; 7] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

#[test]
fn inflates_the_rfc_7692_hello() {
    assert_eq!(inflate_one(&HELLO).unwrap(), b"Hello");
}

#[test]
fn second_hello_with_context_takeover_refers_to_the_first() {
    // §7.2.3.2: the second "Hello" is a back-reference into the first.
    let mut inflater = Inflater::new(15, false);
    assert_eq!(message(&mut inflater, &HELLO, NO_LIMIT).unwrap(), b"Hello");
    let second = [0xf2, 0x00, 0x11, 0x00, 0x00];
    assert_eq!(message(&mut inflater, &second, NO_LIMIT).unwrap(), b"Hello");
}

#[test]
fn without_context_takeover_a_reference_to_the_last_message_is_corrupt() {
    let mut inflater = Inflater::new(15, true);
    assert_eq!(message(&mut inflater, &HELLO, NO_LIMIT).unwrap(), b"Hello");
    let second = [0xf2, 0x00, 0x11, 0x00, 0x00];
    assert!(matches!(
        message(&mut inflater, &second, NO_LIMIT),
        Err(Error::InvalidCompressedData("distance too far back"))
    ));
}

#[test]
fn inflates_the_stored_block_form() {
    // §7.2.3.3: "Hello" in a stored block (no compression).
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(inflate_one(&stored).unwrap(), b"Hello");
}

#[test]
fn inflates_a_final_block_followed_by_the_sync_flush() {
    // §7.2.3.4: a fixed block with BFINAL set, then a byte holding the
    // empty stored block's header.
    let payload = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    assert_eq!(inflate_one(&payload).unwrap(), b"Hello");
}

#[test]
fn an_empty_message_is_one_zero_byte() {
    // §7.2.3.6: the empty stored block alone.
    assert_eq!(inflate_one(&[0x00]).unwrap(), b"");
}

#[test]
fn inflates_two_blocks_in_one_message() {
    // §7.2.3.5: "He" and "llo" in two fixed blocks.
    let payload = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(inflate_one(&payload).unwrap(), b"Hello");
}

#[test]
fn every_split_point_gives_the_same_output() {
    let payload = [
        0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    for cut in 0..=payload.len() {
        for second_cut in cut..=payload.len() {
            let mut inflater = Inflater::new(15, false);
            let mut out = Vec::new();
            inflater
                .inflate(&payload[..cut], &mut out, NO_LIMIT)
                .unwrap();
            inflater
                .inflate(&payload[cut..second_cut], &mut out, NO_LIMIT)
                .unwrap();
            inflater
                .inflate(&payload[second_cut..], &mut out, NO_LIMIT)
                .unwrap();
            inflater.finish_message(&mut out, NO_LIMIT).unwrap();
            assert_eq!(out, b"Hello", "cut at {cut} and {second_cut}");
        }
    }
}

#[test]
fn one_byte_at_a_time_gives_the_same_output() {
    let mut inflater = Inflater::new(15, false);
    for _ in 0..3 {
        let mut out = Vec::new();
        for &byte in &HELLO {
            inflater.inflate(&[byte], &mut out, NO_LIMIT).unwrap();
        }
        inflater.finish_message(&mut out, NO_LIMIT).unwrap();
        assert_eq!(out, b"Hello");
    }
}

#[test]
fn refuses_block_type_3() {
    // BFINAL 0, BTYPE 11.
    assert_eq!(corrupt_with(&[0b110]), "block type 3 is reserved");
}

#[test]
fn refuses_a_stored_length_that_does_not_match_its_complement() {
    let payload = [
        0x00, 0x05, 0x00, 0xfa, 0xfe, b'H', b'e', b'l', b'l', b'o', 0x00,
    ];
    assert_eq!(
        corrupt_with(&payload),
        "stored block length does not match its complement"
    );
}

/// A dynamic block header: HLIT, HDIST, HCLEN, then the code-length code
/// lengths given, written LSB first.
fn dynamic_header(hlit: u32, hdist: u32, code_length_lengths: &[u32]) -> Vec<u8> {
    let mut w = Bits::default();
    w.put(0b100, 3); // BFINAL 0, BTYPE 10
    w.put(hlit - 257, 5);
    w.put(hdist - 1, 5);
    w.put(code_length_lengths.len() as u32 - 4, 4);
    for &len in code_length_lengths {
        w.put(len, 3);
    }
    w.finish()
}

#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.bytes.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            self.bytes.push(self.acc as u8);
        }
        self.bytes
    }
}

#[test]
fn refuses_an_over_subscribed_code_length_code() {
    // Three code-length codes of one bit.
    let payload = dynamic_header(257, 1, &[1, 1, 1, 0]);
    assert_eq!(corrupt_with(&payload), "over-subscribed code-length code");
}

#[test]
fn refuses_an_incomplete_code_length_code() {
    // Two codes of two bits leave half the code space unused.
    let payload = dynamic_header(257, 1, &[2, 2, 0, 0]);
    assert_eq!(corrupt_with(&payload), "incomplete code-length code");
}

#[test]
fn refuses_too_many_literal_length_codes() {
    let payload = dynamic_header(287, 1, &[1, 1, 0, 0]);
    assert_eq!(corrupt_with(&payload), "more than 286 literal/length codes");
}

#[test]
fn refuses_a_repeat_with_no_previous_length() {
    // Code-length symbols 16 and 17 get 1-bit codes (16: "0", 17: "1");
    // the first length is a repeat of nothing.
    let mut w = Bits::default();
    w.put(0b100, 3);
    w.put(0, 5);
    w.put(0, 5);
    w.put(0, 4); // HCLEN 4: symbols 16, 17, 18, 0
    for len in [1, 1, 0, 0] {
        w.put(len, 3);
    }
    w.put(0, 1); // symbol 16
    w.put(0, 2);
    assert_eq!(
        corrupt_with(&w.finish()),
        "code length 16 with no previous length"
    );
}

#[test]
fn refuses_a_code_without_end_of_block() {
    // Code-length symbols 17 ("0") and 18 ("1") only; two runs of zeros
    // (138 and 120) cover all 257 + 1 lengths, so symbol 256 has no code.
    let mut w = Bits::default();
    w.put(0b100, 3);
    w.put(0, 5); // HLIT 257
    w.put(0, 5); // HDIST 1
    w.put(0, 4); // HCLEN 4: symbols 16, 17, 18, 0
    for len in [0, 1, 1, 0] {
        w.put(len, 3);
    }
    w.put(1, 1);
    w.put(138 - 11, 7);
    w.put(1, 1);
    w.put(120 - 11, 7);
    assert_eq!(corrupt_with(&w.finish()), "no code for end-of-block");
}

#[test]
fn refuses_a_distance_past_the_start() {
    // Fixed block: literal 'a', then length 3 at distance 2 (only 1 byte seen).
    let mut w = Bits::default();
    w.put(0b010, 3);
    put_fixed_literal(&mut w, b'a');
    put_fixed_match(&mut w, 3, 2);
    w.put(0, 7); // end of block
    w.put(0, 3); // the empty stored block
    assert_eq!(corrupt_with(&w.finish()), "distance too far back");
}

#[test]
fn refuses_a_distance_past_the_window() {
    // 300 bytes, then a reference 257 back with a window of 2^8.
    let mut w = Bits::default();
    w.put(0b010, 3);
    for i in 0..300u32 {
        put_fixed_literal(&mut w, (i % 251) as u8);
    }
    put_fixed_match(&mut w, 3, 257);
    w.put(0, 7);
    w.put(0, 3);
    let payload = w.finish();
    let mut small = Inflater::new(8, false);
    assert!(matches!(
        message(&mut small, &payload, NO_LIMIT),
        Err(Error::InvalidCompressedData("distance too far back"))
    ));
    // A window of 2^9 allows it.
    let mut large = Inflater::new(9, false);
    assert_eq!(message(&mut large, &payload, NO_LIMIT).unwrap().len(), 303);
}

/// Writes a literal with the fixed code (§3.2.6).
fn put_fixed_literal(w: &mut Bits, byte: u8) {
    let (code, len) = if byte < 144 {
        (0x30 + u32::from(byte), 8)
    } else {
        (0x190 + u32::from(byte) - 144, 9)
    };
    w.put(reverse_bits(code, len), len);
}

/// Writes a match of length 3..=10 at a distance 1..=512 with the fixed codes.
fn put_fixed_match(w: &mut Bits, length: u32, distance: u32) {
    assert!((3..=10).contains(&length));
    w.put(reverse_bits(length - 2, 7), 7); // symbols 257..=264, codes 1..=8
    let symbol = crate::sansio::deflate::tables::dist_symbol(distance as usize);
    w.put(reverse_bits(symbol as u32, 5), 5);
    let base = u32::from(DIST_BASE[symbol]);
    w.put(distance - base, u32::from(DIST_EXTRA[symbol]));
}

fn reverse_bits(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

#[test]
fn refuses_a_message_that_ends_inside_a_block() {
    // "Hello" without its end-of-block code and the stored block.
    assert!(matches!(
        inflate_one(&HELLO[..5]),
        Err(Error::InvalidCompressedData(_))
    ));
    // A message that kept the tail it should have removed.
    let mut kept = HELLO.to_vec();
    kept.extend_from_slice(&TAIL);
    assert!(matches!(
        inflate_one(&kept),
        Err(Error::InvalidCompressedData(_))
    ));
}

#[test]
fn fails_at_the_first_byte_over_the_limit() {
    // A stored block of 1,000 zeros, then references that copy them: a
    // few KiB that inflate to 258 bytes per 2 bytes of input.
    let mut w = Bits::default();
    w.put(0b010, 3);
    put_fixed_literal(&mut w, 0);
    for _ in 0..4000 {
        // Length 258 (symbol 285, code 11000101) at distance 1.
        w.put(reverse_bits(0b1100_0101, 8), 8);
        w.put(0, 5);
    }
    w.put(0, 7);
    w.put(0, 3);
    let bomb = w.finish();
    assert!(bomb.len() < 8 * 1024);
    let limit = 100_000;
    let mut inflater = Inflater::new(15, false);
    let mut out = Vec::new();
    let err = inflater.inflate(&bomb, &mut out, limit).unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { limit: 100_000, .. }),
        "{err:?}"
    );
    assert!(out.len() as u64 <= limit);
    assert!(out.len() as u64 > limit - 258);
    assert!(
        out.capacity() as u64 <= limit,
        "capacity {}",
        out.capacity()
    );
    assert!(out.iter().all(|&b| b == 0));
    // The same with the limit exactly met succeeds.
    let exact = 1 + 4000 * 258;
    let mut inflater = Inflater::new(15, false);
    assert_eq!(
        message(&mut inflater, &bomb, exact).unwrap().len() as u64,
        exact
    );
    let mut inflater = Inflater::new(15, false);
    assert!(matches!(
        message(&mut inflater, &bomb, exact - 1),
        Err(Error::MessageTooLarge { .. })
    ));
}

#[test]
fn the_limit_counts_the_whole_message_across_pieces() {
    let stored = [
        0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    let mut inflater = Inflater::new(15, false);
    let mut out = Vec::new();
    inflater.inflate(&stored[..8], &mut out, 4).unwrap();
    assert_eq!(out, b"Hel");
    let err = inflater.inflate(&stored[8..], &mut out, 4).unwrap_err();
    assert!(matches!(err, Error::MessageTooLarge { len: 5, limit: 4 }));
    // The fourth byte fits; the fifth is refused before it is written.
    assert_eq!(out, b"Hell");
}

#[test]
fn is_unusable_after_an_error() {
    let mut inflater = Inflater::new(15, false);
    let mut out = Vec::new();
    assert!(inflater.inflate(&[0b110], &mut out, NO_LIMIT).is_err());
    assert!(inflater.inflate(&HELLO, &mut out, NO_LIMIT).is_err());
    inflater.reset();
    assert_eq!(message(&mut inflater, &HELLO, NO_LIMIT).unwrap(), b"Hello");
}

#[test]
fn corrupt_data_closes_with_1007() {
    let err = inflate_one(&[0b110]).unwrap_err();
    assert_eq!(
        err.close_code(),
        Some(crate::sansio::close::CloseCode::INVALID_PAYLOAD)
    );
    assert_eq!(
        alloc::format!("{err}"),
        "compressed message is corrupt: block type 3 is reserved"
    );
}

#[test]
fn the_fuzz_seeds_fail_as_named() {
    // The bytes of `fuzz/corpus/inflate/seed-oversubscribed-code-lengths`
    // and `seed-distance-too-far` (tests/fuzz_corpus.rs).
    assert_eq!(
        corrupt_with(&[0x04, 0x00, 0x92, 0x00]),
        "over-subscribed code-length code"
    );
    assert_eq!(
        corrupt_with(&[0x4a, 0x04, 0x42, 0x00, 0x00]),
        "distance too far back"
    );
}

#[test]
fn a_tail_read_as_more_of_a_block_is_refused() {
    // Found by the `inflate_differential` fuzz target: an empty stored
    // block, then a fixed block ("lo") that has no end: the tail
    // `00 00 ff ff` is decoded as more symbols, and the message does not
    // end on a block boundary.
    let payload = [0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0x07, 0x6c];
    assert_eq!(
        corrupt_with(&payload),
        "the message does not end with an empty stored block (RFC 7692 §7.2.1)"
    );
}
