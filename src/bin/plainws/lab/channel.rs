//! The lab channel: commands from the page, run on the watched
//! connection, and the thread that writes reports out.

use std::sync::Arc;
use std::thread;

use plainws::sansio::frame::encode_frame;
use plainws::sansio::reader::TRACE_PREVIEW;
use std::sync::atomic::Ordering;

use plainws::{CloseCode, Direction, Error, FrameHeader, Message, Opcode, Sender, WebSocket};
use serde::Deserialize;
use serde_json::json;

use super::{Lab, REPORT_POLL, Watch};
use crate::log::log;

/// A command from the page, on the lab channel.
#[derive(Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
enum Command {
    /// A text message in three fragments with a Ping between them.
    Fragmented {
        text: String,
    },
    Ping {
        payload: String,
    },
    Close {
        code: u16,
        reason: String,
    },
    /// Whether the next reply is compressed.
    Compression {
        next: bool,
    },
    /// A masked server frame (RFC 6455 §5.1), written raw.
    MaskedFrame,
    /// A text frame that is not UTF-8 (§8.1), written raw.
    BadUtf8,
}

impl Watch {
    /// Tells the page something (shown as an explanation row).
    pub(super) fn note(&self, text: &str) {
        self.report(json!({"kind": "note", "text": text}));
    }

    /// Runs one command from the page on the watched connection.
    fn run(&self, command: Command) {
        let sender = self.echo.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(sender) = sender else {
            return self.note("no echo connection to act on (it is not open yet, or it ended)");
        };
        let done = match command {
            Command::Fragmented { text } => send_fragmented(&sender, &text),
            Command::Ping { payload } => sender.ping(payload.as_bytes()),
            Command::Close { code, reason } => sender.close(CloseCode(code), &reason),
            Command::Compression { next } => {
                let value = if next { 1 } else { 2 };
                self.next_compression.store(value, Ordering::SeqCst);
                Ok(())
            }
            Command::MaskedFrame => self.send_raw(
                &sender,
                FrameHeader::new(Opcode::Text, 0, Some([0x37, 0xfa, 0x21, 0x3d])),
                b"masked by the server",
            ),
            Command::BadUtf8 => self.send_raw(
                &sender,
                FrameHeader::new(Opcode::Text, 0, None),
                b"caf\xc3 \xff\xfe",
            ),
        };
        if let Err(e) = done {
            self.note(&format!("the server could not do it: {e}"));
        }
    }

    /// Writes a frame no correct server sends, through the lab's raw path,
    /// and reports it (the tracer does not see raw bytes).
    fn send_raw(
        &self,
        sender: &Sender,
        mut header: FrameHeader,
        payload: &[u8],
    ) -> plainws::Result<()> {
        header.payload_len = payload.len() as u64;
        let mut wire = Vec::new();
        encode_frame(&mut wire, &header, payload);
        self.frame(
            Direction::Outgoing,
            &header,
            &payload[..payload.len().min(TRACE_PREVIEW)],
            true,
        );
        plainws::__lab::write_raw_bytes_breaking_the_protocol(sender, &wire)
    }
}

/// A text message in three fragments with a Ping between the first two
/// (RFC 6455 §5.4: "Control frames MAY be injected in the middle of a
/// fragmented message").
fn send_fragmented(sender: &Sender, text: &str) -> plainws::Result<()> {
    let cut = |at: usize| {
        (at..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len())
    };
    let (one, two) = (cut(text.len() / 3), cut(text.len() * 2 / 3));
    sender.send_fragment(Opcode::Text, &text.as_bytes()[..one], false)?;
    sender.ping(b"between fragments")?;
    sender.send_fragment(Opcode::Continuation, &text.as_bytes()[one..two], false)?;
    sender.send_fragment(Opcode::Continuation, &text.as_bytes()[two..], true)
}

/// Serves a lab channel on its own thread (the connection's): commands
/// in, and a second thread writing reports out, until the page leaves.
pub fn serve_channel(ws: WebSocket, lab: &Lab, token: &str, watch: Arc<Watch>) {
    let (mut receiver, sender) = ws.split();
    let reporter = {
        let watch = Arc::clone(&watch);
        let sender = sender.clone();
        thread::Builder::new()
            .name("lab-reports".into())
            .stack_size(64 << 10)
            .spawn(move || write_reports(&watch, &sender))
    };
    loop {
        match receiver.recv() {
            Ok(Message::Text(text)) => match serde_json::from_str::<Command>(&text) {
                Ok(command) => watch.run(command),
                Err(e) => watch.note(&format!("not a lab command: {e}")),
            },
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => break,
            Err(e) => {
                log!("lab channel ended: {e}");
                break;
            }
        }
    }
    watch.close();
    lab.remove(token);
    drop(sender);
    if let Ok(reporter) = reporter {
        let _ = reporter.join();
    }
}

/// The lab channel's writer: whatever reports are queued go out in one
/// write, then a line with the count of those dropped when it changed.
fn write_reports(watch: &Watch, sender: &Sender) {
    let mut dropped_shown = 0;
    while let Some((batch, dropped)) = watch.take(REPORT_POLL) {
        for report in &batch {
            if sender.feed_text(report).is_err() {
                return;
            }
        }
        if dropped != dropped_shown {
            dropped_shown = dropped;
            let line = json!({"kind": "dropped", "count": dropped}).to_string();
            if sender.feed_text(&line).is_err() {
                return;
            }
        }
        if sender.flush().is_err() {
            return;
        }
    }
}
