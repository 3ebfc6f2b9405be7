//! The server's half of the opening handshake (RFC 6455 §4.2). Sans-I/O.

use crate::error::{Error, Result};
use crate::sansio::handshake::http::{
    Head, has_token, header_count, header_tokens, is_token, parse_version,
};
use crate::sansio::handshake::{accept_key, is_valid_key};
use alloc::{borrow::ToOwned, format, string::String, vec, vec::Vec};

/// An HTTP request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Request {
    /// Parses a request head. Malformed requests are errors with an HTTP
    /// status (400, 431); the WebSocket fields are checked separately by
    /// [`Request::check_upgrade`], so an application may still answer a
    /// plain HTTP request (a page, a 404).
    pub fn parse(head: &[u8], max_headers: usize) -> Result<Request> {
        let head = Head::parse(head, max_headers)?;
        let mut parts = head.start_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedHttp(
                "request line is not METHOD TARGET VERSION",
            ));
        };
        if !is_token(method) {
            return Err(Error::MalformedHttp("invalid method"));
        }
        if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::MalformedHttp("invalid request target"));
        }
        // §4.2.1 item 1: "An HTTP/1.1 or higher GET request".
        match parse_version(version) {
            Some((major, minor)) if (major, minor) >= (1, 1) => {}
            Some(_) => return Err(Error::UnsupportedHttpVersion),
            None => return Err(Error::MalformedHttp("invalid HTTP version")),
        }
        Ok(Request {
            method: method.to_owned(),
            target: target.to_owned(),
            headers: head.headers,
        })
    }

    /// The method, such as `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: path and query.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path: the target up to any `?`.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query: the target after the first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// Every header field, in order, names as sent.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The value of the first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::sansio::handshake::http::header(&self.headers, name)
    }

    /// The subprotocols the client offered, in its order of preference
    /// (`Sec-WebSocket-Protocol`, §4.2.1 item 8).
    ///
    /// Only tokens count as offers. §4.1: the elements "MUST be non-empty
    /// strings with characters in the range U+0021 to U+007E not including
    /// separator characters"; anything else (a tab or a space inside, a
    /// non-ASCII character) could not be echoed as it was sent, so the
    /// client would refuse the answer.
    pub fn protocols(&self) -> impl Iterator<Item = &str> {
        header_tokens(&self.headers, "Sec-WebSocket-Protocol").filter(|p| is_token(p))
    }

    /// Whether this request asks for a WebSocket at all (`Upgrade: websocket`).
    pub fn is_upgrade(&self) -> bool {
        has_token(&self.headers, "Upgrade", "websocket")
    }

    /// Checks the fields of a WebSocket opening handshake (§4.2.1) and
    /// returns the `Sec-WebSocket-Accept` value to answer with.
    pub fn check_upgrade(&self) -> Result<String> {
        // Item 1: "An HTTP/1.1 or higher GET request".
        if self.method != "GET" {
            return Err(Error::MethodNotAllowed);
        }
        // Item 2: "A |Host| header field"; RFC 9112 §3.2: exactly one.
        if header_count(&self.headers, "Host") != 1 {
            return Err(Error::InvalidHeader(
                "there must be exactly one Host header",
            ));
        }
        // Item 3: "An |Upgrade| header field containing the value "websocket"".
        if !self.is_upgrade() {
            return Err(Error::InvalidHeader(
                "Upgrade header must include websocket",
            ));
        }
        // Item 4: "A |Connection| header field that includes the token "Upgrade"".
        if !has_token(&self.headers, "Connection", "upgrade") {
            return Err(Error::InvalidHeader(
                "Connection header must include upgrade",
            ));
        }
        // Item 6 and §4.2.2: a version we do not speak gets 426 and the
        // version we do.
        if header_count(&self.headers, "Sec-WebSocket-Version") != 1
            || self.header("Sec-WebSocket-Version") != Some("13")
        {
            return Err(Error::UnsupportedWebSocketVersion);
        }
        // Item 5: "A |Sec-WebSocket-Key| header field with a base64-encoded
        // value that, when decoded, is 16 bytes in length."
        let key = match (
            header_count(&self.headers, "Sec-WebSocket-Key"),
            self.header("Sec-WebSocket-Key"),
        ) {
            (1, Some(key)) if is_valid_key(key) => key,
            _ => {
                return Err(Error::InvalidHeader(
                    "Sec-WebSocket-Key must be one base64 value of 16 bytes",
                ));
            }
        };
        Ok(accept_key(key))
    }
}

/// What the application answers to an upgrade request it accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    /// The subprotocol chosen from those the client offered; one it did not
    /// offer is not sent (§4.2.2 item 5.4).
    pub protocol: Option<String>,
    /// Extra headers for the 101 response.
    pub headers: Vec<(String, String)>,
}

/// An HTTP response sent instead of an upgrade: a refusal, or a plain page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`, which are always set.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a plain-text body.
    pub fn new(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            )],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A response with an HTML body.
    pub fn html(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".to_owned(),
                "text/html; charset=utf-8".to_owned(),
            )],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Adds a header. Characters that could end the header line are dropped.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((clean(name), clean(value)));
        self
    }

    /// The response a server sends for a handshake error: its status and a
    /// one-line reason; 426 names the version spoken, 405 the method allowed.
    pub fn for_error(error: &Error) -> Response {
        let status = error.http_status().unwrap_or(400);
        let response = Response::new(status, &format!("{error}\n"));
        match status {
            426 => response.with_header("Sec-WebSocket-Version", "13"),
            405 => response.with_header("Allow", "GET"),
            _ => response,
        }
    }

    /// The response on the wire. It always closes the connection.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "HTTP/1.1 {} {}\r\n",
            self.status,
            reason_phrase(self.status)
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{}: {}\r\n", clean(name), clean(value)));
        }
        out.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The 101 response that completes the handshake (§4.2.2 item 5).
pub fn switching_protocols(request: &Request, accept_value: &str, accept: &Accept) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept_value}\r\n"
    );
    if let Some(protocol) = &accept.protocol {
        if request.protocols().any(|offered| offered == protocol) {
            out.push_str(&format!("Sec-WebSocket-Protocol: {}\r\n", clean(protocol)));
        }
    }
    for (name, value) in &accept.headers {
        out.push_str(&format!("{}: {}\r\n", clean(name), clean(value)));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests;
