//! The close timeout (RFC 6455 §7.1.1) for connections whose close
//! handshake is under way: at the deadline, a Close reply still owed to
//! the peer goes out, and a handshake the peer has not finished is given
//! up on by shutting the socket down, which wakes a receiving half blocked
//! on a silent peer.
//!
//! One thread watches every closing connection in the process. It starts
//! when the first deadline is set and ends when no connection is left to
//! watch, so a server shutting down 10,000 connections adds one thread,
//! not 10,000.

use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::Instant;

use crate::blocking::shared::Shared;

struct Watch {
    /// Deadlines of connections still closing.
    entries: Vec<(Instant, Weak<Shared>)>,
    /// Whether the watching thread is running.
    running: bool,
}

static WATCH: Mutex<Watch> = Mutex::new(Watch {
    entries: Vec::new(),
    running: false,
});
static CHANGED: Condvar = Condvar::new();

/// Acts on `connection` at `deadline` unless its transport ends before.
pub(crate) fn watch(connection: &Arc<Shared>, deadline: Instant) {
    let Ok(mut watch) = WATCH.lock() else {
        connection.shutdown();
        return;
    };
    watch.entries.push((deadline, Arc::downgrade(connection)));
    if watch.running {
        CHANGED.notify_all();
        return;
    }
    let spawned = thread::Builder::new()
        .name("plainws-close".into())
        .stack_size(64 << 10)
        .spawn(run);
    match spawned {
        Ok(_) => watch.running = true,
        Err(_) => {
            // No thread to wait with: end the connection now rather than never.
            watch.entries.pop();
            drop(watch);
            connection.shutdown();
        }
    }
}

/// Wakes the watching thread: a connection's transport ended.
pub(crate) fn finished() {
    CHANGED.notify_all();
}

fn run() {
    let Ok(mut watch) = WATCH.lock() else {
        return;
    };
    loop {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        watch.entries.retain(|(deadline, connection)| {
            let Some(connection) = connection.upgrade() else {
                return false;
            };
            if connection.is_ended() {
                return false;
            }
            if *deadline <= now {
                connection.on_close_deadline();
                return false;
            }
            next = Some(next.map_or(*deadline, |n| n.min(*deadline)));
            true
        });
        let Some(next) = next else {
            watch.running = false;
            return;
        };
        watch = match CHANGED.wait_timeout(watch, next.saturating_duration_since(now)) {
            Ok((guard, _)) => guard,
            Err(_) => return,
        };
    }
}
