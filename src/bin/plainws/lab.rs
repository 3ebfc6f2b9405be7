//! The protocol lab: the page at `/` watches its own echo connection
//! frame by frame, and asks the server to send what a browser cannot.
//!
//! The page opens two WebSockets. `/lab?conn=TOKEN` is the lab channel:
//! the server sends reports on it (the handshake, every frame of the
//! watched connection, each whole message) and takes commands from it
//! (send a fragmented message, a Ping, a Close, a protocol violation).
//! `/echo?lab=TOKEN` is the echo connection being watched. The lab
//! channel is never traced itself, so reports never report themselves.
//!
//! What it costs and what bounds it:
//! - An echo connection without `?lab=`, or whose token names no open lab
//!   channel, gets no tracer: no tracing work at all
//!   ([`WebSocket::set_tracer`] is per connection). `--no-lab` turns the
//!   lab off entirely (`/lab` is a 404 and `?lab=` is ignored).
//! - Reports wait in a queue of at most [`MAX_REPORTS`] per lab channel;
//!   when the page reads too slowly, the oldest are dropped and counted
//!   (the page shows the count). The traced connection only ever takes
//!   that queue's lock for a push: it never waits for the page's socket.
//!   One thread per lab channel writes its reports.
//! - At most [`MAX_LABS`] lab channels are open at once. A report is under
//!   2 KB (frames show their first 64 bytes, messages their first 200
//!   characters; the one handshake report holds the request head, at most
//!   16 KiB), so a channel holds at most about 2 MB of reports (the queue
//!   and the batch being written), the lab about 32 MB in all.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use plainws::{Direction, FrameHeader, Message, Opcode, Sender, Tracer};
use serde_json::{Value, json};

mod channel;
mod report;

pub use channel::serve_channel;
pub use report::handshake_report;
use report::{frame_report, message_report};

/// The page at `/`: the lab, one file, nothing fetched.
pub const PAGE: &str = include_str!("lab.html");

/// Reports kept for a page that reads slowly; older ones are dropped.
pub const MAX_REPORTS: usize = 512;
/// Lab channels open at once.
pub const MAX_LABS: usize = 16;
/// How long the reporter sleeps when nothing comes, before it checks
/// whether the lab channel is over.
const REPORT_POLL: Duration = Duration::from_millis(500);

/// The open lab channels, by token.
#[derive(Default)]
pub struct Lab {
    watches: Mutex<HashMap<String, Arc<Watch>>>,
}

/// What a request to the server is, once routed.
pub enum Route {
    /// A JSON echo connection, watched by a lab channel or not.
    Echo(Option<Arc<Watch>>),
    /// A lab channel.
    Channel(String, Arc<Watch>),
}

/// `NAME=TOKEN` from a query string, when the token is 8 to 64 letters,
/// digits, `-` or `_`.
pub fn query_token<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|token| {
            (8..=64).contains(&token.len())
                && token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Lab {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Arc<Watch>>> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a lab channel under `token`: `None` when the token is taken
    /// or [`MAX_LABS`] are open.
    pub fn open(&self, token: &str) -> Option<Arc<Watch>> {
        let mut watches = self.lock();
        if watches.len() >= MAX_LABS || watches.contains_key(token) {
            return None;
        }
        let watch = Arc::new(Watch::new());
        watches.insert(token.to_owned(), Arc::clone(&watch));
        Some(watch)
    }

    /// The lab channel `token` names, for the first echo connection that
    /// asks for it (a second one is not watched).
    pub fn watch_for(&self, token: &str) -> Option<Arc<Watch>> {
        let watch = self.lock().get(token).cloned()?;
        (!watch.attached.swap(true, Ordering::SeqCst)).then_some(watch)
    }

    fn remove(&self, token: &str) {
        self.lock().remove(token);
    }
}

/// One lab channel: its queue of reports, and the echo connection it
/// watches once that connection is open.
pub struct Watch {
    opened: Instant,
    reports: Mutex<Reports>,
    ready: Condvar,
    attached: AtomicBool,
    /// The lab channel is over: the tracer stops doing any work.
    closed: AtomicBool,
    echo: Mutex<Option<Sender>>,
    /// The next reply: 0 as negotiated, 1 compressed, 2 not compressed.
    next_compression: AtomicU8,
    /// The message being received and the last one sent, as the tracer
    /// counted their frames.
    tally: Mutex<Tally>,
    /// The `--trace` tracer, still called for a watched connection.
    also: Mutex<Option<Tracer>>,
}

#[derive(Default)]
struct Reports {
    queue: VecDeque<String>,
    dropped: u64,
    closed: bool,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    in_bytes: u64,
    in_compressed: bool,
    out_bytes: u64,
    out_compressed: bool,
}

impl Watch {
    fn new() -> Watch {
        Watch {
            opened: Instant::now(),
            reports: Mutex::new(Reports::default()),
            ready: Condvar::new(),
            attached: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            echo: Mutex::new(None),
            next_compression: AtomicU8::new(0),
            tally: Mutex::new(Tally::default()),
            also: Mutex::new(None),
        }
    }

    fn reports(&self) -> MutexGuard<'_, Reports> {
        self.reports.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tally(&self) -> MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn millis(&self) -> f64 {
        (self.opened.elapsed().as_micros() as f64 / 1000.0 * 100.0).round() / 100.0
    }

    /// Queues a report for the page: never waits for the page; when the
    /// queue is full the oldest report is dropped and counted.
    pub fn report(&self, mut report: Value) {
        report["t"] = json!(self.millis());
        let text = report.to_string();
        let mut reports = self.reports();
        if reports.closed {
            return;
        }
        if reports.queue.len() >= MAX_REPORTS {
            reports.queue.pop_front();
            reports.dropped += 1;
        }
        reports.queue.push_back(text);
        drop(reports);
        self.ready.notify_one();
    }

    /// Waits up to `timeout` for reports; `None` once the channel is over.
    fn take(&self, timeout: Duration) -> Option<(Vec<String>, u64)> {
        let mut reports = self.reports();
        if reports.queue.is_empty() && !reports.closed {
            reports = match self.ready.wait_timeout(reports, timeout) {
                Ok((guard, _)) => guard,
                Err(e) => e.into_inner().0,
            };
        }
        if reports.closed {
            return None;
        }
        Some((reports.queue.drain(..).collect(), reports.dropped))
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let mut reports = self.reports();
        reports.closed = true;
        reports.queue = VecDeque::new();
        drop(reports);
        self.ready.notify_all();
    }

    /// The reports queued and dropped so far (for tests).
    #[cfg(test)]
    fn counts(&self) -> (usize, u64) {
        let reports = self.reports();
        (reports.queue.len(), reports.dropped)
    }

    /// The tracer for the watched connection: each frame becomes a report.
    pub fn tracer(self: &Arc<Self>, also: Option<Tracer>) -> Tracer {
        *self.also.lock().unwrap_or_else(|e| e.into_inner()) = also;
        let watch = Arc::clone(self);
        Arc::new(move |direction, header, preview| {
            watch.frame(direction, header, preview, false);
            if let Some(also) = &*watch.also.lock().unwrap_or_else(|e| e.into_inner()) {
                also(direction, header, preview);
            }
        })
    }

    /// Reports a frame: every header field, the first bytes as on the
    /// wire and unmasked, and what they say.
    fn frame(&self, direction: Direction, header: &FrameHeader, preview: &[u8], raw: bool) {
        if self.closed.load(Ordering::Relaxed) {
            return;
        }
        let incoming = direction == Direction::Incoming;
        if !header.opcode.is_control() {
            let mut guard = self.tally();
            let tally = &mut *guard;
            let compressed = header.rsv & 0b100 != 0;
            let (bytes, was_compressed) = if incoming {
                (&mut tally.in_bytes, &mut tally.in_compressed)
            } else {
                (&mut tally.out_bytes, &mut tally.out_compressed)
            };
            if header.opcode == Opcode::Continuation {
                *bytes += header.payload_len;
            } else {
                *bytes = header.payload_len;
                *was_compressed = compressed;
            }
        }
        self.report(frame_report(direction, header, preview, raw));
    }

    /// Reports the opening handshake of the watched connection.
    pub fn handshake(&self, report: Value) {
        self.report(report);
    }

    /// The watched connection is open: commands now act on it.
    pub fn attach(&self, sender: Sender) {
        *self.echo.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
    }

    /// Reports a whole message received, with what its frames weighed.
    pub fn message_in(&self, message: &Message) {
        let tally = *self.tally();
        let (op, data): (&str, &[u8]) = match message {
            Message::Text(text) => ("TEXT", text.as_bytes()),
            Message::Binary(data) => ("BINARY", data),
            _ => return,
        };
        self.report(message_report(
            "in",
            op,
            data,
            tally.in_bytes,
            tally.in_compressed,
        ));
    }

    /// Sends a reply on the watched connection, compressed or not as the
    /// page last asked, and reports the message.
    pub fn send_reply(&self, sender: &Sender, text: &str) -> plainws::Result<()> {
        match self.next_compression.swap(0, Ordering::SeqCst) {
            2 => sender.send_uncompressed(&Message::Text(text.into()))?,
            _ => sender.send_text(text)?,
        }
        let tally = *self.tally();
        self.report(message_report(
            "out",
            "TEXT",
            text.as_bytes(),
            tally.out_bytes,
            tally.out_compressed,
        ));
        Ok(())
    }

    /// The watched connection ended.
    pub fn ended(&self, how: &str) {
        self.report(json!({"kind": "end", "how": how}));
        *self.echo.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_checked() {
        assert_eq!(query_token(Some("conn=abcd1234"), "conn"), Some("abcd1234"));
        assert_eq!(
            query_token(Some("x=1&lab=abcd-12_34"), "lab"),
            Some("abcd-12_34")
        );
        assert_eq!(query_token(Some("lab=short"), "lab"), None);
        assert_eq!(query_token(Some("lab=abcd%2012345"), "lab"), None);
        assert_eq!(query_token(None, "lab"), None);
    }

    #[test]
    fn a_page_that_never_reads_loses_the_oldest_reports_not_memory() {
        let lab = Lab::default();
        let watch = lab.open("token1234").unwrap();
        for i in 0..MAX_REPORTS as u64 + 100 {
            watch.report(json!({"kind": "note", "text": i}));
        }
        assert_eq!(watch.counts(), (MAX_REPORTS, 100));
        let (batch, dropped) = watch.take(Duration::ZERO).unwrap();
        assert_eq!(dropped, 100);
        assert!(batch[0].contains("\"text\":100"), "{}", batch[0]);
    }

    #[test]
    fn one_watcher_per_channel_and_a_bounded_number_of_channels() {
        let lab = Lab::default();
        assert!(lab.open("token1234").is_some());
        assert!(lab.open("token1234").is_none());
        assert!(lab.watch_for("token1234").is_some());
        assert!(lab.watch_for("token1234").is_none());
        assert!(lab.watch_for("nosuchtoken").is_none());
        for i in 1..MAX_LABS {
            assert!(lab.open(&format!("token{i:04}")).is_some());
        }
        assert!(lab.open("onetoomany").is_none());
        lab.remove("token1234");
        assert!(lab.open("onetoomany").is_some());
    }
}
