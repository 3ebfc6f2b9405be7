//! A dynamic block's header (RFC 1951 §3.2.7): the code lengths of the
//! literal/length and distance codes, themselves Huffman-coded with the
//! code-length code, and the two codes built from them.

use crate::error::Result;
use crate::sansio::deflate::huffman::{BuildError, Lookup};
use crate::sansio::deflate::tables::END_OF_BLOCK;

use super::{Inflater, corrupt};

impl Inflater {
    /// Reads code lengths with the code-length code (§3.2.7) until `total`
    /// are read or the input runs out; returns how many are read.
    pub(super) fn code_lengths(
        &mut self,
        total: u16,
        mut done: u16,
        input: &[u8],
        at: &mut usize,
    ) -> Result<u16> {
        let tables = &mut *self.tables;
        while done < total {
            self.bits.refill(input, at);
            let (symbol, len) = match tables.code_lengths.decode(self.bits.buf, self.bits.count) {
                Lookup::Symbol(symbol, len) => (symbol, len),
                Lookup::NeedMore => return Ok(done),
                Lookup::Invalid => return Err(corrupt("invalid code-length code")),
            };
            // §3.2.7: 0-15 a code length; 16 "copy the previous code
            // length 3 - 6 times" (2 extra bits); 17 "repeat a code length
            // of 0 for 3 - 10 times" (3 bits); 18 "... 11 - 138 times" (7 bits).
            let (extra, base, value) = match symbol {
                0..=15 => (0, 1, symbol as u8),
                16 => {
                    let Some(&previous) = done
                        .checked_sub(1)
                        .and_then(|i| tables.lengths.get(usize::from(i)))
                    else {
                        return Err(corrupt("code length 16 with no previous length"));
                    };
                    (2, 3, previous)
                }
                17 => (3, 3, 0),
                _ => (7, 11, 0),
            };
            if self.bits.count < len + extra {
                return Ok(done);
            }
            self.bits.consume(len);
            let repeat = base + self.bits.take(extra) as u16;
            let end = done + repeat;
            // The repeats may cross from the literal/length lengths into
            // the distance lengths (§3.2.7: "a single code length sequence
            // ... of HLIT + 257 + HDIST + 1" lengths), not past the end.
            let Some(run) = tables
                .lengths
                .get_mut(usize::from(done)..usize::from(end))
                .filter(|_| end <= total)
            else {
                return Err(corrupt("code lengths repeat past the end"));
            };
            run.fill(value);
            done = end;
        }
        Ok(done)
    }

    pub(super) fn build_dynamic(&mut self, hlit: usize, hdist: usize) -> Result<()> {
        let tables = &mut *self.tables;
        let litlen = tables.lengths.get(..hlit).unwrap_or_default();
        let dist = tables.lengths.get(hlit..hlit + hdist).unwrap_or_default();
        // §3.2.5: every block ends with the end-of-block symbol, so it
        // must have a code.
        if litlen.get(END_OF_BLOCK).is_none_or(|&len| len == 0) {
            return Err(corrupt("no code for end-of-block"));
        }
        tables.litlen.build(litlen, true).map_err(|e| match e {
            BuildError::OverSubscribed => corrupt("over-subscribed literal/length code"),
            BuildError::Incomplete => corrupt("incomplete literal/length code"),
        })?;
        tables.dist.build(dist, true).map_err(|e| match e {
            BuildError::OverSubscribed => corrupt("over-subscribed distance code"),
            BuildError::Incomplete => corrupt("incomplete distance code"),
        })?;
        Ok(())
    }
}
