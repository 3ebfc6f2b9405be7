//! plainws's fuzz targets. The bodies live one file per target, registered
//! in `targets.rs` and shared with the main crate's corpus replay
//! (`tests/fuzz_corpus.rs`); the permessage-deflate targets (`inflate.rs`,
//! `inflate_split.rs`, `deflate_roundtrip.rs`, `inflate_differential.rs`)
//! sit at the crate root beside it, and `inflate_differential`, which
//! needs `miniz_oxide`, is the fuzzer's only. Each binary in
//! `fuzz_targets/` is one call into them. See `fuzz/README.md`.

mod deflate_input;
mod deflate_roundtrip;
mod inflate;
mod inflate_differential;
mod inflate_split;
mod miniz_reference;
mod targets;

pub use deflate_input::{read_deflate_input, write_deflate_input};
pub use deflate_roundtrip::deflate_roundtrip;
pub use inflate::inflate;
pub use inflate_differential::inflate_differential;
pub use inflate_split::inflate_split;
pub use targets::*;

/// Counts heap bytes per thread, for the targets' memory oracles.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;
