//! permessage-deflate (RFC 7692): compressed messages, with a DEFLATE
//! (RFC 1951) written here, `no_std` + `alloc`, no dependency.
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
//! The pieces are pure and stand alone: a connection makes one
//! [`Inflater`] and one [`Deflater`] from the [`negotiate::Agreed`]
//! parameters, sets RSV1 on the first frame of each compressed message,
//! and passes payloads through them.
//!
//! Memory per connection, allocated once, when the inflater or deflater is
//! made (never per message): the inflater holds its window (2^w bytes for
//! the window bits w the peer compresses with) and about 7 KiB of
//! decoding tables; the deflater's sizes are in [`Deflater`]'s docs (at
//! most 148 KiB, with w = 15).

mod bits;
mod deflater;
mod encode;
pub mod extensions;
mod huffman;
mod inflater;
mod lz77;
pub mod negotiate;
mod tables;

pub use deflater::Deflater;
pub use inflater::Inflater;

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
