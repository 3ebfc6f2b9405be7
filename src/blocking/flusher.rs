//! The bound on batched writes: a frame held in a connection's output
//! while its receiving half batches replies (`Config::batch_writes`) is
//! offered to the socket within [`HOLD_BOUND`], even if the receiving
//! thread never comes back to `recv` and no other frame follows it.
//! (Frames queued with `Sender::feed_*` wait for the caller's `flush` or
//! next send; the flusher writes them only along with held frames.)
//!
//! One thread serves every connection in the process, so it never waits
//! for one: it only tries a non-blocking write (`Shared::flush_held`).
//! When a peer's socket is full, what is left waits in that connection's
//! writer for the connection's own threads (its next send, flush or
//! `recv`) and for the flusher's retries, spaced out up to [`RETRY_MAX`];
//! a peer that stopped reading delays no other connection's held frames. No system call is made under the
//! queue's lock (the thread is started after it is released).
//!
//! Every deadline is "now plus the same bound", so a FIFO queue is
//! already in deadline order. The thread starts with the first scheduled
//! flush and ends after a quiet second, so an idle process has none.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::blocking::shared::Shared;

/// The longest a held frame waits for a write.
pub(crate) const HOLD_BOUND: Duration = Duration::from_millis(1);
/// The thread ends after this long with nothing to flush.
const IDLE_EXIT: Duration = Duration::from_secs(1);
/// A socket that did not take everything is tried again after this long,
/// doubling up to [`RETRY_MAX`], until its own threads or a retry have
/// written the rest: a peer that was only slow gets its frames even if
/// its connection goes quiet.
const RETRY_FIRST: Duration = Duration::from_millis(1);
const RETRY_MAX: Duration = Duration::from_millis(50);

struct Queue {
    entries: VecDeque<(Instant, Weak<Shared>)>,
    /// Connections whose socket was full: when to try again, and the
    /// wait before the one after.
    retries: Vec<(Instant, Weak<Shared>, Duration)>,
    running: bool,
}

static QUEUE: Mutex<Queue> = Mutex::new(Queue {
    entries: VecDeque::new(),
    retries: Vec::new(),
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
        .push_back((Instant::now() + HOLD_BOUND, connection.clone()));
    if queue.running {
        if queue.entries.len() == 1 {
            WAKE.notify_one();
        }
        return true;
    }
    // Started outside the lock: spawning is a system call.
    queue.running = true;
    drop(queue);
    let spawned = thread::Builder::new()
        .name("plainws-flush".into())
        .stack_size(64 << 10)
        .spawn(run);
    if spawned.is_ok() {
        return true;
    }
    let Ok(mut queue) = QUEUE.lock() else {
        return false;
    };
    queue.running = false;
    // Ours, and any scheduled meanwhile: their callers were told a thread
    // would come. Left for the next start; ours is written by the caller.
    queue.entries.retain(|(_, c)| !c.ptr_eq(&connection));
    false
}

/// One non-blocking attempt for `connection`, outside the queue's lock;
/// returns when to try again if its socket did not take everything.
fn attempt(connection: &Weak<Shared>, retry_after: Duration) -> Option<Instant> {
    let connection = connection.upgrade()?;
    let left = connection.flush_held();
    Shared::release_on_shared_thread(connection);
    left.then(|| Instant::now() + retry_after)
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
            let again = attempt(&connection, RETRY_FIRST);
            queue = match QUEUE.lock() {
                Ok(queue) => queue,
                Err(_) => return,
            };
            if let Some(at) = again {
                queue.retries.push((at, connection, RETRY_FIRST));
            }
        }
        let due: Vec<_> = {
            let (due, later) = std::mem::take(&mut queue.retries)
                .into_iter()
                .partition(|(at, _, _)| *at <= now);
            queue.retries = later;
            due
        };
        if !due.is_empty() {
            drop(queue);
            let again: Vec<_> = due
                .into_iter()
                .filter_map(|(_, connection, waited)| {
                    let next = (waited * 2).min(RETRY_MAX);
                    attempt(&connection, next).map(|at| (at, connection, next))
                })
                .collect();
            queue = match QUEUE.lock() {
                Ok(queue) => queue,
                Err(_) => return,
            };
            queue.retries.extend(again);
        }
        let next_retry = queue.retries.iter().map(|(at, _, _)| *at).min();
        let next = match (queue.entries.front().map(|&(at, _)| at), next_retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let wait = next.map_or(IDLE_EXIT, |at| at.saturating_duration_since(Instant::now()));
        let idle = next.is_none();
        queue = match WAKE.wait_timeout(queue, wait) {
            Ok((queue, _)) => queue,
            Err(_) => return,
        };
        if idle && queue.entries.is_empty() && queue.retries.is_empty() {
            queue.running = false;
            return;
        }
    }
}
