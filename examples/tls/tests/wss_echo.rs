//! `wss://` over loopback with plainws on both sides, through the adapters
//! of `src/lib.rs`, with a self-signed certificate loaded from PEM files.

use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use plainws::{Accept, ClientOptions, CloseCode, CloseFrame, Config, Error, Message, Transport};
use plainws_tls::{TlsStream, client_config, connect, server_config};

/// A fresh self-signed certificate for `localhost`, as PEM files:
/// (certificate, private key).
fn certificate_files(test: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("plainws-tls-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, generated.cert.pem()).expect("cert.pem written");
    std::fs::write(&key, generated.signing_key.serialize_pem()).expect("key.pem written");
    (cert, key)
}

fn mebibyte(seed: u8) -> Vec<u8> {
    (0..1 << 20).map(|i: u32| (i % 251) as u8 ^ seed).collect()
}

#[test]
fn wss_echo_over_loopback() {
    let (cert, key) = certificate_files("echo");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let server_tls = server_config(&cert, &key).expect("the server's PEM files load");

    // The server: TLS within 5 s, then plainws; it echoes every message
    // and returns the client's Close.
    let server = thread::spawn(move || -> plainws::Result<Option<CloseFrame>> {
        let (tcp, _) = listener.accept()?;
        let tls = TlsStream::accept(tcp, server_tls, Duration::from_secs(5))?;
        let mut ws = plainws::accept_with(tls, Config::default(), |request| {
            assert_eq!(request.path(), "/echo");
            Ok(Accept::default())
        })?;
        loop {
            match ws.recv()? {
                Message::Text(text) => ws.send_text(&text)?,
                Message::Binary(data) => ws.send_binary(&data)?,
                Message::Close(frame) => return Ok(frame),
                Message::Ping(_) | Message::Pong(_) => {}
            }
        }
    });

    let client_tls = client_config(&cert).expect("the CA PEM file loads");
    let ws = connect(
        "localhost",
        port,
        "/echo",
        client_tls,
        ClientOptions::default(),
    )
    .expect("the wss handshake succeeds");
    let (mut receiver, sender) = ws.split();

    let messages = vec![
        Message::Text("hello".into()),
        Message::Binary(Vec::new()),
        Message::Binary(mebibyte(1)),
        Message::Text("κόσμε".into()),
        Message::Binary(mebibyte(2)),
        Message::Binary(mebibyte(3)),
        Message::Binary(mebibyte(4)),
    ];
    // One thread sends them back to back while this one is blocked
    // reading the echoes: with the server echoing one message while the
    // next arrives, both directions are busy at once.
    let to_send = messages.clone();
    let writer = thread::spawn(move || -> plainws::Result<()> {
        for message in &to_send {
            sender.send(message)?;
        }
        Ok(())
    });
    for expected in &messages {
        let got = receiver.recv().expect("an echo");
        assert!(got == *expected, "a different echo");
    }
    writer
        .join()
        .expect("the writer")
        .expect("every send succeeds");

    let sender = receiver.sender();
    sender.close(CloseCode::NORMAL, "done").expect("close sent");
    match receiver.recv().expect("the server's Close") {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected a Close, got {other:?}"),
    }
    assert!(matches!(receiver.recv(), Err(Error::ConnectionClosed)));
    let close = server
        .join()
        .expect("the server thread")
        .expect("the server");
    assert_eq!(close, Some(CloseFrame::new(CloseCode::NORMAL, "done")));
}

/// Two `TlsStream`s over loopback: (client, server).
fn tls_pair(test: &str) -> (TlsStream, TlsStream) {
    let (cert, key) = certificate_files(test);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let server_tls = server_config(&cert, &key).expect("server PEM");
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("a connection");
        TlsStream::accept(tcp, server_tls, Duration::from_secs(5)).expect("server handshake")
    });
    let tcp = TcpStream::connect(addr).expect("connected");
    let client_tls = client_config(&cert).expect("client PEM");
    let client = TlsStream::connect(tcp, client_tls, "localhost", Duration::from_secs(5))
        .expect("client handshake");
    (client, server.join().expect("the server thread"))
}

/// Reads exactly `len` bytes, each read within the stream's read timeout.
fn read_exactly(stream: &TlsStream, len: usize) -> std::io::Result<Vec<u8>> {
    let mut out = vec![0; len];
    let mut at = 0;
    while at < len {
        match stream.read(&mut out[at..])? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => at += n,
        }
    }
    Ok(out)
}

#[test]
fn a_blocked_read_does_not_block_a_write() {
    let (client, server) = tls_pair("blocked-read");
    let client = Arc::new(client);
    server
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("server read timeout");

    // A thread blocks in a read: nothing comes until the server answers.
    let reading = Arc::clone(&client);
    let reader = thread::spawn(move || read_exactly(&reading, 4));
    thread::sleep(Duration::from_millis(100));

    // Meanwhile another thread writes; it must get through at once.
    let (done, written) = mpsc::channel();
    let writing = Arc::clone(&client);
    thread::spawn(move || {
        let _ = done.send(writing.write(b"ping"));
    });
    let result = written
        .recv_timeout(Duration::from_secs(5))
        .expect("the write finished while the read was blocked");
    assert_eq!(result.expect("the write succeeded"), 4);
    assert_eq!(read_exactly(&server, 4).expect("the server reads"), b"ping");

    // The blocked read gets the answer.
    assert_eq!(server.write(b"pong").expect("the server writes"), 4);
    let answer = reader.join().expect("the reader thread");
    assert_eq!(answer.expect("the read"), b"pong");
}

#[test]
fn a_write_blocked_on_a_full_socket_does_not_block_a_read() {
    let (client, server) = tls_pair("blocked-write");
    let client = Arc::new(client);
    client
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("client write timeout");

    // The server reads nothing for now, so this write fills the socket
    // buffers both ways and blocks.
    const LEN: usize = 32 << 20;
    let writing = Arc::clone(&client);
    let writer = thread::spawn(move || plainws_write_all(&writing, &vec![7u8; LEN]));
    thread::sleep(Duration::from_millis(500));

    // The server answers; the client's reading thread must get it while
    // the writing thread is still blocked.
    let (done, read) = mpsc::channel();
    let reading = Arc::clone(&client);
    thread::spawn(move || {
        let _ = done.send(read_exactly(&reading, 4));
    });
    assert_eq!(server.write(b"pong").expect("the server writes"), 4);
    let answer = read
        .recv_timeout(Duration::from_secs(5))
        .expect("the read finished while the write was blocked");
    assert_eq!(answer.expect("the read"), b"pong");
    assert!(!writer.is_finished(), "the write was blocked all along");

    // The server reads it all, and the write completes.
    let mut left = LEN;
    while left > 0 {
        let chunk = read_exactly(&server, left.min(1 << 20)).expect("the server reads");
        assert!(chunk.iter().all(|&b| b == 7));
        left -= chunk.len();
    }
    writer
        .join()
        .expect("the writer thread")
        .expect("the write");
}

/// `Write::write_all` for a transport.
fn plainws_write_all(stream: &TlsStream, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        match stream.write(buf)? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

#[test]
fn shutdown_ends_the_peers_stream_and_wakes_a_blocked_read() {
    let (client, server) = tls_pair("shutdown");
    let server = Arc::new(server);
    let reading = Arc::clone(&server);
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 16];
        reading.read(&mut buf)
    });
    thread::sleep(Duration::from_millis(100));
    // The client's orderly end: close_notify, then FIN.
    client.shutdown(Shutdown::Write).expect("shutdown");
    let n = reader
        .join()
        .expect("the reader thread")
        .expect("a clean end");
    assert_eq!(n, 0);

    // An abortive shutdown from another thread wakes a read blocked on a
    // peer that sends nothing.
    let client = Arc::new(client);
    let reading = Arc::clone(&client);
    let started = Instant::now();
    let reader = thread::spawn(move || {
        let mut buf = [0u8; 16];
        reading.read(&mut buf)
    });
    thread::sleep(Duration::from_millis(100));
    client.shutdown(Shutdown::Both).expect("shutdown");
    let _ = reader.join().expect("the reader thread");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn shutdown_write_sends_close_notify() {
    let (cert, key) = certificate_files("close-notify");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let server_tls = server_config(&cert, &key).expect("server PEM");
    // A bare rustls server, to see how the client's stream ends.
    let server = thread::spawn(move || -> std::io::Result<bool> {
        let (mut tcp, _) = listener.accept()?;
        tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut session =
            rustls::ServerConnection::new(server_tls).map_err(std::io::Error::other)?;
        let mut buf = [0u8; 64];
        loop {
            let n = session.read_tls(&mut tcp)?;
            session
                .process_new_packets()
                .map_err(std::io::Error::other)?;
            if session.wants_write() {
                session.write_tls(&mut tcp)?;
            }
            match std::io::Read::read(&mut session.reader(), &mut buf) {
                Ok(0) => return Ok(true), // close_notify
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && n > 0 => {}
                Err(e) => return Err(e),
            }
        }
    });
    let tcp = TcpStream::connect(addr).expect("connected");
    let client_tls = client_config(&cert).expect("client PEM");
    let client = TlsStream::connect(tcp, client_tls, "localhost", Duration::from_secs(5))
        .expect("client handshake");
    client.shutdown(Shutdown::Write).expect("shutdown");
    let clean = server
        .join()
        .expect("the server thread")
        .expect("the server");
    assert!(clean, "the stream ended without a close_notify");
}

#[test]
fn the_server_handshake_has_one_deadline() {
    let (cert, key) = certificate_files("server-deadline");
    let server_tls = server_config(&cert, &key).expect("server PEM");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");

    // A client that says nothing.
    let silent = TcpStream::connect(addr).expect("connected");
    let (tcp, _) = listener.accept().expect("accepted");
    let started = Instant::now();
    let result = TlsStream::accept(tcp, Arc::clone(&server_tls), Duration::from_millis(300));
    let error = result.err().expect("a silent client times out");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(silent);

    // A client that sends the start of a ClientHello one byte every 20 ms:
    // each byte arrives well within the timeout, the whole never does.
    let mut slow = TcpStream::connect(addr).expect("connected");
    let (tcp, _) = listener.accept().expect("accepted");
    let dripping = thread::spawn(move || {
        let record_start = [
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03,
        ];
        for byte in record_start.iter().chain([0u8; 200].iter()) {
            if slow.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let started = Instant::now();
    let result = TlsStream::accept(tcp, server_tls, Duration::from_millis(300));
    let error = result.err().expect("a dripping client times out");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(2));
    dripping.join().expect("the dripping thread");
}

#[test]
fn the_client_handshake_times_out_on_a_silent_server() {
    let (cert, _) = certificate_files("client-deadline");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let tcp = TcpStream::connect(listener.local_addr().expect("its address")).expect("connected");
    let (_held, _) = listener.accept().expect("accepted, and never answered");
    let client_tls = client_config(&cert).expect("client PEM");
    let started = Instant::now();
    let result = TlsStream::connect(tcp, client_tls, "localhost", Duration::from_millis(300));
    let error = result.err().expect("a silent server times out");
    assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn the_client_refuses_a_certificate_it_does_not_trust() {
    let (cert, key) = certificate_files("untrusted-server");
    let (other_ca, _) = certificate_files("untrusted-client");
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    let server_tls = server_config(&cert, &key).expect("server PEM");
    let server = thread::spawn(move || {
        let (tcp, _) = listener.accept().expect("a connection");
        TlsStream::accept(tcp, server_tls, Duration::from_secs(5)).is_err()
    });
    let client_tls = client_config(&other_ca).expect("client PEM");
    let result = connect("localhost", port, "/", client_tls, ClientOptions::default());
    match result {
        Err(Error::Io(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        other => panic!("expected a certificate error, got {other:?}"),
    }
    assert!(
        server.join().expect("the server thread"),
        "the server saw a failed handshake"
    );
}

#[test]
fn pem_files_without_a_key_are_refused() {
    let (cert, _) = certificate_files("no-key");
    let error = server_config(&cert, &cert).expect_err("no private key in cert.pem");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
}
