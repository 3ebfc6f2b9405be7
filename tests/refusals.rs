//! Refusals are bounded (issue 17): with `max_connections` = 10 taken, a
//! flood of 2,000 connections opened as fast as one client can is
//! answered with 503 while the process never holds more than the
//! documented threads and descriptors. Alone in its binary: it counts the
//! whole process's threads and descriptors.

mod common;

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use plainws::ServerOptions;
use plainws::sansio::frame::Opcode;

const MAX_CONNECTIONS: usize = 10;
const FLOOD: usize = 2_000;
/// Refused connections the client keeps open at once before reading the
/// oldest one's answer.
const IN_FLIGHT: usize = 64;
/// What refusals may cost the server at most (README, "Limits"): one
/// thread, and 32 lingering sockets plus the one being answered.
const REFUSAL_THREADS: usize = 1;
const REFUSAL_FDS: usize = 33;
/// The sampler's and the baseline's own open `/proc` directories.
const SAMPLER_FDS: usize = 2;

/// How a refused client's connection ended.
#[derive(Debug, Default)]
struct Outcomes {
    busy: AtomicUsize,
    closed: AtomicUsize,
    reset: AtomicUsize,
}

fn read_answer(mut stream: TcpStream, outcomes: &Outcomes) {
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) if answer.starts_with(b"HTTP/1.1 503 ") => &outcomes.busy,
        Ok(_) if answer.is_empty() => &outcomes.closed,
        Ok(_) => panic!(
            "a refused client got {:?}",
            String::from_utf8_lossy(&answer)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => &outcomes.reset,
        Err(e) => panic!("a refused client waited in vain: {e}"),
    }
    .fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_flood_of_refused_connections_costs_bounded_threads_and_descriptors() {
    let fixture = Fixture::echo(ServerOptions::default().max_connections(MAX_CONNECTIONS));
    // Every slot taken by a connection that stays.
    let mut held: Vec<RawClient> = (0..MAX_CONNECTIONS)
        .map(|_| RawClient::open(fixture.addr))
        .collect();
    for client in &mut held {
        client.send_frame(Opcode::Ping, true, b"");
        assert_eq!(client.frame().header.opcode, Opcode::Pong);
    }
    // The sampler and the flooding client are started before the
    // baseline, so that it counts them.
    let stop = Arc::new(AtomicBool::new(false));
    let go = Arc::new(AtomicBool::new(false));
    let peaks = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let sampler = {
        let (stop, peaks) = (Arc::clone(&stop), Arc::clone(&peaks));
        thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if let (Some(threads), Some(fds)) = (thread_count(), fd_count()) {
                    peaks.0.fetch_max(threads, Ordering::SeqCst);
                    peaks.1.fetch_max(fds, Ordering::SeqCst);
                }
                thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let outcomes = Arc::new(Outcomes::default());
    let addr = fixture.addr;
    let flood = {
        let (go, outcomes) = (Arc::clone(&go), Arc::clone(&outcomes));
        thread::spawn(move || {
            while !go.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            let request = upgrade_request("/");
            let mut open = VecDeque::new();
            for _ in 0..FLOOD {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .expect("timeout");
                // The server may have answered and closed already.
                let _ = stream.write_all(request.as_bytes());
                open.push_back(stream);
                if open.len() >= IN_FLIGHT {
                    read_answer(open.pop_front().expect("oldest"), &outcomes);
                }
            }
            for stream in open {
                read_answer(stream, &outcomes);
            }
        })
    };
    thread::sleep(Duration::from_millis(50));
    let (Some(threads_before), Some(fds_before)) = (thread_count(), fd_count()) else {
        eprintln!("no /proc/self: threads and descriptors not counted");
        stop.store(true, Ordering::SeqCst);
        go.store(true, Ordering::SeqCst);
        return;
    };
    let started = Instant::now();
    go.store(true, Ordering::SeqCst);
    flood.join().expect("the flood");
    let took = started.elapsed();
    stop.store(true, Ordering::SeqCst);
    sampler.join().expect("sampler");
    let (threads_peak, fds_peak) = (
        peaks.0.load(Ordering::SeqCst),
        peaks.1.load(Ordering::SeqCst),
    );
    let (busy, closed, reset) = (
        outcomes.busy.load(Ordering::SeqCst),
        outcomes.closed.load(Ordering::SeqCst),
        outcomes.reset.load(Ordering::SeqCst),
    );
    eprintln!(
        "{FLOOD} refused in {took:?}: {busy} got 503, {closed} a bare close, {reset} a reset; \
         threads {threads_before} -> peak {threads_peak}, descriptors {fds_before} -> peak {fds_peak}"
    );
    assert_eq!(
        busy + closed + reset,
        FLOOD,
        "every refused client was answered"
    );
    assert!(
        busy >= FLOOD * 9 / 10,
        "most refused clients read a 503: {busy} of {FLOOD}"
    );
    // The test's own: the flooding client's open connections.
    assert!(
        threads_peak <= threads_before + REFUSAL_THREADS,
        "threads: {threads_before} before the flood, {threads_peak} at its peak"
    );
    assert!(
        fds_peak <= fds_before + IN_FLIGHT + REFUSAL_FDS + SAMPLER_FDS,
        "descriptors: {fds_before} before the flood, {fds_peak} at its peak \
         (the client holds at most {IN_FLIGHT})"
    );
    // The server still serves its connections.
    for client in &mut held {
        client.send_frame(Opcode::Text, true, b"still here");
        assert_eq!(client.frame().payload, b"still here");
    }
    drop(held);
    assert!(eventually(Duration::from_secs(5), || fixture
        .handle
        .connections()
        == 0));
    fixture.finish();
}
