//! Reading the DEFLATE bit stream (RFC 1951 §3.1.1): "Data elements are
//! packed into bytes in order of increasing bit number within the byte",
//! so the stream is a little-endian number read from its low end.

/// Up to 64 stream bits not yet used, the next one at bit 0.
///
/// Bits above `count` are always zero or the stream's own next bits (a
/// refill may load bytes ahead, which it loads again later at the same
/// place), so a lookup may look past `count` and only has to check that
/// the code it finds is no longer than `count`.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct BitReader {
    pub(super) buf: u64,
    pub(super) count: u32,
}

impl BitReader {
    /// Loads bytes from `input[*at..]` until at least 56 bits are held or
    /// the input runs out, advancing `*at` past the bytes it used.
    #[inline(always)]
    pub(super) fn refill(&mut self, input: &[u8], at: &mut usize) {
        if self.count >= 56 {
            return;
        }
        if let Some(word) = input.get(*at..).and_then(|rest| rest.first_chunk::<8>()) {
            // Load eight bytes at once and keep as many whole bytes as fit.
            self.buf |= u64::from_le_bytes(*word) << self.count;
            let bytes = (63 - self.count) / 8;
            *at += bytes as usize;
            self.count += bytes * 8;
            return;
        }
        while self.count <= 56 {
            let Some(&byte) = input.get(*at) else { break };
            self.buf |= u64::from(byte) << self.count;
            *at += 1;
            self.count += 8;
        }
    }

    /// Drops `n` bits (at most `count`).
    #[inline(always)]
    pub(super) fn consume(&mut self, n: u32) {
        debug_assert!(n <= self.count);
        self.buf = self.buf.checked_shr(n).unwrap_or(0);
        self.count -= n.min(self.count);
    }

    /// The next `n` bits (`n` at most 32) as a number, and drops them.
    /// The caller has checked that `count >= n`.
    #[inline(always)]
    pub(super) fn take(&mut self, n: u32) -> u32 {
        let value = (self.buf & low_mask(n)) as u32;
        self.consume(n);
        value
    }

    /// Drops the bits up to the next byte boundary (§3.2.4: a stored
    /// block's "remaining bits in the current partially processed byte"
    /// are ignored).
    #[inline]
    pub(super) fn align(&mut self) {
        self.consume(self.count % 8);
    }

    /// Clears whatever lies above `count`, so nothing but stream bits is
    /// kept between calls.
    pub(super) fn trim(&mut self) {
        self.buf &= low_mask(self.count);
    }
}

/// A number with its low `n` bits set (`n` up to 64).
#[inline(always)]
pub(super) fn low_mask(n: u32) -> u64 {
    1u64.checked_shl(n).map_or(u64::MAX, |bit| bit - 1)
}
