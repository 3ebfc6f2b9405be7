//! The deflater against RFC 7692 §7.2.3's bytes, and round trips through
//! the deflater and the inflater at every window size, with and without
//! context takeover, inflated whole and in pieces.

use alloc::vec::Vec;

use super::*;
use crate::error::Error;

/// A small deterministic generator (xorshift64*), for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// JSON-like text: records with repeated keys and varying values.
fn json(records: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed | 1);
    let mut text = alloc::string::String::from("[");
    for i in 0..records {
        let id = rng.next() % 100_000;
        let score = rng.next() % 1000;
        let name = ["alice", "bob", "carol", "dave", "erin"][(rng.next() % 5) as usize];
        text.push_str(&alloc::format!(
            r#"{{"id":{id},"name":"{name}","score":{score},"tags":["a","b"],"active":{}}}"#,
            i % 2 == 0
        ));
        if i + 1 < records {
            text.push(',');
        }
    }
    text.push(']');
    text.into_bytes()
}

fn compress(deflater: &mut Deflater, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    deflater.compress_message(payload, &mut out);
    out
}

/// Inflates one message, fed in pieces of `piece` bytes.
fn inflate(inflater: &mut Inflater, payload: &[u8], piece: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for part in payload.chunks(piece.max(1)) {
        inflater.inflate(part, &mut out, u64::MAX).unwrap();
    }
    inflater.finish_message(&mut out, u64::MAX).unwrap();
    out
}

#[test]
fn compresses_hello_as_rfc_7692_shows() {
    // §7.2.3.1.
    let mut deflater = Deflater::new(15, false);
    assert_eq!(
        compress(&mut deflater, b"Hello"),
        [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
    );
    // §7.2.3.2: with context takeover the second refers to the first.
    // The RFC's encoder wrote "H" as a literal and "ello" as a match
    // (`f2 00 11 00 00`); this one finds all five bytes: length 5 (code
    // 0000011), distance 5 (code 00100, extra bit 0), end of block.
    let second = compress(&mut deflater, b"Hello");
    assert_eq!(second, [0x02, 0x13, 0x00, 0x00]);
    let mut inflater = Inflater::new(15, false);
    inflate(
        &mut inflater,
        &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
        1,
    );
    assert_eq!(inflate(&mut inflater, &second, 1), b"Hello");
}

#[test]
fn without_context_takeover_each_message_stands_alone() {
    let mut deflater = Deflater::new(15, true);
    let first = compress(&mut deflater, b"Hello");
    assert_eq!(compress(&mut deflater, b"Hello"), first);
}

#[test]
fn an_empty_message_compresses_to_one_zero_byte() {
    // §7.2.3.6.
    let mut deflater = Deflater::new(15, false);
    assert_eq!(compress(&mut deflater, b""), [0x00]);
    assert_eq!(compress(&mut deflater, b""), [0x00]);
}

#[test]
fn round_trips_at_every_window_size_with_and_without_context_takeover() {
    let mut rng = Rng(7);
    let messages: Vec<Vec<u8>> = vec![
        b"Hello".to_vec(),
        b"Hello".to_vec(),
        Vec::new(),
        json(3, 1),
        json(3, 1),
        json(400, 2),
        vec![b'a'; 70_000],
        rng.bytes(40_000),
        json(2000, 3),
        b"x".to_vec(),
        json(5, 4),
    ];
    for bits in MIN_WINDOW_BITS..=MAX_WINDOW_BITS {
        for no_context_takeover in [false, true] {
            // The inflater accepts no distance past 2^bits, so a round
            // trip proves the deflater kept to the window.
            let mut deflater = Deflater::new(bits, no_context_takeover);
            let mut inflater = Inflater::new(bits, no_context_takeover);
            for (i, message) in messages.iter().enumerate() {
                let compressed = compress(&mut deflater, message);
                let piece = [usize::MAX, 1, 7, 1000][i % 4];
                assert_eq!(
                    &inflate(&mut inflater, &compressed, piece),
                    message,
                    "window bits {bits}, no_context_takeover {no_context_takeover}, message {i}"
                );
            }
        }
    }
}

#[test]
fn context_takeover_makes_a_repeated_message_small() {
    let message = json(20, 9);
    let mut deflater = Deflater::new(15, false);
    let first = compress(&mut deflater, &message);
    let second = compress(&mut deflater, &message);
    // About 1,600 bytes again: a few matches (the hash table finds the
    // latest earlier position, not always the longest match).
    assert!(
        second.len() * 4 < first.len() && second.len() * 20 < message.len(),
        "{} then {} bytes",
        first.len(),
        second.len()
    );
    let mut alone = Deflater::new(15, true);
    compress(&mut alone, &message);
    assert_eq!(compress(&mut alone, &message), first);
}

#[test]
fn inflating_split_at_every_point_gives_the_same_output() {
    let message = json(30, 5);
    let compressed = compress(&mut Deflater::new(15, false), &message);
    for cut in 0..=compressed.len() {
        let mut inflater = Inflater::new(15, false);
        let mut out = Vec::new();
        inflater
            .inflate(&compressed[..cut], &mut out, u64::MAX)
            .unwrap();
        inflater
            .inflate(&compressed[cut..], &mut out, u64::MAX)
            .unwrap();
        inflater.finish_message(&mut out, u64::MAX).unwrap();
        assert_eq!(out, message, "cut at {cut}");
    }
}

#[test]
fn a_large_json_message_uses_a_dynamic_block() {
    let message = json(200, 6);
    let compressed = compress(&mut Deflater::new(15, false), &message);
    // §3.2.3: the first block's BTYPE (bits 1–2 of the first byte) is 10.
    assert_eq!((compressed[0] >> 1) & 3, 0b10);
    assert!(compressed.len() * 4 < message.len(), "{}", compressed.len());
}

#[test]
fn random_data_is_stored_with_little_overhead() {
    let message = Rng(11).bytes(50_000);
    let compressed = compress(&mut Deflater::new(15, false), &message);
    // Four stored blocks of up to 16 KiB, 5 bytes of header each, and the
    // final byte.
    assert!(compressed.len() <= message.len() + 4 * 5 + 1);
    assert_eq!(
        inflate(&mut Inflater::new(15, false), &compressed, 4096),
        message
    );
}

#[test]
fn the_limit_stops_a_compressed_bomb() {
    let message = vec![0u8; 1 << 20];
    let compressed = compress(&mut Deflater::new(15, false), &message);
    assert!(compressed.len() < 4096);
    let mut inflater = Inflater::new(15, false);
    let mut out = Vec::new();
    let err = inflater.inflate(&compressed, &mut out, 10_000).unwrap_err();
    assert!(matches!(err, Error::MessageTooLarge { limit: 10_000, .. }));
    assert!(out.len() <= 10_000 && out.capacity() <= 10_000);
}

#[test]
fn deflater_memory_is_as_documented() {
    // Deflater's docs: 2^w + 16,384 + 32,768 + 65,536 bytes and the codes.
    let codes = Deflater::new(8, false).heap_size() - (256 + 16_384 + 32_768 + 65_536);
    assert!(codes < 8 * 1024, "{codes}");
    for bits in MIN_WINDOW_BITS..=MAX_WINDOW_BITS {
        let mut deflater = Deflater::new(bits, false);
        let before = deflater.heap_size();
        assert_eq!(before, (1 << bits) + 16_384 + 32_768 + 65_536 + codes);
        // Messages never make it grow.
        for _ in 0..3 {
            compress(&mut deflater, &json(1000, 3));
        }
        assert_eq!(deflater.heap_size(), before);
    }
    assert_eq!(Deflater::new(15, false).heap_size(), DEFLATER_HEAP_15);
    assert_eq!(Deflater::new(8, false).heap_size(), DEFLATER_HEAP_8);
}

/// The sizes `Deflater`'s docs give.
const DEFLATER_HEAP_15: usize = 154_764;
const DEFLATER_HEAP_8: usize = 122_252;

#[test]
fn inflater_memory_is_the_window_and_7_kib_of_tables() {
    for bits in MIN_WINDOW_BITS..=MAX_WINDOW_BITS {
        let mut inflater = Inflater::new(bits, false);
        let tables = inflater.heap_size() - (1 << bits);
        assert!((6 * 1024..8 * 1024).contains(&tables), "{tables}");
        let before = inflater.heap_size();
        let compressed = compress(&mut Deflater::new(bits, false), &json(1000, 4));
        inflate(&mut inflater, &compressed, 100);
        assert_eq!(inflater.heap_size(), before);
    }
}
