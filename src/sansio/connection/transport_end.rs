//! Who ends the transport first, and how long to linger (RFC 6455
//! §7.1.1): the one place this rule is written, so that every driver
//! follows it.
//!
//! §7.1.1: "The underlying TCP connection, in most normal cases, SHOULD
//! be closed first by the server, so that it holds the TIME_WAIT state
//! and not the client"; the client "SHOULD wait for the server to close
//! the connection but MAY close the connection at any time after sending
//! and receiving a Close message, e.g., if it has not received a TCP
//! Close from the server in a reasonable time period."

use core::time::Duration;

use super::Connection;
use crate::sansio::frame::Role;

/// What the driver does with the transport once the bytes of
/// [`take_data_to_send`](Connection::take_data_to_send) are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportEnd {
    /// The connection goes on: keep reading and writing.
    Open,
    /// A server whose connection is done (close handshake complete, or
    /// failed): end the writing half (`shutdown(Write)`, a TCP FIN) once
    /// the output is written, then read and drop the peer's bytes until
    /// its end of stream or `deadline`, then close. Closing with unread
    /// bytes would reset the connection under the Close still in flight.
    EndWritingFirst {
        /// When to stop waiting for the peer's end of stream.
        deadline: Duration,
    },
    /// A client whose connection is done: read and drop the peer's bytes
    /// until the server ends TCP, or `deadline`, then close.
    AwaitEof {
        /// When to stop waiting for the server's end of stream.
        deadline: Duration,
    },
    /// Close once the output is written: the peer's stream has ended (a
    /// half-closed peer still gets what is owed to it), or the transport
    /// failed.
    Close,
}

impl Connection {
    /// What to do with the transport now (RFC 6455 §7.1.1): keep it, end
    /// our writing half first and linger (a server), wait for the
    /// server's end of stream (a client), or close it. The lingering is
    /// bounded by the close timeout, started at the last Close sent or
    /// received ([`close_deadline`](Self::close_deadline)).
    pub fn transport_end(&self) -> TransportEnd {
        if self.aborted || self.eof {
            return TransportEnd::Close;
        }
        if !self.is_finished() {
            return TransportEnd::Open;
        }
        match (self.role, self.close_deadline()) {
            (Role::Server, Some(deadline)) => TransportEnd::EndWritingFirst { deadline },
            (Role::Client, Some(deadline)) => TransportEnd::AwaitEof { deadline },
            (_, None) => TransportEnd::Close,
        }
    }
}
