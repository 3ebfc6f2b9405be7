//! tungstenite (sync) echo server: a thread per connection, `accept` + read/send loop.

use std::net::{TcpListener, TcpStream};
use std::thread;

use plainws_bench::{ServerArgs, json_reply};
use tungstenite::{Error, Message};

fn main() -> std::io::Result<()> {
    let args = ServerArgs::from_env();
    let listener = TcpListener::bind(&args.addr)?;
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                eprintln!("accept: {e}");
                continue;
            }
        };
        let json = args.json;
        thread::spawn(move || {
            if let Err(e) = serve(stream, json) {
                eprintln!("connection: {e}");
            }
        });
    }
    Ok(())
}

fn serve(stream: TcpStream, json: bool) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let mut ws = tungstenite::accept(stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => unreachable!("blocking stream"),
    })?;
    loop {
        match ws.read() {
            Ok(Message::Text(text)) if json => match json_reply(&text) {
                Some(reply) => ws.send(Message::text(reply))?,
                None => return Ok(()),
            },
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => ws.send(msg)?,
            // Pings are answered and the close reply is queued by tungstenite;
            // the next read flushes them.
            Ok(_) => {}
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
