//! The frame decoder: bytes in, headers and unmasked payload pieces out
//! (RFC 6455 §5.2). Sans-I/O.
//!
//! Low level, for study, fuzzing and custom drivers: applications receive
//! whole messages with [`Receiver::recv`](crate::Receiver::recv), and a
//! driver of its own feeds bytes to
//! [`Connection`](crate::sansio::connection::Connection), which runs this
//! decoder.
//!
//! All state lives in [`FrameDecoder`], never in locals across calls, so
//! input may be split at any byte: a read timeout in the middle of a frame
//! loses nothing, and a fuzzer may cut the input anywhere.
//!
//! Every rule that the header can decide is checked as soon as the header
//! is complete, before a byte of payload is read or allocated, in this
//! order: RSV bits, opcode, control frame fragmented or over 125 bytes,
//! 64-bit length with its top bit set, mask bit against the role, data
//! frame sequencing, frame size limit. The payload is then handed out as it
//! arrives, unmasked in place with a running offset.

use crate::error::{Error, Result};
use crate::sansio::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, Role};
use crate::sansio::mask::apply_mask;

/// One step of decoding.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// The input ran out; call again with more.
    NeedMore,
    /// A complete, valid header. Its payload follows as `Payload` steps.
    Header(FrameHeader),
    /// Unmasked payload bytes of the current frame. `frame_end` is set on
    /// the last piece; a frame with no payload gives one empty last piece.
    Payload {
        /// The bytes, unmasked.
        data: &'a [u8],
        /// This piece ends the frame.
        frame_end: bool,
    },
}

/// The frame whose payload is being handed out.
#[derive(Debug, Clone, Copy)]
struct CurrentFrame {
    header: FrameHeader,
    /// Payload bytes handed out so far.
    done: u64,
}

/// Decodes a stream of frames, validating each header.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    role: Role,
    max_frame_size: u64,
    /// Header bytes collected when a header arrives in more than one piece.
    head: [u8; MAX_HEADER_LEN],
    head_filled: usize,
    /// Set between a header and the last byte of its payload.
    current: Option<CurrentFrame>,
    /// A Text or Binary frame without FIN was seen and its message has not
    /// ended (RFC 6455 §5.4).
    in_message: bool,
    /// RSV1 may mark a compressed message (permessage-deflate negotiated).
    allow_rsv1: bool,
}

/// RSV1 in [`FrameHeader::rsv`]: the "Per-Message Compressed" bit of
/// permessage-deflate (RFC 7692 §6).
pub const RSV1: u8 = 0b100;

impl FrameDecoder {
    /// A decoder for the frames a `role` endpoint receives.
    pub fn new(role: Role, max_frame_size: u64) -> FrameDecoder {
        FrameDecoder {
            role,
            max_frame_size,
            head: [0; MAX_HEADER_LEN],
            head_filled: 0,
            current: None,
            in_message: false,
            allow_rsv1: false,
        }
    }

    /// Accepts RSV1 on the first frame of a data message, as permessage-
    /// deflate defines it (RFC 7692 §6); anywhere else it stays a 1002.
    pub fn allow_compressed(&mut self) {
        self.allow_rsv1 = true;
    }

    /// Decodes the next step from `input`, unmasking payload in place.
    ///
    /// Returns how many bytes of `input` were used and what they gave.
    /// `NeedMore` always uses the whole input. After an error the stream is
    /// unusable: the connection must be failed with the error's close code.
    pub fn decode<'a>(&mut self, input: &'a mut [u8]) -> Result<(usize, Decoded<'a>)> {
        match self.current {
            Some(current) => Ok(self.decode_payload(current, input)),
            None => self.decode_header(input),
        }
    }

    /// Decodes a whole frame at once when the decoder stands between frames
    /// and `input` begins with all of one: the validated header (the same
    /// checks as [`decode`](Self::decode)) and the payload unmasked in
    /// place, with the bytes used. `Ok(None)` when the frame is not all
    /// there or a frame is under way: [`decode`](Self::decode) then takes
    /// it piece by piece. Either way gives the same frames and errors; this
    /// one saves a step per frame when reads hold whole frames.
    pub fn decode_frame<'a>(
        &mut self,
        input: &'a mut [u8],
    ) -> Result<Option<(usize, FrameHeader, &'a [u8])>> {
        if !self.is_between_frames() {
            return Ok(None);
        }
        let Some((header, head_len)) = self.parse_header_from(input)? else {
            return Ok(None);
        };
        let available = (input.len() - head_len) as u64;
        if header.payload_len > available {
            return Ok(None);
        }
        // At most `available`, so it fits in a `usize`.
        let end = head_len + header.payload_len as usize;
        let payload = &mut input[head_len..end];
        if let Some(key) = header.mask {
            apply_mask(payload, key, 0);
        }
        self.track_message(&header);
        Ok(Some((end, header, payload)))
    }

    /// Whether the decoder stands between frames (no partial header or payload).
    pub fn is_between_frames(&self) -> bool {
        self.current.is_none() && self.head_filled == 0
    }

    /// The bytes still to come of the current data frame's payload, when
    /// the decoder stands inside one (not a control frame's).
    pub fn data_payload_remaining(&self) -> Option<u64> {
        self.current
            .filter(|current| !current.header.opcode.is_control())
            .map(|current| current.header.payload_len - current.done)
    }

    /// Whether a fragmented message has started and not ended.
    pub fn in_message(&self) -> bool {
        self.in_message
    }

    fn decode_header<'a>(&mut self, input: &'a mut [u8]) -> Result<(usize, Decoded<'a>)> {
        if self.head_filled == 0 {
            // Fast path: the whole header is in this input.
            if let Some((header, len)) = self.parse_header_from(input)? {
                self.start_payload(header);
                return Ok((len, Decoded::Header(header)));
            }
        }
        // Slow path: gather the header in `head`, never past its end.
        let mut used = 0;
        loop {
            let needed = header_len_needed(&self.head[..self.head_filled]);
            if self.head_filled >= needed || used == input.len() {
                break;
            }
            let take = (needed - self.head_filled).min(input.len() - used);
            self.head[self.head_filled..self.head_filled + take]
                .copy_from_slice(&input[used..used + take]);
            self.head_filled += take;
            used += take;
        }
        let head = self.head;
        match self.parse_header_from(&head[..self.head_filled])? {
            Some((header, _)) => {
                self.head_filled = 0;
                self.start_payload(header);
                Ok((used, Decoded::Header(header)))
            }
            None => Ok((used, Decoded::NeedMore)),
        }
    }

    fn decode_payload<'a>(
        &mut self,
        mut current: CurrentFrame,
        input: &'a mut [u8],
    ) -> (usize, Decoded<'a>) {
        let remaining = current.header.payload_len - current.done;
        if remaining > 0 && input.is_empty() {
            return (0, Decoded::NeedMore);
        }
        let take = remaining.min(input.len() as u64) as usize;
        let data = &mut input[..take];
        if let Some(key) = current.header.mask {
            // The offset only matters modulo 4.
            apply_mask(data, key, (current.done & 3) as usize);
        }
        current.done += take as u64;
        let frame_end = current.done == current.header.payload_len;
        self.current = if frame_end { None } else { Some(current) };
        (take, Decoded::Payload { data, frame_end })
    }

    fn start_payload(&mut self, header: FrameHeader) {
        self.track_message(&header);
        self.current = Some(CurrentFrame { header, done: 0 });
    }

    /// A data frame without FIN opens a message, one with FIN ends it
    /// (§5.4); control frames between fragments change nothing.
    fn track_message(&mut self, header: &FrameHeader) {
        if !header.opcode.is_control() {
            self.in_message = !header.fin;
        }
    }

    /// Parses and validates a header from the start of `bytes`; `None` if
    /// more bytes are needed. The first two bytes are validated as soon as
    /// they are present, so an invalid frame fails without waiting for the
    /// rest of its header.
    #[inline(always)]
    fn parse_header_from(&self, bytes: &[u8]) -> Result<Option<(FrameHeader, usize)>> {
        let [b0, b1, ..] = *bytes else {
            return Ok(None);
        };
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 >> 4) & 0b111;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7F;

        // §5.2: "MUST be 0 unless an extension is negotiated that defines
        // meanings for non-zero values." permessage-deflate defines RSV1
        // (RFC 7692 §6): set on the first frame of a compressed message.
        if rsv & !RSV1 != 0 || (rsv & RSV1 != 0 && !self.allow_rsv1) {
            return Err(Error::ReservedBitsSet);
        }
        // §5.2: "If an unknown opcode is received, the receiving endpoint
        // MUST _Fail the WebSocket Connection_."
        let Some(opcode) = Opcode::from_bits(b0 & 0x0F) else {
            return Err(Error::ReservedOpcode(b0 & 0x0F));
        };
        // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message
        // Compressed" bit of control frames and non-first fragments of a
        // data message."
        if rsv & RSV1 != 0 && !matches!(opcode, Opcode::Text | Opcode::Binary) {
            return Err(Error::ReservedBitsSet);
        }
        // §5.5: "All control frames MUST have a payload length of 125 bytes
        // or less and MUST NOT be fragmented."
        if opcode.is_control() {
            if !fin {
                return Err(Error::FragmentedControlFrame);
            }
            if u64::from(len7) > MAX_CONTROL_PAYLOAD {
                return Err(Error::ControlFrameTooLong(u64::from(len7)));
            }
        }

        let needed = header_len_needed(bytes);
        if bytes.len() < needed {
            return Ok(None);
        }
        let (payload_len, mut pos) = match len7 {
            126 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
            127 => {
                let mut be = [0u8; 8];
                be.copy_from_slice(&bytes[2..10]);
                let len = u64::from_be_bytes(be);
                // §5.2: "the most significant bit MUST be 0".
                if len >> 63 != 0 {
                    return Err(Error::InvalidPayloadLength);
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            let key = [bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]];
            pos += 4;
            Some(key)
        } else {
            None
        };

        // §5.1: "The server MUST close the connection upon receiving a frame
        // that is not masked" and "A client MUST close a connection if it
        // detects a masked frame."
        match (self.role, masked) {
            (Role::Server, false) => return Err(Error::UnmaskedFrame),
            (Role::Client, true) => return Err(Error::MaskedFrame),
            _ => {}
        }
        // §5.4: fragments of one message arrive in order, with only control
        // frames between them.
        match opcode {
            Opcode::Continuation if !self.in_message => return Err(Error::UnexpectedContinuation),
            Opcode::Text | Opcode::Binary if self.in_message => {
                return Err(Error::ExpectedContinuation);
            }
            _ => {}
        }
        if payload_len > self.max_frame_size {
            return Err(Error::FrameTooLarge {
                len: payload_len,
                limit: self.max_frame_size,
            });
        }
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, pos)))
    }
}

/// How long the header starting with `bytes` is, as far as `bytes` tells:
/// 2 until the second byte is known.
fn header_len_needed(bytes: &[u8]) -> usize {
    match bytes {
        [_, b1, ..] => {
            let length_bytes = match b1 & 0x7F {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let mask_bytes = if b1 & 0x80 != 0 { 4 } else { 0 };
            2 + length_bytes + mask_bytes
        }
        _ => 2,
    }
}

#[cfg(test)]
mod tests;
