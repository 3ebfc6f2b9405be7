//! plainws's tokio driver as an echo server for the benchmark: tokio's
//! multi-thread runtime (as the fastwebsockets peer), default `Config`,
//! `plainws::tokio::accept`, one task per connection.

use plainws::Message;
use plainws_bench::{ServerArgs, json_reply};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let args = ServerArgs::from_env();
    if args.batched {
        eprintln!("ws-plainws-tokio: --batched is ws-tungstenite's option");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&args.addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            let json = args.json;
            tokio::spawn(async move {
                match serve(stream, json).await {
                    Ok(()) => {}
                    Err(plainws::Error::ConnectionClosed | plainws::Error::AbnormalClosure) => {}
                    Err(e) => eprintln!("connection: {e}"),
                }
            });
        }
    })
}

async fn serve(stream: tokio::net::TcpStream, json: bool) -> plainws::Result<()> {
    let mut ws = plainws::tokio::accept(stream).await?;
    loop {
        match ws.recv().await? {
            Message::Text(text) if json => {
                let Some(reply) = json_reply(&text) else {
                    return Ok(());
                };
                ws.send_text(&reply).await?;
            }
            Message::Text(text) => ws.send_text(&text).await?,
            Message::Binary(data) => ws.send_binary(&data).await?,
            Message::Close(_) => return Ok(()),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
}
