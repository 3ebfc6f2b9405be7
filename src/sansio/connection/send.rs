//! The send rules (RFC 6455 §5.4, §5.5, §7.4) and frame encoding.
//!
//! Every call either encodes its frame into the connection's output, in
//! order, or is refused with an error that says whose fault it was: a
//! caller's mistake ([`Error::is_misuse`]) leaves the connection as it
//! was.

use alloc::vec::Vec;
use core::time::Duration;

use super::Connection;
use crate::error::{Error, Result};
use crate::sansio::close::{CloseCode, CloseFrame};
use crate::sansio::config::Direction;
use crate::sansio::decoder::RSV1;
use crate::sansio::frame::{
    FrameHeader, MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN, Opcode, Role, encode_frame,
};
use crate::sansio::reader::TRACE_PREVIEW;

/// An encoded frame header, for a payload the driver writes itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHead {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl FrameHead {
    /// The header's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl Connection {
    /// Sends a text message in one frame, compressed when permessage-
    /// deflate is on.
    pub fn send_text(&mut self, text: &str) -> Result<()> {
        self.send_message(Opcode::Text, text.as_bytes())
    }

    /// Sends a binary message in one frame, compressed when permessage-
    /// deflate is on.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<()> {
        self.send_message(Opcode::Binary, data)
    }

    /// Sends a whole message in one frame, never compressed (RFC 7692
    /// §6: compression is chosen message by message): for data that is
    /// already compressed, or secrets next to data a peer chooses.
    pub fn send_uncompressed(&mut self, opcode: Opcode, payload: &[u8]) -> Result<()> {
        self.send_fragment(opcode, payload, true)
    }

    /// Sends a whole `Text` or `Binary` message in one frame, compressed
    /// when permessage-deflate is on (as [`send_text`](Self::send_text)
    /// and [`send_binary`](Self::send_binary) do).
    pub fn send_message(&mut self, opcode: Opcode, payload: &[u8]) -> Result<()> {
        if self.deflater.is_none() || !matches!(opcode, Opcode::Text | Opcode::Binary) {
            return self.send_fragment(opcode, payload, true);
        }
        self.start_data_frame(opcode, true)?;
        let Some(deflater) = self.deflater.as_mut() else {
            return Err(Error::NotAllowed("permessage-deflate is off"));
        };
        let deflater = deflater.get();
        // RFC 7692 §7.2.1: compress, end with a sync flush, drop the
        // trailing 00 00 ff ff; RSV1 marks the first (here, only) frame.
        let mut compressed = core::mem::take(&mut self.compressed);
        compressed.clear();
        deflater.compress_message(payload, &mut compressed);
        // The tracer sees the payload as it goes on the wire, compressed,
        // as it sees a received compressed frame.
        let header = self.header_rsv(opcode, RSV1, &compressed, true);
        encode_frame(&mut self.out, &header, &compressed);
        if compressed.capacity() > 64 << 10 {
            compressed = Vec::new();
        }
        self.compressed = compressed;
        Ok(())
    }

    /// Sends one frame of a data message (RFC 6455 §5.4): `Text` or
    /// `Binary` starts a message, `Continuation` continues the open one,
    /// and `fin` ends it. A whole message is one frame with `fin` set.
    ///
    /// Refused, with nothing sent: a control opcode
    /// ([`Error::NotAllowed`]), a continuation with no message open
    /// ([`Error::NoMessageToContinue`]), a new message while one is open
    /// ([`Error::MessageInProgress`]), anything after this side's Close
    /// ([`Error::AlreadyClosed`], §5.5.1).
    pub fn send_fragment(&mut self, opcode: Opcode, payload: &[u8], fin: bool) -> Result<()> {
        self.start_data_frame(opcode, fin)?;
        self.encode(opcode, payload, fin);
        Ok(())
    }

    /// As [`send_fragment`](Self::send_fragment), for a driver that writes a
    /// large payload itself, without copying it: moves the output waiting
    /// before this frame to the end of `pending` and returns the frame's
    /// header. The driver writes `pending`, the header, then the payload,
    /// before anything else. Servers only: a client's payload must be
    /// masked (§5.1), so it goes through `send_fragment`.
    pub fn send_fragment_head(
        &mut self,
        opcode: Opcode,
        payload: &[u8],
        fin: bool,
        pending: &mut Vec<u8>,
    ) -> Result<FrameHead> {
        if self.role == Role::Client {
            return Err(Error::NotAllowed(
                "a client's payload must be masked: use send_fragment",
            ));
        }
        self.start_data_frame(opcode, fin)?;
        let header = self.header(opcode, payload, fin);
        self.take_data_to_send(pending);
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let len = header.encode(&mut bytes);
        Ok(FrameHead { bytes, len })
    }

    /// Checks a data frame against the send rules and records where the
    /// message stands.
    fn start_data_frame(&mut self, opcode: Opcode, fin: bool) -> Result<()> {
        self.check_can_send_data()?;
        match (opcode, self.sending) {
            (Opcode::Text | Opcode::Binary, Some(_)) => Err(Error::MessageInProgress),
            (Opcode::Text | Opcode::Binary, None) => {
                self.sending = (!fin).then_some(opcode);
                Ok(())
            }
            (Opcode::Continuation, None) => Err(Error::NoMessageToContinue),
            (Opcode::Continuation, Some(_)) => {
                if fin {
                    self.sending = None;
                }
                Ok(())
            }
            (Opcode::Close | Opcode::Ping | Opcode::Pong, _) => Err(Error::NotAllowed(
                "send_fragment is for data frames; use ping, pong or close",
            )),
        }
    }

    /// §5.5.1: "After sending a Close frame, the endpoint MUST NOT send any
    /// further data frames."
    fn check_can_send_data(&self) -> Result<()> {
        if self.aborted {
            Err(Error::ConnectionFailed)
        } else if self.close_sent || self.failed {
            Err(Error::AlreadyClosed)
        } else {
            Ok(())
        }
    }

    /// Sends a Ping (RFC 6455 §5.5.2); its payload may be at most 125
    /// bytes. Refused after this side's Close. It starts no timer, so it
    /// takes no time: keepalive Pings, whose Pong is awaited, are the
    /// core's own ([`handle_timeout`](Self::handle_timeout)).
    pub fn ping(&mut self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        self.check_can_send_data()?;
        self.encode(Opcode::Ping, payload, true);
        Ok(())
    }

    /// Sends a Pong (RFC 6455 §5.5.3): an unsolicited one is a one-way
    /// heartbeat. Allowed after this side's Close until the peer's arrives.
    pub fn pong(&mut self, payload: &[u8]) -> Result<()> {
        check_control_payload(payload)?;
        if self.aborted {
            return Err(Error::ConnectionFailed);
        }
        if self.failed || (self.close_sent && self.close_received) {
            return Err(Error::AlreadyClosed);
        }
        self.encode(Opcode::Pong, payload, true);
        Ok(())
    }

    /// Starts the close handshake with `code` and a reason cut to 123 bytes
    /// on a character boundary (RFC 6455 §7.1.2), or answers the peer's
    /// Close when the reply was deferred. Codes that may not be sent
    /// (1005, 1006, 1015, ...) are refused with
    /// [`Error::UnsendableCloseCode`]; a second Close with
    /// [`Error::AlreadyClosed`].
    ///
    /// `now` starts the close timeout: unless the peer's Close arrives
    /// before `now` + [`Config::close_timeout`], the next
    /// [`handle_timeout`](Self::handle_timeout) (or
    /// [`receive_eof`](Self::receive_eof)) gives
    /// [`Error::Timeout`]`("close handshake")`.
    ///
    /// [`Config::close_timeout`]: field@crate::Config::close_timeout
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Duration) -> Result<()> {
        if !code.is_sendable() {
            return Err(Error::UnsendableCloseCode(code.0));
        }
        if self.aborted {
            return Err(Error::ConnectionFailed);
        }
        if self.close_sent || self.failed {
            return Err(Error::AlreadyClosed);
        }
        self.queue_close(Some(&CloseFrame::new(code, reason)), now);
        Ok(())
    }

    /// Sends the reply owed to the peer's Close, if one is owed (see
    /// [`defer_close_reply`](Self::defer_close_reply)); otherwise does
    /// nothing. `now` restarts the close timeout (a client then waits,
    /// bounded, for the server to end TCP).
    pub fn reply_to_close(&mut self, now: Duration) -> Result<()> {
        if let Some(echo) = self.reply_due.take() {
            if !self.close_sent && !self.aborted {
                self.queue_close(echo.as_ref(), now);
            }
        }
        Ok(())
    }

    /// The data message this side is sending in fragments, if one is open.
    pub fn sending_message(&self) -> Option<Opcode> {
        self.sending
    }

    /// Whether a Close reply is owed and deferred.
    pub fn is_reply_due(&self) -> bool {
        self.reply_due.is_some()
    }

    /// Queues a Close frame, after which only Pongs may follow.
    pub(super) fn queue_close(&mut self, frame: Option<&CloseFrame>, now: Duration) {
        let mut payload = Vec::with_capacity(MAX_CONTROL_PAYLOAD as usize);
        if let Some(frame) = frame {
            frame.write_payload(&mut payload);
        }
        self.encode(Opcode::Close, &payload, true);
        self.close_sent = true;
        self.reply_due = None;
        self.timers.on_close_step(now);
    }

    /// Queues a Ping or Pong the protocol sends by itself.
    pub(super) fn queue_control(&mut self, opcode: Opcode, payload: &[u8]) {
        if !self.aborted && !self.close_received && !self.failed {
            self.encode(opcode, payload, true);
        }
    }

    fn header(&mut self, opcode: Opcode, payload: &[u8], fin: bool) -> FrameHeader {
        self.header_rsv(opcode, 0, payload, fin)
    }

    /// A header for `payload`, with `rsv`; the tracer sees the payload's
    /// first bytes as they go on the wire (compressed, before masking).
    fn header_rsv(&mut self, opcode: Opcode, rsv: u8, payload: &[u8], fin: bool) -> FrameHeader {
        let mask = self.masks.as_mut().map(|masks| masks.next_key());
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        if let Some(tracer) = &self.config.tracer {
            let preview = &payload[..payload.len().min(TRACE_PREVIEW)];
            tracer(Direction::Outgoing, &header, preview);
        }
        header
    }

    /// Appends one frame, masked on a client, to the output.
    fn encode(&mut self, opcode: Opcode, payload: &[u8], fin: bool) {
        let header = self.header(opcode, payload, fin);
        encode_frame(&mut self.out, &header, payload);
    }
}

/// RFC 6455 §5.5: "All control frames MUST have a payload length of 125
/// bytes or less."
fn check_control_payload(payload: &[u8]) -> Result<()> {
    if payload.len() as u64 > MAX_CONTROL_PAYLOAD {
        return Err(Error::ControlPayloadTooLong(payload.len()));
    }
    Ok(())
}
