//! The sans-I/O core: the whole protocol as pure code, `no_std` + `alloc`.
//!
//! Low level, for study, fuzzing and custom drivers (an event loop, an
//! embedded target). Applications use the crate root's types:
//! [`accept_with`](crate::accept_with), [`connect_with`](crate::connect_with),
//! [`WebSocket`](crate::WebSocket), [`Server`](crate::Server). A driver of
//! its own starts at [`connection::Connection`]; the crate documentation
//! [drives one by hand](crate#the-sans-io-core-by-hand).
//!
//! Nothing in this folder reads a socket, starts a thread or looks at a
//! clock: bytes and time come in as arguments, events and bytes to send go
//! out as return values. The drivers around it (the blocking
//! [`std::net`](https://doc.rust-lang.org/std/net/) driver, or an event
//! loop of your own) only move bytes and report time. A test
//! (`tests/core_purity.rs`) keeps it that way.
//!
//! - [`connection`]: one connection as a state machine, both directions,
//!   the close handshake and the timers (§5–§7).
//! - [`frame`], [`mask`], [`decoder`]: the wire format (RFC 6455 §5).
//! - [`utf8`], [`message`], [`reader`]: assembling messages (§5.4, §8.1).
//! - [`close`]: close codes and payloads (§5.5.1, §7.4).
//! - [`handshake`]: the opening handshake (§4).
//! - [`deflate`]: permessage-deflate (RFC 7692).
//! - [`config`]: limits and timeouts.
//! - [`proxy`]: HTTP CONNECT and SOCKS5 tunnels (RFC 9110 §9.3.6, RFC 1928).
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
pub mod proxy;
pub mod reader;
pub mod trace;
// Used by the blocking client only.
#[cfg_attr(not(feature = "std"), allow(dead_code))]
pub(crate) mod url;
pub mod utf8;
