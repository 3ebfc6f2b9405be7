//! The data channel of a fragmented message (RFC 6455 §5.4): the thread
//! that started a message owns the channel until its last fragment; data
//! messages from other threads wait in turn (at most the write timeout,
//! none when it is zero); a continuation from another thread is refused
//! at once; a thread that ends (returns or panics) mid-message closes the
//! connection with 1011, releasing the waiting threads.

use std::thread::ThreadId;
use std::time::Instant;

use crate::blocking::close_watch;
use crate::blocking::shared::{Core, Shared};
use crate::error::{Error, Result};
use crate::sansio::close::CloseCode;
use crate::sansio::connection::State;

impl Shared {
    /// Waits, in turn, while another thread's fragmented message holds the
    /// data channel, at most the write timeout (none when it is zero). A
    /// thread that had to wait gets the channel reserved for its send.
    pub(super) fn wait_for_channel(&self, me: ThreadId) -> Result<()> {
        let mut core = self.lock_core()?;
        let free = core.fragment_owner.is_none() && core.waiting.is_empty();
        if free || core.fragment_owner == Some(me) {
            return Ok(());
        }
        core.waiting.push_back(me);
        let deadline = self.write_timeout().map(|t| Instant::now() + t);
        loop {
            if core.fragment_owner.is_none() && core.waiting.front() == Some(&me) {
                core.waiting.pop_front();
                core.fragment_owner = Some(me);
                return Ok(());
            }
            let Some(deadline) = deadline else {
                core = self
                    .channel_free
                    .wait(core)
                    .map_err(|_| Error::ConnectionFailed)?;
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                core.waiting.retain(|waiter| *waiter != me);
                self.channel_free.notify_all();
                return Err(Error::Timeout(
                    "waiting for another thread's fragmented message",
                ));
            }
            core = self
                .channel_free
                .wait_timeout(core, left)
                .map_err(|_| Error::ConnectionFailed)?
                .0;
        }
    }

    /// Records whether this thread holds the data channel after a send:
    /// while its message is open it does; otherwise (its message ended,
    /// or the connection is closing or failed) it lets the next waiting
    /// thread have it.
    pub(super) fn update_owner(&self, core: &mut Core, me: ThreadId) {
        let open = core.conn.sending_message().is_some()
            && !matches!(core.conn.state(), State::CloseSent | State::Closed);
        if open && core.fragment_owner.is_none_or(|owner| owner == me) {
            if core.fragment_owner.is_none() {
                core.fragment_owner = Some(me);
            }
            open_messages::enter(&self.this);
        } else if core.fragment_owner == Some(me) {
            core.fragment_owner = None;
            open_messages::leave(&self.this);
            self.channel_free.notify_all();
        }
    }

    /// The thread `owner` ended with a fragmented message open: see
    /// [`abandon_message`](Self::abandon_message); the close handshake is
    /// then watched.
    pub(super) fn abandon(&self, owner: ThreadId) {
        if self.abandon_message(owner) {
            if let Some(this) = self.this.upgrade() {
                close_watch::watch(&this, this.close_deadline());
            }
        }
    }

    /// The thread `owner` ended with its fragmented message unfinished:
    /// the connection is closed with 1011 (RFC 6455 §7.4.1: "an
    /// unexpected condition"), which the peer may receive between
    /// fragments (§5.4), and waiting senders are released.
    fn abandon_message(&self, owner: ThreadId) -> bool {
        let Ok(mut writer) = self.lock_writer() else {
            return false;
        };
        let Ok(mut core) = self.lock_core() else {
            return false;
        };
        if core.fragment_owner != Some(owner) {
            return false;
        }
        core.fragment_owner = None;
        let closed = core
            .conn
            .close(
                CloseCode::INTERNAL_ERROR,
                "a sending thread ended mid-message",
                super::now(),
            )
            .is_ok();
        self.channel_free.notify_all();
        if writer.failed {
            return false;
        }
        core.conn.take_data_to_send(&mut writer.buf);
        drop(core);
        closed && self.write_buffer(&mut writer).is_ok()
    }
}

/// The connections on which this thread has a fragmented message open,
/// so that a thread that ends (returns or panics) mid-message releases
/// their data channels instead of holding them forever.
pub(super) mod open_messages {
    use std::cell::RefCell;
    use std::sync::Weak;
    use std::thread::{self, ThreadId};

    use crate::blocking::shared::Shared;

    struct Open {
        thread: ThreadId,
        connections: Vec<Weak<Shared>>,
    }

    impl Drop for Open {
        /// The thread is ending: every message it left open fails its
        /// connection (see `Shared::abandon_message`).
        fn drop(&mut self) {
            for connection in self.connections.drain(..) {
                if let Some(connection) = connection.upgrade() {
                    connection.abandon(self.thread);
                }
            }
        }
    }

    thread_local! {
        static OPEN: RefCell<Option<Open>> = const { RefCell::new(None) };
    }

    /// This thread has a message open on `connection`.
    pub(super) fn enter(connection: &Weak<Shared>) {
        let _ = OPEN.try_with(|open| {
            let mut open = open.borrow_mut();
            let open = open.get_or_insert_with(|| Open {
                thread: thread::current().id(),
                connections: Vec::new(),
            });
            if !open.connections.iter().any(|c| c.ptr_eq(connection)) {
                open.connections.push(connection.clone());
            }
        });
    }

    /// This thread's message on `connection` ended.
    pub(super) fn leave(connection: &Weak<Shared>) {
        let _ = OPEN.try_with(|open| {
            if let Some(open) = open.borrow_mut().as_mut() {
                open.connections.retain(|c| !c.ptr_eq(connection));
            }
        });
    }
}
