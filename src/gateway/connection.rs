//! One WebSocket connection: HELLO, heartbeats, then IDENTIFY (a new session) or RESUME (an
//! existing one, replaying what it missed); afterwards it writes the session's dispatches
//! until either side closes. Losing the connection only detaches the session.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant};

use super::compression::TransportCompression;
use super::protocol::*;
use super::session::{Dispatch, Outbound, Session, OUTBOUND_QUEUE};
use super::Gateway;
use crate::service::gateway::{MemberRequest, SUPPORTED_VERSIONS};

/// Largest client payload Discord accepts.
const MAX_CLIENT_PAYLOAD: usize = 4096;
/// Queued items one socket write may carry (bounds the time one connection holds its task).
const WRITE_BATCH: usize = 64;
/// A payload at least this large is written on its own, not batched with others: tungstenite's
/// write buffer keeps, for the rest of the connection, the largest capacity it ever needed, and
/// READY and GUILD_CREATE fed together left every idle session holding their sum (heaptrack:
/// 5.3 KiB a session; alone, the larger of the two).
const LARGE_FRAME: usize = 2048;
/// Client events allowed per window before close 4008.
const RATE_LIMIT_EVENTS: usize = 120;
const RATE_LIMIT_WINDOW: Duration = Duration::from_secs(60);

/// How a connection ended.
enum End {
    /// Close with this code; the session (if any) stays resumable unless the code says not.
    Close(CloseCode),
    /// The client closed with 1000/1001: its session ends.
    ClientEnded,
    /// The socket is gone.
    Gone,
}

/// RESUME `d`.
#[derive(Deserialize)]
struct Resume {
    token: String,
    session_id: String,
    seq: Option<u64>,
}

struct Connection {
    gateway: Arc<Gateway>,
    socket: WebSocket,
    /// This connection's end of its session's queue.
    sender: mpsc::Sender<Outbound>,
    session: Option<Arc<Session>>,
    encoding: Encoding,
    /// One stream per connection (`compress` query parameter); a resume starts a new one.
    compression: TransportCompression,
    heartbeat_deadline: Instant,
    /// An op 1 was sent because a heartbeat was overdue; the next deadline closes.
    heartbeat_requested: bool,
    recent_events: VecDeque<Instant>,
}

impl Gateway {
    /// Runs one connection to its end.
    pub async fn serve(self: Arc<Self>, socket: WebSocket, params: ConnectParams) {
        self.churn.record();
        let (sender, mut outbound) = mpsc::channel(OUTBOUND_QUEUE);
        let mut connection = Connection {
            gateway: Arc::clone(&self),
            socket,
            sender,
            session: None,
            encoding: Encoding::Json,
            compression: TransportCompression::None,
            heartbeat_deadline: Instant::now() + self.config.heartbeat_interval * 5 / 4,
            heartbeat_requested: false,
            recent_events: VecDeque::new(),
        };
        let checked = check_params(&params).map(|encoding| {
            // An unknown value falls back to plain frames, which every client reads.
            let compression = TransportCompression::from_query(params.compress.as_deref())
                .unwrap_or(TransportCompression::None);
            (encoding, compression)
        });
        // Not needed any more; a value still in scope would be kept for the whole connection.
        drop(params);
        let end = match checked {
            Err(code) => End::Close(code),
            Ok((encoding, compression)) => {
                connection.encoding = encoding;
                connection.compression = compression;
                connection.run(&mut outbound).await
            }
        };
        if let End::Close(code) = end {
            let frame = CloseFrame {
                code: code as u16,
                reason: code.reason().into(),
            };
            let _ = connection.socket.send(Message::Close(Some(frame))).await;
        }
        if let Some(session) = connection.session.take() {
            match end {
                End::ClientEnded => self.end_session(session.number),
                End::Close(code) if !code.resumable() => self.end_session(session.number),
                _ => session.detach(&connection.sender),
            }
        }
        self.churn.record();
    }
}

/// How payloads are written on this connection (`encoding` query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Json,
    /// Erlang term format, in binary frames.
    Etf,
}

fn check_params(params: &ConnectParams) -> Result<Encoding, CloseCode> {
    if let Some(version) = &params.v {
        let supported = version
            .parse::<u8>()
            .is_ok_and(|v| SUPPORTED_VERSIONS.contains(&v));
        if !supported {
            return Err(CloseCode::InvalidApiVersion);
        }
    }
    match params.encoding.as_deref() {
        None | Some("json") => Ok(Encoding::Json),
        Some("etf") => Ok(Encoding::Etf),
        Some(_) => Err(CloseCode::DecodeError),
    }
}

/// Waits for the next item for an attached connection; never resolves before that.
async fn next_outbound(
    attached: bool,
    outbound: &mut mpsc::Receiver<Outbound>,
) -> Option<Outbound> {
    if attached {
        outbound.recv().await
    } else {
        std::future::pending().await
    }
}

impl Connection {
    async fn run(&mut self, outbound: &mut mpsc::Receiver<Outbound>) -> End {
        // Rendered by a function and moved into the send: a JSON tree held in a local here
        // would live as long as the connection (heaptrack found it, ~1 KiB, in every session).
        let interval_ms = self.gateway.config.heartbeat_interval.as_millis() as u64;
        let hello = hello_payload(interval_ms);
        if self.send_text(hello).await.is_err() {
            return End::Gone;
        }
        let identify_deadline = Instant::now() + self.gateway.config.identify_timeout;
        loop {
            let attached = self.session.is_some();
            tokio::select! {
                incoming = self.socket.recv() => {
                    let bytes = match incoming {
                        Some(Ok(Message::Text(text))) => text.as_str().as_bytes().to_vec(),
                        Some(Ok(Message::Binary(bytes))) => bytes.to_vec(),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Close(Some(frame)))) if matches!(frame.code, 1000 | 1001) => {
                            return End::ClientEnded;
                        }
                        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return End::Gone,
                    };
                    if let Err(end) = self.handle_payload(&bytes).await {
                        return end;
                    }
                }
                item = next_outbound(attached, outbound) => match item {
                    Some(item) => {
                        if let Err(end) = self.write_queued(item, outbound).await {
                            return end;
                        }
                    }
                    // The session dropped this connection (too slow, or resumed elsewhere).
                    None => return End::Close(CloseCode::UnknownError),
                },
                _ = sleep_until(self.heartbeat_deadline) => {
                    if self.heartbeat_requested {
                        // Still silent: close, resumably; the client reconnects and resumes.
                        return End::Close(CloseCode::UnknownError);
                    }
                    // Overdue: ask for a heartbeat now (op 1), as Discord does, then wait a
                    // quarter interval more.
                    self.heartbeat_requested = true;
                    self.heartbeat_deadline = Instant::now() + self.gateway.config.heartbeat_interval / 4;
                    let request = json!({ "op": OP_HEARTBEAT, "d": null, "s": null, "t": null });
                    if self.send_text(request.to_string()).await.is_err() {
                        return End::Gone;
                    }
                }
                _ = sleep_until(identify_deadline), if !attached => {
                    return End::Close(CloseCode::SessionTimedOut);
                }
            }
        }
    }

    async fn handle_payload(&mut self, bytes: &[u8]) -> Result<(), End> {
        if bytes.len() > MAX_CLIENT_PAYLOAD {
            return Err(End::Close(CloseCode::DecodeError));
        }
        self.count_event()?;
        let payload: ClientPayload = self
            .decode(bytes)
            .ok_or(End::Close(CloseCode::DecodeError))?;
        match payload.op {
            OP_HEARTBEAT => {
                // A client beats every interval; allow a quarter more for jitter and latency.
                self.heartbeat_deadline =
                    Instant::now() + self.gateway.config.heartbeat_interval * 5 / 4;
                self.heartbeat_requested = false;
                if let (Some(session), Some(seq)) = (&self.session, payload.d.as_u64()) {
                    session.acknowledge(seq);
                }
                let ack = json!({ "op": OP_HEARTBEAT_ACK, "d": null, "s": null, "t": null });
                self.send_text(ack.to_string()).await.map_err(|_| End::Gone)
            }
            OP_IDENTIFY | OP_RESUME if self.session.is_some() => {
                Err(End::Close(CloseCode::AlreadyAuthenticated))
            }
            // Boxed: their futures are large and run once, while an idle connection's task
            // would otherwise carry their size for its whole life.
            OP_IDENTIFY => Box::pin(self.identify(payload.d)).await,
            OP_RESUME => Box::pin(self.resume(payload.d)).await,
            _ if self.session.is_none() => Err(End::Close(CloseCode::NotAuthenticated)),
            OP_PRESENCE_UPDATE => {
                let update = serde_json::from_value(payload.d)
                    .map_err(|_| End::Close(CloseCode::DecodeError))?;
                if let Some(session) = &self.session {
                    // Boxed, like the other rare requests: the future would otherwise be part
                    // of every idle connection's task.
                    let service = &self.gateway.service;
                    if let Err(err) =
                        Box::pin(service.update_presence(&session.caller, update)).await
                    {
                        tracing::warn!(%err, "presence update failed");
                    }
                }
                Ok(())
            }
            OP_VOICE_STATE_UPDATE => {
                let update = serde_json::from_value(payload.d)
                    .map_err(|_| End::Close(CloseCode::DecodeError))?;
                if let Some(session) = &self.session {
                    // Refused updates (no access, not a voice channel) are ignored, as on Discord.
                    let service = &self.gateway.service;
                    let _ =
                        Box::pin(service.update_voice_state(&session.caller, &session.key, update))
                            .await;
                }
                Ok(())
            }
            OP_REQUEST_GUILD_MEMBERS => Box::pin(self.request_guild_members(payload.d)).await,
            _ => Err(End::Close(CloseCode::UnknownOpcode)),
        }
    }

    /// More than 120 client events in 60 s closes with 4008.
    fn count_event(&mut self) -> Result<(), End> {
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
        Ok(())
    }

    async fn identify(&mut self, d: Value) -> Result<(), End> {
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
        let allowed = service
            .privileged_intents_allowed(&caller, intents)
            .await
            .map_err(|_| End::Close(CloseCode::UnknownError))?;
        if !allowed {
            return Err(End::Close(CloseCode::DisallowedIntents));
        }
        if let Some([shard_id, shard_count]) = identify.shard {
            if shard_count == 0 || shard_id >= shard_count {
                return Err(End::Close(CloseCode::InvalidShard));
            }
        }

        // Registered before READY is built so no event after the snapshot is lost: the
        // session holds fan-out events until its start-up dispatches are out.
        let session = Arc::new(
            Session::new(
                next_session_number(),
                random_session_id(),
                caller.clone(),
                intents,
                self.sender.clone(),
            )
            .with_shard(identify.shard),
        );
        let state = service
            .ready_state(&caller, &session.key, identify.shard)
            .await
            .map_err(|_| End::Close(CloseCode::UnknownError))?;
        let guild_ids: Vec<_> = state
            .guild_ids
            .iter()
            .copied()
            .filter(|id| session.carries_guild(*id))
            .collect();
        if caller.is_bot() && guild_ids.len() > gateway.config.guilds_per_shard {
            return Err(End::Close(CloseCode::ShardingRequired));
        }
        let mut ready = state.ready;
        ready["guilds"] = json!(guild_ids
            .iter()
            .map(|id| json!({ "id": id, "unavailable": true }))
            .collect::<Vec<_>>());
        service.record_identify(&caller);
        let watch = gateway.registry().add(Arc::clone(&session), &guild_ids);
        gateway.watch(watch).await;
        self.session = Some(Arc::clone(&session));

        session.dispatch_ready(ready.to_string());
        if intents & intents::GUILDS != 0 {
            let with_presences = intents & intents::GUILD_PRESENCES != 0;
            for guild_id in guild_ids {
                match gateway
                    .guild_create(&caller, guild_id, with_presences)
                    .await
                {
                    Ok((snapshot, own)) => {
                        session.dispatch_spliced("GUILD_CREATE", snapshot, own);
                    }
                    Err(err) => tracing::warn!(%err, %guild_id, "GUILD_CREATE skipped"),
                }
            }
        }
        session.finish_startup();
        let presence = identify
            .presence
            .and_then(|p| serde_json::from_value(p).ok());
        if let Some(presence) = presence {
            if let Err(err) = service.update_presence(&caller, presence).await {
                tracing::warn!(%err, "initial presence failed");
            }
        }
        Ok(())
    }

    /// RESUME: the same user's session on this node, with `seq` still in its replay buffer,
    /// gets the missed dispatches then RESUMED; otherwise op 9 `d:false`.
    async fn resume(&mut self, d: Value) -> Result<(), End> {
        let resume: Resume =
            serde_json::from_value(d).map_err(|_| End::Close(CloseCode::DecodeError))?;
        let caller = self
            .gateway
            .service
            .authenticate_gateway(&resume.token)
            .await
            .map_err(|_| End::Close(CloseCode::AuthenticationFailed))?;
        let session = self
            .gateway
            .registry()
            .by_key(&resume.session_id)
            .filter(|session| session.user_id() == caller.id());
        let Some(session) = session else {
            return self.invalid_session().await;
        };
        let Ok(missed) = session.resume(resume.seq.unwrap_or(0), self.sender.clone()) else {
            return self.invalid_session().await;
        };
        tracing::info!(
            session = session.number,
            replayed = missed.len(),
            "session resumed"
        );
        self.session = Some(Arc::clone(&session));
        for item in missed {
            self.write(item).await?;
        }
        session.resumed();
        Ok(())
    }

    async fn invalid_session(&mut self) -> Result<(), End> {
        let invalid = json!({ "op": OP_INVALID_SESSION, "d": false, "s": null, "t": null });
        self.send_text(invalid.to_string())
            .await
            .map_err(|_| End::Gone)
    }

    /// Op 8: GUILD_MEMBERS_CHUNKs, or RATE_LIMITED when the whole list of the same guild
    /// was asked for less than 30 s ago.
    async fn request_guild_members(&mut self, d: Value) -> Result<(), End> {
        let request: RequestGuildMembers =
            serde_json::from_value(d).map_err(|_| End::Close(CloseCode::DecodeError))?;
        let Some(session) = self.session.clone() else {
            return Err(End::Close(CloseCode::NotAuthenticated));
        };
        let user_ids = request
            .user_ids
            .map(OneOrMany::into_vec)
            .unwrap_or_default();
        let member_request = MemberRequest {
            guild_id: request.guild_id,
            query: request.query.as_deref().unwrap_or(""),
            limit: request.limit.unwrap_or(0),
            user_ids: &user_ids,
            presences: request.presences.unwrap_or(false),
            nonce: request.nonce.as_ref(),
        };
        if member_request.is_full_list() {
            if let Err(retry_after) = self
                .gateway
                .allow_full_member_list(session.user_id(), request.guild_id)
            {
                let mut meta = json!({ "guild_id": request.guild_id });
                if let Some(nonce) = &request.nonce {
                    meta["nonce"] = nonce.clone();
                }
                let limited = json!({ "opcode": OP_REQUEST_GUILD_MEMBERS, "retry_after": retry_after, "meta": meta });
                session.dispatch_direct("RATE_LIMITED", limited.to_string());
                return Ok(());
            }
        }
        // Not a member of that guild: Discord ignores the request.
        if let Ok(chunks) = self
            .gateway
            .service
            .member_chunks(&session.caller, &member_request)
            .await
        {
            for chunk in chunks {
                session.dispatch_direct("GUILD_MEMBERS_CHUNK", chunk.to_string());
            }
        }
        Ok(())
    }

    /// Writes `first` and whatever else is already queued (up to [`WRITE_BATCH`] items) with
    /// one flush, so a burst of dispatches costs one socket write rather than one each.
    async fn write_queued(
        &mut self,
        first: Outbound,
        outbound: &mut mpsc::Receiver<Outbound>,
    ) -> Result<(), End> {
        let mut pending = self.feed(first, 0).await?;
        for _ in 1..WRITE_BATCH {
            // Only take an item that will be fed: one taken and not written would be lost.
            let Ok(next) = outbound.try_recv() else {
                break;
            };
            pending = self.feed(next, pending).await?;
        }
        self.socket.flush().await.map_err(|_| End::Gone)
    }

    /// Writes one queued item and flushes it.
    async fn write(&mut self, item: Outbound) -> Result<(), End> {
        self.feed(item, 0).await?;
        self.socket.flush().await.map_err(|_| End::Gone)
    }

    /// Queues one item on the socket after `pending` unflushed bytes and returns the bytes
    /// unflushed now: a dispatch rendered around its shared `d` (a large one is written on
    /// its own, see [`LARGE_FRAME`]), or op 7 (which ends the connection).
    async fn feed(&mut self, item: Outbound, pending: usize) -> Result<usize, End> {
        match item {
            Outbound::Dispatch { seq, dispatch } => {
                let frame = dispatch_frame(seq, &dispatch);
                let message = self.encode(frame).map_err(|_| End::Gone)?;
                let size = payload_len(&message);
                if size < LARGE_FRAME {
                    self.socket.feed(message).await.map_err(|_| End::Gone)?;
                    return Ok(pending + size);
                }
                if pending > 0 {
                    self.socket.flush().await.map_err(|_| End::Gone)?;
                }
                self.socket.send(message).await.map_err(|_| End::Gone)?;
                Ok(0)
            }
            Outbound::Reconnect => {
                let reconnect = json!({ "op": OP_RECONNECT, "d": null, "s": null, "t": null });
                self.send_text(reconnect.to_string())
                    .await
                    .map_err(|_| End::Gone)?;
                Err(End::Close(CloseCode::UnknownError))
            }
        }
    }

    /// Decodes a client payload in the connection's encoding.
    fn decode(&self, bytes: &[u8]) -> Option<ClientPayload> {
        match self.encoding {
            Encoding::Json => serde_json::from_slice(bytes).ok(),
            Encoding::Etf => serde_json::from_value(super::etf::decode(bytes).ok()?).ok(),
        }
    }

    /// Sends one payload given as JSON text (see [`Connection::encode`]).
    async fn send_text(&mut self, text: String) -> Result<(), axum::Error> {
        let message = self.encode(text)?;
        self.socket.send(message).await
    }

    /// One payload given as JSON text as a WebSocket message in the connection's encoding,
    /// through its compression stream if it has one (IDENTIFY `compress: true` is never acted
    /// on).
    fn encode(&mut self, text: String) -> Result<Message, axum::Error> {
        let payload = match self.encoding {
            Encoding::Json => text.into_bytes(),
            Encoding::Etf => {
                // ETF sessions pay a conversion per payload; JSON is the fast path.
                let value: Value = serde_json::from_str(&text).map_err(axum::Error::new)?;
                super::etf::encode(&value)
            }
        };
        Ok(match (self.compression.compress(&payload), self.encoding) {
            (Some(compressed), _) => Message::Binary(compressed.into()),
            (None, Encoding::Etf) => Message::Binary(payload.into()),
            (None, Encoding::Json) => match String::from_utf8(payload) {
                Ok(text) => Message::Text(text.into()),
                Err(err) => return Err(axum::Error::new(err)),
            },
        })
    }
}

/// Op 10 HELLO as JSON text.
fn hello_payload(interval_ms: u64) -> String {
    json!({ "op": OP_HELLO, "d": { "heartbeat_interval": interval_ms }, "s": null, "t": null })
        .to_string()
}

/// Bytes of a message's payload (what the write buffer holds, less the frame header).
fn payload_len(message: &Message) -> usize {
    match message {
        Message::Text(text) => text.as_str().len(),
        Message::Binary(bytes) => bytes.len(),
        _ => 0,
    }
}

/// `{"op":0,"t":…,"s":…,"d":…}` around the shared `d`, in one allocation of the exact size.
fn dispatch_frame(seq: u64, dispatch: &Dispatch) -> String {
    const _: () = assert!(OP_DISPATCH == 0, "the frame below spells op 0");
    const FIXED: usize = r#"{"op":0,"t":"","s":,"d":}"#.len() + 20;
    let data = dispatch.data_parts();
    let data_len: usize = data.iter().map(|part| part.len()).sum();
    let mut frame = String::with_capacity(FIXED + dispatch.event.len() + data_len);
    frame.push_str(r#"{"op":0,"t":""#);
    frame.push_str(&dispatch.event);
    frame.push_str(r#"","s":"#);
    frame.push_str(itoa::Buffer::new().format(seq));
    frame.push_str(r#","d":"#);
    data.iter().for_each(|part| frame.push_str(part));
    frame.push('}');
    frame
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
