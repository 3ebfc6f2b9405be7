//! Echoes every text and binary message unchanged, on any path: the server
//! that the Autobahn TestSuite's `fuzzingclient` tests.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```

use plainws::{Config, DeflateConfig, Error, Incoming, Message, Server, ServerOptions};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let options = ServerOptions::default()
        // Idle connections cost a thread each: keep its stack small.
        .thread_stack_size(64 << 10)
        // A thread and one file descriptor each: 10,000 idle connections
        // and a working load beside them fit in 20,000 descriptors.
        .max_connections(19_000)
        // Accept permessage-deflate, so that Autobahn groups 12 and 13 run.
        .config(Config::default().compression(DeflateConfig::default()));
    let server = Server::bind(&addr, options)?;
    eprintln!("echo_server listening on ws://{}", server.local_addr());
    server.run(|incoming| {
        if let Err(e) = echo(incoming) {
            if !matches!(e, Error::ConnectionClosed | Error::AbnormalClosure) {
                eprintln!("connection: {e}");
            }
        }
    })
}

fn echo(incoming: Incoming) -> Result<(), Error> {
    let (mut receiver, sender) = incoming.accept_with(|_| Ok(Default::default()))?.split();
    loop {
        match receiver.recv()? {
            Message::Text(text) => sender.send_text(&text)?,
            Message::Binary(data) => sender.send_binary(&data)?,
            Message::Close(_) => return Ok(()),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}
