//! The bodies of plainws's fuzz targets, one function per target, each
//! taking the raw fuzz input.
//!
//! This file is shared: the fuzz crate compiles it as its library (every
//! `fuzz_targets/*.rs` is a one-line call into it), and the main crate's
//! `tests/fuzz_corpus.rs` includes it by path and replays every file of
//! `fuzz/corpus/<target>/` through the same function on stable `cargo
//! test`. So it depends only on plainws, std and `arbitrary` (a
//! dev-dependency of the main crate), never on libFuzzer.
//!
//! Each target checks more than "did not panic":
//!
//! | target | oracle |
//! |---|---|
//! | `frame_decoder` | agrees with a plain model of RFC 6455 §5 (frames, messages, the first error, byte for byte); limits hold; the decoder never allocates and never hands out more payload than declared; the reader's heap stays proportional to the input, never to declared lengths |
//! | `frame_decoder_chunked` | the input split at fuzzer-chosen points gives exactly the frames, messages, errors and end state of the whole input |
//! | `frame_roundtrip` | structured frames encode and decode back to themselves, or fail with the error the rules predict |
//! | `handshake_request` | head found the same in any chunking; parse accepts or returns a documented error; what parses re-serializes to the same request and the same accept value; the 101 built for it passes the client's check |
//! | `handshake_response` | accepts or returns a documented error; what is accepted re-serializes to an equal result |
//! | `utf8` | the incremental validator in any chunking agrees with `std::str::from_utf8`, fails no later than the deciding byte, and builds exactly the valid prefix |
//! | `connection` | a whole server connection over memory: no panic or hang, the server's output is a valid HTTP answer then valid frames, exactly the echo, pongs and close that the received messages call for, with sendable close codes |
//! | `mask` | the fast unmask equals the RFC's byte-at-a-time formula at every offset, alignment and split |

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Debug;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::str;
use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use plainws::MemoryStream;
use plainws::sansio::close::{CloseFrame, truncate_reason};
use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::handshake::client::check_response;
use plainws::sansio::handshake::http::{Head, HeadReader};
use plainws::sansio::handshake::server::switching_protocols;
use plainws::sansio::handshake::{accept_key, is_valid_key};
use plainws::sansio::mask::{apply_mask, apply_mask_naive};
use plainws::sansio::reader::MessageReader;
use plainws::sansio::utf8::Utf8Validator;
use plainws::{
    Accept, CloseCode, Config, Error, FrameHeader, Message, Opcode, Request, Role, Transport,
};

/// A target's body: one fuzz input in, a panic if an oracle fails.
pub type Target = fn(&[u8]);

/// Every target by name, for the corpus replay.
pub const TARGETS: &[(&str, Target)] = &[
    ("frame_decoder", frame_decoder),
    ("frame_decoder_chunked", frame_decoder_chunked),
    ("frame_roundtrip", frame_roundtrip),
    ("handshake_request", handshake_request),
    ("handshake_response", handshake_response),
    ("utf8", utf8),
    ("connection", connection),
    ("mask", mask),
    ("inflate", crate::inflate::inflate),
    ("inflate_split", crate::inflate_split::inflate_split),
    (
        "deflate_roundtrip",
        crate::deflate_roundtrip::deflate_roundtrip,
    ),
];

// ---------------------------------------------------------------------------
// Input helpers

/// Reads a fuzz input front to back; past the end every read gives zeros.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }

    /// Up to `max` bytes, as many as the next byte says (modulo `max + 1`).
    fn list(&mut self, max: usize) -> Vec<u8> {
        let n = usize::from(self.byte()) % (max + 1);
        (0..n).map(|_| self.byte()).collect()
    }

    fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Splits `bytes` into pieces of the given sizes, cycling; a size of 0
/// makes an empty piece (a call with no input must be harmless), and no
/// sizes at all means one byte at a time.
fn pieces<'a>(bytes: &'a [u8], sizes: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut i = 0;
    while at < bytes.len() {
        let size = if sizes.is_empty() {
            1
        } else {
            usize::from(sizes[i % sizes.len()])
        };
        i += 1;
        let end = (at + size).min(bytes.len());
        out.push(&bytes[at..end]);
        at = end;
        if i > bytes.len() * 2 + sizes.len() {
            // Only empty sizes: finish in one piece.
            out.push(&bytes[at..]);
            break;
        }
    }
    out
}

fn debug<T: Debug>(value: &T) -> String {
    format!("{value:?}")
}

// ---------------------------------------------------------------------------
// Heap accounting

thread_local! {
    /// Bytes this thread has allocated and not freed, and the most it has held.
    static HEAP: Cell<(isize, isize)> = const { Cell::new((0, 0)) };
}

/// The system allocator, counting each thread's live and peak heap bytes,
/// so that a target can check that memory follows the input's size and
/// never a length the input merely declares. Install it with
/// `#[global_allocator]` (the fuzz crate and the corpus replay do).
pub struct CountingAlloc;

fn count(delta: isize) {
    let _ = HEAP.try_with(|heap| {
        let (live, peak) = heap.get();
        let live = live.wrapping_add(delta);
        heap.set((live, peak.max(live)));
    });
}

// SAFETY: every call forwards to `System` with the caller's arguments; the
// counting touches only a const-initialized thread-local `Cell`, which
// neither allocates nor runs a destructor.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// Runs `f` and returns its result with the most heap it held at once
/// beyond what was live before, or `None` when [`CountingAlloc`] is not
/// the global allocator.
pub(crate) fn heap_peak<T>(f: impl FnOnce() -> T) -> (T, Option<usize>) {
    let installed = {
        let before = HEAP.with(Cell::get).0;
        let probe = std::hint::black_box(Box::new(0u64));
        let during = HEAP.with(Cell::get).0;
        drop(probe);
        during != before
    };
    let start = HEAP.with(|heap| {
        let (live, _) = heap.get();
        heap.set((live, live));
        live
    });
    let result = f();
    let peak = HEAP.with(Cell::get).1;
    let grown = usize::try_from(peak - start).unwrap_or(0);
    (result, installed.then_some(grown))
}

// ---------------------------------------------------------------------------
// Decoder setup shared by the frame targets

/// A role and limits chosen by the first bytes of an input.
#[derive(Clone, Copy, Debug)]
struct Setup {
    role: Role,
    max_frame_size: u64,
    max_message_size: u64,
    max_fragments: usize,
}

impl Setup {
    /// Byte 0: bit 0 the role; bits 1–2 the limits: small ones from the
    /// next 5 bytes, the defaults, none at all, or any 64-bit values from
    /// the next 20 bytes.
    fn read(input: &mut Input<'_>) -> Setup {
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
        }
    }

    fn config(&self) -> Config {
        Config {
            max_frame_size: self.max_frame_size,
            max_message_size: self.max_message_size,
            max_fragments: self.max_fragments,
            ..Config::default()
        }
    }
}

/// Whether `error` is one the frame decoder documents.
fn is_frame_error(error: &Error) -> bool {
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
fn is_message_error(error: &Error) -> bool {
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
struct ModelFrames {
    /// Frames in order with their unmasked payloads; the last one may be
    /// cut short by the end of the input (`partial`).
    frames: Vec<(FrameHeader, Vec<u8>)>,
    partial: bool,
    /// The error that stops the stream, after `frames`.
    error: Option<Error>,
    /// The input ended exactly after a frame.
    between_frames: bool,
    /// A fragmented message is open at the end.
    in_message: bool,
}

/// Splits `bytes` into frames by RFC 6455 §5.2–§5.5, checking in the
/// documented order: RSV, opcode, control frame fragmented or over 125,
/// 64-bit length top bit, mask against role, data frame order, frame size.
fn model_frames(setup: &Setup, bytes: &[u8]) -> ModelFrames {
    let mut model = ModelFrames::default();
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
        if rsv != 0 {
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
    }
}

/// The messages the frames make (RFC 6455 §5.4, §5.5.1, §8.1) and the
/// first error, message limits and UTF-8 included.
fn model_messages(setup: &Setup, frames: &ModelFrames) -> (Vec<Message>, Option<Error>) {
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

// ---------------------------------------------------------------------------
// frame_decoder

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

// ---------------------------------------------------------------------------
// frame_decoder_chunked

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

/// Decodes the same bytes whole and split at fuzzer-chosen points: the
/// frames, messages, errors and end states must be the same.
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

// ---------------------------------------------------------------------------
// frame_roundtrip

/// A frame to encode, as `arbitrary` builds it.
#[derive(Arbitrary, Debug)]
pub struct RoundtripFrame {
    /// FIN.
    pub fin: bool,
    /// RSV bits (the low three), or none.
    pub rsv: Option<u8>,
    /// The opcode.
    pub opcode: RoundtripOpcode,
    /// The masking key, if masked.
    pub mask: Option<[u8; 4]>,
    /// The start of the payload.
    pub payload: Vec<u8>,
    /// Filler after `payload`, to reach the 16- and 64-bit length forms.
    pub pad: Pad,
}

/// The six opcodes (reserved ones cannot be encoded).
#[derive(Arbitrary, Debug, Clone, Copy)]
#[allow(missing_docs)]
pub enum RoundtripOpcode {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

/// How much filler follows a payload.
#[derive(Arbitrary, Debug, Clone, Copy)]
#[allow(missing_docs)]
pub enum Pad {
    None,
    Short(u8),
    Medium(u16),
    /// 65,536 bytes and more: the 64-bit form.
    Long(u16),
}

/// A decoder role and limit, then frames.
#[derive(Arbitrary, Debug)]
pub struct RoundtripInput {
    /// Decode as a client (else as a server).
    pub client: bool,
    /// The frame size limit; `None` for none.
    pub max_frame_size: Option<u32>,
    /// The frames, encoded back to back.
    pub frames: Vec<RoundtripFrame>,
}

/// Builds frames with `arbitrary`, encodes them back to back, decodes
/// them; each comes back equal, until the first frame the rules refuse,
/// which gives exactly the predicted error.
pub fn frame_roundtrip(data: &[u8]) {
    if let Ok(input) = RoundtripInput::arbitrary_take_rest(Unstructured::new(data)) {
        roundtrip(&input);
    }
}

/// The body of [`frame_roundtrip`], on a built input.
pub fn roundtrip(input: &RoundtripInput) {
    let role = if input.client {
        Role::Client
    } else {
        Role::Server
    };
    let limit = input.max_frame_size.map_or(u64::MAX, u64::from);
    let mut wire = Vec::new();
    let mut expected: Vec<Result<(FrameHeader, Vec<u8>), String>> = Vec::new();
    let mut in_message = false;
    for frame in &input.frames {
        let opcode = match frame.opcode {
            RoundtripOpcode::Continuation => Opcode::Continuation,
            RoundtripOpcode::Text => Opcode::Text,
            RoundtripOpcode::Binary => Opcode::Binary,
            RoundtripOpcode::Close => Opcode::Close,
            RoundtripOpcode::Ping => Opcode::Ping,
            RoundtripOpcode::Pong => Opcode::Pong,
        };
        let filler = match frame.pad {
            Pad::None => 0,
            Pad::Short(n) => usize::from(n),
            Pad::Medium(n) => usize::from(n),
            Pad::Long(n) => 65536 + usize::from(n),
        };
        let mut payload = frame.payload.clone();
        payload.extend((0..filler).map(|i| (i * 31 + 7) as u8));
        let header = FrameHeader {
            fin: frame.fin,
            rsv: frame.rsv.map_or(0, |r| r & 7),
            opcode,
            mask: frame.mask,
            payload_len: payload.len() as u64,
        };
        let start = wire.len();
        plainws::sansio::frame::encode_frame(&mut wire, &header, &payload);
        check_encoding(&header, &payload, &wire[start..]);

        // The verdict the rules give, in the documented order.
        let len = header.payload_len;
        let verdict = if header.rsv != 0 {
            Err(Error::ReservedBitsSet)
        } else if opcode.is_control() && !header.fin {
            Err(Error::FragmentedControlFrame)
        } else if opcode.is_control() && len > 125 {
            Err(Error::ControlFrameTooLong(if len < 65536 {
                126
            } else {
                127
            }))
        } else if role == Role::Server && header.mask.is_none() {
            Err(Error::UnmaskedFrame)
        } else if role == Role::Client && header.mask.is_some() {
            Err(Error::MaskedFrame)
        } else if opcode == Opcode::Continuation && !in_message {
            Err(Error::UnexpectedContinuation)
        } else if matches!(opcode, Opcode::Text | Opcode::Binary) && in_message {
            Err(Error::ExpectedContinuation)
        } else if len > limit {
            Err(Error::FrameTooLarge { len, limit })
        } else {
            Ok((header, payload))
        };
        let refused = verdict.is_err();
        expected.push(verdict.map_err(|e| debug(&e)));
        if refused {
            break;
        }
        if !opcode.is_control() {
            in_message = !header.fin;
        }
    }

    let mut decoder = FrameDecoder::new(role, limit);
    let mut got: Vec<Result<(FrameHeader, Vec<u8>), String>> = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let mut at = 0;
    loop {
        match decoder.decode(&mut wire[at..]) {
            Err(e) => {
                got.push(Err(debug(&e)));
                break;
            }
            Ok((used, step)) => {
                at += used;
                match step {
                    Decoded::NeedMore => break,
                    Decoded::Header(h) => current = Some((h, Vec::new())),
                    Decoded::Payload { data, frame_end } => {
                        let frame = current.as_mut().expect("payload after a header");
                        frame.1.extend_from_slice(data);
                        if frame_end {
                            got.extend(current.take().map(Ok));
                        }
                    }
                }
            }
        }
    }
    assert!(current.is_none(), "a whole frame came back cut");
    assert_eq!(got, expected);
}

/// The bytes of one encoded frame: the minimal length form (RFC 6455
/// §5.2), the key, and the masked payload.
fn check_encoding(header: &FrameHeader, payload: &[u8], bytes: &[u8]) {
    let head_len = header.encoded_len();
    assert_eq!(bytes.len(), head_len + payload.len());
    let len7 = bytes[1] & 0x7F;
    let expected_len7 = match payload.len() {
        n @ 0..=125 => n as u8,
        126..=65535 => 126,
        _ => 127,
    };
    assert_eq!(len7, expected_len7, "not the minimal length form");
    assert_eq!(bytes[1] & 0x80 != 0, header.mask.is_some());
    let mut body = bytes[head_len..].to_vec();
    if let Some(key) = header.mask {
        assert_eq!(bytes[head_len - 4..head_len], key);
        apply_mask_naive(&mut body, key, 0);
    }
    assert_eq!(body, payload);
}

// ---------------------------------------------------------------------------
// handshake_request

/// The RFC 6455 §1.3 opening request, used to prefix connection inputs.
pub const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// Feeds `pieces` to a head reader: the head's length, or the error.
fn read_head(max_bytes: usize, pieces: &[&[u8]]) -> Result<Option<usize>, String> {
    let mut reader = HeadReader::new(max_bytes);
    let mut found = None;
    for piece in pieces {
        found = reader.push(piece).map_err(|e| debug(&e))?;
        if let Some(len) = found {
            assert_eq!(reader.head().map(<[u8]>::len), Some(len));
        }
    }
    Ok(found)
}

/// Checks a found head: within the limit, ending at the first empty line.
fn check_head_bounds(bytes: &[u8], len: usize, max_bytes: usize) {
    assert!(len <= max_bytes && len <= bytes.len());
    let head = &bytes[..len];
    assert!(
        head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n"),
        "{head:?}"
    );
    for i in 0..len {
        let ends_here = [&b"\n\n"[..], b"\n\r\n"]
            .iter()
            .any(|end| head[i..].starts_with(end) && i + end.len() < len);
        assert!(!ends_here, "an earlier end of head at {i}");
    }
}

/// Request heads: the head reader in two chunkings, `Request::parse`,
/// `check_upgrade`, a re-serialization round trip and the client's view of
/// the 101 answer.
///
/// Input: a setup byte (limits and a piece size), then the request bytes.
pub fn handshake_request(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let max_bytes = [16 << 10, 64, 256, 1024][usize::from(selector & 3)];
    let max_headers = [100, 0, 3, 16][usize::from((selector >> 2) & 3)];
    let piece = usize::from(selector >> 4) + 1;
    let bytes = input.rest();

    let whole = read_head(max_bytes, &[bytes]);
    let chunks: Vec<&[u8]> = bytes.chunks(piece).collect();
    let chunked = read_head(max_bytes, &chunks);
    assert_eq!(
        whole, chunked,
        "head found differently in pieces of {piece}"
    );
    let len = match whole {
        Ok(Some(len)) => len,
        Ok(None) => {
            assert!(bytes.len() < max_bytes);
            return;
        }
        Err(e) => {
            assert_eq!(e, debug(&Error::HeadersTooLarge));
            return;
        }
    };
    check_head_bounds(bytes, len, max_bytes);
    let head = &bytes[..len];

    let request = match Request::parse(head, max_headers) {
        Ok(request) => request,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::MalformedHttp(_) | Error::TooManyHeaders | Error::UnsupportedHttpVersion
                ),
                "undocumented {e:?}"
            );
            check_error_response(&e);
            return;
        }
    };
    check_request_fields(&request, max_headers);
    let upgrade = request.check_upgrade();
    if let Err(e) = &upgrade {
        assert!(
            matches!(
                e,
                Error::MethodNotAllowed
                    | Error::InvalidHeader(_)
                    | Error::UnsupportedWebSocketVersion
            ),
            "undocumented {e:?}"
        );
        check_error_response(e);
    }

    // What parsed writes back out as a request that parses the same.
    let again_bytes = serialize_request(&request);
    assert_eq!(
        read_head(again_bytes.len(), &[&again_bytes]),
        Ok(Some(again_bytes.len()))
    );
    let again = Request::parse(&again_bytes, max_headers).expect("re-serialized request");
    assert_eq!(again.method(), request.method());
    assert_eq!(again.target(), request.target());
    assert_eq!(again.headers(), request.headers());
    assert_eq!(debug(&again.check_upgrade()), debug(&upgrade));

    // The client accepts the 101 the server would send.
    if let Ok(accept_value) = upgrade {
        let key = request.header("Sec-WebSocket-Key").expect("checked key");
        assert!(is_valid_key(key));
        assert_eq!(accept_value, accept_key(key));
        let offered: Vec<String> = request.protocols().map(str::to_owned).collect();
        let accept = Accept {
            protocol: offered.first().cloned(),
            headers: Vec::new(),
        };
        let response = switching_protocols(&request, &accept_value, &accept);
        let accepted = check_response(&response, 100, key, &offered)
            .unwrap_or_else(|e| panic!("client refused the server's 101: {e:?}"));
        assert_eq!(accepted.protocol, accept.protocol);
    }
}

/// Fields as `Request::parse` promises them.
fn check_request_fields(request: &Request, max_headers: usize) {
    let is_tchar = |c: u8| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c);
    assert!(!request.method().is_empty() && request.method().bytes().all(is_tchar));
    assert!(!request.target().is_empty());
    assert!(request.target().bytes().all(|b| b.is_ascii_graphic()));
    match request.query() {
        Some(query) => assert_eq!(format!("{}?{query}", request.path()), request.target()),
        None => assert_eq!(request.path(), request.target()),
    }
    assert!(request.headers().len() <= max_headers);
    for (name, value) in request.headers() {
        assert!(!name.is_empty() && name.bytes().all(is_tchar), "{name:?}");
        assert!(!value.starts_with([' ', '\t']) && !value.ends_with([' ', '\t']));
        assert!(!value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7F));
    }
    for protocol in request.protocols() {
        assert!(!protocol.is_empty() && !protocol.contains(','));
    }
}

fn serialize_request(request: &Request) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method(), request.target());
    for (name, value) in request.headers() {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The HTTP answer to a handshake error is well formed and carries the
/// error's status.
fn check_error_response(error: &Error) {
    let status = error.http_status().expect("a handshake error has a status");
    let bytes = plainws::Response::for_error(error).to_bytes();
    check_http_answer(&bytes, status);
}

/// `bytes` is exactly one HTTP/1.1 response with `status`: a head, then a
/// body as long as its `Content-Length`.
fn check_http_answer(bytes: &[u8], status: u16) {
    let len = match read_head(bytes.len(), &[bytes]) {
        Ok(Some(len)) => len,
        other => panic!("no response head: {other:?} in {bytes:?}"),
    };
    let head = Head::parse(&bytes[..len], 100).expect("our response parses");
    let expected_start = format!("HTTP/1.1 {status} ");
    assert!(head.start_line.starts_with(&expected_start), "{head:?}");
    let body_len: usize = head
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    assert_eq!(bytes.len(), len + body_len, "bytes after the body");
}

// ---------------------------------------------------------------------------
// handshake_response

/// Two keys with known answers (RFC 6455 §1.3 and §4.2.2).
const KEYS: [&str; 2] = ["dGhlIHNhbXBsZSBub25jZQ==", "x3JJHMbDL1EzLkh9GBhXDw=="];

/// Response heads through the client's check: accept or a documented
/// error; what is accepted re-serializes to the same result.
///
/// Input: a setup byte (key, offered subprotocols, header limit), then
/// the response bytes.
pub fn handshake_response(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let key = KEYS[usize::from(selector & 1)];
    let offered: Vec<String> = match (selector >> 1) & 3 {
        0 => vec![],
        1 => vec!["chat".into()],
        2 => vec!["chat".into(), "superchat".into()],
        _ => vec!["v2.json".into(), "v1.json".into()],
    };
    let max_headers = [100, 3][usize::from((selector >> 3) & 1)];
    let bytes = input.rest();
    let len = match read_head(16 << 10, &[bytes]) {
        Ok(Some(len)) => len,
        _ => return,
    };
    let head = &bytes[..len];
    let accepted = match check_response(head, max_headers, key, &offered) {
        Ok(accepted) => accepted,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::MalformedHttp(_)
                        | Error::TooManyHeaders
                        | Error::HandshakeRefused(_)
                        | Error::InvalidHeader(_)
                        | Error::InvalidAccept
                ),
                "undocumented {e:?}"
            );
            return;
        }
    };
    // What was accepted is what §4.1 allows.
    let parsed = Head::parse(head, max_headers).expect("accepted heads parse");
    assert_eq!(parsed.headers, accepted.headers);
    let mut status_line = parsed.start_line.splitn(3, ' ');
    assert!(status_line.next().is_some_and(|v| v.starts_with("HTTP/1.")));
    assert_eq!(status_line.next(), Some("101"));
    assert_eq!(
        parsed.header("Sec-WebSocket-Accept"),
        Some(accept_key(key).as_str())
    );
    if let Some(protocol) = &accepted.protocol {
        assert!(offered.contains(protocol));
    }

    // Re-serialized, it is accepted the same.
    let mut again = String::from("HTTP/1.1 101 Switching Protocols\r\n");
    for (name, value) in &accepted.headers {
        again.push_str(&format!("{name}: {value}\r\n"));
    }
    again.push_str("\r\n");
    let again = check_response(again.as_bytes(), max_headers, key, &offered)
        .expect("re-serialized response");
    assert_eq!(again, accepted);
}

// ---------------------------------------------------------------------------
// utf8

/// The incremental validator fed in fuzzer-chosen pieces agrees with
/// `std::str::from_utf8` on the whole input.
///
/// Input: a list of up to 8 piece sizes, then the bytes.
pub fn utf8(data: &[u8]) {
    let mut input = Input::new(data);
    let sizes = input.list(8);
    let bytes = input.rest();
    let expected = str::from_utf8(bytes);

    let mut validator = Utf8Validator::new();
    let mut out = String::new();
    let mut fed = 0;
    // The error, and where the piece that raised it started.
    let mut failed = None;
    for piece in pieces(bytes, &sizes) {
        match validator.feed(piece, &mut out) {
            Ok(()) => {
                fed += piece.len();
                // The text so far is the input's complete characters.
                assert_eq!(out.as_bytes(), &bytes[..out.len()]);
                assert!(fed - out.len() < 4, "held back {} bytes", fed - out.len());
                assert_eq!(validator.is_complete(), fed == out.len());
            }
            Err(e) => {
                failed = Some((e, fed));
                break;
            }
        }
    }
    match expected {
        Ok(text) => {
            assert_eq!(failed, None);
            assert_eq!(validator.finish(), Ok(()));
            assert_eq!(out, text);
        }
        Err(std_error) => {
            let valid_up_to = std_error.valid_up_to();
            match std_error.error_len() {
                Some(bad_len) => {
                    let (error, piece_start) =
                        failed.expect("std found an error, the validator none");
                    assert_eq!(error.valid_up_to, valid_up_to);
                    // Fail fast: raised by the piece that holds the byte
                    // that decides, never later.
                    let deciding = (valid_up_to + bad_len).min(bytes.len() - 1);
                    assert!(piece_start <= deciding, "error raised late");
                }
                None => {
                    assert_eq!(failed, None, "a cut character is not an error yet");
                    let error = validator
                        .finish()
                        .expect_err("stream ends inside a character");
                    assert_eq!(error.valid_up_to, valid_up_to);
                }
            }
            assert_eq!(out.as_bytes(), &bytes[..valid_up_to]);
        }
    }
}

// ---------------------------------------------------------------------------
// connection

/// The key of [`RFC_REQUEST`].
const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A whole server-side connection over an in-memory stream.
///
/// The input is the client's bytes. Byte 0: bit 0 prepends
/// [`RFC_REQUEST`] (so the fuzzer reaches the frames); bits 1–2 choose
/// the limits; bit 3 a small handshake limit. The client's bytes are all
/// written and its write side shut before `accept_with` starts, so the
/// server, on this thread, never waits: it answers, echoes each message
/// like an echo server, and stops at the close or the end of input.
/// Then everything it wrote is checked.
pub fn connection(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let mut client_bytes = Vec::new();
    if selector & 1 == 1 {
        client_bytes.extend_from_slice(RFC_REQUEST);
    }
    client_bytes.extend_from_slice(input.rest());
    let (max_frame_size, max_message_size, max_fragments) = match (selector >> 1) & 3 {
        0 => (1 << 10, 4 << 10, 16),
        1 => (125, 300, 4),
        2 => (0, 0, 0),
        _ => (16 << 20, 64 << 20, 1 << 17),
    };
    let config = Config {
        max_frame_size,
        max_message_size,
        max_fragments,
        max_handshake_bytes: if selector & 8 == 0 { 16 << 10 } else { 256 },
        max_headers: if selector & 8 == 0 { 100 } else { 8 },
        handshake_timeout: Duration::from_millis(100),
        close_timeout: Duration::from_millis(10),
        ..Config::default()
    };

    let (mut client, server) = MemoryStream::pair();
    client.write_all(&client_bytes).expect("memory write");
    client.shutdown(Shutdown::Write).expect("memory shutdown");
    let server_handle = server.clone();

    // The server: an echo loop on this thread.
    let mut log: Vec<Result<Message, Error>> = Vec::new();
    let accepted = plainws::accept_with(server, config.clone(), |request| {
        Ok(Accept {
            protocol: request.protocols().next().map(str::to_owned),
            headers: Vec::new(),
        })
    });
    let mut echoed: Vec<bool> = Vec::new();
    let outcome = match accepted {
        Ok(socket) => {
            let (mut receiver, sender) = socket.split();
            loop {
                assert!(log.len() <= client_bytes.len(), "recv loop does not end");
                let received = receiver.recv();
                let sent = match &received {
                    Ok(Message::Text(text)) => sender.send_text(text).is_ok(),
                    Ok(Message::Binary(bytes)) => sender.send_binary(bytes).is_ok(),
                    _ => false,
                };
                echoed.push(sent);
                let end = !matches!(
                    received,
                    Ok(Message::Text(_) | Message::Binary(_) | Message::Ping(_) | Message::Pong(_))
                );
                log.push(received);
                if end {
                    break;
                }
            }
            assert!(
                matches!(receiver.recv(), Err(Error::ConnectionClosed)),
                "recv after the end must say ConnectionClosed"
            );
            Ok(())
        }
        Err(e) => Err(e),
    };
    // Whatever the server left open, the client now reads to the end.
    let _ = server_handle.shutdown(Shutdown::Write);
    let mut output = Vec::new();
    client.read_to_end(&mut output).expect("memory read");

    match outcome {
        Err(e) => match e.http_status() {
            Some(status) => check_http_answer(&output, status),
            None => {
                assert!(
                    matches!(e, Error::AbnormalClosure),
                    "accept failed with {e:?} though every byte was there"
                );
                assert!(output.is_empty(), "wrote {output:?} before failing");
            }
        },
        Ok(()) => check_server_output(&client_bytes, &output, &log, &echoed),
    }
}

/// The server's bytes after a successful accept: a 101 the client accepts,
/// then exactly the frames the received messages call for.
fn check_server_output(
    client_bytes: &[u8],
    output: &[u8],
    log: &[Result<Message, Error>],
    echoed: &[bool],
) {
    // The request the server accepted, to know its key and protocols.
    let request_len = read_head(client_bytes.len(), &[client_bytes])
        .ok()
        .flatten()
        .expect("an accepted request has a head");
    let request = Request::parse(&client_bytes[..request_len], usize::MAX).expect("it parsed");
    let key = request.header("Sec-WebSocket-Key").unwrap_or(RFC_KEY);
    let offered: Vec<String> = request.protocols().map(str::to_owned).collect();

    let head_len = match read_head(output.len(), &[output]) {
        Ok(Some(len)) => len,
        other => panic!("no 101 head: {other:?}"),
    };
    let accepted = check_response(&output[..head_len], 100, key, &offered)
        .unwrap_or_else(|e| panic!("the client refuses the server's 101: {e:?}"));
    assert_eq!(accepted.protocol, offered.first().cloned());

    // Every byte after the head is a frame a client accepts.
    let mut frames = output[head_len..].to_vec();
    let mut decoder = FrameDecoder::new(Role::Client, u64::MAX);
    let mut got: Vec<(Opcode, Vec<u8>)> = Vec::new();
    let mut current: Option<(FrameHeader, Vec<u8>)> = None;
    let mut at = 0;
    loop {
        let (used, step) = decoder
            .decode(&mut frames[at..])
            .unwrap_or_else(|e| panic!("the server sent an invalid frame: {e:?}"));
        at += used;
        match step {
            Decoded::NeedMore => break,
            Decoded::Header(h) => {
                assert!(h.fin && h.rsv == 0 && h.mask.is_none(), "{h:?}");
                current = Some((h, Vec::new()));
            }
            Decoded::Payload { data, frame_end } => {
                let frame = current.as_mut().expect("payload after a header");
                frame.1.extend_from_slice(data);
                if frame_end {
                    let (h, payload) = current.take().expect("a frame");
                    got.push((h.opcode, payload));
                }
            }
        }
    }
    assert!(decoder.is_between_frames(), "output ends inside a frame");

    // Exactly the frames the messages call for, in order.
    let mut expected: Vec<(Opcode, Vec<u8>)> = Vec::new();
    for (received, &sent) in log.iter().zip(echoed) {
        match received {
            Ok(Message::Text(text)) if sent => expected.push((Opcode::Text, text.clone().into())),
            Ok(Message::Binary(data)) if sent => expected.push((Opcode::Binary, data.clone())),
            Ok(Message::Text(_) | Message::Binary(_) | Message::Pong(_)) => {}
            Ok(Message::Ping(data)) => expected.push((Opcode::Pong, data.clone())),
            Ok(Message::Close(frame)) => {
                let mut payload = Vec::new();
                if let Some(frame) = frame {
                    CloseFrame::new(frame.code, "").write_payload(&mut payload);
                }
                expected.push((Opcode::Close, payload));
            }
            Err(e) => {
                if let Some(code) = e.close_code() {
                    let mut payload = code.0.to_be_bytes().to_vec();
                    payload.extend_from_slice(truncate_reason(&e.to_string()).as_bytes());
                    expected.push((Opcode::Close, payload));
                } else {
                    assert!(
                        matches!(e, Error::AbnormalClosure),
                        "recv failed with {e:?}"
                    );
                }
            }
        }
    }
    for (opcode, payload) in &got {
        if *opcode == Opcode::Close {
            // Every close code sent is one the RFC lets an endpoint send.
            let close = CloseFrame::parse(payload).expect("a valid close payload");
            assert!(close.is_none_or(|c| c.code.is_sendable()));
        }
    }
    assert_eq!(got, expected);
}

// ---------------------------------------------------------------------------
// mask

/// The fast unmask against the byte-at-a-time reference, at every offset,
/// alignment and split.
///
/// Input: a 4-byte key, a 32-bit offset, a split point, then the payload.
pub fn mask(data: &[u8]) {
    let mut input = Input::new(data);
    let key = [input.byte(), input.byte(), input.byte(), input.byte()];
    let offset = input.u32() as usize;
    let split = usize::from(input.u16());
    let payload = input.rest();
    for offset in (0..8).chain([offset]) {
        let mut expected = payload.to_vec();
        apply_mask_naive(&mut expected, key, offset);
        for shift in 0..8 {
            // Different alignments of the same bytes in memory.
            let mut buf = vec![0xAA; shift];
            buf.extend_from_slice(payload);
            apply_mask(&mut buf[shift..], key, offset);
            assert_eq!(buf[shift..], expected[..], "offset {offset} shift {shift}");
            assert!(
                buf[..shift].iter().all(|&b| b == 0xAA),
                "wrote before the slice"
            );
        }
        // Split anywhere, continued with the running offset.
        let split = split.min(payload.len());
        let mut parts = payload.to_vec();
        let (a, b) = parts.split_at_mut(split);
        apply_mask(a, key, offset);
        apply_mask(b, key, offset + split);
        assert_eq!(parts, expected, "split at {split}");
        // Masking twice restores the data.
        apply_mask(&mut parts, key, offset);
        assert_eq!(parts, payload);
    }
}
