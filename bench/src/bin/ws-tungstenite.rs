//! tungstenite (sync) echo server: a thread per connection, `accept` + read/send loop.
//!
//! By default every reply goes out with `send` (`write` + `flush`: a system
//! call per message), the usual way and the one tungstenite's examples show.
//! `--batched` replies with `write` alone and flushes only when the input
//! already received is used up: see [`serve_batched`].

use std::io::ErrorKind;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::thread;

use plainws_bench::{ServerArgs, json_reply};
use tungstenite::{Error, Message, WebSocket};

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
        let (json, batched) = (args.json, args.batched);
        thread::spawn(move || match serve(stream, json, batched) {
            Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
            Err(e) => eprintln!("connection: {e}"),
        });
    }
    Ok(())
}

fn serve(stream: TcpStream, json: bool, batched: bool) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let ws = tungstenite::accept(stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => unreachable!("blocking stream"),
    })?;
    if batched {
        serve_batched(ws, json)
    } else {
        serve_each(ws, json)
    }
}

/// The reply to a message, if it gets one; `Err(())` ends the connection
/// (JSON mode, text that is not `{"cmd": ...}`: the seed drops it too).
fn reply(msg: Message, json: bool) -> Result<Option<Message>, ()> {
    match msg {
        Message::Text(text) if json => json_reply(&text).map(|r| Some(Message::text(r))).ok_or(()),
        msg @ (Message::Text(_) | Message::Binary(_)) => Ok(Some(msg)),
        // Pings are answered and the close reply is queued by tungstenite;
        // the next read flushes them.
        _ => Ok(None),
    }
}

/// Every reply written and flushed at once with `send`.
fn serve_each(mut ws: WebSocket<TcpStream>, json: bool) -> Result<(), Error> {
    loop {
        match reply(ws.read()?, json) {
            Ok(Some(msg)) => ws.send(msg)?,
            Ok(None) => {}
            Err(()) => return Ok(()),
        }
    }
}

/// Replies with `write` (no flush) and flushes once the input is exhausted,
/// as far as tungstenite's API allows. tungstenite cannot say whether its
/// read buffer still holds a whole message, so the socket is made
/// nonblocking and a `read` failing with `Error::Io(WouldBlock)` means "input
/// exhausted": everything written is flushed (waiting with poll(2) while the
/// socket is full), then the thread waits with poll(2) until the socket is
/// readable and resumes reading. Per batch of pipelined messages that is one
/// `recvfrom` with data, one that fails with `EAGAIN`, one `sendto` and one
/// `poll`, instead of a `sendto` per message.
///
/// `write` also writes (without flushing) once tungstenite's write buffer
/// passes `write_buffer_size` (128 KiB); if that fails with `WouldBlock`,
/// the frame is already buffered and the buffer is flushed before reading on,
/// so a peer that does not read stops this one reading.
fn serve_batched(mut ws: WebSocket<TcpStream>, json: bool) -> Result<(), Error> {
    ws.get_mut().set_nonblocking(true)?;
    loop {
        let msg = match ws.read() {
            Ok(msg) => msg,
            Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                flush(&mut ws)?;
                wait(ws.get_ref(), libc::POLLIN)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        match reply(msg, json) {
            Ok(Some(msg)) => match ws.write(msg) {
                Ok(()) => {}
                Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => flush(&mut ws)?,
                Err(e) => return Err(e),
            },
            Ok(None) => {}
            Err(()) => return Ok(()),
        }
    }
}

/// `flush` on a nonblocking socket: waits until it is writable while it is full.
fn flush(ws: &mut WebSocket<TcpStream>) -> Result<(), Error> {
    loop {
        match ws.flush() {
            Err(Error::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                wait(ws.get_ref(), libc::POLLOUT)?
            }
            result => return result,
        }
    }
}

/// Blocks until `stream` is ready for `events` (`POLLIN` or `POLLOUT`), or
/// has an error or hang-up to report (the next read or write returns it).
fn wait(stream: &TcpStream, events: libc::c_short) -> std::io::Result<()> {
    let mut fd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events,
        revents: 0,
    };
    loop {
        // SAFETY: one valid pollfd, for a descriptor `stream` keeps open.
        if unsafe { libc::poll(&mut fd, 1, -1) } >= 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
