//! `handshake_response`: response heads through the client's check.

use plainws::Error;
use plainws::sansio::handshake::accept_key;
use plainws::sansio::handshake::client::check_response;
use plainws::sansio::handshake::http::Head;

use super::http::read_head;
use super::input::Input;

/// Two keys with known answers (RFC 6455 §1.3 and §4.2.2).
const KEYS: [&str; 2] = ["dGhlIHNhbXBsZSBub25jZQ==", "x3JJHMbDL1EzLkh9GBhXDw=="];

/// Response heads through the client's check: accept or a documented
/// error; what is accepted re-serializes to the same result.
///
/// Input: a setup byte (key, offered subprotocols, header limit), then
/// the response bytes.
pub fn handshake_response(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = input.byte();
    let key = KEYS[usize::from(selector & 1)];
    let offered: Vec<String> = match (selector >> 1) & 3 {
        0 => vec![],
        1 => vec!["chat".into()],
        2 => vec!["chat".into(), "superchat".into()],
        _ => vec!["v2.json".into(), "v1.json".into()],
    };
    let max_headers = [100, 3][usize::from((selector >> 3) & 1)];
    let bytes = input.rest();
    let len = match read_head(16 << 10, &[bytes]) {
        Ok(Some(len)) => len,
        _ => return,
    };
    let head = &bytes[..len];
    let accepted = match check_response(head, max_headers, key, &offered) {
        Ok(accepted) => accepted,
        Err(e) => {
            assert!(
                matches!(
                    e,
                    Error::MalformedHttp(_)
                        | Error::TooManyHeaders
                        | Error::HandshakeRefused(_)
                        | Error::InvalidHeader(_)
                        | Error::InvalidAccept
                ),
                "undocumented {e:?}"
            );
            return;
        }
    };
    // What was accepted is what §4.1 allows.
    let parsed = Head::parse(head, max_headers).expect("accepted heads parse");
    assert_eq!(parsed.headers, accepted.headers);
    let mut status_line = parsed.start_line.splitn(3, ' ');
    assert!(status_line.next().is_some_and(|v| v.starts_with("HTTP/1.")));
    assert_eq!(status_line.next(), Some("101"));
    assert_eq!(
        parsed.header("Sec-WebSocket-Accept"),
        Some(accept_key(key).as_str())
    );
    if let Some(protocol) = &accepted.protocol {
        assert!(offered.contains(protocol));
    }

    // Re-serialized, it is accepted the same.
    let mut again = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
    for (name, value) in &accepted.headers {
        again.extend_from_slice(name.as_bytes());
        again.extend_from_slice(b": ");
        again.extend_from_slice(value);
        again.extend_from_slice(b"\r\n");
    }
    again.extend_from_slice(b"\r\n");
    let again = check_response(&again, max_headers, key, &offered).expect("re-serialized response");
    assert_eq!(again, accepted);
}
