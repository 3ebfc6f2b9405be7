//! `connection`'s permessage-deflate parameters, from its input, and the
//! oracle for our compressed messages: each inflates back to what was
//! sent, with plainws's inflater and (in the fuzz build) `miniz_oxide`.

use plainws::Role;
use plainws::sansio::deflate::negotiate::Agreed;
use plainws::sansio::deflate::{Inflater, TAIL};

use crate::miniz_reference::{Reference, reference_once};

/// The agreed permessage-deflate parameters, from the byte after the
/// flags: bits 0–2 the server's window bits − 8, bits 3–5 the client's,
/// bit 6 `server_no_context_takeover`, bit 7 `client_no_context_takeover`.
pub(super) fn agreed_from(byte: u8) -> Agreed {
    Agreed {
        server_no_context_takeover: byte & 0x40 != 0,
        client_no_context_takeover: byte & 0x80 != 0,
        server_max_window_bits: 8 + (byte & 7),
        client_max_window_bits: 8 + ((byte >> 3) & 7),
    }
}

/// The window bits and context reset of what `sender` compresses.
pub(super) fn side(agreed: &Agreed, sender: Role) -> (u8, bool) {
    match sender {
        Role::Server => (
            agreed.server_max_window_bits,
            agreed.server_no_context_takeover,
        ),
        Role::Client => (
            agreed.client_max_window_bits,
            agreed.client_no_context_takeover,
        ),
    }
}

/// Keeps `history` to its last `window` bytes.
pub(super) fn keep_window(history: &mut Vec<u8>, window: usize) {
    let excess = history.len().saturating_sub(window);
    history.drain(..excess);
}

/// Our compressed messages, inflated back as the peer would.
pub(super) struct SentMessages {
    pub(super) bits: u8,
    pub(super) reset: bool,
    /// plainws's own inflater with our side's parameters (made at the
    /// first compressed message).
    pub(super) inflater: Option<Inflater>,
    /// What `miniz_oxide` may refer back to: the last 2^bits bytes of
    /// our earlier compressed messages (none with context reset).
    pub(super) history: Vec<u8>,
}

impl SentMessages {
    pub(super) fn check(&mut self, payload: &[u8], message: &[u8]) {
        let (bits, reset) = (self.bits, self.reset);
        let inflater = self
            .inflater
            .get_or_insert_with(|| Inflater::new(bits, reset));
        let mut out = Vec::new();
        let result = inflater
            .inflate(payload, &mut out, u64::MAX)
            .and_then(|()| inflater.finish_message(&mut out, u64::MAX));
        assert!(
            result.is_ok(),
            "our compressed message does not inflate: {result:?}"
        );
        assert!(
            out == message,
            "our compressed message inflates to other bytes"
        );
        let input = [payload, &TAIL[..]].concat();
        match reference_once(&input, &self.history, message.len() as u64) {
            None => {}
            Some(Reference::Done(theirs)) => {
                assert!(
                    theirs == message,
                    "miniz_oxide inflates our message to other bytes"
                );
            }
            Some(Reference::EndedEarly(_)) => panic!("a final block in our compressed message"),
            Some(Reference::Failed) => panic!("miniz_oxide refuses our compressed message"),
        }
        if !self.reset {
            self.history.extend_from_slice(message);
            keep_window(&mut self.history, 1 << self.bits);
        }
    }
}
