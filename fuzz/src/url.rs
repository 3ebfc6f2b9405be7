//! The `url` target: the client's `ws://` / `wss://` URL parser
//! (`src/sansio/url.rs`, RFC 6455 §3).
//!
//! Included by `targets.rs` (so by the fuzz crate and by the corpus
//! replay of the main crate's `tests/fuzz_corpus.rs`); it depends only on
//! plainws and std.

use std::net::{Ipv4Addr, Ipv6Addr};

use plainws::__fuzz::Url;
use plainws::Error;
use plainws::Request;
use plainws::sansio::handshake::client::request;

/// The key of RFC 6455 §1.3, for the request built from a parsed URL.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// A URL string, parsed.
///
/// Input: the URL's bytes (not UTF-8 is read lossily, so the parser also
/// sees the replacement character).
///
/// Oracles: `Url::parse` never panics; a refusal is `Error::InvalidUrl`
/// with a reason. An accepted URL:
/// - agrees with the input read plainly: the scheme (any case) is `ws` or
///   `wss` as `secure` says; what follows `://` is the authority, then the
///   resource as written (or `/` when there is none, or `/` + a query that
///   follows the authority directly); no `#` anywhere, no `@` in the
///   authority;
/// - has sane parts: a host that is an IPv6 address (without brackets),
///   an IPv4 address, or a name of unreserved characters; a port of 1 or
///   more, the scheme's default when the input names none; a resource of
///   visible ASCII starting with `/`;
/// - re-assembles consistently: `scheme://` + `host_header()` + resource,
///   and the same with the port spelled out, both parse to the same URL;
///   `host_header()` omits exactly the default port and brackets exactly
///   the IPv6 hosts;
/// - makes a request the server side accepts: the opening handshake built
///   from `host_header()` and the resource parses as a `Request` whose
///   target is the resource, whose only `Host` is `host_header()`, and
///   whose upgrade check passes.
pub fn url(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let url = match Url::parse(&text) {
        Ok(url) => url,
        Err(Error::InvalidUrl(why)) => {
            assert!(!why.is_empty(), "a refusal without a reason for {text:?}");
            return;
        }
        Err(other) => panic!("{text:?}: not an InvalidUrl: {other:?}"),
    };

    // The input read plainly.
    let (scheme, rest) = text.split_once("://").expect("an accepted URL has ://");
    let expected_secure = if scheme.eq_ignore_ascii_case("wss") {
        true
    } else {
        assert!(scheme.eq_ignore_ascii_case("ws"), "scheme {scheme:?}");
        false
    };
    assert_eq!(url.secure, expected_secure, "{text:?}");
    assert!(!text.contains('#'), "{text:?}");
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(split);
    assert!(!authority.contains('@'), "{text:?}");
    let expected_resource = if tail.is_empty() {
        "/".to_string()
    } else if tail.starts_with('?') {
        format!("/{tail}")
    } else {
        tail.to_string()
    };
    assert_eq!(url.resource, expected_resource, "{text:?}");

    // Sane parts.
    assert!(!url.host.is_empty());
    if url.host.contains(':') {
        assert!(url.host.parse::<Ipv6Addr>().is_ok(), "host {:?}", url.host);
        assert!(
            authority.starts_with(&format!("[{}]", url.host)),
            "{text:?}"
        );
    } else {
        assert!(
            url.host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)),
            "host {:?}",
            url.host
        );
        if url.host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            assert!(url.host.parse::<Ipv4Addr>().is_ok(), "host {:?}", url.host);
        }
        assert!(authority.starts_with(url.host.as_str()), "{text:?}");
    }
    assert!(url.port >= 1);
    let default_port = if url.secure { 443 } else { 80 };
    assert_eq!(url.default_port(), default_port);
    let port_written = authority
        .rsplit_once(':')
        .filter(|(before, _)| !before.is_empty() && !authority.ends_with(']'))
        .map(|(_, port)| port)
        .filter(|port| !port.is_empty() && !port.contains(']'));
    match port_written {
        Some(port) => assert_eq!(port.parse::<u16>().ok(), Some(url.port), "{text:?}"),
        None => assert_eq!(url.port, default_port, "{text:?}"),
    }
    assert!(url.resource.starts_with('/'));
    assert!(url.resource.bytes().all(|b| b.is_ascii_graphic()));

    // Re-assembly.
    let host_header = url.host_header();
    let bracketed = if url.host.contains(':') {
        format!("[{}]", url.host)
    } else {
        url.host.clone()
    };
    if url.port == default_port {
        assert_eq!(host_header, bracketed);
    } else {
        assert_eq!(host_header, format!("{bracketed}:{}", url.port));
    }
    let scheme = if url.secure { "wss" } else { "ws" };
    for again in [
        format!("{scheme}://{host_header}{}", url.resource),
        format!("{scheme}://{bracketed}:{}{}", url.port, url.resource),
    ] {
        match Url::parse(&again) {
            Ok(reparsed) => assert_eq!(reparsed, url, "{text:?} re-assembled as {again:?}"),
            Err(e) => panic!("{text:?} re-assembled as {again:?} is refused: {e}"),
        }
    }

    // The request a client would send, as a server reads it.
    let head = request(&host_header, &url.resource, KEY, &[], &[]);
    let parsed = match Request::parse(&head, 100) {
        Ok(parsed) => parsed,
        // The server's documented path policy: a path that percent-decodes
        // to a control character or to bytes that are not UTF-8 is 400,
        // though the URL itself is well-formed (RFC 3986 allows it).
        Err(plainws::Error::MalformedHttp(why)) if why.starts_with("the decoded path") => return,
        Err(e) => panic!("{text:?}: the request built from it is refused: {e}"),
    };
    assert_eq!(parsed.target(), url.resource);
    let hosts: Vec<&[u8]> = parsed
        .headers()
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("Host"))
        .map(|(_, value)| value.as_slice())
        .collect();
    assert_eq!(hosts, [host_header.as_bytes()]);
    if let Err(e) = parsed.check_upgrade() {
        panic!("{text:?}: the request built from it fails the upgrade check: {e}");
    }
}
