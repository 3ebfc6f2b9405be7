//! An axum app with one route upgraded to plainws: `GET /ws` speaks the
//! JSON echo protocol (`{"cmd": "x"}` → `{"cmd":"Thanks for your message:
//! x"}`) with permessage-deflate; `GET /` is a page that talks to it.
//!
//! The upgrade: axum hands the request to the handler, which rebuilds its
//! head for the core's [`ServerHandshake`] (so the WebSocket checks,
//! permessage-deflate and the subprotocol rule are plainws's, not a copy),
//! answers with the 101 the core wrote, and, once hyper has switched
//! protocols, hands hyper's upgraded connection to
//! [`plainws::tokio::accept_upgraded`].
//!
//! ```text
//! cargo run --release --manifest-path examples/axum/Cargo.toml -- 127.0.0.1:3000
//! ```

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, Response};
use axum::routing::get;
use hyper_util::rt::TokioIo;
use plainws::sansio::handshake::accepting::{Refusal, ServerHandshake};
use plainws::tokio::WebSocket;
use plainws::{Accept, Config, DeflateConfig, Message};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".into());
    let app = Router::new()
        .route("/", get(page))
        .route("/ws", get(upgrade));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "plainws-axum listening on http://{}/",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

/// `GET /ws`: the core's handshake on the request hyper parsed.
async fn upgrade(request: Request) -> Response {
    let config = Config::default().compression(DeflateConfig::default());
    let mut handshake = ServerHandshake::new(config);
    let parsed = match handshake.receive(&request_head(&request)) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return plain(StatusCode::BAD_REQUEST, "incomplete request head\n"),
        Err(refusal) => return refused(refusal),
    };
    let mut upgrade = match handshake.accept(&parsed, Ok(Accept::default())) {
        Ok(upgrade) => upgrade,
        Err(refusal) => return refused(refusal),
    };
    let answer = switching_protocols(&std::mem::take(&mut upgrade.response));
    let on_upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = plainws::tokio::accept_upgraded(TokioIo::new(upgraded), upgrade);
                if let Err(e) = echo(ws).await {
                    eprintln!("connection: {e}");
                }
            }
            Err(e) => eprintln!("upgrade: {e}"),
        }
    });
    answer
}

/// The JSON echo protocol.
async fn echo(mut ws: WebSocket) -> plainws::Result<()> {
    loop {
        match ws.recv().await {
            Ok(Message::Text(text)) => {
                let reply = match command(&text) {
                    Some(cmd) => format!(
                        "{{\"cmd\":{}}}",
                        quote(&format!("Thanks for your message: {cmd}"))
                    ),
                    None => r#"{"error":"expected {\"cmd\": \"...\"}"}"#.to_owned(),
                };
                ws.send_text(&reply).await?;
            }
            Ok(Message::Close(_)) | Err(plainws::Error::ConnectionClosed) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
}

/// The value of `"cmd"` in `{"cmd": "..."}` (a string without escapes:
/// enough for an example; the `json` feature has serde).
fn command(text: &str) -> Option<&str> {
    let rest = text.trim().strip_prefix('{')?.trim_start();
    let rest = rest
        .strip_prefix("\"cmd\"")?
        .trim_start()
        .strip_prefix(':')?;
    let rest = rest.trim_start().strip_prefix('"')?;
    let end = rest.find('"')?;
    let value = &rest[..end];
    (!value.contains('\\') && rest[end + 1..].trim() == "}").then_some(value)
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The request head as it came: request line and header fields.
fn request_head(request: &Request) -> Vec<u8> {
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let mut head = format!("{} {target} HTTP/1.1\r\n", request.method()).into_bytes();
    for (name, value) in request.headers() {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    head
}

/// The core's 101 as an axum response (hyper writes the status line).
fn switching_protocols(bytes: &[u8]) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let text = String::from_utf8_lossy(bytes);
    for line in text.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The core's refusal (400, 426, ...) as an axum response.
fn refused(refusal: Refusal) -> Response {
    let bytes = refusal.response.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(StatusCode::BAD_REQUEST);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    plain(status, body)
}

fn plain(status: StatusCode, body: &str) -> Response {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response
}

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>plainws on axum</title>
<p>Reply: <span id="reply"></span> <span id="extensions"></span></p>
<script>
const ws = new WebSocket(`ws://${location.host}/ws`);
ws.onopen = () => {
  document.getElementById("extensions").textContent = ws.extensions;
  ws.send(JSON.stringify({ cmd: new URLSearchParams(location.search).get("auto") || "hello" }));
};
ws.onmessage = (e) => {
  const reply = JSON.parse(e.data);
  document.getElementById("reply").textContent = reply.cmd;
  document.title = reply.cmd;
};
</script>
"#;
