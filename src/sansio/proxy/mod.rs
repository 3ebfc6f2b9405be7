//! Getting out through a proxy: the handshakes that open a tunnel to the
//! WebSocket server, as pure code. Sans-I/O.
//!
//! - [`http_connect`]: an HTTP `CONNECT` request and the proxy's answer
//!   (RFC 9110 §9.3.6), with `Basic` proxy authentication (RFC 7617,
//!   RFC 9110 §11.7).
//! - [`socks5`]: SOCKS version 5 (RFC 1928) with username/password
//!   authentication (RFC 1929), a state machine: bytes in, bytes out.
//! - [`env`](mod@env): which proxy the environment names for a URL, and the
//!   `NO_PROXY` rules (host names, domain suffixes, IP addresses, CIDR
//!   ranges, `*`), as curl and python-websockets read them. The core reads
//!   no environment: the caller passes a lookup function.
//!
//! [`Proxy`] is a parsed proxy URL: `http://[user:password@]host[:port]`,
//! `socks5://...` (the client resolves the target's name and sends its
//! address) or `socks5h://...` (the proxy resolves the name). Its `Debug`
//! and `Display` never show the credentials, and no error built here
//! repeats them.
//!
//! The blocking driver runs these handshakes for
//! [`connect_with`](crate::connect_with); a driver of its own writes what
//! a handshake gives it, feeds it what the proxy answers, and once it is
//! done, hands the tunnel's first bytes (if any) to the WebSocket
//! handshake.

use alloc::{borrow::ToOwned, format, string::String, vec::Vec};
use core::fmt;
use core::net::IpAddr;

use crate::error::{Error, Result};
use crate::sansio::url::split_host_port;

pub mod env;
pub mod http_connect;
pub mod socks5;

/// Which protocol a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProxyKind {
    /// An HTTP proxy, asked for a tunnel with `CONNECT` (`http://`).
    HttpConnect,
    /// SOCKS5, the client resolving the target's name (`socks5://`).
    Socks5,
    /// SOCKS5, the proxy resolving the target's name (`socks5h://`).
    Socks5h,
}

impl ProxyKind {
    /// The URL scheme of this kind.
    pub fn scheme(self) -> &'static str {
        match self {
            ProxyKind::HttpConnect => "http",
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
        }
    }

    /// The port a proxy URL without one uses: 80 for `http`, 1080 for
    /// SOCKS (RFC 1928 §3).
    pub fn default_port(self) -> u16 {
        match self {
            ProxyKind::HttpConnect => 80,
            ProxyKind::Socks5 | ProxyKind::Socks5h => 1080,
        }
    }
}

/// A user name and password for a proxy. `Debug` shows neither.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// A user name and password. The protocols' own rules (no `:` in a
    /// `Basic` user name, at most 255 bytes each for SOCKS5) are checked
    /// when a handshake starts.
    pub fn new(user: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// A proxy: its kind, address and credentials, parsed from a URL.
///
/// ```
/// use plainws::sansio::proxy::{Proxy, ProxyKind};
///
/// let proxy = Proxy::parse("http://alice:s%40cret@proxy.example:3128")?;
/// assert_eq!(proxy.kind(), ProxyKind::HttpConnect);
/// assert_eq!((proxy.host(), proxy.port()), ("proxy.example", 3128));
/// assert_eq!(proxy.credentials().map(|c| c.password()), Some("s@cret"));
/// // Neither Display nor Debug shows the credentials.
/// assert_eq!(proxy.to_string(), "http://proxy.example:3128");
/// assert!(!format!("{proxy:?}").contains("alice"));
/// # Ok::<(), plainws::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    kind: ProxyKind,
    host: String,
    port: u16,
    credentials: Option<Credentials>,
}

impl Proxy {
    /// Parses `SCHEME://[USER[:PASSWORD]@]HOST[:PORT][/]` where SCHEME is
    /// `http`, `socks5` or `socks5h` (any case); a URL without a scheme is
    /// `http`, as curl reads it. The user name and password are
    /// percent-decoded (RFC 3986 §3.2.1); the port defaults to
    /// [`ProxyKind::default_port`]. `https://` (TLS to the proxy itself)
    /// and `socks4` are refused, saying so.
    pub fn parse(url: &str) -> Result<Proxy> {
        if url.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(invalid(
                "a proxy URL may hold only visible ASCII (percent-encode the rest)".into(),
            ));
        }
        let (scheme, rest) = match url.split_once("://") {
            Some((scheme, rest)) => (scheme, rest),
            None => ("http", url),
        };
        let kind = if scheme.eq_ignore_ascii_case("http") {
            ProxyKind::HttpConnect
        } else if scheme.eq_ignore_ascii_case("socks5") {
            ProxyKind::Socks5
        } else if scheme.eq_ignore_ascii_case("socks5h") {
            ProxyKind::Socks5h
        } else if scheme.eq_ignore_ascii_case("https") {
            return Err(invalid(
                "https:// proxies (TLS to the proxy itself) are not supported: use http://".into(),
            ));
        } else {
            return Err(invalid(format!(
                "scheme {scheme:?} is not http, socks5 or socks5h"
            )));
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#']) {
            return Err(invalid(
                "a proxy URL has no path, query or fragment: scheme://host:port".into(),
            ));
        }
        // The last '@' ends the user information (a password may hold one
        // only percent-encoded, but be forgiving about it).
        let (userinfo, authority) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let credentials = match userinfo {
            None => None,
            Some(userinfo) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                let user = percent_decode(user)
                    .ok_or_else(|| invalid("the user name has a bad %-escape".into()))?;
                let password = percent_decode(password)
                    .ok_or_else(|| invalid("the password has a bad %-escape".into()))?;
                Some(Credentials { user, password })
            }
        };
        let (host, port) = split_host_port(authority).map_err(|e| match e {
            Error::InvalidUrl(why) => invalid(why),
            other => other,
        })?;
        Ok(Proxy {
            kind,
            host,
            port: port.unwrap_or(kind.default_port()),
            credentials,
        })
    }

    /// A proxy of `kind` at `host:port`, without credentials. An IPv6
    /// address is given without brackets.
    pub fn new(kind: ProxyKind, host: impl Into<String>, port: u16) -> Proxy {
        Proxy {
            kind,
            host: host.into(),
            port,
            credentials: None,
        }
    }

    /// This proxy with these credentials.
    #[must_use]
    pub fn with_credentials(mut self, credentials: Credentials) -> Proxy {
        self.credentials = Some(credentials);
        self
    }

    /// The protocol it speaks.
    pub fn kind(&self) -> ProxyKind {
        self.kind
    }

    /// Its host: a name or an IP address (IPv6 without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its credentials, if the URL had any.
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }
}

/// `scheme://host:port`, never the credentials.
impl fmt::Display for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}",
            self.kind.scheme(),
            authority(&self.host, self.port)
        )
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("kind", &self.kind)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("credentials", &self.credentials)
            .finish()
    }
}

/// Where the tunnel goes: the WebSocket server's host (a name, or an
/// address when it is one or the client resolved it) and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A host name, for the proxy to resolve.
    Name(String, u16),
    /// An IP address.
    Ip(IpAddr, u16),
}

impl Target {
    /// A target host as a URL gives it: an IP address literal (IPv6
    /// without brackets) becomes [`Target::Ip`], anything else a name.
    pub fn from_host(host: &str, port: u16) -> Target {
        match host.parse::<IpAddr>() {
            Ok(ip) => Target::Ip(ip, port),
            Err(_) => Target::Name(host.to_owned(), port),
        }
    }

    /// `host:port`, an IPv6 address in brackets: the CONNECT request's
    /// target (RFC 9110 §9.3.6, authority-form, RFC 9112 §3.2.3).
    pub fn authority(&self) -> String {
        match self {
            Target::Name(name, port) => authority(name, *port),
            Target::Ip(ip, port) => authority(&format!("{ip}"), *port),
        }
    }
}

/// `host:port`, brackets around an IPv6 address.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// What a finished proxy handshake hands over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Established {
    /// Bytes that followed the proxy's answer: the first bytes from the
    /// target, to be read before anything else from the stream.
    pub tunnel_bytes: Vec<u8>,
}

/// `%XX` escapes decoded (RFC 3986 §2.1); `None` for a bad escape or a
/// result that is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = core::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn invalid(why: String) -> Error {
    Error::InvalidProxyUrl(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn parse(url: &str) -> Proxy {
        Proxy::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    fn why(url: &str) -> String {
        match Proxy::parse(url) {
            Err(Error::InvalidProxyUrl(why)) => why,
            other => panic!("{url}: expected InvalidProxyUrl, got {other:?}"),
        }
    }

    #[test]
    fn parses_each_scheme_with_its_default_port() {
        let p = parse("http://proxy:3128");
        assert_eq!(
            (p.kind(), p.host(), p.port()),
            (ProxyKind::HttpConnect, "proxy", 3128)
        );
        assert_eq!(parse("HTTP://proxy").port(), 80);
        assert_eq!(parse("socks5://127.0.0.1").kind(), ProxyKind::Socks5);
        assert_eq!(parse("socks5://127.0.0.1").port(), 1080);
        assert_eq!(parse("SOCKS5H://[::1]:9050/").kind(), ProxyKind::Socks5h);
        assert_eq!(parse("socks5h://[::1]:9050").host(), "::1");
        // No scheme: http, as curl and the environment variables use it.
        let p = parse("proxy.corp:8080");
        assert_eq!((p.kind(), p.port()), (ProxyKind::HttpConnect, 8080));
        assert!(p.credentials().is_none());
    }

    #[test]
    fn decodes_credentials_and_never_shows_them() {
        let p = parse("socks5://us%3Aer:p%40ss:word@h:1");
        let c = p.credentials().unwrap();
        assert_eq!((c.user(), c.password()), ("us:er", "p@ss:word"));
        assert_eq!(p.to_string(), "socks5://h:1");
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("p@ss") && !debug.contains("word"),
            "{debug}"
        );
        assert!(debug.contains("redacted"), "{debug}");
        // A user without a password, and an '@' left unescaped.
        let p = parse("http://bob@h:1");
        assert_eq!(p.credentials().unwrap().password(), "");
        let p = parse("http://bob:a@b@h:1");
        assert_eq!(p.credentials().unwrap().password(), "a@b");
        assert_eq!(p.host(), "h");
        assert_eq!(parse("http://[::1]:3128").to_string(), "http://[::1]:3128");
    }

    #[test]
    fn refuses_what_it_cannot_use_without_repeating_credentials() {
        for (url, words) in [
            ("https://h:1", "https"),
            ("socks4://h:1", "scheme"),
            ("http://h:1/path", "path"),
            ("http://h:0", "port"),
            ("http://h:99999", "port"),
            ("http://:1", "no host"),
            ("http://h x:1", "visible ASCII"),
            ("http://u:bad%zzsecret@h:1", "bad %-escape"),
            ("http://[::1:1", "]"),
        ] {
            let text = why(url);
            assert!(text.contains(words), "{url}: {text}");
            assert!(!text.contains("secret"), "{url}: {text}");
        }
        // The whole error, Display and Debug, never holds the password.
        let err = Proxy::parse("http://user:hunter2@h:notaport").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");
    }

    #[test]
    fn targets_are_names_or_addresses() {
        assert_eq!(
            Target::from_host("example.com", 443).authority(),
            "example.com:443"
        );
        assert_eq!(Target::from_host("::1", 80).authority(), "[::1]:80");
        assert!(matches!(Target::from_host("10.0.0.1", 1), Target::Ip(..)));
        assert!(matches!(Target::from_host("ex", 1), Target::Name(..)));
    }

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode("a%20b").as_deref(), Some("a b"));
        assert_eq!(percent_decode("%"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%ff"), None, "not UTF-8");
        assert_eq!(percent_decode("%C3%A9").as_deref(), Some("é"));
    }
}
