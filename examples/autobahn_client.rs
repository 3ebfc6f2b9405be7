//! Runs the Autobahn TestSuite's client cases against a fuzzing server
//! (`kosoku -m fuzzingserver`, or `wstest -m fuzzingserver`).
//!
//! ```text
//! cargo run --release --example autobahn_client -- 127.0.0.1:9001
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 [AGENT] [JOBS]
//! ```
//!
//! `JOBS` cases run at once (default 1); each case is its own connection,
//! so the report is the same, sooner.
//!
//! The Autobahn client protocol: `/getCaseCount` answers with one text
//! message N; `/runCase?case=I&agent=A` for I in 1..=N, echoing every text
//! and binary message until the connection ends; `/updateReports?agent=A`
//! writes the report.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;

use plainws::{ClientOptions, Config, DeflateConfig, Error, Message, WebSocket};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(base) = args.next() else {
        eprintln!("usage: autobahn_client HOST:PORT|ws://HOST:PORT [AGENT] [JOBS]");
        return ExitCode::from(2);
    };
    let agent = args.next().unwrap_or_else(|| "plainws".into());
    let jobs = match args.next().map(|n| n.parse::<u32>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("autobahn_client: JOBS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let base = if base.contains("://") {
        base.trim_end_matches('/').to_owned()
    } else {
        format!("ws://{base}")
    };
    match run(&base, &agent, jobs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("autobahn_client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(base: &str, agent: &str, jobs: u32) -> Result<(), String> {
    let count = case_count(base)?;
    eprintln!("autobahn_client: {count} cases, {jobs} at a time");
    let next = AtomicU32::new(1);
    thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let case = next.fetch_add(1, Ordering::SeqCst);
                    if case > count {
                        break;
                    }
                    run_case(base, agent, case);
                }
            });
        }
    });
    update_reports(base, agent)
}

/// Runs case `case`, echoing until the connection ends.
fn run_case(base: &str, agent: &str, case: u32) {
    let url = format!("{base}/runCase?case={case}&agent={agent}");
    // Offer permessage-deflate, so that groups 12 and 13 run. The suite's
    // server accepts the offers of cases 13.2, 13.5 and 13.6 only from a
    // client that offers `client_no_context_takeover` (as the suite's own
    // clients do by default): so this one does too, and resets its
    // compressor for every message.
    let mut offer = DeflateConfig::default();
    offer.client_no_context_takeover = true;
    let options = ClientOptions::default().config(Config::default().compression(offer));
    match plainws::connect_with(&url, options) {
        Ok(ws) => {
            let end = echo(ws);
            eprintln!("case {case}: {end}");
        }
        // A case may refuse or break the handshake on purpose; the report
        // judges it.
        Err(e) => eprintln!("case {case}: handshake failed: {e}"),
    }
}

/// Asks the server to write its report.
fn update_reports(base: &str, agent: &str) -> Result<(), String> {
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
