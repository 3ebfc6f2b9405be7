//! tokio-websockets echo server for the benchmark: tokio's multi-thread
//! runtime, `ServerBuilder::accept`, the `Stream` + `Sink` API as its
//! examples show.

use futures_util::{SinkExt, StreamExt};
use plainws_bench::{ServerArgs, json_reply};
use tokio::net::TcpListener;
use tokio_websockets::{Message, ServerBuilder};

fn main() -> std::io::Result<()> {
    let args = ServerArgs::from_env();
    if args.batched {
        eprintln!("ws-tokio-websockets: --batched is ws-tungstenite's option");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&args.addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let json = args.json;
            tokio::spawn(async move {
                if let Err(e) = serve(stream, json).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    })
}

async fn serve(stream: tokio::net::TcpStream, json: bool) -> Result<(), tokio_websockets::Error> {
    let (_request, mut ws) = ServerBuilder::new().accept(stream).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if json && message.is_text() {
            let Some(reply) = message.as_text().and_then(json_reply) else {
                return Ok(());
            };
            ws.send(Message::text(reply)).await?;
        } else if message.is_text() || message.is_binary() {
            ws.send(message).await?;
        } else if message.is_close() {
            return Ok(());
        }
    }
    Ok(())
}
