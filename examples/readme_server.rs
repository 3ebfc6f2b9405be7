//! The README's "A threaded server with split halves" as it is there, with
//! the default `Config`, except that the listen address may be given as the
//! first argument. `bench/run.sh` measures this server as "plainws", and
//! `tests/readme_server.rs` keeps it equal to the README's code.
//!
//! ```text
//! cargo run --release --example readme_server -- 127.0.0.1:9001
//! ```

use std::net::TcpListener;

use plainws::{Error, Message};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:9001"))?;
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || -> Result<(), Error> {
            let (mut receiver, sender) = plainws::accept(stream)?.split();
            // Any number of threads may use clones of `sender` at once.
            let ticker = sender.clone();
            std::thread::spawn(move || ticker.send_text("welcome"));
            loop {
                match receiver.recv()? {
                    Message::Text(text) => sender.send_text(&text)?,
                    Message::Binary(data) => sender.send_binary(&data)?,
                    Message::Close(_) => return Ok(()), // answered once dropped
                    Message::Ping(_) | Message::Pong(_) => {} // pings answered
                }
            }
        });
    }
    Ok(())
}
