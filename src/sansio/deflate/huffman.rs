//! Decoding canonical Huffman codes (RFC 1951 §3.2.2) from the low bits of
//! a bit buffer.
//!
//! §3.1.1: "Huffman codes are packed starting with the most-significant
//! bit of the code", into a stream read from each byte's least significant
//! bit. So the next `n` bits of the stream, read as a number, are the code
//! reversed. A table indexed by the next `BITS` bits gives the
//! symbol and length of every code up to that long; a longer code (rare:
//! the symbols an encoder thought rarest) is decoded one bit at a time from
//! the per-length counts, as §3.2.2 assigns the codes.
//!
//! The tables are filled in place ([`HuffmanDecoder::build`]): a decoder
//! is allocated once per connection and rebuilt for every dynamic block.

use crate::sansio::deflate::tables::MAX_CODE_LENGTH;

/// A table entry with no code: the bits match no code of the set.
const NO_CODE: u16 = 0;
/// A table entry whose code is longer than the table's bits.
const LONG_CODE: u16 = 1 << 15;

/// One decoding step's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lookup {
    /// The symbol and its code's length in bits.
    Symbol(u16, u32),
    /// The available bits are a proper prefix of a code: more are needed.
    NeedMore,
    /// No code starts with these bits.
    Invalid,
}

/// Why a set of code lengths is not a usable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BuildError {
    /// More codes than the lengths leave room for (§3.2.2's codes would
    /// not be prefix-free).
    OverSubscribed,
    /// Fewer codes than the lengths leave room for, where that is refused.
    Incomplete,
}

/// A decoder for one Huffman code over at most `N` symbols, whose first
/// lookup uses `BITS` bits (`SIZE` = 2^`BITS` entries): 10 for the
/// literal/length code, 8 for distances, 7 (every code) for code lengths.
#[derive(Clone)]
pub(super) struct HuffmanDecoder<const N: usize, const BITS: u32, const SIZE: usize> {
    /// Indexed by the next `BITS` bits: `symbol << 4 | length`, or
    /// [`NO_CODE`], or [`LONG_CODE`].
    fast: [u16; SIZE],
    /// How many codes have each length 0..=15 (index 0 unused).
    count: [u16; MAX_CODE_LENGTH + 1],
    /// The symbols in code order: by length, then by symbol value (§3.2.2).
    sorted: [u16; N],
}

impl<const N: usize, const BITS: u32, const SIZE: usize> HuffmanDecoder<N, BITS, SIZE> {
    const MASK: u64 = SIZE as u64 - 1;

    /// An empty decoder (every lookup is [`Lookup::Invalid`]).
    pub(super) fn new() -> HuffmanDecoder<N, BITS, SIZE> {
        debug_assert_eq!(SIZE, 1 << BITS);
        HuffmanDecoder {
            fast: [NO_CODE; SIZE],
            count: [0; MAX_CODE_LENGTH + 1],
            sorted: [0; N],
        }
    }

    /// Builds the code whose symbol `i` has the code length `lengths[i]`
    /// (0: not used), following §3.2.2's three steps. Lengths must be at
    /// most 15 and there must be at most `N` of them.
    ///
    /// An incomplete code is refused unless `allow_single` and it has one
    /// code of one bit, or no code at all: RFC 1951 says nothing on the
    /// matter; this is zlib's rule, which every encoder in use follows (a
    /// block with one distance, or none, sends such a distance code).
    pub(super) fn build(&mut self, lengths: &[u8], allow_single: bool) -> Result<(), BuildError> {
        let lengths = lengths.get(..N).unwrap_or(lengths);
        // Step 1: count the codes of each length.
        self.count = [0; MAX_CODE_LENGTH + 1];
        for &len in lengths {
            let len = usize::from(len).min(MAX_CODE_LENGTH);
            self.count[len] += 1;
        }
        self.count[0] = 0;
        // Kraft: each length doubles the room; each code takes one place.
        let mut left: i32 = 1;
        for len in 1..=MAX_CODE_LENGTH {
            left = (left << 1) - i32::from(self.count[len]);
            if left < 0 {
                return Err(BuildError::OverSubscribed);
            }
        }
        let used: u16 = self.count.iter().sum();
        if left > 0 {
            let single = used == 1 && self.count[1] == 1;
            if !(allow_single && (single || used == 0)) {
                return Err(BuildError::Incomplete);
            }
        }

        // Step 2: where each length's codes start in code order.
        let mut offset = [0u16; MAX_CODE_LENGTH + 2];
        for len in 1..=MAX_CODE_LENGTH {
            offset[len + 1] = offset[len] + self.count[len];
        }
        // Step 3: give codes to the symbols in order of value.
        self.fast = [NO_CODE; SIZE];
        let mut next_code = [0u32; MAX_CODE_LENGTH + 1];
        let mut code = 0u32;
        for (len, next) in next_code.iter_mut().enumerate().skip(1) {
            code = (code + u32::from(self.count[len - 1])) << 1;
            *next = code;
        }
        for (symbol, &len) in lengths.iter().enumerate() {
            let len = usize::from(len).min(MAX_CODE_LENGTH);
            if len == 0 {
                continue;
            }
            if let Some(slot) = self.sorted.get_mut(usize::from(offset[len])) {
                *slot = symbol as u16;
            }
            offset[len] += 1;
            let code = next_code[len];
            next_code[len] += 1;
            let len = len as u32;
            if len <= BITS {
                let entry = ((symbol as u16) << 4) | len as u16;
                let mut at = reverse(code, len) as usize;
                while let Some(slot) = self.fast.get_mut(at) {
                    *slot = entry;
                    at += 1 << len;
                }
            } else {
                let prefix = reverse(code >> (len - BITS), BITS) as usize;
                if let Some(slot) = self.fast.get_mut(prefix) {
                    *slot = LONG_CODE;
                }
            }
        }
        Ok(())
    }

    /// Decodes the code at the low end of `bits`, of which `avail` are
    /// stream bits (the rest are zero or the stream's next bits).
    #[inline(always)]
    pub(super) fn decode(&self, bits: u64, avail: u32) -> Lookup {
        let entry = self.fast[(bits & Self::MASK) as usize];
        let len = u32::from(entry & 15);
        if len != 0 {
            if len > avail {
                return Lookup::NeedMore;
            }
            return Lookup::Symbol(entry >> 4, len);
        }
        if entry == LONG_CODE {
            return self.decode_long(bits, avail);
        }
        // No code starts with these bits. Only the incomplete codes
        // `build` allows have such entries, and for them one bit decides
        // (a one-bit code) or none (no code), so this is final whatever
        // bits are still to come.
        Lookup::Invalid
    }

    /// §3.2.2's canonical order, one bit at a time: the codes of each
    /// length are consecutive numbers following those of the length before.
    #[cold]
    fn decode_long(&self, bits: u64, avail: u32) -> Lookup {
        let mut code: u32 = 0; // the bits read so far, most significant first
        let mut first: u32 = 0; // the first code of this length
        let mut index: u32 = 0; // where this length's symbols start in `sorted`
        for len in 1..=MAX_CODE_LENGTH as u32 {
            if len > avail {
                return Lookup::NeedMore;
            }
            code |= ((bits >> (len - 1)) & 1) as u32;
            let count = u32::from(self.count[len as usize]);
            if code.wrapping_sub(first) < count {
                return match self.sorted.get((index + code - first) as usize) {
                    Some(&symbol) => Lookup::Symbol(symbol, len),
                    None => Lookup::Invalid,
                };
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Lookup::Invalid
    }
}

/// The low `len` bits of `code` in reverse order.
#[inline]
pub(super) fn reverse(code: u32, len: u32) -> u32 {
    code.reverse_bits() >> (32 - len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §3.2.2's example: lengths (3, 3, 3, 3, 3, 2, 4, 4) for A–H give
    /// the codes 010, 011, 100, 101, 110, 00, 1110, 1111.
    #[test]
    fn builds_the_rfc_1951_example_code() {
        let mut decoder = HuffmanDecoder::<8, 10, 1024>::new();
        decoder.build(&[3, 3, 3, 3, 3, 2, 4, 4], false).unwrap();
        let codes = [
            (0, 0b010, 3),
            (1, 0b011, 3),
            (2, 0b100, 3),
            (3, 0b101, 3),
            (4, 0b110, 3),
            (5, 0b00, 2),
            (6, 0b1110, 4),
            (7, 0b1111, 4),
        ];
        for (symbol, code, len) in codes {
            let bits = u64::from(reverse(code, len));
            assert_eq!(decoder.decode(bits, len), Lookup::Symbol(symbol, len));
            assert_eq!(decoder.decode(bits, len - 1), Lookup::NeedMore);
        }
    }

    #[test]
    fn decodes_codes_longer_than_the_table() {
        // Lengths 1, 2, ..., 14, 15, 15: a complete code reaching 15 bits.
        let mut lengths: Vec<u8> = (1..=15).collect();
        lengths.push(15);
        let mut decoder = HuffmanDecoder::<16, 10, 1024>::new();
        decoder.build(&lengths, false).unwrap();
        // Symbol 14 (length 15) has the code 111111111111110, symbol 15
        // the code 111111111111111.
        let long = u64::from(reverse(0b111_1111_1111_1110, 15));
        assert_eq!(decoder.decode(long, 15), Lookup::Symbol(14, 15));
        assert_eq!(decoder.decode(long, 14), Lookup::NeedMore);
        let last = u64::from(reverse(0x7fff, 15));
        assert_eq!(decoder.decode(last, 64), Lookup::Symbol(15, 15));
        assert_eq!(decoder.decode(0, 1), Lookup::Symbol(0, 1));
    }

    #[test]
    fn refuses_over_subscribed_and_incomplete_codes() {
        let mut decoder = HuffmanDecoder::<4, 7, 128>::new();
        assert_eq!(
            decoder.build(&[1, 1, 1], false),
            Err(BuildError::OverSubscribed)
        );
        assert_eq!(
            decoder.build(&[2, 2, 2], false),
            Err(BuildError::Incomplete)
        );
        assert_eq!(decoder.build(&[2, 2, 2], true), Err(BuildError::Incomplete));
        assert_eq!(
            decoder.build(&[0, 0, 0], false),
            Err(BuildError::Incomplete)
        );
    }

    #[test]
    fn a_single_one_bit_code_is_allowed_where_asked() {
        let mut decoder = HuffmanDecoder::<4, 7, 128>::new();
        decoder.build(&[0, 1, 0], true).unwrap();
        assert_eq!(decoder.decode(0, 1), Lookup::Symbol(1, 1));
        assert_eq!(decoder.decode(1, 1), Lookup::Invalid);
        decoder.build(&[0, 0, 0], true).unwrap();
        assert_eq!(decoder.decode(0, 8), Lookup::Invalid);
    }
}
