//! tokio-tungstenite echo server for the benchmark: tokio's multi-thread
//! runtime, `accept_async`, the `Stream` + `Sink` API as its README shows.

use futures_util::{SinkExt, StreamExt};
use plainws_bench::{ServerArgs, json_reply};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

fn main() -> std::io::Result<()> {
    let args = ServerArgs::from_env();
    if args.batched {
        eprintln!("ws-tokio-tungstenite: --batched is ws-tungstenite's option");
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

async fn serve(
    stream: tokio::net::TcpStream,
    json: bool,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut ws = tokio_tungstenite::accept_async(stream).await?;
    while let Some(message) = ws.next().await {
        match message? {
            Message::Text(text) if json => {
                let Some(reply) = json_reply(text.as_str()) else {
                    return Ok(());
                };
                ws.send(Message::text(reply)).await?;
            }
            message @ (Message::Text(_) | Message::Binary(_)) => ws.send(message).await?,
            Message::Close(_) => return Ok(()),
            _ => {}
        }
    }
    Ok(())
}
