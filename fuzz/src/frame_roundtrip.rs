//! `frame_roundtrip`: structured frames (built with `arbitrary`) encode
//! and decode back to themselves, or fail with the error the rules predict.

use arbitrary::{Arbitrary, Unstructured};
use plainws::sansio::decoder::{Decoded, FrameDecoder};
use plainws::sansio::mask::apply_mask_naive;
use plainws::{Error, FrameHeader, Opcode, Role};

use super::input::debug;

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
