//! The server's half of the opening handshake (RFC 6455 §4.2). Sans-I/O.

use crate::error::{Error, Result};
use crate::sansio::deflate::negotiate::{self, DeflateConfig};
use crate::sansio::handshake::http::{
    Field, Head, extension_values, has_token, header_bytes, header_count, header_tokens,
    header_values, is_token, is_token_bytes, parse_version, trim_ows,
};
use crate::sansio::handshake::{accept_key, is_valid_key};
use alloc::{borrow::ToOwned, format, string::String, vec, vec::Vec};

/// An HTTP request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    /// The authority of an absolute-form target.
    authority: Option<String>,
    /// The path as sent (empty for an absolute-form target without one).
    raw_path: String,
    /// The path after percent-decoding.
    path: String,
    query: Option<String>,
    headers: Vec<Field>,
}

/// `bytes` without the one empty line a server ignores before a request
/// line. RFC 9112 §2.2: "a server that is expecting to receive and parse
/// a request-line SHOULD ignore at least one empty line (CRLF) received
/// prior to the request-line." One, not any number: the head reader stops
/// at the first empty line after a line feed.
pub(crate) fn skip_one_empty_line(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_prefix(b"\r\n")
        .or_else(|| bytes.strip_prefix(b"\n"))
        .unwrap_or(bytes)
}

impl Request {
    /// Parses a request head. Malformed requests are errors with an HTTP
    /// status (400, 431); the WebSocket fields are checked separately by
    /// [`Request::check_upgrade`], so an application may still answer a
    /// plain HTTP request (a page, a 404).
    ///
    /// Beyond the head's own rules ([`Head::parse`]):
    /// - one empty line before the request line is ignored (RFC 9112
    ///   §2.2); a second one is a malformed request;
    /// - the request line is `METHOD SP request-target SP HTTP-version`,
    ///   with a token for the method and HTTP/1.1 or later;
    /// - the target is origin-form (`/path?query`), absolute-form
    ///   (`http://host/path?query`, which RFC 9112 §3.2.2 says a server
    ///   MUST accept), or `*` for `OPTIONS` (asterisk-form); anything else
    ///   (the authority-form of CONNECT included) is 400;
    /// - the path must percent-decode to UTF-8 without control characters
    ///   (see [`Request::path`]), or the request is 400.
    pub fn parse(head: &[u8], max_headers: usize) -> Result<Request> {
        let head = Head::parse(skip_one_empty_line(head), max_headers)?;
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
        let (authority, path_and_query) = split_target(method, target)?;
        let (raw_path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query.to_owned())),
            None => (path_and_query, None),
        };
        let path = if raw_path.is_empty() {
            // RFC 9110 §4.2.3: an empty path is equivalent to "/".
            String::from("/")
        } else {
            percent_decode_path(raw_path)?
        };
        Ok(Request {
            method: method.to_owned(),
            target: target.to_owned(),
            authority: authority.map(str::to_owned),
            raw_path: raw_path.to_owned(),
            path,
            query,
            headers: head.headers,
        })
    }

    /// The method, such as `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as sent: `/path?query`, or a whole URL in the
    /// absolute form (`http://host/path?query`).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The path, percent-decoded: route on this.
    ///
    /// - It is the target up to any `?`, and for an absolute-form target
    ///   (`GET http://host/echo HTTP/1.1`, RFC 9112 §3.2.2) the part after
    ///   the authority: `/echo`; an empty one is `/` (RFC 9110 §4.2.3).
    /// - Every `%XX` is decoded (RFC 3986 §2.1), `%2F` included, so
    ///   `/ech%6F` is `/echo` and `/a%2Fb` is `/a/b`. A `%` not followed
    ///   by two hex digits, a result that is not UTF-8, and a result with
    ///   a control character (`%00`, `%0A`, `%7F`, ...) make the request
    ///   malformed (400) before the application sees it.
    /// - Nothing else is normalized: dot segments are kept, so
    ///   `/x/../echo` and `/%2E%2E/echo` are not `/echo`. plainws serves
    ///   no files and only ever compares paths, so `..` has no meaning
    ///   here; an application that maps paths to files must refuse `..`
    ///   segments itself.
    ///
    /// [`Request::raw_path`] gives the path as sent.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The path as sent, before percent-decoding (empty for an
    /// absolute-form target without a path).
    pub fn raw_path(&self) -> &str {
        &self.raw_path
    }

    /// The query as sent (not percent-decoded): the target after the
    /// first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The host the request is for: the authority of an absolute-form
    /// target, which RFC 9112 §3.2.2 says takes the place of `Host`, or
    /// else the `Host` header, if it is UTF-8.
    pub fn host(&self) -> Option<&str> {
        self.authority.as_deref().or_else(|| self.header("Host"))
    }

    /// Every header field, in order: names as sent, values as bytes with
    /// surrounding whitespace removed. Values may hold obs-text (bytes
    /// 0x80–0xFF, RFC 9110 §5.5), kept exactly as sent.
    pub fn headers(&self) -> &[Field] {
        &self.headers
    }

    /// The value of the first header named `name` (any case), when it is
    /// UTF-8. `None` when there is no such header or its value is not
    /// UTF-8; [`Request::header_bytes`] gives any value.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::sansio::handshake::http::header(&self.headers, name)
    }

    /// The value of the first header named `name` (any case), as bytes.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        header_bytes(&self.headers, name)
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
        header_tokens(&self.headers, "Sec-WebSocket-Protocol")
            .filter(|p| is_token_bytes(p))
            .filter_map(|p| core::str::from_utf8(p).ok())
    }

    /// Whether this request asks for a WebSocket at all (`Upgrade: websocket`).
    pub fn is_upgrade(&self) -> bool {
        has_token(&self.headers, "Upgrade", "websocket")
    }

    /// Checks the fields of a WebSocket opening handshake (§4.2.1) and
    /// returns the `Sec-WebSocket-Accept` value to answer with.
    ///
    /// Besides §4.2.1 it refuses (400) a request that carries a body or
    /// ambiguous framing (`Transfer-Encoding`, a `Content-Length` other
    /// than 0, or two different ones), and a request with more than one
    /// `Origin` header.
    pub fn check_upgrade(&self) -> Result<String> {
        // Item 1: "An HTTP/1.1 or higher GET request".
        if self.method != "GET" {
            return Err(Error::MethodNotAllowed);
        }
        check_no_body(&self.headers)?;
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
        // Item 7, "Optionally, an |Origin| header field", and RFC 6454
        // §7.3: "The user agent MUST NOT include more than one Origin
        // header field in any HTTP request." Two of them are refused
        // rather than guessing which one an origin check should trust.
        if header_count(&self.headers, "Origin") > 1 {
            return Err(Error::InvalidHeader("more than one Origin header"));
        }
        Ok(accept_key(key))
    }
}

/// Splits a request target (RFC 9112 §3.2) into the authority of the
/// absolute form, if any, and the path and query.
fn split_target<'a>(method: &str, target: &'a str) -> Result<(Option<&'a str>, &'a str)> {
    // §3.2.1 origin-form = absolute-path [ "?" query ]
    if target.starts_with('/') {
        return Ok((None, target));
    }
    // §3.2.4 asterisk-form, "only used for a server-wide OPTIONS request".
    if target == "*" && method == "OPTIONS" {
        return Ok((None, target));
    }
    // §3.2.2 absolute-form = absolute-URI; "A server MUST accept the
    // absolute-form in requests". Only the hierarchical form with an
    // authority names a host and a path: scheme "://" authority path.
    let (scheme, rest) = target.split_once("://").ok_or(Error::MalformedHttp(
        "request target is neither a path nor an absolute URL",
    ))?;
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    let valid_scheme = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !valid_scheme {
        return Err(Error::MalformedHttp("invalid scheme in the request target"));
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_and_query) = rest.split_at(end);
    // RFC 9110 §4.2.1: a recipient "MUST reject" an http URI with an empty
    // host as invalid; §4.2.4: userinfo SHOULD be treated as an error.
    if authority.is_empty() || authority.starts_with(':') {
        return Err(Error::MalformedHttp("request target has no host"));
    }
    if authority.contains('@') {
        return Err(Error::MalformedHttp("request target has userinfo"));
    }
    Ok((Some(authority), path_and_query))
}

/// Decodes every `%XX` of a path (RFC 3986 §2.1). Refuses a `%` without two
/// hex digits after it, a result that is not UTF-8, and control characters
/// in the result (`%00` first of all): a path holds none, and a decoded
/// one must not smuggle a NUL or a line break into what the application
/// logs or compares.
fn percent_decode_path(raw: &str) -> Result<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        if b == b'%' {
            let high = bytes.get(at + 1).and_then(|&h| hex_value(h));
            let low = bytes.get(at + 2).and_then(|&l| hex_value(l));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(Error::MalformedHttp(
                    "a % in the path is not followed by two hex digits",
                ));
            };
            out.push(high << 4 | low);
            at += 3;
        } else {
            out.push(b);
            at += 1;
        }
    }
    if out.iter().any(|&b| b < 0x20 || b == 0x7F) {
        return Err(Error::MalformedHttp(
            "the decoded path holds %00 or another control character",
        ));
    }
    String::from_utf8(out).map_err(|_| Error::MalformedHttp("the decoded path is not UTF-8"))
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// An upgrade request has no body: after the head come WebSocket frames.
/// A body, or framing headers that disagree, would leave the two ends
/// reading different bytes as the first frame (request smuggling).
///
/// RFC 9112 §6.1: "A server MAY reject a request that contains a message
/// body but not a Content-Length"; §6.3: a Transfer-Encoding with a
/// Content-Length "ought to be handled as an error", and a Content-Length
/// that is invalid (two different values) is "an unrecoverable error" the
/// server "MUST respond to with a 400". RFC 9110 §8.6 lets a recipient
/// accept the same value repeated (`0, 0`).
fn check_no_body(headers: &[Field]) -> Result<()> {
    if header_count(headers, "Transfer-Encoding") > 0 {
        return Err(Error::InvalidHeader(
            "an upgrade request may not carry a body (Transfer-Encoding)",
        ));
    }
    let mut length: Option<&[u8]> = None;
    for element in header_values(headers, "Content-Length")
        .flat_map(|v| v.split(|&b| b == b','))
        .map(trim_ows)
    {
        // Content-Length = 1*DIGIT
        if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidHeader("invalid Content-Length"));
        }
        // Compared without leading zeros: no overflow, whatever the length.
        let digits = &element[element.iter().take_while(|&&d| d == b'0').count()..];
        match length {
            None => length = Some(digits),
            Some(seen) if seen == digits => {}
            Some(_) => {
                return Err(Error::InvalidHeader("conflicting Content-Length headers"));
            }
        }
    }
    if length.is_some_and(|digits| !digits.is_empty()) {
        return Err(Error::InvalidHeader(
            "an upgrade request may not carry a body (Content-Length is not 0)",
        ));
    }
    Ok(())
}

/// What the application answers to an upgrade request it accepts.
///
/// Build it from [`Accept::default`] (no subprotocol, no extra header)
/// with the setters, or assign the public fields:
///
/// ```
/// use plainws::Accept;
///
/// let accept = Accept::default().protocol("chat").header("X-Server", "plainws");
/// assert_eq!(accept.protocol.as_deref(), Some("chat"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Accept {
    /// The subprotocol chosen from those the client offered; one it did not
    /// offer is not sent (§4.2.2 item 5.4).
    pub protocol: Option<String>,
    /// Extra headers for the 101 response.
    pub headers: Vec<(String, String)>,
    /// Decline permessage-deflate for this connection even when
    /// [`Config::compression`](field@crate::Config::compression) is on (some old browsers' implementations are
    /// broken). Default: false.
    pub decline_compression: bool,
}

impl Accept {
    /// Sets [`decline_compression`](field@Accept::decline_compression):
    /// this connection goes without permessage-deflate (default: false).
    #[must_use]
    pub fn decline_compression(mut self, decline: bool) -> Accept {
        self.decline_compression = decline;
        self
    }

    /// Sets [`protocol`](field@Accept::protocol) to `protocol` (default:
    /// none).
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> Accept {
        self.protocol = Some(protocol.into());
        self
    }

    /// Adds a header to [`headers`](field@Accept::headers) (default: none).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Accept {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An HTTP response sent instead of an upgrade: a refusal, or a plain page.
///
/// Build it with [`Response::new`] or [`Response::html`], then
/// [`with_header`](Response::with_header), [`body`](method@Response::body) or
/// [`without_body`](Response::without_body); the fields are public too.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers besides `Content-Length` and `Connection`, which are always set.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Send the head only: `Content-Length` still gives the body's length
    /// but the body is not sent. For the answer to a `HEAD` request (RFC
    /// 9110 §9.3.2: "the server MUST NOT send content in the response",
    /// and SHOULD send the header fields it would send for GET).
    /// [`Server`](crate::Server) sets it on every response to a HEAD
    /// request; with [`accept_with`](crate::accept_with), set it yourself
    /// ([`Response::without_body`]). Default: false.
    pub omit_body: bool,
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
            omit_body: false,
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
            omit_body: false,
        }
    }

    /// Adds a header. Characters that could end the header line are dropped.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((clean(name), clean(value)));
        self
    }

    /// Sets [`body`](field@Response::body), bytes of any kind (the
    /// constructors set a text body). The headers stay as they are.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// The same response as the answer to a `HEAD` request: the same
    /// head, with the body's `Content-Length`, and no body (see
    /// [`Response::omit_body`]).
    pub fn without_body(mut self) -> Response {
        self.omit_body = true;
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

    /// The response on the wire. It always closes the connection. With
    /// [`Response::omit_body`], the head alone.
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
        if !self.omit_body {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }
}

/// The server's side of permessage-deflate (RFC 7692 §5, §7.1): with
/// compression configured and not declined for this connection, the
/// first acceptable offer among the request's `Sec-WebSocket-Extensions`
/// values, and the response header's value. `Ok(None)` declines (the
/// response then has no such header); a header that breaks the grammar
/// is a 400.
pub fn negotiate_compression(
    request: &Request,
    config: Option<&DeflateConfig>,
    accept: &Accept,
) -> Result<Option<negotiate::Accepted>> {
    let Some(config) = config.filter(|_| !accept.decline_compression) else {
        return Ok(None);
    };
    let values = extension_values(request.headers())?;
    negotiate::accept_offers(config, values.iter().copied())
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
