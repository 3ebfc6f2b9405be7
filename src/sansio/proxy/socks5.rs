//! A tunnel through a SOCKS5 proxy (RFC 1928), with username/password
//! authentication (RFC 1929). Sans-I/O: a state machine that takes the
//! proxy's bytes however they are split and gives the bytes to send.
//!
//! ```text
//! client                                  proxy
//! 05 NMETHODS METHODS...        ->                      greeting (§3)
//!                               <-  05 METHOD           method selection
//! 01 ULEN USER PLEN PASSWD      ->                      only for method 02 (RFC 1929 §2)
//!                               <-  01 STATUS           00: accepted
//! 05 01 00 ATYP DST.ADDR DST.PORT ->                    CONNECT (§4)
//!                               <-  05 REP 00 ATYP BND.ADDR BND.PORT  (§6)
//! ```
//!
//! ```
//! use plainws::sansio::proxy::{Target, socks5::Socks5};
//!
//! let mut socks = Socks5::new(Target::from_host("example.com", 80), None)?;
//! let mut out = Vec::new();
//! socks.take_data_to_send(&mut out);
//! assert_eq!(out, [5, 1, 0]); // version 5, one method: no authentication
//! assert!(socks.receive(&[5, 0])?.is_none()); // the proxy chose it
//! out.clear();
//! socks.take_data_to_send(&mut out);
//! assert_eq!(out, b"\x05\x01\x00\x03\x0bexample.com\x00\x50"); // CONNECT by name
//! let reply = [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90]; // succeeded, bound 10.0.0.1:8080
//! let done = socks.receive(&reply)?.expect("the tunnel is open");
//! assert!(done.tunnel_bytes.is_empty());
//! # Ok::<(), plainws::Error>(())
//! ```

use alloc::{borrow::ToOwned, vec::Vec};
use core::net::IpAddr;

use super::{Credentials, Established, Target};
use crate::error::{Error, Result};

/// The protocol version byte (RFC 1928 §3).
const VERSION: u8 = 5;
/// "X'00' NO AUTHENTICATION REQUIRED" (§3).
const NO_AUTH: u8 = 0x00;
/// "X'02' USERNAME/PASSWORD" (§3, RFC 1929).
const USER_PASSWORD: u8 = 0x02;
/// "X'FF' NO ACCEPTABLE METHODS" (§3).
const NO_ACCEPTABLE: u8 = 0xFF;
/// The version of the username/password subnegotiation (RFC 1929 §2).
const AUTH_VERSION: u8 = 1;
/// "CONNECT X'01'" (§4).
const CONNECT: u8 = 1;
/// Address types (§4, §5).
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// REP in words (RFC 1928 §6).
pub fn reply_words(reply: u8) -> &'static str {
    match reply {
        0x00 => "succeeded",
        0x01 => "general SOCKS server failure",
        0x02 => "connection not allowed by ruleset",
        0x03 => "network unreachable",
        0x04 => "host unreachable",
        0x05 => "connection refused",
        0x06 => "TTL expired",
        0x07 => "command not supported",
        0x08 => "address type not supported",
        _ => "unassigned reply code",
    }
}

/// Where the handshake is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// Greeting sent; waiting for the method selection.
    Method,
    /// Username and password sent; waiting for the status.
    Auth,
    /// CONNECT sent; waiting for the reply.
    Reply,
    /// The tunnel is open.
    Done,
    /// An error was returned; nothing more is accepted.
    Failed,
}

/// The client side of a SOCKS5 handshake for one CONNECT.
///
/// It queues the greeting at once; after each [`receive`](Socks5::receive),
/// [`take_data_to_send`](Socks5::take_data_to_send) gives what to write
/// next. Bytes that arrive ahead of their turn are kept, and those after
/// the final reply are handed over as the tunnel's first bytes.
pub struct Socks5 {
    step: Step,
    /// Received and not yet used (at most one message, 262 bytes, plus
    /// what came with it).
    input: Vec<u8>,
    output: Vec<u8>,
    request: Vec<u8>,
    auth: Option<Vec<u8>>,
}

impl core::fmt::Debug for Socks5 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The queued bytes may hold the password: never shown.
        f.debug_struct("Socks5")
            .field("step", &self.step)
            .field("buffered", &self.input.len())
            .finish_non_exhaustive()
    }
}

impl Socks5 {
    /// A handshake to CONNECT to `target`: by name ([`Target::Name`],
    /// the proxy resolves it: `socks5h`) or by address. With
    /// `credentials`, username/password is offered besides no
    /// authentication.
    ///
    /// Refused as [`Error::InvalidProxyUrl`] before anything is sent: a
    /// user name or password empty or over 255 bytes (RFC 1929 §2: "ULEN
    /// ... 1 to 255", "PLEN ... 1 to 255"), a host name of 0 or over 255
    /// bytes (§5: one length octet).
    pub fn new(target: Target, credentials: Option<&Credentials>) -> Result<Socks5> {
        let mut output = Vec::new();
        let auth = match credentials {
            None => {
                output.extend_from_slice(&[VERSION, 1, NO_AUTH]);
                None
            }
            Some(credentials) => {
                let (user, password) = (credentials.user(), credentials.password());
                let fits = |s: &str| (1..=255).contains(&s.len());
                if !fits(user) || !fits(password) {
                    return Err(Error::InvalidProxyUrl(
                        "a SOCKS5 user name and password are 1 to 255 bytes each (RFC 1929 §2)"
                            .to_owned(),
                    ));
                }
                output.extend_from_slice(&[VERSION, 2, NO_AUTH, USER_PASSWORD]);
                let mut auth = Vec::with_capacity(3 + user.len() + password.len());
                auth.push(AUTH_VERSION);
                auth.push(user.len() as u8);
                auth.extend_from_slice(user.as_bytes());
                auth.push(password.len() as u8);
                auth.extend_from_slice(password.as_bytes());
                Some(auth)
            }
        };
        let mut request = Vec::with_capacity(262);
        request.extend_from_slice(&[VERSION, CONNECT, 0]);
        let port = match &target {
            Target::Ip(IpAddr::V4(ip), port) => {
                request.push(ATYP_IPV4);
                request.extend_from_slice(&ip.octets());
                *port
            }
            Target::Ip(IpAddr::V6(ip), port) => {
                request.push(ATYP_IPV6);
                request.extend_from_slice(&ip.octets());
                *port
            }
            Target::Name(name, port) => {
                if name.is_empty() || name.len() > 255 {
                    return Err(Error::InvalidProxyUrl(
                        "a host name sent to a SOCKS5 proxy is 1 to 255 bytes (RFC 1928 §5)"
                            .to_owned(),
                    ));
                }
                request.push(ATYP_DOMAIN);
                request.push(name.len() as u8);
                request.extend_from_slice(name.as_bytes());
                *port
            }
        };
        request.extend_from_slice(&port.to_be_bytes());
        Ok(Socks5 {
            step: Step::Method,
            input: Vec::new(),
            output,
            request,
            auth,
        })
    }

    /// Moves the bytes to send to the proxy into `out`.
    pub fn take_data_to_send(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.output);
    }

    /// Whether the tunnel is open.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Takes the next bytes from the proxy. `Ok(None)`: more are needed
    /// (and [`take_data_to_send`](Socks5::take_data_to_send) may have
    /// something to write). `Ok(Some(_))`: the CONNECT succeeded; bytes
    /// that followed the reply are the tunnel's. An error is final:
    ///
    /// - [`Error::ProxyAuthFailed`]: no offered method is acceptable
    ///   (X'FF'), or the username and password were refused;
    /// - [`Error::ProxyTargetUnreachable`]: a reply other than succeeded;
    /// - [`Error::InvalidProxyResponse`]: not SOCKS5, a method that was
    ///   not offered, an unknown address type, or bytes after the end.
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Option<Established>> {
        if matches!(self.step, Step::Done | Step::Failed) {
            self.step = Step::Failed;
            return Err(Error::InvalidProxyResponse(
                "bytes fed after the end of the SOCKS5 handshake",
            ));
        }
        self.input.extend_from_slice(bytes);
        let result = self.advance();
        if result.is_err() {
            self.step = Step::Failed;
            self.output.clear();
        }
        result
    }

    /// Handles every complete message in the input, in turn.
    fn advance(&mut self) -> Result<Option<Established>> {
        loop {
            match self.step {
                Step::Method => {
                    let [version, method] = match self.input.get(..2) {
                        Some(&[v, m]) => [v, m],
                        _ => return Ok(None),
                    };
                    if version != VERSION {
                        return Err(Error::InvalidProxyResponse(
                            "the proxy does not speak SOCKS5 (its first byte is not 5)",
                        ));
                    }
                    self.input.drain(..2);
                    match method {
                        NO_AUTH => self.send_request(),
                        USER_PASSWORD => match self.auth.take() {
                            Some(auth) => {
                                self.output.extend_from_slice(&auth);
                                self.step = Step::Auth;
                            }
                            None => return Err(not_offered()),
                        },
                        NO_ACCEPTABLE if self.auth.is_some() => {
                            return Err(Error::ProxyAuthFailed(
                                "the SOCKS5 proxy accepts neither no authentication nor \
                                 username/password (RFC 1928 §3: X'FF')"
                                    .to_owned(),
                            ));
                        }
                        NO_ACCEPTABLE => {
                            return Err(Error::ProxyAuthFailed(
                                "the SOCKS5 proxy requires authentication: give \
                                 user:password in the proxy URL (RFC 1928 §3: X'FF')"
                                    .to_owned(),
                            ));
                        }
                        _ => return Err(not_offered()),
                    }
                }
                Step::Auth => {
                    let [version, status] = match self.input.get(..2) {
                        Some(&[v, s]) => [v, s],
                        _ => return Ok(None),
                    };
                    // RFC 1929 §2 says VER is 1; some servers answer 5.
                    if version != AUTH_VERSION && version != VERSION {
                        return Err(Error::InvalidProxyResponse(
                            "the username/password status has version other than 1",
                        ));
                    }
                    self.input.drain(..2);
                    // "A STATUS field of X'00' indicates success. If the
                    // server returns a `failure' (STATUS value other than
                    // X'00') status, it MUST close the connection."
                    if status != 0 {
                        return Err(Error::ProxyAuthFailed(
                            "the SOCKS5 proxy refused the user name and password (RFC 1929)"
                                .to_owned(),
                        ));
                    }
                    self.send_request();
                }
                Step::Reply => {
                    let Some(len) = reply_len(&self.input)? else {
                        return Ok(None);
                    };
                    let (version, reply) = (self.input[0], self.input[1]);
                    if version != VERSION {
                        return Err(Error::InvalidProxyResponse(
                            "the SOCKS5 reply's version is not 5",
                        ));
                    }
                    if reply != 0 {
                        return Err(Error::ProxyTargetUnreachable { reply });
                    }
                    self.step = Step::Done;
                    let tunnel_bytes = self.input.split_off(len);
                    self.input = Vec::new();
                    return Ok(Some(Established { tunnel_bytes }));
                }
                Step::Done | Step::Failed => return Ok(None),
            }
        }
    }

    fn send_request(&mut self) {
        self.output.append(&mut self.request);
        self.step = Step::Reply;
    }
}

fn not_offered() -> Error {
    Error::InvalidProxyResponse("the SOCKS5 proxy chose a method that was not offered")
}

/// The length of the reply at the start of `input` (RFC 1928 §6:
/// `VER REP RSV ATYP BND.ADDR BND.PORT`), once enough of it is there to
/// tell. A REP other than success may come with any address; the length
/// is still read, but a failure is reported as soon as REP is known.
fn reply_len(input: &[u8]) -> Result<Option<usize>> {
    if input.len() >= 2 && input[0] == VERSION && input[1] != 0 {
        // The reply code is all that matters now.
        return Ok(Some(2));
    }
    let Some(&atyp) = input.get(3) else {
        return Ok(None);
    };
    let len = match atyp {
        ATYP_IPV4 => 4 + 4 + 2,
        ATYP_IPV6 => 4 + 16 + 2,
        ATYP_DOMAIN => match input.get(4) {
            Some(&n) => 4 + 1 + usize::from(n) + 2,
            None => return Ok(None),
        },
        _ => {
            return Err(Error::InvalidProxyResponse(
                "the SOCKS5 reply has an unknown address type (RFC 1928 §5: 1, 3 or 4)",
            ));
        }
    };
    Ok((input.len() >= len).then_some(len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn sent(socks: &mut Socks5) -> Vec<u8> {
        let mut out = Vec::new();
        socks.take_data_to_send(&mut out);
        out
    }

    /// Runs a whole handshake, the proxy's bytes in pieces of `size`;
    /// returns what the client sent and how it ended.
    fn run(
        target: Target,
        credentials: Option<&Credentials>,
        answer: &[u8],
        size: usize,
    ) -> (Vec<u8>, Result<Option<Established>>) {
        let mut socks = Socks5::new(target, credentials).unwrap();
        let mut wrote = sent(&mut socks);
        for chunk in answer.chunks(size) {
            let result = socks.receive(chunk);
            wrote.extend(sent(&mut socks));
            match result {
                Ok(None) => {}
                other => return (wrote, other),
            }
        }
        (wrote, Ok(None))
    }

    const OK_V4: [u8; 10] = [5, 0, 0, 1, 127, 0, 0, 1, 0x04, 0xd2];

    #[test]
    fn connects_by_ipv4_ipv6_and_name_in_any_chunking() {
        let v4 = Target::Ip(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 443);
        let v6 = Target::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST), 80);
        let name = Target::Name("echo.test".into(), 9001);
        let mut v6_request = vec![5, 1, 0, 4];
        v6_request.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
        v6_request.extend_from_slice(&[0, 80]);
        for (target, request) in [
            (v4, vec![5, 1, 0, 1, 192, 0, 2, 1, 1, 0xbb]),
            (v6, v6_request),
            (name, b"\x05\x01\x00\x03\x09echo.test\x23\x29".to_vec()),
        ] {
            let mut answer = vec![5, 0];
            answer.extend_from_slice(&OK_V4);
            answer.extend_from_slice(b"data");
            for size in 1..=answer.len() {
                let (wrote, result) = run(target.clone(), None, &answer, size);
                let mut expected = vec![5, 1, 0];
                expected.extend_from_slice(&request);
                assert_eq!(wrote, expected, "{target:?} in pieces of {size}");
                let done = result.unwrap().expect("established");
                assert!(b"data".starts_with(&done.tunnel_bytes), "{size}");
            }
        }
    }

    #[test]
    fn every_bound_address_type_is_read() {
        let mut v6 = vec![5, 0, 0, 4];
        v6.extend_from_slice(&[0; 16]);
        v6.extend_from_slice(&[0, 1, b'X']);
        let mut name = vec![5, 0, 0, 3, 4];
        name.extend_from_slice(b"host\x00\x01X");
        for reply in [v6, name, [&OK_V4[..], b"X"].concat()] {
            let answer = [&[5, 0][..], &reply].concat();
            let (_, result) = run(Target::from_host("h", 1), None, &answer, answer.len());
            assert_eq!(result.unwrap().unwrap().tunnel_bytes, b"X");
        }
    }

    #[test]
    fn authenticates_with_rfc_1929() {
        let credentials = Credentials::new("alice", "pw");
        let answer = [&[5, 2, 1, 0][..], &OK_V4].concat();
        for size in 1..=answer.len() {
            let (wrote, result) = run(Target::from_host("h", 1), Some(&credentials), &answer, size);
            assert!(result.unwrap().is_some());
            assert_eq!(
                wrote,
                b"\x05\x02\x00\x02\x01\x05alice\x02pw\x05\x01\x00\x03\x01h\x00\x01"
            );
        }
        // The proxy may choose no authentication even when offered both.
        let answer = [&[5, 0][..], &OK_V4].concat();
        let (wrote, result) = run(Target::from_host("h", 1), Some(&credentials), &answer, 1);
        assert!(result.unwrap().is_some());
        assert!(!wrote.windows(5).any(|w| w == b"alice"));
    }

    #[test]
    fn refusals_are_named() {
        let credentials = Credentials::new("alice", "secret");
        let target = || Target::from_host("h", 1);
        match run(target(), Some(&credentials), &[5, 2, 1, 1], 1).1 {
            Err(Error::ProxyAuthFailed(why)) => assert!(!why.contains("secret")),
            other => panic!("{other:?}"),
        }
        match run(target(), None, &[5, 0xff], 1).1 {
            Err(Error::ProxyAuthFailed(why)) => assert!(why.contains("requires")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            run(target(), Some(&credentials), &[5, 0xff], 2).1,
            Err(Error::ProxyAuthFailed(_))
        ));
        for (bad, what) in [
            (&b"HTTP/1.1 400"[..], "SOCKS5"),
            (&[5, 2][..], "not offered"),
            (&[5, 1][..], "not offered"),
            (&[5, 0, 4, 0, 0, 1, 0, 0, 0, 0, 0, 0][..], "version"),
            (&[5, 0, 5, 0, 0, 9][..], "unknown address type"),
        ] {
            match run(target(), None, bad, 1).1 {
                Err(Error::InvalidProxyResponse(why)) => assert!(why.contains(what), "{why}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn every_reply_code_has_words() {
        for reply in 1..=0xffu8 {
            let answer = [5, 0, 5, reply, 0, 1, 0, 0, 0, 0, 0, 0];
            let error = run(Target::from_host("h", 1), None, &answer, 1)
                .1
                .unwrap_err();
            assert!(matches!(error, Error::ProxyTargetUnreachable { reply: r } if r == reply));
            let text = alloc::format!("{error}");
            assert!(text.contains(reply_words(reply)), "{text}");
        }
        assert_eq!(reply_words(4), "host unreachable");
        assert_eq!(reply_words(5), "connection refused");
        assert_eq!(reply_words(9), "unassigned reply code");
    }

    #[test]
    fn refuses_what_socks5_cannot_carry() {
        let long = "x".repeat(256);
        for (target, credentials) in [
            (Target::Name(long.clone(), 1), None),
            (Target::Name(String::new(), 1), None),
            (
                Target::from_host("h", 1),
                Some(Credentials::new(&long, "p")),
            ),
            (Target::from_host("h", 1), Some(Credentials::new("u", ""))),
        ] {
            assert!(matches!(
                Socks5::new(target, credentials.as_ref()),
                Err(Error::InvalidProxyUrl(_))
            ));
        }
    }

    #[test]
    fn nothing_is_accepted_after_the_end_and_debug_hides_the_password() {
        let credentials = Credentials::new("alice", "hunter2");
        let mut socks = Socks5::new(Target::from_host("h", 1), Some(&credentials)).unwrap();
        sent(&mut socks);
        socks.receive(&[5, 2]).unwrap();
        let debug = alloc::format!("{socks:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("alice"),
            "{debug}"
        );
        socks.receive(&[1, 0]).unwrap();
        assert!(socks.receive(&OK_V4).unwrap().is_some());
        assert!(socks.is_done());
        assert!(socks.receive(b"x").is_err());
    }

    use alloc::string::String;
}
