//! `mask`: the fast unmask against the RFC's byte-at-a-time formula.

use plainws::sansio::mask::{apply_mask, apply_mask_naive};

use super::input::Input;

/// The fast unmask against the byte-at-a-time reference, at every offset,
/// alignment and split.
///
/// Input: a 4-byte key, a 32-bit offset, a split point, then the payload.
pub fn mask(data: &[u8]) {
    let mut input = Input::new(data);
    let key = [input.byte(), input.byte(), input.byte(), input.byte()];
    let offset = input.u32() as usize;
    let split = usize::from(input.u16());
    let payload = input.rest();
    for offset in (0..8).chain([offset]) {
        let mut expected = payload.to_vec();
        apply_mask_naive(&mut expected, key, offset);
        for shift in 0..8 {
            // Different alignments of the same bytes in memory.
            let mut buf = vec![0xAA; shift];
            buf.extend_from_slice(payload);
            apply_mask(&mut buf[shift..], key, offset);
            assert_eq!(buf[shift..], expected[..], "offset {offset} shift {shift}");
            assert!(
                buf[..shift].iter().all(|&b| b == 0xAA),
                "wrote before the slice"
            );
        }
        // Split anywhere, continued with the running offset.
        let split = split.min(payload.len());
        let mut parts = payload.to_vec();
        let (a, b) = parts.split_at_mut(split);
        apply_mask(a, key, offset);
        apply_mask(b, key, offset + split);
        assert_eq!(parts, expected, "split at {split}");
        // Masking twice restores the data.
        apply_mask(&mut parts, key, offset);
        assert_eq!(parts, payload);
    }
}
