//! Unpredictable bytes for masking keys and handshake nonces, with no
//! extra crate (RFC 6455 §5.3, §10.3).
//!
//! "The masking key needs to be unpredictable; thus, the masking key MUST
//! be derived from a strong source of entropy." The standard library's
//! `RandomState` is keyed from the operating system's random source
//! (`getrandom` on Linux) and hashes with SipHash, a keyed pseudorandom
//! function. Hashing a counter under a secret key gives a stream the peer
//! cannot predict without the key, at the cost of one hash per 8 bytes.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// A per-connection source of unpredictable bytes.
#[derive(Debug)]
pub struct Entropy {
    key: RandomState,
    counter: u64,
}

impl Default for Entropy {
    fn default() -> Entropy {
        Entropy::new()
    }
}

impl Entropy {
    /// A source keyed afresh from the operating system's randomness.
    pub fn new() -> Entropy {
        Entropy {
            key: RandomState::new(),
            counter: 0,
        }
    }

    /// The next 64 unpredictable bits.
    pub fn next_u64(&mut self) -> u64 {
        self.counter = self.counter.wrapping_add(1);
        self.key.hash_one(self.counter)
    }

    /// A masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        let bits = self.next_u64().to_le_bytes();
        [bits[0], bits[1], bits[2], bits[3]]
    }

    /// A 16-byte nonce for `Sec-WebSocket-Key` (RFC 6455 §4.1 item 7).
    pub fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = [0u8; 16];
        nonce[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        nonce[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_do_not_repeat_within_or_across_sources() {
        let mut seen = HashSet::new();
        for _ in 0..4 {
            let mut entropy = Entropy::new();
            for _ in 0..1000 {
                assert!(seen.insert(entropy.next_u64()));
            }
        }
    }

    #[test]
    fn nonces_differ() {
        let mut entropy = Entropy::new();
        assert_ne!(entropy.nonce(), entropy.nonce());
        assert_ne!(Entropy::new().nonce(), Entropy::new().nonce());
    }
}
