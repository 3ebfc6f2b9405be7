//! Resource checks, alone in their own test binary so that no other test's
//! threads or sockets come and go meanwhile.

mod common;

use std::time::Duration;

use common::*;
use plainws::Config;
use plainws::frame::Opcode;

#[test]
fn threads_return_to_their_count_after_100_connections() {
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
