//! Reading a fuzz input: setup bytes front to back, piece sizes, and
//! small helpers shared by the targets.

use std::fmt::Debug;

/// Reads a fuzz input front to back; past the end every read gives zeros.
pub(super) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(super) fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub(super) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub(super) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub(super) fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    pub(super) fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    /// Up to `max` bytes, as many as the next byte says (modulo `max + 1`).
    pub(super) fn list(&mut self, max: usize) -> Vec<u8> {
        let n = usize::from(self.byte()) % (max + 1);
        (0..n).map(|_| self.byte()).collect()
    }

    pub(super) fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Splits `bytes` into pieces of the given sizes, cycling; a size of 0
/// makes an empty piece (a call with no input must be harmless), and no
/// sizes at all means one byte at a time.
pub(super) fn pieces<'a>(bytes: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let size = if sizes.is_empty() {
            1
        } else {
            usize::from(sizes[i % sizes.len()])
        };
        i += 1;
        let end = (at + size).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
        if i > bytes.len() * 2 + sizes.len() {
            // Only empty sizes: finish in one piece.
            out.push(&bytes[at..]);
            break;
        }
    }
    out
}

pub(super) fn debug<T: Debug>(value: &T) -> String {
    format!("{value:?}")
}
