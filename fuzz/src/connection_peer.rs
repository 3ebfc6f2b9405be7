//! `connection`'s model of the peer's bytes: what the core took, parsed
//! frame by frame by `model.rs`, against the messages and errors the core
//! reported.

use plainws::sansio::deflate::TAIL;
use plainws::{Error, FrameHeader, Message, Opcode};

use super::connection_deflate::keep_window;
use super::model::{Setup, is_frame_error, is_message_error, model_frames_from};
use crate::miniz_reference::{Reference, reference_once};

/// The peer's bytes as the core took them (before unmasking), parsed
/// frame by frame by the model.
pub(super) struct Peer {
    pub(super) setup: Setup,
    pub(super) stream: Vec<u8>,
    /// The frames before this offset are parsed.
    pub(super) pos: usize,
    /// A fragmented message is open at `pos`.
    pub(super) in_message: bool,
    /// The last whole frame parsed.
    pub(super) last: Option<(FrameHeader, Vec<u8>)>,
    /// The data frames of the last data message parsed.
    pub(super) message: Vec<(FrameHeader, Vec<u8>)>,
    /// With compression: the peer's context reset, and the window of its
    /// earlier compressed messages for `miniz_oxide` (32 KiB whatever the
    /// window bits, so a match plainws accepts beyond them is still
    /// checked), while it is known.
    pub(super) reset: bool,
    pub(super) history: Option<Vec<u8>>,
}

impl Peer {
    /// Parses the whole frames up to `upto`; returns the model's first
    /// error there and whether `upto` is a frame boundary.
    pub(super) fn advance(&mut self, upto: usize) -> (Option<Error>, bool) {
        let model = model_frames_from(&self.setup, &self.stream[self.pos..upto], self.in_message);
        let mut end = 0;
        for ((header, payload), &frame_end) in model.frames.into_iter().zip(&model.ends) {
            end = frame_end;
            match header.opcode {
                Opcode::Text | Opcode::Binary => {
                    self.message.clear();
                    self.message.push((header, payload.clone()));
                    self.in_message = !header.fin;
                }
                Opcode::Continuation => {
                    self.message.push((header, payload.clone()));
                    self.in_message = !header.fin;
                }
                _ => {}
            }
            self.last = Some((header, payload));
        }
        self.pos += end;
        (model.error, self.pos == upto)
    }

    /// Bytes up to `upto` were taken without an error.
    pub(super) fn check_taken(&mut self, upto: usize) {
        let (error, _) = self.advance(upto);
        assert!(
            error.is_none(),
            "the core took a frame the model refuses: {error:?}"
        );
    }

    /// The core made `message` of the bytes up to `upto`.
    pub(super) fn check_message(&mut self, upto: usize, message: &Message, max_message_size: u64) {
        let (error, boundary) = self.advance(upto);
        assert!(
            error.is_none(),
            "the core took a frame the model refuses: {error:?}"
        );
        assert!(boundary, "a message that does not end at a frame boundary");
        let (last, last_payload) = self.last.as_ref().expect("a message needs a frame");
        let (opcode, bytes) = match message {
            Message::Ping(payload) => {
                assert_eq!(last_payload, payload, "the Ping's payload");
                (Opcode::Ping, None)
            }
            Message::Pong(payload) => {
                assert_eq!(last_payload, payload, "the Pong's payload");
                (Opcode::Pong, None)
            }
            Message::Close(_) => (Opcode::Close, None),
            Message::Text(text) => (Opcode::Text, Some(text.as_bytes())),
            Message::Binary(data) => (Opcode::Binary, Some(&data[..])),
        };
        let Some(bytes) = bytes else {
            assert_eq!(last.opcode, opcode, "the message is not the last frame");
            return;
        };
        assert!(
            !last.opcode.is_control() && last.fin,
            "a data message that is not the end of one"
        );
        let (first, _) = &self.message[0];
        assert_eq!(first.opcode, opcode, "the message's type");
        assert!(
            bytes.len() as u64 <= max_message_size,
            "a message over the limit"
        );
        let payload: Vec<u8> = self.message.iter().flat_map(|(_, p)| p.clone()).collect();
        if first.rsv == 0 {
            assert!(payload == bytes, "an uncompressed message changed");
            return;
        }
        assert!(
            self.setup.allow_rsv1,
            "a compressed message without compression"
        );
        let Some(history) = self.history.as_mut() else {
            return;
        };
        if self.reset {
            history.clear();
        }
        let input = [&payload[..], &TAIL[..]].concat();
        match reference_once(&input, history, bytes.len() as u64) {
            None => {}
            Some(Reference::Done(theirs)) => {
                assert!(
                    theirs == bytes,
                    "miniz_oxide inflates the peer's message otherwise"
                );
            }
            Some(Reference::EndedEarly(theirs)) => {
                // A final block inside the message: plainws goes on with a
                // new stream (RFC 7692 §7.2.3.4), miniz_oxide stops; the
                // window is no longer known here.
                assert!(bytes.starts_with(&theirs), "different bytes before BFINAL");
                self.history = None;
                return;
            }
            Some(Reference::Failed) => {
                panic!("the core accepts a compressed message miniz_oxide refuses")
            }
        }
        history.extend_from_slice(bytes);
        keep_window(history, 32 << 10);
    }

    /// The core failed with `error` somewhere in the bytes up to `upto`.
    pub(super) fn check_error(&mut self, upto: usize, error: &Error) {
        let code = error
            .close_code()
            .expect("a peer's violation has a close code");
        assert!(
            matches!(code.0, 1002 | 1007 | 1009),
            "a peer's violation closes with {code}"
        );
        let compressed_data = matches!(error, Error::InvalidCompressedData(_));
        assert!(
            is_message_error(error) || (compressed_data && self.setup.allow_rsv1),
            "an undocumented error {error:?}"
        );
        let (model, _) = self.advance(upto);
        if is_frame_error(error) {
            let model = model.expect("the core refuses a frame the model accepts");
            assert_eq!(
                format!("{error:?}"),
                format!("{model:?}"),
                "the first error"
            );
        }
    }
}
