//! plainws echo server: a thread (64 KiB stack) per connection, reader half
//! in the loop, replies through the `Sender` half.

use std::net::{TcpListener, TcpStream};
use std::thread;

use plainws::Message;
use plainws_bench::{ServerArgs, json_reply};

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
        let spawned = thread::Builder::new().stack_size(64 * 1024).spawn(move || {
            if let Err(e) = serve(stream, json) {
                eprintln!("connection: {e}");
            }
        });
        if let Err(e) = spawned {
            eprintln!("spawn: {e}");
        }
    }
    Ok(())
}

fn serve(stream: TcpStream, json: bool) -> Result<(), plainws::Error> {
    stream.set_nodelay(true)?;
    let (mut receiver, sender) = plainws::accept(stream)?.split();
    loop {
        match receiver.recv()? {
            Message::Text(text) if json => match json_reply(&text) {
                Some(reply) => sender.send_text(&reply)?,
                None => return Ok(()),
            },
            Message::Text(text) => sender.send_text(&text)?,
            Message::Binary(data) => sender.send_binary(&data)?,
            // The library has already answered the close.
            Message::Close(_) => return Ok(()),
            // Pings are answered by the library.
            _ => {}
        }
    }
}
