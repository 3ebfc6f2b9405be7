//! JSON messages (the default `json` feature): any serde value as one text
//! message.
//!
//! [`Sender::send_json`] serializes a value into one text message
//! ([`Sender::feed_json`] queues it for a later
//! [`flush`](Sender::flush)); [`Receiver::recv_json`] deserializes the
//! next text message, skipping Pings and Pongs. A message that does not
//! deserialize is [`Error::Json`] and leaves the connection open.
//!
//! # Examples
//!
//! A server that answers each command, and a client, over this machine's
//! loopback:
//!
//! ```
//! use std::net::TcpListener;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Command {
//!     cmd: String,
//! }
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Reply {
//!     ok: bool,
//!     echo: String,
//! }
//!
//! let listener = TcpListener::bind("127.0.0.1:0")?;
//! let url = format!("ws://{}/", listener.local_addr()?);
//! std::thread::spawn(move || -> plainws::Result<()> {
//!     let (stream, _) = listener.accept()?;
//!     let (mut receiver, sender) = plainws::accept(stream)?.split();
//!     // Until the client's Close: `Error::ConnectionClosed`.
//!     while let Ok(command) = receiver.recv_json::<Command>() {
//!         sender.send_json(&Reply { ok: true, echo: command.cmd })?;
//!     }
//!     Ok(())
//! });
//!
//! let (mut receiver, sender) = plainws::connect(&url)?.split();
//! sender.send_json(&Command { cmd: "hello".into() })?;
//! let reply: Reply = receiver.recv_json()?;
//! assert_eq!(reply, Reply { ok: true, echo: "hello".into() });
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::blocking::receiver::Receiver;
use crate::blocking::sender::Sender;
use crate::error::{Error, Result};
use crate::sansio::message::Message;

#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
impl Sender {
    /// Serializes `value` and sends it as one text message.
    pub fn send_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(Error::Json)?;
        self.send_text(&text)
    }

    /// Serializes `value` and queues it as one text message without writing
    /// it yet (see [`Sender::feed_text`]).
    pub fn feed_json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let text = serde_json::to_string(value).map_err(Error::Json)?;
        self.feed_text(&text)
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "json")))]
impl Receiver {
    /// Receives the next text message and deserializes it.
    ///
    /// Pings and Pongs are skipped. A binary message is
    /// [`Error::UnexpectedBinary`] and text that does not deserialize is
    /// [`Error::Json`]; the connection stays open after either. The peer's
    /// Close ends it: [`Error::ConnectionClosed`].
    pub fn recv_json<T: DeserializeOwned>(&mut self) -> Result<T> {
        loop {
            match self.recv()? {
                Message::Text(text) => return from_text(&text),
                Message::Binary(_) => return Err(Error::UnexpectedBinary),
                Message::Close(_) => return Err(Error::ConnectionClosed),
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    }
}

/// Deserializes a received text message.
pub fn from_text<T: DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(Error::Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Input {
        cmd: String,
    }

    #[test]
    fn parses_and_reports_bad_json() {
        assert_eq!(
            from_text::<Input>(r#"{"cmd":"hi"}"#).unwrap(),
            Input { cmd: "hi".into() }
        );
        let err = from_text::<Input>(r#"{"nope":1}"#).unwrap_err();
        assert!(err.to_string().contains("cmd"), "{err}");
    }
}
