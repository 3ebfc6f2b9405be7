//! The client's protocol-lab options: what the JSON server's page asks
//! the server for, sent from the command line instead. A message
//! fragmented into N frames, a Ping with a payload, a Close with a code
//! and a reason, and a raw frame given in hex, masked by the client (or
//! not, when asked) so that a student can send what no library sends.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use plainws::sansio::frame::{FrameHeader, Opcode};
use plainws::sansio::mask::apply_mask;
use plainws::sansio::trace::{format_frame, format_frame_bytes, hex};
use plainws::{CloseCode, Direction, Error, Sender};

/// What to send before the input lines, in the order given.
pub enum Trick {
    Ping(Vec<u8>),
    Raw { bytes: Vec<u8>, mask: bool },
}

/// The lab options given.
pub struct Tricks {
    pub before: Vec<Trick>,
    pub fragments: usize,
    pub close: (CloseCode, String),
}

impl Default for Tricks {
    fn default() -> Tricks {
        Tricks {
            before: Vec::new(),
            fragments: 1,
            close: (CloseCode::NORMAL, "end of input".into()),
        }
    }
}

impl Tricks {
    /// Takes `arg` (and its value) when it is a lab option: `Ok(true)`.
    pub fn parse(
        &mut self,
        arg: &str,
        value: &mut dyn FnMut(&str) -> Result<String, String>,
    ) -> Result<bool, String> {
        match arg {
            "--fragments" => {
                let n = value(arg)?;
                self.fragments = n.parse().ok().filter(|&n| n >= 1).ok_or(format!(
                    "--fragments {n:?}: expected a number of frames (1 or more)"
                ))?;
            }
            "--ping" => {
                let payload = value(arg)?.into_bytes();
                if payload.len() > 125 {
                    return Err(
                        "--ping: a Ping's payload is at most 125 bytes (RFC 6455 §5.5)".into(),
                    );
                }
                self.before.push(Trick::Ping(payload));
            }
            "--close" => {
                let given = value(arg)?;
                let (code, reason) = given.split_once(':').unwrap_or((&given, ""));
                let code = code
                    .parse()
                    .ok()
                    .map(CloseCode)
                    .filter(|code| code.is_sendable())
                    .ok_or(format!(
                        "--close {given:?}: expected CODE[:REASON], a code that may be sent (1000-1003, 1007-1014, 3000-4999)"
                    ))?;
                self.close = (code, reason.into());
            }
            "--raw" | "--raw-unmasked" => {
                let given = value(arg)?;
                let bytes = parse_hex(&given).map_err(|why| format!("{arg} {given:?}: {why}"))?;
                if bytes.len() < 2 {
                    return Err(format!("{arg} {given:?}: a frame has at least 2 bytes"));
                }
                let mask = arg == "--raw";
                if mask && bytes[1] & 0x80 != 0 {
                    return Err(format!(
                        "{arg} {given:?}: give the frame unmasked (MASK=0): the client masks it (or use --raw-unmasked)"
                    ));
                }
                self.before.push(Trick::Raw { bytes, mask });
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Sends the Pings and raw frames, in order. Raw frames are traced
    /// here (the tracer only sees what plainws itself encodes).
    pub fn send_before(&self, sender: &Sender, trace: Option<bool>) -> Result<(), Error> {
        for trick in &self.before {
            match trick {
                Trick::Ping(payload) => sender.ping(payload)?,
                Trick::Raw { bytes, mask } => {
                    let wire = if *mask {
                        masked(bytes, random_key())
                    } else {
                        bytes.clone()
                    };
                    if let Some(annotated) = trace {
                        eprintln!("{}", describe_raw(&wire, annotated));
                    }
                    plainws::__lab::write_raw_bytes_breaking_the_protocol(sender, &wire)?;
                }
            }
        }
        Ok(())
    }
}

/// Sends `data` as one message of `fragments` frames (RFC 6455 §5.4):
/// `opcode` first, then continuations, FIN on the last. The cuts fall
/// on byte counts, even inside a character: only the whole message
/// must be UTF-8.
pub fn send_fragmented(
    sender: &Sender,
    opcode: Opcode,
    data: &[u8],
    fragments: usize,
) -> Result<(), Error> {
    for i in 0..fragments {
        let (from, to) = (data.len() * i / fragments, data.len() * (i + 1) / fragments);
        let op = if i == 0 { opcode } else { Opcode::Continuation };
        sender.send_fragment(op, &data[from..to], i + 1 == fragments)?;
    }
    Ok(())
}

/// Bytes from hex, spaces (and `:`) allowed between them.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':')
        .collect();
    if digits.len() % 2 != 0 {
        return Err("an odd number of hex digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("{:?} is not hex", String::from_utf8_lossy(pair)))
        })
        .collect()
}

/// Where the extended length ends in an unmasked frame (RFC 6455 §5.2).
fn header_len(frame: &[u8]) -> usize {
    match frame[1] & 0x7F {
        126 => 4,
        127 => 10,
        _ => 2,
    }
}

/// The frame with MASK set, `key` after the length, the payload masked
/// (RFC 6455 §5.3).
pub fn masked(frame: &[u8], key: [u8; 4]) -> Vec<u8> {
    let head = header_len(frame).min(frame.len());
    let mut out = frame[..head].to_vec();
    out[1] |= 0x80;
    out.extend_from_slice(&key);
    let start = out.len();
    out.extend_from_slice(&frame[head..]);
    apply_mask(&mut out[start..], key, 0);
    out
}

/// A masking key from the standard library's random hash seed.
fn random_key() -> [u8; 4] {
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits as u32).to_be_bytes()
}

/// A raw frame as `--trace` shows frames, when its header is one plainws
/// can describe; otherwise its bytes.
fn describe_raw(wire: &[u8], annotated: bool) -> String {
    let note = "(raw, from --raw: plainws checked nothing)";
    let Some((header, payload)) = parse_frame(wire) else {
        return format!("-> raw bytes {note}: {}", hex(wire));
    };
    let preview = &payload[..payload.len().min(64)];
    let text = if annotated {
        format_frame_bytes(Direction::Outgoing, &header, preview)
    } else {
        format_frame(Direction::Outgoing, &header, preview)
    };
    format!("{text}\n   {note}")
}

/// The header and the unmasked payload of a whole frame.
fn parse_frame(wire: &[u8]) -> Option<(FrameHeader, Vec<u8>)> {
    let (b0, b1) = (*wire.first()?, *wire.get(1)?);
    let opcode = Opcode::from_bits(b0 & 0x0F)?;
    let mut at = header_len(wire);
    let len = match b1 & 0x7F {
        126 => u64::from(u16::from_be_bytes(wire.get(2..4)?.try_into().ok()?)),
        127 => u64::from_be_bytes(wire.get(2..10)?.try_into().ok()?),
        n => u64::from(n),
    };
    let mask = if b1 & 0x80 != 0 {
        let key: [u8; 4] = wire.get(at..at + 4)?.try_into().ok()?;
        at += 4;
        Some(key)
    } else {
        None
    };
    let mut payload = wire.get(at..)?.to_vec();
    if payload.len() as u64 != len {
        return None;
    }
    if let Some(key) = mask {
        apply_mask(&mut payload, key, 0);
    }
    let mut header = FrameHeader::new(opcode, len, mask);
    header.fin = b0 & 0x80 != 0;
    header.rsv = (b0 >> 4) & 0b111;
    Some((header, payload))
}
