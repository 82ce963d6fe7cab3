//! The naive baseline for the fan-out benchmark (`scripts/bench.sh`): the broadcast server one
//! writes first, so accord's figures have something to be compared with.
//!
//! It is naive ON PURPOSE, in the usual ways:
//! - one task per WebSocket with tokio-tungstenite's DEFAULT config (128 KiB read and write
//!   buffers allocated per connection);
//! - one global `Mutex<HashMap>` of unbounded queues: a POST locks it and pushes to every
//!   connection, so memory grows without bound when a reader is slow;
//! - the dispatch is serialised to JSON again for every recipient (sequence numbers differ);
//! - no store, no intents, and the simplest permission check: a session whose token starts
//!   `hidden-` does not get the channel's messages, checked per recipient on every post (the
//!   loadgen's `--baseline` hides the same share of sessions as on accord, so both servers
//!   deliver each message to the same number of sockets).
//!
//! It speaks just enough of the protocol for `loadgen --baseline`: HELLO, IDENTIFY (any token) →
//! READY with no guilds, heartbeat → ACK, `POST /api/v10/channels/{id}/messages` → one
//! MESSAGE_CREATE per connected session, and `GET /api/v10/gateway`. HTTP and the gateway listen
//! on two ports (`--listen`, `--gateway-listen`) so the WebSocket side is plain tokio-tungstenite.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Where to listen.
#[derive(Parser)]
#[command(
    name = "naive_baseline",
    about = "Naive broadcast server for loadgen --baseline"
)]
struct Args {
    /// HTTP address (POST /api/v10/channels/{id}/messages)
    #[arg(long, default_value = "127.0.0.1:8090")]
    listen: SocketAddr,
    /// WebSocket gateway address
    #[arg(long, default_value = "127.0.0.1:8091")]
    gateway_listen: SocketAddr,
    /// heartbeat interval announced in HELLO
    #[arg(long, default_value_t = 41_250)]
    heartbeat_interval_ms: u64,
}

/// One identified connection: whether it may see the channel, and its queue.
struct Socket {
    hidden: bool,
    queue: mpsc::UnboundedSender<Arc<Value>>,
}

/// Every identified connection's queue.
struct Hub {
    next: AtomicU64,
    sockets: Mutex<HashMap<u64, Socket>>,
    gateway_url: String,
    heartbeat_ms: u64,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let hub = Arc::new(Hub {
        next: AtomicU64::new(1),
        sockets: Mutex::new(HashMap::new()),
        gateway_url: format!("ws://{}", args.gateway_listen),
        heartbeat_ms: args.heartbeat_interval_ms,
    });
    let http = TcpListener::bind(args.listen).await.expect("bind --listen");
    let gateway = TcpListener::bind(args.gateway_listen)
        .await
        .expect("bind --gateway-listen");
    eprintln!(
        "naive_baseline: http on {}, gateway on {}",
        args.listen, args.gateway_listen
    );
    let app = Router::new()
        .route("/api/v10/gateway", get(gateway_url))
        .route("/api/v10/channels/{id}/messages", post(create_message))
        .with_state(hub.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = gateway.accept().await {
            tokio::spawn(connection(stream, hub.clone()));
        }
    });
    axum::serve(http, app).await.expect("serve http");
}

async fn gateway_url(State(hub): State<Arc<Hub>>) -> Json<Value> {
    Json(json!({ "url": hub.gateway_url }))
}

/// Builds a Discord-shaped message and pushes it to every socket.
async fn create_message(
    State(hub): State<Arc<Hub>>,
    Path(channel_id): Path<String>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let id = hub.next.fetch_add(1, Ordering::Relaxed);
    let message = Arc::new(json!({
        "id": id.to_string(),
        "type": 0,
        "channel_id": channel_id,
        "author": {"id": "1", "username": "poster", "discriminator": "0", "global_name": null,
                   "avatar": null},
        "content": body["content"],
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "flags": 0,
        "components": [],
        "nonce": body["nonce"],
    }));
    let sockets = hub.sockets.lock().unwrap_or_else(|e| e.into_inner());
    for socket in sockets.values() {
        if !socket.hidden {
            let _ = socket.queue.send(message.clone());
        }
    }
    Json((*message).clone())
}

/// One task per connection: HELLO, IDENTIFY → READY, then heartbeats and queued messages.
async fn connection(stream: TcpStream, hub: Arc<Hub>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let hello = json!({"op": 10, "d": {"heartbeat_interval": hub.heartbeat_ms}});
    if ws
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_err()
    {
        return;
    }
    let id = hub.next.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Value>>();
    let mut tx = Some(tx);
    let mut seq = 0u64;
    loop {
        tokio::select! {
            incoming = ws.next() => {
                let Some(Ok(msg)) = incoming else { break };
                let Message::Text(text) = msg else {
                    if matches!(msg, Message::Close(_)) { break } else { continue }
                };
                let Ok(payload) = serde_json::from_str::<Value>(text.as_str()) else { break };
                let reply = match payload["op"].as_u64() {
                    Some(1) => json!({"op": 11}),
                    Some(2) => {
                        let Some(queue) = tx.take() else { break };
                        let hidden = payload["d"]["token"]
                            .as_str()
                            .is_some_and(|t| t.starts_with("hidden-"));
                        hub.sockets
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(id, Socket { hidden, queue });
                        seq += 1;
                        json!({"op": 0, "t": "READY", "s": seq, "d": {
                            "v": 10,
                            "user": {"id": id.to_string(), "username": format!("user{id}"),
                                     "discriminator": "0", "bot": false},
                            "guilds": [],
                            "session_id": format!("s{id}"),
                            "resume_gateway_url": hub.gateway_url,
                        }})
                    }
                    _ => continue,
                };
                if ws.send(Message::Text(reply.to_string().into())).await.is_err() {
                    break;
                }
            }
            Some(message) = rx.recv() => {
                seq += 1;
                // Serialised per recipient: the naive way.
                let frame = json!({"op": 0, "t": "MESSAGE_CREATE", "s": seq, "d": &*message});
                let sent = tokio::time::timeout(
                    Duration::from_secs(30),
                    ws.send(Message::Text(frame.to_string().into())),
                ).await;
                if !matches!(sent, Ok(Ok(()))) {
                    break;
                }
            }
        }
    }
    hub.sockets
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
}
