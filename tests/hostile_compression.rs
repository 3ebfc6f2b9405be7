//! Hostile permessage-deflate input against a server with compression on,
//! over real sockets: a bomb (about 1 MiB that inflates to 1 GiB) is
//! refused with 1009 while the process's peak memory stays near the
//! configured limit; corrupt data gets 1007; RSV1 on a control frame gets
//! 1002. Afterwards a fresh client is served, and threads and descriptors
//! are back where they started. (Its own test binary, so that the peak
//! resident size measured is this test's.)

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::*;
use plainws::sansio::deflate::{Deflater, TAIL};
use plainws::{Config, DeflateConfig};

const LIMIT: u64 = 16 << 20;

/// A server that accepts permessage-deflate and echoes, with a 16 MiB
/// message limit.
fn server() -> SocketAddr {
    let config = Config::default()
        .compression(DeflateConfig::default())
        .max_message_size(LIMIT);
    spawn_server(echo_with(config))
}

/// A raw client that offered permessage-deflate and got it.
fn open_compressed(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let request = upgrade_request("/").replace(
        "\r\n\r\n",
        "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
    );
    stream.write_all(request.as_bytes()).expect("request");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("response");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Extensions: permessage-deflate"),
        "{head}"
    );
    stream
}

/// A masked frame; `rsv1` marks a compressed message.
fn frame(opcode: u8, rsv1: bool, payload: &[u8]) -> Vec<u8> {
    let key = [1, 2, 3, 4];
    let mut out = vec![0x80 | if rsv1 { 0x40 } else { 0 } | opcode];
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xFFFF => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// Reads until the server's Close; returns its code.
fn close_code(stream: &mut TcpStream) -> u16 {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
        }
        if all.len() >= 4 && all[0] & 0x0f == 0x8 {
            break;
        }
    }
    assert!(all.len() >= 4 && all[0] & 0x0f == 0x8, "a Close: {all:?}");
    u16::from_be_bytes([all[2], all[3]])
}

fn peak_rss_kib() -> usize {
    proc_status_field("VmHWM:").expect("VmHWM in /proc/self/status")
}

#[test]
fn a_bomb_a_corrupt_stream_and_rsv1_on_a_control_frame_are_refused() {
    let threads_before = plainws_thread_count();
    let addr = server();
    // Counted after the listener, which lives as long as the process.
    let fds_before = fd_count();

    // 16 MiB of zeros compress to a few KiB; 64 of them in a row, joined
    // by the sync flush's tail, are one stream that inflates to 1 GiB.
    let mut chunk = Vec::new();
    Deflater::new(15, true).compress_message(&vec![0u8; 16 << 20], &mut chunk);
    let mut bomb = Vec::new();
    for i in 0..64 {
        bomb.extend_from_slice(&chunk);
        if i < 63 {
            bomb.extend_from_slice(&TAIL);
        }
    }
    assert!(bomb.len() < 2 << 20, "the bomb is {} bytes", bomb.len());
    let bomb_frame = frame(0x2, true, &bomb);
    drop(bomb);

    let before = peak_rss_kib();
    {
        let mut client = open_compressed(addr);
        client.write_all(&bomb_frame).expect("the bomb");
        assert_eq!(close_code(&mut client), 1009, "too big once inflated");
    }
    let grown_mib = (peak_rss_kib() - before) / 1024;
    assert!(
        grown_mib < 64,
        "peak memory grew by {grown_mib} MiB for a 16 MiB limit"
    );

    // Block type 3 does not exist (RFC 1951 §3.2.3): 1007.
    {
        let mut client = open_compressed(addr);
        client.write_all(&frame(0x2, true, &[0x06])).expect("send");
        assert_eq!(close_code(&mut client), 1007);
    }

    // A back-reference before any data (distance past the window): 1007.
    {
        let mut client = open_compressed(addr);
        client
            .write_all(&frame(0x1, true, &[0x4a, 0x04, 0x42, 0x00, 0x00]))
            .expect("send");
        assert_eq!(close_code(&mut client), 1007);
    }

    // RSV1 on a Ping (RFC 7692 §6.1): 1002.
    {
        let mut client = open_compressed(addr);
        client.write_all(&frame(0x9, true, b"")).expect("send");
        assert_eq!(close_code(&mut client), 1002);
    }

    // A fresh client is still served, compressed.
    let mut client = open_compressed(addr);
    let mut hello = Vec::new();
    Deflater::new(15, false).compress_message(b"still there?", &mut hello);
    client.write_all(&frame(0x1, true, &hello)).expect("send");
    let mut head = [0u8; 2];
    client.read_exact(&mut head).expect("a reply");
    assert_eq!(head[0], 0xc1, "a compressed text reply");
    drop(client);

    assert!(
        eventually(Duration::from_secs(10), || plainws_thread_count()
            == threads_before
            && fd_count() == fds_before),
        "threads {:?} -> {:?}, fds {fds_before:?} -> {:?}",
        threads_before,
        plainws_thread_count(),
        fd_count()
    );
}
