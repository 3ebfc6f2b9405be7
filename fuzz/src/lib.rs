//! plainws's fuzz targets. The bodies live one file per target, registered
//! in `targets.rs` and shared with the main crate's corpus replay
//! (`tests/fuzz_corpus.rs`); each binary in `fuzz_targets/` is one call
//! into them. See `fuzz/README.md`.

mod targets;

pub use targets::*;

/// Counts heap bytes per thread, for the targets' memory oracles.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;
