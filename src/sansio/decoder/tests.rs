//! The decoder against the RFC's examples, every length boundary in every
//! chunking (gorilla's matrix), and each validation rule.

use super::*;
use crate::sansio::frame::encode_frame;

/// A frame as the tests see it: header and unmasked payload.
type Frame = (FrameHeader, Vec<u8>);

/// Decodes all of `bytes`, fed in pieces of `chunk` bytes.
fn decode_all(role: Role, limit: u64, bytes: &[u8], chunk: usize) -> Result<Vec<Frame>> {
    let mut decoder = FrameDecoder::new(role, limit);
    let mut frames: Vec<Frame> = Vec::new();
    let mut current: Option<Frame> = None;
    for piece in bytes.chunks(chunk.max(1)) {
        let mut piece = piece.to_vec();
        let mut at = 0;
        loop {
            let (used, step) = decoder.decode(&mut piece[at..])?;
            at += used;
            match step {
                Decoded::NeedMore => break,
                Decoded::Header(h) => current = Some((h, Vec::new())),
                Decoded::Payload { data, frame_end } => {
                    let frame = current.as_mut().expect("payload after a header");
                    frame.1.extend_from_slice(data);
                    if frame_end {
                        frames.extend(current.take());
                    }
                }
            }
        }
        assert_eq!(at, piece.len(), "NeedMore must use the whole input");
    }
    // A trailing empty-payload frame completes without more input.
    if current.is_some() {
        let (_, step) = decoder.decode(&mut [])?;
        if let Decoded::Payload {
            frame_end: true, ..
        } = step
        {
            frames.extend(current.take());
        }
    }
    Ok(frames)
}

fn encode(opcode: Opcode, fin: bool, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut header = FrameHeader::new(opcode, payload.len() as u64, mask);
    header.fin = fin;
    let mut out = Vec::new();
    encode_frame(&mut out, &header, payload);
    out
}

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

#[test]
fn rfc_examples_decode_exactly() {
    // RFC 6455 §5.7: a single-frame unmasked text message.
    let frames = decode_all(
        Role::Client,
        1 << 20,
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        64,
    )
    .unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].0.opcode, Opcode::Text);
    assert_eq!(frames[0].1, b"Hello");
    // A single-frame masked text message.
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let frames = decode_all(Role::Server, 1 << 20, &masked, 64).unwrap();
    assert_eq!(frames[0].0.mask, Some(KEY));
    assert_eq!(frames[0].1, b"Hello");
    // A fragmented unmasked text message.
    let fragmented = [0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f];
    let frames = decode_all(Role::Client, 1 << 20, &fragmented, 64).unwrap();
    assert_eq!((frames[0].0.fin, frames[0].0.opcode), (false, Opcode::Text));
    assert_eq!(
        (frames[1].0.fin, frames[1].0.opcode),
        (true, Opcode::Continuation)
    );
    // 256 bytes and 64 KiB binary messages in one frame.
    let frames = decode_all(
        Role::Client,
        1 << 20,
        &encode(Opcode::Binary, true, &[7; 256], None),
        64,
    )
    .unwrap();
    assert_eq!(frames[0].1.len(), 256);
}

#[test]
fn every_length_boundary_in_every_chunking() {
    for len in [0usize, 1, 125, 126, 127, 65535, 65536, 65537] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        for (role, mask) in [(Role::Server, Some(KEY)), (Role::Client, None)] {
            let mut bytes = encode(Opcode::Binary, true, &payload, mask);
            bytes.extend(encode(Opcode::Ping, true, b"after", mask));
            let whole = bytes.len();
            let chunkings = [whole, whole.div_ceil(2), 1];
            for chunk in chunkings {
                if chunk == 1 && len > 1000 {
                    // One byte at a time over 64 KiB is slow in debug
                    // builds; 7-byte pieces still split every header.
                    let frames = decode_all(role, 1 << 20, &bytes, 7).unwrap();
                    assert_eq!(frames[0].1, payload);
                    continue;
                }
                let frames = decode_all(role, 1 << 20, &bytes, chunk).unwrap();
                assert_eq!(frames.len(), 2, "len {len} chunk {chunk}");
                assert_eq!(frames[0].0.payload_len, len as u64);
                assert_eq!(frames[0].1, payload, "len {len} chunk {chunk} {role:?}");
                assert_eq!(frames[1].1, b"after");
            }
        }
    }
}

#[test]
fn rejects_reserved_bits() {
    for rsv in [0x40u8, 0x20, 0x10] {
        let mut bytes = encode(Opcode::Text, true, b"x", Some(KEY));
        bytes[0] |= rsv;
        assert!(matches!(
            decode_all(Role::Server, 100, &bytes, 1),
            Err(Error::ReservedBitsSet)
        ));
    }
}

/// Decodes `bytes` whole with RSV1 allowed (permessage-deflate).
fn decode_compressed(bytes: &[u8]) -> Result<Vec<Frame>> {
    let mut decoder = FrameDecoder::new(Role::Server, 100);
    decoder.allow_compressed();
    let mut bytes = bytes.to_vec();
    let mut frames = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (used, step) = decoder.decode(&mut bytes[at..])?;
        at += used;
        match step {
            Decoded::Header(h) => frames.push((h, Vec::new())),
            Decoded::Payload { data, .. } => frames.last_mut().expect("a header").1.extend(data),
            Decoded::NeedMore => break,
        }
    }
    Ok(frames)
}

#[test]
fn rsv1_marks_the_first_frame_of_a_compressed_message_only_once_negotiated() {
    let mut first = encode(Opcode::Text, false, b"x", Some(KEY));
    first[0] |= 0x40;
    // RFC 7692 §6: allowed on the first frame of a data message...
    let frames = decode_compressed(&first).expect("allowed");
    assert_eq!(frames[0].0.rsv, 0b100);
    // ...but a 1002 without the extension,
    assert!(matches!(
        decode_all(Role::Server, 100, &first, 1),
        Err(Error::ReservedBitsSet)
    ));
    // on a continuation or a control frame (§6.1),
    for (opcode, fin) in [
        (Opcode::Continuation, true),
        (Opcode::Ping, true),
        (Opcode::Close, true),
    ] {
        let mut bytes = encode(Opcode::Text, false, b"x", Some(KEY));
        let mut next = encode(opcode, fin, b"", Some(KEY));
        next[0] |= 0x40;
        bytes.extend(next);
        assert!(
            matches!(decode_compressed(&bytes), Err(Error::ReservedBitsSet)),
            "{opcode:?}"
        );
    }
    // and RSV2 or RSV3 stay refused.
    for rsv in [0x20u8, 0x10] {
        let mut bytes = encode(Opcode::Binary, true, b"x", Some(KEY));
        bytes[0] |= rsv;
        assert!(matches!(
            decode_compressed(&bytes),
            Err(Error::ReservedBitsSet)
        ));
    }
}

#[test]
fn rejects_reserved_opcodes_from_two_bytes() {
    for op in [3u8, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
        // Only the first two bytes: the verdict must not wait for more.
        let bytes = [0x80 | op, 0x80 | 125];
        assert!(
            matches!(decode_all(Role::Server, 100, &bytes, 1), Err(Error::ReservedOpcode(o)) if o == op)
        );
    }
}

#[test]
fn rejects_fragmented_or_long_control_frames() {
    let fragmented_ping = encode(Opcode::Ping, false, b"x", Some(KEY));
    assert!(matches!(
        decode_all(Role::Server, 100, &fragmented_ping, 64),
        Err(Error::FragmentedControlFrame)
    ));
    // A Close declaring 126 bytes, with no payload sent at all.
    let long_close = [0x88, 0xFE, 0x00, 0x7E];
    assert!(matches!(
        decode_all(Role::Server, 1000, &long_close, 64),
        Err(Error::ControlFrameTooLong(126))
    ));
}

#[test]
fn rejects_a_64_bit_length_with_the_top_bit_set() {
    let bytes = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    assert!(matches!(
        decode_all(Role::Server, u64::MAX, &bytes, 64),
        Err(Error::InvalidPayloadLength)
    ));
}

#[test]
fn enforces_masking_by_role() {
    let unmasked = encode(Opcode::Text, true, b"x", None);
    assert!(matches!(
        decode_all(Role::Server, 100, &unmasked, 64),
        Err(Error::UnmaskedFrame)
    ));
    let masked = encode(Opcode::Text, true, b"x", Some(KEY));
    assert!(matches!(
        decode_all(Role::Client, 100, &masked, 64),
        Err(Error::MaskedFrame)
    ));
}

#[test]
fn enforces_fragment_order() {
    let continuation = encode(Opcode::Continuation, true, b"x", Some(KEY));
    assert!(matches!(
        decode_all(Role::Server, 100, &continuation, 64),
        Err(Error::UnexpectedContinuation)
    ));
    let mut two_starts = encode(Opcode::Text, false, b"a", Some(KEY));
    two_starts.extend(encode(Opcode::Ping, true, b"", Some(KEY)));
    two_starts.extend(encode(Opcode::Binary, true, b"b", Some(KEY)));
    assert!(matches!(
        decode_all(Role::Server, 100, &two_starts, 64),
        Err(Error::ExpectedContinuation)
    ));
}

#[test]
fn rejects_an_oversized_frame_before_its_payload() {
    // Declares 2^32 bytes and sends none: the header alone must fail.
    let bytes = [0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4];
    assert!(matches!(
        decode_all(Role::Server, 1 << 20, &bytes, 64),
        Err(Error::FrameTooLarge { len, limit }) if len == 1 << 32 && limit == 1 << 20
    ));
}

#[test]
fn needs_more_for_a_partial_header_and_keeps_it() {
    let bytes = encode(Opcode::Binary, true, &[1; 300], Some(KEY));
    let mut decoder = FrameDecoder::new(Role::Server, 1000);
    let mut first = bytes[..3].to_vec();
    assert_eq!(decoder.decode(&mut first).unwrap(), (3, Decoded::NeedMore));
    assert!(!decoder.is_between_frames());
    let mut rest = bytes[3..].to_vec();
    let (used, step) = decoder.decode(&mut rest).unwrap();
    assert_eq!(used, 5);
    assert!(matches!(step, Decoded::Header(h) if h.payload_len == 300));
}

#[test]
fn a_whole_frame_decodes_in_one_step_as_in_pieces() {
    let mut bytes = encode(Opcode::Text, true, b"Hello", Some(KEY));
    let len = bytes.len();
    bytes.extend(encode(Opcode::Binary, false, &[7; 300], Some(KEY)));
    let mut decoder = FrameDecoder::new(Role::Server, 1 << 20);
    let (used, header, payload) = decoder
        .decode_frame(&mut bytes)
        .expect("valid")
        .expect("the first frame is all there");
    assert_eq!(
        (used, header.opcode, payload),
        (len, Opcode::Text, &b"Hello"[..])
    );
    assert!(decoder.is_between_frames() && !decoder.in_message());
    // The second frame less its last byte: not all there, nothing used.
    let last = bytes.len() - 1;
    assert!(
        decoder
            .decode_frame(&mut bytes[len..last])
            .expect("valid")
            .is_none()
    );
    assert!(decoder.is_between_frames());
    let (_, header, payload) = decoder
        .decode_frame(&mut bytes[len..])
        .expect("valid")
        .expect("whole");
    assert_eq!((header.fin, payload), (false, &[7; 300][..]));
    assert!(
        decoder.in_message(),
        "a fragment without FIN opens a message"
    );
    // Inside a frame it declines, and `decode` goes on piece by piece.
    let mut frame = encode(Opcode::Continuation, true, b"abc", Some(KEY));
    decoder.decode(&mut frame[..3]).expect("valid header start");
    decoder
        .decode(&mut frame[3..7])
        .expect("the rest of the header");
    assert!(
        decoder
            .decode_frame(&mut frame[7..])
            .expect("valid")
            .is_none()
    );
}

#[test]
fn a_whole_frame_fails_as_its_header_does_in_pieces() {
    let role = Role::Server;
    let cases = [
        encode(Opcode::Text, true, b"x", None),
        encode(Opcode::Ping, false, b"x", Some(KEY)),
        encode(Opcode::Continuation, true, b"x", Some(KEY)),
        encode(Opcode::Binary, true, &[0; 200], Some(KEY)),
    ];
    for bytes in cases {
        let whole = FrameDecoder::new(role, 100)
            .decode_frame(&mut bytes.clone())
            .map(|_| ());
        let pieces = decode_all(role, 100, &bytes, 1).map(|_| ());
        assert_eq!(format!("{whole:?}"), format!("{pieces:?}"), "{bytes:02x?}");
        assert!(whole.is_err());
    }
}
