//! The lab's reports, as JSON for the page: a frame with every header
//! field and its first bytes, a whole message with what its frames
//! weighed, and the opening handshake taken apart.

use plainws::sansio::frame::{FrameHeader, MAX_HEADER_LEN, Opcode};
use plainws::sansio::handshake::server::{negotiate_compression, switching_protocols};
use plainws::sansio::handshake::{WEBSOCKET_GUID, accept_key};
use plainws::sansio::mask::apply_mask;
use plainws::sansio::trace::hex;
use plainws::{Accept, Config, Direction, Request};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

/// Text shown of a whole message (the frames show their first bytes).
const MESSAGE_TEXT_SHOWN: usize = 200;

/// Which length form a payload length takes (RFC 6455 §5.2).
fn length_form(len: u64) -> u8 {
    match len {
        0..=125 => 7,
        126..=65535 => 16,
        _ => 64,
    }
}

pub fn frame_report(
    direction: Direction,
    header: &FrameHeader,
    preview: &[u8],
    raw: bool,
) -> Value {
    let mut head = [0u8; MAX_HEADER_LEN];
    let head_len = header.encode(&mut head);
    let mut on_wire = preview.to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut on_wire, key, 0);
    }
    let mut report = json!({
        "kind": "frame",
        "dir": if direction == Direction::Incoming { "in" } else { "out" },
        "fin": u8::from(header.fin),
        "rsv": [header.rsv >> 2 & 1, header.rsv >> 1 & 1, header.rsv & 1],
        "op": header.opcode.to_string(),
        "opcode": header.opcode.bits(),
        "mask": u8::from(header.mask.is_some()),
        "key": header.mask.map(|key| hex(&key)),
        "len": header.payload_len,
        "form": length_form(header.payload_len),
        "head": hex(&head[..head_len]),
        "wire": hex(&on_wire),
        "plain": hex(preview),
        "shown": preview.len(),
        "raw": raw,
    });
    let compressed = header.rsv & 0b100 != 0;
    match header.opcode {
        Opcode::Close => {
            if let [hi, lo, reason @ ..] = preview {
                report["code"] = json!(u16::from_be_bytes([*hi, *lo]));
                report["reason"] = json!(String::from_utf8_lossy(reason));
            }
        }
        Opcode::Text | Opcode::Continuation | Opcode::Ping | Opcode::Pong if !compressed => {
            if let Ok(text) = std::str::from_utf8(preview) {
                report["text"] = json!(text);
            } else if header.opcode == Opcode::Text {
                report["text_error"] = json!("not UTF-8");
            }
        }
        _ => {}
    }
    report
}

pub fn message_report(dir: &str, op: &str, data: &[u8], wire: u64, compressed: bool) -> Value {
    let text = String::from_utf8_lossy(data);
    let shown: String = text.chars().take(MESSAGE_TEXT_SHOWN).collect();
    json!({
        "kind": "message",
        "dir": dir,
        "op": op,
        "len": data.len(),
        "wire": wire,
        "compressed": compressed,
        "text": shown,
        "cut": shown.len() < text.len(),
    })
}

/// The handshake as the page shows it: the request as received, the
/// response as the server writes it (the same pure functions build it),
/// the accept computation step by step and the extension agreed.
pub fn handshake_report(request: &Request, config: &Config, accept: &Accept) -> Value {
    // `Request` keeps no version: the line is shown with HTTP/1.1, the
    // version an upgrade request uses (RFC 6455 §4.1).
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method(), request.target());
    for (name, value) in request.headers() {
        head.push_str(&format!("{name}: {}\r\n", String::from_utf8_lossy(value)));
    }
    let key = request.header("Sec-WebSocket-Key").unwrap_or("").trim();
    let joined = format!("{key}{WEBSOCKET_GUID}");
    let digest = Sha1::digest(joined.as_bytes());
    let accept_value = accept_key(key);
    let negotiated = negotiate_compression(request, config.compression.as_ref(), accept)
        .ok()
        .flatten();
    let mut sent = accept.clone();
    let mut params = Value::Null;
    if let Some(accepted) = &negotiated {
        sent.headers
            .push(("Sec-WebSocket-Extensions".into(), accepted.response.clone()));
        let agreed = accepted.agreed;
        params = json!({
            "server_no_context_takeover": agreed.server_no_context_takeover,
            "client_no_context_takeover": agreed.client_no_context_takeover,
            "server_max_window_bits": agreed.server_max_window_bits,
            "client_max_window_bits": agreed.client_max_window_bits,
        });
    }
    let response = switching_protocols(request, &accept_value, &sent);
    json!({
        "kind": "handshake",
        "request": head,
        "response": String::from_utf8_lossy(&response),
        "key": key,
        "guid": WEBSOCKET_GUID,
        "joined": joined,
        "sha1": hex(&digest),
        "accept": accept_value,
        "offered": request.header("Sec-WebSocket-Extensions"),
        "extension": negotiated.as_ref().map(|a| a.response.clone()),
        "params": params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_reports_show_every_field() {
        let header = FrameHeader::new(Opcode::Text, 5, Some([0x37, 0xfa, 0x21, 0x3d]));
        let report = frame_report(Direction::Incoming, &header, b"Hello", false);
        assert_eq!(report["head"], "81 85 37 fa 21 3d");
        assert_eq!(report["wire"], "7f 9f 4d 51 58");
        assert_eq!(report["plain"], "48 65 6c 6c 6f");
        assert_eq!(report["text"], "Hello");
        assert_eq!(
            (report["mask"].clone(), report["form"].clone()),
            (json!(1), json!(7))
        );
        let header = FrameHeader::new(Opcode::Binary, 65536, None);
        assert_eq!(
            frame_report(Direction::Outgoing, &header, &[], false)["form"],
            64
        );
        let header = FrameHeader::new(Opcode::Close, 5, None);
        let report = frame_report(Direction::Outgoing, &header, b"\x0f\xa0bye", false);
        assert_eq!(
            (report["code"].clone(), report["reason"].clone()),
            (json!(4000), json!("bye"))
        );
    }
}
