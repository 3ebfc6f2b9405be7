//! The independent model the frame targets check plainws against: RFC
//! 6455 §5 the plain way, the whole input at once, with the setup bytes
//! that choose a role and limits and the classifiers of documented errors.

use std::str;

use plainws::sansio::close::CloseFrame;
use plainws::{CloseCode, Config, Error, FrameHeader, Message, Opcode, Role};

use super::input::Input;

// ---------------------------------------------------------------------------
// Decoder setup shared by the frame targets

/// A role and limits chosen by the first bytes of an input.
#[derive(Clone, Copy, Debug)]
pub(super) struct Setup {
    pub(super) role: Role,
    pub(super) max_frame_size: u64,
    pub(super) max_message_size: u64,
    pub(super) max_fragments: usize,
    /// permessage-deflate is negotiated: RSV1 may mark the first frame of
    /// a data message (RFC 7692 §6). Never set by [`Setup::read`].
    pub(super) allow_rsv1: bool,
}

impl Setup {
    /// Byte 0: bit 0 the role; bits 1–2 the limits: small ones from the
    /// next 5 bytes, the defaults, none at all, or any 64-bit values from
    /// the next 20 bytes.
    pub(super) fn read(input: &mut Input<'_>) -> Setup {
        let selector = input.byte();
        let role = if selector & 1 == 0 {
            Role::Server
        } else {
            Role::Client
        };
        let defaults = Config::default();
        let (max_frame_size, max_message_size, max_fragments) = match (selector >> 1) & 3 {
            0 => (
                u64::from(input.u16()),
                u64::from(input.u16()),
                usize::from(input.byte()),
            ),
            1 => (
                defaults.max_frame_size,
                defaults.max_message_size,
                defaults.max_fragments,
            ),
            2 => (u64::MAX, u64::MAX, usize::MAX),
            _ => (input.u64(), input.u64(), input.u32() as usize),
        };
        Setup {
            role,
            max_frame_size,
            max_message_size,
            max_fragments,
            allow_rsv1: false,
        }
    }

    pub(super) fn config(&self) -> Config {
        Config::default()
            .max_frame_size(self.max_frame_size)
            .max_message_size(self.max_message_size)
            .max_fragments(self.max_fragments)
    }
}

/// Whether `error` is one the frame decoder documents.
pub(super) fn is_frame_error(error: &Error) -> bool {
    matches!(
        error,
        Error::ReservedBitsSet
            | Error::ReservedOpcode(_)
            | Error::FragmentedControlFrame
            | Error::ControlFrameTooLong(_)
            | Error::InvalidPayloadLength
            | Error::UnmaskedFrame
            | Error::MaskedFrame
            | Error::UnexpectedContinuation
            | Error::ExpectedContinuation
            | Error::FrameTooLarge { .. }
    ) && error.close_code().is_some()
}

/// Whether `error` is one the message reader documents.
pub(super) fn is_message_error(error: &Error) -> bool {
    is_frame_error(error)
        || matches!(
            error,
            Error::InvalidClosePayload
                | Error::InvalidCloseCode(_)
                | Error::InvalidUtf8
                | Error::MessageTooLarge { .. }
                | Error::TooManyFragments(_)
        ) && error.close_code().is_some()
}

// ---------------------------------------------------------------------------
// The model: RFC 6455 §5 the plain way, the whole input at once

/// What a byte stream means, frame by frame.
#[derive(Debug, Default)]
pub(super) struct ModelFrames {
    /// Frames in order with their unmasked payloads; the last one may be
    /// cut short by the end of the input (`partial`).
    pub(super) frames: Vec<(FrameHeader, Vec<u8>)>,
    pub(super) partial: bool,
    /// The error that stops the stream, after `frames`.
    pub(super) error: Option<Error>,
    /// The input ended exactly after a frame.
    pub(super) between_frames: bool,
    /// A fragmented message is open at the end.
    pub(super) in_message: bool,
    /// Where each whole frame of `frames` ends in the input.
    pub(super) ends: Vec<usize>,
}

/// Splits `bytes` into frames by RFC 6455 §5.2–§5.5, checking in the
/// documented order: RSV, opcode, control frame fragmented or over 125,
/// 64-bit length top bit, mask against role, data frame order, frame size.
/// With `setup.allow_rsv1` (permessage-deflate), RSV1 alone passes the
/// first check, and fails after the opcode's unless the frame starts a
/// data message (RFC 7692 §6.1).
pub(super) fn model_frames(setup: &Setup, bytes: &[u8]) -> ModelFrames {
    model_frames_from(setup, bytes, false)
}

/// As [`model_frames`], for bytes that start at a frame boundary inside a
/// stream, `in_message` saying whether a fragmented message is open there.
pub(super) fn model_frames_from(setup: &Setup, bytes: &[u8], in_message: bool) -> ModelFrames {
    let mut model = ModelFrames {
        in_message,
        ..ModelFrames::default()
    };
    let mut pos = 0;
    loop {
        let rest = &bytes[pos..];
        model.between_frames = rest.is_empty();
        if rest.len() < 2 {
            return model;
        }
        let fin = rest[0] >> 7 == 1;
        let rsv = (rest[0] >> 4) & 7;
        let bits = rest[0] & 15;
        let masked = rest[1] >> 7 == 1;
        let len7 = rest[1] & 127;
        let rsv1_only = setup.allow_rsv1 && rsv == 0b100;
        if rsv != 0 && !rsv1_only {
            model.error = Some(Error::ReservedBitsSet);
            return model;
        }
        let opcode = match bits {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => {
                model.error = Some(Error::ReservedOpcode(bits));
                return model;
            }
        };
        if rsv != 0 && !matches!(opcode, Opcode::Text | Opcode::Binary) {
            model.error = Some(Error::ReservedBitsSet);
            return model;
        }
        let control = bits >= 8;
        if control && !fin {
            model.error = Some(Error::FragmentedControlFrame);
            return model;
        }
        if control && len7 > 125 {
            model.error = Some(Error::ControlFrameTooLong(u64::from(len7)));
            return model;
        }
        let length_bytes = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let header_len = 2 + length_bytes + if masked { 4 } else { 0 };
        if rest.len() < header_len {
            return model;
        }
        let len = if length_bytes == 0 {
            u64::from(len7)
        } else {
            rest[2..2 + length_bytes]
                .iter()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
        };
        if length_bytes == 8 && len >= 1 << 63 {
            model.error = Some(Error::InvalidPayloadLength);
            return model;
        }
        match (setup.role, masked) {
            (Role::Server, false) => {
                model.error = Some(Error::UnmaskedFrame);
                return model;
            }
            (Role::Client, true) => {
                model.error = Some(Error::MaskedFrame);
                return model;
            }
            _ => {}
        }
        if opcode == Opcode::Continuation && !model.in_message {
            model.error = Some(Error::UnexpectedContinuation);
            return model;
        }
        if matches!(opcode, Opcode::Text | Opcode::Binary) && model.in_message {
            model.error = Some(Error::ExpectedContinuation);
            return model;
        }
        if len > setup.max_frame_size {
            model.error = Some(Error::FrameTooLarge {
                len,
                limit: setup.max_frame_size,
            });
            return model;
        }
        let key = masked.then(|| {
            let k = &rest[header_len - 4..header_len];
            [k[0], k[1], k[2], k[3]]
        });
        if !control {
            model.in_message = !fin;
        }
        let available = (rest.len() - header_len) as u64;
        let take = len.min(available) as usize;
        let mut payload = rest[header_len..header_len + take].to_vec();
        if let Some(key) = key {
            for (i, byte) in payload.iter_mut().enumerate() {
                *byte ^= key[i % 4];
            }
        }
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask: key,
            payload_len: len,
        };
        model.frames.push((header, payload));
        if (take as u64) < len {
            model.partial = true;
            return model;
        }
        pos += header_len + take;
        model.ends.push(pos);
    }
}

/// The messages the frames make (RFC 6455 §5.4, §5.5.1, §8.1) and the
/// first error, message limits and UTF-8 included.
pub(super) fn model_messages(setup: &Setup, frames: &ModelFrames) -> (Vec<Message>, Option<Error>) {
    let mut messages = Vec::new();
    let mut text = false;
    let mut size = 0u64;
    let mut fragments = 0usize;
    let mut data: Vec<u8> = Vec::new();
    for (i, (header, payload)) in frames.frames.iter().enumerate() {
        let complete = !(frames.partial && i + 1 == frames.frames.len());
        let control = header.opcode.is_control();
        if !control {
            if header.opcode != Opcode::Continuation {
                text = header.opcode == Opcode::Text;
                size = 0;
                fragments = 0;
                data.clear();
            }
            fragments += 1;
            if fragments > setup.max_fragments {
                return (messages, Some(Error::TooManyFragments(setup.max_fragments)));
            }
            size = size.saturating_add(header.payload_len);
            if size > setup.max_message_size {
                return (
                    messages,
                    Some(Error::MessageTooLarge {
                        len: size,
                        limit: setup.max_message_size,
                    }),
                );
            }
            data.extend_from_slice(payload);
            if text {
                if let Err(e) = str::from_utf8(&data) {
                    // Fail fast: a definite error counts at once; a
                    // character cut at the end only when the message ends.
                    if e.error_len().is_some() || (complete && header.fin) {
                        return (messages, Some(Error::InvalidUtf8));
                    }
                }
            }
            if complete && header.fin {
                let body = std::mem::take(&mut data);
                messages.push(if text {
                    Message::Text(String::from_utf8(body).expect("checked above"))
                } else {
                    Message::Binary(body)
                });
            }
        } else if complete {
            messages.push(match header.opcode {
                Opcode::Ping => Message::Ping(payload.clone()),
                Opcode::Pong => Message::Pong(payload.clone()),
                _ => match model_close(payload) {
                    Ok(close) => Message::Close(close),
                    Err(e) => return (messages, Some(e)),
                },
            });
        }
    }
    (messages, frames.error.as_ref().map(copy_error))
}

/// A Close body by RFC 6455 §5.5.1 and §7.4.
fn model_close(payload: &[u8]) -> Result<Option<CloseFrame>, Error> {
    if payload.is_empty() {
        return Ok(None);
    }
    if payload.len() == 1 {
        return Err(Error::InvalidClosePayload);
    }
    let code = u16::from(payload[0]) << 8 | u16::from(payload[1]);
    let sendable = (1000..=1003).contains(&code)
        || (1007..=1014).contains(&code)
        || (3000..=4999).contains(&code);
    if !sendable {
        return Err(Error::InvalidCloseCode(code));
    }
    let reason = str::from_utf8(&payload[2..]).map_err(|_| Error::InvalidUtf8)?;
    Ok(Some(CloseFrame {
        code: CloseCode(code),
        reason: reason.to_owned(),
    }))
}

/// The frame errors carry only plain values, so they can be rebuilt.
fn copy_error(error: &Error) -> Error {
    match error {
        Error::ReservedBitsSet => Error::ReservedBitsSet,
        Error::ReservedOpcode(op) => Error::ReservedOpcode(*op),
        Error::FragmentedControlFrame => Error::FragmentedControlFrame,
        Error::ControlFrameTooLong(len) => Error::ControlFrameTooLong(*len),
        Error::InvalidPayloadLength => Error::InvalidPayloadLength,
        Error::UnmaskedFrame => Error::UnmaskedFrame,
        Error::MaskedFrame => Error::MaskedFrame,
        Error::UnexpectedContinuation => Error::UnexpectedContinuation,
        Error::ExpectedContinuation => Error::ExpectedContinuation,
        Error::FrameTooLarge { len, limit } => Error::FrameTooLarge {
            len: *len,
            limit: *limit,
        },
        other => panic!("the model makes no {other:?}"),
    }
}
