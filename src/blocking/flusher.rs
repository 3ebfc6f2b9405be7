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
//! `recv`), and the flusher moves on: a peer that stopped reading delays
//! no other connection's held frames. No system call is made under the
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
                Shared::release_on_shared_thread(connection);
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
