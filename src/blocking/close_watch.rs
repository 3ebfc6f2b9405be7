//! The close timeout (RFC 6455 §7.1.1) for connections whose close
//! handshake is under way: at the deadline, a Close reply still owed to
//! the peer goes out, and a handshake the peer has not finished is given
//! up on by shutting the socket down, which wakes a receiving half blocked
//! on a silent peer.
//!
//! One thread watches every closing connection in the process. It starts
//! when the first deadline is set and ends when no connection is left to
//! watch, so a server shutting down 10,000 connections adds one thread,
//! not 10,000. Shared by all, it never waits for one: at a deadline it
//! tries the owed Close reply once without blocking and shuts the socket
//! down (`Shared::on_close_deadline`), and it does that, like starting
//! its thread, after releasing the watch list's lock, so a peer that
//! stopped reading delays no other connection's Close reply.

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
    // Started outside the lock: spawning is a system call.
    watch.running = true;
    drop(watch);
    let spawned = thread::Builder::new()
        .name("plainws-close".into())
        .stack_size(64 << 10)
        .spawn(run);
    if spawned.is_ok() {
        return;
    }
    // No thread to wait with: end the connections now rather than never.
    let orphans = match WATCH.lock() {
        Ok(mut watch) => {
            watch.running = false;
            std::mem::take(&mut watch.entries)
        }
        Err(_) => Vec::new(),
    };
    connection.shutdown();
    for (_, orphan) in orphans {
        if let Some(orphan) = orphan.upgrade() {
            orphan.shutdown();
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
        let mut due = Vec::new();
        // Handles taken here are let go after the lock (the last one may
        // end its connection).
        let mut held = Vec::new();
        watch.entries.retain(|(deadline, connection)| {
            // Only atomics and reference counts here: nothing that can wait.
            if connection.strong_count() == 0 {
                return false;
            }
            if *deadline > now {
                // Not taken before it is due: a handle held here could
                // turn out to be the connection's last when the
                // application drops its own, and its end would then run
                // here instead of on the application's thread.
                next = Some(next.map_or(*deadline, |n| n.min(*deadline)));
                return true;
            }
            let Some(live) = connection.upgrade() else {
                return false;
            };
            if !live.is_ended() {
                due.push(Arc::clone(&live));
            }
            held.push(live);
            false
        });
        if !held.is_empty() {
            // Acted on without the lock: new deadlines can be set meanwhile.
            drop(watch);
            let acted = !due.is_empty();
            for connection in due {
                connection.on_close_deadline();
                Shared::release_on_shared_thread(connection);
            }
            for connection in held {
                Shared::release_on_shared_thread(connection);
            }
            watch = match WATCH.lock() {
                Ok(watch) => watch,
                Err(_) => return,
            };
            if acted {
                continue;
            }
            // Deadlines set while the lock was free count too.
            next = watch.entries.iter().map(|(deadline, _)| *deadline).min();
        }
        let Some(next) = next else {
            watch.running = false;
            return;
        };
        watch = match CHANGED.wait_timeout(watch, next.saturating_duration_since(Instant::now())) {
            Ok((guard, _)) => guard,
            Err(_) => return,
        };
    }
}
