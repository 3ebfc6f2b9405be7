//! Load: 2,000 connections held open (idle, or stuck mid-handshake) while
//! another client keeps echoing; memory stays bounded and everything is
//! released afterwards.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use plainws::sansio::frame::Opcode;
use plainws::{Config, ServerOptions};

const HELD: usize = 2_000;

/// The soft limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[test]
fn two_thousand_held_connections_do_not_stop_an_echoing_client() {
    if let Some(limit) = open_files_limit() {
        assert!(
            limit >= 2 * HELD + 100,
            "this test needs {} open files (client and server ends); the limit is {limit}: raise it with `ulimit -n`",
            2 * HELD + 100
        );
    }
    let fixture = Fixture::echo(
        ServerOptions::default()
            .config(
                Config::default()
                    .close_timeout(Duration::from_millis(500))
                    .handshake_timeout(Duration::from_secs(30)),
            )
            .thread_stack_size(64 << 10)
            .shutdown_timeout(Duration::from_secs(10)),
    );
    let rss_before = rss_kib();
    let mut echoer = RawClient::open(fixture.addr);
    let mut held: Vec<RawClient> = Vec::with_capacity(HELD);
    let mut stuck: Vec<TcpStream> = Vec::new();
    for i in 0..HELD {
        if i % 4 == 0 {
            // A quarter never finish their handshake.
            let mut stream = TcpStream::connect(fixture.addr).unwrap();
            std::io::Write::write_all(&mut stream, b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
            stuck.push(stream);
        } else {
            held.push(RawClient::open(fixture.addr));
        }
        if i % 100 == 0 {
            let started = Instant::now();
            echoer.send_frame(Opcode::Text, true, format!("ping {i}").as_bytes());
            assert_eq!(echoer.frame().payload, format!("ping {i}").as_bytes());
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "echo took {:?}",
                started.elapsed()
            );
        }
    }
    // Every held connection still works.
    for (i, client) in held.iter_mut().enumerate().step_by(97) {
        client.send_frame(Opcode::Binary, true, &i.to_be_bytes());
        assert_eq!(client.frame().payload, i.to_be_bytes());
    }
    if let (Some(before), Some(after)) = (rss_before, rss_kib()) {
        let per_connection = (after.saturating_sub(before)) / HELD;
        // Both ends live in this process; a generous bound that still
        // catches a buffer reserved per declared length or leaked per frame.
        assert!(per_connection < 256, "{per_connection} KiB per connection");
    }
    drop(held);
    drop(echoer);
    // Shutdown also ends the connections stuck mid-handshake, well before
    // their 30 s handshake deadline.
    let started = Instant::now();
    assert!(fixture.handle.shutdown());
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    drop(stuck);
    fixture.finish();
}
