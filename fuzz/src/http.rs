//! HTTP helpers shared by the handshake and server targets.

use plainws::sansio::handshake::http::{Head, HeadReader};

use super::input::debug;

/// Feeds `pieces` to a head reader: the head's length, or the error.
pub(super) fn read_head(max_bytes: usize, pieces: &[&[u8]]) -> Result<Option<usize>, String> {
    let mut reader = HeadReader::new(max_bytes);
    let mut found = None;
    for piece in pieces {
        found = reader.push(piece).map_err(|e| debug(&e))?;
        if let Some(len) = found {
            assert_eq!(reader.head().map(<[u8]>::len), Some(len));
        }
    }
    Ok(found)
}

/// `bytes` is exactly one HTTP/1.1 response with `status`: a head, then a
/// body as long as its `Content-Length`, or no body at all when it answers
/// a HEAD request (RFC 9110 §9.3.2: the same header fields, no content).
pub(super) fn check_http_answer(bytes: &[u8], status: u16, head_request: bool) {
    let len = match read_head(bytes.len(), &[bytes]) {
        Ok(Some(len)) => len,
        other => panic!("no response head: {other:?} in {bytes:?}"),
    };
    let head = Head::parse(&bytes[..len], 100).expect("our response parses");
    let expected_start = format!("HTTP/1.1 {status} ");
    assert!(head.start_line.starts_with(&expected_start), "{head:?}");
    let body_len: usize = head
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .expect("Content-Length");
    let body_len = if head_request { 0 } else { body_len };
    assert_eq!(bytes.len(), len + body_len, "bytes after the body");
}
