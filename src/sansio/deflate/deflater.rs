//! The deflater: compresses each message of one direction of a
//! permessage-deflate connection (RFC 7692 §7.2.1).
//!
//! §7.2.1: "1. Compress all the octets of the payload of the message
//! using DEFLATE. 2. If the resulting data does not end with an empty
//! DEFLATE block with no compression (the "BTYPE" bits are set to 00),
//! append an empty DEFLATE block with no compression to the tail end.
//! 3. Remove 4 octets (that are 0x00 0x00 0xff 0xff) from the tail end."
//!
//! [`Deflater::compress_message`] does the three steps at once: the
//! message is compressed in chunks of 16 KiB, each one block (fixed or
//! dynamic Huffman codes, or stored, whichever is shortest, §3.2.3), then
//! the empty stored block's 3 header bits and padding end it, and its
//! LEN and NLEN (the `00 00 ff ff`) are never written.
//!
//! With context takeover the next message may refer to this one's bytes
//! (§7.1.1: the "LZ77 sliding window" is kept); with `no_context_takeover`
//! each message starts from nothing.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::sansio::deflate::encode::{BitWriter, BlockEncoder, Symbol};
use crate::sansio::deflate::lz77::{self, HASH_SIZE, HashTable};
use crate::sansio::deflate::{MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// Bytes of a message compressed as one block.
const CHUNK: usize = 16 * 1024;

/// A DEFLATE compressor for the messages of one direction.
///
/// Memory, allocated once by [`Deflater::new`] (never per message), for
/// window bits w: the history and the chunk being compressed (2^w + 16,384
/// bytes), the hash table (32,768 bytes), the chunk's symbols (65,536
/// bytes) and the Huffman codes, counts and scratch (7,308 bytes):
/// 154,764 bytes (151 KiB) for w = 15, 122,252 bytes (119 KiB) for w = 8
/// ([`Deflater::heap_size`]; a test keeps these numbers true).
pub struct Deflater {
    window_bits: u8,
    no_context_takeover: bool,
    /// The last 2^w bytes compressed (when context is kept), then the
    /// chunk being compressed.
    buf: Vec<u8>,
    table: Box<HashTable>,
    symbols: Vec<Symbol>,
    encoder: Box<BlockEncoder>,
}

impl core::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Deflater")
            .field("window_bits", &self.window_bits)
            .field("no_context_takeover", &self.no_context_takeover)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A deflater whose matches reach back at most 2^`window_bits` bytes
    /// (the agreed `*_max_window_bits` for what this side sends, RFC 7692
    /// §7.1.2; clamped to 8..=15), forgetting each message's bytes before
    /// the next when `no_context_takeover` (§7.1.1).
    pub fn new(window_bits: u8, no_context_takeover: bool) -> Deflater {
        let window_bits = window_bits.clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS);
        Deflater {
            window_bits,
            no_context_takeover,
            buf: Vec::with_capacity((1 << window_bits) + CHUNK),
            table: Box::new([0; HASH_SIZE]),
            symbols: Vec::with_capacity(CHUNK),
            encoder: Box::new(BlockEncoder::new()),
        }
    }

    /// The window size this deflater keeps to, as a base-2 logarithm.
    pub fn window_bits(&self) -> u8 {
        self.window_bits
    }

    /// Compresses one message's payload, appending to `out` what goes in
    /// the message's frames (RFC 7692 §7.2.1: the DEFLATE data, ended by
    /// an empty stored block whose last 4 bytes are removed). An empty
    /// payload gives the single byte `0x00` (§7.2.3.6).
    pub fn compress_message(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        if self.no_context_takeover {
            self.buf.clear();
        }
        let window = 1usize << self.window_bits;
        let mut writer = BitWriter::new(out);
        for chunk in payload.chunks(CHUNK) {
            if self.buf.len() + chunk.len() > window + CHUNK {
                self.slide(window);
            }
            let start = self.buf.len();
            self.buf.extend_from_slice(chunk);
            lz77::parse(
                &self.buf,
                start,
                window,
                &mut self.table,
                &mut self.symbols,
                &mut self.encoder,
            );
            let raw = self.buf.get(start..).unwrap_or_default();
            self.encoder.write_block(&mut writer, &self.symbols, raw);
            self.symbols.clear();
        }
        // The empty stored block of the sync flush: BFINAL 0, BTYPE 00,
        // padding to a byte. Its LEN and NLEN are the removed tail.
        writer.put(0, 3);
        writer.align();
    }

    /// Forgets every earlier message: the state of a new connection,
    /// without allocating.
    pub fn reset(&mut self) {
        self.buf.clear();
    }

    /// The heap this deflater holds, in bytes.
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
            + core::mem::size_of::<HashTable>()
            + self.symbols.capacity() * core::mem::size_of::<Symbol>()
            + core::mem::size_of::<BlockEncoder>()
    }

    /// Keeps only the last `window` bytes of history, moved to the front,
    /// and moves the hash table's positions with them.
    fn slide(&mut self, window: usize) {
        let drop = self.buf.len().saturating_sub(window);
        self.buf.copy_within(drop.., 0);
        self.buf.truncate(self.buf.len() - drop);
        let drop = drop as u16;
        for position in self.table.iter_mut() {
            *position = position.saturating_sub(drop);
        }
    }
}
