//! Writing DEFLATE blocks (RFC 1951 §3.2.3–§3.2.7): the bit writer,
//! Huffman code lengths from symbol counts, and the three block types,
//! choosing for each block the one that comes out shortest.

use alloc::vec::Vec;

use crate::sansio::deflate::huffman::reverse;
use crate::sansio::deflate::tables::{
    CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA, DIST_SYMBOLS, END_OF_BLOCK, FIXED_DIST_LENGTHS,
    LENGTH_BASE, LENGTH_EXTRA, LITLEN_SYMBOLS, MAX_CODE_LENGTH, dist_symbol, fixed_litlen_lengths,
    length_symbol,
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

/// A Huffman code for encoding: each symbol's code, bit-reversed so that
/// it can be written least significant bit first, and its length.
#[derive(Clone)]
pub(super) struct Code<const N: usize> {
    pub(super) codes: [u16; N],
    pub(super) lengths: [u8; N],
}

impl<const N: usize> Code<N> {
    pub(super) fn new() -> Code<N> {
        Code {
            codes: [0; N],
            lengths: [0; N],
        }
    }

    /// Gives each symbol its canonical code from `self.lengths` (§3.2.2).
    fn assign_codes(&mut self) {
        let mut count = [0u16; MAX_CODE_LENGTH + 1];
        for &len in &self.lengths {
            count[usize::from(len).min(MAX_CODE_LENGTH)] += 1;
        }
        count[0] = 0;
        let mut next = [0u32; MAX_CODE_LENGTH + 1];
        let mut code = 0u32;
        for (len, slot) in next.iter_mut().enumerate().skip(1) {
            code = (code + u32::from(count[len - 1])) << 1;
            *slot = code;
        }
        for (symbol, &len) in self.lengths.iter().enumerate() {
            let len = usize::from(len).min(MAX_CODE_LENGTH);
            if len > 0 {
                self.codes[symbol] = reverse(next[len], len as u32) as u16;
                next[len] += 1;
            }
        }
    }

    /// Sets the code from fixed lengths.
    fn from_lengths(lengths: &[u8]) -> Code<N> {
        let mut code = Code::new();
        for (slot, &len) in code.lengths.iter_mut().zip(lengths) {
            *slot = len;
        }
        code.assign_codes();
        code
    }

    /// Builds the best code for `freqs` with no code longer than
    /// `max_len`, using at least two codes (as zlib does, for decoders
    /// that want a complete code).
    fn build(&mut self, freqs: &[u32], max_len: u32, scratch: &mut Scratch) {
        self.lengths = [0; N];
        let sorted = &mut scratch.sorted;
        let mut n = 0;
        for (symbol, &freq) in freqs.iter().enumerate().take(N) {
            if freq > 0 {
                sorted[n] = (freq, symbol as u16);
                n += 1;
            }
        }
        // Phantom symbols with a count of zero make at least two codes.
        let mut phantom = 0u16;
        while n < 2 {
            if !sorted[..n].iter().any(|&(_, s)| s == phantom) {
                sorted[n] = (0, phantom);
                n += 1;
            }
            phantom += 1;
        }
        let sorted = &mut sorted[..n];
        sorted.sort_unstable();
        let depths = &mut scratch.depths[..n];
        for (depth, &(freq, _)) in depths.iter_mut().zip(sorted.iter()) {
            *depth = freq;
        }
        minimum_redundancy(depths);
        limit_lengths(depths, max_len);
        for (&depth, &(_, symbol)) in depths.iter().zip(sorted.iter()) {
            if let Some(slot) = self.lengths.get_mut(usize::from(symbol)) {
                *slot = depth as u8;
            }
        }
        self.assign_codes();
    }

    /// Bits to write `freqs` with this code, extra bits not counted.
    fn cost(&self, freqs: &[u32]) -> u64 {
        freqs
            .iter()
            .zip(&self.lengths)
            .map(|(&f, &l)| u64::from(f) * u64::from(l))
            .sum()
    }
}

/// Scratch space for building codes.
pub(super) struct Scratch {
    sorted: [(u32, u16); LITLEN_USED],
    depths: [u32; LITLEN_USED],
}

/// Code lengths from symbol counts sorted in increasing order, in place:
/// Moffat and Katajainen's in-place algorithm ("In-Place Calculation of
/// Minimum-Redundancy Codes", 1995). `a` holds at least two counts; on
/// return `a[i]` is the code length of the `i`-th rarest symbol, and the
/// lengths form a complete code (the longest may exceed 15).
fn minimum_redundancy(a: &mut [u32]) {
    let n = a.len();
    if n < 2 {
        if let Some(first) = a.first_mut() {
            *first = 1;
        }
        return;
    }
    // Phase 1: combine the two lightest of the leaves and internal nodes,
    // storing internal nodes' weights, then their parents, at the front.
    a[0] += a[1];
    let (mut root, mut leaf) = (0, 2);
    for next in 1..n - 1 {
        if leaf >= n || a[root] < a[leaf] {
            a[next] = a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] = a[leaf];
            leaf += 1;
        }
        if leaf >= n || (root < next && a[root] < a[leaf]) {
            a[next] += a[root];
            a[root] = next as u32;
            root += 1;
        } else {
            a[next] += a[leaf];
            leaf += 1;
        }
    }
    // Phase 2: internal nodes' depths from their parents'.
    a[n - 2] = 0;
    for next in (0..n - 2).rev() {
        a[next] = a[a[next] as usize] + 1;
    }
    // Phase 3: leaves' depths, deepest first from the front.
    let (mut avail, mut used, mut depth) = (1usize, 0usize, 0u32);
    let mut root = n as isize - 2;
    let mut next = n as isize - 1;
    while avail > 0 {
        while root >= 0 && a[root as usize] == depth {
            used += 1;
            root -= 1;
        }
        while avail > used {
            a[next as usize] = depth;
            next -= 1;
            avail -= 1;
        }
        avail = 2 * used;
        depth += 1;
        used = 0;
    }
}

/// Makes `depths` (sorted rarest first, a complete code) respect
/// `max_len`: codes that are too long are cut to `max_len`, then codes
/// are moved down one level at a time, from the longest level below
/// `max_len` that has one, until the code is complete again. The rarest
/// symbols keep the longest codes.
fn limit_lengths(depths: &mut [u32], max_len: u32) {
    let max = max_len as usize;
    let mut count = [0u32; MAX_CODE_LENGTH + 1];
    for &d in depths.iter() {
        count[(d as usize).clamp(1, max)] += 1;
    }
    // Kraft sum, in units of one code of length `max`.
    let full = 1u64 << max;
    let mut total: u64 = (1..=max)
        .map(|len| u64::from(count[len]) << (max - len))
        .sum();
    if total == full && depths.iter().all(|&d| d as usize <= max) {
        return;
    }
    while total > full {
        // Drop one code of the longest length, and split one shorter code
        // into two one bit longer: the sum falls by exactly one unit.
        count[max] = count[max].saturating_sub(1);
        if let Some(len) = (1..max).rev().find(|&len| count[len] > 0) {
            count[len] -= 1;
            count[len + 1] += 2;
        }
        total -= 1;
    }
    // Give the lengths out again, longest first to the rarest symbols.
    let mut i = 0;
    for len in (1..=max).rev() {
        for _ in 0..count[len] {
            if let Some(d) = depths.get_mut(i) {
                *d = len as u32;
            }
            i += 1;
        }
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
            scratch: Scratch {
                sorted: [(0, 0); LITLEN_USED],
                depths: [0; LITLEN_USED],
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths_for(freqs: &[u32], max: u32) -> Vec<u8> {
        let mut code = Code::<LITLEN_SYMBOLS>::new();
        let mut scratch = Scratch {
            sorted: [(0, 0); LITLEN_USED],
            depths: [0; LITLEN_USED],
        };
        code.build(freqs, max, &mut scratch);
        code.lengths[..freqs.len()].to_vec()
    }

    fn kraft(lengths: &[u8]) -> f64 {
        lengths
            .iter()
            .filter(|&&l| l > 0)
            .map(|&l| 0.5f64.powi(i32::from(l)))
            .sum()
    }

    #[test]
    fn builds_optimal_lengths_for_a_small_alphabet() {
        // Counts 1, 1, 2, 4: lengths 3, 3, 2, 1.
        assert_eq!(lengths_for(&[1, 1, 2, 4], 15), [3, 3, 2, 1]);
        assert_eq!(lengths_for(&[5, 5, 5, 5], 15), [2, 2, 2, 2]);
    }

    #[test]
    fn always_makes_at_least_two_codes() {
        assert_eq!(lengths_for(&[0, 0, 7], 15), [1, 0, 1]);
        assert_eq!(lengths_for(&[9, 0, 0], 15), [1, 1, 0]);
        assert_eq!(lengths_for(&[0, 0, 0], 15), [1, 1, 0]);
    }

    #[test]
    fn limits_lengths_and_keeps_the_code_complete() {
        // Fibonacci counts give a code as deep as the alphabet is long.
        let mut fib = vec![1u32, 1];
        while fib.len() < 30 {
            let next = fib[fib.len() - 1] + fib[fib.len() - 2];
            fib.push(next);
        }
        let fifteen = lengths_for(&fib, 15);
        assert!(fifteen.iter().all(|&l| (1..=15).contains(&l)));
        assert_eq!(kraft(&fifteen), 1.0);
        let seven = lengths_for(&fib[..19], 7);
        assert!(seven.iter().all(|&l| (1..=7).contains(&l)), "{seven:?}");
        assert_eq!(kraft(&seven), 1.0);
        // The most frequent symbol keeps the shortest code.
        assert_eq!(seven.iter().min(), seven.last());
    }
}
