//! Runs the Autobahn TestSuite's client cases against a fuzzing server
//! (`kosoku -m fuzzingserver`, or `wstest -m fuzzingserver`).
//!
//! ```text
//! cargo run --release --example autobahn_client -- 127.0.0.1:9001
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 [AGENT]
//! ```
//!
//! The Autobahn client protocol: `/getCaseCount` answers with one text
//! message N; `/runCase?case=I&agent=A` for I in 1..=N, echoing every text
//! and binary message until the connection ends; `/updateReports?agent=A`
//! writes the report.

use std::process::ExitCode;

use plainws::{ClientOptions, Config, DeflateConfig, Error, Message, WebSocket};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(base) = args.next() else {
        eprintln!("usage: autobahn_client HOST:PORT|ws://HOST:PORT [AGENT]");
        return ExitCode::from(2);
    };
    let agent = args.next().unwrap_or_else(|| "plainws".into());
    let base = if base.contains("://") {
        base.trim_end_matches('/').to_owned()
    } else {
        format!("ws://{base}")
    };
    match run(&base, &agent) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autobahn_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(base: &str, agent: &str) -> Result<(), String> {
    let count = case_count(base)?;
    eprintln!("autobahn_client: {count} cases");
    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        // Offer permessage-deflate, so that groups 12 and 13 run.
        let options = ClientOptions::default()
            .config(Config::default().compression(DeflateConfig::default()));
        match plainws::connect_with(&url, options) {
            Ok(ws) => {
                let end = echo(ws);
                eprintln!("case {case}: {end}");
            }
            // A case may refuse or break the handshake on purpose; the
            // report judges it.
            Err(e) => eprintln!("case {case}: handshake failed: {e}"),
        }
    }
    let url = format!("{base}/updateReports?agent={agent}");
    let mut ws = plainws::connect(&url).map_err(|e| format!("{url}: {e}"))?;
    // The server writes the report and may drop TCP without a Close frame.
    loop {
        match ws.recv() {
            Ok(Message::Close(_)) | Err(Error::AbnormalClosure | Error::ConnectionClosed) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("{url}: {e}")),
        }
    }
    eprintln!("autobahn_client: reports updated");
    Ok(())
}

fn case_count(base: &str) -> Result<u32, String> {
    let url = format!("{base}/getCaseCount");
    let mut ws = plainws::connect(&url).map_err(|e| format!("{url}: {e}"))?;
    let count = match ws.recv() {
        Ok(Message::Text(text)) => text
            .trim()
            .parse()
            .map_err(|_| format!("{url}: {text:?} is not a case count"))?,
        other => return Err(format!("{url}: expected the case count, got {other:?}")),
    };
    // Read on until the server's Close, so the connection ends cleanly.
    while let Ok(message) = ws.recv() {
        if matches!(message, Message::Close(_)) {
            break;
        }
    }
    Ok(count)
}

/// Echoes messages until the connection ends; says how it ended.
fn echo(ws: WebSocket) -> String {
    let (mut receiver, sender) = ws.split();
    loop {
        let sent = match receiver.recv() {
            Ok(Message::Text(text)) => sender.send_text(&text),
            Ok(Message::Binary(data)) => sender.send_binary(&data),
            Ok(Message::Ping(_) | Message::Pong(_)) => Ok(()),
            Ok(Message::Close(frame)) => {
                return match frame {
                    Some(frame) => format!("closed by server ({})", frame.code),
                    None => "closed by server (no code)".into(),
                };
            }
            Err(e) => return format!("ended: {e}"),
        };
        if let Err(e) = sent {
            // The connection may be closing; the next recv reports how.
            if !matches!(e, Error::AlreadyClosed) {
                return format!("send failed: {e}");
            }
        }
    }
}
