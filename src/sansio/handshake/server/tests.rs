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
    let accept = Accept::default().protocol("chat");
    let response = String::from_utf8(switching_protocols(&request, "abc", &accept)).unwrap();
    assert!(response.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(response.contains("Sec-WebSocket-Accept: abc\r\n"));
    assert!(response.contains("Sec-WebSocket-Protocol: chat\r\n"));
    let not_offered = Accept::default().protocol("mqtt");
    let response = String::from_utf8(switching_protocols(&request, "abc", &not_offered)).unwrap();
    assert!(!response.contains("Sec-WebSocket-Protocol"));
}

#[test]
fn accept_headers_go_into_the_101_in_order() {
    let request = parse(GOOD).unwrap();
    let accept = Accept::default()
        .header("X-One", "1")
        .header(String::from("X-Two"), String::from("2"));
    assert_eq!(accept.protocol, None);
    let response = String::from_utf8(switching_protocols(&request, "abc", &accept)).unwrap();
    assert!(
        response.ends_with("X-One: 1\r\nX-Two: 2\r\n\r\n"),
        "{response}"
    );
}

#[test]
fn only_tokens_are_offered_subprotocols() {
    // Found by the handshake_request fuzz target: "a<TAB>b" was offered,
    // chosen, and sent back cleaned to "ab", which the client refuses.
    let request = parse(&with("chat, superchat", "a\tb, caf\u{e9}, ok")).unwrap();
    assert_eq!(request.protocols().collect::<Vec<_>>(), ["ok"]);
    let accept = Accept::default().protocol("a\tb");
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

fn bytes(request: &[u8]) -> Result<Request> {
    Request::parse(request, 100)
}

#[test]
fn header_values_keep_obs_text_as_bytes() {
    // RFC 9110 §5.5: obs-text (0x80–0xFF) is allowed in a field value and
    // is opaque data: kept byte for byte, never replaced.
    let mut request = GOOD.as_bytes().to_vec();
    let at = GOOD.find("\r\n\r\n").unwrap() + 2;
    request.splice(
        at..at,
        b"X-Latin1: na\xefve \xff\r\nX-Utf8: caf\xc3\xa9\r\n"
            .iter()
            .copied(),
    );
    let request = bytes(&request).unwrap();
    assert_eq!(
        request.header_bytes("x-latin1"),
        Some(&b"na\xefve \xff"[..])
    );
    assert_eq!(request.header("X-Latin1"), None, "not UTF-8");
    assert_eq!(request.header("x-utf8"), Some("caf\u{e9}"));
    assert_eq!(request.header_bytes("x-utf8"), Some("caf\u{e9}".as_bytes()));
    let (name, value) = &request.headers()[7];
    assert_eq!(
        (name.as_str(), value.as_slice()),
        ("X-Latin1", &b"na\xefve \xff"[..])
    );
    // A handshake with such a header is still accepted.
    assert_eq!(
        request.check_upgrade().unwrap(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn obs_text_outside_a_value_and_control_bytes_are_refused() {
    for bad in [
        &b"GET /chat HTTP/1.1\r\nX-\xe9: a\r\n\r\n"[..],
        b"GET /ch\xe9t HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /chat HTTP/1.1\r\nX: a\0b\r\n\r\n",
        b"GET /chat HTTP/1.1\r\nX: a\rb\r\n\r\n",
        b"GET /chat HTTP/1.1\r\nX: \xff\x7f\r\n\r\n",
        b"GET /chat HTTP/1.1\r\nX\r\n\r\n",
        b"GET /chat HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
    ] {
        let err = bytes(bad).unwrap_err();
        assert_eq!(err.http_status(), Some(400), "{bad:?}");
    }
}

#[test]
fn accepts_the_absolute_form_of_the_target() {
    // RFC 9112 §3.2.2: "A server MUST accept the absolute-form in requests".
    let request = parse(&with(
        "GET /chat?room=1 ",
        "GET http://server.example.com:8080/chat?room=1 ",
    ))
    .unwrap();
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.raw_path(), "/chat");
    assert_eq!(request.query(), Some("room=1"));
    assert_eq!(request.host(), Some("server.example.com:8080"));
    assert_eq!(
        request.target(),
        "http://server.example.com:8080/chat?room=1"
    );
    assert!(request.check_upgrade().is_ok());
    for (target, path, query) in [
        ("ws://h/echo", "/echo", None),
        ("HTTPS://h", "/", None),
        ("http://h?x=1", "/", Some("x=1")),
        ("http://[::1]:80/a%20b", "/a b", None),
    ] {
        let request = parse(&with("/chat?room=1", target)).unwrap();
        assert_eq!((request.path(), request.query()), (path, query), "{target}");
    }
    // Origin-form: the host is the Host header's.
    assert_eq!(parse(GOOD).unwrap().host(), Some("server.example.com"));
}

#[test]
fn targets_that_are_neither_a_path_nor_an_absolute_url_are_400() {
    for target in [
        "chat",
        "*",
        "server.example.com:443",
        "http:/chat",
        "http://",
        "http:///chat",
        "http://:80/chat",
        "http://user@h/chat",
        "1http://h/chat",
        "ht_tp://h/chat",
        "://h/chat",
    ] {
        let err = parse(&with("/chat?room=1", target)).unwrap_err();
        assert_eq!(err.http_status(), Some(400), "{target}");
    }
    // `*` only with OPTIONS (RFC 9112 §3.2.4).
    let request = parse(&with("GET /chat?room=1", "OPTIONS *")).unwrap();
    assert_eq!(request.path(), "*");
    assert_eq!(
        request.check_upgrade().unwrap_err().http_status(),
        Some(405)
    );
}

#[test]
fn the_path_is_percent_decoded_and_the_query_is_not() {
    let request = parse(&with("/chat?room=1", "/ech%6F?q=%41+b")).unwrap();
    assert_eq!(request.path(), "/echo");
    assert_eq!(request.raw_path(), "/ech%6F");
    assert_eq!(request.query(), Some("q=%41+b"));
    for (raw, decoded) in [
        ("/%2fa%2F", "//a/"),
        ("/caf%C3%A9", "/caf\u{e9}"),
        ("/a%3Fb", "/a?b"),
        ("/%25", "/%"),
        // Dot segments are kept: paths are compared, never mapped to files.
        ("/x/../echo", "/x/../echo"),
        ("/%2E%2E/echo", "/../echo"),
    ] {
        let request = parse(&with("/chat?room=1", raw)).unwrap();
        assert_eq!(request.path(), decoded, "{raw}");
        assert_eq!(request.raw_path(), raw);
    }
}

#[test]
fn bad_percent_escapes_nul_and_non_utf8_paths_are_400() {
    for raw in [
        "/a%00b",
        "/%0A",
        "/%0d%0a",
        "/%7F",
        "/%1",
        "/%",
        "/%G1",
        "/%1G",
        "/%%41",
        "/%FF",
        "/%C3",
        "/%C3%28",
        "/%ED%A0%80",
    ] {
        let err = parse(&with("/chat?room=1", raw)).unwrap_err();
        assert!(matches!(err, Error::MalformedHttp(_)), "{raw}: {err:?}");
        assert_eq!(err.http_status(), Some(400), "{raw}");
    }
}

#[test]
fn one_empty_line_before_the_request_line_is_ignored() {
    // RFC 9112 §2.2: a server "SHOULD ignore at least one empty line
    // (CRLF) received prior to the request-line".
    for prefix in ["\r\n", "\n"] {
        let request = parse(&format!("{prefix}{GOOD}")).unwrap();
        assert_eq!(request.path(), "/chat");
        assert!(request.check_upgrade().is_ok());
    }
    // Two are not a request line.
    for prefix in ["\r\n\r\n", "\n\n", "\r\n\n", " \r\n"] {
        let err = parse(&format!("{prefix}{GOOD}")).unwrap_err();
        assert_eq!(err.http_status(), Some(400), "{prefix:?}");
    }
}

#[test]
fn an_upgrade_with_a_body_or_ambiguous_framing_is_400() {
    let headers = |extra: &str| {
        with(
            "Sec-WebSocket-Version: 13\r\n",
            &format!("Sec-WebSocket-Version: 13\r\n{extra}"),
        )
    };
    for (extra, why) in [
        ("Content-Length: 5\r\n", "Content-Length is not 0"),
        (
            "Content-Length: 18446744073709551616\r\n",
            "Content-Length is not 0",
        ),
        ("Content-Length: 0\r\nContent-Length: 5\r\n", "conflicting"),
        ("Content-Length: 0, 1\r\n", "conflicting"),
        ("Content-Length: -1\r\n", "invalid Content-Length"),
        ("Content-Length: \r\n", "invalid Content-Length"),
        ("Content-Length: 0x0\r\n", "invalid Content-Length"),
        ("Content-Length: +0\r\n", "invalid Content-Length"),
        ("Transfer-Encoding: chunked\r\n", "Transfer-Encoding"),
        (
            "Transfer-Encoding: identity\r\nContent-Length: 0\r\n",
            "Transfer-Encoding",
        ),
        ("transfer-encoding: \r\n", "Transfer-Encoding"),
    ] {
        let err = parse(&headers(extra)).unwrap().check_upgrade().unwrap_err();
        assert!(matches!(err, Error::InvalidHeader(_)), "{extra}: {err:?}");
        assert_eq!(err.http_status(), Some(400), "{extra}");
        assert!(err.to_string().contains(why), "{extra}: {err}");
    }
    // No body at all: fine.
    for extra in [
        "Content-Length: 0\r\n",
        "Content-Length: 0\r\nContent-Length: 0\r\n",
        "Content-Length: 0, 00\r\n",
    ] {
        assert!(
            parse(&headers(extra)).unwrap().check_upgrade().is_ok(),
            "{extra}"
        );
    }
}

#[test]
fn several_origin_headers_are_400() {
    let two = with(
        "Origin: http://example.com\r\n",
        "Origin: http://example.com\r\nOrigin: http://evil.example\r\n",
    );
    let err = parse(&two).unwrap().check_upgrade().unwrap_err();
    assert_eq!(err.http_status(), Some(400));
    assert!(err.to_string().contains("more than one Origin"), "{err}");
    // One, or none, is fine.
    assert!(parse(GOOD).unwrap().check_upgrade().is_ok());
    let none = with("Origin: http://example.com\r\n", "");
    assert!(parse(&none).unwrap().check_upgrade().is_ok());
}

#[test]
fn a_response_without_body_keeps_its_content_length() {
    let page = Response::html(200, "<p>hi</p>");
    let full = String::from_utf8(page.clone().to_bytes()).unwrap();
    let head = String::from_utf8(page.without_body().to_bytes()).unwrap();
    assert!(full.ends_with("\r\n\r\n<p>hi</p>"));
    assert!(head.contains("Content-Length: 9\r\n"));
    assert!(head.ends_with("\r\n\r\n"));
    assert_eq!(head, full.strip_suffix("<p>hi</p>").unwrap());
}

#[test]
fn a_response_body_may_be_any_bytes() {
    let response = Response::new(200, "text")
        .body(vec![0u8, 0xFF, b'\n'])
        .with_header("Content-Type", "application/octet-stream");
    let bytes = response.to_bytes();
    assert!(bytes.ends_with(b"Content-Length: 3\r\nConnection: close\r\n\r\n\x00\xFF\n"));
    assert_eq!(response.status, 200);
}
