//! Finding repeated strings (RFC 1951 §4: "The compressor uses a chained
//! hash table to find duplicated strings").
//!
//! A table indexed by a hash of the next 4 bytes holds the last position
//! where those bytes were seen. The parse is greedy: at each position the
//! candidate from the table is checked byte for byte, and a match of 4
//! bytes or more is taken at once, as long as it reaches; otherwise the
//! byte goes out as a literal. One probe per position keeps the work per
//! byte constant; the table is never cleared, since a stale candidate is
//! only a candidate (the bytes are compared, and the distance checked
//! against the window).

use alloc::vec::Vec;

use crate::sansio::deflate::encode::{BlockEncoder, Symbol, match_symbol};

/// Bits of the hash: the table has 2^14 entries of 2 bytes.
pub(super) const HASH_BITS: u32 = 14;
/// Entries in the hash table.
pub(super) const HASH_SIZE: usize = 1 << HASH_BITS;
/// The shortest match searched for (the format allows 3, §3.2.5; 3-byte
/// matches far back rarely pay).
const MIN_MATCH: usize = 4;
/// The longest match the format can say (§3.2.5: lengths 3..=258).
const MAX_MATCH: usize = 258;
/// Positions inside a match whose hashes are remembered: the first few
/// after its start and the last few before its end, where the next
/// repeat most likely starts. More finds a little more and costs more.
const INSERT_HEAD: usize = 4;
const INSERT_TAIL: usize = 2;

/// The hash table: for each hash, the last position (in the deflater's
/// buffer, which never holds more than 65,536 bytes) with those 4 bytes.
pub(super) type HashTable = [u16; HASH_SIZE];

#[inline(always)]
fn hash(word: u32) -> usize {
    (word.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize
}

#[inline(always)]
fn read_u32(buf: &[u8], at: usize) -> u32 {
    buf.get(at..)
        .and_then(|rest| rest.first_chunk::<4>())
        .map_or(0, |bytes| u32::from_le_bytes(*bytes))
}

#[inline(always)]
fn read_u64(buf: &[u8], at: usize) -> u64 {
    buf.get(at..)
        .and_then(|rest| rest.first_chunk::<8>())
        .map_or(0, |bytes| u64::from_le_bytes(*bytes))
}

/// How many bytes from `older` and `newer` are equal, up to `max`, where
/// `newer + max <= buf.len()` and `older < newer`.
#[inline(always)]
fn common_len(buf: &[u8], older: usize, newer: usize, max: usize) -> usize {
    let mut len = 0;
    while len + 8 <= max {
        let diff = read_u64(buf, older + len) ^ read_u64(buf, newer + len);
        if diff != 0 {
            return len + (diff.trailing_zeros() / 8) as usize;
        }
        len += 8;
    }
    while len < max && buf.get(older + len) == buf.get(newer + len) {
        len += 1;
    }
    len
}

/// Parses `buf[start..]` into literals and matches reaching back at most
/// `window` bytes (never before `buf[0]`), appending them to `symbols`
/// and counting them in `encoder`.
pub(super) fn parse(
    buf: &[u8],
    start: usize,
    window: usize,
    table: &mut HashTable,
    symbols: &mut Vec<Symbol>,
    encoder: &mut BlockEncoder,
) {
    let end = buf.len();
    let mut cur = start;
    // Positions from which 4 bytes can be read.
    let last = end.saturating_sub(MIN_MATCH - 1);
    // After many literals in a row (incompressible data), look at fewer
    // positions, as LZ4 and Snappy do.
    let mut misses = 0usize;
    while cur < last {
        let word = read_u32(buf, cur);
        let slot = &mut table[hash(word)];
        let candidate = usize::from(*slot);
        *slot = cur as u16;
        let distance = cur.wrapping_sub(candidate);
        if distance.wrapping_sub(1) < window && read_u32(buf, candidate) == word {
            let max = (end - cur).min(MAX_MATCH);
            let len = MIN_MATCH + common_len(buf, candidate + 4, cur + 4, max - MIN_MATCH);
            let symbol = match_symbol(len, distance);
            encoder.count(symbol);
            symbols.push(symbol);
            // Remember some positions inside the match too, so that a
            // later repeat of part of it can be found.
            let stop = (cur + len).min(last);
            let mut p = cur + 1;
            let mut limit = stop.min(cur + INSERT_HEAD);
            while p < limit {
                table[hash(read_u32(buf, p))] = p as u16;
                p += 1;
            }
            p = p.max(stop.saturating_sub(INSERT_TAIL));
            limit = stop;
            while p < limit {
                table[hash(read_u32(buf, p))] = p as u16;
                p += 1;
            }
            cur += len;
            misses = 0;
        } else {
            let step = 1 + (misses >> 5);
            let stop = (cur + step).min(last);
            for &byte in buf.get(cur..stop).unwrap_or_default() {
                let symbol = Symbol::from(byte);
                encoder.count(symbol);
                symbols.push(symbol);
            }
            cur = stop;
            misses += 1;
        }
    }
    for &byte in buf.get(cur..).unwrap_or_default() {
        let symbol = Symbol::from(byte);
        encoder.count(symbol);
        symbols.push(symbol);
    }
}
