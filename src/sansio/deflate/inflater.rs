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
use crate::sansio::deflate::bits::BitReader;
use crate::sansio::deflate::huffman::{BuildError, HuffmanDecoder};
use crate::sansio::deflate::tables::{
    CODE_LENGTH_ORDER, DIST_SYMBOLS, FIXED_DIST_LENGTHS, LITLEN_SYMBOLS, fixed_litlen_lengths,
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
}

mod blocks;
mod dynamic;
mod output;
#[cfg(test)]
mod tests;
