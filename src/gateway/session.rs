//! One WebSocket connection: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATEs, then the
//! session's dispatches with its own sequence numbers, until either side closes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::protocol::*;
use super::registry::{Outbound, Recipient};
use super::{Gateway, HEARTBEAT_INTERVAL_MS};
use crate::service::gateway::SUPPORTED_VERSIONS;
use crate::service::Caller;

/// Largest client payload Discord accepts.
const MAX_CLIENT_PAYLOAD: usize = 4096;
/// Client events allowed per window before close 4008.
const RATE_LIMIT_EVENTS: usize = 120;
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);
/// How many dispatches may wait for a slow socket before the session is dropped.
const OUTBOUND_QUEUE: usize = 1024;

/// Why the loop ended: a close code to send, or the peer is gone.
enum End {
    Close(CloseCode),
    Gone,
}

/// A session after a successful IDENTIFY.
struct Identified {
    session_id: u64,
    caller: Caller,
    outbound: mpsc::Receiver<Outbound>,
}

struct Connection {
    gateway: Arc<Gateway>,
    socket: WebSocket,
    seq: u64,
    heartbeat_deadline: Instant,
    recent_events: VecDeque<Instant>,
}

impl Gateway {
    /// Runs one connection to its end.
    pub async fn serve(self: Arc<Self>, socket: WebSocket, params: ConnectParams) {
        let mut connection = Connection {
            gateway: Arc::clone(&self),
            socket,
            seq: 0,
            heartbeat_deadline: next_heartbeat_deadline(),
            recent_events: VecDeque::new(),
        };
        let mut identified: Option<Identified> = None;
        let end = match check_params(&params) {
            Err(code) => End::Close(code),
            Ok(()) => connection.run(&mut identified).await,
        };
        if let End::Close(code) = end {
            let frame = CloseFrame {
                code: code as u16,
                reason: code.reason().into(),
            };
            let _ = connection.socket.send(Message::Close(Some(frame))).await;
        }
        if let Some(session) = identified {
            let unwatch = self.registry().remove(session.session_id);
            self.apply_topics(Vec::new(), unwatch);
        }
    }
}

fn check_params(params: &ConnectParams) -> Result<(), CloseCode> {
    if let Some(version) = &params.v {
        let supported = version
            .parse::<u8>()
            .is_ok_and(|v| SUPPORTED_VERSIONS.contains(&v));
        if !supported {
            return Err(CloseCode::InvalidApiVersion);
        }
    }
    match params.encoding.as_deref() {
        None | Some("json") => Ok(()),
        // ETF arrives with the full gateway issue.
        Some(_) => Err(CloseCode::DecodeError),
    }
}

fn next_heartbeat_deadline() -> Instant {
    // A client beats every interval; allow half an interval more for jitter and latency.
    Instant::now() + Duration::from_millis(HEARTBEAT_INTERVAL_MS * 3 / 2)
}

/// Waits for the next dispatch of an identified session; never resolves before IDENTIFY.
async fn next_outbound(identified: &mut Option<Identified>) -> Option<Outbound> {
    match identified {
        Some(session) => session.outbound.recv().await,
        None => std::future::pending().await,
    }
}

impl Connection {
    async fn run(&mut self, identified: &mut Option<Identified>) -> End {
        let hello = json!({ "op": OP_HELLO, "d": { "heartbeat_interval": HEARTBEAT_INTERVAL_MS }, "s": null, "t": null });
        if self.send_text(hello.to_string()).await.is_err() {
            return End::Gone;
        }
        loop {
            tokio::select! {
                incoming = self.socket.recv() => {
                    let bytes = match incoming {
                        Some(Ok(Message::Text(text))) => text.as_str().as_bytes().to_vec(),
                        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::Gone,
                    };
                    if let Err(end) = self.handle_payload(&bytes, identified).await {
                        return end;
                    }
                }
                outbound = next_outbound(identified) => match outbound {
                    Some(Outbound::Dispatch { event, data }) => {
                        if self.dispatch(&event, &data).await.is_err() {
                            return End::Gone;
                        }
                    }
                    // The fan-out dropped this session for being too slow.
                    None => return End::Close(CloseCode::UnknownError),
                },
                _ = sleep_until(self.heartbeat_deadline) => {
                    return End::Close(CloseCode::SessionTimedOut);
                }
            }
        }
    }

    async fn handle_payload(
        &mut self,
        bytes: &[u8],
        identified: &mut Option<Identified>,
    ) -> Result<(), End> {
        if bytes.len() > MAX_CLIENT_PAYLOAD {
            return Err(End::Close(CloseCode::DecodeError));
        }
        let now = Instant::now();
        while self
            .recent_events
            .front()
            .is_some_and(|at| now.duration_since(*at) > RATE_LIMIT_WINDOW)
        {
            self.recent_events.pop_front();
        }
        if self.recent_events.len() >= RATE_LIMIT_EVENTS {
            return Err(End::Close(CloseCode::RateLimited));
        }
        self.recent_events.push_back(now);

        let payload: ClientPayload =
            serde_json::from_slice(bytes).map_err(|_| End::Close(CloseCode::DecodeError))?;
        match payload.op {
            OP_HEARTBEAT => {
                self.heartbeat_deadline = next_heartbeat_deadline();
                let ack = json!({ "op": OP_HEARTBEAT_ACK, "d": null, "s": null, "t": null });
                self.send_text(ack.to_string()).await.map_err(|_| End::Gone)
            }
            OP_IDENTIFY if identified.is_some() => Err(End::Close(CloseCode::AlreadyAuthenticated)),
            OP_IDENTIFY => {
                let session = self.identify(payload.d).await?;
                *identified = Some(session);
                Ok(())
            }
            OP_RESUME => {
                // Sessions are not resumable yet: tell the client to identify afresh.
                let invalid = json!({ "op": OP_INVALID_SESSION, "d": false, "s": null, "t": null });
                self.send_text(invalid.to_string())
                    .await
                    .map_err(|_| End::Gone)
            }
            _ if identified.is_none() => Err(End::Close(CloseCode::NotAuthenticated)),
            OP_PRESENCE_UPDATE | OP_VOICE_STATE_UPDATE => Ok(()),
            OP_REQUEST_GUILD_MEMBERS => {
                let caller = identified.as_ref().map(|s| s.caller.clone());
                match caller {
                    Some(caller) => self.request_guild_members(&caller, payload.d).await,
                    None => Err(End::Close(CloseCode::NotAuthenticated)),
                }
            }
            _ => Err(End::Close(CloseCode::UnknownOpcode)),
        }
    }

    async fn identify(&mut self, d: Value) -> Result<Identified, End> {
        let identify: Identify =
            serde_json::from_value(d).map_err(|_| End::Close(CloseCode::DecodeError))?;
        let gateway = Arc::clone(&self.gateway);
        let service = &gateway.service;
        let caller = service
            .authenticate_gateway(&identify.token)
            .await
            .map_err(|_| End::Close(CloseCode::AuthenticationFailed))?;
        let intents = match identify.intents {
            Some(bits) if bits & !intents::ALL == 0 => bits,
            Some(_) => return Err(End::Close(CloseCode::InvalidIntents)),
            // User clients send capabilities rather than intents: they see everything.
            None if !caller.is_bot() => intents::ALL,
            None => return Err(End::Close(CloseCode::InvalidIntents)),
        };
        if let Some([shard_id, shard_count]) = identify.shard {
            if shard_count == 0 || shard_id >= shard_count {
                return Err(End::Close(CloseCode::InvalidShard));
            }
        }

        let session_key = random_session_id();
        let state = service
            .ready_state(&caller, &session_key, identify.shard)
            .await
            .map_err(|_| End::Close(CloseCode::UnknownError))?;
        let guild_ids: Vec<_> = state
            .guild_ids
            .iter()
            .copied()
            .filter(|id| {
                identify.shard.is_none_or(|[shard_id, count]| {
                    (id.0 >> 22) % u64::from(count) == u64::from(shard_id)
                })
            })
            .collect();
        let mut ready = state.ready;
        ready["guilds"] = json!(guild_ids
            .iter()
            .map(|id| json!({ "id": id, "unavailable": true }))
            .collect::<Vec<_>>());

        // Register before sending READY so that no event between the snapshot and the first
        // dispatch is lost; it waits in the queue.
        let (sender, outbound) = mpsc::channel(OUTBOUND_QUEUE);
        let session_id = next_session_number();
        let watch = gateway.registry().add(
            Recipient {
                session_id,
                user_id: caller.id(),
                bot: caller.is_bot(),
                intents,
                sender,
            },
            &guild_ids,
        );
        gateway.apply_topics(watch, Vec::new());
        let session = Identified {
            session_id,
            caller: caller.clone(),
            outbound,
        };

        self.dispatch("READY", &ready.to_string())
            .await
            .map_err(|_| End::Gone)?;
        if intents & intents::GUILDS != 0 {
            for guild_id in guild_ids {
                match service.guild_create_for(&caller, guild_id).await {
                    Ok(guild) => {
                        self.dispatch("GUILD_CREATE", &guild.to_string())
                            .await
                            .map_err(|_| End::Gone)?;
                    }
                    Err(err) => tracing::warn!(%err, %guild_id, "GUILD_CREATE skipped"),
                }
            }
        }
        Ok(session)
    }

    async fn request_guild_members(&mut self, caller: &Caller, d: Value) -> Result<(), End> {
        let request: RequestGuildMembers =
            serde_json::from_value(d).map_err(|_| End::Close(CloseCode::DecodeError))?;
        let user_ids = request
            .user_ids
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
        let chunk = self
            .gateway
            .service
            .member_chunk(
                caller,
                request.guild_id,
                request.query.as_deref().unwrap_or(""),
                request.limit.unwrap_or(0),
                &user_ids,
                request.nonce.as_ref(),
            )
            .await;
        match chunk {
            Ok(chunk) => self
                .dispatch("GUILD_MEMBERS_CHUNK", &chunk.to_string())
                .await
                .map_err(|_| End::Gone),
            // Not a member of that guild: Discord ignores the request.
            Err(_) => Ok(()),
        }
    }

    /// Sends a dispatch, numbering it; `data` is the already-rendered `d`.
    async fn dispatch(&mut self, event: &str, data: &str) -> Result<(), axum::Error> {
        self.seq += 1;
        let frame = format!(
            "{{\"op\":{OP_DISPATCH},\"t\":\"{event}\",\"s\":{},\"d\":{data}}}",
            self.seq
        );
        self.send_text(frame).await
    }

    async fn send_text(&mut self, text: String) -> Result<(), axum::Error> {
        self.socket.send(Message::Text(text.into())).await
    }
}

fn random_session_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn next_session_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
