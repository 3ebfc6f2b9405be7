#![no_main]
//! `tokio_recv`: the tokio driver's `recv`, fed the client's bytes in
//! pieces the fuzzer chooses (some reads not ready yet) and raced against
//! futures that win after a number of polls the fuzzer chooses, must
//! return exactly what the sans-I/O core returns for the same bytes fed
//! at once: the same messages in the same order, then the same end.
//! Input: byte 0 seeds the piece sizes, byte 1 the cancellation points;
//! the rest is the client's bytes after the RFC 6455 §1.3 request.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use plainws::sansio::handshake::accepting::{ServerHandshake, Upgrade};
use plainws::{Accept, Config, Message};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (seeds, bytes) = data.split_at(data.len().min(2));
    let chunk_seed = u64::from(seeds.first().copied().unwrap_or(1)) | 1 << 8;
    let cancel_seed = u64::from(seeds.get(1).copied().unwrap_or(1)) | 1 << 9;
    let expected = core_outcome(bytes);
    let got = driver_outcome(bytes, chunk_seed, cancel_seed);
    assert_eq!(got, expected);
});

fn upgrade() -> Upgrade {
    let mut handshake = ServerHandshake::new(Config::default());
    let request = handshake
        .receive(REQUEST)
        .ok()
        .flatten()
        .expect("the RFC's request");
    handshake
        .accept(&request, Ok(Accept::default()))
        .expect("accepted")
}

/// The core alone, all bytes at once: the messages, then how it ended.
fn core_outcome(bytes: &[u8]) -> Vec<String> {
    let mut conn = upgrade().connection;
    let mut input = bytes.to_vec();
    let mut start = 0;
    let now = std::time::Duration::ZERO;
    let mut out = Vec::new();
    loop {
        match conn.receive(&mut input[start..], now) {
            Ok((used, Some(message))) => {
                start += used;
                let close = matches!(message, Message::Close(_));
                out.push(format!("{message:?}"));
                if close {
                    return out;
                }
            }
            Ok((_, None)) => {
                let end = conn.receive_eof(now).err().map(|e| e.to_string());
                out.push(format!("end: {end:?}"));
                return out;
            }
            Err(e) => {
                out.push(format!("end: {:?}", Some(e.to_string())));
                return out;
            }
        }
    }
}

/// The tokio driver over a stream that hands out the bytes in pieces,
/// `recv` raced against poll-count futures.
fn driver_outcome(bytes: &[u8], chunk_seed: u64, cancel_seed: u64) -> Vec<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let stream = Pieces {
            bytes: bytes.to_vec(),
            at: 0,
            rng: chunk_seed,
        };
        let mut ws = plainws::tokio::accept_upgraded(stream, upgrade());
        let mut rng = cancel_seed;
        let mut out = Vec::new();
        let mut polls = 0usize;
        loop {
            polls += 1;
            assert!(polls < 100_000 + bytes.len() * 8, "recv does not end");
            let wins_after = (next(&mut rng) % 4) as u32;
            let raced = Race {
                recv: Box::pin(ws.recv()),
                other: AfterPolls(wins_after),
            }
            .await;
            match raced {
                None => continue, // cancelled: the next recv goes on
                Some(Ok(message)) => {
                    let close = matches!(message, Message::Close(_));
                    out.push(format!("{message:?}"));
                    if close {
                        return out;
                    }
                }
                Some(Err(e)) => {
                    let end = match e {
                        plainws::Error::ConnectionClosed => None,
                        e => Some(e.to_string()),
                    };
                    out.push(format!("end: {end:?}"));
                    return out;
                }
            }
        }
    })
}

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// `recv` against another future; `None` when the other won (and `recv`
/// was dropped mid-way).
struct Race<R> {
    recv: Pin<Box<R>>,
    other: AfterPolls,
}

impl<R: Future> Future for Race<R> {
    type Output = Option<R::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(out) = self.recv.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match Pin::new(&mut self.other).poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Ready after a number of polls.
struct AfterPolls(u32);

impl Future for AfterPolls {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            return Poll::Ready(());
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The client's bytes, in pieces: some reads are not ready yet.
struct Pieces {
    bytes: Vec<u8>,
    at: usize,
    rng: u64,
}

impl AsyncRead for Pieces {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let roll = next(&mut self.rng);
        if roll % 3 == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let left = self.bytes.len() - self.at;
        let n = (1 + (roll >> 8) as usize % 64)
            .min(left)
            .min(buf.remaining());
        let at = self.at;
        buf.put_slice(&self.bytes[at..at + n]);
        self.at += n;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Pieces {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
