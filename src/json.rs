//! JSON messages (the default `json` feature): any serde value as one text
//! message.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::blocking::receiver::Receiver;
use crate::blocking::sender::Sender;
use crate::error::{Error, Result};
use crate::sansio::message::Message;

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

impl Receiver {
    /// Receives the next text message and deserializes it.
    ///
    /// Pings and Pongs are skipped. A binary message is
    /// `Error::UnexpectedBinary` and text that does not deserialize is
    /// `Error::Json`; the connection stays open after either. The peer's
    /// Close ends it: `Error::ConnectionClosed`.
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
