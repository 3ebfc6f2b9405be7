//! The receiving side of a connection as pure code: bytes in, messages out.
//!
//! Low level, for study, fuzzing and custom drivers: applications use
//! [`Receiver::recv`](crate::Receiver::recv), and a driver of its own
//! uses [`Connection`](crate::sansio::connection::Connection), which also
//! answers Pings and Closes.
//!
//! [`MessageReader`] joins the [`FrameDecoder`] and the
//! [`MessageAssembler`]: it takes whatever bytes the stream gave, however
//! they were split, and returns the next message (control frames
//! included) with how many bytes it used. The I/O layer reads, feeds and
//! acts on what comes out; it never looks at a frame itself.

use crate::error::Result;
use crate::sansio::config::Config;
use crate::sansio::decoder::{Decoded, FrameDecoder};
use crate::sansio::deflate::{Inflater, OnFirstUse};
use crate::sansio::frame::{FrameHeader, Role};
use crate::sansio::message::{Message, MessageAssembler};
use alloc::vec::Vec;

/// How many payload bytes of each frame a trace shows.
pub const TRACE_PREVIEW: usize = 64;

/// Decodes frames and assembles messages from a byte stream.
#[derive(Debug)]
pub struct MessageReader {
    decoder: FrameDecoder,
    assembler: MessageAssembler,
    /// When tracing: the current frame and the first bytes of its payload.
    trace: Option<FrameTrace>,
}

/// A message buffer lent to a driver to read payload bytes into (see
/// [`MessageReader::begin_direct_read`]).
#[derive(Debug)]
pub struct DirectRead {
    buf: Vec<u8>,
    /// The space lent is `buf[start..end]`.
    start: usize,
    end: usize,
}

impl DirectRead {
    /// Where the driver reads the next payload bytes to.
    pub fn space(&mut self) -> &mut [u8] {
        &mut self.buf[self.start..self.end]
    }
}

/// A received frame as a trace shows it.
#[derive(Debug, Clone)]
pub struct FrameTrace {
    /// The frame's header.
    pub header: Option<FrameHeader>,
    /// The first [`TRACE_PREVIEW`] bytes of its payload, unmasked.
    pub preview: Vec<u8>,
}

impl MessageReader {
    /// A reader for a `role` endpoint with `config`'s limits.
    pub fn new(role: Role, config: &Config) -> MessageReader {
        MessageReader {
            decoder: FrameDecoder::new(role, config.max_frame_size),
            assembler: MessageAssembler::new(config.max_message_size, config.max_fragments),
            trace: None,
        }
    }

    /// Accepts and inflates compressed messages (permessage-deflate, RFC
    /// 7692), with the inflater the negotiation agreed on.
    pub fn enable_inflate(&mut self, inflater: Inflater) {
        self.decoder.allow_compressed();
        self.assembler.enable_inflate(inflater);
    }

    /// As [`enable_inflate`](Self::enable_inflate), with the inflater
    /// made at the first compressed message.
    pub(crate) fn enable_inflate_on_first_use(&mut self, inflater: OnFirstUse<Inflater>) {
        self.decoder.allow_compressed();
        self.assembler.enable_inflate_on_first_use(inflater);
    }

    /// Whether the inflater has been made (it is at the first compressed
    /// message).
    #[cfg(test)]
    pub(crate) fn inflater_made(&self) -> bool {
        self.assembler.inflater_made()
    }

    /// Records each frame for [`MessageReader::read_traced`].
    pub fn enable_trace(&mut self) {
        self.trace = Some(FrameTrace {
            header: None,
            preview: Vec::new(),
        });
    }

    /// Stops recording frames (undoes [`MessageReader::enable_trace`]).
    pub fn disable_trace(&mut self) {
        self.trace = None;
    }

    /// Feeds `input`; returns the bytes used and the next message, if
    /// these bytes completed one. With no message, all of `input` was used.
    pub fn read(&mut self, input: &mut [u8]) -> Result<(usize, Option<Message>)> {
        self.read_traced(input, &mut |_| {})
    }

    /// As [`MessageReader::read`], calling `on_frame` as each frame ends
    /// (only after [`MessageReader::enable_trace`]).
    pub fn read_traced(
        &mut self,
        input: &mut [u8],
        on_frame: &mut dyn FnMut(&FrameTrace),
    ) -> Result<(usize, Option<Message>)> {
        let mut used = 0;
        loop {
            // Whole frames in one step (a trace takes them piece by piece).
            if self.trace.is_none() {
                if let Some((n, header, payload)) = self.decoder.decode_frame(&mut input[used..])? {
                    used += n;
                    if let Some(message) = self.assembler.on_frame(header, payload)? {
                        return Ok((used, Some(message)));
                    }
                    continue;
                }
            }
            let (n, step) = self.decoder.decode(&mut input[used..])?;
            used += n;
            match step {
                Decoded::NeedMore => return Ok((used, None)),
                Decoded::Header(header) => {
                    if let Some(trace) = &mut self.trace {
                        trace.header = Some(header);
                        trace.preview.clear();
                    }
                    self.assembler.on_header(header)?;
                }
                Decoded::Payload { data, frame_end } => {
                    if let Some(trace) = &mut self.trace {
                        let room = TRACE_PREVIEW - trace.preview.len();
                        trace
                            .preview
                            .extend_from_slice(&data[..data.len().min(room)]);
                        if frame_end {
                            on_frame(trace);
                        }
                    }
                    if let Some(message) = self.assembler.on_payload(data, frame_end)? {
                        return Ok((used, Some(message)));
                    }
                }
            }
        }
    }

    /// When the next bytes of the stream are the payload of a binary frame
    /// with at least `min` bytes still to come, lends out the message's
    /// buffer with room for up to `max` of them, so that a driver reads
    /// them straight where they belong, with no copy from a read buffer.
    /// `None` when tracing, for text (validated piece by piece as it is
    /// copied), or when less remains. Give it back with
    /// [`end_direct_read`](Self::end_direct_read) before anything else is
    /// fed.
    ///
    /// Memory follows the bytes: the room lent is at most `max` past what
    /// the message holds, whatever length the frame's header announced,
    /// and the buffer grows as a `Vec` does (at most doubling what was
    /// received), so 14 bytes of header cannot make it reserve 16 MiB.
    /// When the room cannot be allocated this returns `None`: the bytes
    /// then go through [`read`](Self::read), whose failed allocation is
    /// [`Error::OutOfMemory`](crate::Error::OutOfMemory) (1009).
    pub fn begin_direct_read(&mut self, min: usize, max: usize) -> Option<DirectRead> {
        if self.trace.is_some() {
            return None;
        }
        let remaining = self.decoder.data_payload_remaining()?;
        if remaining < min as u64 {
            return None;
        }
        let (mut buf, start) = self.assembler.lend_binary()?;
        let want = usize::try_from(remaining).unwrap_or(usize::MAX).min(max);
        if buf.len() < start + want {
            let grow = start + want - buf.len();
            if buf.try_reserve(grow).is_err() {
                let _ = self.assembler.return_binary(buf, start, false);
                return None;
            }
            // Zeroed once: room left unfilled is kept for the next loan.
            buf.resize(start + want, 0);
        }
        Some(DirectRead {
            buf,
            start,
            end: start + want,
        })
    }

    /// Takes back what [`begin_direct_read`](Self::begin_direct_read) lent,
    /// with the first `filled` bytes of its space read from the stream:
    /// they are unmasked in place and counted as the frame's payload.
    /// Returns a message when they completed one.
    pub fn end_direct_read(
        &mut self,
        mut read: DirectRead,
        filled: usize,
    ) -> Result<Option<Message>> {
        let end = read.start + filled.min(read.end - read.start);
        let frame_end = match self.decoder.decode(&mut read.buf[read.start..end]) {
            Ok((_, Decoded::Payload { frame_end, .. })) => frame_end,
            Ok(_) => false,
            Err(e) => {
                let _ = self.assembler.return_binary(read.buf, read.start, false);
                return Err(e);
            }
        };
        self.assembler.return_binary(read.buf, end, frame_end)
    }

    /// Whether the stream stands between frames.
    pub fn is_between_frames(&self) -> bool {
        self.decoder.is_between_frames()
    }
}
