//! Echoes every text and binary message unchanged, on any path: the server
//! that the Autobahn TestSuite's `fuzzingclient` tests.
//!
//! ```text
//! cargo run --release --example echo_server -- 127.0.0.1:9001
//! ```

use std::net::{TcpListener, TcpStream};
use std::thread;

use plainws::{Error, Message};

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let listener = TcpListener::bind(&addr)?;
    eprintln!("echo_server listening on ws://{addr}");
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let spawned = thread::Builder::new().stack_size(64 << 10).spawn(move || {
            if let Err(e) = echo(stream) {
                if !matches!(e, Error::ConnectionClosed) {
                    eprintln!("connection: {e}");
                }
            }
        });
        if let Err(e) = spawned {
            eprintln!("spawn: {e}");
        }
    }
    Ok(())
}

fn echo(stream: TcpStream) -> Result<(), Error> {
    let (mut receiver, sender) = plainws::accept(stream)?.split();
    loop {
        match receiver.recv()? {
            Message::Text(text) => sender.send_text(&text)?,
            Message::Binary(data) => sender.send_binary(&data)?,
            Message::Close(_) => return Ok(()),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}
