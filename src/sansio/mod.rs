//! The sans-I/O core: the whole protocol as pure code, `no_std` + `alloc`.
//!
//! Nothing in this folder reads a socket, starts a thread or looks at a
//! clock: bytes and time come in as arguments, events and bytes to send go
//! out as return values. The drivers around it (the blocking
//! [`core::net`](https://doc.rust-lang.org/std/net/) driver, or an event
//! loop of your own) only move bytes and report time. A test
//! (`tests/core_purity.rs`) keeps it that way.
//!
//! These modules are public for study and fuzzing; an application normally
//! uses the crate root's types.
//!
//! - [`frame`], [`mask`], [`decoder`]: the wire format (RFC 6455 §5).
//! - [`utf8`], [`message`], [`reader`]: assembling messages (§5.4, §8.1).
//! - [`close`]: close codes and payloads (§5.5.1, §7.4).
//! - [`handshake`]: the opening handshake (§4).
//! - [`config`]: limits and timeouts.
//! - [`trace`]: one line of text per frame.

pub mod close;
pub mod config;
pub mod connection;
pub mod decoder;
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod message;
pub mod reader;
pub mod trace;
// Used by the blocking client only.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) mod url;
pub mod utf8;
