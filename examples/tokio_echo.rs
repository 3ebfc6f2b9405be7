//! Echoes every text and binary message unchanged, on any path, with the
//! tokio driver: the server that the Autobahn TestSuite's `fuzzingclient`
//! tests (`scripts/test.sh`), permessage-deflate accepted.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_echo -- 127.0.0.1:9003 [THREADS]
//! ```
//!
//! `THREADS` worker threads (default: one, a current-thread runtime).

use plainws::{Accept, Config, DeflateConfig, Error, Message};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9003".into());
    let threads: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let runtime = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(serve(&addr))
}

async fn serve(addr: &str) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    eprintln!("tokio_echo listening on ws://{}", listener.local_addr()?);
    // Accept permessage-deflate, so that Autobahn groups 12 and 13 run.
    let config = Config::default().compression(DeflateConfig::default());
    loop {
        let (stream, _) = listener.accept().await?;
        let config = config.clone();
        tokio::spawn(async move {
            if let Err(e) = echo(stream, config).await {
                if !matches!(e, Error::ConnectionClosed | Error::AbnormalClosure) {
                    eprintln!("connection: {e}");
                }
            }
        });
    }
}

async fn echo(stream: tokio::net::TcpStream, config: Config) -> Result<(), Error> {
    let mut ws = plainws::tokio::accept_with(stream, config, |_| Ok(Accept::default())).await?;
    loop {
        match ws.recv().await? {
            Message::Text(text) => ws.send_text(&text).await?,
            Message::Binary(data) => ws.send_binary(&data).await?,
            Message::Close(_) => return Ok(()),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}
