//! `frame_decoder_chunked`: the same bytes decoded whole, in
//! fuzzer-chosen pieces and one byte at a time give the same frames,
//! messages, errors and end states. Whole, each complete frame takes the
//! one-step path (`FrameDecoder::decode_frame`, `MessageAssembler::on_frame`);
//! one byte at a time, never: so this is also a differential test of that
//! path against the piece-by-piece one.

use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::reader::MessageReader;
use plainws::{FrameHeader, Message};

use super::input::{Input, debug, pieces};
use super::model::Setup;

/// Everything a decoder run gives, for comparing two runs.
#[derive(Debug, PartialEq)]
struct Run {
    frames: Vec<(FrameHeader, Vec<u8>)>,
    /// The payload of a frame cut short by the end of the input.
    partial: Option<(FrameHeader, Vec<u8>)>,
    error: Option<String>,
    between_frames: bool,
    in_message: bool,
    messages: Vec<Message>,
    message_error: Option<String>,
    reader_between_frames: bool,
}

/// Decodes the same bytes whole, split at fuzzer-chosen points and one
/// byte at a time: the frames, messages, errors and end states must be
/// the same.
///
/// Input: the setup bytes, then a list of up to 16 piece sizes (a count
/// byte, then one byte per size), then the stream.
pub fn frame_decoder_chunked(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = Setup::read(&mut input);
    let sizes = input.list(16);
    let bytes = input.rest();
    let whole = run_in_pieces(&setup, &[bytes]);
    let split = run_in_pieces(&setup, &pieces(bytes, &sizes));
    assert_eq!(whole, split, "sizes {sizes:?}");
    let bytewise: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(
        whole,
        run_in_pieces(&setup, &bytewise),
        "one byte at a time"
    );
}

fn run_in_pieces(setup: &Setup, pieces: &[&[u8]]) -> Run {
    let mut run = Run {
        frames: Vec::new(),
        partial: None,
        error: None,
        between_frames: true,
        in_message: false,
        messages: Vec::new(),
        message_error: None,
        reader_between_frames: true,
    };
    // The frame decoder.
    let mut decoder = FrameDecoder::new(setup.role, setup.max_frame_size);
    'frames: for piece in pieces {
        let mut piece = piece.to_vec();
        let mut at = 0;
        loop {
            // A whole frame in one step when the piece holds one.
            match decoder.decode_frame(&mut piece[at..]) {
                Err(e) => {
                    run.error = Some(debug(&e));
                    break 'frames;
                }
                Ok(Some((used, header, payload))) => {
                    at += used;
                    run.frames.push((header, payload.to_vec()));
                    continue;
                }
                Ok(None) => {}
            }
            match decoder.decode(&mut piece[at..]) {
                Err(e) => {
                    run.error = Some(debug(&e));
                    break 'frames;
                }
                Ok((used, step)) => {
                    at += used;
                    match step {
                        Decoded::NeedMore => break,
                        Decoded::Header(h) => run.partial = Some((h, Vec::new())),
                        Decoded::Payload { data, frame_end } => {
                            let frame = run.partial.as_mut().expect("payload after a header");
                            frame.1.extend_from_slice(data);
                            if frame_end {
                                run.frames.extend(run.partial.take());
                            }
                        }
                    }
                }
            }
        }
    }
    if run.error.is_none() {
        run.between_frames = decoder.is_between_frames();
        run.in_message = decoder.in_message();
    }
    // The message reader.
    let mut reader = MessageReader::new(setup.role, &setup.config());
    'messages: for piece in pieces {
        let mut piece = piece.to_vec();
        let mut at = 0;
        loop {
            match reader.read(&mut piece[at..]) {
                Err(e) => {
                    run.message_error = Some(debug(&e));
                    break 'messages;
                }
                Ok((_, None)) => break,
                Ok((used, Some(message))) => {
                    at += used;
                    run.messages.push(message);
                }
            }
        }
    }
    if run.message_error.is_none() {
        run.reader_between_frames = reader.is_between_frames();
    }
    run
}
