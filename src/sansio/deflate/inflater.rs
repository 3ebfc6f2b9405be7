//! The inflater: a streaming DEFLATE decoder (RFC 1951) for the messages
//! of one direction of a permessage-deflate connection (RFC 7692 §7.2.2).
//!
//! A message's payload is a raw DEFLATE stream whose tail `00 00 ff ff`
//! was removed. Feed it with [`Inflater::inflate`] as it arrives, in
//! pieces split anywhere (one frame at a time, or one byte), then call
//! [`Inflater::finish_message`], which feeds the removed tail: §7.2.2,
//! "Append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload
//! of the message. Decompress the resulting data using DEFLATE."
//!
//! All decoding state is in the struct, so a piece may end anywhere, in
//! the middle of a code included. Each step is taken only when all of its
//! bits are present (a length, its distance and their extra bits: at most
//! 48 bits), otherwise they wait in the bit buffer for the next piece.
//!
//! Memory: the sliding window (2^`window_bits` bytes) and the decoding
//! tables (about 7 KiB) are allocated once, by [`Inflater::new`], and
//! reused for every message and block. The output goes to the caller's
//! `Vec`, grown no further than the message's limit allows.
//!
//! Every rule of RFC 1951 is checked; a violation is
//! [`Error::InvalidCompressedData`] (close code 1007), and the inflater is
//! then unusable. Going over the caller's `limit` is
//! [`Error::MessageTooLarge`] (close code 1009), before the byte over it
//! is written.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::sansio::deflate::bits::{BitReader, low_mask};
use crate::sansio::deflate::huffman::{BuildError, HuffmanDecoder, Lookup};
use crate::sansio::deflate::tables::{
    CODE_LENGTH_ORDER, DIST_BASE, DIST_EXTRA, DIST_SYMBOLS, END_OF_BLOCK, FIXED_DIST_LENGTHS,
    LENGTH_BASE, LENGTH_EXTRA, LITLEN_SYMBOLS, fixed_litlen_lengths,
};
use crate::sansio::deflate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS, TAIL};

/// Where the decoder stands in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before a block's 3-bit header (§3.2.3).
    BlockHeader,
    /// Before a stored block's LEN and NLEN (§3.2.4).
    StoredLength,
    /// Inside a stored block's data, `left` bytes to go.
    StoredData { left: u16 },
    /// Before a dynamic block's HLIT, HDIST and HCLEN (§3.2.7).
    DynamicSizes,
    /// Reading the code lengths of the code-length alphabet, 3 bits each.
    CodeLengthCodes {
        hlit: u16,
        hdist: u16,
        hclen: u8,
        done: u8,
    },
    /// Reading the literal/length and distance code lengths.
    CodeLengths { hlit: u16, hdist: u16, done: u16 },
    /// Decoding a compressed block's symbols (§3.2.5).
    Codes { fixed: bool },
    /// An error was returned: the stream cannot be trusted any more.
    Failed,
}

/// The literal/length decoder: a first lookup of 10 bits.
type LitLenDecoder = HuffmanDecoder<LITLEN_SYMBOLS, 10, 1024>;
/// The distance decoder: a first lookup of 8 bits.
type DistDecoder = HuffmanDecoder<DIST_SYMBOLS, 8, 256>;
/// The code-length decoder: every code (at most 7 bits) in one lookup.
type CodeLengthDecoder = HuffmanDecoder<19, 7, 128>;

/// The decoding tables, allocated once per inflater.
struct Tables {
    litlen: LitLenDecoder,
    dist: DistDecoder,
    fixed_litlen: LitLenDecoder,
    fixed_dist: DistDecoder,
    code_lengths: CodeLengthDecoder,
    /// The code lengths being read for a dynamic block: up to 286
    /// literal/length codes then up to 30 distance codes (§3.2.7).
    lengths: [u8; 286 + 30],
    /// The code lengths of the code-length alphabet.
    code_length_lengths: [u8; 19],
}

impl Tables {
    fn new() -> Tables {
        let mut tables = Tables {
            litlen: HuffmanDecoder::new(),
            dist: HuffmanDecoder::new(),
            fixed_litlen: HuffmanDecoder::new(),
            fixed_dist: HuffmanDecoder::new(),
            code_lengths: HuffmanDecoder::new(),
            lengths: [0; 286 + 30],
            code_length_lengths: [0; 19],
        };
        // The fixed codes of §3.2.6 are complete: building cannot fail.
        let _ = tables.fixed_litlen.build(&fixed_litlen_lengths(), false);
        let _ = tables.fixed_dist.build(&FIXED_DIST_LENGTHS, false);
        tables
    }
}

/// A streaming DEFLATE decoder for one direction of a connection.
pub struct Inflater {
    window_bits: u8,
    /// The sender resets its window for each message (its
    /// `*_no_context_takeover`), so a message may not refer to earlier ones.
    no_context_takeover: bool,
    state: State,
    /// The block being decoded has BFINAL set (§3.2.3).
    last_block: bool,
    bits: BitReader,
    /// The last bytes output, a ring of 2^`window_bits` bytes ending at `window_end`.
    window: Vec<u8>,
    window_end: usize,
    /// How many bytes of `window` hold output (at most its length).
    window_filled: usize,
    /// Bytes output for the current message.
    produced: u64,
    tables: Box<Tables>,
}

impl core::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Inflater")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .field("state", &self.state)
            .field("produced", &self.produced)
            .finish_non_exhaustive()
    }
}

fn corrupt(why: &'static str) -> Error {
    Error::InvalidCompressedData(why)
}

impl Inflater {
    /// An inflater for a sender whose LZ77 window is 2^`window_bits` bytes
    /// (the agreed `*_max_window_bits`, RFC 7692 §7.1.2; clamped to 8..=15),
    /// which resets its window for each message when `no_context_takeover`
    /// (§7.1.1). Allocates the window and the tables, once.
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Inflater {
        let window_bits = window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
        Inflater {
            window_bits,
            no_context_takeover,
            state: State::BlockHeader,
            last_block: false,
            bits: BitReader::default(),
            window: vec![0; 1 << window_bits],
            window_end: 0,
            window_filled: 0,
            produced: 0,
            tables: Box::new(Tables::new()),
        }
    }

    /// The window size this inflater accepts, as a base-2 logarithm.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Whether each message starts with an empty window (the sender's
    /// `*_no_context_takeover`, RFC 7692 §7.1.1).
    pub fn no_context_takeover(&self) -> bool {
        self.no_context_takeover
    }

    /// The heap this inflater holds, in bytes: the window and the tables.
    pub fn heap_size(&self) -> usize {
        self.window.capacity() + core::mem::size_of::<Tables>()
    }

    /// Bytes output so far for the current message.
    pub fn message_len(&self) -> u64 {
        self.produced
    }

    /// Decodes the next piece of a message's payload, appending the bytes
    /// it gives to `out`. Uses the whole piece.
    ///
    /// `limit` is the most bytes the whole message may inflate to: the
    /// first byte past it fails with [`Error::MessageTooLarge`] before it
    /// is written (bytes written by earlier calls of the same message
    /// count). Corrupt data fails with [`Error::InvalidCompressedData`].
    /// After an error the inflater is unusable (every call fails).
    pub fn inflate(&mut self, input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<()> {
        self.run(input, out, limit)
    }

    /// Ends the message: decodes the tail the sender removed (RFC 7692
    /// §7.2.2), checks that the message ends where it must, and makes
    /// ready for the next message (keeping the window unless
    /// `no_context_takeover`).
    ///
    /// §7.2.1 has the sender end each message with an empty stored block
    /// (a "sync flush") and remove its last 4 bytes, so with the tail put
    /// back the stream must end just after a stored block, on a byte
    /// boundary. A message that ends anywhere else (inside a block, or
    /// with a tail of its own left in) is [`Error::InvalidCompressedData`].
    pub fn finish_message(&mut self, out: &mut Vec<u8>, limit: u64) -> Result<()> {
        self.run(&TAIL, out, limit)?;
        if self.state != State::BlockHeader || self.bits.count != 0 {
            self.state = State::Failed;
            return Err(corrupt(
                "the message does not end with an empty stored block (RFC 7692 §7.2.1)",
            ));
        }
        self.produced = 0;
        if self.no_context_takeover {
            self.reset_window();
        }
        Ok(())
    }

    /// Forgets the window and any partial message: the state of a new
    /// connection, without allocating.
    pub fn reset(&mut self) {
        self.state = State::BlockHeader;
        self.last_block = false;
        self.bits = BitReader::default();
        self.produced = 0;
        self.reset_window();
    }

    fn reset_window(&mut self) {
        self.window_end = 0;
        self.window_filled = 0;
    }

    fn run(&mut self, input: &[u8], out: &mut Vec<u8>, limit: u64) -> Result<()> {
        let call_start = out.len();
        let mut at = 0;
        match self.steps(input, &mut at, out, call_start, limit) {
            Ok(()) => {
                self.bits.trim();
                self.remember(out.get(call_start..).unwrap_or_default());
                Ok(())
            }
            Err(e) => {
                self.state = State::Failed;
                Err(e)
            }
        }
    }

    /// Takes steps until the input runs out or the stream fails.
    fn steps(
        &mut self,
        input: &[u8],
        at: &mut usize,
        out: &mut Vec<u8>,
        call_start: usize,
        limit: u64,
    ) -> Result<()> {
        loop {
            self.bits.refill(input, at);
            match self.state {
                State::BlockHeader => {
                    if self.bits.count < 3 {
                        return Ok(());
                    }
                    // §3.2.3: "first bit BFINAL", "next 2 bits BTYPE".
                    let header = self.bits.take(3);
                    self.last_block = header & 1 == 1;
                    self.state = match header >> 1 {
                        0 => {
                            self.bits.align();
                            State::StoredLength
                        }
                        1 => State::Codes { fixed: true },
                        2 => State::DynamicSizes,
                        // §3.2.3: "11 - reserved (error)".
                        _ => return Err(corrupt("block type 3 is reserved")),
                    };
                }
                State::StoredLength => {
                    if self.bits.count < 32 {
                        return Ok(());
                    }
                    // §3.2.4: "LEN is the number of data bytes in the
                    // block. NLEN is the one's complement of LEN."
                    let len = self.bits.take(16) as u16;
                    let nlen = self.bits.take(16) as u16;
                    if len != !nlen {
                        return Err(corrupt("stored block length does not match its complement"));
                    }
                    self.state = if len == 0 {
                        self.end_block()
                    } else {
                        State::StoredData { left: len }
                    };
                }
                State::StoredData { left } => {
                    let left = self.stored(left, input, at, out, limit)?;
                    if left > 0 {
                        self.state = State::StoredData { left };
                        return Ok(());
                    }
                    self.state = self.end_block();
                }
                State::DynamicSizes => {
                    if self.bits.count < 14 {
                        return Ok(());
                    }
                    // §3.2.7: "5 Bits: HLIT, # of Literal/Length codes - 257
                    // (257 - 286); 5 Bits: HDIST, # of Distance codes - 1
                    // (1 - 32); 4 Bits: HCLEN, # of Code Length codes - 4".
                    let hlit = self.bits.take(5) as u16 + 257;
                    let hdist = self.bits.take(5) as u16 + 1;
                    let hclen = self.bits.take(4) as u8 + 4;
                    // Symbols 286, 287 and distances 30, 31 "will never
                    // actually occur" (§3.2.6), so a code for them is refused.
                    if hlit > 286 {
                        return Err(corrupt("more than 286 literal/length codes"));
                    }
                    if hdist > 30 {
                        return Err(corrupt("more than 30 distance codes"));
                    }
                    self.tables.code_length_lengths = [0; 19];
                    self.state = State::CodeLengthCodes {
                        hlit,
                        hdist,
                        hclen,
                        done: 0,
                    };
                }
                State::CodeLengthCodes {
                    hlit,
                    hdist,
                    hclen,
                    mut done,
                } => {
                    while done < hclen {
                        self.bits.refill(input, at);
                        if self.bits.count < 3 {
                            self.state = State::CodeLengthCodes {
                                hlit,
                                hdist,
                                hclen,
                                done,
                            };
                            return Ok(());
                        }
                        let slot = CODE_LENGTH_ORDER[usize::from(done) % 19];
                        self.tables.code_length_lengths[slot] = self.bits.take(3) as u8;
                        done += 1;
                    }
                    let tables = &mut *self.tables;
                    tables
                        .code_lengths
                        .build(&tables.code_length_lengths, false)
                        .map_err(|e| match e {
                            BuildError::OverSubscribed => {
                                corrupt("over-subscribed code-length code")
                            }
                            BuildError::Incomplete => corrupt("incomplete code-length code"),
                        })?;
                    self.state = State::CodeLengths {
                        hlit,
                        hdist,
                        done: 0,
                    };
                }
                State::CodeLengths { hlit, hdist, done } => {
                    let done = self.code_lengths(hlit + hdist, done, input, at)?;
                    if done < hlit + hdist {
                        self.state = State::CodeLengths { hlit, hdist, done };
                        return Ok(());
                    }
                    self.build_dynamic(usize::from(hlit), usize::from(hdist))?;
                    self.state = State::Codes { fixed: false };
                }
                State::Codes { fixed } => {
                    if !self.codes(fixed, input, at, out, call_start, limit)? {
                        return Ok(());
                    }
                    self.state = self.end_block();
                }
                State::Failed => return Err(corrupt("the stream failed earlier")),
            }
        }
    }

    /// The state after a block: the next block's header. After a block
    /// with BFINAL set a new stream starts on the next byte: RFC 7692
    /// §7.2.3.4 shows a sender flushing with a final block followed by
    /// the empty stored block of §7.2.1.
    fn end_block(&mut self) -> State {
        if self.last_block {
            self.last_block = false;
            self.bits.align();
        }
        State::BlockHeader
    }

    /// Copies a stored block's bytes: first the whole bytes still in the
    /// bit buffer, then straight from the input. Returns the bytes left.
    fn stored(
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
    fn codes(
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

    /// Appends `length` bytes copied from `distance` back: from the
    /// output of this call, or from the window before it, overlapping
    /// itself when `distance < length` (§3.2.3's example: "if the last 2
    /// bytes decoded have values X and Y, a string reference with <length
    /// = 5, distance = 2> adds X,Y,X,Y,X").
    fn copy_match(&self, out: &mut Vec<u8>, call_start: usize, distance: usize, length: usize) {
        let here = out.len() - call_start;
        let mut left = length;
        if distance > here {
            // The first bytes come from the window, which ends where this
            // call's output starts.
            let back = distance - here;
            let size = self.window.len();
            let from = (self.window_end + size - back) % size;
            let n = left.min(back);
            let first = n.min(size - from);
            out.extend_from_slice(self.window.get(from..from + first).unwrap_or_default());
            out.extend_from_slice(self.window.get(..n - first).unwrap_or_default());
            left -= n;
        }
        if left == 0 {
            return;
        }
        let start = out.len() - distance;
        while left > 0 {
            let n = left.min(out.len() - start);
            out.extend_from_within(start..start + n);
            left -= n;
        }
    }

    /// How many bytes fit in `out` without growing it and under the limit.
    #[inline]
    #[allow(clippy::ptr_arg)] // the capacity is the point
    fn budget(&self, out: &Vec<u8>, limit: u64) -> usize {
        let room = out.capacity() - out.len();
        let allowed = limit.saturating_sub(self.produced);
        usize::try_from(allowed).map_or(room, |allowed| room.min(allowed))
    }

    /// Makes room in `out` for `n` more bytes of this message, failing if
    /// they would take it over `limit`. Grows `out` by doubling, but never
    /// past what the limit allows, so a bomb cannot reserve more than the
    /// limit.
    #[inline]
    fn make_room(&self, out: &mut Vec<u8>, n: usize, limit: u64) -> Result<()> {
        let allowed = limit.saturating_sub(self.produced);
        if n as u64 > allowed {
            return Err(too_large(self.produced + n as u64, limit));
        }
        if out.capacity() - out.len() >= n {
            return Ok(());
        }
        let allowed = usize::try_from(allowed).unwrap_or(usize::MAX);
        let most = out.len().saturating_add(allowed);
        let want = out.len() + n;
        let target = out
            .capacity()
            .saturating_mul(2)
            .max(256)
            .min(most)
            .max(want);
        out.reserve_exact(target - out.len());
        Ok(())
    }

    /// Adds this call's output to the window (§3.2: "the compressed
    /// representation ... may refer to ... the previous 32K").
    fn remember(&mut self, new: &[u8]) {
        let size = self.window.len();
        if new.len() >= size {
            self.window.copy_from_slice(&new[new.len() - size..]);
            self.window_end = 0;
            self.window_filled = size;
            return;
        }
        let first = new.len().min(size - self.window_end);
        let (head, tail) = new.split_at(first);
        if let Some(slot) = self
            .window
            .get_mut(self.window_end..self.window_end + first)
        {
            slot.copy_from_slice(head);
        }
        if let Some(slot) = self.window.get_mut(..tail.len()) {
            slot.copy_from_slice(tail);
        }
        self.window_end = (self.window_end + new.len()) % size;
        self.window_filled = (self.window_filled + new.len()).min(size);
    }
}

fn too_large(len: u64, limit: u64) -> Error {
    Error::MessageTooLarge { len, limit }
}

mod dynamic;
#[cfg(test)]
mod tests;
