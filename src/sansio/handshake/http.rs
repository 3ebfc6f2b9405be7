//! Just enough HTTP/1.1 for the opening handshake (RFC 9112 §2–§5).
//!
//! [`HeadReader`] collects bytes until the empty line that ends a message
//! head, scanning each byte once: a head that arrives one byte at a time
//! costs linear time, not quadratic (the trap of CVE-2023-43669). Bytes
//! after the head (a client's first frames) stay in the buffer for the
//! caller. [`Head::parse`] then splits the head into a start line and
//! header fields, rejecting anything malformed.

use crate::error::{Error, Result};
use alloc::{borrow::ToOwned, string::String, vec::Vec};

/// Collects a message head, bounded in size.
#[derive(Debug)]
pub struct HeadReader {
    buf: Vec<u8>,
    /// Everything before this offset has been scanned for the end of the head.
    scanned: usize,
    max_bytes: usize,
    head_len: Option<usize>,
    /// Bytes the scanner has looked at, in all: the work the tests bound.

    #[cfg(test)]
    examined: usize,
}

impl HeadReader {
    /// A reader that refuses heads longer than `max_bytes`.
    pub fn new(max_bytes: usize) -> HeadReader {
        HeadReader {
            buf: Vec::new(),
            scanned: 0,
            max_bytes,
            head_len: None,
            #[cfg(test)]
            examined: 0,
        }
    }

    /// Appends bytes from the stream. Returns the length of the head once
    /// its end has been seen; bytes past it are kept, see [`HeadReader::rest`].
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<usize>> {
        if let Some(len) = self.head_len {
            self.buf.extend_from_slice(bytes);
            return Ok(Some(len));
        }
        self.buf.extend_from_slice(bytes);
        self.head_len = self.scan();
        match self.head_len {
            Some(len) if len <= self.max_bytes => Ok(Some(len)),
            Some(_) => Err(Error::HeadersTooLarge),
            None if self.buf.len() >= self.max_bytes => Err(Error::HeadersTooLarge),
            None => Ok(None),
        }
    }

    /// How many more bytes the head may take before it is too large.
    pub fn room(&self) -> usize {
        self.max_bytes.saturating_sub(self.buf.len()).max(1)
    }

    /// The complete head, once found.
    pub fn head(&self) -> Option<&[u8]> {
        self.head_len.map(|len| &self.buf[..len])
    }

    /// Every byte pushed so far, the head (complete or not) first.
    pub fn seen(&self) -> &[u8] {
        &self.buf
    }

    /// The bytes that followed the head.
    pub fn rest(&self) -> &[u8] {
        self.head_len.map_or(&[][..], |len| &self.buf[len..])
    }

    /// Looks for a line feed followed by an empty line ("\n\n" or
    /// "\n\r\n"), starting where the last scan stopped. RFC 9112 §2.2 lets
    /// a recipient accept a bare LF as a line terminator.
    fn scan(&mut self) -> Option<usize> {
        while let Some(pos) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            #[cfg(test)]
            {
                self.examined += pos + 1;
            }
            let lf = self.scanned + pos;
            match (self.buf.get(lf + 1), self.buf.get(lf + 2)) {
                (Some(b'\n'), _) => return Some(lf + 2),
                (Some(b'\r'), Some(b'\n')) => return Some(lf + 3),
                // Not enough bytes to tell: look at this LF again next time.
                (None, _) | (Some(b'\r'), None) => {
                    self.scanned = lf;
                    return None;
                }
                _ => self.scanned = lf + 1,
            }
        }
        #[cfg(test)]
        {
            self.examined += self.buf.len() - self.scanned;
        }
        self.scanned = self.buf.len();
        None
    }
}

/// A header field: the name as sent (a token, so ASCII), and the value
/// as bytes with surrounding whitespace removed.
///
/// Values are bytes because RFC 9110 §5.5 allows obs-text (0x80–0xFF) in
/// them: "a recipient SHOULD treat other allowed octets in field content
/// (i.e., obs-text) as opaque data". They are never decoded lossily.
pub type Field = (String, Vec<u8>);

/// A parsed message head: the start line and the header fields in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The request line or the status line.
    pub start_line: String,
    /// Header fields, names as sent, values as bytes with surrounding
    /// whitespace removed.
    pub headers: Vec<Field>,
}

impl Head {
    /// Parses a complete head (as found by [`HeadReader`]).
    ///
    /// The start line must be UTF-8; header names must be tokens; header
    /// values may hold any byte but control characters (obs-text
    /// included, RFC 9110 §5.5). A NUL, a bare CR, a line without a colon
    /// or a folded line is [`Error::MalformedHttp`].
    pub fn parse(head: &[u8], max_headers: usize) -> Result<Head> {
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
        let start_line = lines.next().unwrap_or_default();
        check_line_chars(start_line)?;
        if start_line.is_empty() {
            return Err(Error::MalformedHttp("empty start line"));
        }
        let start_line = core::str::from_utf8(start_line)
            .map_err(|_| Error::MalformedHttp("start line is not valid UTF-8"))?;
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                // The head ends with an empty line; the reader guaranteed
                // nothing of the head follows it.
                break;
            }
            check_line_chars(line)?;
            if headers.len() == max_headers {
                return Err(Error::TooManyHeaders);
            }
            headers.push(parse_field(line)?);
        }
        Ok(Head {
            start_line: start_line.to_owned(),
            headers,
        })
    }

    /// The value of the first header named `name` (any case), if it is
    /// UTF-8; see [`Head::header_bytes`] for any value.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The value of the first header named `name` (any case), as bytes.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        header_bytes(&self.headers, name)
    }
}

/// The value of the first header named `name` (any case), as bytes.
pub fn header_bytes<'a>(headers: &'a [Field], name: &str) -> Option<&'a [u8]> {
    header_values(headers, name).next()
}

/// The value of the first header named `name` (any case), if it is UTF-8.
/// `None` when there is no such header or its value is not UTF-8.
pub fn header<'a>(headers: &'a [Field], name: &str) -> Option<&'a str> {
    header_bytes(headers, name).and_then(|v| core::str::from_utf8(v).ok())
}

/// The values of every header named `name` (any case), in order.
pub fn header_values<'a>(headers: &'a [Field], name: &str) -> impl Iterator<Item = &'a [u8]> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// How many headers are named `name` (any case).
pub fn header_count(headers: &[Field], name: &str) -> usize {
    header_values(headers, name).count()
}

/// The comma-separated elements of every header named `name`
/// (RFC 9110 §5.6.1), whitespace trimmed, empty ones skipped.
pub fn header_tokens<'a>(headers: &'a [Field], name: &str) -> impl Iterator<Item = &'a [u8]> {
    header_values(headers, name)
        .flat_map(|v| v.split(|&b| b == b',').map(trim_ows))
        .filter(|t| !t.is_empty())
}

/// Whether some header named `name` lists `token` (any case).
pub fn has_token(headers: &[Field], name: &str, token: &str) -> bool {
    header_tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// `HTTP/<major>.<minor>`, one digit each (RFC 9112 §2.3).
pub fn parse_version(version: &str) -> Option<(u8, u8)> {
    match version.as_bytes() {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            Some((major - b'0', minor - b'0'))
        }
        _ => None,
    }
}

/// A `tchar` (RFC 9110 §5.6.2).
pub fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Whether `s` is a non-empty token.
pub fn is_token(s: &str) -> bool {
    is_token_bytes(s.as_bytes())
}

/// Whether `s` is a non-empty token.
pub fn is_token_bytes(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().copied().all(is_token_char)
}

/// `s` without leading or trailing spaces and tabs (RFC 9110 §5.6.3, OWS).
pub fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|&b| b != b' ' && b != b'\t');
    let end = s.iter().rposition(|&b| b != b' ' && b != b'\t');
    match (start, end) {
        (Some(start), Some(end)) => &s[start..=end],
        _ => &[],
    }
}

/// Control characters other than tab have no place in a head (a bare CR
/// included: RFC 9112 §2.2). Bytes 0x80–0xFF pass: they are obs-text in a
/// field value (RFC 9110 §5.5); elsewhere the callers refuse them.
fn check_line_chars(line: &[u8]) -> Result<()> {
    if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7F) {
        return Err(Error::MalformedHttp("control character in head"));
    }
    Ok(())
}

/// `field-name ":" OWS field-value OWS` (RFC 9112 §5).
fn parse_field(line: &[u8]) -> Result<Field> {
    if line.starts_with(b" ") || line.starts_with(b"\t") {
        // RFC 9112 §5.2: obsolete line folding may be rejected with 400.
        return Err(Error::MalformedHttp("folded header line"));
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(Error::MalformedHttp("header line without a colon"))?;
    let (name, value) = (&line[..colon], &line[colon + 1..]);
    // RFC 9110 §5.1: a field name is a token (so ASCII).
    if !is_token_bytes(name) {
        return Err(Error::MalformedHttp("invalid header name"));
    }
    let name = name.iter().copied().map(char::from).collect();
    Ok((name, trim_ows(value).to_vec()))
}

/// Every `Sec-WebSocket-Extensions` value, as text (RFC 6455 §9.1: the
/// grammar is ASCII; a value that is not UTF-8 fails the handshake).
pub fn extension_values(headers: &[Field]) -> Result<Vec<&str>> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Sec-WebSocket-Extensions"))
        .map(|(_, value)| {
            core::str::from_utf8(value)
                .map_err(|_| Error::InvalidHeader("Sec-WebSocket-Extensions is not ASCII"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_end_of_the_head_in_any_chunking() {
        let request = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nFRAME";
        for size in 1..request.len() {
            let mut reader = HeadReader::new(1024);
            let mut found = None;
            for chunk in request.chunks(size) {
                found = reader.push(chunk).unwrap();
            }
            assert_eq!(found, Some(request.len() - 5), "chunks of {size}");
            assert_eq!(reader.rest(), b"FRAME");
        }
    }

    /// CVE-2023-43669 was a head reader that scanned its whole buffer
    /// again after every read: a head sent a byte at a time cost quadratic
    /// time. Here every byte the scanner looks at is counted (`examined`,
    /// test builds only), and the total must stay linear in the input.
    #[test]
    fn scanning_is_linear_in_a_head_sent_a_byte_at_a_time() {
        // Line ends of every kind the scanner looks ahead on (LF, CR LF, a
        // lone CR before a LF), then the end of the head.
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        while head.len() < 15_000 {
            head.extend_from_slice(b"X-A: b\r\nX-B: c\nX-C: \rd\r\n");
        }
        head.extend_from_slice(b"\r\n");
        let mut reader = HeadReader::new(16 << 10);
        let mut found = None;
        for byte in head.chunks(1) {
            found = reader.push(byte).unwrap();
        }
        assert_eq!(found, Some(head.len()));
        assert!(
            reader.examined <= 3 * head.len(),
            "{} bytes examined for a head of {}",
            reader.examined,
            head.len()
        );
        // The same head in one piece is looked at about once.
        let mut whole = HeadReader::new(16 << 10);
        assert_eq!(whole.push(&head).unwrap(), Some(head.len()));
        assert!(whole.examined <= head.len());
    }

    #[test]
    fn accepts_bare_line_feeds() {
        let mut reader = HeadReader::new(1024);
        assert_eq!(
            reader.push(b"GET / HTTP/1.1\nHost: a\n\n").unwrap(),
            Some(24)
        );
    }

    #[test]
    fn refuses_an_endless_head() {
        let mut reader = HeadReader::new(64);
        let mut result = Ok(None);
        for _ in 0..100 {
            result = reader.push(b"X-A: b\r\n");
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(Error::HeadersTooLarge)));
    }

    #[test]
    fn parses_fields_and_rejects_malformed_ones() {
        let head = Head::parse(b"GET / HTTP/1.1\r\nHost:  a \r\nX: \r\n\r\n", 10).unwrap();
        assert_eq!(head.start_line, "GET / HTTP/1.1");
        assert_eq!(head.header("host"), Some("a"));
        assert_eq!(head.header("x"), Some(""));
        for bad in [
            &b"GET / HTTP/1.1\r\nNoColon\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            b"GET / HTTP/1.1\r\nX\xff: a\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\nX: a\r\n\r\n",
            b"\r\n\r\n",
        ] {
            assert!(
                matches!(Head::parse(bad, 10), Err(Error::MalformedHttp(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keeps_obs_text_in_values_as_bytes() {
        // RFC 9110 §5.5: field-vchar = VCHAR / obs-text.
        let head = Head::parse(
            b"GET / HTTP/1.1\r\nX-Latin1: caf\xe9 \r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
            10,
        )
        .unwrap();
        assert_eq!(head.header_bytes("x-latin1"), Some(&b"caf\xe9"[..]));
        assert_eq!(head.header("x-latin1"), None, "not UTF-8");
        assert_eq!(head.header("x-utf8"), Some("caf\u{e9}"));
        assert_eq!(head.headers[0].0, "X-Latin1");
    }

    #[test]
    fn trims_optional_whitespace_only() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b" \t "), b"");
        assert_eq!(trim_ows(b""), b"");
        assert_eq!(trim_ows(b"\xa0x\xa0"), b"\xa0x\xa0");
    }

    #[test]
    fn counts_headers_against_the_limit() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..11 {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert!(matches!(Head::parse(&head, 10), Err(Error::TooManyHeaders)));
        assert!(Head::parse(&head, 11).is_ok());
    }

    #[test]
    fn splits_token_lists() {
        let headers = vec![
            ("Connection".to_owned(), b"keep-alive, Upgrade".to_vec()),
            ("connection".to_owned(), b"x, \xff".to_vec()),
        ];
        assert!(has_token(&headers, "CONNECTION", "upgrade"));
        assert!(has_token(&headers, "connection", "X"));
        assert!(!has_token(&headers, "connection", "close"));
        assert_eq!(
            header_tokens(&headers, "Connection").collect::<Vec<_>>(),
            [&b"keep-alive"[..], b"Upgrade", b"x", b"\xff"]
        );
    }
}
