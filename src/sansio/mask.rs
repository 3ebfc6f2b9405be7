//! Payload masking (RFC 6455 §5.3).
//!
//! Low level, for study, fuzzing and custom drivers: masking happens
//! inside [`Connection`](crate::sansio::connection::Connection) and the
//! blocking driver; applications never call it.
//!
//! "Octet i of the transformed data is the XOR of octet i of the original
//! data with octet at index i modulo 4 of the masking key." Masking and
//! unmasking are the same operation.
//!
//! A payload can arrive across many reads, so [`apply_mask`] takes the
//! offset of the slice within the payload and rotates the key to match.
//! The body works on 32-byte blocks against a key repeated to 32 bytes,
//! which the compiler turns into vector XORs; the ragged ends go byte by byte.

/// XORs `data` with `key`, where `data` starts at byte `offset` of the payload.
#[inline]
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) {
    let key = rotate_key(key, offset);
    const BLOCK: usize = 32;
    if data.len() < BLOCK {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= key[i & 3];
        }
        return;
    }
    let mut wide = [0u8; BLOCK];
    for (i, byte) in wide.iter_mut().enumerate() {
        *byte = key[i & 3];
    }
    let mut blocks = data.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        for (byte, k) in block.iter_mut().zip(wide.iter()) {
            *byte ^= k;
        }
    }
    // BLOCK is a multiple of 4, so the tail starts at key index 0 again.
    for (i, byte) in blocks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i & 3];
    }
}

/// The key as seen from byte `offset` of the payload.
#[inline]
pub fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    let [a, b, c, d] = key;
    match offset & 3 {
        0 => key,
        1 => [b, c, d, a],
        2 => [c, d, a, b],
        _ => [d, a, b, c],
    }
}

/// The reference: one byte at a time, straight from the RFC's formula.
pub fn apply_mask_naive(data: &mut [u8], key: [u8; 4], offset: usize) {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn matches_the_naive_mask_at_every_offset_and_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..200 {
            for offset in 0..8 {
                let mut fast = pattern(len);
                let mut slow = fast.clone();
                apply_mask(&mut fast, key, offset);
                apply_mask_naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "len {len} offset {offset}");
            }
        }
    }

    #[test]
    fn split_payload_unmasks_like_a_whole_one() {
        let key = [1, 2, 3, 250];
        let original = pattern(1000);
        let mut whole = original.clone();
        apply_mask(&mut whole, key, 0);
        for split in [1, 3, 31, 32, 33, 500, 999] {
            let mut parts = original.clone();
            let (a, b) = parts.split_at_mut(split);
            apply_mask(a, key, 0);
            apply_mask(b, key, split);
            assert_eq!(parts, whole, "split at {split}");
        }
    }

    #[test]
    fn masking_twice_restores_the_data() {
        let key = [9, 8, 7, 6];
        let original = pattern(100);
        let mut data = original.clone();
        apply_mask(&mut data, key, 5);
        apply_mask(&mut data, key, 5);
        assert_eq!(data, original);
    }
}
