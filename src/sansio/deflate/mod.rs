//! permessage-deflate (RFC 7692): compressed messages, with a DEFLATE
//! (RFC 1951) written here, `no_std` + `alloc`, no dependency.
//!
//! Low level, for study, fuzzing and custom drivers: applications turn
//! compression on with [`Config::compression`](field@crate::Config::compression)
//! and a [`DeflateConfig`](crate::DeflateConfig); the drivers negotiate it
//! and compress.
//!
//! - [`Inflater`]: decompresses the messages of one direction, fed in
//!   pieces split anywhere, checking every output byte against the
//!   caller's message limit (RFC 7692 §7.2.2).
//! - [`Deflater`]: compresses each message (LZ77 with a hash table of
//!   recent positions, fixed or dynamic Huffman codes) and ends it with a
//!   sync flush whose 4-byte tail is removed (§7.2.1).
//! - [`extensions`]: the `Sec-WebSocket-Extensions` header's grammar
//!   (RFC 6455 §9.1).
//! - [`negotiate`]: the offer, the choice and the check of parameters
//!   (RFC 7692 §5, §7.1), giving the [`negotiate::Agreed`] parameters.
//!
//! ```
//! use plainws::sansio::deflate::{Deflater, Inflater};
//!
//! // One direction of a connection: window 2^15, context kept.
//! let mut deflater = Deflater::new(15, false);
//! let mut inflater = Inflater::new(15, false);
//! let mut payload = Vec::new();
//! deflater.compress_message(b"Hello", &mut payload);
//! assert_eq!(payload, [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]); // RFC 7692 §7.2.3.1
//!
//! let limit = 64 << 20; // the message size limit, as Config::max_message_size
//! let mut message = Vec::new();
//! for frame in payload.chunks(3) {
//!     inflater.inflate(frame, &mut message, limit)?;
//! }
//! inflater.finish_message(&mut message, limit)?;
//! assert_eq!(message, b"Hello");
//! # Ok::<(), plainws::Error>(())
//! ```
//!
//! The pieces are pure and stand alone: a connection makes one
//! [`Inflater`] and one [`Deflater`] from the [`negotiate::Agreed`]
//! parameters, sets RSV1 on the first frame of each compressed message,
//! and passes payloads through them.
//!
//! Memory per connection, allocated once, when the inflater or deflater is
//! made (never per message; a connection makes each at its first
//! compressed message in that direction, so idle ones hold neither): the inflater holds its window (2^w bytes for
//! the window bits w the peer compresses with) and about 7 KiB of
//! decoding tables; the deflater's sizes are in [`Deflater`]'s docs
//! (154,764 bytes with w = 15, 122,252 with w = 8). Both report theirs
//! with `heap_size()`.

mod bits;
mod code_lengths;
mod deflater;
mod encode;
pub mod extensions;
mod huffman;
mod inflater;
mod lz77;
pub mod negotiate;
mod on_first_use;
mod tables;

pub use deflater::Deflater;
pub use inflater::Inflater;
pub(crate) use on_first_use::OnFirstUse;

/// The smallest LZ77 window a peer may ask for: 2^8 bytes (RFC 7692
/// §7.1.2.1: "a value in the range between 8 and 15").
pub const MIN_WINDOW_BITS: u8 = 8;

/// The largest LZ77 window, and the default: 2^15 = 32,768 bytes (RFC 1951
/// §2: "up to 32K bytes").
pub const MAX_WINDOW_BITS: u8 = 15;

/// What a sender removes from the end of each compressed message and a
/// receiver puts back (RFC 7692 §7.2.1, §7.2.2): the LEN and NLEN of the
/// empty stored block that ends a sync flush.
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

#[cfg(test)]
mod tests;
