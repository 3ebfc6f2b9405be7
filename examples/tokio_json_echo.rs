//! The JSON echo protocol of `src/bin/plainws` served by the tokio driver:
//! `ws://ADDR/echo` reads `{"cmd": "..."}` and answers
//! `{"cmd":"Thanks for your message: ..."}` (or `{"error": "..."}`); any
//! other path is a 404. Each connection is a reading task and a writing
//! task joined by a bounded channel, as in the seed program.
//!
//! ```text
//! cargo run --release --features tokio --example tokio_json_echo -- 127.0.0.1:1236 [THREADS]
//! ```

use plainws::tokio::{Receiver, Sender};
use plainws::{Accept, CloseCode, Config, Error, Message, Response};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:1236".into());
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
    runtime.block_on(async {
        let listener = TcpListener::bind(&addr).await?;
        eprintln!(
            "tokio_json_echo listening on ws://{}/echo",
            listener.local_addr()?
        );
        serve(listener).await
    })
}

/// Accepts connections until the listener fails.
pub async fn serve(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let ws = plainws::tokio::accept_with(stream, Config::default(), route).await;
            if let Ok(ws) = ws {
                let (receiver, sender) = ws.split();
                let (queue, replies) = mpsc::channel(64);
                let writer = tokio::spawn(write_loop(sender.clone(), replies));
                read_loop(receiver, &sender, queue).await;
                let _ = writer.await;
            }
        });
    }
}

/// `/echo` upgrades; anything else is a 404.
fn route(request: &plainws::Request) -> Result<Accept, Response> {
    match request.path() {
        "/echo" => Ok(Accept::default()),
        _ => Err(Response::new(
            404,
            "not found: the WebSocket endpoint is /echo\n",
        )),
    }
}

/// Parses each message and queues its reply, until the peer's Close or an
/// error; dropping the queue then ends the writer.
async fn read_loop(mut receiver: Receiver, sender: &Sender, queue: mpsc::Sender<String>) {
    loop {
        let reply = match receiver.recv().await {
            Ok(Message::Text(text)) => match plainws::json::from_text::<serde_json::Value>(&text) {
                Ok(value) => match value.get("cmd").and_then(|cmd| cmd.as_str()) {
                    Some(cmd) => {
                        let reply = format!("Thanks for your message: {cmd}");
                        serde_json::json!({ "cmd": reply }).to_string()
                    }
                    None => error_reply("expected {\"cmd\": \"...\"}"),
                },
                Err(e) => error_reply(&format!("expected {{\"cmd\": \"...\"}}: {e}")),
            },
            Ok(Message::Binary(_)) => {
                error_reply("binary messages are not supported: send JSON text")
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) | Err(_) => return,
        };
        if queue.send(reply).await.is_err() {
            let _ = sender.close(CloseCode::INTERNAL_ERROR, "send failed").await;
            return;
        }
    }
}

fn error_reply(why: &str) -> String {
    serde_json::json!({ "error": why }).to_string()
}

/// Sends each reply in order; the Close reply (if the peer closed) goes
/// out after the last one, when the handles are dropped.
async fn write_loop(sender: Sender, mut replies: mpsc::Receiver<String>) -> Result<(), Error> {
    while let Some(reply) = replies.recv().await {
        sender.send_text(&reply).await?;
    }
    Ok(())
}
