//! The proxy the environment names for a URL, as curl and
//! python-websockets read it. Pure: the caller passes the lookup (the
//! blocking driver's is `std::env::var`), so the rules are tested here
//! without touching a process's environment.
//!
//! For a `wss://` URL, `https_proxy` then `HTTPS_PROXY`; for `ws://`,
//! `http_proxy` then `HTTP_PROXY`; then `all_proxy`, `ALL_PROXY`. The
//! lower-case form wins, as in curl and Python's `urllib`. A variable set
//! to the empty string counts as unset. `no_proxy` (or `NO_PROXY`) lists
//! the hosts reached directly, see [`NoProxy`].

use alloc::{borrow::ToOwned, format, string::String, vec::Vec};
use core::net::IpAddr;

use super::Proxy;
use crate::error::{Error, Result};

/// The proxy for a connection to `host` (a name or an IP address, IPv6
/// without brackets), `secure` for `wss://`, from the variables `lookup`
/// returns. `Ok(None)`: connect directly (no variable set, or `NO_PROXY`
/// matches). A variable that does not parse is an
/// [`Error::InvalidProxyUrl`] naming the variable, never its credentials.
pub fn proxy_for(
    secure: bool,
    host: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>> {
    let get = |name: &str| lookup(name).filter(|value| !value.is_empty());
    let no_proxy = get("no_proxy").or_else(|| get("NO_PROXY"));
    if no_proxy.is_some_and(|list| NoProxy::parse(&list).matches(host)) {
        return Ok(None);
    }
    let names: [&str; 4] = if secure {
        ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
    } else {
        ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
    };
    for name in names {
        if let Some(value) = get(name) {
            return Proxy::parse(&value).map(Some).map_err(|e| match e {
                Error::InvalidProxyUrl(why) => Error::InvalidProxyUrl(format!("{name}: {why}")),
                other => other,
            });
        }
    }
    Ok(None)
}

/// One entry of a `NO_PROXY` list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    /// `*`: every host.
    All,
    /// A host name (lower case, without a leading or trailing dot): the
    /// name itself and every name under it.
    Domain(String),
    /// An address, or a range in CIDR notation (RFC 4632 §3.1): the
    /// network and its prefix length.
    Network(IpAddr, u8),
}

/// A `NO_PROXY` list: hosts that are reached directly.
///
/// Entries are separated by commas (and spaces). Each is `*` (every
/// host), a host name (`example.com` matches `example.com` and
/// `a.example.com`, not `badexample.com`; a leading `.` or `*.` means the
/// same), an IP address (`127.0.0.1`, `::1`, `[::1]`), or a CIDR range
/// (`10.0.0.0/8`, `fd00::/8`). A `:port` after an entry is ignored, as
/// curl does. Names compare without case; an address only matches an
/// address (no name is resolved).
///
/// ```
/// use plainws::sansio::proxy::env::NoProxy;
///
/// let list = NoProxy::parse("localhost, .corp.example, 10.0.0.0/8, ::1");
/// assert!(list.matches("localhost"));
/// assert!(list.matches("ws.corp.example"));
/// assert!(list.matches("10.1.2.3"));
/// assert!(list.matches("::1"));
/// assert!(!list.matches("example.com"));
/// assert!(!list.matches("11.0.0.1"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NoProxy {
    rules: Vec<Rule>,
}

impl NoProxy {
    /// Parses a list; entries it cannot read are skipped.
    pub fn parse(list: &str) -> NoProxy {
        let rules = list
            .split([',', ' ', '\t'])
            .filter(|entry| !entry.is_empty())
            .filter_map(rule)
            .collect();
        NoProxy { rules }
    }

    /// Whether `host` (a name, or an IP address, IPv6 with or without
    /// brackets) is to be reached directly.
    pub fn matches(&self, host: &str) -> bool {
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let host = host.strip_suffix('.').unwrap_or(host);
        let ip = host.parse::<IpAddr>().ok();
        self.rules.iter().any(|rule| match (rule, ip) {
            (Rule::All, _) => true,
            (Rule::Network(network, prefix), Some(ip)) => in_network(ip, *network, *prefix),
            (Rule::Domain(domain), None) => {
                let host = host.to_ascii_lowercase();
                host == *domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|head| head.ends_with('.'))
            }
            // An IP-literal host is matched by addresses only, a name by
            // names only: nothing is resolved.
            (Rule::Domain(_), Some(_)) | (Rule::Network(..), None) => false,
        })
    }
}

/// One entry as a rule, or `None` when it cannot be one.
fn rule(entry: &str) -> Option<Rule> {
    if entry == "*" {
        return Some(Rule::All);
    }
    // CIDR: address/prefix.
    if let Some((address, prefix)) = entry.split_once('/') {
        let address = unbracket(address);
        let ip = address.parse::<IpAddr>().ok()?;
        let prefix = prefix.parse::<u8>().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (prefix <= max).then_some(Rule::Network(ip, prefix));
    }
    // A bare address (IPv6 unbracketed has several colons).
    if let Ok(ip) = unbracket(entry).parse::<IpAddr>() {
        return Some(Rule::Network(ip, if ip.is_ipv4() { 32 } else { 128 }));
    }
    // [v6]:port or name:port: the port is ignored.
    if let Some(bracketed) = entry.strip_prefix('[') {
        let (address, _) = bracketed.split_once(']')?;
        let ip = address.parse::<IpAddr>().ok()?;
        return Some(Rule::Network(ip, 128));
    }
    let name = match entry.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        Some(_) => return None,
        None => entry,
    };
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(Rule::Network(ip, 32));
    }
    let name = name.strip_prefix('*').unwrap_or(name);
    let name = name.trim_matches('.');
    if name.is_empty() {
        return None;
    }
    Some(Rule::Domain(name.to_ascii_lowercase().to_owned()))
}

fn unbracket(s: &str) -> &str {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s)
}

/// Whether `ip` is within `network/prefix`. An IPv4-mapped IPv6 address
/// (`::ffff:a.b.c.d`) is compared as the IPv4 address it carries.
fn in_network(ip: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let ip = canonical(ip);
    match (ip, canonical(network)) {
        (IpAddr::V4(ip), IpAddr::V4(network)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(network) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(network)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(network) & mask
        }
        _ => false,
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn chosen(secure: bool, host: &str, vars: &[(&str, &str)]) -> Option<String> {
        proxy_for(secure, host, env(vars))
            .unwrap()
            .map(|p| p.to_string())
    }

    #[test]
    fn the_scheme_picks_the_variable_and_lower_case_wins() {
        let vars = [
            ("HTTPS_PROXY", "http://upper-s:1"),
            ("https_proxy", "http://lower-s:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("ALL_PROXY", "socks5h://all:1"),
        ];
        assert_eq!(
            chosen(true, "h", &vars).as_deref(),
            Some("http://lower-s:1")
        );
        assert_eq!(chosen(false, "h", &vars).as_deref(), Some("http://upper:1"));
        assert_eq!(
            chosen(true, "h", &vars[2..]).as_deref(),
            Some("socks5h://all:1")
        );
        assert_eq!(
            chosen(
                false,
                "h",
                &[("all_proxy", "socks5://a:2"), ("ALL_PROXY", "x:1")]
            )
            .as_deref(),
            Some("socks5://a:2")
        );
        assert_eq!(chosen(true, "h", &[("HTTP_PROXY", "http://p:1")]), None);
        assert_eq!(chosen(false, "h", &[]), None);
    }

    #[test]
    fn an_empty_variable_is_unset() {
        let vars = [("https_proxy", ""), ("HTTPS_PROXY", "http://p:1")];
        assert_eq!(chosen(true, "h", &vars).as_deref(), Some("http://p:1"));
        assert_eq!(chosen(true, "h", &[("https_proxy", "")]), None);
        // An empty NO_PROXY excludes nothing.
        let vars = [("no_proxy", ""), ("HTTPS_PROXY", "http://p:1")];
        assert!(chosen(true, "h", &vars).is_some());
    }

    #[test]
    fn no_proxy_excludes_matching_hosts() {
        let vars = [
            ("HTTP_PROXY", "http://p:1"),
            ("NO_PROXY", "localhost,.internal, 127.0.0.0/8"),
        ];
        assert_eq!(chosen(false, "localhost", &vars), None);
        assert_eq!(chosen(false, "ws.internal", &vars), None);
        assert_eq!(chosen(false, "127.0.0.1", &vars), None);
        assert!(chosen(false, "example.com", &vars).is_some());
        assert!(chosen(false, "::1", &vars).is_some());
        // no_proxy wins over NO_PROXY, as the lower-case forms do.
        let vars = [
            ("HTTP_PROXY", "http://p:1"),
            ("no_proxy", "a"),
            ("NO_PROXY", "b"),
        ];
        assert_eq!(chosen(false, "a", &vars), None);
        assert!(chosen(false, "b", &vars).is_some());
    }

    #[test]
    fn a_bad_variable_is_named_without_its_credentials() {
        let vars = [("HTTPS_PROXY", "ftp://user:hunter2@p:1")];
        match proxy_for(true, "h", env(&vars)) {
            Err(Error::InvalidProxyUrl(why)) => {
                assert!(why.starts_with("HTTPS_PROXY: "), "{why}");
                assert!(!why.contains("hunter2"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn names_match_themselves_and_their_subdomains() {
        let list = NoProxy::parse("example.com,.Corp.Test,*.wild.test");
        for host in [
            "example.com",
            "EXAMPLE.com",
            "a.example.com",
            "a.b.example.com",
            "example.com.",
            "corp.test",
            "x.corp.test",
            "wild.test",
            "y.wild.test",
        ] {
            assert!(list.matches(host), "{host}");
        }
        for host in [
            "badexample.com",
            "example.co",
            "com",
            "test",
            "corp.test.evil",
        ] {
            assert!(!list.matches(host), "{host}");
        }
    }

    #[test]
    fn addresses_and_cidr_ranges_match_addresses() {
        let list = NoProxy::parse("192.168.0.0/16 10.1.2.3 [::1] fd00::/8 172.16.0.1:8080");
        for host in [
            "192.168.4.5",
            "10.1.2.3",
            "::1",
            "[::1]",
            "fd12::1",
            "::ffff:192.168.1.1",
            "172.16.0.1",
        ] {
            assert!(list.matches(host), "{host}");
        }
        for host in ["192.169.0.1", "10.1.2.4", "::2", "fe80::1", "localhost"] {
            assert!(!list.matches(host), "{host}");
        }
        // Prefix lengths at their ends.
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8"));
        assert!(NoProxy::parse("::/0").matches("2001:db8::1"));
        assert!(!NoProxy::parse("::/0").matches("8.8.8.8"));
        assert!(NoProxy::parse("10.0.0.1/32").matches("10.0.0.1"));
        assert!(!NoProxy::parse("10.0.0.1/32").matches("10.0.0.2"));
        // Nonsense is skipped, not fatal.
        let list = NoProxy::parse("10.0.0.0/33, /8, ::1/200, a:b:c, ., , h");
        assert!(!list.matches("10.0.0.1"));
        assert!(list.matches("h"));
    }

    #[test]
    fn a_star_matches_everything() {
        let list = NoProxy::parse("*");
        assert!(list.matches("example.com") && list.matches("::1") && list.matches("10.0.0.1"));
        assert!(!NoProxy::default().matches("example.com"));
    }
}
