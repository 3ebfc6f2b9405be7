//! WebSocket URIs (RFC 6455 §3). Sans-I/O.
//!
//! ```text
//! ws-URI  = "ws:"  "//" host [ ":" port ] path [ "?" query ]
//! wss-URI = "wss:" "//" host [ ":" port ] path [ "?" query ]
//! ```
//!
//! Only what a client needs to open a connection is accepted: the scheme,
//! a host name or IP address (IPv6 in brackets), an optional port, and a
//! path and query that can go on the request line as they are. Anything
//! else is an [`Error::InvalidUrl`] saying what is wrong.

use alloc::{borrow::ToOwned, format, string::String};
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};

/// A parsed `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// `wss://`: the connection must run over TLS.
    pub secure: bool,
    /// The host: a name, an IPv4 address, or an IPv6 address without its
    /// brackets.
    pub host: String,
    /// The port, given or the scheme's default (80 for ws, 443 for wss).
    pub port: u16,
    /// The path and query for the request line: `/` when the URL has no
    /// path (§3: "the path component is empty ... use /").
    pub resource: String,
}

impl Url {
    /// Parses a WebSocket URL.
    pub fn parse(url: &str) -> Result<Url> {
        if let Some(bad) = url.chars().find(|c| !c.is_ascii_graphic()) {
            return Err(invalid(format!(
                "{bad:?} is not allowed in a URL (percent-encode it)"
            )));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| invalid("expected ws://host[:port][/path][?query]".into()))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(invalid(format!(
                "scheme {scheme:?} is not ws or wss (RFC 6455 §3)"
            )));
        };
        // §3: "Fragment identifiers are meaningless in the context of
        // WebSocket URIs and MUST NOT be used on these URIs."
        if rest.contains('#') {
            return Err(invalid(
                "a WebSocket URL may not have a #fragment (RFC 6455 §3)".into(),
            ));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(split);
        let resource = match tail.as_bytes().first() {
            None => "/".to_owned(),
            Some(b'?') => format!("/{tail}"),
            Some(_) => tail.to_owned(),
        };
        // RFC 3986 §2.1: "%" is only ever the start of "%" HEXDIG HEXDIG.
        let bytes = resource.as_bytes();
        let bad_escape = bytes.iter().enumerate().any(|(i, &b)| {
            b == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        });
        if bad_escape {
            return Err(invalid(
                "a % in the path or query must be followed by two hex digits (RFC 3986 §2.1)"
                    .into(),
            ));
        }
        if authority.contains('@') {
            return Err(invalid(
                "user information (user@host) is not allowed in a WebSocket URL".into(),
            ));
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            Some(port) => port,
            None if secure => 443,
            None => 80,
        };
        Ok(Url {
            secure,
            host,
            port,
            resource,
        })
    }

    /// The scheme's default port.
    pub fn default_port(&self) -> u16 {
        if self.secure { 443 } else { 80 }
    }

    /// The value of the `Host` header (§4.1 item 4): the host, in brackets
    /// if it is an IPv6 address, with the port unless it is the default.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == self.default_port() {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Splits `host[:port]` or `[v6][:port]`, checking both (the proxy URL
/// parser uses it too).
pub(crate) fn split_host_port(authority: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let (v6, after) = bracketed
            .split_once(']')
            .ok_or_else(|| invalid("IPv6 address without its closing ]".into()))?;
        if v6.parse::<Ipv6Addr>().is_err() {
            return Err(invalid(format!("{v6:?} is not an IPv6 address")));
        }
        let port =
            match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    invalid(format!("unexpected {after:?} after the IPv6 address"))
                })?),
            };
        (v6, port)
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(invalid("the URL has no host".into()));
    }
    if !authority.starts_with('[') {
        let valid = host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        if !valid {
            return Err(invalid(format!("{host:?} is not a valid host name")));
        }
        let all_numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if all_numeric && host.parse::<Ipv4Addr>().is_err() {
            return Err(invalid(format!("{host:?} is not an IPv4 address")));
        }
    }
    let port = match port {
        // RFC 3986 §3.2.3: an empty port means the default.
        None | Some("") => None,
        Some(port) => match port.parse::<u16>() {
            Ok(n) if n > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => return Err(invalid(format!("port {port:?} is not a number 1-65535"))),
        },
    };
    Ok((host.to_owned(), port))
}

fn invalid(why: String) -> Error {
    Error::InvalidUrl(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Url {
        Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn why(url: &str) -> String {
        match Url::parse(url) {
            Err(Error::InvalidUrl(why)) => why,
            other => panic!("{url}: expected InvalidUrl, got {other:?}"),
        }
    }

    #[test]
    fn defaults_port_and_path() {
        let url = parse("ws://example.com");
        assert_eq!((url.host.as_str(), url.port), ("example.com", 80));
        assert_eq!(url.resource, "/");
        assert!(!url.secure);
        assert_eq!(url.host_header(), "example.com");
        let url = parse("wss://example.com");
        assert_eq!((url.port, url.secure), (443, true));
    }

    #[test]
    fn keeps_path_and_query() {
        let url = parse("ws://127.0.0.1:9001/runCase?case=3&agent=plainws");
        assert_eq!((url.host.as_str(), url.port), ("127.0.0.1", 9001));
        assert_eq!(url.resource, "/runCase?case=3&agent=plainws");
        assert_eq!(url.host_header(), "127.0.0.1:9001");
        assert_eq!(parse("ws://h?x=1").resource, "/?x=1");
        assert_eq!(parse("ws://h/").resource, "/");
    }

    #[test]
    fn scheme_is_case_insensitive() {
        assert!(!parse("WS://h").secure);
        assert!(parse("WsS://h").secure);
    }

    #[test]
    fn parses_ipv6_hosts() {
        let url = parse("ws://[::1]:1235/echo");
        assert_eq!((url.host.as_str(), url.port), ("::1", 1235));
        assert_eq!(url.host_header(), "[::1]:1235");
        assert_eq!(parse("ws://[::1]").host_header(), "[::1]");
        assert_eq!(parse("ws://[::1]?q").resource, "/?q");
    }

    #[test]
    fn host_header_omits_only_the_default_port() {
        assert_eq!(parse("ws://h:80").host_header(), "h");
        assert_eq!(parse("ws://h:443").host_header(), "h:443");
        assert_eq!(parse("wss://h:443").host_header(), "h");
        assert_eq!(parse("ws://h:").port, 80);
    }

    #[test]
    fn rejects_malformed_percent_escapes() {
        for url in ["ws://h/runCa%se", "ws://h/%", "ws://h/a%2", "ws://h/?q=%zz"] {
            assert!(why(url).contains("two hex digits"), "{url}");
        }
        assert_eq!(parse("ws://h/a%2Fb?x=%41").resource, "/a%2Fb?x=%41");
    }

    #[test]
    fn rejects_fragments() {
        assert!(why("ws://h/path#frag").contains("fragment"));
        assert!(why("ws://h#").contains("fragment"));
    }

    #[test]
    fn rejects_user_information() {
        assert!(why("ws://user:pw@h/").contains("user"));
    }

    #[test]
    fn rejects_other_schemes_and_shapes() {
        assert!(why("http://h/").contains("scheme"));
        assert!(why("h:80/path").contains("ws://"));
        assert!(why("ws:///path").contains("no host"));
        assert!(why("ws://").contains("no host"));
        assert!(why("ws://h:0").contains("port"));
        assert!(why("ws://h:65536").contains("port"));
        assert!(why("ws://h:+80").contains("port"));
        assert!(why("ws://h:x").contains("port"));
        assert!(why("ws://[::1/").contains("]"));
        assert!(why("ws://[nope]/").contains("IPv6"));
        assert!(why("ws://[::1]x/").contains("after"));
        assert!(why("ws://h_!/").contains("host"));
        assert!(why("ws://1.2.3.999/").contains("IPv4"));
    }

    #[test]
    fn rejects_characters_that_do_not_belong_on_a_request_line() {
        for url in ["ws://h/a b", "ws://h/\r\nX: y", "ws://h/é", "ws://h/\t"] {
            assert!(why(url).contains("percent-encode"), "{url}");
        }
    }
}
