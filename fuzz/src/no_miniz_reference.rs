//! Stands in for `miniz_reference.rs` (the fuzz crate's `miniz_oxide`
//! reference inflater) in the main crate's corpus replay, which has no
//! `miniz_oxide`: it has no answer, so `connection` checks compressed
//! messages with plainws's own `Inflater` only.

/// `miniz_oxide`'s answer for one message (never made here).
#[allow(dead_code)]
pub enum Reference {
    /// Done at the final block after the tail: the message's bytes.
    Done(Vec<u8>),
    /// Done at a BFINAL block inside the message: the bytes before it.
    EndedEarly(Vec<u8>),
    /// Refused, or the stream did not end at a block boundary.
    Failed,
}

/// No reference in this build.
pub fn reference_once(_input: &[u8], _history: &[u8], _limit: u64) -> Option<Reference> {
    None
}
