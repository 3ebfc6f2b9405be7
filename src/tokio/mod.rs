//! The tokio driver (feature `tokio`): the sans-I/O core over any
//! `AsyncRead + AsyncWrite + Unpin + Send` stream — a
//! [`TcpStream`](::tokio::net::TcpStream), a tokio-rustls stream, hyper's
//! upgraded connection — with the same [`Config`](crate::Config),
//! [`Accept`](crate::Accept), [`ClientOptions`](crate::ClientOptions),
//! [`Message`](crate::Message), [`CloseCode`](crate::CloseCode) and
//! [`Error`](crate::Error) as the blocking driver.
//!
//! ```no_run
//! use plainws::Message;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let mut ws = plainws::tokio::accept(stream).await?;
//!         loop {
//!             match ws.recv().await? {
//!                 Message::Text(text) => ws.send_text(&text).await?,
//!                 Message::Binary(data) => ws.send_binary(&data).await?,
//!                 Message::Close(_) => return Ok::<(), plainws::Error>(()),
//!                 Message::Ping(_) | Message::Pong(_) => {}
//!             }
//!         }
//!     });
//! }
//! # }
//! ```
//!
//! # How it runs
//!
//! Each connection is a [`Receiver`] (one task calls
//! [`recv`](Receiver::recv)), any number of [`Sender`]s (`Clone + Send +
//! Sync`), and one task of its own, spawned when the connection opens.
//!
//! - **Cancel safety**: [`Receiver::recv`] keeps every byte read and the
//!   decoder's state in the connection, never in its future: dropping it
//!   at any await point (a `tokio::select!` branch that lost) loses no
//!   byte and no message.
//! - **The halves never wait on each other**: the transport is split (a
//!   `TcpStream` into its owned halves, anything else with
//!   `tokio::io::split`); no lock is held across an await, so a `recv`
//!   waiting for bytes never holds up a send, even on TLS.
//! - **Control frames need no help from the application**: the Pong a
//!   `recv` queued, the Close reply, keepalive Pings, the idle and close
//!   timeouts are written and run by the connection's task. It costs one
//!   spawned task per connection (a few hundred bytes) and one timer entry
//!   while the core has a deadline; an echo round trip never wakes it
//!   (a send writes its frame itself when the socket takes it at once).
//! - **Backpressure**: a send waits while more than
//!   [`Config::send_queue_limit`](field@crate::Config::send_queue_limit)
//!   bytes (128 KiB by default) are queued and unwritten; a stalled write
//!   fails the connection after
//!   [`Config::write_timeout`](field@crate::Config::write_timeout).
//! - **Batched replies**: while `recv` holds more of the peer's input
//!   than the message it returned, data frames sent meanwhile wait and go
//!   out in one write when it next needs the socket
//!   ([`Config::batch_writes`](field@crate::Config::batch_writes), on by
//!   default; the task writes them if `recv` is not called again): a
//!   pipelining peer costs a fraction of a system call per message.
//! - **Memory**: an idle connection holds no read buffer (a waiting `recv`
//!   reads into its stack): about 5.4 KiB of RSS each, task and socket
//!   included (10,000 connections, `bench/` `loadgen idle`). A busy one
//!   holds at most its read buffer (4 KiB, doubling while reads fill it, at
//!   most 256 KiB), the message being received (at most
//!   [`Config::max_message_size`](field@crate::Config::max_message_size)),
//!   and its send queue (at most
//!   [`send_queue_limit`](field@crate::Config::send_queue_limit) plus one
//!   message).
//! - **Close without loss**: frames leave in the order they were queued,
//!   so everything sent before [`Sender::close`] goes out before the Close.
//!   On a split connection the reply to the peer's Close waits for the
//!   application (see [`WebSocket::split`]).
//! - **The rules are the core's**: the server handshake is
//!   [`ServerHandshake`](crate::sansio::handshake::accepting::ServerHandshake),
//!   timers and the close linger are the core's deadlines and
//!   [`transport_end`](crate::sansio::connection::Connection::transport_end).

mod client;
mod receiver;
mod sender;
mod shared;
mod task;
mod websocket;

pub use client::{client_with_transport, connect, connect_with};
pub use receiver::Receiver;
pub use sender::Sender;
pub use websocket::{WebSocket, accept, accept_upgraded, accept_with};
