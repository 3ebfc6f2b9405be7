//! What the application and the peer get at each size limit: the rows of
//! the README's "What each limit returns to the application" for
//! `max_frame_size`, `max_message_size` and `max_fragments`.
//!
//! A plainws server and a plainws client over an in-memory stream: the
//! client sends past the server's limit; the server's `recv` must return
//! the limit's error, the client must get a Close 1009 whose reason is the
//! error's text, and every later `recv` on the server is
//! `ConnectionClosed`.

use std::thread;
use std::time::Duration;

use plainws::{
    Accept, ClientOptions, CloseCode, Config, Error, MemoryStream, Message, Opcode, Sender,
};

/// Runs a server with `config`; `send` is the client's part. Returns what
/// the server's first `recv` returned and the Close the client received.
fn over_the_limit(config: Config, send: impl FnOnce(&Sender)) -> (Error, String, u16) {
    let (server_end, client_end) = MemoryStream::pair();
    let config = Config {
        close_timeout: Duration::from_secs(2),
        ..config
    };
    let server = thread::spawn(move || {
        let mut ws =
            plainws::accept_with(server_end, config, |_| Ok(Accept::default())).expect("upgrade");
        let first = ws.recv().expect_err("the limit is an error");
        let after = ws.recv();
        assert!(
            matches!(after, Err(Error::ConnectionClosed)),
            "after the error: {after:?}"
        );
        first
    });
    let mut client =
        plainws::client_with_transport(client_end, "ws://test/", ClientOptions::default())
            .expect("the client's handshake");
    send(&client.sender());
    let (code, reason) = loop {
        match client.recv() {
            Ok(Message::Close(Some(frame))) => break (frame.code, frame.reason),
            Ok(Message::Close(None)) => panic!("a Close without a code"),
            Ok(_) => {}
            Err(e) => panic!("the client got {e:?} instead of a Close"),
        }
    };
    let first = server.join().expect("the server thread");
    assert_eq!(first.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
    (first, reason, code.0)
}

#[test]
fn a_frame_over_max_frame_size() {
    let config = Config {
        max_frame_size: 1000,
        ..Config::default()
    };
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender.send_binary(&[0; 1001]).expect("sent");
    });
    assert!(
        matches!(
            error,
            Error::FrameTooLarge {
                len: 1001,
                limit: 1000
            }
        ),
        "{error:?}"
    );
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}

#[test]
fn a_message_over_max_message_size() {
    let config = Config {
        max_frame_size: 1000,
        max_message_size: 1000,
        ..Config::default()
    };
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender
            .send_fragment(Opcode::Binary, &[0; 600], false)
            .expect("sent");
        sender
            .send_fragment(Opcode::Continuation, &[0; 600], true)
            .expect("sent");
    });
    assert!(
        matches!(
            error,
            Error::MessageTooLarge {
                len: 1200,
                limit: 1000
            }
        ),
        "{error:?}"
    );
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}

#[test]
fn a_message_over_max_fragments() {
    let config = Config {
        max_fragments: 3,
        ..Config::default()
    };
    let (error, reason, code) = over_the_limit(config, |sender| {
        sender
            .send_fragment(Opcode::Text, b"a", false)
            .expect("sent");
        for _ in 0..3 {
            sender
                .send_fragment(Opcode::Continuation, b"b", false)
                .expect("sent");
        }
        sender
            .send_fragment(Opcode::Continuation, b"c", true)
            .expect("sent");
    });
    assert!(matches!(error, Error::TooManyFragments(3)), "{error:?}");
    assert_eq!(code, 1009);
    assert_eq!(reason, error.to_string());
}
