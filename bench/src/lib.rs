//! Shared pieces of the plainws benchmark: the JSON workload's reply logic
//! (same as the Go seed), server argument parsing, `/proc` readers and the
//! load generator used by `loadgen` and `bench-all`.

pub mod load;
pub mod miniz;
pub mod procfs;

use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct Input {
    cmd: String,
}

#[derive(Serialize)]
struct Output {
    cmd: String,
}

/// The Go seed's handler: `{"cmd":"x"}` -> `{"cmd":"Thanks for your message: x"}`.
/// `None` when the text is not such an object (the seed drops the connection then).
pub fn json_reply(text: &str) -> Option<String> {
    let input: Input = serde_json::from_str(text).ok()?;
    let output = Output {
        cmd: format!("Thanks for your message: {}", input.cmd),
    };
    serde_json::to_string(&output).ok()
}

/// Command line of every echo server: `<bin> ADDR [--json] [--batched]`.
pub struct ServerArgs {
    pub addr: String,
    /// Answer text messages like the Go seed instead of echoing them.
    pub json: bool,
    /// Reply without flushing; flush when the input is exhausted
    /// (`ws-tungstenite` only).
    pub batched: bool,
}

impl ServerArgs {
    pub fn from_env() -> ServerArgs {
        let mut addr = None;
        let mut json = false;
        let mut batched = false;
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--json" => json = true,
                "--batched" => batched = true,
                _ if addr.is_none() && !arg.starts_with('-') => addr = Some(arg),
                _ => usage(),
            }
        }
        ServerArgs {
            addr: addr.unwrap_or_else(|| usage()),
            json,
            batched,
        }
    }
}

fn usage() -> ! {
    let bin = std::env::args().next().unwrap_or_default();
    eprintln!("usage: {bin} ADDR [--json] [--batched]   (e.g. {bin} 127.0.0.1:9100)");
    eprintln!("  echoes text and binary messages on every path;");
    eprintln!(
        "  --json: answers {{\"cmd\":\"x\"}} with {{\"cmd\":\"Thanks for your message: x\"}}"
    );
    eprintln!("  --batched (ws-tungstenite): replies flushed once the input is exhausted");
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_matches_go_seed() {
        assert_eq!(
            json_reply(r#"{"cmd":"hello 7"}"#).unwrap(),
            r#"{"cmd":"Thanks for your message: hello 7"}"#
        );
        assert!(json_reply("nope").is_none());
    }
}
