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
//! - **Thin blocking driver** over [`std::net::TcpStream`] (feature `std`,
//!   on by default): [`accept`] and [`connect`], [`WebSocket`],
//!   [`Receiver`], [`Sender`], [`Server`].
//! - **A tokio driver** (feature `tokio`, off by default): `plainws::tokio`
//!   over any `AsyncRead + AsyncWrite` stream, with a cancel-safe `recv`,
//!   bounded sends, and control frames answered by the connection's own
//!   task. [Example below](#quick-start-tokio).
//! - **Two direct runtime dependencies**: `sha1` and `base64` (plus `serde`
//!   and `serde_json` behind the default `json` feature).
//!
//! ## Main types
//!
//! - [`accept`] / [`accept_with`]: upgrade an accepted stream to a
//!   server-side [`WebSocket`]; [`accept_with`] looks at the [`Request`]
//!   first (path, headers, subprotocols) and answers [`Accept`] or a
//!   [`Response`] of its own. [Example: routing, a subprotocol, a 401](accept_with#examples).
//! - [`connect`] / [`connect_with`] / [`ClientOptions`]: open a client
//!   connection to a `ws://` URL, with extra headers, subprotocols and a
//!   connect timeout; [`client_with_transport`] over a stream of your own
//!   (TLS). [Example](ClientOptions#connecting).
//! - [`WebSocket`]: one open connection, used from one thread or
//!   [`split`](WebSocket::split) into a [`Receiver`] and a [`Sender`].
//! - [`Receiver`]: the receiving half, read by one thread
//!   ([`recv`](Receiver::recv)).
//! - [`Sender`]: the sending half, `Clone + Send + Sync`, for any number of
//!   threads ([`send_text`](Sender::send_text), [`close`](Sender::close)).
//! - [`Server`] / [`ServerOptions`] / [`ServerHandle`]: the accept loop, a
//!   thread per connection, a connection limit, an `Origin` allow-list and
//!   a graceful [`shutdown`](ServerHandle::shutdown) from another thread.
//!   [Example: a whole server](Server#examples).
//! - [`Config`]: every limit and timeout of a connection, finite by
//!   default, built with chainable setters
//!   (`Config::default().max_message_size(1 << 20)`).
//! - [`Message`]: what [`Receiver::recv`] returns: text, binary, or a
//!   control frame ([`CloseFrame`] for a Close).
//! - [`CloseCode`]: the status code of a Close ([`CloseCode::NORMAL`], ...).
//! - [`Error`]: everything that can go wrong; [`Error::close_code`] and
//!   [`Error::http_status`] say how each is answered, [`Error::is_misuse`]
//!   whose fault it was.
//! - [`Proxy`] / [`ProxySetting`]: going out through an HTTP `CONNECT`
//!   or SOCKS5 proxy ([`ClientOptions::proxy`](field@ClientOptions::proxy),
//!   or [`ClientOptions::proxy_from_env`]); [`open_tunnel`] for `wss://`.
//!   [Example](ClientOptions#through-a-proxy).
//! - [`Transport`]: the byte stream under a connection: a
//!   [`TcpStream`](std::net::TcpStream), a TLS stream, an in-memory pipe.
//! - [`Request`] / [`Accept`] / [`Response`]: the opening handshake as the
//!   application sees it in [`accept_with`].
//! - [`DeflateConfig`]: permessage-deflate (RFC 7692), off unless
//!   [`Config::compression`](field@Config::compression) sets it.
//! - [`json`] (feature `json`): [`Sender::send_json`] and
//!   [`Receiver::recv_json`] for serde values. [Example](json#examples).
//! - [`sansio`]: the core, for study, fuzzing and drivers of your own
//!   (an event loop, an embedded target): [`sansio::connection::Connection`]
//!   is the whole protocol as a state machine. [Example below](#the-sans-io-core-by-hand).
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
//! ## Quick start: tokio
//!
//! With the `tokio` feature, the same connection on tokio: `recv` is cancel
//! safe (a `select!` branch that loses the race loses no byte), and Pongs
//! and the Close reply go out even if the application never sends.
//!
//! ```no_run
//! # #[cfg(feature = "tokio")]
//! # mod example {
//! use plainws::{CloseCode, Message};
//!
//! async fn client() -> Result<(), plainws::Error> {
//!     let (mut receiver, sender) = plainws::tokio::connect("ws://127.0.0.1:9001/").await?.split();
//!     sender.send_text("hello").await?; // waits only while 128 KiB are unwritten
//!     let mut timer = tokio::time::interval(std::time::Duration::from_secs(1));
//!     loop {
//!         tokio::select! {
//!             message = receiver.recv() => match message? {
//!                 Message::Close(_) => return Ok(()),
//!                 message => println!("{message:?}"),
//!             },
//!             _ = timer.tick() => sender.close(CloseCode::NORMAL, "bye").await?,
//!         }
//!     }
//! }
//! # }
//! ```
//!
//! `wss://` is not built in: connect a TLS stream with your TLS crate,
//! implement [`Transport`] for it, and call [`client_with_transport`].
//! [`connect_with`] takes [`ClientOptions`]: request headers, subprotocols,
//! a [`Config`] ([example](ClientOptions#connecting)).
//!
//! ## The sans-I/O core by hand
//!
//! Under the blocking driver is [`sansio::connection::Connection`], which
//! does no I/O: the driver feeds it the bytes it read, however they were
//! split, and writes the bytes it produces. Pongs and the Close echo are
//! produced by the core itself. Time comes in with every event (`now`, a
//! [`Duration`](core::time::Duration) since an epoch the driver picks), so
//! the close timeout starts when the Close goes out or comes in. An event
//! loop or an embedded target drives it the same way
//! (`examples/mio_echo.rs` does it with `mio`).
//!
//! ```
//! use std::time::Duration;
//! use plainws::sansio::connection::{Connection, State};
//! use plainws::{CloseCode, Config, Message};
//!
//! let mut server = Connection::server(Config::default());
//! let mut out = Vec::new();
//! let now = Duration::from_secs(1); // the driver's clock
//!
//! // A client's masked "Hello" (RFC 6455 §5.7), arriving in two reads.
//! let hello = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
//! let mut first = hello[..4].to_vec();
//! let (used, message) = server.receive(&mut first, now)?;
//! assert_eq!((used, message), (4, None)); // kept in the decoder's state
//! let mut rest = hello[4..].to_vec();
//! let (_, message) = server.receive(&mut rest, now)?;
//! assert_eq!(message, Some(Message::Text("Hello".into())));
//!
//! // Answer it: the core encodes, the driver writes.
//! server.send_text("Hello")?;
//! server.take_data_to_send(&mut out);
//! assert_eq!(out, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
//!
//! // A masked Ping with an empty payload: the Pong is queued by the core.
//! let mut ping = [0x89, 0x80, 1, 2, 3, 4];
//! let (_, message) = server.receive(&mut ping, now)?;
//! assert_eq!(message, Some(Message::Ping(Vec::new())));
//! out.clear();
//! server.take_data_to_send(&mut out);
//! assert_eq!(out, [0x8a, 0x00]);
//!
//! // We close; the client's Close (1000, masked) completes the handshake.
//! server.close(CloseCode::NORMAL, "", now)?;
//! assert_eq!(server.state(), State::CloseSent);
//! // The close timeout started with the Close (5 s by default).
//! assert_eq!(server.close_deadline(), Some(now + Duration::from_secs(5)));
//! out.clear();
//! server.take_data_to_send(&mut out);
//! assert_eq!(out, [0x88, 0x02, 0x03, 0xe8]);
//! let key = [9, 8, 7, 6];
//! let mut close = [0x88, 0x82, 9, 8, 7, 6, 0x03 ^ key[0], 0xe8 ^ key[1]];
//! let (_, message) = server.receive(&mut close, now)?;
//! assert!(matches!(message, Some(Message::Close(Some(frame))) if frame.code == CloseCode::NORMAL));
//! assert_eq!(server.state(), State::Closed);
//! assert!(server.is_finished()); // a server now closes TCP first (§7.1.1)
//! # Ok::<(), plainws::Error>(())
//! ```
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
//! Only a connection's own threads write with a blocking write: the
//! process-wide threads (the flusher of held frames, the close watchdog)
//! only try non-blocking writes, so a peer that stopped reading never
//! delays another connection.
//!
//! ## Limits and timeouts
//!
//! Every limit is finite by default ([`Config`]):
//!
//! | setting | default | on breach |
//! |---|---|---|
//! | [`max_frame_size`](field@Config::max_frame_size) | 16 MiB | close 1009, checked at the header |
//! | [`max_message_size`](field@Config::max_message_size) | 64 MiB | close 1009, cumulative, at each header |
//! | [`max_fragments`](field@Config::max_fragments) | 131,072 | close 1009 |
//! | [`max_handshake_bytes`](field@Config::max_handshake_bytes) | 16 KiB | HTTP 431 |
//! | [`max_headers`](field@Config::max_headers) | 100 | HTTP 431 |
//! | [`handshake_timeout`](field@Config::handshake_timeout) | 10 s | connection dropped |
//! | [`close_timeout`](field@Config::close_timeout) | 5 s | socket shut down |
//! | [`write_timeout`](field@Config::write_timeout) | 30 s (zero: none) | connection failed for every sender |
//! | [`idle_timeout`](field@Config::idle_timeout) | none | close 1001 |
//! | [`keepalive`](field@Config::keepalive) | none | close 1011 when no pong comes |
//! | [`send_queue_limit`](field@Config::send_queue_limit) | 128 KiB | a send waits (tokio driver) |
//! | [`batch_writes`](field@Config::batch_writes) | on | — (replies to pipelined input share one write, held at most 1 ms) |

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;

#[cfg(feature = "std")]
mod blocking;
mod error;
#[cfg(feature = "json")]
#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
pub mod json;
pub mod sansio;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::client::{ClientOptions, client_with_transport, connect, connect_with};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::proxy::{ProxySetting, Tunnel, open_tunnel};
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::receiver::Receiver;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::sender::Sender;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::server::{Incoming, Server, ServerHandle, ServerOptions};
#[cfg(all(feature = "std", any(test, feature = "test-util")))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use blocking::transport::MemoryStream;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::transport::Transport;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub use blocking::websocket::{WebSocket, accept, accept_with};
pub use error::{Error, Result};
// The core's main types, shown at the root with their own docs (they also
// stay at their paths under `sansio`).
#[doc(inline)]
pub use sansio::close::{CloseCode, CloseFrame};
#[doc(inline)]
pub use sansio::config::{Config, Direction, Keepalive, Tracer};
#[doc(inline)]
pub use sansio::deflate::negotiate::DeflateConfig;
#[doc(inline)]
pub use sansio::frame::{FrameHeader, Opcode, Role};
#[doc(inline)]
pub use sansio::handshake::server::{Accept, Request, Response};
#[doc(inline)]
pub use sansio::message::Message;
#[doc(inline)]
pub use sansio::proxy::Proxy;

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

/// The protocol lab's raw path (the JSON server's page, `src/bin/plainws/lab.rs`).
/// Not part of the API: hidden, unstable, and named so that nobody calls
/// it by accident.
#[cfg(feature = "std")]
#[doc(hidden)]
pub mod __lab {
    use crate::{Result, Sender};

    /// Writes `bytes` to `sender`'s socket exactly as given, between two
    /// frames, bypassing every rule of RFC 6455: the lab uses it to send a
    /// browser what no correct server sends (a masked server frame, text
    /// that is not UTF-8) and watch the browser fail the connection. The
    /// connection's core is not told, so what follows is the peer's call.
    pub fn write_raw_bytes_breaking_the_protocol(sender: &Sender, bytes: &[u8]) -> Result<()> {
        sender.shared().write_raw(bytes)
    }
}
