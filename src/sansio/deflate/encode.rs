//! Writing DEFLATE blocks (RFC 1951 §3.2.3–§3.2.7): the bit writer,
//! Huffman code lengths from symbol counts, and the three block types,
//! choosing for each block the one that comes out shortest.

use alloc::vec::Vec;

use crate::sansio::deflate::code_lengths::{Code, Scratch};
use crate::sansio::deflate::tables::{
    CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA, DIST_SYMBOLS, END_OF_BLOCK, FIXED_DIST_LENGTHS,
    LENGTH_BASE, LENGTH_EXTRA, LITLEN_SYMBOLS, dist_symbol, fixed_litlen_lengths, length_symbol,
};

/// Literal/length symbols an encoder uses: 0..=285 (§3.2.5).
pub(super) const LITLEN_USED: usize = 286;
/// Distance symbols an encoder uses: 0..=29.
pub(super) const DIST_USED: usize = 30;

/// One LZ77 symbol, packed: a literal byte (`< 256`), or a match with
/// [`MATCH`] set and the symbols and extra bits of its length and
/// distance (§3.2.5) worked out once, by [`match_symbol`]:
/// bits 26–30 the length symbol minus 257, 21–25 the length's extra
/// bits, 16–20 the distance symbol, 0–12 the distance's extra bits.
pub(super) type Symbol = u32;
/// The flag of a match [`Symbol`].
pub(super) const MATCH: u32 = 1 << 31;

/// The packed form of a match of `length` (3..=258) at `distance`
/// (1..=32768).
#[inline(always)]
pub(super) fn match_symbol(length: usize, distance: usize) -> Symbol {
    let ls = length_symbol(length);
    let lx = length - usize::from(LENGTH_BASE[ls]);
    let ds = dist_symbol(distance);
    let dx = distance - usize::from(DIST_BASE[ds]);
    MATCH | (ls as u32) << 26 | (lx as u32) << 21 | (ds as u32) << 16 | dx as u32
}

/// The parts of a match symbol: length symbol (minus 257), its extra
/// bits, distance symbol, its extra bits.
#[inline(always)]
fn unpack(symbol: Symbol) -> (usize, u32, usize, u32) {
    (
        ((symbol >> 26) & 31) as usize,
        (symbol >> 21) & 31,
        ((symbol >> 16) & 31) as usize,
        symbol & 0x1fff,
    )
}

/// Appends bits to a `Vec<u8>`, least significant first (§3.1.1).
pub(super) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    count: u32,
}

impl<'a> BitWriter<'a> {
    pub(super) fn new(out: &'a mut Vec<u8>) -> BitWriter<'a> {
        BitWriter {
            out,
            acc: 0,
            count: 0,
        }
    }

    /// Writes the low `count` bits of `bits` (`count` at most 32; the
    /// bits above it must be zero).
    #[inline(always)]
    pub(super) fn put(&mut self, bits: u32, count: u32) {
        self.acc |= u64::from(bits) << self.count;
        self.count += count;
        if self.count >= 32 {
            self.out.extend_from_slice(&(self.acc as u32).to_le_bytes());
            self.acc >>= 32;
            self.count -= 32;
        }
    }

    /// Pads with zero bits to the next byte boundary and writes out
    /// every bit held.
    pub(super) fn align(&mut self) {
        while self.count > 0 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.count = self.count.saturating_sub(8);
        }
        self.acc = 0;
    }

    /// Room for `n` more bytes without growing one write at a time.
    pub(super) fn reserve(&mut self, n: usize) {
        self.out.reserve(n);
    }

    /// Appends whole bytes (after [`BitWriter::align`]).
    pub(super) fn bytes(&mut self, bytes: &[u8]) {
        debug_assert_eq!(self.count, 0);
        self.out.extend_from_slice(bytes);
    }
}

/// Everything a block's encoding needs, allocated once per deflater.
pub(super) struct BlockEncoder {
    pub(super) litlen_freq: [u32; LITLEN_USED],
    pub(super) dist_freq: [u32; DIST_USED],
    litlen: Code<LITLEN_SYMBOLS>,
    dist: Code<DIST_SYMBOLS>,
    fixed_litlen: Code<LITLEN_SYMBOLS>,
    fixed_dist: Code<DIST_SYMBOLS>,
    code_length_code: Code<19>,
    /// The run-length encoded code lengths (§3.2.7): symbol 0..=18 in the
    /// low byte, its extra bits' value above.
    runs: [u16; LITLEN_USED + DIST_USED],
    scratch: Scratch,
}

/// A block's size in bits for each way of writing it.
struct Costs {
    fixed: u64,
    dynamic: u64,
    stored: u64,
}

impl BlockEncoder {
    pub(super) fn new() -> BlockEncoder {
        BlockEncoder {
            litlen_freq: [0; LITLEN_USED],
            dist_freq: [0; DIST_USED],
            litlen: Code::new(),
            dist: Code::new(),
            fixed_litlen: Code::from_lengths(&fixed_litlen_lengths()),
            fixed_dist: Code::from_lengths(&FIXED_DIST_LENGTHS),
            code_length_code: Code::new(),
            runs: [0; LITLEN_USED + DIST_USED],
            scratch: Scratch::new(),
        }
    }

    /// Counts a symbol for the block being gathered.
    #[inline(always)]
    pub(super) fn count(&mut self, symbol: Symbol) {
        if symbol & MATCH == 0 {
            self.litlen_freq[(symbol & 0xff) as usize] += 1;
        } else {
            let (ls, _, ds, _) = unpack(symbol);
            if let Some(freq) = self.litlen_freq.get_mut(257 + ls) {
                *freq += 1;
            }
            if let Some(freq) = self.dist_freq.get_mut(ds) {
                *freq += 1;
            }
        }
    }

    /// Writes one non-final block holding `symbols`, which encode `raw`,
    /// the shortest of the three ways (§3.2.3), and clears the counts.
    pub(super) fn write_block(&mut self, w: &mut BitWriter<'_>, symbols: &[Symbol], raw: &[u8]) {
        self.litlen_freq[END_OF_BLOCK] = 1;
        let extra = self.extra_bits();
        let fixed = 3
            + self.fixed_litlen.cost(&self.litlen_freq)
            + self.fixed_dist.cost(&self.dist_freq)
            + extra;
        // A dynamic code's header costs tens of bytes: not worth computing
        // for a short block.
        let dynamic = if symbols.len() >= 64 {
            self.litlen.build(&self.litlen_freq, 15, &mut self.scratch);
            self.dist.build(&self.dist_freq, 15, &mut self.scratch);
            3 + self.dynamic_header_bits()
                + self.litlen.cost(&self.litlen_freq)
                + self.dist.cost(&self.dist_freq)
                + extra
        } else {
            u64::MAX
        };
        // Header, padding to a byte (at most 7 bits), LEN and NLEN.
        let stored = 3 + 7 + 32 + 8 * raw.len() as u64;
        let costs = Costs {
            fixed,
            dynamic,
            stored,
        };
        w.reserve((costs.fixed.min(costs.dynamic).min(costs.stored) / 8) as usize + 16);
        if costs.stored < costs.fixed.min(costs.dynamic) && raw.len() <= usize::from(u16::MAX) {
            // §3.2.4: header, pad to a byte, LEN, NLEN, the bytes.
            w.put(0b000, 3);
            w.align();
            let len = raw.len() as u16;
            w.bytes(&len.to_le_bytes());
            w.bytes(&(!len).to_le_bytes());
            w.bytes(raw);
        } else if costs.dynamic < costs.fixed {
            // BFINAL 0, BTYPE 10.
            w.put(0b100, 3);
            self.write_dynamic_header(w);
            write_symbols(w, symbols, &self.litlen, &self.dist);
        } else {
            // BFINAL 0, BTYPE 01.
            w.put(0b010, 3);
            write_symbols(w, symbols, &self.fixed_litlen, &self.fixed_dist);
        }
        self.litlen_freq = [0; LITLEN_USED];
        self.dist_freq = [0; DIST_USED];
    }

    /// Extra bits of the lengths and distances counted (§3.2.5).
    fn extra_bits(&self) -> u64 {
        let lengths: u64 = self.litlen_freq[257..]
            .iter()
            .zip(LENGTH_EXTRA)
            .map(|(&f, e)| u64::from(f) * u64::from(e))
            .sum();
        let distances: u64 = self
            .dist_freq
            .iter()
            .zip(DIST_EXTRA)
            .map(|(&f, e)| u64::from(f) * u64::from(e))
            .sum();
        lengths + distances
    }

    /// How many literal/length and distance code lengths to send: up to
    /// the last used one, at least 257 and 1 (§3.2.7).
    fn sizes(&self) -> (usize, usize) {
        let hlit = self
            .litlen
            .lengths
            .iter()
            .rposition(|&l| l > 0)
            .map_or(0, |i| i + 1);
        let hdist = self
            .dist
            .lengths
            .iter()
            .rposition(|&l| l > 0)
            .map_or(0, |i| i + 1);
        (hlit.max(257), hdist.max(1))
    }

    /// Run-length encodes the code lengths into `runs` (§3.2.7), counts
    /// the code-length symbols, builds their code (at most 7 bits) and
    /// returns the header's size in bits (after BTYPE).
    fn dynamic_header_bits(&mut self) -> u64 {
        let (hlit, hdist) = self.sizes();
        let mut all = [0u8; LITLEN_USED + DIST_USED];
        all[..hlit].copy_from_slice(&self.litlen.lengths[..hlit]);
        all[hlit..hlit + hdist].copy_from_slice(&self.dist.lengths[..hdist]);
        let all = &all[..hlit + hdist];
        let mut freq = [0u32; 19];
        let mut n = 0;
        let mut i = 0;
        while i < all.len() {
            let value = all[i];
            let run = all[i..].iter().take_while(|&&l| l == value).count();
            let mut left = run;
            if value == 0 {
                while left >= 11 {
                    let r = left.min(138);
                    self.runs[n] = 18 | ((r - 11) as u16) << 8;
                    n += 1;
                    left -= r;
                }
                if left >= 3 {
                    self.runs[n] = 17 | ((left - 3) as u16) << 8;
                    n += 1;
                    left = 0;
                }
            } else {
                // The length itself, then repeats of it.
                self.runs[n] = u16::from(value);
                n += 1;
                left -= 1;
                while left >= 3 {
                    let r = left.min(6);
                    self.runs[n] = 16 | ((r - 3) as u16) << 8;
                    n += 1;
                    left -= r;
                }
            }
            for _ in 0..left {
                self.runs[n] = u16::from(value);
                n += 1;
            }
            i += run;
        }
        self.runs[n..].fill(u16::MAX);
        for &run in &self.runs[..n] {
            freq[usize::from(run & 0xff)] += 1;
        }
        self.code_length_code.build(&freq, 7, &mut self.scratch);
        let hclen = self.hclen();
        let mut bits = 5 + 5 + 4 + 3 * hclen as u64;
        for &run in &self.runs[..n] {
            let symbol = usize::from(run & 0xff);
            bits += u64::from(self.code_length_code.lengths[symbol]);
            bits += match symbol {
                16 => 2,
                17 => 3,
                18 => 7,
                _ => 0,
            };
        }
        bits
    }

    /// How many code-length code lengths to send, in §3.2.7's order.
    fn hclen(&self) -> usize {
        let last = CODE_LENGTH_ORDER
            .iter()
            .rposition(|&s| self.code_length_code.lengths[s] > 0)
            .map_or(0, |i| i + 1);
        last.max(4)
    }

    fn write_dynamic_header(&self, w: &mut BitWriter<'_>) {
        let (hlit, hdist) = self.sizes();
        let hclen = self.hclen();
        w.put((hlit - 257) as u32, 5);
        w.put((hdist - 1) as u32, 5);
        w.put((hclen - 4) as u32, 4);
        for &symbol in &CODE_LENGTH_ORDER[..hclen] {
            w.put(u32::from(self.code_length_code.lengths[symbol]), 3);
        }
        for &run in self.runs.iter().take_while(|&&r| r != u16::MAX) {
            let symbol = usize::from(run & 0xff);
            let extra = u32::from(run >> 8);
            w.put(
                u32::from(self.code_length_code.codes[symbol]),
                u32::from(self.code_length_code.lengths[symbol]),
            );
            match symbol {
                16 => w.put(extra, 2),
                17 => w.put(extra, 3),
                18 => w.put(extra, 7),
                _ => {}
            }
        }
    }
}

/// Writes the symbols, then the end-of-block code (§3.2.5).
fn write_symbols(
    w: &mut BitWriter<'_>,
    symbols: &[Symbol],
    litlen: &Code<LITLEN_SYMBOLS>,
    dist: &Code<DIST_SYMBOLS>,
) {
    for &symbol in symbols {
        if symbol & MATCH == 0 {
            let s = (symbol & 0xff) as usize;
            w.put(u32::from(litlen.codes[s]), u32::from(litlen.lengths[s]));
            continue;
        }
        let (ls, lx, ds, dx) = unpack(symbol);
        let s = 257 + ls;
        let (Some(&code), Some(&len), Some(&extra)) = (
            litlen.codes.get(s),
            litlen.lengths.get(s),
            LENGTH_EXTRA.get(ls),
        ) else {
            continue;
        };
        w.put(u32::from(code) | lx << len, u32::from(len + extra));
        let (Some(&code), Some(&len), Some(&extra)) =
            (dist.codes.get(ds), dist.lengths.get(ds), DIST_EXTRA.get(ds))
        else {
            continue;
        };
        w.put(u32::from(code) | dx << len, u32::from(len + extra));
    }
    w.put(
        u32::from(litlen.codes[END_OF_BLOCK]),
        u32::from(litlen.lengths[END_OF_BLOCK]),
    );
}
