//! Runs the Autobahn TestSuite's client cases against a fuzzing server
//! (`kosoku -m fuzzingserver`) with the tokio driver.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_autobahn_client -- 127.0.0.1:9001 [AGENT] [JOBS]
//! ```
//!
//! `JOBS` cases run at once (default 1), each its own connection. The
//! protocol is `examples/autobahn_client.rs`'s: `/getCaseCount`, then
//! `/runCase?case=I&agent=A` echoing every message, then
//! `/updateReports?agent=A`.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use plainws::tokio::WebSocket;
use plainws::{ClientOptions, Config, DeflateConfig, Error, Message};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(base) = args.next() else {
        eprintln!("usage: tokio_autobahn_client HOST:PORT|ws://HOST:PORT [AGENT] [JOBS]");
        return ExitCode::from(2);
    };
    let agent = args.next().unwrap_or_else(|| "plainws-tokio".into());
    let jobs = match args.next().map(|n| n.parse::<u32>()) {
        None => 1,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("tokio_autobahn_client: JOBS must be a positive number");
            return ExitCode::from(2);
        }
    };
    let base = if base.contains("://") {
        base.trim_end_matches('/').to_owned()
    } else {
        format!("ws://{base}")
    };
    match run(base, agent, jobs).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tokio_autobahn_client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(base: String, agent: String, jobs: u32) -> Result<(), String> {
    let count = case_count(&base).await?;
    eprintln!("tokio_autobahn_client: {count} cases, {jobs} at a time");
    let next = Arc::new(AtomicU32::new(1));
    let mut workers = Vec::new();
    for _ in 0..jobs {
        let (next, base, agent) = (Arc::clone(&next), base.clone(), agent.clone());
        workers.push(tokio::spawn(async move {
            loop {
                let case = next.fetch_add(1, Ordering::SeqCst);
                if case > count {
                    break;
                }
                run_case(&base, &agent, case).await;
            }
        }));
    }
    for worker in workers {
        worker.await.map_err(|e| e.to_string())?;
    }
    update_reports(&base, &agent).await
}

/// Runs case `case`, echoing until the connection ends.
async fn run_case(base: &str, agent: &str, case: u32) {
    let url = format!("{base}/runCase?case={case}&agent={agent}");
    // Offer permessage-deflate with client_no_context_takeover, as
    // examples/autobahn_client.rs does (the suite's server accepts the
    // offers of 13.2, 13.5 and 13.6 only then).
    let mut offer = DeflateConfig::default();
    offer.client_no_context_takeover = true;
    let options = ClientOptions::default().config(Config::default().compression(offer));
    match plainws::tokio::connect_with(&url, options).await {
        Ok(ws) => {
            let end = echo(ws).await;
            eprintln!("case {case}: {end}");
        }
        Err(e) => eprintln!("case {case}: handshake failed: {e}"),
    }
}

/// Asks the server to write its report.
async fn update_reports(base: &str, agent: &str) -> Result<(), String> {
    let url = format!("{base}/updateReports?agent={agent}");
    let mut ws = plainws::tokio::connect(&url)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    loop {
        match ws.recv().await {
            Ok(Message::Close(_)) | Err(Error::AbnormalClosure | Error::ConnectionClosed) => break,
            Ok(_) => {}
            Err(e) => return Err(format!("{url}: {e}")),
        }
    }
    eprintln!("tokio_autobahn_client: reports updated");
    Ok(())
}

async fn case_count(base: &str) -> Result<u32, String> {
    let url = format!("{base}/getCaseCount");
    let mut ws = plainws::tokio::connect(&url)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let count = match ws.recv().await {
        Ok(Message::Text(text)) => text
            .trim()
            .parse()
            .map_err(|_| format!("{url}: {text:?} is not a case count"))?,
        other => return Err(format!("{url}: expected the case count, got {other:?}")),
    };
    while let Ok(message) = ws.recv().await {
        if matches!(message, Message::Close(_)) {
            break;
        }
    }
    Ok(count)
}

/// Echoes messages until the connection ends; says how it ended.
async fn echo(ws: WebSocket) -> String {
    let (mut receiver, sender) = ws.split();
    loop {
        let sent = match receiver.recv().await {
            Ok(Message::Text(text)) => sender.send_text(&text).await,
            Ok(Message::Binary(data)) => sender.send_binary(&data).await,
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
            if !matches!(e, Error::AlreadyClosed) {
                return format!("send failed: {e}");
            }
        }
    }
}
