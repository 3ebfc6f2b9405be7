//! Batched writes, on by default (`Config::batch_writes`): replies to
//! pipelined input share writes, and no reply is held back longer than the
//! flusher's bound, even when the receiving thread stops calling `recv`.

mod common;

use std::io::{self, IoSlice, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use plainws::{Message, Transport};

/// A `TcpStream` that counts the write calls made on it.
struct CountingStream {
    inner: TcpStream,
    writes: Arc<AtomicUsize>,
}

impl Transport for CountingStream {
    fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
    fn write(&self, buf: &[u8]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write(buf)
    }
    fn write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write_vectored(bufs)
    }
    fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        if bufs.iter().any(|b| !b.is_empty()) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        Transport::try_write_vectored(&self.inner, bufs)
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_read_timeout(timeout)
    }
    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.inner.set_write_timeout(timeout)
    }
    fn set_nodelay(&self) -> io::Result<()> {
        self.inner.set_nodelay(true)
    }
}

fn masked_text(payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() <= 125);
    let key = [7, 7, 7, 7];
    let mut out = vec![0x81, 0x80 | payload.len() as u8];
    out.extend_from_slice(&key);
    out.extend(payload.iter().map(|b| b ^ 7));
    out
}

/// Reads one small unmasked text frame's payload.
fn read_text(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("a frame");
    assert_eq!(head[0], 0x81, "a text frame");
    let mut payload = vec![0u8; usize::from(head[1])];
    stream.read_exact(&mut payload).expect("its payload");
    payload
}

/// The README's server loop (default `Config`) on one connection whose
/// writes are counted; a raw client upgraded to it, and the count of
/// writes so far (the 101 included).
fn counted_echo() -> (TcpStream, Arc<AtomicUsize>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let writes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&writes);
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let stream = CountingStream {
            inner: stream,
            writes: counted,
        };
        let (mut receiver, sender) = plainws::accept(stream).expect("upgrade").split();
        while let Ok(Message::Text(text)) = receiver.recv() {
            sender.send_text(&text).expect("echo");
        }
    });
    (common::upgraded_stream(addr, "/"), writes, server)
}

#[test]
fn a_pipelined_burst_is_answered_with_a_few_writes() {
    let (mut client, writes, server) = counted_echo();
    let before = writes.load(Ordering::SeqCst);
    let burst: Vec<u8> = (0..500)
        .flat_map(|i| masked_text(format!("m{i}").as_bytes()))
        .collect();
    client.write_all(&burst).expect("the burst");
    for i in 0..500 {
        assert_eq!(read_text(&mut client), format!("m{i}").into_bytes());
    }
    let used = writes.load(Ordering::SeqCst) - before;
    assert!(used <= 50, "500 replies took {used} writes");
    drop(client);
    server.join().expect("the server");
}

#[test]
fn sixteen_requests_read_at_once_are_answered_in_one_write() {
    // The benchmark's small echo: 16 requests in flight, read in one
    // read. The last one's reply goes out with the 15 held before it:
    // one write per burst (not the held 15, then the last alone).
    let (mut client, writes, server) = counted_echo();
    let before = writes.load(Ordering::SeqCst);
    let bursts = 20;
    for burst in 0..bursts {
        let requests: Vec<u8> = (0..16)
            .flat_map(|i| masked_text(format!("{burst}.{i}").as_bytes()))
            .collect();
        client.write_all(&requests).expect("a burst");
        for i in 0..16 {
            assert_eq!(read_text(&mut client), format!("{burst}.{i}").into_bytes());
        }
    }
    let used = writes.load(Ordering::SeqCst) - before;
    // One per burst; a little slack for a thread preempted past the
    // flusher's 1 ms bound on a busy machine (two per burst was the bug).
    assert!(
        used <= bursts + bursts / 4,
        "{bursts} bursts took {used} writes"
    );
    drop(client);
    server.join().expect("the server");
}

#[test]
fn a_reply_from_another_thread_is_not_held_while_the_receiver_is_busy() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let (mut receiver, sender) = plainws::accept(stream).expect("upgrade").split();
        // Two messages arrive in one read: after the first, the receiver
        // holds unread input, so replies may be batched.
        let first = receiver.recv().expect("the first message");
        assert_eq!(first, Message::Text("first".into()));
        let other = sender.clone();
        thread::spawn(move || other.send_text("from another thread"))
            .join()
            .expect("the other thread")
            .expect("its send");
        // The receiving thread is busy and does not come back to recv.
        thread::sleep(Duration::from_secs(3));
        drop(receiver);
    });
    let mut client = common::upgraded_stream(addr, "/");
    let mut both = masked_text(b"first");
    both.extend(masked_text(b"second"));
    client.write_all(&both).expect("two messages at once");
    let started = Instant::now();
    assert_eq!(read_text(&mut client), b"from another thread");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_millis(500),
        "the reply waited {waited:?} for a receiver that was busy for 3 s"
    );
    drop(client);
    server.join().expect("the server");
}
