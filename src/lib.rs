//! # plainws
//!
//! A WebSocket (RFC 6455) implementation written from first principles,
//! for people who study the protocol, embed it where dependencies count,
//! or fuzz parsers.
//!
//! - **Sans-I/O core** ([`sansio`], `no_std` + `alloc`): the frame codec,
//!   the handshake, message assembly, close codes and the connection's
//!   state machine are pure code over byte slices: testable and fuzzable
//!   without a socket, a thread or a clock.
//! - **Thin blocking driver** over `std::net::TcpStream` (feature `std`,
//!   on by default): [`accept`] and [`connect`], [`WebSocket`],
//!   [`Receiver`], [`Sender`].
//! - **Two direct runtime dependencies**: `sha1` and `base64` (plus `serde`
//!   and `serde_json` behind the default `json` feature).
//!
//! ## Quick start: a threaded echo server
//!
//! ```no_run
//! use std::net::TcpListener;
//! use plainws::Message;
//!
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! for stream in listener.incoming() {
//!     let stream = stream?;
//!     std::thread::spawn(move || -> Result<(), plainws::Error> {
//!         let (mut receiver, sender) = plainws::accept(stream)?.split();
//!         loop {
//!             match receiver.recv()? {
//!                 Message::Text(text) => sender.send_text(&text)?,
//!                 Message::Binary(data) => sender.send_binary(&data)?,
//!                 Message::Close(_) => return Ok(()),
//!                 Message::Ping(_) | Message::Pong(_) => {}
//!             }
//!         }
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! ## Quick start: a client
//!
//! ```no_run
//! use plainws::Message;
//!
//! let mut ws = plainws::connect("ws://127.0.0.1:1235/echo")?;
//! ws.send_text(r#"{"cmd": "hello"}"#)?;
//! if let Message::Text(reply) = ws.recv()? {
//!     println!("{reply}");
//! }
//! ws.close(plainws::CloseCode::NORMAL, "done")?;
//! while !matches!(ws.recv()?, Message::Close(_)) {}
//! # Ok::<(), plainws::Error>(())
//! ```
//!
//! `wss://` is not built in: connect a TLS stream with your TLS crate,
//! implement [`Transport`] for it, and call [`client_with_transport`].
//!
//! ## Concurrency
//!
//! A connection [`split`](WebSocket::split)s into a [`Receiver`], read by
//! one thread, and a [`Sender`], which is `Clone + Send + Sync`: any number
//! of threads may send at once. Both halves share the connection's one
//! stream (one file descriptor). The sender's write state (whether a Close
//! was sent or a write failed, a reusable buffer) is behind one `Mutex`,
//! and each frame is written whole under it in one write, so frames never
//! interleave. With [`Config::batch_writes`](field@Config::batch_writes),
//! frames sent while the receiver still holds unread input share a later
//! write. The receiver answers Pings and completes the
//! close handshake through the same lock, synchronously, so no queue of
//! control frames can grow. A failed or timed-out write fails the
//! connection for every sender; a poisoned lock is an error, never a panic.
//!
//! ## Limits and timeouts
//!
//! Every limit is finite by default ([`Config`]):
//!
//! | setting | default | on breach |
//! |---|---|---|
//! | `max_frame_size` | 16 MiB | close 1009, checked at the header |
//! | `max_message_size` | 64 MiB | close 1009, cumulative, at each header |
//! | `max_fragments` | 131,072 | close 1009 |
//! | `max_handshake_bytes` | 16 KiB | HTTP 431 |
//! | `max_headers` | 100 | HTTP 431 |
//! | `handshake_timeout` | 10 s | connection dropped |
//! | `close_timeout` | 5 s | socket shut down |
//! | `write_timeout` | 30 s | connection failed for every sender |
//! | `idle_timeout` | none | close 1001 |
//! | `keepalive` | none | close 1011 when no pong comes |
//! | `batch_writes` | on | — (replies to pipelined input share one write, held at most 1 ms) |

#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "std")]
mod blocking;
mod error;
#[cfg(feature = "json")]
pub mod json;
pub mod sansio;

#[cfg(feature = "std")]
pub use blocking::client::{ClientOptions, client_with_transport, connect, connect_with};
#[cfg(feature = "std")]
pub use blocking::receiver::Receiver;
#[cfg(feature = "std")]
pub use blocking::sender::Sender;
#[cfg(feature = "std")]
pub use blocking::server::{Incoming, Server, ServerHandle, ServerOptions};
#[cfg(all(feature = "std", any(test, feature = "test-util")))]
pub use blocking::transport::MemoryStream;
#[cfg(feature = "std")]
pub use blocking::transport::Transport;
#[cfg(feature = "std")]
pub use blocking::websocket::{WebSocket, accept, accept_with};
pub use error::{Error, Result};
pub use sansio::close::{CloseCode, CloseFrame};
pub use sansio::config::{Config, Direction, Keepalive, Tracer};
pub use sansio::deflate::negotiate::DeflateConfig;
pub use sansio::frame::{FrameHeader, Opcode, Role};
pub use sansio::handshake::server::{Accept, Request, Response};
pub use sansio::message::Message;

/// The README's Rust code blocks, compiled (and the ones not marked
/// `no_run` run) by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// Internals the fuzz targets need (feature `test-util`). Not part of the
/// API: hidden, unstable, and absent from normal builds.
#[cfg(feature = "test-util")]
#[doc(hidden)]
pub mod __fuzz {
    pub use crate::sansio::url::Url;
}
