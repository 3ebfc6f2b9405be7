//! The registry of plainws's fuzz targets: each target's body is one
//! `pub fn <target>(data: &[u8])` taking the raw fuzz input, in a file of
//! its own (`<target>.rs`), declared here and listed in [`TARGETS`].
//! Beside them: `model.rs` (the independent model of RFC 6455 §5),
//! `alloc.rs` (the counting allocator), `input.rs` (the input reader) and
//! `http.rs` (HTTP helpers).
//!
//! These files are shared: the fuzz crate compiles them as its library
//! (every `fuzz_targets/*.rs` is a one-line call into it), and the main
//! crate's `tests/fuzz_corpus.rs` and `tests/fuzz_regressions.rs` include
//! this file by path (so every module here is declared with `#[path]`,
//! and the files refer to each other as `super::...`) and replay every
//! file of `fuzz/corpus/<target>/` through the same function on stable
//! `cargo test`. So they depend only on plainws, std and `arbitrary` (a
//! dev-dependency of the main crate), never on libFuzzer. The one
//! exception is `connection`'s reference inflater, `crate::miniz_reference`:
//! `miniz_reference.rs` (`miniz_oxide`) in the fuzz crate, and
//! `no_miniz_reference.rs` (no answer) in the tests that include this file.
//!
//! To add a target: write `<target>.rs` with its `pub fn`, declare it
//! below (`#[path]`, `mod`, `pub use`), add a row to [`TARGETS`] and to
//! the table below, a `fuzz_targets/<target>.rs` one-liner, a `[[bin]]`
//! in `Cargo.toml`, and seeds in `corpus/<target>/`.
//!
//! Each target checks more than "did not panic":
//!
//! | target | oracle |
//! |---|---|
//! | `frame_decoder` | agrees with a plain model of RFC 6455 §5 (frames, messages, the first error, byte for byte); limits hold; the decoder never allocates and never hands out more payload than declared; the reader's heap stays proportional to the input, never to declared lengths |
//! | `frame_decoder_chunked` | the input split at fuzzer-chosen points, and one byte at a time, gives exactly the frames, messages, errors and end state of the whole input (whole frames take the one-step path, single bytes never do) |
//! | `frame_roundtrip` | structured frames encode and decode back to themselves, or fail with the error the rules predict |
//! | `handshake_request` | head found the same in any chunking; parse accepts or returns a documented error; the target splits into raw path, query and authority, and the path is the raw path percent-decoded (checked against a plain model), with no control character; header values are the bytes as sent (obs-text included); what parses re-serializes, with or without one leading empty line, to an equal request and the same accept value; an accepted upgrade has no body, no ambiguous framing and at most one `Origin`; the 101 built for it passes the client's check |
//! | `handshake_response` | accepts or returns a documented error; what is accepted re-serializes to an equal result |
//! | `utf8` | the incremental validator in any chunking agrees with `std::str::from_utf8`, fails no later than the deciding byte, and builds exactly the valid prefix |
//! | `connection` | the pure core in either role, with or without permessage-deflate, under a script of peer bytes, sends, time and end of stream: every output frame valid for the role (RSV1 only on a compressed message), each accepted send exactly its frame (a compressed one inflates back to the message, through `miniz_oxide` in the fuzz build), fragment order, only Pongs after our Close, a Pong for each Ping until the peer's Close, the Close echo or the failing Close (1002, 1007, 1009), misuse writes nothing; the peer's bytes agree with the frame model (first frame error, messages as sent or inflated) (see `connection.rs`) |
//! | `blocking_echo` | a whole server connection over memory through the blocking driver: no panic or hang, the server's output is a valid HTTP answer then valid frames, exactly the echo, pongs and close that the received messages call for, with sendable close codes |
//! | `mask` | the fast unmask equals the RFC's byte-at-a-time formula at every offset, alignment and split |
//! | `url` | never panics; refuses with a reason; what it accepts agrees with the input read plainly, re-assembles from its parts (and its `Host` value) to the same URL, and makes a request the server side accepts |
//! | `proxy_http_response` | an HTTP proxy's answer to CONNECT: the same outcome whole and in any pieces; only documented errors (a non-2xx final status with a short reason and token schemes, an authentication failure only after credentials); nothing taken after the end; the tunnel's bytes are what follows a 2xx head |
//! | `proxy_socks5` | a SOCKS5 proxy's bytes: the same bytes written and outcome whole and in any pieces; the greeting, the password only after method 02, the CONNECT request exactly once, nothing after an error; documented errors with the reply in words, never the credentials; tunnel bytes a suffix of the input |
//! | `inflate`, `inflate_split`, `deflate_roundtrip` (at the crate root, `crate::...`: see their files) | the inflater never panics, fails only with 1007 or 1009, holds at most the limit plus the window and tables; any split gives the same result; compress-then-inflate gives every message back across windows and takeover settings |
//!
//! `inflate_differential` (against `miniz_oxide`) is the fuzz crate's
//! only, so it is not listed in [`TARGETS`].

// Shared by the targets.
#[path = "alloc.rs"]
mod alloc;
#[path = "http.rs"]
mod http;
#[path = "input.rs"]
mod input;
#[path = "model.rs"]
mod model;

pub use alloc::{CountingAlloc, heap_peak};

// One module per target, in the order of `TARGETS`.
#[path = "frame_decoder.rs"]
mod frame_decoder;
pub use frame_decoder::frame_decoder;

#[path = "frame_decoder_chunked.rs"]
mod frame_decoder_chunked;
pub use frame_decoder_chunked::frame_decoder_chunked;

#[path = "frame_roundtrip.rs"]
mod frame_roundtrip;
pub use frame_roundtrip::frame_roundtrip;
// The structured input, for a `fuzz_target!(|input: RoundtripInput| ...)`;
// the corpus replay reaches it only through `frame_roundtrip`.
#[allow(unused_imports)]
pub use frame_roundtrip::{Pad, RoundtripFrame, RoundtripInput, RoundtripOpcode, roundtrip};

#[path = "handshake_request.rs"]
mod handshake_request;
pub use handshake_request::handshake_request;

#[path = "handshake_response.rs"]
mod handshake_response;
pub use handshake_response::handshake_response;

#[path = "utf8.rs"]
mod utf8;
pub use utf8::utf8;

#[path = "connection.rs"]
mod connection;
#[path = "connection_deflate.rs"]
mod connection_deflate;
#[path = "connection_output.rs"]
mod connection_output;
#[path = "connection_peer.rs"]
mod connection_peer;
pub use connection::connection;

#[path = "blocking_echo.rs"]
mod blocking_echo;
pub use blocking_echo::{RFC_REQUEST, blocking_echo};

#[path = "mask.rs"]
mod mask;
pub use mask::mask;

#[path = "url.rs"]
mod url_target;
pub use url_target::url;

#[path = "proxy_http_response.rs"]
mod proxy_http_response;
pub use proxy_http_response::proxy_http_response;

#[path = "proxy_socks5.rs"]
mod proxy_socks5;
pub use proxy_socks5::proxy_socks5;

/// A target's body: one fuzz input in, a panic if an oracle fails.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decoder", frame_decoder),
    ("frame_decoder_chunked", frame_decoder_chunked),
    ("frame_roundtrip", frame_roundtrip),
    ("handshake_request", handshake_request),
    ("handshake_response", handshake_response),
    ("utf8", utf8),
    ("connection", connection),
    ("blocking_echo", blocking_echo),
    ("mask", mask),
    ("url", url),
    ("proxy_http_response", proxy_http_response),
    ("proxy_socks5", proxy_socks5),
    ("inflate", crate::inflate::inflate),
    ("inflate_split", crate::inflate_split::inflate_split),
    (
        "deflate_roundtrip",
        crate::deflate_roundtrip::deflate_roundtrip,
    ),
];
