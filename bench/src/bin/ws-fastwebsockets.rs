//! fastwebsockets echo server: tokio multi-thread runtime, hyper upgrade,
//! auto close/pong, messages reassembled by `FragmentCollector`.

use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, WebSocketError, upgrade};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use plainws_bench::{ServerArgs, json_reply};
use tokio::net::TcpListener;

fn main() -> std::io::Result<()> {
    let args = ServerArgs::from_env();
    if args.batched {
        eprintln!("ws-fastwebsockets: --batched is ws-tungstenite's option");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_io()
        .build()?;
    rt.block_on(async move {
        let listener = TcpListener::bind(&args.addr).await?;
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            let json = args.json;
            tokio::spawn(async move {
                let service = service_fn(move |req| upgrade_request(req, json));
                let conn = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                if let Err(e) = conn.await {
                    eprintln!("http: {e}");
                }
            });
        }
    })
}

async fn upgrade_request(
    mut req: Request<Incoming>,
    json: bool,
) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, fut) = upgrade::upgrade(&mut req)?;
    tokio::spawn(async move {
        if let Err(e) = tokio::task::unconstrained(serve(fut, json)).await {
            eprintln!("connection: {e}");
        }
    });
    Ok(response)
}

async fn serve(fut: upgrade::UpgradeFut, json: bool) -> Result<(), WebSocketError> {
    let mut ws = fut.await?;
    ws.set_auto_close(true);
    ws.set_auto_pong(true);
    let mut ws = FragmentCollector::new(ws);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text if json => {
                let text =
                    std::str::from_utf8(&frame.payload).map_err(|_| WebSocketError::InvalidUTF8)?;
                let Some(reply) = json_reply(text) else {
                    return Ok(());
                };
                ws.write_frame(Frame::text(Payload::Owned(reply.into_bytes())))
                    .await?;
            }
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            _ => {}
        }
    }
}
