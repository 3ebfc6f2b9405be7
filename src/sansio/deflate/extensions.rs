//! The `Sec-WebSocket-Extensions` header (RFC 6455 §9.1), parsed.
//!
//! ```text
//! Sec-WebSocket-Extensions = extension-list
//! extension-list = 1#extension
//! extension = extension-token *( ";" extension-param )
//! extension-token = registered-token
//! registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ; When using the quoted-string syntax variant, the value
//!     ; after quoted-string unescaping MUST conform to the
//!     ; 'token' ABNF.
//! ```
//!
//! The list rule `1#` is RFC 7230 §7's: elements separated by commas,
//! with optional whitespace (`OWS`, spaces and tabs) around them, and
//! empty elements ignored ("a recipient MUST accept and ignore ... empty
//! list elements"). A header may come on several lines: §9.1 "... MAY
//! appear multiple times", which is the same as one comma-joined line
//! (RFC 7230 §3.2.2).

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Error, Result};
use crate::sansio::handshake::http::{is_token, is_token_char};

/// One extension of the list, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension's token, such as `permessage-deflate`.
    pub name: String,
    /// Its parameters, in the order given.
    pub params: Vec<Param>,
}

/// One `name` or `name=value` parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter's token.
    pub name: String,
    /// Its value, unquoted and unescaped; `None` without `=`.
    pub value: Option<String>,
}

fn malformed(why: &'static str) -> Error {
    Error::InvalidHeader(why)
}

/// Parses every value of the header (one per header line), in order.
pub fn parse_extensions<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Extension>> {
    let mut out = Vec::new();
    for value in values {
        parse_list(value, &mut out)?;
    }
    Ok(out)
}

/// Parses one header value, appending its extensions to `out`.
fn parse_list(value: &str, out: &mut Vec<Extension>) -> Result<()> {
    let mut p = Parser {
        bytes: value.as_bytes(),
        at: 0,
    };
    loop {
        p.skip_whitespace();
        match p.peek() {
            None => return Ok(()),
            // An empty list element.
            Some(b',') => {
                p.at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = p.token().ok_or(malformed(
            "Sec-WebSocket-Extensions: expected an extension name",
        ))?;
        let mut params = Vec::new();
        loop {
            p.skip_whitespace();
            match p.peek() {
                None | Some(b',') => break,
                Some(b';') => p.at += 1,
                Some(_) => {
                    return Err(malformed(
                        "Sec-WebSocket-Extensions: expected ';' or ',' after a name or value",
                    ));
                }
            }
            p.skip_whitespace();
            let param = p.token().ok_or(malformed(
                "Sec-WebSocket-Extensions: expected a parameter name",
            ))?;
            p.skip_whitespace();
            let value = if p.peek() == Some(b'=') {
                p.at += 1;
                p.skip_whitespace();
                let value = if p.peek() == Some(b'"') {
                    let value = p.quoted_string()?;
                    // §9.1: "the value after quoted-string unescaping MUST
                    // conform to the 'token' ABNF."
                    if !is_token(&value) {
                        return Err(malformed(
                            "Sec-WebSocket-Extensions: a quoted value is not a token",
                        ));
                    }
                    value
                } else {
                    p.token().ok_or(malformed(
                        "Sec-WebSocket-Extensions: expected a parameter value",
                    ))?
                };
                Some(value)
            } else {
                None
            };
            params.push(Param { name: param, value });
        }
        out.push(Extension { name, params });
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// `OWS = *( SP / HTAB )` (RFC 7230 §3.2.3).
    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// `token = 1*tchar`; `None` if there is none here.
    fn token(&mut self) -> Option<String> {
        let start = self.at;
        while self.peek().is_some_and(is_token_char) {
            self.at += 1;
        }
        let token = self.bytes.get(start..self.at)?;
        if token.is_empty() {
            return None;
        }
        // tchar is ASCII, so this is UTF-8.
        Some(token.iter().map(|&b| char::from(b)).collect())
    }

    /// `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`, with
    /// `qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text` and
    /// `quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )` (RFC 7230
    /// §3.2.6). Returns the unescaped content.
    fn quoted_string(&mut self) -> Result<String> {
        self.at += 1; // the opening quote
        let mut value = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(malformed(
                    "Sec-WebSocket-Extensions: unterminated quoted string",
                ));
            };
            self.at += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let escaped = self.peek().filter(|&e| is_text(e)).ok_or(malformed(
                        "Sec-WebSocket-Extensions: bad escape in a quoted string",
                    ))?;
                    self.at += 1;
                    value.push(escaped);
                }
                c if is_text(c) => value.push(c),
                _ => {
                    return Err(malformed(
                        "Sec-WebSocket-Extensions: control character in a quoted string",
                    ));
                }
            }
        }
        String::from_utf8(value)
            .map_err(|_| malformed("Sec-WebSocket-Extensions: quoted string is not UTF-8"))
    }
}

/// HTAB, SP, VCHAR or obs-text: what may stand in a quoted string.
fn is_text(c: u8) -> bool {
    c == b'\t' || c == b' ' || (0x21..=0x7e).contains(&c) || c >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn ext(name: &str, params: &[(&str, Option<&str>)]) -> Extension {
        Extension {
            name: name.into(),
            params: params
                .iter()
                .map(|&(n, v)| Param {
                    name: n.into(),
                    value: v.map(Into::into),
                })
                .collect(),
        }
    }

    #[test]
    fn parses_names_parameters_and_values() {
        let parsed = parse_extensions([
            "permessage-deflate; client_max_window_bits, foo ;bar=1;baz = \"q\\x\" ",
        ])
        .unwrap();
        assert_eq!(
            parsed,
            vec![
                ext("permessage-deflate", &[("client_max_window_bits", None)]),
                ext("foo", &[("bar", Some("1")), ("baz", Some("qx"))]),
            ]
        );
    }

    #[test]
    fn joins_header_lines_and_skips_empty_elements() {
        let parsed = parse_extensions([", a,, ", "b;x=\"10\"", ""]).unwrap();
        assert_eq!(parsed, vec![ext("a", &[]), ext("b", &[("x", Some("10"))])]);
    }

    #[test]
    fn refuses_what_the_grammar_does_not_allow() {
        for bad in [
            "a;",
            "a; =1",
            "a;b=",
            "a b",
            "a;b=1 2",
            "a;b=\"1",
            "a;b=\"x y\"",
            "a;b=\"\"",
            "a;b=\"\\\u{1}\"",
            ";b",
            "a;b=1;",
            "a=1",
            "\"a\"",
        ] {
            assert!(parse_extensions([bad]).is_err(), "{bad:?} was accepted");
        }
    }
}
