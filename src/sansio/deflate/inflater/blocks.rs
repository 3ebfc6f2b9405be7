//! The bodies of the two kinds of block (RFC 1951 §3.2.3): stored bytes
//! copied as they are (§3.2.4), and Huffman-coded literals and
//! length/distance pairs, with fixed or dynamic codes (§3.2.5–§3.2.7).

use alloc::vec::Vec;

use super::{Inflater, corrupt};
use crate::error::Result;
use crate::sansio::deflate::bits::low_mask;
use crate::sansio::deflate::huffman::Lookup;
use crate::sansio::deflate::tables::{
    DIST_BASE, DIST_EXTRA, END_OF_BLOCK, LENGTH_BASE, LENGTH_EXTRA,
};

impl Inflater {
    /// Copies a stored block's bytes: first the whole bytes still in the
    /// bit buffer, then straight from the input. Returns the bytes left.
    pub(super) fn stored(
        &mut self,
        mut left: u16,
        input: &[u8],
        at: &mut usize,
        out: &mut Vec<u8>,
        limit: u64,
    ) -> Result<u16> {
        while left > 0 && self.bits.count >= 8 {
            self.make_room(out, 1, limit)?;
            out.push(self.bits.take(8) as u8);
            self.produced += 1;
            left -= 1;
        }
        // The bit buffer is empty and aligned here; clear what it loaded
        // ahead, since those bytes are now copied straight from the input.
        self.bits.trim();
        let rest = input.get(*at..).unwrap_or_default();
        let n = usize::from(left).min(rest.len());
        if n > 0 {
            self.make_room(out, n, limit)?;
            out.extend_from_slice(&rest[..n]);
            self.produced += n as u64;
            *at += n;
            left -= n as u16;
        }
        Ok(left)
    }

    /// Decodes a compressed block's symbols (§3.2.5) until its end (true)
    /// or the input runs out (false).
    pub(super) fn codes(
        &mut self,
        fixed: bool,
        input: &[u8],
        at: &mut usize,
        out: &mut Vec<u8>,
        call_start: usize,
        limit: u64,
    ) -> Result<bool> {
        let tables = &*self.tables;
        let (litlen, dist) = if fixed {
            (&tables.fixed_litlen, &tables.fixed_dist)
        } else {
            (&tables.litlen, &tables.dist)
        };
        let mut bits = self.bits;
        // Bytes that may be written with no check: room in `out` that is
        // also under the limit. Refreshed by `make_room` when it runs out.
        let mut budget = self.budget(out, limit);
        let result = loop {
            bits.refill(input, at);
            let (symbol, len) = match litlen.decode(bits.buf, bits.count) {
                Lookup::Symbol(symbol, len) => (usize::from(symbol), len),
                Lookup::NeedMore => break Ok(false),
                Lookup::Invalid => break Err(corrupt("invalid literal/length code")),
            };
            if symbol < 256 {
                if budget == 0 {
                    if let Err(e) = self.make_room(out, 1, limit) {
                        break Err(e);
                    }
                    budget = self.budget(out, limit);
                }
                out.push(symbol as u8);
                self.produced += 1;
                budget -= 1;
                bits.consume(len);
                continue;
            }
            if symbol == END_OF_BLOCK {
                bits.consume(len);
                break Ok(true);
            }
            // A length: its extra bits, then a distance code and its extra
            // bits (§3.2.5). All are read before any is used.
            let Some((&base, &extra)) = LENGTH_BASE
                .get(symbol - 257)
                .zip(LENGTH_EXTRA.get(symbol - 257))
            else {
                break Err(corrupt("literal/length symbol 286 or 287"));
            };
            let extra = u32::from(extra);
            let mut used = len + extra;
            if bits.count < used {
                break Ok(false);
            }
            let length = usize::from(base) + ((bits.buf >> len) & low_mask(extra)) as usize;
            let rest = bits.buf >> used;
            let (dsymbol, dlen) = match dist.decode(rest, bits.count - used) {
                Lookup::Symbol(symbol, len) => (usize::from(symbol), len),
                Lookup::NeedMore => break Ok(false),
                Lookup::Invalid => break Err(corrupt("invalid distance code")),
            };
            let Some((&dbase, &dextra)) = DIST_BASE.get(dsymbol).zip(DIST_EXTRA.get(dsymbol))
            else {
                break Err(corrupt("distance symbol 30 or 31"));
            };
            let dextra = u32::from(dextra);
            if bits.count < used + dlen + dextra {
                break Ok(false);
            }
            let distance = usize::from(dbase) + ((rest >> dlen) & low_mask(dextra)) as usize;
            used += dlen + dextra;
            // §3.2.5: "the distance is ... back in the output stream": it
            // may reach neither past the window nor before the first byte.
            let seen = self.window_filled + (out.len() - call_start);
            if distance > self.window.len() || distance > seen {
                break Err(corrupt("distance too far back"));
            }
            if length > budget {
                if let Err(e) = self.make_room(out, length, limit) {
                    break Err(e);
                }
                budget = self.budget(out, limit);
            }
            bits.consume(used);
            self.copy_match(out, call_start, distance, length);
            self.produced += length as u64;
            budget -= length;
        };
        self.bits = bits;
        result
    }
}
