//! Where the inflater's output goes: the caller's `Vec`, grown no further
//! than the message's limit allows, and the sliding window of the last
//! 2^w bytes that later matches may copy from (RFC 1951 §3.2).

use alloc::vec::Vec;

use super::Inflater;
use crate::error::{Error, Result};

impl Inflater {
    /// Appends `length` bytes copied from `distance` back: from the
    /// output of this call, or from the window before it, overlapping
    /// itself when `distance < length` (§3.2.3's example: "if the last 2
    /// bytes decoded have values X and Y, a string reference with <length
    /// = 5, distance = 2> adds X,Y,X,Y,X").
    pub(super) fn copy_match(
        &self,
        out: &mut Vec<u8>,
        call_start: usize,
        distance: usize,
        length: usize,
    ) {
        let here = out.len() - call_start;
        let mut left = length;
        if distance > here {
            // The first bytes come from the window, which ends where this
            // call's output starts.
            let back = distance - here;
            let size = self.window.len();
            let from = (self.window_end + size - back) % size;
            let n = left.min(back);
            let first = n.min(size - from);
            out.extend_from_slice(self.window.get(from..from + first).unwrap_or_default());
            out.extend_from_slice(self.window.get(..n - first).unwrap_or_default());
            left -= n;
        }
        if left == 0 {
            return;
        }
        let start = out.len() - distance;
        while left > 0 {
            let n = left.min(out.len() - start);
            out.extend_from_within(start..start + n);
            left -= n;
        }
    }

    /// How many bytes fit in `out` without growing it and under the limit.
    #[inline]
    #[allow(clippy::ptr_arg)] // the capacity is the point
    pub(super) fn budget(&self, out: &Vec<u8>, limit: u64) -> usize {
        let room = out.capacity() - out.len();
        let allowed = limit.saturating_sub(self.produced);
        usize::try_from(allowed).map_or(room, |allowed| room.min(allowed))
    }

    /// Makes room in `out` for `n` more bytes of this message, failing if
    /// they would take it over `limit`. Grows `out` by doubling, but never
    /// past what the limit allows, so a bomb cannot reserve more than the
    /// limit.
    #[inline]
    pub(super) fn make_room(&self, out: &mut Vec<u8>, n: usize, limit: u64) -> Result<()> {
        let allowed = limit.saturating_sub(self.produced);
        if n as u64 > allowed {
            return Err(too_large(self.produced + n as u64, limit));
        }
        if out.capacity() - out.len() >= n {
            return Ok(());
        }
        let allowed = usize::try_from(allowed).unwrap_or(usize::MAX);
        let most = out.len().saturating_add(allowed);
        let want = out.len() + n;
        let target = out
            .capacity()
            .saturating_mul(2)
            .max(256)
            .min(most)
            .max(want);
        // A failed allocation fails the connection (1009), not the process.
        out.try_reserve_exact(target - out.len())
            .map_err(|_| Error::OutOfMemory(target - out.len()))
    }

    /// Adds this call's output to the window (§3.2: "the compressed
    /// representation ... may refer to ... the previous 32K").
    pub(super) fn remember(&mut self, new: &[u8]) {
        let size = self.window.len();
        if new.len() >= size {
            self.window.copy_from_slice(&new[new.len() - size..]);
            self.window_end = 0;
            self.window_filled = size;
            return;
        }
        let first = new.len().min(size - self.window_end);
        let (head, tail) = new.split_at(first);
        if let Some(slot) = self
            .window
            .get_mut(self.window_end..self.window_end + first)
        {
            slot.copy_from_slice(head);
        }
        if let Some(slot) = self.window.get_mut(..tail.len()) {
            slot.copy_from_slice(tail);
        }
        self.window_end = (self.window_end + new.len()) % size;
        self.window_filled = (self.window_filled + new.len()).min(size);
    }
}

fn too_large(len: u64, limit: u64) -> Error {
    Error::MessageTooLarge { len, limit }
}
