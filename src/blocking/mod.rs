//! The blocking driver: the sans-I/O core over `std::net::TcpStream` (or
//! any [`Transport`](crate::Transport)), one thread reading and any number
//! of threads sending.

pub(crate) mod client;
pub(crate) mod close_watch;
pub(crate) mod flusher;
pub(crate) mod proxy;
pub(crate) mod random;
pub(crate) mod receiver;
pub(crate) mod refusals;
pub(crate) mod sender;
pub(crate) mod server;
pub(crate) mod shared;
pub(crate) mod transport;
pub(crate) mod websocket;
