//! Messages, and their assembly from frames (RFC 6455 §5.4, §5.6, §8.1).
//!
//! Low level, for study, fuzzing and custom drivers: applications use
//! [`Message`] from the crate root and receive it with
//! [`Receiver::recv`](crate::Receiver::recv); the assembler runs inside
//! [`Connection`](crate::sansio::connection::Connection).
//!
//! [`MessageAssembler`] takes the decoder's headers and payload pieces and
//! gives back whole messages. Fragments are joined, with control frames
//! allowed between them (§5.4). Sizes are checked at each header,
//! cumulatively across fragments, before the payload arrives. Text is
//! validated piece by piece, so bad UTF-8 fails at the first bad byte even
//! in the middle of a frame (§8.1).

use crate::error::{Error, Result};
use crate::sansio::close::CloseFrame;
use crate::sansio::decoder::RSV1;
use crate::sansio::deflate::{Inflater, OnFirstUse};
use crate::sansio::frame::{FrameHeader, Opcode};
use crate::sansio::utf8::Utf8Validator;
use alloc::{boxed::Box, string::String, vec::Vec};

/// A message received from, or to be sent to, the peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A complete text message, valid UTF-8.
    Text(String),
    /// A complete binary message.
    Binary(Vec<u8>),
    /// A Ping from the peer. plainws has already answered it with a Pong.
    Ping(Vec<u8>),
    /// A Pong from the peer.
    Pong(Vec<u8>),
    /// The peer's Close frame (`None`: it carried no code). plainws has
    /// already answered it; the next `recv` returns
    /// [`Error::ConnectionClosed`].
    Close(Option<CloseFrame>),
}

/// Which data message is being assembled.
#[derive(Debug)]
enum Partial {
    None,
    Text,
    Binary,
}

/// Joins frames into messages, enforcing the size limits and UTF-8.
#[derive(Debug)]
pub struct MessageAssembler {
    max_message_size: u64,
    max_fragments: usize,
    /// The header of the frame whose payload is arriving.
    frame: Option<FrameHeader>,
    partial: Partial,
    /// Bytes of the current data message, counted at each header.
    size: u64,
    fragments: usize,
    text: String,
    utf8: Utf8Validator,
    binary: Vec<u8>,
    /// Zeroed bytes at the end of `binary` that are not message data yet:
    /// room a driver read into directly and did not fill.
    binary_spare: usize,
    /// The payload of the control frame being read (at most 125 bytes).
    control: Vec<u8>,
    /// permessage-deflate's decompressor, once negotiated (RFC 7692),
    /// made at the first compressed message; boxed, as the compressor.
    inflater: Option<Box<OnFirstUse<Inflater>>>,
    /// The message being assembled is compressed (RSV1 on its first frame).
    compressed: bool,
    /// Inflated text, validated before it joins the message.
    inflated: Vec<u8>,
}

impl MessageAssembler {
    /// An assembler with these limits.
    pub fn new(max_message_size: u64, max_fragments: usize) -> MessageAssembler {
        MessageAssembler {
            max_message_size,
            max_fragments,
            frame: None,
            partial: Partial::None,
            size: 0,
            fragments: 0,
            text: String::new(),
            utf8: Utf8Validator::new(),
            binary: Vec::new(),
            binary_spare: 0,
            control: Vec::new(),
            inflater: None,
            compressed: false,
            inflated: Vec::new(),
        }
    }

    /// Inflates messages marked compressed (RSV1 on their first frame),
    /// once permessage-deflate is negotiated (RFC 7692 §6.2).
    pub fn enable_inflate(&mut self, inflater: Inflater) {
        self.inflater = Some(Box::new(OnFirstUse::made(inflater)));
    }

    /// As [`enable_inflate`](Self::enable_inflate), with the inflater
    /// made at the first compressed message; boxed, as the compressor.
    pub(crate) fn enable_inflate_on_first_use(&mut self, inflater: OnFirstUse<Inflater>) {
        self.inflater = Some(Box::new(inflater));
    }

    /// Whether the inflater has been made.
    #[cfg(test)]
    pub(crate) fn inflater_made(&self) -> bool {
        self.inflater.as_ref().is_some_and(|i| i.is_made())
    }

    /// Takes a validated header; checks the message limits before any of
    /// its payload is read.
    pub fn on_header(&mut self, header: FrameHeader) -> Result<()> {
        match header.opcode {
            Opcode::Text | Opcode::Binary => {
                self.partial = if header.opcode == Opcode::Text {
                    Partial::Text
                } else {
                    Partial::Binary
                };
                // RFC 7692 §6: RSV1 on the first frame marks a compressed
                // message (the decoder allows it only once negotiated).
                self.compressed = header.rsv & RSV1 != 0;
                if self.compressed && self.inflater.is_none() {
                    return Err(Error::ReservedBitsSet);
                }
                self.start_message(header.payload_len)?;
            }
            // The decoder has already checked that a message is under way.
            Opcode::Continuation => self.grow(header.payload_len)?,
            Opcode::Close | Opcode::Ping | Opcode::Pong => self.control.clear(),
        }
        self.frame = Some(header);
        Ok(())
    }

    /// Takes a whole frame, its payload unmasked: as [`on_header`] then
    /// [`on_payload`] with all of it, and, for a message in one frame (the
    /// usual case), in one step: its limits checked, text validated whole
    /// (RFC 6455 §8.1), the payload copied once into the message.
    ///
    /// [`on_header`]: Self::on_header
    /// [`on_payload`]: Self::on_payload
    pub fn on_frame(&mut self, header: FrameHeader, payload: &[u8]) -> Result<Option<Message>> {
        let single = header.fin && header.rsv == 0 && matches!(self.partial, Partial::None);
        match header.opcode {
            Opcode::Text if single => {
                self.start_message(header.payload_len)?;
                let text =
                    String::from_utf8(owned_copy(payload)?).map_err(|_| Error::InvalidUtf8)?;
                Ok(Some(Message::Text(text)))
            }
            Opcode::Binary if single => {
                self.start_message(header.payload_len)?;
                Ok(Some(Message::Binary(owned_copy(payload)?)))
            }
            _ => {
                self.on_header(header)?;
                self.on_payload(payload, true)
            }
        }
    }

    /// A data message starts with a first frame of `len` bytes: its size
    /// and fragment count start over, within the limits.
    fn start_message(&mut self, len: u64) -> Result<()> {
        self.size = 0;
        self.fragments = 0;
        self.grow(len)
    }

    /// Takes the next unmasked payload piece of the current frame. Returns
    /// a message when this piece completes one.
    pub fn on_payload(&mut self, data: &[u8], frame_end: bool) -> Result<Option<Message>> {
        let Some(frame) = self.frame else {
            return Ok(None);
        };
        if frame.opcode.is_control() {
            // At most 125 bytes (§5.5), checked at the header.
            self.control.extend_from_slice(data);
            if !frame_end {
                return Ok(None);
            }
            self.frame = None;
            let payload = core::mem::take(&mut self.control);
            return Ok(Some(match frame.opcode {
                Opcode::Ping => Message::Ping(payload),
                Opcode::Pong => Message::Pong(payload),
                _ => Message::Close(CloseFrame::parse(&payload)?),
            }));
        }
        match self.partial {
            _ if self.compressed => self.inflate_piece(data, frame_end && frame.fin)?,
            Partial::Text => {
                // Memory follows the bytes received, never the length a
                // header announced; a failed allocation fails this
                // connection (1009), not the process.
                self.text
                    .try_reserve(data.len())
                    .map_err(|_| Error::OutOfMemory(data.len()))?;
                self.utf8
                    .feed(data, &mut self.text)
                    .map_err(|_| Error::InvalidUtf8)?
            }
            Partial::Binary if !data.is_empty() => {
                self.drop_spare();
                self.binary
                    .try_reserve(data.len())
                    .map_err(|_| Error::OutOfMemory(data.len()))?;
                self.binary.extend_from_slice(data);
            }
            Partial::Binary => {}
            Partial::None => {}
        }
        if !frame_end {
            return Ok(None);
        }
        self.frame = None;
        if !frame.fin {
            return Ok(None);
        }
        self.compressed = false;
        if self.inflated.capacity() > 64 << 10 {
            self.inflated = Vec::new();
        }
        let message = match core::mem::replace(&mut self.partial, Partial::None) {
            Partial::Text => {
                // §8.1: the whole message must be valid, so it may not end
                // inside a character.
                self.utf8.finish().map_err(|_| Error::InvalidUtf8)?;
                self.utf8.reset();
                Message::Text(core::mem::take(&mut self.text))
            }
            Partial::Binary => {
                self.drop_spare();
                Message::Binary(core::mem::take(&mut self.binary))
            }
            Partial::None => return Ok(None),
        };
        Ok(Some(message))
    }

    /// Inflates a piece of a compressed message's payload into the message;
    /// `last` ends the message (RFC 7692 §7.2.2: the stream's missing
    /// `00 00 ff ff` is added back). The inflated size is checked against
    /// `max_message_size` at every byte (1009); corrupt data is 1007; text
    /// is validated as it is inflated (1007 at the first bad byte).
    fn inflate_piece(&mut self, data: &[u8], last: bool) -> Result<()> {
        let limit = self.max_message_size;
        let Some(inflater) = self.inflater.as_mut() else {
            return Err(Error::ReservedBitsSet);
        };
        let inflater = inflater.get();
        match self.partial {
            Partial::Binary => {
                inflater.inflate(data, &mut self.binary, limit)?;
                if last {
                    inflater.finish_message(&mut self.binary, limit)?;
                }
            }
            Partial::Text => {
                self.inflated.clear();
                inflater.inflate(data, &mut self.inflated, limit)?;
                if last {
                    inflater.finish_message(&mut self.inflated, limit)?;
                }
                self.text
                    .try_reserve(self.inflated.len())
                    .map_err(|_| Error::OutOfMemory(self.inflated.len()))?;
                self.utf8
                    .feed(&self.inflated, &mut self.text)
                    .map_err(|_| Error::InvalidUtf8)?;
            }
            Partial::None => {}
        }
        Ok(())
    }

    /// The binary message's buffer, lent out so that a driver can read the
    /// current frame's payload straight into it (see
    /// [`MessageReader::begin_direct_read`](crate::sansio::reader::MessageReader::begin_direct_read)),
    /// with the length of the message so far: bytes past it are zeroed
    /// room left from an earlier loan. `None` unless a binary frame's
    /// payload is arriving.
    pub fn lend_binary(&mut self) -> Option<(Vec<u8>, usize)> {
        let frame = self.frame?;
        if frame.opcode.is_control() || self.compressed || !matches!(self.partial, Partial::Binary)
        {
            return None;
        }
        let len = self.binary.len() - self.binary_spare;
        self.binary_spare = 0;
        Some((core::mem::take(&mut self.binary), len))
    }

    /// Takes the lent buffer back with the message now `len` bytes long
    /// (the new payload bytes already unmasked in place, as
    /// [`on_payload`](Self::on_payload) would have appended them; anything
    /// past `len` is zeroed room kept for the next loan). Returns a message
    /// when they completed one.
    pub fn return_binary(
        &mut self,
        binary: Vec<u8>,
        len: usize,
        frame_end: bool,
    ) -> Result<Option<Message>> {
        self.binary_spare = binary.len().saturating_sub(len);
        self.binary = binary;
        self.on_payload(&[], frame_end)
    }

    /// Drops the zeroed room past the message's data.
    fn drop_spare(&mut self) {
        let len = self.binary.len() - self.binary_spare;
        self.binary.truncate(len);
        self.binary_spare = 0;
    }

    /// Adds one fragment of `len` bytes to the message, within the limits.
    fn grow(&mut self, len: u64) -> Result<()> {
        self.fragments += 1;
        if self.fragments > self.max_fragments {
            return Err(Error::TooManyFragments(self.max_fragments));
        }
        self.size = self.size.saturating_add(len);
        if self.size > self.max_message_size {
            return Err(Error::MessageTooLarge {
                len: self.size,
                limit: self.max_message_size,
            });
        }
        Ok(())
    }
}

/// `bytes` copied into a message of their own; a failed allocation fails
/// the connection (1009), not the process.
fn owned_copy(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut owned = Vec::new();
    owned
        .try_reserve_exact(bytes.len())
        .map_err(|_| Error::OutOfMemory(bytes.len()))?;
    owned.extend_from_slice(bytes);
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(opcode: Opcode, fin: bool, len: usize) -> FrameHeader {
        FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask: None,
            payload_len: len as u64,
        }
    }

    fn frame(
        a: &mut MessageAssembler,
        opcode: Opcode,
        fin: bool,
        data: &[u8],
    ) -> Result<Option<Message>> {
        a.on_header(header(opcode, fin, data.len()))?;
        a.on_payload(data, true)
    }

    #[test]
    fn joins_fragments_with_control_frames_between() {
        let mut a = MessageAssembler::new(1 << 20, 100);
        assert_eq!(frame(&mut a, Opcode::Text, false, b"Hel").unwrap(), None);
        assert_eq!(
            frame(&mut a, Opcode::Ping, true, b"p").unwrap(),
            Some(Message::Ping(b"p".to_vec()))
        );
        assert_eq!(
            frame(&mut a, Opcode::Continuation, false, b"l").unwrap(),
            None
        );
        assert_eq!(
            frame(&mut a, Opcode::Continuation, true, b"o").unwrap(),
            Some(Message::Text("Hello".into()))
        );
        assert_eq!(
            frame(&mut a, Opcode::Binary, true, &[1, 2]).unwrap(),
            Some(Message::Binary(vec![1, 2]))
        );
    }

    #[test]
    fn fails_fast_on_bad_utf8_mid_frame() {
        let mut a = MessageAssembler::new(1 << 20, 100);
        a.on_header(header(Opcode::Text, true, 100)).unwrap();
        assert_eq!(a.on_payload(b"abc", false).unwrap(), None);
        assert!(matches!(
            a.on_payload(b"\xed\xa0\x80", false),
            Err(Error::InvalidUtf8)
        ));
    }

    #[test]
    fn text_may_not_end_inside_a_character() {
        let mut a = MessageAssembler::new(1 << 20, 100);
        assert_eq!(
            frame(&mut a, Opcode::Text, false, b"\xe2\x82").unwrap(),
            None
        );
        assert!(matches!(
            frame(&mut a, Opcode::Continuation, true, b""),
            Err(Error::InvalidUtf8)
        ));
    }

    #[test]
    fn a_character_may_span_fragments() {
        let mut a = MessageAssembler::new(1 << 20, 100);
        assert_eq!(
            frame(&mut a, Opcode::Text, false, b"\xe2\x82").unwrap(),
            None
        );
        assert_eq!(
            frame(&mut a, Opcode::Continuation, true, b"\xac").unwrap(),
            Some(Message::Text("€".into()))
        );
    }

    #[test]
    fn message_size_is_cumulative_across_fragments() {
        let mut a = MessageAssembler::new(10, 100);
        a.on_header(header(Opcode::Binary, false, 6)).unwrap();
        a.on_payload(&[0; 6], true).unwrap();
        assert!(matches!(
            a.on_header(header(Opcode::Continuation, true, 5)),
            Err(Error::MessageTooLarge { len: 11, limit: 10 })
        ));
    }

    #[test]
    fn fragment_count_is_capped() {
        let mut a = MessageAssembler::new(1 << 20, 3);
        frame(&mut a, Opcode::Binary, false, b"").unwrap();
        frame(&mut a, Opcode::Continuation, false, b"").unwrap();
        frame(&mut a, Opcode::Continuation, false, b"").unwrap();
        assert!(matches!(
            frame(&mut a, Opcode::Continuation, true, b""),
            Err(Error::TooManyFragments(3))
        ));
    }

    #[test]
    fn a_whole_frame_gives_what_its_pieces_give() {
        let mut a = MessageAssembler::new(10, 100);
        assert_eq!(
            a.on_frame(header(Opcode::Text, true, 2), "é".as_bytes())
                .unwrap(),
            Some(Message::Text("é".into()))
        );
        assert_eq!(
            a.on_frame(header(Opcode::Binary, true, 2), &[1, 2])
                .unwrap(),
            Some(Message::Binary(vec![1, 2]))
        );
        // A first fragment, a Ping between, the last fragment.
        assert_eq!(
            a.on_frame(header(Opcode::Text, false, 1), b"a").unwrap(),
            None
        );
        assert_eq!(
            a.on_frame(header(Opcode::Ping, true, 1), b"p").unwrap(),
            Some(Message::Ping(b"p".to_vec()))
        );
        assert_eq!(
            a.on_frame(header(Opcode::Continuation, true, 1), b"b")
                .unwrap(),
            Some(Message::Text("ab".into()))
        );
        // The limits and UTF-8 hold in one step too.
        assert!(matches!(
            a.on_frame(header(Opcode::Binary, true, 11), &[0; 11]),
            Err(Error::MessageTooLarge { len: 11, limit: 10 })
        ));
        let mut b = MessageAssembler::new(10, 100);
        assert!(matches!(
            b.on_frame(header(Opcode::Text, true, 2), b"\xc3("),
            Err(Error::InvalidUtf8)
        ));
    }

    #[test]
    fn close_payload_is_parsed_and_checked() {
        let mut a = MessageAssembler::new(100, 10);
        assert_eq!(
            frame(&mut a, Opcode::Close, true, &[]).unwrap(),
            Some(Message::Close(None))
        );
        assert!(matches!(
            frame(&mut a, Opcode::Close, true, &[0x03, 0xed]),
            Err(Error::InvalidCloseCode(1005))
        ));
    }
}
