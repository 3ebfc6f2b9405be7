//! Huffman codes for the encoder: optimal code lengths from symbol
//! counts, limited to the format's longest code (RFC 1951 §3.2.7: 15 bits,
//! 7 for the code-length code), and canonical codes from lengths
//! (§3.2.2).

use crate::sansio::deflate::encode::LITLEN_USED;
use crate::sansio::deflate::huffman::reverse;
use crate::sansio::deflate::tables::MAX_CODE_LENGTH;

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
    pub(super) fn assign_codes(&mut self) {
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
    pub(super) fn from_lengths(lengths: &[u8]) -> Code<N> {
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
    pub(super) fn build(&mut self, freqs: &[u32], max_len: u32, scratch: &mut Scratch) {
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
    pub(super) fn cost(&self, freqs: &[u32]) -> u64 {
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

impl Scratch {
    pub(super) fn new() -> Scratch {
        Scratch {
            sorted: [(0, 0); LITLEN_USED],
            depths: [0; LITLEN_USED],
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sansio::deflate::tables::LITLEN_SYMBOLS;

    fn lengths_for(freqs: &[u32], max: u32) -> Vec<u8> {
        let mut code = Code::<LITLEN_SYMBOLS>::new();
        let mut scratch = Scratch::new();
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
