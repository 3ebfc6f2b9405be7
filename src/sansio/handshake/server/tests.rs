//! The server's handshake checks, one per rule of RFC 6455 §4.2.1.

use super::*;

const GOOD: &str = "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\nSec-WebSocket-Version: 13\r\n\r\n";

fn parse(text: &str) -> Result<Request> {
    Request::parse(text.as_bytes(), 100)
}

fn with(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    GOOD.replace(from, to)
}

#[test]
fn accepts_the_rfc_request() {
    let request = parse(GOOD).unwrap();
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.query(), Some("room=1"));
    assert_eq!(request.header("origin"), Some("http://example.com"));
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert_eq!(
        request.check_upgrade().unwrap(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn answers_with_101_and_the_chosen_protocol() {
    let request = parse(GOOD).unwrap();
    let accept = Accept {
        protocol: Some("chat".into()),
        headers: vec![],
    };
    let response = String::from_utf8(switching_protocols(&request, "abc", &accept)).unwrap();
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(response.contains("Sec-WebSocket-Accept: abc\r\n"));
    assert!(response.contains("Sec-WebSocket-Protocol: chat\r\n"));
    let not_offered = Accept {
        protocol: Some("mqtt".into()),
        headers: vec![],
    };
    let response = String::from_utf8(switching_protocols(&request, "abc", &not_offered)).unwrap();
    assert!(!response.contains("Sec-WebSocket-Protocol"));
}

#[test]
fn only_tokens_are_offered_subprotocols() {
    // Found by the handshake_request fuzz target: "a<TAB>b" was offered,
    // chosen, and sent back cleaned to "ab", which the client refuses.
    let request = parse(&with("chat, superchat", "a\tb, caf\u{e9}, ok")).unwrap();
    assert_eq!(request.protocols().collect::<Vec<_>>(), ["ok"]);
    let accept = Accept {
        protocol: Some("a\tb".into()),
        headers: vec![],
    };
    let response = String::from_utf8(switching_protocols(&request, "abc", &accept)).unwrap();
    assert!(!response.contains("Sec-WebSocket-Protocol"));
}

#[test]
fn accepts_connection_lists_in_any_case() {
    let request = parse(&with(
        "Connection: Upgrade",
        "connection: keep-alive, UPGRADE",
    ))
    .unwrap();
    assert!(request.check_upgrade().is_ok());
    let request = parse(&with("Upgrade: websocket", "Upgrade: WebSocket")).unwrap();
    assert!(request.check_upgrade().is_ok());
}

#[test]
fn each_broken_rule_gets_its_status() {
    let cases: Vec<(String, u16)> = vec![
        (with("GET /chat", "POST /chat"), 405),
        (with("Host: server.example.com\r\n", ""), 400),
        (
            with("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"),
            400,
        ),
        (with("Upgrade: websocket", "Upgrade: h2c"), 400),
        (with("Connection: Upgrade", "Connection: keep-alive"), 400),
        (
            with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""),
            400,
        ),
        (with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZQ=="), 400),
        (
            with("dGhlIHNhbXBsZSBub25jZQ==", "not base64 at all!!!!!!!"),
            400,
        ),
        (
            with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
            426,
        ),
        (with("Sec-WebSocket-Version: 13\r\n", ""), 426),
    ];
    for (text, status) in cases {
        let request = parse(&text).unwrap();
        let err = request.check_upgrade().unwrap_err();
        assert_eq!(err.http_status(), Some(status), "{text}");
    }
}

#[test]
fn malformed_requests_are_400() {
    for text in [
        with("HTTP/1.1\r\nHost", "HTTP/1.0\r\nHost"),
        with("GET /chat?room=1 HTTP/1.1", "GET  /chat HTTP/1.1"),
        with("GET /chat?room=1 HTTP/1.1", "GET /chat HTTP/1.1 extra"),
        with("GET /chat?room=1 HTTP/1.1", "GET /chat HTTX/1.1"),
        with("GET /chat?room=1 HTTP/1.1", "G@T /chat HTTP/1.1"),
    ] {
        let err = parse(&text).unwrap_err();
        assert_eq!(err.http_status(), Some(400), "{text}");
    }
}

#[test]
fn error_responses_say_why_and_what_to_do() {
    let response =
        String::from_utf8(Response::for_error(&Error::UnsupportedWebSocketVersion).to_bytes())
            .unwrap();
    assert!(response.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
    assert!(response.contains("Sec-WebSocket-Version: 13\r\n"));
    assert!(response.ends_with("Sec-WebSocket-Version must be 13\n"));
    let response =
        String::from_utf8(Response::for_error(&Error::MethodNotAllowed).to_bytes()).unwrap();
    assert!(response.contains("Allow: GET\r\n"));
    let response =
        String::from_utf8(Response::for_error(&Error::HeadersTooLarge).to_bytes()).unwrap();
    assert!(response.starts_with("HTTP/1.1 431 "));
}

#[test]
fn response_headers_cannot_be_injected() {
    let response = Response::new(404, "no").with_header("X-A", "b\r\nSet-Cookie: evil");
    let text = String::from_utf8(response.to_bytes()).unwrap();
    assert!(text.contains("X-A: bSet-Cookie: evil\r\n"));
}
