//! Negotiating permessage-deflate (RFC 7692 §5, §7.1), pure: the
//! client's offer, the server's choice and answer, the client's check of
//! the answer.
//!
//! The four parameters (§7.1):
//!
//! | parameter | in an offer (client → server) | in a response (server → client) |
//! |---|---|---|
//! | `server_no_context_takeover` | asks the server to reset its compressor for each message; the server must agree or decline | the server resets for each message |
//! | `client_no_context_takeover` | the client will reset for each message | the client must reset for each message |
//! | `server_max_window_bits=N` | asks the server to use a window of at most 2^N; it must agree (answering N or less) or decline | the server's window is at most 2^N |
//! | `client_max_window_bits[=N]` | the client can be told a window size (and, with N, will use at most 2^N) | the client must use at most 2^N; only if offered |

use alloc::format;
use alloc::string::String;

use crate::error::{Error, Result};
use crate::sansio::deflate::extensions::{Extension, parse_extensions};
use crate::sansio::deflate::{Deflater, Inflater, MAX_WINDOW_BITS, MIN_WINDOW_BITS};
use crate::sansio::frame::Role;

/// The extension's name (§7: "The registered extension name for this
/// extension is "permessage-deflate"").
pub const EXTENSION_NAME: &str = "permessage-deflate";

/// permessage-deflate settings (RFC 7692): what this endpoint asks for or
/// accepts, set in [`Config::compression`](field@crate::Config::compression).
///
/// The defaults ask for nothing (context kept both ways, windows of 2^15
/// both ways), which costs the most memory and compresses best.
///
/// On a server each field is a requirement: `*_no_context_takeover` is
/// put in every response; `server_max_window_bits` below 15 is answered
/// whatever the offer (a server may always use a smaller window); and
/// `client_max_window_bits` below 15 can only be asked of a client that
/// offered `client_max_window_bits`, so an offer without it (Firefox's)
/// is declined. On a client the fields are what it offers.
///
/// ```
/// use plainws::sansio::deflate::negotiate::{DeflateConfig, accept_offers};
///
/// // A server that keeps at most 2^10 bytes of each client's history.
/// let mut config = DeflateConfig::default();
/// config.client_max_window_bits = 10;
/// let chrome = ["permessage-deflate; client_max_window_bits"];
/// let accepted = accept_offers(&config, chrome)?.expect("accepted");
/// assert_eq!(accepted.response, "permessage-deflate; client_max_window_bits=10");
/// // Firefox's bare offer cannot be limited, so it is declined.
/// assert!(accept_offers(&config, ["permessage-deflate"])?.is_none());
/// # Ok::<(), plainws::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// The server resets its compressor for each message (§7.1.1.1).
    /// Default `false`: a repeated message compresses to a few bytes.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor for each message (§7.1.1.2).
    /// Default `false`.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with, as a base-2
    /// logarithm, 8..=15 (§7.1.2.1). Default 15.
    pub server_max_window_bits: u8,
    /// The largest window the client compresses with, 8..=15 (§7.1.2.2).
    /// Default 15.
    pub client_max_window_bits: u8,
}

impl Default for DeflateConfig {
    fn default() -> DeflateConfig {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: MAX_WINDOW_BITS,
            client_max_window_bits: MAX_WINDOW_BITS,
        }
    }
}

impl DeflateConfig {
    fn clamped(self) -> DeflateConfig {
        DeflateConfig {
            server_max_window_bits: self
                .server_max_window_bits
                .clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS),
            client_max_window_bits: self
                .client_max_window_bits
                .clamp(MIN_WINDOW_BITS, MAX_WINDOW_BITS),
            ..self
        }
    }
}

/// The parameters both sides agreed on ("agreed parameters", §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// The server resets its compressor for each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor for each message.
    pub client_no_context_takeover: bool,
    /// The server's window, as a base-2 logarithm (8..=15).
    pub server_max_window_bits: u8,
    /// The client's window, as a base-2 logarithm (8..=15).
    pub client_max_window_bits: u8,
}

impl Agreed {
    /// The window bits and context reset of what `sender` sends.
    pub(crate) fn of(&self, sender: Role) -> (u8, bool) {
        match sender {
            Role::Server => (self.server_max_window_bits, self.server_no_context_takeover),
            Role::Client => (self.client_max_window_bits, self.client_no_context_takeover),
        }
    }

    /// The compressor for what an endpoint in `role` sends.
    pub fn deflater(&self, role: Role) -> Deflater {
        let (bits, reset) = self.of(role);
        Deflater::new(bits, reset)
    }

    /// The decompressor for what an endpoint in `role` receives (what its
    /// peer sends).
    pub fn inflater(&self, role: Role) -> Inflater {
        let (bits, reset) = self.of(peer_of(role));
        Inflater::new(bits, reset)
    }
}

/// The other end's role.
pub(crate) fn peer_of(role: Role) -> Role {
    match role {
        Role::Server => Role::Client,
        Role::Client => Role::Server,
    }
}

/// A server's acceptance of one offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The parameters in force.
    pub agreed: Agreed,
    /// The value of the `Sec-WebSocket-Extensions` response header.
    pub response: String,
}

/// The four parameters as one offer or response holds them.
#[derive(Debug, Default, Clone, Copy)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// Why one offer or response is not acceptable.
type Refusal = &'static str;

/// Reads the parameters of one `permessage-deflate` element, refusing
/// unknown parameters, duplicates and bad values (§7: "A server MUST
/// decline an extension negotiation offer for this extension if ... The
/// negotiation offer contains an extension parameter not defined for use
/// in an offer ... an extension parameter with an invalid value ...
/// multiple extension parameters with the same name"; §7 says the same
/// of a response for the client). `client_max_window_bits` may lack a
/// value only in an offer.
fn read_params(extension: &Extension, in_offer: bool) -> core::result::Result<Params, Refusal> {
    let mut params = Params::default();
    for (i, param) in extension.params.iter().enumerate() {
        let name = param.name.as_str();
        let duplicate = extension.params[..i]
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name));
        if duplicate {
            return Err("a permessage-deflate parameter appears twice");
        }
        let value = param.value.as_deref();
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                // §7.1.1: "This extension parameter has no value."
                if value.is_some() {
                    return Err("a no_context_takeover parameter has a value");
                }
                if name.eq_ignore_ascii_case("server_no_context_takeover") {
                    params.server_no_context_takeover = true;
                } else {
                    params.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                // §7.1.2.1: "This parameter has a decimal integer value
                // without leading zeroes between 8 to 15, inclusive".
                let bits = value
                    .and_then(window_bits)
                    .ok_or("server_max_window_bits needs a value from 8 to 15")?;
                params.server_max_window_bits = Some(bits);
            }
            "client_max_window_bits" => {
                // §7.1.2.2: in an offer, "no value or a decimal integer
                // value"; in a response it "has a value".
                let bits = match value {
                    None if in_offer => None,
                    None => return Err("client_max_window_bits in a response needs a value"),
                    Some(v) => Some(
                        window_bits(v)
                            .ok_or("client_max_window_bits needs a value from 8 to 15")?,
                    ),
                };
                params.client_max_window_bits = Some(bits);
            }
            _ => return Err("unknown permessage-deflate parameter"),
        }
    }
    Ok(params)
}

/// "8" to "15", written without leading zeroes.
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || value.len() > 2 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value
        .parse::<u8>()
        .ok()
        .filter(|bits| (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(bits))
}

/// The server's side: picks the first acceptable `permessage-deflate`
/// offer among the values of the client's `Sec-WebSocket-Extensions`
/// headers (offers come in the client's order of preference, §5.1:
/// "ordered by preference"; an offer that cannot be accepted falls back
/// to the next), and builds the response header's value.
///
/// `Ok(None)` declines: leave the header out of the response (§5.1).
/// Other extensions are ignored (not accepted). A header that breaks the
/// §9.1 grammar is [`Error::InvalidHeader`] (answer 400).
pub fn accept_offers<'a>(
    config: &DeflateConfig,
    header_values: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Accepted>> {
    let config = config.clamped();
    let extensions = parse_extensions(header_values)?;
    Ok(extensions
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(EXTENSION_NAME))
        .find_map(|offer| accept_one(&config, offer)))
}

fn accept_one(config: &DeflateConfig, offer: &Extension) -> Option<Accepted> {
    let offer = read_params(offer, true).ok()?;
    // The client's own window: at most what it promised (a value with
    // client_max_window_bits), at most what this server can be asked to
    // hold; a limit may be set only if the client offered the parameter
    // (§7.1.2.2: "If a received extension negotiation offer doesn't have
    // the "client_max_window_bits" extension parameter, the corresponding
    // extension negotiation response to the offer MUST NOT include the
    // "client_max_window_bits" extension parameter.").
    let (client_bits, answer_client_bits) = match offer.client_max_window_bits {
        None if config.client_max_window_bits < MAX_WINDOW_BITS => return None,
        None => (MAX_WINDOW_BITS, false),
        Some(promised) => {
            let promised = promised.unwrap_or(MAX_WINDOW_BITS);
            let bits = promised.min(config.client_max_window_bits);
            (bits, config.client_max_window_bits < promised)
        }
    };
    // §7.1.2.1: a server accepts server_max_window_bits "by including
    // [it] in the extension negotiation response ... with the same or
    // smaller value as the offer"; it may include it unasked.
    let server_bits = offer
        .server_max_window_bits
        .unwrap_or(MAX_WINDOW_BITS)
        .min(config.server_max_window_bits);
    let answer_server_bits =
        offer.server_max_window_bits.is_some() || server_bits < MAX_WINDOW_BITS;
    let agreed = Agreed {
        // §7.1.1.1: the server accepts server_no_context_takeover by
        // including it; it may include it unasked.
        server_no_context_takeover: offer.server_no_context_takeover
            || config.server_no_context_takeover,
        // §7.1.1.2: the server may include client_no_context_takeover
        // whatever the offer; a client that offered it keeps to it anyway.
        client_no_context_takeover: offer.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    };
    let mut response = String::from(EXTENSION_NAME);
    if agreed.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if agreed.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    if answer_server_bits {
        response.push_str(&format!("; server_max_window_bits={server_bits}"));
    }
    if answer_client_bits {
        response.push_str(&format!("; client_max_window_bits={client_bits}"));
    }
    Some(Accepted { agreed, response })
}

/// The client's side: the value of the `Sec-WebSocket-Extensions` request
/// header offering permessage-deflate with `config`. It always offers
/// `client_max_window_bits` (this client can use any window it is told),
/// with a value when `config` limits its own window.
pub fn offer(config: &DeflateConfig) -> String {
    let config = config.clamped();
    let mut offer = String::from(EXTENSION_NAME);
    if config.server_no_context_takeover {
        offer.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    if config.server_max_window_bits < MAX_WINDOW_BITS {
        offer.push_str(&format!(
            "; server_max_window_bits={}",
            config.server_max_window_bits
        ));
    }
    if config.client_max_window_bits < MAX_WINDOW_BITS {
        offer.push_str(&format!(
            "; client_max_window_bits={}",
            config.client_max_window_bits
        ));
    } else {
        offer.push_str("; client_max_window_bits");
    }
    offer
}

fn refused(why: &'static str) -> Error {
    Error::InvalidHeader(why)
}

/// The client's side: checks the values of the server's
/// `Sec-WebSocket-Extensions` response headers against the offer made
/// with [`offer`]`(config)`. `Ok(None)`: the server declined (no
/// extension). Anything the offer did not allow fails the handshake
/// (§7: "A client MUST _Fail the WebSocket Connection_ if the peer server
/// accepted an extension negotiation offer for this extension with an
/// extension negotiation response" that breaks a rule) with
/// [`Error::InvalidHeader`].
pub fn check_response<'a>(
    config: &DeflateConfig,
    header_values: impl IntoIterator<Item = &'a str>,
) -> Result<Option<Agreed>> {
    let config = config.clamped();
    let extensions = parse_extensions(header_values)?;
    let response = match extensions.as_slice() {
        [] => return Ok(None),
        [one] if one.name.eq_ignore_ascii_case(EXTENSION_NAME) => one,
        // RFC 6455 §9.1: the server may only answer with extensions the
        // client offered, and this client offered one, once.
        [_] => {
            return Err(refused(
                "the server accepted an extension that was not offered",
            ));
        }
        _ => return Err(refused("the server accepted more than one extension")),
    };
    let params = read_params(response, false).map_err(refused)?;
    // §7.1.1.1: a server accepts server_no_context_takeover "by including
    // [it] in the corresponding extension negotiation response".
    if config.server_no_context_takeover && !params.server_no_context_takeover {
        return Err(refused(
            "the server left out server_no_context_takeover, which was offered",
        ));
    }
    let server_bits = match params.server_max_window_bits {
        // §7.1.2.1: "with the same or smaller value as the offer".
        Some(bits) if bits > config.server_max_window_bits => {
            return Err(refused(
                "the server's server_max_window_bits is larger than offered",
            ));
        }
        Some(bits) => bits,
        None if config.server_max_window_bits < MAX_WINDOW_BITS => {
            return Err(refused(
                "the server left out server_max_window_bits, which was offered",
            ));
        }
        None => MAX_WINDOW_BITS,
    };
    // This client always offers client_max_window_bits, so the server may
    // answer with any value; the client keeps to its own limit too.
    let client_bits = params
        .client_max_window_bits
        .flatten()
        .unwrap_or(MAX_WINDOW_BITS)
        .min(config.client_max_window_bits);
    Ok(Some(Agreed {
        server_no_context_takeover: params.server_no_context_takeover,
        client_no_context_takeover: params.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: server_bits,
        client_max_window_bits: client_bits,
    }))
}

#[cfg(test)]
mod tests;
