//! The tokio driver (`plainws::tokio`): cancel safety, control frames
//! without the application's help, backpressure, close without loss, and
//! the timers run by the connection's own task.
#![cfg(feature = "tokio")]

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use plainws::sansio::frame::Opcode;
use plainws::tokio::WebSocket;
use plainws::{Accept, ClientOptions, CloseCode, Config, DeflateConfig, Error, Message};
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use tokio::time::{sleep, timeout};

/// A fixed-seed xorshift generator: the same run every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A stream whose reads return at most a random number of bytes, and
/// sometimes nothing yet (`Pending`, woken at once): every frame arrives
/// in pieces, and `recv` waits in the middle of frames.
struct Chunked {
    inner: DuplexStream,
    rng: Rng,
}

impl AsyncRead for Chunked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.rng.below(3) == 0 {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let cap = 1 + self.rng.below(700) as usize;
        let cap = cap.min(buf.remaining());
        let mut limited = ReadBuf::new(buf.initialize_unfilled_to(cap));
        let polled = Pin::new(&mut self.inner).poll_read(cx, &mut limited);
        let n = limited.filled().len();
        buf.advance(n);
        polled
    }
}

impl AsyncWrite for Chunked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A server and a client connected over an in-memory pipe of `capacity`
/// bytes each way; the server reads in random pieces when `chunked`.
async fn pair(
    server_config: Config,
    client_config: Config,
    capacity: usize,
    chunked: bool,
) -> (WebSocket, WebSocket) {
    let (a, b) = tokio::io::duplex(capacity);
    let server = tokio::spawn(async move {
        let accept = |_: &plainws::Request| Ok(Accept::default());
        if chunked {
            let stream = Chunked {
                inner: a,
                rng: Rng(0x9e37_79b9_7f4a_7c15),
            };
            plainws::tokio::accept_with(stream, server_config, accept).await
        } else {
            plainws::tokio::accept_with(a, server_config, accept).await
        }
    });
    let options = ClientOptions::default().config(client_config);
    let client = plainws::tokio::client_with_transport(b, "ws://test/", options)
        .await
        .expect("client handshake");
    let server = server
        .await
        .expect("server task")
        .expect("server handshake");
    (server, client)
}

/// Resolves after `polls` polls: a cancellation point that does not
/// depend on the clock.
struct AfterPolls(u32);

impl std::future::Future for AfterPolls {
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

/// The message number `i` carries, and how it is sent: whole and
/// compressed, in three fragments, or whole after a Ping.
fn body(i: u32) -> String {
    format!("message {i:05} {}", "x".repeat((i % 97) as usize * 13))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_raced_against_timers_loses_nothing() {
    const MESSAGES: u32 = 10_000;
    let compressed = Config::default().compression(DeflateConfig::default());
    let (mut server, client) = pair(compressed.clone(), compressed, 16 << 10, true).await;
    assert!(server.is_compressed() && client.is_compressed());
    let (mut client_rx, client_tx) = client.split();
    let writer = tokio::spawn(async move {
        let mut pings = 0u32;
        for i in 0..MESSAGES {
            let text = body(i);
            match i % 3 {
                0 => client_tx.send_text(&text).await?,
                1 => {
                    let (a, rest) = text.split_at(text.len() / 3);
                    let (b, c) = rest.split_at(rest.len() / 2);
                    client_tx
                        .send_fragment(Opcode::Text, a.as_bytes(), false)
                        .await?;
                    client_tx
                        .send_fragment(Opcode::Continuation, b.as_bytes(), false)
                        .await?;
                    client_tx
                        .send_fragment(Opcode::Continuation, c.as_bytes(), true)
                        .await?;
                }
                _ => {
                    client_tx.ping(&i.to_be_bytes()).await?;
                    pings += 1;
                    client_tx.send_text(&text).await?;
                }
            }
        }
        client_tx.close(CloseCode::NORMAL, "done").await?;
        Ok::<u32, Error>(pings)
    });
    // The client reads the Pongs (and the server's Close at the end).
    let pongs = tokio::spawn(async move {
        let mut pongs = Vec::new();
        loop {
            match client_rx.recv().await {
                Ok(Message::Pong(payload)) => pongs.push(payload),
                Ok(Message::Close(_)) => return pongs,
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => panic!("client: {e}"),
            }
        }
    });
    let mut rng = Rng(42);
    let mut next = 0u32;
    let mut pings = 0u32;
    let mut cancelled = 0u32;
    loop {
        let message = tokio::select! {
            message = server.recv() => message,
            () = AfterPolls(rng.below(4) as u32) => { cancelled += 1; continue; }
            () = sleep(Duration::from_micros(200)) => { cancelled += 1; continue; }
        };
        match message.expect("server recv") {
            Message::Text(text) => {
                assert_eq!(text, body(next), "message {next}");
                next += 1;
            }
            Message::Ping(payload) => {
                assert_eq!(payload, next.to_be_bytes());
                pings += 1;
            }
            Message::Close(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(next, MESSAGES, "every message once, in order");
    let sent_pings = writer.await.expect("writer").expect("client sends");
    assert_eq!(pings, sent_pings);
    let pongs = pongs.await.expect("client reader");
    assert_eq!(pongs.len() as u32, sent_pings, "every Ping answered");
    assert!(
        cancelled > 1_000,
        "recv was cancelled only {cancelled} times: the race is not exercised"
    );
    eprintln!("{MESSAGES} messages, {pings} pings, recv cancelled {cancelled} times");
}

#[tokio::test]
async fn an_application_that_only_reads_answers_every_ping() {
    let (mut server, client) = pair(Config::default(), Config::default(), 4 << 10, false).await;
    let (mut client_rx, client_tx) = client.split();
    let pinger = tokio::spawn(async move {
        for i in 0..1_000u32 {
            client_tx.ping(&i.to_be_bytes()).await?;
        }
        client_tx.send_text("last").await?;
        Ok::<_, Error>(client_tx)
    });
    // The server application never sends.
    let mut seen = 0;
    loop {
        match server.recv().await.expect("server recv") {
            Message::Ping(_) => seen += 1,
            Message::Text(text) if text == "last" => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, 1_000);
    let _client_tx = pinger.await.expect("pinger").expect("pings sent");
    for i in 0..1_000u32 {
        let pong = timeout(Duration::from_secs(10), client_rx.recv())
            .await
            .expect("a Pong in time")
            .expect("client recv");
        assert_eq!(pong, Message::Pong(i.to_be_bytes().to_vec()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_that_only_sends_still_answers_pings() {
    let (server, client) = pair(Config::default(), Config::default(), 8 << 10, false).await;
    let (mut server_rx, server_tx) = server.split();
    // The application's reading task only drains; its sending task sends
    // without pause.
    let reader = tokio::spawn(async move {
        while let Ok(message) = server_rx.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    });
    let sender = tokio::spawn(async move {
        for i in 0..5_000u32 {
            server_tx.send_text(&format!("data {i}")).await?;
        }
        Ok::<_, Error>(server_tx)
    });
    let (mut client_rx, client_tx) = client.split();
    for i in 0..1_000u32 {
        client_tx.ping(&i.to_be_bytes()).await.expect("ping");
    }
    let mut pongs = 0u32;
    let mut data = 0u32;
    while pongs < 1_000 || data < 5_000 {
        match timeout(Duration::from_secs(10), client_rx.recv())
            .await
            .expect("progress")
            .expect("client recv")
        {
            Message::Pong(payload) => {
                assert_eq!(payload, pongs.to_be_bytes());
                pongs += 1;
            }
            Message::Text(text) => {
                assert_eq!(text, format!("data {data}"));
                data += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let server_tx = sender.await.expect("sender").expect("sends");
    drop(server_tx);
    client_tx.close(CloseCode::NORMAL, "").await.expect("close");
    reader.await.expect("reader");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_waits_while_the_queue_is_over_its_limit() {
    const LIMIT: usize = 32 << 10;
    const MESSAGE: usize = 1000;
    let config = Config::default().send_queue_limit(LIMIT);
    // A 4 KiB pipe the client does not read yet.
    let (server, client) = pair(config, Config::default(), 4 << 10, false).await;
    let (_server_rx, server_tx) = server.split();
    let payload = vec![7u8; MESSAGE];
    let mut accepted = 0usize;
    let mut max_queued = 0usize;
    // A send that does not complete within 300 ms is waiting: the bound.
    while let Ok(sent) = timeout(Duration::from_millis(300), server_tx.send_binary(&payload)).await
    {
        sent.expect("send");
        accepted += 1;
        max_queued = max_queued.max(server_tx.queued_bytes());
        assert!(accepted < 10_000, "send never waited");
    }
    // Queued: at most the limit plus one message (with its header).
    assert!(
        max_queued <= LIMIT + MESSAGE + 14,
        "queued {max_queued} bytes, limit {LIMIT}"
    );
    // Accepted: what fits in the queue and the pipe, no more.
    let frame = MESSAGE + 4;
    assert!(
        accepted * frame <= LIMIT + frame + (4 << 10) + frame,
        "{accepted} messages accepted"
    );
    // Once the peer reads, every accepted message arrives, and sending
    // goes on.
    let (mut client_rx, _client_tx) = client.split();
    let more = tokio::spawn(async move {
        for _ in 0..100 {
            server_tx.send_binary(&payload).await?;
        }
        Ok::<_, Error>(server_tx)
    });
    for _ in 0..accepted + 100 {
        let message = client_rx.recv().await.expect("client recv");
        assert_eq!(message, Message::Binary(vec![7u8; MESSAGE]));
    }
    more.await.expect("sender").expect("sends after the stall");
    eprintln!("accepted {accepted} messages before waiting; at most {max_queued} bytes queued");
}

#[tokio::test]
async fn a_write_stalled_past_write_timeout_fails_the_connection() {
    let config = Config::default()
        .send_queue_limit(8 << 10)
        .write_timeout(Duration::from_millis(200));
    let (server, _client) = pair(config, Config::default(), 1 << 10, false).await;
    let (mut server_rx, server_tx) = server.split();
    let payload = vec![1u8; 1000];
    let started = tokio::time::Instant::now();
    let error = loop {
        if let Err(e) = server_tx.send_binary(&payload).await {
            break e;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never failed");
    };
    assert!(matches!(error, Error::ConnectionFailed), "{error:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The receiver hears why.
    let reported = server_rx.recv().await.expect_err("ended");
    assert!(matches!(reported, Error::Timeout("write")), "{reported:?}");
}

#[tokio::test]
async fn everything_sent_before_close_arrives_before_the_close() {
    // A close timeout far beyond the test's bounds: `close()` must return
    // once its frame is written, not when a timer wakes it.
    let patient = Config::default().close_timeout(Duration::from_secs(600));
    let (server, mut client) = pair(patient, Config::default(), 4 << 10, false).await;
    let (_server_rx, server_tx) = server.split();
    let sending = tokio::spawn(async move {
        for i in 0..1_000u32 {
            server_tx.send_text(&i.to_string()).await?;
        }
        server_tx.close(CloseCode::NORMAL, "bye").await?;
        Ok::<_, Error>(())
    });
    for i in 0..1_000u32 {
        assert_eq!(
            client.recv().await.expect("recv"),
            Message::Text(i.to_string())
        );
    }
    match client.recv().await.expect("the Close") {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the Close, got {other:?}"),
    }
    timeout(Duration::from_secs(30), sending)
        .await
        .expect("close() returns once the Close is written")
        .expect("sender")
        .expect("sent");
}

#[tokio::test]
async fn keepalive_pings_go_out_while_the_application_does_nothing() {
    let keepalive = plainws::Keepalive {
        interval: Duration::from_millis(50),
        timeout: Duration::from_secs(5),
    };
    let (server, mut client) = pair(
        Config::default().keepalive(keepalive),
        Config::default(),
        4 << 10,
        false,
    )
    .await;
    // The server application holds its WebSocket and never calls it.
    let message = timeout(Duration::from_secs(5), client.recv())
        .await
        .expect("a Ping in time")
        .expect("client recv");
    assert_eq!(message, Message::Ping(b"keepalive".to_vec()));
    drop(server);
}

#[tokio::test]
async fn an_idle_connection_is_closed_by_the_task() {
    let (mut server, mut client) = pair(
        Config::default().idle_timeout(Duration::from_millis(100)),
        Config::default(),
        4 << 10,
        false,
    )
    .await;
    let ended = timeout(Duration::from_secs(5), server.recv())
        .await
        .expect("the idle timeout fires");
    assert!(
        matches!(ended, Err(Error::Timeout("idle timeout"))),
        "{ended:?}"
    );
    match client.recv().await.expect("the Close") {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::GOING_AWAY),
        other => panic!("expected the Close, got {other:?}"),
    }
}

/// After a message read whole, `recv` reads before it checks the core (one
/// lock per read); what the task ends meanwhile must still end that `recv`,
/// though it is polled by another task than the one the core last saw.
#[tokio::test]
async fn a_recv_waiting_after_messages_still_ends_at_the_idle_timeout() {
    let (mut server, client) = pair(
        // The close timeout well past the bound below: only the wake-up
        // for the idle timeout can end the `recv` in time.
        Config::default()
            .idle_timeout(Duration::from_millis(150))
            .close_timeout(Duration::from_secs(30)),
        Config::default(),
        4 << 10,
        false,
    )
    .await;
    // One message per read: each leaves the receiver between frames.
    for i in 0..3 {
        client.send_text(&format!("m{i}")).await.expect("send");
        let got = server.recv().await.expect("a message");
        assert_eq!(got, Message::Text(format!("m{i}")));
    }
    let waiting = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let ended = timeout(Duration::from_secs(3), server.recv())
            .await
            .expect("the idle timeout ends the recv of another task");
        (ended, started.elapsed(), server)
    });
    let (ended, waited, mut server) = waiting.await.expect("the waiting task");
    // Woken by the task at the idle timeout, not found by a later poll.
    assert!(waited < Duration::from_secs(2), "woken after {waited:?}");
    assert!(
        matches!(ended, Err(Error::Timeout("idle timeout"))),
        "{ended:?}"
    );
    assert!(
        matches!(server.recv().await, Err(Error::ConnectionClosed)),
        "and nothing after it"
    );
    drop(client);
}

#[tokio::test]
async fn a_close_the_peer_never_answers_times_out() {
    let (server, client) = pair(
        Config::default().close_timeout(Duration::from_millis(150)),
        Config::default(),
        4 << 10,
        false,
    )
    .await;
    let (mut server_rx, server_tx) = server.split();
    server_tx.close(CloseCode::NORMAL, "").await.expect("close");
    // The client never reads, never answers.
    let ended = timeout(Duration::from_secs(5), server_rx.recv())
        .await
        .expect("the close timeout fires");
    assert!(
        matches!(ended, Err(Error::Timeout("close handshake"))),
        "{ended:?}"
    );
    drop(client);
}

#[tokio::test]
async fn the_split_close_reply_goes_out_when_the_application_lets_go() {
    let (server, mut client) = pair(Config::default(), Config::default(), 4 << 10, false).await;
    let (mut server_rx, server_tx) = server.split();
    client
        .close(CloseCode::NORMAL, "done")
        .await
        .expect("close");
    assert!(matches!(
        server_rx.recv().await.expect("the Close"),
        Message::Close(Some(_))
    ));
    // Replies sent after the peer's Close still go out before ours.
    server_tx.send_text("late reply").await.expect("send");
    drop(server_tx);
    drop(server_rx);
    assert_eq!(
        client.recv().await.expect("the reply"),
        Message::Text("late reply".into())
    );
    assert!(matches!(
        client.recv().await.expect("the Close reply"),
        Message::Close(Some(_))
    ));
}

#[tokio::test]
async fn dropping_a_fragmented_message_midway_closes_with_1011() {
    let (server, mut client) = pair(Config::default(), Config::default(), 4 << 10, false).await;
    let (_server_rx, server_tx) = server.split();
    let other = server_tx.clone();
    server_tx
        .send_fragment(Opcode::Text, b"half", false)
        .await
        .expect("first fragment");
    // Another sender's data waits for the channel...
    let waiting = tokio::spawn(async move { other.send_text("whole").await });
    tokio::task::yield_now().await;
    // ...until the owner is dropped mid-message: the connection closes.
    drop(server_tx);
    let sent = waiting.await.expect("waiter");
    assert!(matches!(sent, Err(Error::AlreadyClosed)), "{sent:?}");
    match client.recv().await.expect("the Close") {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::INTERNAL_ERROR),
        other => panic!("expected the Close, got {other:?}"),
    }
}

/// Counts the writes that reach the pipe.
struct Counting {
    inner: DuplexStream,
    writes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A server over a pipe that counts its writes, and a client.
async fn counted_pair(
    config: Config,
) -> (
    WebSocket,
    WebSocket,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    let (a, b) = tokio::io::duplex(64 << 10);
    let writes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = Counting {
        inner: a,
        writes: std::sync::Arc::clone(&writes),
    };
    let server = tokio::spawn(async move {
        plainws::tokio::accept_with(stream, config, |_| Ok(Accept::default())).await
    });
    let client = plainws::tokio::client_with_transport(b, "ws://test/", ClientOptions::default())
        .await
        .expect("client handshake");
    let server = server
        .await
        .expect("server task")
        .expect("server handshake");
    (server, client, writes)
}

#[tokio::test]
async fn replies_to_pipelined_messages_share_writes() {
    let (mut server, mut client, writes) = counted_pair(Config::default()).await;
    // 64 messages wait in the pipe before the server reads any.
    for i in 0..64u32 {
        client.send_text(&i.to_string()).await.expect("send");
    }
    client.flush().await.expect("flush");
    let before = writes.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..64 {
        let Message::Text(text) = server.recv().await.expect("recv") else {
            panic!("text expected");
        };
        server.send_text(&text).await.expect("echo");
    }
    for i in 0..64u32 {
        assert_eq!(
            client.recv().await.expect("reply"),
            Message::Text(i.to_string())
        );
    }
    let used = writes.load(std::sync::atomic::Ordering::SeqCst) - before;
    // One read takes all 64 (about 700 bytes): their replies go out
    // together when the server next needs the socket.
    assert!(used <= 2, "{used} writes for 64 pipelined replies");
    // Without batching, about one write each.
    let (mut server, mut client, writes) =
        counted_pair(Config::default().batch_writes(false)).await;
    for i in 0..64u32 {
        client.send_text(&i.to_string()).await.expect("send");
    }
    client.flush().await.expect("flush");
    let before = writes.load(std::sync::atomic::Ordering::SeqCst);
    for _ in 0..64 {
        let Message::Text(text) = server.recv().await.expect("recv") else {
            panic!("text expected");
        };
        server.send_text(&text).await.expect("echo");
    }
    for i in 0..64u32 {
        assert_eq!(
            client.recv().await.expect("reply"),
            Message::Text(i.to_string())
        );
    }
    let unbatched = writes.load(std::sync::atomic::Ordering::SeqCst) - before;
    assert!(unbatched > 32, "{unbatched} writes without batching");
}

#[tokio::test]
async fn a_held_reply_goes_out_though_recv_is_not_called_again() {
    let (mut server, mut client, _writes) = counted_pair(Config::default()).await;
    client.send_text("first").await.expect("send");
    client.send_text("second").await.expect("send");
    client.flush().await.expect("flush");
    // The server reads "first" while "second" is buffered: its reply is
    // held for the batch, and it never calls recv again.
    let first = server.recv().await.expect("recv");
    server.send(&first).await.expect("reply");
    let reply = timeout(Duration::from_secs(10), client.recv())
        .await
        .expect("the held reply goes out without another recv")
        .expect("client recv");
    assert_eq!(reply, Message::Text("first".into()));
}

#[tokio::test]
async fn waiting_for_another_senders_fragmented_message_is_bounded() {
    let config = Config::default().write_timeout(Duration::from_millis(200));
    let (server, mut client) = pair(config, Config::default(), 4 << 10, false).await;
    let (_server_rx, server_tx) = server.split();
    let other = server_tx.clone();
    server_tx
        .send_fragment(Opcode::Text, b"half", false)
        .await
        .expect("first fragment");
    let started = tokio::time::Instant::now();
    let waited = timeout(Duration::from_secs(10), other.send_text("whole"))
        .await
        .expect("the wait is bounded");
    assert!(matches!(waited, Err(Error::Timeout(_))), "{waited:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    // The owner finishes its message; the other sends after it.
    server_tx
        .send_fragment(Opcode::Continuation, b" and half", true)
        .await
        .expect("last fragment");
    other.send_text("whole").await.expect("the channel is free");
    assert_eq!(
        client.recv().await.expect("the fragmented message"),
        Message::Text("half and half".into())
    );
    assert_eq!(
        client.recv().await.expect("the other message"),
        Message::Text("whole".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recv_waiting_for_bytes_never_holds_up_a_send() {
    // A stream that is not a `TcpStream`: its halves come from
    // `tokio::io::split`, which shares one lock between them.
    let (server, client) = pair(Config::default(), Config::default(), 4 << 10, true).await;
    let (mut server_rx, server_tx) = server.split();
    // The server's receiver waits for bytes the client will not send
    // until it has read everything the server sends.
    let waiting = tokio::spawn(async move { server_rx.recv().await });
    let payload = vec![3u8; 1 << 10];
    let sending = tokio::spawn(async move {
        for _ in 0..2_000 {
            server_tx.send_binary(&payload).await?;
        }
        Ok::<_, Error>(server_tx)
    });
    let (mut client_rx, client_tx) = client.split();
    for _ in 0..2_000 {
        let message = timeout(Duration::from_secs(10), client_rx.recv())
            .await
            .expect("sends go on while the server's recv waits")
            .expect("client recv");
        assert_eq!(message, Message::Binary(vec![3u8; 1 << 10]));
    }
    assert!(!waiting.is_finished(), "the server's recv is still waiting");
    let _server_tx = sending.await.expect("sender").expect("sent");
    client_tx.send_text("now").await.expect("send");
    let received = waiting.await.expect("receiver").expect("recv");
    assert_eq!(received, Message::Text("now".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_frames_written_from_the_callers_buffer_arrive_whole_and_in_order() {
    // A 16 KiB pipe: a 1 MiB frame never fits at once, so what the socket
    // does not take is left to the task mid-frame.
    let (server, mut client) = pair(Config::default(), Config::default(), 16 << 10, false).await;
    let (_server_rx, server_tx) = server.split();
    let small = server_tx.clone();
    let big = tokio::spawn(async move {
        for i in 0..4u8 {
            let payload: Vec<u8> = (0..(1 << 20) + i as usize)
                .map(|b| (b % 251) as u8 ^ i)
                .collect();
            server_tx.send_binary(&payload).await?;
            server_tx
                .send_fragment(Opcode::Binary, &payload[..20 << 10], false)
                .await?;
            server_tx
                .send_fragment(Opcode::Continuation, &payload[20 << 10..], true)
                .await?;
        }
        Ok::<_, Error>(())
    });
    let chatter = tokio::spawn(async move {
        for i in 0..100u32 {
            small.send_text(&format!("small {i}")).await?;
        }
        Ok::<_, Error>(())
    });
    let mut larges = 0;
    let mut smalls = 0;
    while larges < 8 || smalls < 100 {
        match client.recv().await.expect("client recv") {
            Message::Binary(data) => {
                let i = (larges / 2) as u8;
                assert_eq!(data.len(), (1 << 20) + i as usize, "large {larges}");
                assert!(
                    data.iter()
                        .enumerate()
                        .all(|(b, v)| *v == (b % 251) as u8 ^ i),
                    "large {larges} intact"
                );
                larges += 1;
            }
            Message::Text(text) => {
                assert_eq!(text, format!("small {smalls}"));
                smalls += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    big.await.expect("big").expect("sent");
    chatter.await.expect("chatter").expect("sent");
}

/// A masked client frame (a zero masking key: the payload reads as is).
fn client_frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![first_byte, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

#[tokio::test]
async fn a_close_read_with_pipelined_messages_still_starts_the_close_clock() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (a, mut peer) = tokio::io::duplex(16 << 10);
    let config = Config::default().close_timeout(Duration::from_millis(300));
    let server = tokio::spawn(async move {
        plainws::tokio::accept_with(a, config, |_: &plainws::Request| Ok(Accept::default())).await
    });
    peer.write_all(
        b"GET / HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .expect("request");
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        peer.read_exact(&mut byte).await.expect("response");
        response.push(byte[0]);
    }
    assert!(response.starts_with(b"HTTP/1.1 101"));
    let (mut rx, tx) = server.await.expect("task").expect("handshake").split();
    // Two messages and a Close in one write: the first two are returned
    // while more input is held (a batch), the Close ends the batch.
    let mut burst = client_frame(0x81, b"a");
    burst.extend(client_frame(0x81, b"b"));
    burst.extend(client_frame(0x88, &[0x03, 0xe8]));
    peer.write_all(&burst).await.expect("burst");
    assert_eq!(rx.recv().await.expect("a"), Message::Text("a".into()));
    assert_eq!(rx.recv().await.expect("b"), Message::Text("b".into()));
    assert!(matches!(rx.recv().await, Ok(Message::Close(_))));
    // The application keeps both handles and never closes: the reply is
    // owed after `close_timeout` (300 ms), by the connection's task.
    let mut reply = [0u8; 4];
    timeout(Duration::from_secs(5), peer.read_exact(&mut reply))
        .await
        .expect("the Close reply within 5 s, not never")
        .expect("read");
    assert_eq!(reply, [0x88, 0x02, 0x03, 0xe8]);
    drop((rx, tx));
}
