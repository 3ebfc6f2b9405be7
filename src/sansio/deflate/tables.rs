//! The constant tables of the DEFLATE format (RFC 1951 §3.2.5–§3.2.7),
//! shared by the inflater and the compressor.

/// Length symbols 257..=285: the shortest match length each stands for
/// (RFC 1951 §3.2.5).
pub(super) const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];

/// Length symbols 257..=285: how many extra bits follow the symbol (§3.2.5).
pub(super) const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];

/// Distance symbols 0..=29: the shortest distance each stands for (§3.2.5).
pub(super) const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// Distance symbols 0..=29: how many extra bits follow the symbol (§3.2.5).
pub(super) const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// The order in which a dynamic block sends the code lengths of the
/// code-length alphabet (§3.2.7: "16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11,
/// 4, 12, 3, 13, 2, 14, 1, 15").
pub(super) const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// The end-of-block symbol (§3.2.5: "the value 256 indicates end-of-block").
pub(super) const END_OF_BLOCK: usize = 256;

/// Symbols of the literal/length alphabet (0..=287; 286 and 287 "will
/// never actually occur in the compressed data", §3.2.6).
pub(super) const LITLEN_SYMBOLS: usize = 288;

/// Symbols of the distance alphabet (0..=31; 30 and 31 never occur, §3.2.6).
pub(super) const DIST_SYMBOLS: usize = 32;

/// The longest code any DEFLATE Huffman code may use (§3.2.7: code
/// lengths are 0..=15).
pub(super) const MAX_CODE_LENGTH: usize = 15;

/// The code lengths of the fixed literal/length code (§3.2.6): 8 bits for
/// 0–143, 9 for 144–255, 7 for 256–279, 8 for 280–287.
pub(super) const fn fixed_litlen_lengths() -> [u8; LITLEN_SYMBOLS] {
    let mut lengths = [8u8; LITLEN_SYMBOLS];
    let mut i = 144;
    while i < 256 {
        lengths[i] = 9;
        i += 1;
    }
    while i < 280 {
        lengths[i] = 7;
        i += 1;
    }
    lengths
}

/// The fixed distance code (§3.2.6): "represented by (fixed-length) 5-bit
/// codes", all 32 symbols.
pub(super) const FIXED_DIST_LENGTHS: [u8; DIST_SYMBOLS] = [5; DIST_SYMBOLS];

/// The length symbol (0-based, i.e. minus 257) for each match length
/// minus 3.
static LENGTH_SYMBOL: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = slow_length_symbol(i + 3) as u8;
        i += 1;
    }
    table
};

/// The distance symbol for each distance minus 1 below 256, then for
/// each 128 distances from there on (every symbol from 16 on starts at a
/// multiple of 128 plus 1).
static DIST_SYMBOL: [u8; 512] = {
    let mut table = [0u8; 512];
    let mut i = 0;
    while i < 256 {
        table[i] = slow_dist_symbol(i + 1) as u8;
        table[256 + i] = slow_dist_symbol((i << 7) + 1) as u8;
        i += 1;
    }
    table
};

/// The length symbol (0-based, i.e. minus 257) for a match length 3..=258.
#[inline(always)]
pub(super) fn length_symbol(len: usize) -> usize {
    usize::from(LENGTH_SYMBOL[len.wrapping_sub(3) & 0xff])
}

/// The distance symbol for a distance 1..=32768.
#[inline(always)]
pub(super) fn dist_symbol(dist: usize) -> usize {
    let d = dist.wrapping_sub(1);
    if d < 256 {
        usize::from(DIST_SYMBOL[d])
    } else {
        usize::from(DIST_SYMBOL[256 + ((d >> 7) & 0xff)])
    }
}

const fn slow_length_symbol(len: usize) -> usize {
    // Binary search would do; a linear scan from the top is short and const.
    let mut sym = 28;
    while sym > 0 && LENGTH_BASE[sym] as usize > len {
        sym -= 1;
    }
    sym
}

const fn slow_dist_symbol(dist: usize) -> usize {
    let mut sym = 29;
    while sym > 0 && DIST_BASE[sym] as usize > dist {
        sym -= 1;
    }
    sym
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_symbols_cover_every_length_once() {
        for len in 3..=258 {
            let sym = length_symbol(len);
            assert_eq!(sym, slow_length_symbol(len));
            let base = usize::from(LENGTH_BASE[sym]);
            assert!(base <= len, "length {len}");
            assert!(len - base < 1 << LENGTH_EXTRA[sym], "length {len}");
        }
        // §3.2.5: 258 has its own symbol (285) with no extra bits.
        assert_eq!(length_symbol(258), 28);
        assert_eq!(length_symbol(257), 27);
    }

    #[test]
    fn distance_symbols_cover_every_distance_once() {
        for dist in 1..=32768 {
            let sym = dist_symbol(dist);
            assert_eq!(sym, slow_dist_symbol(dist));
            let base = usize::from(DIST_BASE[sym]);
            assert!(base <= dist && dist - base < 1 << DIST_EXTRA[sym], "{dist}");
        }
    }
}
