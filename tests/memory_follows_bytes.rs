//! Memory follows the bytes received, never the length a peer announces
//! (issue 17): a 14-byte header declaring a 16 MiB frame buys at most one
//! read chunk until payload bytes arrive, and a message's buffer then
//! grows with what arrived, whether the driver reads straight into it
//! (`Connection::direct_read`) or feeds `receive`.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::time::Duration;

use plainws::sansio::connection::Connection;
use plainws::{Config, Error, Message};

#[path = "../fuzz/src/alloc.rs"]
mod alloc;

thread_local! {
    /// The largest single allocation this thread may make.
    static CAP: Cell<usize> = const { Cell::new(usize::MAX) };
}

fn allowed(size: usize) -> bool {
    CAP.try_with(|cap| size <= cap.get()).unwrap_or(true)
}

/// The counting allocator, failing (null) any allocation larger than the
/// thread's `CAP`: an out-of-memory the test chooses.
struct LimitedAlloc;

// SAFETY: every call forwards to `CountingAlloc` with the caller's
// arguments, or returns null, which `GlobalAlloc` allows for a failure.
unsafe impl GlobalAlloc for LimitedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !allowed(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged.
        unsafe { alloc::CountingAlloc.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !allowed(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged.
        unsafe { alloc::CountingAlloc.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { alloc::CountingAlloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !allowed(new_size) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged.
        unsafe { alloc::CountingAlloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: LimitedAlloc = LimitedAlloc;

const MIB: usize = 1 << 20;
/// The most `direct_read` lends at once (the core's chunk).
const CHUNK: usize = 256 << 10;
/// Bookkeeping beyond payload buffers (the decoder, small vectors).
const SLACK: usize = 16 << 10;
const NOW: Duration = Duration::ZERO;

/// A masked client frame header (mask key 0, so the payload goes as is)
/// declaring `len` bytes: 2 + 8 + 4 = 14 bytes.
fn header(opcode: u8, len: u64) -> Vec<u8> {
    let mut bytes = vec![0x80 | opcode, 0x80 | 127];
    bytes.extend_from_slice(&len.to_be_bytes());
    bytes.extend_from_slice(&[0; 4]);
    bytes
}

fn server(limit: u64) -> Connection {
    Connection::server(
        Config::default()
            .max_frame_size(limit)
            .max_message_size(limit),
    )
}

fn peak<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let (value, peak) = alloc::heap_peak(f);
    (value, peak.expect("the counting allocator is installed"))
}

#[test]
fn a_header_announcing_16_mib_reserves_at_most_one_chunk() {
    let mut conn = server(16 * MIB as u64);
    let mut head = header(0x2, 16 * MIB as u64);
    assert_eq!(head.len(), 14);
    let (lent, held) = peak(|| {
        let (used, message) = conn.receive(&mut head, NOW).expect("a valid header");
        assert_eq!((used, message), (14, None));
        let mut read = conn.direct_read().expect("a large binary payload is next");
        let lent = read.space().len();
        // Nothing read yet: hand it back empty.
        conn.finish_direct_read(read, 0, NOW).expect("valid");
        lent
    });
    assert!(lent <= CHUNK, "lent {lent} bytes");
    assert!(
        held <= CHUNK + SLACK,
        "held {held} bytes before any payload"
    );
}

#[test]
fn direct_reads_grow_with_the_bytes_received() {
    let mut conn = server(16 * MIB as u64);
    let mut head = header(0x2, 16 * MIB as u64);
    conn.receive(&mut head, NOW).expect("a valid header");
    let mut received = 0;
    let ((), held) = peak(|| {
        // 4 MiB of the 16 arrive, 100 KiB per read.
        while received < 4 * MIB {
            let mut read = conn.direct_read().expect("more payload");
            let space = read.space();
            let n = space.len().min(100 << 10);
            space[..n].fill(7);
            received += n;
            assert_eq!(conn.finish_direct_read(read, n, NOW).expect("valid"), None);
        }
    });
    // A `Vec` doubles: at most twice what arrived, plus one chunk lent.
    assert!(
        held <= 2 * received + CHUNK + SLACK,
        "held {held} bytes for {received} received"
    );
    assert!(held < 16 * MIB, "never the announced length");
}

#[test]
fn receive_grows_with_the_bytes_received() {
    for opcode in [0x1, 0x2] {
        let mut conn = server(16 * MIB as u64);
        let mut head = header(opcode, 16 * MIB as u64);
        let mut piece = vec![b'a'; 64 << 10];
        let (received, held) = peak(|| {
            conn.receive(&mut head, NOW).expect("a valid header");
            let mut received = 0;
            while received < MIB {
                let (used, message) = conn.receive(&mut piece, NOW).expect("valid");
                assert_eq!((used, message), (piece.len(), None));
                received += used;
            }
            received
        });
        assert!(
            held <= 2 * received + SLACK,
            "opcode {opcode}: held {held} bytes for {received} received"
        );
    }
}

#[test]
fn a_whole_message_still_arrives_through_direct_reads() {
    let len = 3 * MIB + 12_345;
    let mut conn = server(16 * MIB as u64);
    let mut head = header(0x2, len as u64);
    conn.receive(&mut head, NOW).expect("a valid header");
    let mut received = 0;
    let message = loop {
        let mut read = conn.direct_read().expect("more payload");
        let space = read.space();
        let n = space.len().min(len - received);
        space[..n].fill(9);
        received += n;
        if let Some(message) = conn.finish_direct_read(read, n, NOW).expect("valid") {
            break message;
        }
        if len - received < (64 << 10) {
            // The tail goes through `receive`.
            let mut rest = vec![9u8; len - received];
            let (_, message) = conn.receive(&mut rest, NOW).expect("valid");
            break message.expect("the message");
        }
    };
    assert_eq!(message, Message::Binary(vec![9; len]));
}

/// A message buffer that cannot grow fails its connection with 1009 (a
/// Close queued, `Error::OutOfMemory` returned), through `receive` and
/// through direct reads alike; the process goes on.
#[test]
fn a_failed_allocation_fails_the_connection_with_1009() {
    for direct in [false, true] {
        let mut conn = server(16 * MIB as u64);
        let mut head = header(0x2, 16 * MIB as u64);
        conn.receive(&mut head, NOW).expect("a valid header");
        CAP.with(|cap| cap.set(MIB));
        let mut received = 0;
        let error = loop {
            assert!(received <= 2 * MIB, "grew past the cap without an error");
            if direct {
                if let Some(mut read) = conn.direct_read() {
                    let n = read.space().len();
                    received += n;
                    match conn.finish_direct_read(read, n, NOW) {
                        Ok(_) => continue,
                        Err(error) => break error,
                    }
                }
            }
            let mut piece = vec![0u8; 64 << 10];
            match conn.receive(&mut piece, NOW) {
                Ok(_) => received += piece.len(),
                Err(error) => break error,
            }
        };
        CAP.with(|cap| cap.set(usize::MAX));
        assert!(matches!(error, Error::OutOfMemory(_)), "{error:?}");
        let mut out = Vec::new();
        conn.take_data_to_send(&mut out);
        assert_eq!(&out[..4], &[0x88, out[1], 0x03, 0xf1], "a Close with 1009");
        assert!(conn.is_finished());
    }
}
