//! `ServerHandle::shutdown` keeps its bound whatever the peers do: a
//! client that never reads (its connection's writer blocked on a full
//! socket) is shut down at the socket, not waited for, and well-behaved
//! clients get their 1001 at once.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use plainws::{Message, Server, ServerOptions};

#[test]
fn shutdown_returns_within_its_bound_with_a_client_that_never_reads() {
    let shutdown_timeout = Duration::from_secs(3);
    let options = ServerOptions::default().shutdown_timeout(shutdown_timeout);
    let server = Server::bind("127.0.0.1:0", options).expect("bind");
    let addr = server.local_addr();
    let handle = server.handle();
    let run = thread::spawn(move || {
        server
            .run(|incoming| {
                let Ok(ws) = incoming.accept_with(|request| {
                    let _ = request;
                    Ok(Default::default())
                }) else {
                    return;
                };
                let (mut receiver, sender) = ws.split();
                // The first message says what this client is.
                match receiver.recv() {
                    Ok(Message::Text(t)) if t == "flood me" => {
                        let block = vec![0u8; 64 << 10];
                        while sender.send_binary(&block).is_ok() {}
                    }
                    Ok(_) => while receiver.recv().is_ok() {},
                    Err(_) => {}
                }
            })
            .expect("the server runs");
    });

    // A client that never reads: the server's writes fill its socket.
    let mut stuck = common::upgraded_stream(addr, "/");
    stuck
        .write_all(&[0x81, 0x88, 0, 0, 0, 0])
        .and_then(|()| stuck.write_all(b"flood me"))
        .expect("the flood request");
    // Well-behaved clients.
    let mut good: Vec<TcpStream> = (0..4).map(|_| common::upgraded_stream(addr, "/")).collect();
    for client in &mut good {
        client
            .write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i'])
            .expect("a message");
    }
    // Let the flood fill every buffer between us.
    thread::sleep(Duration::from_millis(500));

    let started = Instant::now();
    let stopper = thread::spawn(move || handle.shutdown());
    for mut client in good {
        let mut close = [0u8; 4];
        client.read_exact(&mut close).expect("a Close frame");
        assert_eq!(close[0], 0x88, "a Close");
        assert_eq!(close[2..4], 1001u16.to_be_bytes(), "going away");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a good client waited {:?} for its 1001",
            started.elapsed()
        );
        // Answer it, as a client does.
        client
            .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe9])
            .expect("close reply");
        // The server closes TCP first; then so do we.
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).expect("the server's FIN");
    }
    let all_ended = stopper.join().expect("shutdown");
    let took = started.elapsed();
    assert!(
        took < shutdown_timeout + Duration::from_millis(500),
        "shutdown took {took:?} with a {shutdown_timeout:?} bound"
    );
    assert!(all_ended, "every connection thread ended");
    run.join().expect("the accept loop ends");
    drop(stuck);
}
