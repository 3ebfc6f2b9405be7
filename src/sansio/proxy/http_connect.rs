//! A tunnel through an HTTP proxy: `CONNECT` (RFC 9110 §9.3.6). Sans-I/O.
//!
//! The client sends [`connect_request`]; [`ConnectResponse`] reads the
//! proxy's answer as it arrives, however it is split, with the handshake's
//! own head scanner ([`HeadReader`]: bounded, each byte looked at once).
//! "Any 2xx (Successful) response indicates that the sender (and all
//! inbound proxies) will switch to tunnel mode immediately after the
//! response header section": the bytes after the empty line are the
//! target's, handed over in [`Established::tunnel_bytes`]. Any other
//! final status is a refusal, reported with its status, reason and, for
//! a 407, the authentication schemes the proxy asked for.

use alloc::{borrow::ToOwned, format, string::String, vec::Vec};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::{Credentials, Established, Target};
use crate::error::{Error, Result};
use crate::sansio::handshake::http::{Head, HeadReader, header_values, is_token_bytes};

/// The longest reason phrase kept in [`Error::ProxyRefused`].
const MAX_REASON_CHARS: usize = 128;

/// The most interim (1xx) heads accepted before the final one: each one
/// moves the bytes after it into a new head reader, so their number is
/// bounded to keep the work linear.
const MAX_INTERIM: usize = 8;

/// The `CONNECT` request for `target`, with `Basic` credentials when given.
///
/// RFC 9110 §9.3.6: "A client sending a CONNECT request MUST send the
/// authority form of request-target" (`host:port`, RFC 9112 §3.2.3);
/// `Host` carries the same authority (RFC 9112 §3.2). The credentials go
/// in `Proxy-Authorization` (RFC 9110 §11.7.2) as `Basic` and the base64
/// of `user:password` in UTF-8 (RFC 7617 §2, §2.1).
///
/// Refused, before anything is sent, as [`Error::InvalidProxyUrl`]: a
/// user name with a colon ("a user-id containing a colon character is
/// invalid", RFC 7617 §2) and credentials with control characters.
///
/// ```
/// use plainws::sansio::proxy::{Credentials, Target, http_connect::connect_request};
///
/// let target = Target::from_host("echo.example", 443);
/// let request = connect_request(&target, Some(&Credentials::new("Aladdin", "open sesame")))?;
/// assert_eq!(
///     request,
///     b"CONNECT echo.example:443 HTTP/1.1\r\nHost: echo.example:443\r\n\
///       Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
/// );
/// # Ok::<(), plainws::Error>(())
/// ```
pub fn connect_request(target: &Target, credentials: Option<&Credentials>) -> Result<Vec<u8>> {
    let authority = target.authority();
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(credentials) = credentials {
        if credentials.user().contains(':') {
            return Err(Error::InvalidProxyUrl(
                "a Basic user name may not contain ':' (RFC 7617 §2)".to_owned(),
            ));
        }
        let control = |s: &str| s.chars().any(char::is_control);
        if control(credentials.user()) || control(credentials.password()) {
            return Err(Error::InvalidProxyUrl(
                "proxy credentials may not hold control characters (RFC 7617 §2)".to_owned(),
            ));
        }
        let pair = format!("{}:{}", credentials.user(), credentials.password());
        request.push_str("Proxy-Authorization: Basic ");
        request.push_str(&STANDARD.encode(pair));
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    Ok(request.into_bytes())
}

/// Reads the proxy's answer to `CONNECT`.
///
/// Feed it what the proxy sends with [`receive`](ConnectResponse::receive)
/// until it returns the tunnel or an error. The whole answer (interim 1xx
/// heads included) may take at most `max_bytes`, and each head at most
/// `max_headers` fields.
#[derive(Debug)]
pub struct ConnectResponse {
    reader: HeadReader,
    /// What is left of `max_bytes` for the heads still to come.
    budget: usize,
    max_headers: usize,
    sent_credentials: bool,
    /// Interim (1xx) heads seen so far.
    interim: usize,
    done: bool,
}

impl ConnectResponse {
    /// A reader for the answer to a request sent with credentials
    /// (`sent_credentials`) or without.
    pub fn new(max_bytes: usize, max_headers: usize, sent_credentials: bool) -> ConnectResponse {
        ConnectResponse {
            reader: HeadReader::new(max_bytes),
            budget: max_bytes,
            max_headers,
            sent_credentials,
            interim: 0,
            done: false,
        }
    }

    /// How many bytes a driver may read now without reading past what
    /// the limit allows (at least 1).
    pub fn room(&self) -> usize {
        self.reader.room()
    }

    /// Takes the next bytes from the proxy. `Ok(None)`: more are needed.
    /// `Ok(Some(_))`: a 2xx arrived and the tunnel is open. An error is
    /// final:
    ///
    /// - [`Error::ProxyRefused`]: a final status other than 2xx;
    /// - [`Error::ProxyAuthFailed`]: a 407 (or a 401, as tinyproxy
    ///   answers wrong credentials) although credentials were sent;
    /// - [`Error::InvalidProxyResponse`]: not an HTTP/1.x response, a
    ///   malformed head, more than `max_bytes` or `max_headers`, or bytes
    ///   fed after the end.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Established>> {
        if self.done {
            return Err(Error::InvalidProxyResponse(
                "bytes fed after the end of the CONNECT response",
            ));
        }
        let mut found = self.reader.push(bytes).map_err(|e| self.fail(e))?;
        loop {
            let Some(len) = found else {
                return Ok(None);
            };
            let head = self.reader.head().unwrap_or_default();
            let parsed = Head::parse(head, self.max_headers).map_err(|e| self.fail(e))?;
            let (status, reason) = status_line(&parsed.start_line).map_err(|e| self.fail(e))?;
            if (100..200).contains(&status) {
                // RFC 9110 §15.2: interim responses precede the final one;
                // a 101 makes no sense for CONNECT.
                self.interim += 1;
                if status == 101 {
                    return Err(self.fail(Error::InvalidProxyResponse(
                        "101 Switching Protocols in answer to CONNECT",
                    )));
                }
                if self.interim > MAX_INTERIM {
                    return Err(self.fail(Error::InvalidProxyResponse(
                        "more than 8 interim (1xx) responses to CONNECT",
                    )));
                }
                self.budget = self.budget.saturating_sub(len);
                if self.budget == 0 {
                    return Err(self.fail(Error::HeadersTooLarge));
                }
                let rest = self.reader.rest().to_vec();
                self.reader = HeadReader::new(self.budget);
                found = self.reader.push(&rest).map_err(|e| self.fail(e))?;
                continue;
            }
            self.done = true;
            if (200..300).contains(&status) {
                // RFC 9110 §9.3.6: "A client MUST ignore any Content-Length
                // or Transfer-Encoding header fields received in a
                // successful response to CONNECT."
                return Ok(Some(Established {
                    tunnel_bytes: self.reader.rest().to_vec(),
                }));
            }
            let authenticate = challenge_schemes(&parsed);
            // A 407 to credentials is their refusal (RFC 9110 §15.5.8);
            // so is a 401, which some proxies (tinyproxy 1.11) send then.
            if (status == 407 || status == 401) && self.sent_credentials {
                return Err(Error::ProxyAuthFailed(format!(
                    "the HTTP proxy answered {status} {reason} to the credentials sent"
                )));
            }
            return Err(Error::ProxyRefused {
                status,
                reason,
                authenticate,
            });
        }
    }

    /// Marks the reader finished and turns a head error into the proxy's.
    fn fail(&mut self, e: Error) -> Error {
        self.done = true;
        match e {
            Error::HeadersTooLarge => Error::InvalidProxyResponse(
                "the CONNECT response head is over the size limit (Config::max_handshake_bytes)",
            ),
            Error::TooManyHeaders => Error::InvalidProxyResponse(
                "the CONNECT response has more header fields than Config::max_headers",
            ),
            Error::MalformedHttp(why) => Error::InvalidProxyResponse(why),
            other => other,
        }
    }
}

/// `HTTP/1.x SSS reason` (RFC 9112 §4): the status code and the reason
/// phrase, cut to [`MAX_REASON_CHARS`].
fn status_line(line: &str) -> Result<(u16, String)> {
    let mut parts = line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !matches!(version, "HTTP/1.0" | "HTTP/1.1") {
        return Err(Error::InvalidProxyResponse(
            "the proxy's answer does not start with HTTP/1.0 or HTTP/1.1",
        ));
    }
    let code = parts.next().unwrap_or_default();
    // RFC 9112 §4: status-code = 3DIGIT.
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidProxyResponse(
            "the status code is not three digits",
        ));
    }
    let status = code.parse::<u16>().unwrap_or_default();
    if status < 100 {
        return Err(Error::InvalidProxyResponse("status code below 100"));
    }
    let reason: String = parts
        .next()
        .unwrap_or_default()
        .chars()
        .take(MAX_REASON_CHARS)
        .collect();
    Ok((status, reason))
}

/// The auth-schemes of every `Proxy-Authenticate` challenge (RFC 9110
/// §11.6.1, §11.7.1): `challenge = auth-scheme [ 1*SP ( token68 /
/// #auth-param ) ]`, several challenges to a field, comma-separated.
/// An element that starts a challenge is a token not followed by `=`
/// (that would be an auth-param); commas inside quoted strings do not
/// split.
pub fn challenge_schemes(head: &Head) -> Vec<String> {
    let mut schemes = Vec::new();
    for value in header_values(&head.headers, "Proxy-Authenticate") {
        for element in split_outside_quotes(value) {
            let element = trim(element);
            let end = element
                .iter()
                .position(|&b| b == b' ' || b == b'\t' || b == b'=')
                .unwrap_or(element.len());
            let (word, after) = element.split_at(end);
            if !is_token_bytes(word) || trim(after).first() == Some(&b'=') {
                continue;
            }
            // Only tokens get here: ASCII.
            schemes.push(word.iter().copied().map(char::from).collect());
        }
    }
    schemes
}

/// `value` split at the commas outside double quotes (RFC 9110 §5.6.4:
/// a backslash quotes the next character).
fn split_outside_quotes(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    let mut cuts = Vec::new();
    for (i, &b) in value.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted && b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            cuts.push(&value[start..i]);
            start = i + 1;
        }
    }
    cuts.push(&value[start..]);
    cuts.into_iter()
}

fn trim(s: &[u8]) -> &[u8] {
    crate::sansio::handshake::http::trim_ows(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn target() -> Target {
        Target::from_host("127.0.0.1", 9001)
    }

    /// Feeds `bytes` in pieces of `size`; the first result that is not
    /// "more".
    fn feed(bytes: &[u8], size: usize, sent_credentials: bool) -> Result<Option<Established>> {
        let mut reader = ConnectResponse::new(1024, 10, sent_credentials);
        for chunk in bytes.chunks(size) {
            if let Some(done) = reader.receive(chunk)? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }

    #[test]
    fn builds_the_request_rfc_7617_gives() {
        // RFC 7617 §2's example pair.
        let request =
            connect_request(&target(), Some(&Credentials::new("Aladdin", "open sesame"))).unwrap();
        assert_eq!(
            core::str::from_utf8(&request).unwrap(),
            "CONNECT 127.0.0.1:9001 HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n\
             Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        let request = connect_request(&Target::from_host("::1", 443), None).unwrap();
        assert_eq!(
            request,
            b"CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"
        );
        // RFC 7617 §2.1: UTF-8 before base64.
        let request = connect_request(&target(), Some(&Credentials::new("test", "123£"))).unwrap();
        assert!(request.windows(18).any(|w| w == b"Basic dGVzdDoxMjPC"));
    }

    #[test]
    fn refuses_credentials_basic_cannot_carry() {
        for (user, password) in [("a:b", "x"), ("a\r\nX: y", "x"), ("a", "x\ny")] {
            let err = connect_request(&target(), Some(&Credentials::new(user, password)));
            match err {
                Err(Error::InvalidProxyUrl(why)) => assert!(!why.contains(password)),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_2xx_opens_the_tunnel_in_any_chunking_and_hands_over_the_rest() {
        let answer = b"HTTP/1.0 200 Connection established\r\nProxy-agent: t\r\n\r\n\x81\x02hi";
        for size in 1..=answer.len() {
            let done = feed(answer, size, false).unwrap().expect("established");
            // Pieces that end before the head's end hand over nothing more.
            let expected = &answer[answer.len() - 4..];
            assert!(
                expected.starts_with(&done.tunnel_bytes),
                "chunks of {size}: {:?}",
                done.tunnel_bytes
            );
        }
        let done = feed(answer, answer.len(), false).unwrap().unwrap();
        assert_eq!(done.tunnel_bytes, b"\x81\x02hi");
        // Content-Length and Transfer-Encoding are ignored on a 2xx.
        let answer = b"HTTP/1.1 204 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(feed(answer, 7, false).unwrap().unwrap().tunnel_bytes, b"");
    }

    #[test]
    fn interim_responses_are_skipped() {
        let answer = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\n\r\nT";
        for size in [1, 3, answer.len()] {
            let done = feed(answer, size, false).unwrap().unwrap();
            assert!(b"T".starts_with(&done.tunnel_bytes), "{size}");
        }
        assert!(matches!(
            feed(b"HTTP/1.1 101 Switching\r\n\r\n", 4, false),
            Err(Error::InvalidProxyResponse(_))
        ));
    }

    #[test]
    fn a_refusal_keeps_status_reason_and_schemes() {
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
            Proxy-Authenticate: Basic realm=\"corp, inc\", Negotiate\r\n\
            Proxy-Authenticate: Digest realm = \"x\", qop=\"auth\", NTLM\r\n\
            Content-Length: 3\r\n\r\nno.";
        match feed(answer, 5, false) {
            Err(Error::ProxyRefused {
                status,
                reason,
                authenticate,
            }) => {
                assert_eq!(status, 407);
                assert_eq!(reason, "Proxy Authentication Required");
                assert_eq!(authenticate, ["Basic", "Negotiate", "Digest", "NTLM"]);
            }
            other => panic!("{other:?}"),
        }
        match feed(b"HTTP/1.0 403 Access violation\r\n\r\n", 1, false) {
            Err(Error::ProxyRefused {
                status: 403,
                reason,
                authenticate,
            }) => {
                assert_eq!(reason, "Access violation");
                assert!(authenticate.is_empty());
            }
            other => panic!("{other:?}"),
        }
        // No reason phrase at all (RFC 9112 §4: it may be empty).
        assert!(matches!(
            feed(b"HTTP/1.1 502\r\n\r\n", 100, false),
            Err(Error::ProxyRefused { status: 502, .. })
        ));
    }

    #[test]
    fn a_407_after_credentials_is_an_authentication_failure() {
        let answer = b"HTTP/1.1 407 Denied\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n";
        match feed(answer, 100, true) {
            Err(Error::ProxyAuthFailed(why)) => assert!(why.contains("407"), "{why}"),
            other => panic!("{other:?}"),
        }
        // tinyproxy 1.11 answers wrong credentials with a 401.
        match feed(b"HTTP/1.0 401 Unauthorized\r\n\r\n", 3, true) {
            Err(Error::ProxyAuthFailed(why)) => assert!(why.contains("401 Unauthorized")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            feed(b"HTTP/1.0 401 Unauthorized\r\n\r\n", 3, false),
            Err(Error::ProxyRefused { status: 401, .. })
        ));
    }

    #[test]
    fn malformed_or_oversized_answers_are_refused() {
        for bad in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/2 200 OK\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 099 Low\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX: a\0\r\n\r\n",
        ] {
            assert!(
                matches!(feed(bad, 3, false), Err(Error::InvalidProxyResponse(_))),
                "{bad:?}"
            );
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        while huge.len() < 2000 {
            huge.extend_from_slice(b"X-Padding: aaaaaaaaaaaaaaaa\r\n");
        }
        match feed(&huge, 1, false) {
            Err(Error::InvalidProxyResponse(why)) => assert!(why.contains("size limit")),
            other => panic!("{other:?}"),
        }
        let mut many = b"HTTP/1.1 200 OK\r\n".to_vec();
        for _ in 0..11 {
            many.extend_from_slice(b"X: y\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert!(matches!(
            feed(&many, 64, false),
            Err(Error::InvalidProxyResponse(_))
        ));
        // Endless interim responses run out of the one budget.
        let interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(100);
        assert!(matches!(
            feed(&interim, 10, false),
            Err(Error::InvalidProxyResponse(_))
        ));
        let mut reader = ConnectResponse::new(100, 10, false);
        let interim = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(4);
        assert!(matches!(
            reader.receive(&interim),
            Err(Error::InvalidProxyResponse(why)) if why.contains("size limit")
        ));
    }

    #[test]
    fn nothing_is_accepted_after_the_end() {
        let mut reader = ConnectResponse::new(1024, 10, false);
        assert!(
            reader
                .receive(b"HTTP/1.1 200 OK\r\n\r\n")
                .unwrap()
                .is_some()
        );
        assert!(reader.receive(b"x").is_err());
        let mut reader = ConnectResponse::new(1024, 10, false);
        assert!(reader.receive(b"HTTP/1.1 403 No\r\n\r\n").is_err());
        assert!(reader.receive(b"").is_err());
    }

    #[test]
    fn schemes_skip_params_and_token68() {
        let head = Head {
            start_line: "HTTP/1.1 407 x".into(),
            headers: vec![(
                "proxy-authenticate".into(),
                b"Negotiate abc==, Bearer error=\"a,b\\\",c\", , Basic".to_vec(),
            )],
        };
        assert_eq!(challenge_schemes(&head), ["Negotiate", "Bearer", "Basic"]);
    }
}
