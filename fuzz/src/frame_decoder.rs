//! `frame_decoder`: the frame decoder and the message reader on the whole
//! input, checked against the model of RFC 6455 §5 (`model.rs`).

use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::reader::MessageReader;
use plainws::{FrameHeader, Message, Role};

use super::alloc::heap_peak;
use super::input::{Input, debug};
use super::model::{
    ModelFrames, Setup, is_frame_error, is_message_error, model_frames, model_messages,
};

/// Decodes the input after the setup bytes in one piece, with the frame
/// decoder and with the message reader, and checks both against the model.
pub fn frame_decoder(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = Setup::read(&mut input);
    let bytes = input.rest();
    let model = model_frames(&setup, bytes);
    check_decoder_against_model(&setup, bytes, &model);
    check_reader_against_model(&setup, bytes, &model);
}

fn check_decoder_against_model(setup: &Setup, bytes: &[u8], model: &ModelFrames) {
    let mut buf = bytes.to_vec();
    let mut decoder = FrameDecoder::new(setup.role, setup.max_frame_size);
    // Frames compared as they come, without collecting them: the decoder
    // itself must not allocate at all.
    let (error, heap) = heap_peak(|| {
        let mut at = 0;
        let mut index = 0;
        let mut got = 0usize;
        let mut header: Option<FrameHeader> = None;
        loop {
            match decoder.decode(&mut buf[at..]) {
                Err(e) => {
                    assert!(is_frame_error(&e), "undocumented error {e:?}");
                    assert_eq!(index, model.frames.len(), "error {e:?} too early");
                    assert!(!model.partial);
                    return Some(e);
                }
                Ok((used, step)) => {
                    at += used;
                    match step {
                        Decoded::NeedMore => {
                            assert_eq!(at, buf.len(), "NeedMore must use the whole input");
                            assert!(model.error.is_none(), "missed {:?}", model.error);
                            match header {
                                Some(_) => {
                                    assert!(model.partial);
                                    assert_eq!(index + 1, model.frames.len());
                                    assert_eq!(got, model.frames[index].1.len());
                                }
                                None => {
                                    assert!(!model.partial);
                                    assert_eq!(index, model.frames.len());
                                }
                            }
                            assert_eq!(decoder.is_between_frames(), model.between_frames);
                            assert_eq!(decoder.in_message(), model.in_message);
                            return None;
                        }
                        Decoded::Header(h) => {
                            assert!(header.is_none(), "header inside a frame");
                            assert_eq!(Some(&h), model.frames.get(index).map(|f| &f.0));
                            assert!(h.payload_len <= setup.max_frame_size);
                            assert_eq!(h.mask.is_some(), setup.role == Role::Server);
                            if h.opcode.is_control() {
                                assert!(h.fin && h.payload_len <= 125);
                            }
                            header = Some(h);
                            got = 0;
                        }
                        Decoded::Payload { data, frame_end } => {
                            let h = header.expect("payload before a header");
                            let expected = &model.frames[index].1;
                            assert!(got + data.len() <= expected.len(), "more than declared");
                            assert_eq!(data, &expected[got..got + data.len()]);
                            got += data.len();
                            assert!(got as u64 <= h.payload_len);
                            assert_eq!(frame_end, got as u64 == h.payload_len);
                            if frame_end {
                                header = None;
                                index += 1;
                            }
                        }
                    }
                }
            }
        }
    });
    assert!(
        heap.is_none_or(|bytes| bytes == 0),
        "decoder allocated {heap:?}"
    );
    assert_eq!(debug(&error), debug(&model.error));
}

fn check_reader_against_model(setup: &Setup, bytes: &[u8], model: &ModelFrames) {
    let (messages, error) = model_messages(setup, model);
    let mut buf = bytes.to_vec();
    let mut reader = MessageReader::new(setup.role, &setup.config());
    let (got_error, heap) = heap_peak(|| {
        let mut at = 0;
        let mut index = 0;
        loop {
            match reader.read(&mut buf[at..]) {
                Err(e) => {
                    assert!(is_message_error(&e), "undocumented error {e:?}");
                    assert_eq!(index, messages.len(), "error {e:?} too early");
                    return Some(e);
                }
                Ok((used, None)) => {
                    assert_eq!(at + used, buf.len());
                    assert_eq!(index, messages.len());
                    return None;
                }
                Ok((used, Some(message))) => {
                    at += used;
                    check_message_limits(setup, &message);
                    assert_eq!(Some(&message), messages.get(index));
                    index += 1;
                }
            }
        }
    });
    // Memory follows the bytes that arrived, never a declared length.
    if let Some(heap) = heap {
        assert!(
            heap <= 4 * bytes.len() + 4096,
            "reader held {heap} bytes for {} bytes of input",
            bytes.len()
        );
    }
    assert_eq!(debug(&got_error), debug(&error));
}

fn check_message_limits(setup: &Setup, message: &Message) {
    let (len, capacity, control) = match message {
        Message::Text(text) => (text.len(), text.capacity(), false),
        Message::Binary(data) => (data.len(), data.capacity(), false),
        Message::Ping(data) | Message::Pong(data) => (data.len(), data.capacity(), true),
        Message::Close(frame) => (frame.as_ref().map_or(0, |f| f.reason.len() + 2), 0, true),
    };
    if control {
        assert!(len <= 125, "control message of {len} bytes");
    } else {
        assert!(
            len as u64 <= setup.max_message_size,
            "message over the limit"
        );
    }
    assert!(
        capacity <= (2 * len).max(256),
        "{capacity} bytes held for {len}"
    );
}
