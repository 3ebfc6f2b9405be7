//! `inflate_split`: the same compressed messages inflated whole and split
//! into pieces at fuzzer-chosen points (bits 4–7 of byte 0 and the first
//! bytes of the first message choose the piece sizes).
//!
//! Asserts: split anywhere, even mid-code, the output is the same and so
//! is the error; for a message over the limit both stop within it, one
//! output a prefix of the other (a stored block arriving in pieces writes
//! the pieces that fit before the one that does not).

use plainws::Error;

use crate::deflate_input::read_deflate_input;
use crate::inflate::inflate_messages;

/// Cuts `bytes` into pieces of `sizes` bytes in turn (0: an empty call).
fn cut<'a>(bytes: &'a [u8], sizes: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    for &size in sizes.iter().cycle().take(bytes.len() * 2 + 2) {
        if at >= bytes.len() {
            break;
        }
        let end = (at + size).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
    }
    out.push(&bytes[at..]);
    out
}

pub fn inflate_split(data: &[u8]) {
    let (setup, messages) = read_deflate_input(data);
    // Piece sizes: 1 to 16, from the setup nibble and the message bytes.
    let mut sizes: Vec<usize> = vec![usize::from(setup.extra) + 1];
    if let Some(first) = messages.first() {
        sizes.extend(first.iter().take(7).map(|&b| usize::from(b % 17)));
    }
    let whole = inflate_messages(
        setup.window_bits,
        setup.no_context_takeover,
        setup.limit,
        &messages,
        |m| vec![m],
    );
    let split = inflate_messages(
        setup.window_bits,
        setup.no_context_takeover,
        setup.limit,
        &messages,
        |m| cut(m, &sizes),
    );
    assert_eq!(whole.messages.len(), split.messages.len(), "{sizes:?}");
    match (&whole.error, &split.error) {
        (None, None) => assert_eq!(whole.messages, split.messages),
        (Some(Error::InvalidCompressedData(a)), Some(Error::InvalidCompressedData(b))) => {
            assert_eq!(a, b, "{sizes:?}");
            assert_eq!(whole.messages, split.messages, "{sizes:?}");
        }
        (Some(Error::MessageTooLarge { .. }), Some(Error::MessageTooLarge { .. })) => {
            let n = whole.messages.len() - 1;
            assert_eq!(whole.messages[..n], split.messages[..n]);
            let (a, b) = (&whole.messages[n], &split.messages[n]);
            let shorter = a.len().min(b.len());
            assert_eq!(a[..shorter], b[..shorter], "{sizes:?}");
        }
        (a, b) => panic!("whole: {a:?}, split {sizes:?}: {b:?}"),
    }
}
