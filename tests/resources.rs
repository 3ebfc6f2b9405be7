//! Resource checks, alone in their own test binary so that no other test's
//! threads or sockets come and go meanwhile.

mod common;

use std::time::Duration;

use common::*;
use plainws::Config;
use plainws::sansio::frame::Opcode;

#[test]
fn threads_return_to_their_count_after_100_connections() {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let addr = spawn_server(echo_with(Config::default()));
    // Warm up: the listener thread and anything lazily started.
    let mut client = RawClient::open(addr);
    client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
    client.expect_close(1000);
    let Some(before) = thread_count() else {
        eprintln!("no /proc/self/status: thread count not checked");
        return;
    };
    for i in 0..100 {
        let mut client = RawClient::open(addr);
        client.send_frame(Opcode::Text, true, format!("{i}").as_bytes());
        assert_eq!(client.frame().payload, format!("{i}").as_bytes());
        client.send_frame(Opcode::Close, true, &close_payload(1000, ""));
        client.expect_close(1000);
    }
    assert!(
        eventually(Duration::from_secs(5), || thread_count() <= Some(before)),
        "threads before {before}, after {:?}",
        thread_count()
    );
}

#[test]
fn a_connection_holds_one_file_descriptor() {
    let _alone = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let addr = spawn_server(echo_with(Config::default()));
    let mut warm = RawClient::open(addr);
    warm.send_frame(Opcode::Text, true, b"warm");
    assert_eq!(warm.frame().payload, b"warm");
    let Some(before) = fd_count() else {
        eprintln!("no /proc/self/fd: descriptors not counted");
        return;
    };
    let mut clients: Vec<RawClient> = (0..50).map(|_| RawClient::open(addr)).collect();
    for client in &mut clients {
        client.send_frame(Opcode::Ping, true, b"");
        assert_eq!(client.frame().header.opcode, Opcode::Pong);
    }
    let after = fd_count().unwrap_or(0);
    // Each connection: the test's client end and the server's one stream.
    assert!(
        after <= before + 2 * 50 + 2,
        "before {before}, after {after}"
    );
}
