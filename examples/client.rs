//! A command-line WebSocket client: each line of standard input goes out
//! as a text message; every message that arrives is printed.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:1235/echo [--trace]
//! {"cmd": "hello"}
//! < {"cmd":"Thanks for your message: hello"}
//! ```
//!
//! At the end of input it closes with 1000 and waits for the server's
//! Close. `--trace` prints every frame in and out.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use plainws::sansio::trace::format_frame;
use plainws::{ClientOptions, CloseCode, Config, Error, Message, Receiver};

const USAGE: &str = "usage: client ws://HOST:PORT/PATH [--trace]";

fn main() -> ExitCode {
    let mut url = None;
    let mut trace = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--trace" => trace = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if url.is_none() && !arg.starts_with('-') => url = Some(arg),
            _ => {
                eprintln!("client: unexpected argument {arg}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let mut config = Config::default();
    if trace {
        config.tracer = Some(Arc::new(|direction, header, preview| {
            eprintln!("{}", format_frame(direction, header, preview));
        }));
    }
    let options = ClientOptions {
        config,
        ..ClientOptions::default()
    };
    let ws = match plainws::connect_with(&url, options) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("client: {url}: {e}");
            return ExitCode::FAILURE;
        }
    };
    eprintln!("client: connected to {url}");
    let (receiver, sender) = ws.split();
    let closing = Arc::new(AtomicBool::new(false));
    let reader = {
        let closing = Arc::clone(&closing);
        thread::spawn(move || {
            let clean = print_messages(receiver);
            if !closing.load(Ordering::SeqCst) {
                // The server ended the connection while we wait on stdin.
                std::process::exit(if clean { 0 } else { 1 });
            }
            clean
        })
    };

    for line in std::io::stdin().lock().lines() {
        let line = match line {
            Ok(line) => line,
            Err(e) => {
                eprintln!("client: stdin: {e}");
                break;
            }
        };
        if let Err(e) = sender.send_text(&line) {
            eprintln!("client: send: {e}");
            break;
        }
    }
    closing.store(true, Ordering::SeqCst);
    match sender.close(CloseCode::NORMAL, "end of input") {
        Ok(()) | Err(Error::AlreadyClosed) => {}
        Err(e) => eprintln!("client: close: {e}"),
    }
    match reader.join() {
        Ok(true) => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

/// Prints each message until the connection ends; returns whether it
/// ended with a close handshake.
fn print_messages(mut receiver: Receiver) -> bool {
    loop {
        match receiver.recv() {
            Ok(Message::Text(text)) => println!("< {text}"),
            Ok(Message::Binary(data)) => println!("< ({} bytes of binary)", data.len()),
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(Message::Close(frame)) => {
                match frame {
                    Some(f) if f.reason.is_empty() => eprintln!("client: closed ({})", f.code),
                    Some(f) => eprintln!("client: closed ({} {})", f.code, f.reason),
                    None => eprintln!("client: closed (no code)"),
                }
                return true;
            }
            Err(e) => {
                eprintln!("client: connection ended: {e}");
                return false;
            }
        }
    }
}
