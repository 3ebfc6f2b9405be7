//! The bound on batched writes: a frame that waits in a connection's
//! output (`Config::batch_writes`, `Sender::feed_*`) reaches the socket
//! within [`HOLD_BOUND`], even if the receiving thread never comes back
//! to `recv` and no other frame follows it.
//!
//! One thread serves every connection in the process. Every deadline is
//! "now plus the same bound", so a FIFO queue is already in deadline
//! order. The thread starts with the first scheduled flush and ends after
//! a quiet second, so an idle process has none.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::blocking::shared::Shared;

/// The longest a held frame waits for a write.
pub(crate) const HOLD_BOUND: Duration = Duration::from_millis(1);
/// The thread ends after this long with nothing to flush.
const IDLE_EXIT: Duration = Duration::from_secs(1);

struct Queue {
    entries: VecDeque<(Instant, Weak<Shared>)>,
    running: bool,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    entries: VecDeque::new(),
    running: false,
});
static WAKE: Condvar = Condvar::new();

/// Flushes `connection` within [`HOLD_BOUND`]. Returns false when no
/// thread could be had: the caller then writes at once.
pub(crate) fn schedule(connection: Weak<Shared>) -> bool {
    let Ok(mut queue) = QUEUE.lock() else {
        return false;
    };
    queue
        .entries
        .push_back((Instant::now() + HOLD_BOUND, connection));
    if queue.running {
        if queue.entries.len() == 1 {
            WAKE.notify_one();
        }
        return true;
    }
    let spawned = thread::Builder::new()
        .name("plainws-flush".into())
        .stack_size(64 << 10)
        .spawn(run);
    match spawned {
        Ok(_) => {
            queue.running = true;
            true
        }
        Err(_) => {
            queue.entries.pop_back();
            false
        }
    }
}

fn run() {
    let Ok(mut queue) = QUEUE.lock() else {
        return;
    };
    loop {
        let now = Instant::now();
        while let Some(&(at, _)) = queue.entries.front() {
            if at > now {
                break;
            }
            let Some((_, connection)) = queue.entries.pop_front() else {
                break;
            };
            drop(queue);
            if let Some(connection) = connection.upgrade() {
                connection.flush_held();
            }
            queue = match QUEUE.lock() {
                Ok(queue) => queue,
                Err(_) => return,
            };
        }
        let wait = match queue.entries.front() {
            Some(&(at, _)) => at.saturating_duration_since(Instant::now()),
            None => IDLE_EXIT,
        };
        let idle = queue.entries.is_empty();
        queue = match WAKE.wait_timeout(queue, wait) {
            Ok((queue, _)) => queue,
            Err(_) => return,
        };
        if idle && queue.entries.is_empty() {
            queue.running = false;
            return;
        }
    }
}
