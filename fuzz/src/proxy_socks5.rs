//! The `proxy_socks5` target: a SOCKS5 proxy's bytes through the client's
//! state machine (`src/sansio/proxy/socks5.rs`, RFC 1928, RFC 1929).
//!
//! Included by `targets.rs`; it depends only on plainws and std.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use plainws::Error;
use plainws::sansio::proxy::socks5::{Socks5, reply_words};
use plainws::sansio::proxy::{Credentials, Target};

use super::input::Input;

/// How a run ended and everything the client wrote.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    wrote: Vec<u8>,
    outcome: Result<Vec<u8>, String>,
    done: bool,
}

fn run(target: &Target, credentials: Option<&Credentials>, bytes: &[u8], pieces: &[usize]) -> Run {
    let mut socks = Socks5::new(target.clone(), credentials).expect("valid setup");
    let mut wrote = Vec::new();
    socks.take_data_to_send(&mut wrote);
    let mut at = 0;
    let mut sizes = pieces.iter().copied().cycle();
    while at < bytes.len() {
        let size = sizes.next().unwrap_or(bytes.len()).min(bytes.len() - at);
        let piece = &bytes[at..at + size];
        at += size;
        let result = socks.receive(piece);
        socks.take_data_to_send(&mut wrote);
        match result {
            Ok(None) => assert!(!socks.is_done()),
            Ok(Some(established)) => {
                assert!(socks.is_done());
                let mut tunnel = established.tunnel_bytes;
                tunnel.extend_from_slice(&bytes[at..]);
                assert!(socks.receive(b"x").is_err(), "bytes taken after the end");
                return Run {
                    wrote,
                    outcome: Ok(tunnel),
                    done: true,
                };
            }
            Err(e) => {
                match &e {
                    Error::ProxyAuthFailed(why) => {
                        assert!(!why.contains("hunter2") && !why.contains("alice"));
                    }
                    Error::ProxyTargetUnreachable { reply } => {
                        assert_ne!(*reply, 0);
                        assert!(format!("{e}").contains(reply_words(*reply)));
                    }
                    Error::InvalidProxyResponse(_) => {}
                    other => panic!("undocumented {other:?}"),
                }
                let mut after = Vec::new();
                socks.take_data_to_send(&mut after);
                assert!(after.is_empty(), "nothing is sent after an error");
                assert!(socks.receive(b"x").is_err(), "bytes taken after an error");
                return Run {
                    wrote,
                    outcome: Err(format!("{e:?}")),
                    done: false,
                };
            }
        }
    }
    Run {
        wrote,
        outcome: Err("waiting".into()),
        done: false,
    }
}

/// Bytes from a SOCKS5 proxy through the client, whole and in pieces.
///
/// Input: a setup byte (bits 0-1: the target by IPv4 address, IPv6
/// address or name; bit 2: with a user name and password), up to 8
/// piece sizes (0: an empty read), then the proxy's bytes.
///
/// Oracles: never a panic; the same outcome whole and in any pieces, and
/// the same bytes written (on an error, one a prefix of the other: what
/// an error call queued is dropped); the client writes the greeting, then the
/// username/password only after method 02 was chosen, then exactly the
/// CONNECT request (RFC 1928 §4) once, and nothing after an error or the
/// end; errors are documented ones (`ProxyAuthFailed` without the
/// credentials, `ProxyTargetUnreachable` with a non-zero reply whose words
/// are in the message, `InvalidProxyResponse`); an open tunnel's bytes are
/// a suffix of the input.
pub fn proxy_socks5(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.byte();
    let target = match setup & 3 {
        0 => Target::Ip(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 9001),
        1 => Target::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST), 443),
        _ => Target::Name("echo.example".into(), 80),
    };
    let credentials = (setup & 4 == 4).then(|| Credentials::new("alice", "hunter2"));
    let pieces: Vec<usize> = input.list(8).into_iter().map(usize::from).collect();
    let bytes = input.rest();

    let whole = run(&target, credentials.as_ref(), bytes, &[bytes.len().max(1)]);
    let split = run(
        &target,
        credentials.as_ref(),
        bytes,
        if pieces.iter().all(|&p| p == 0) {
            &[1]
        } else {
            &pieces
        },
    );
    // The same outcome; the same bytes written, except that an error
    // drops what was queued in the same call (bytes that arrive ahead of
    // their turn end the handshake before the next message goes out).
    assert_eq!(
        whole.outcome, split.outcome,
        "whole and in pieces {pieces:?}"
    );
    assert_eq!(whole.done, split.done);
    if whole.done {
        assert_eq!(whole.wrote, split.wrote, "whole and in pieces {pieces:?}");
    } else {
        assert!(split.wrote.starts_with(&whole.wrote) || whole.wrote.starts_with(&split.wrote));
    }

    // What was written follows the protocol.
    let greeting: &[u8] = if credentials.is_some() {
        &[5, 2, 0, 2]
    } else {
        &[5, 1, 0]
    };
    assert!(whole.wrote.starts_with(greeting));
    let rest = &whole.wrote[greeting.len()..];
    let auth = b"\x01\x05alice\x07hunter2";
    let rest = rest.strip_prefix(&auth[..]).unwrap_or(rest);
    if credentials.is_none() || bytes.get(1) != Some(&2) {
        assert!(
            !whole.wrote.windows(7).any(|w| w == b"hunter2"),
            "password sent unasked"
        );
    }
    let mut request = vec![5, 1, 0];
    match &target {
        Target::Ip(IpAddr::V4(ip), port) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
            request.extend_from_slice(&port.to_be_bytes());
        }
        Target::Ip(IpAddr::V6(ip), port) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
            request.extend_from_slice(&port.to_be_bytes());
        }
        Target::Name(name, port) => {
            request.push(3);
            request.push(name.len() as u8);
            request.extend_from_slice(name.as_bytes());
            request.extend_from_slice(&port.to_be_bytes());
        }
    }
    assert!(
        rest.is_empty() || rest == request,
        "wrote {:?}",
        whole.wrote
    );
    if whole.done {
        assert_eq!(rest, request, "the tunnel opened without a CONNECT");
        let tunnel = whole.outcome.as_ref().expect("done");
        assert!(bytes.ends_with(tunnel));
    }
}
