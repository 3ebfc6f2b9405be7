//! Unpredictable bytes for masking keys and handshake nonces, with no
//! extra crate (RFC 6455 §5.3, §10.3).
//!
//! "The masking key needs to be unpredictable; thus, the masking key MUST
//! be derived from a strong source of entropy." Where the operating system
//! offers `/dev/urandom` (every Unix), [`Entropy`] reads its bytes from
//! there, 512 at a time (128 masking keys per read). Elsewhere it falls back
//! to the standard library's `RandomState`: SipHash-1-3 keyed once per
//! thread from the OS, hashing a counter — unpredictable to a peer that
//! cannot see the key, though weaker than the OS source.

use std::collections::hash_map::RandomState;
use std::fs::File;
use std::hash::BuildHasher;
use std::io::Read;

/// Bytes read from the OS at a time.
const POOL: usize = 512;

/// A per-connection source of unpredictable bytes.
#[derive(Debug)]
pub struct Entropy {
    pool: Vec<u8>,
    /// Bytes of `pool` not handed out yet start here.
    next: usize,
    fallback: RandomState,
    counter: u64,
}

impl Default for Entropy {
    fn default() -> Entropy {
        Entropy::new()
    }
}

impl Entropy {
    /// A fresh source.
    pub fn new() -> Entropy {
        Entropy {
            pool: Vec::new(),
            next: 0,
            fallback: RandomState::new(),
            counter: 0,
        }
    }

    /// Fills `out` with unpredictable bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            if self.next + chunk.len() > self.pool.len() {
                self.refill();
            }
            match self.pool.get(self.next..self.next + chunk.len()) {
                Some(bytes) => {
                    chunk.copy_from_slice(bytes);
                    self.next += chunk.len();
                }
                None => {
                    // No OS source: the keyed-hash fallback.
                    self.counter = self.counter.wrapping_add(1);
                    let bits = self.fallback.hash_one(self.counter).to_le_bytes();
                    chunk.copy_from_slice(&bits[..chunk.len()]);
                }
            }
        }
    }

    /// The next 64 unpredictable bits.
    #[cfg(test)]
    pub fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    /// A masking key.
    pub fn mask_key(&mut self) -> [u8; 4] {
        let mut key = [0u8; 4];
        self.fill(&mut key);
        key
    }

    /// A 16-byte nonce for `Sec-WebSocket-Key` (RFC 6455 §4.1 item 7).
    pub fn nonce(&mut self) -> [u8; 16] {
        let mut nonce = [0u8; 16];
        self.fill(&mut nonce);
        nonce
    }

    fn refill(&mut self) {
        self.pool.resize(POOL, 0);
        self.next = 0;
        let read = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut self.pool));
        if read.is_err() {
            self.pool.clear();
        }
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

    #[test]
    fn mask_keys_use_every_byte_value() {
        let mut entropy = Entropy::new();
        let mut seen = [false; 256];
        for _ in 0..4096 {
            for byte in entropy.mask_key() {
                seen[byte as usize] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }
}
