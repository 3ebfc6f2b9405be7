//! The tracer as the protocol lab uses it: set on one connection after it
//! was made, and shown a compressed frame's bytes as they go on the wire.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use plainws::sansio::connection::Connection;
use plainws::sansio::deflate::negotiate::Agreed;
use plainws::sansio::frame::{FrameHeader, Opcode, encode_frame};
use plainws::{Config, Direction, Tracer};

type Seen = Arc<Mutex<Vec<(Direction, FrameHeader, Vec<u8>)>>>;

fn recording() -> (Tracer, Seen) {
    let seen: Seen = Arc::default();
    let sink = Arc::clone(&seen);
    let tracer: Tracer = Arc::new(move |direction, header, preview| {
        sink.lock()
            .unwrap()
            .push((direction, *header, preview.to_vec()));
    });
    (tracer, seen)
}

fn client_frame(text: &str) -> Vec<u8> {
    let header = FrameHeader::new(Opcode::Text, text.len() as u64, Some([1, 2, 3, 4]));
    let mut wire = Vec::new();
    encode_frame(&mut wire, &header, text.as_bytes());
    wire
}

#[test]
fn a_tracer_set_on_one_connection_sees_its_frames_from_then_on() {
    let mut conn = Connection::server(Config::default());
    conn.receive(&mut client_frame("before"), Duration::ZERO)
        .unwrap();
    let (tracer, seen) = recording();
    conn.set_tracer(Some(tracer));
    conn.receive(&mut client_frame("watched"), Duration::ZERO)
        .unwrap();
    conn.send_text("reply").unwrap();
    conn.set_tracer(None);
    conn.receive(&mut client_frame("after"), Duration::ZERO)
        .unwrap();
    conn.send_text("unseen").unwrap();
    let seen = seen.lock().unwrap();
    let frames: Vec<(Direction, &[u8])> = seen.iter().map(|(d, _, p)| (*d, &p[..])).collect();
    assert_eq!(
        frames,
        [
            (Direction::Incoming, &b"watched"[..]),
            (Direction::Outgoing, &b"reply"[..])
        ]
    );
    assert!(conn.config().tracer.is_none());
}

#[test]
fn a_compressed_frame_is_traced_as_it_goes_on_the_wire() {
    let mut conn = Connection::server(Config::default());
    conn.enable_compression(&Agreed {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
    });
    let (tracer, seen) = recording();
    conn.set_tracer(Some(tracer));
    let text = "hello hello hello hello hello hello";
    conn.send_text(text).unwrap();
    let mut wire = Vec::new();
    conn.take_data_to_send(&mut wire);
    let seen = seen.lock().unwrap();
    let (direction, header, preview) = &seen[0];
    assert_eq!(*direction, Direction::Outgoing);
    assert_eq!(header.rsv, 0b100, "RSV1 marks the compressed message");
    assert!((header.payload_len as usize) < text.len());
    // The preview is the payload on the wire (a server's frame is not
    // masked: the bytes after the 2-byte header), not the text.
    assert_eq!(&preview[..], &wire[2..]);
    assert_ne!(&preview[..], text.as_bytes());
}
