//! The server's log: a line per event, never in a client's way.
//!
//! A connection thread never writes to a terminal, a pipe or a file
//! itself: it hands its line to a bounded queue without waiting, and one
//! logging thread writes the queued lines to **standard error**. So:
//!
//! - A slow, stalled or unread standard error (a pipe nobody reads) blocks
//!   only the logging thread. The queue fills, and further lines are
//!   dropped and counted; once writing works again, the logging thread
//!   first says how many were dropped.
//! - A closed one (EPIPE from `plainws 2>&1 | head -1`, or a descriptor
//!   closed at start, which the Rust runtime reopens on `/dev/null`) makes
//!   writes fail; the logging thread counts the lines lost and goes on.
//!   Rust ignores SIGPIPE, so a closed pipe is an error, never a signal.
//!
//! Nothing here panics: no `println!` or `eprintln!` (which panic when the
//! write fails), only `write_all` with its error counted. `--quiet` turns
//! the log off: no queue, no thread, no line formatted.

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread;

/// Lines waiting for the logging thread, at most.
pub const QUEUE_LINES: usize = 4096;

/// The logging thread writes at most this much in one write.
const BATCH_BYTES: usize = 64 << 10;

/// A handle to the log; cheap to clone, every clone feeds the same queue.
#[derive(Clone, Debug)]
pub struct Log {
    shared: Option<Arc<Shared>>,
}

#[derive(Debug)]
struct Shared {
    queue: SyncSender<String>,
    counts: Arc<Counts>,
}

/// What could not be logged.
#[derive(Debug, Default)]
struct Counts {
    /// Lines dropped because the queue was full.
    dropped: AtomicU64,
    /// Lines whose write failed.
    failed: AtomicU64,
}

impl Log {
    /// A log that writes nothing (`--quiet`).
    pub fn off() -> Log {
        Log { shared: None }
    }

    /// A log written to standard error by a logging thread of its own.
    pub fn to_stderr() -> Log {
        Log::start(stderr_output(), QUEUE_LINES)
    }

    /// A log of at most `capacity` waiting lines, written to `out` by a
    /// logging thread. If the thread cannot start, the log is off.
    pub fn start<W: Write + Send + 'static>(out: W, capacity: usize) -> Log {
        let (queue, lines) = sync_channel(capacity);
        let counts = Arc::new(Counts::default());
        let thread_counts = Arc::clone(&counts);
        let spawned = thread::Builder::new()
            .name("log".into())
            .stack_size(64 << 10)
            .spawn(move || drain(&lines, out, &thread_counts));
        match spawned {
            Ok(_) => Log {
                shared: Some(Arc::new(Shared { queue, counts })),
            },
            Err(_) => Log::off(),
        }
    }

    /// Whether lines are logged at all.
    pub fn is_on(&self) -> bool {
        self.shared.is_some()
    }

    /// Queues one line (without its line feed), or drops and counts it
    /// when the queue is full. Never waits, never fails.
    pub fn line(&self, args: fmt::Arguments<'_>) {
        let Some(shared) = &self.shared else {
            return;
        };
        match shared.queue.try_send(fmt::format(args)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Lines dropped so far because the queue was full.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn dropped(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.counts.dropped.load(Ordering::Relaxed))
    }

    /// Lines lost so far because writing them failed.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn failed(&self) -> u64 {
        self.shared
            .as_ref()
            .map_or(0, |s| s.counts.failed.load(Ordering::Relaxed))
    }
}

/// The logging thread: writes what is queued, a batch per write, until
/// every handle is gone. Says how many lines were dropped before the next
/// ones it writes.
fn drain<W: Write>(lines: &Receiver<String>, mut out: W, counts: &Counts) {
    let mut reported = 0u64;
    let mut batch = Vec::with_capacity(4096);
    while let Ok(first) = lines.recv() {
        batch.clear();
        let reported_before = reported;
        let dropped = counts.dropped.load(Ordering::Relaxed);
        if dropped > reported {
            let _ = writeln!(
                batch,
                "plainws: {} log lines dropped (the log output was too slow or failed)",
                dropped - reported
            );
            reported = dropped;
        }
        let mut count = 0u64;
        let mut next = Some(first);
        while let Some(line) = next {
            batch.extend_from_slice(line.as_bytes());
            batch.push(b'\n');
            count += 1;
            next = if batch.len() < BATCH_BYTES {
                lines.try_recv().ok()
            } else {
                None
            };
        }
        if out.write_all(&batch).and_then(|()| out.flush()).is_err() {
            counts.failed.fetch_add(count, Ordering::Relaxed);
            // The note was lost with the lines: say it again next time.
            reported = reported_before;
        }
    }
}

/// Standard error as a file of its own (a duplicate of its descriptor),
/// so the logging thread never holds the lock of `io::stderr()`: a stalled
/// write must not make a panic message elsewhere wait behind it.
fn stderr_output() -> Box<dyn Write + Send> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        if let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() {
            return Box::new(std::fs::File::from(fd));
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::AsHandle;
        if let Ok(handle) = io::stderr().as_handle().try_clone_to_owned() {
            return Box::new(std::fs::File::from(handle));
        }
    }
    Box::new(io::stderr())
}

static GLOBAL: OnceLock<Log> = OnceLock::new();

/// Makes `log` the one every [`log!`] writes to. Only the first call counts.
pub fn init(log: Log) {
    let _ = GLOBAL.set(log);
}

/// The log set by [`init`], or one that writes nothing.
pub fn global() -> &'static Log {
    GLOBAL.get_or_init(Log::off)
}

/// Queues a formatted line on the global log (see [`Log::line`]).
macro_rules! log {
    ($($arg:tt)*) => {
        $crate::log::global().line(format_args!($($arg)*))
    };
}
pub(crate) use log;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    /// A writer that blocks until told to go on, then keeps what it got.
    struct Stalled {
        go: mpsc::Receiver<()>,
        got: Arc<Mutex<Vec<u8>>>,
        released: bool,
    }

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if !self.released {
                let _ = self.go.recv();
                self.released = true;
            }
            self.got
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A writer whose every write fails, as a closed pipe's does.
    struct Broken;

    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
    }

    fn eventually(mut f: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if f() {
                return true;
            }
            thread::sleep(Duration::from_millis(5));
        }
        f()
    }

    #[test]
    fn a_stalled_output_drops_and_counts_lines_without_waiting() {
        let (go, wait) = mpsc::channel();
        let got = Arc::new(Mutex::new(Vec::new()));
        let log = Log::start(
            Stalled {
                go: wait,
                got: Arc::clone(&got),
                released: false,
            },
            8,
        );
        // Lines of 8 KiB: the thread's one batch holds at most 9 of them.
        let pad = "x".repeat(8 << 10);
        let started = Instant::now();
        for i in 0..1000 {
            log.line(format_args!("line {i} {pad}"));
        }
        assert!(started.elapsed() < Duration::from_secs(2), "a line waited");
        // The thread holds one batch, the queue 8 lines: the rest dropped.
        assert!(log.dropped() >= 1000 - 8 - 9, "{}", log.dropped());
        go.send(()).unwrap();
        // Once written again, the log says how many lines it dropped.
        assert!(eventually(|| {
            log.line(format_args!("after"));
            String::from_utf8_lossy(&got.lock().unwrap()).contains("after\n")
        }));
        let text = String::from_utf8_lossy(&got.lock().unwrap()).into_owned();
        // Lines keep their order; the first queued is the first written.
        let first = text.lines().find(|line| !line.starts_with("plainws: "));
        assert!(first.is_some_and(|line| line.starts_with("line 0 x")));
        let noted: u64 = text
            .lines()
            .filter_map(|line| line.strip_prefix("plainws: "))
            .filter_map(|rest| rest.split(' ').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(noted, log.dropped());
        assert_eq!(log.failed(), 0);
    }

    #[test]
    fn write_errors_are_counted_never_raised() {
        let log = Log::start(Broken, 16);
        for i in 0..10 {
            log.line(format_args!("line {i}"));
            thread::sleep(Duration::from_millis(1));
        }
        assert!(eventually(|| log.failed() + log.dropped() == 10));
        // Still usable.
        log.line(format_args!("more"));
        assert!(eventually(|| log.failed() + log.dropped() == 11));
    }

    #[test]
    fn an_off_log_takes_lines_and_writes_nothing() {
        let log = Log::off();
        assert!(!log.is_on());
        log.line(format_args!("nothing"));
        assert_eq!((log.dropped(), log.failed()), (0, 0));
    }
}
