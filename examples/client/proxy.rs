//! The client's proxy options: `--proxy URL` and `--noproxy`, else the
//! environment (`HTTPS_PROXY` for wss://, `HTTP_PROXY` for ws://,
//! `ALL_PROXY`, lower-case forms first, and `NO_PROXY`), as curl reads it.

use plainws::sansio::proxy::env::proxy_for;
use plainws::{ClientOptions, Error, Proxy, ProxySetting};

/// Handles `--proxy VALUE` (`Some`) or `--noproxy` (`None`).
pub fn option(options: &mut ClientOptions, value: Option<&str>) -> Result<(), String> {
    options.proxy = match value {
        None | Some("") => ProxySetting::Direct,
        Some(url) => ProxySetting::Proxy(Proxy::parse(url).map_err(|e| format!("--proxy: {e}"))?),
    };
    Ok(())
}

/// The proxy a connection to `url` goes through, as `scheme://host:port`
/// and where the setting came from (for the log line; never credentials).
pub fn describe(url: &str, setting: &ProxySetting) -> Option<String> {
    match setting {
        ProxySetting::Proxy(proxy) => Some(format!("{proxy} (--proxy)")),
        ProxySetting::Environment => {
            let (secure, host) = scheme_and_host(url)?;
            let proxy = proxy_for(secure, &host, |name| std::env::var(name).ok()).ok()??;
            Some(format!("{proxy} (from the environment)"))
        }
        _ => None,
    }
}

/// A hint for a proxy's refusal, if there is one to give.
pub fn hint(error: &Error) -> Option<&'static str> {
    match error {
        Error::ProxyRefused { status: 407, .. } => {
            Some("the proxy wants credentials: --proxy http://USER:PASSWORD@HOST:PORT")
        }
        Error::ProxyAuthFailed(_) => Some("check the user name and password in the proxy URL"),
        Error::ProxyUnreachable { .. } => Some("is the proxy running? --noproxy connects directly"),
        _ => None,
    }
}

/// `wss://` or not, and the host of a WebSocket URL (brackets removed).
fn scheme_and_host(url: &str) -> Option<(bool, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.split(':').next()?,
    };
    Some((scheme.eq_ignore_ascii_case("wss"), host.to_owned()))
}
