//! A connection's compressor or decompressor, made at its first message.
//!
//! Negotiating permessage-deflate costs nothing until a compressed
//! message is sent or received: a deflater holds about 150 KiB and an
//! inflater 2^w bytes plus 7 KiB (see [`Deflater`] and [`Inflater`]),
//! which thousands of idle connections would otherwise hold from the
//! handshake on. Once made it is kept for the connection's life, as
//! context takeover needs (RFC 7692 §7.1.1), and never made again.

use crate::sansio::deflate::{Deflater, Inflater};

/// One direction's [`Deflater`] or [`Inflater`], made with its window
/// bits and context setting the first time it is needed.
#[derive(Debug)]
pub(crate) struct OnFirstUse<T> {
    made: Option<T>,
    window_bits: u8,
    no_context_takeover: bool,
    make: fn(u8, bool) -> T,
}

impl<T> OnFirstUse<T> {
    /// The coder, made now if this is its first use.
    pub(crate) fn get(&mut self) -> &mut T {
        let (bits, reset, make) = (self.window_bits, self.no_context_takeover, self.make);
        self.made.get_or_insert_with(|| make(bits, reset))
    }

    /// Whether it has been made.
    #[cfg(test)]
    pub(crate) fn is_made(&self) -> bool {
        self.made.is_some()
    }
}

impl OnFirstUse<Deflater> {
    /// A deflater to make when the first compressed message is sent.
    pub(crate) fn deflater(window_bits: u8, no_context_takeover: bool) -> Self {
        OnFirstUse {
            made: None,
            window_bits,
            no_context_takeover,
            make: Deflater::new,
        }
    }
}

impl OnFirstUse<Inflater> {
    /// An inflater to make when the first compressed message arrives.
    pub(crate) fn inflater(window_bits: u8, no_context_takeover: bool) -> Self {
        OnFirstUse {
            made: None,
            window_bits,
            no_context_takeover,
            make: Inflater::new,
        }
    }

    /// An inflater already made.
    pub(crate) fn made(inflater: Inflater) -> Self {
        OnFirstUse {
            window_bits: inflater.window_bits(),
            no_context_takeover: inflater.no_context_takeover(),
            made: Some(inflater),
            make: Inflater::new,
        }
    }
}
