//! One WebSocket connection: HELLO, heartbeats, then IDENTIFY (a new session) or RESUME (an
//! existing one, replaying what it missed); afterwards it writes the session's dispatches
//! until either side closes. Losing the connection only detaches the session.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::time::{sleep_until, Instant, Sleep};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{
    CloseCode as WireCloseCode, Data, OpCode,
};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::WebSocketStream;

use super::compression::TransportCompression;
use super::outlet::{Closed, Outlet};
use super::protocol::*;
use super::session::{Dispatch, Outbound, Session};
use super::Gateway;
use crate::service::gateway::{MemberRequest, SUPPORTED_VERSIONS};

/// Largest client payload Discord accepts.
const MAX_CLIENT_PAYLOAD: usize = 4096;
/// Largest WebSocket message read at all (a larger client payload is refused with 4002 once read).
const MAX_MESSAGE: usize = 1 << 20;
/// Bytes each gateway socket reserves for reading (it grows for a larger frame). Client
/// payloads are heartbeats of a few dozen bytes and the odd IDENTIFY or request of a few
/// hundred; every idle session pays for this buffer (tungstenite's default is 128 KiB).
const READ_BUFFER: usize = 128;
/// Queued items one socket write may carry (bounds the time one connection holds its task).
const WRITE_BATCH: usize = 64;
/// Rendered frames are written once this many bytes are ready, so a burst of large dispatches
/// (a bot's GUILD_CREATEs) never needs more than about this much for its frames at once.
const WRITE_CHUNK: usize = 64 * 1024;
/// Batches a connection writes in a row before it looks at its socket and timer again.
const READ_TURN: u32 = 16;
/// Client events allowed per window before close 4008.
const RATE_LIMIT_EVENTS: u32 = 120;
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

/// The upgraded HTTP connection as a WebSocket. tungstenite reads frames and answers control
/// frames; dispatches are framed with tungstenite's `FrameHeader` and written straight to the
/// socket (see [`Connection::write_wire`]).
type Socket = WebSocketStream<TokioIo<Upgraded>>;

struct Connection {
    gateway: Arc<Gateway>,
    socket: Socket,
    /// The queue the session fills for this connection.
    outlet: Arc<Outlet>,
    session: Option<Arc<Session>>,
    encoding: Encoding,
    /// One stream per connection (`compress` query parameter); a resume starts a new one.
    compression: TransportCompression,
    heartbeat_deadline: Instant,
    /// An op 1 was sent because a heartbeat was overdue; the next deadline closes.
    heartbeat_requested: bool,
    /// The rate limit's current window: client events are counted in a fixed window that
    /// opens with the first event after the last one ended (a count and an instant, where a
    /// list of recent events' times would be a buffer every connection keeps).
    window_opened: Instant,
    events_in_window: u32,
}

impl Gateway {
    /// Serves a WebSocket upgrade once the 101 response is out, in a task of its own on the
    /// connections' runtime.
    ///
    /// The task lives as long as the connection, and its future's size is memory every idle
    /// session pays: it holds only the connection and its loop. The query parameters are
    /// checked before it starts and the socket is set up in a boxed future (rustc keeps a
    /// future's captured values and arguments for its whole life).
    pub fn accept(self: Arc<Self>, upgrade: OnUpgrade, params: ConnectParams) {
        let transport = check_params(&params).map(|encoding| {
            // An unknown value falls back to plain frames, which every client reads.
            let compression = TransportCompression::from_query(params.compress.as_deref())
                .unwrap_or(TransportCompression::None);
            (encoding, compression)
        });
        let connections = self.connections.clone();
        connections.spawn(async move {
            let Ok(upgraded) = upgrade.await else {
                return;
            };
            let mut connection = Box::pin(Connection::open(self, upgraded)).await;
            connection.gateway.churn.record();
            let end = match transport {
                Err(code) => End::Close(code),
                Ok((encoding, compression)) => {
                    connection.encoding = encoding;
                    connection.compression = compression;
                    connection.run().await
                }
            };
            Box::pin(connection.finish(end)).await;
        });
    }
}

impl Connection {
    /// The upgraded connection as a WebSocket, before HELLO.
    async fn open(gateway: Arc<Gateway>, upgraded: Upgraded) -> Connection {
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        let heartbeat_deadline = Instant::now() + gateway.config.heartbeat_interval * 5 / 4;
        Connection {
            gateway,
            socket,
            outlet: Arc::default(),
            session: None,
            encoding: Encoding::Json,
            compression: TransportCompression::None,
            heartbeat_deadline,
            heartbeat_requested: false,
            window_opened: Instant::now(),
            events_in_window: 0,
        }
    }

    /// The connection ended: sends the close frame its end calls for, then detaches or ends
    /// its session.
    async fn finish(mut self, end: End) {
        let gateway = Arc::clone(&self.gateway);
        if let End::Close(code) = end {
            let frame = CloseFrame {
                code: WireCloseCode::from(code as u16),
                reason: code.reason().into(),
            };
            let _ = self.socket.send(Message::Close(Some(frame))).await;
        }
        if let Some(session) = self.session.take() {
            match end {
                End::ClientEnded => gateway.end_session(session.number),
                End::Close(code) if !code.resumable() => gateway.end_session(session.number),
                _ => session.detach(&self.outlet),
            }
        }
        gateway.churn.record();
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

/// What woke a connection's task.
enum Wake {
    /// A client payload (`None`: a control frame, nothing to handle), or the end.
    Incoming(Result<Option<Bytes>, End>),
    Batch(Result<VecDeque<Outbound>, Closed>),
    /// The heartbeat or IDENTIFY deadline.
    Timer,
}

/// Polls the socket for a client payload, then the deadline timer.
fn poll_socket_and_timer(
    socket: &mut Socket,
    timer: &mut Pin<&mut Sleep>,
    cx: &mut Context<'_>,
) -> Poll<Wake> {
    if let Poll::Ready(item) = socket.poll_next_unpin(cx) {
        return Poll::Ready(Wake::Incoming(payload_of(item)));
    }
    if timer.as_mut().poll(cx).is_ready() {
        return Poll::Ready(Wake::Timer);
    }
    Poll::Pending
}

/// What a frame read from the socket means: a payload to handle, nothing (pings, pongs, which
/// tungstenite answers itself), or the end of the connection (the client closed or the socket
/// failed).
fn payload_of(
    item: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Result<Option<Bytes>, End> {
    match item {
        Some(Ok(Message::Text(text))) => Ok(Some(text.into())),
        Some(Ok(Message::Binary(bytes))) => Ok(Some(bytes)),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(None),
        Some(Ok(Message::Close(Some(frame)))) if matches!(u16::from(frame.code), 1000 | 1001) => {
            Err(End::ClientEnded)
        }
        Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Err(End::Gone),
    }
}

impl Connection {
    async fn run(&mut self) -> End {
        // Rendered by a function and moved into the send: a JSON tree held in a local here
        // would live as long as the connection (heaptrack found it, ~1 KiB, in every session).
        let interval_ms = self.gateway.config.heartbeat_interval.as_millis() as u64;
        let hello = hello_payload(interval_ms);
        if let Err(end) = Box::pin(self.send_text(hello)).await {
            return end;
        }
        let identify_deadline = Instant::now() + self.gateway.config.identify_timeout;
        // One timer for both deadlines, reset only when a deadline moves: a timer made anew
        // per loop would be registered and cancelled for every batch written.
        let timer = sleep_until(self.deadline(identify_deadline));
        tokio::pin!(timer);
        let mut batches_in_a_row = 0;
        loop {
            // Under fan-out most wake-ups are for a batch: the socket and the timer are then
            // not polled (their wakers stay registered), except every READ_TURN-th batch in a
            // row, so a client's heartbeats are read however busy the connection is.
            let reads_first = batches_in_a_row >= READ_TURN;
            if reads_first {
                batches_in_a_row = 0;
            }
            let wake = poll_fn(|cx| {
                if reads_first {
                    if let Poll::Ready(wake) =
                        poll_socket_and_timer(&mut self.socket, &mut timer, cx)
                    {
                        return Poll::Ready(wake);
                    }
                }
                if let Poll::Ready(batch) = self.outlet.poll_batch(cx, WRITE_BATCH) {
                    return Poll::Ready(Wake::Batch(batch));
                }
                if reads_first {
                    return Poll::Pending;
                }
                poll_socket_and_timer(&mut self.socket, &mut timer, cx)
            })
            .await;
            match wake {
                Wake::Incoming(incoming) => {
                    batches_in_a_row = 0;
                    let bytes = match incoming {
                        Ok(Some(bytes)) => bytes,
                        Ok(None) => continue,
                        Err(end) => return end,
                    };
                    // Boxed: a client payload comes every heartbeat interval, and its handling
                    // would otherwise be part of every idle connection's task.
                    if let Err(end) = Box::pin(self.handle_payload(&bytes)).await {
                        return end;
                    }
                }
                Wake::Batch(batch) => match batch {
                    Ok(items) => {
                        batches_in_a_row += 1;
                        // Boxed too: one allocation per batch written (next to a syscall)
                        // keeps the writing state out of every idle connection's task.
                        if let Err(end) = Box::pin(self.write_batch(items)).await {
                            return end;
                        }
                        continue;
                    }
                    // The session dropped this connection (too slow, or resumed elsewhere).
                    Err(Closed) => return End::Close(CloseCode::UnknownError),
                },
                Wake::Timer => {
                    batches_in_a_row = 0;
                    if self.session.is_none() && Instant::now() >= identify_deadline {
                        return End::Close(CloseCode::SessionTimedOut);
                    }
                    if let Err(end) = Box::pin(self.heartbeat_overdue()).await {
                        return end;
                    }
                }
            }
            let deadline = self.deadline(identify_deadline);
            if timer.deadline() != deadline {
                timer.as_mut().reset(deadline);
            }
        }
    }

    /// When the timer should next fire: the heartbeat deadline, or the IDENTIFY deadline if
    /// that comes first and no session was identified or resumed.
    fn deadline(&self, identify_deadline: Instant) -> Instant {
        if self.session.is_some() {
            self.heartbeat_deadline
        } else {
            self.heartbeat_deadline.min(identify_deadline)
        }
    }

    /// The heartbeat deadline passed: ask for a heartbeat now (op 1), as Discord does, and wait
    /// a quarter interval more; if it had already been asked for, close (resumably: the client
    /// reconnects and resumes).
    async fn heartbeat_overdue(&mut self) -> Result<(), End> {
        if Instant::now() < self.heartbeat_deadline {
            return Ok(());
        }
        if self.heartbeat_requested {
            return Err(End::Close(CloseCode::UnknownError));
        }
        self.heartbeat_requested = true;
        self.heartbeat_deadline = Instant::now() + self.gateway.config.heartbeat_interval / 4;
        let request = json!({ "op": OP_HEARTBEAT, "d": null, "s": null, "t": null });
        self.send_text(request.to_string()).await
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
                self.send_text(ack.to_string()).await
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
                    let updated = Box::pin(async {
                        let caller = service.caller(session.user_id()).await?;
                        service.update_presence(&caller, update).await
                    });
                    if let Err(err) = updated.await {
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
                    let _ = Box::pin(async {
                        let caller = service.caller(session.user_id()).await?;
                        service
                            .update_voice_state(&caller, &session.key, update)
                            .await
                    })
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
        if now.duration_since(self.window_opened) >= RATE_LIMIT_WINDOW {
            self.window_opened = now;
            self.events_in_window = 0;
        }
        if self.events_in_window >= RATE_LIMIT_EVENTS {
            return Err(End::Close(CloseCode::RateLimited));
        }
        self.events_in_window += 1;
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
                Arc::clone(&self.outlet),
            )
            .with_shard(identify.shard),
        );
        let mut ready = service
            .ready_state(&caller, &session.key, identify.shard)
            .await
            .map_err(|_| End::Close(CloseCode::UnknownError))?;
        ready.guilds.retain(|guild| session.carries_guild(guild.id));
        let guild_ids: Vec<_> = ready.guilds.iter().map(|guild| guild.id).collect();
        if caller.is_bot() && guild_ids.len() > gateway.config.guilds_per_shard {
            return Err(End::Close(CloseCode::ShardingRequired));
        }
        let ready =
            serde_json::to_string(&ready).map_err(|_| End::Close(CloseCode::UnknownError))?;
        service.record_identify(&caller);
        let watch = gateway.registry().add(Arc::clone(&session), &guild_ids);
        gateway.watch(watch).await;
        self.session = Some(Arc::clone(&session));

        session.dispatch_ready(ready);
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
        let Ok(missed) = session.resume(resume.seq.unwrap_or(0), Arc::clone(&self.outlet)) else {
            return self.invalid_session().await;
        };
        tracing::info!(
            session = session.number,
            replayed = missed.len(),
            "session resumed"
        );
        self.session = Some(Arc::clone(&session));
        let mut missed = missed.into_iter();
        loop {
            let batch: VecDeque<_> = missed.by_ref().take(WRITE_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            self.write_batch(batch).await?;
        }
        session.resumed();
        Ok(())
    }

    async fn invalid_session(&mut self) -> Result<(), End> {
        let invalid = json!({ "op": OP_INVALID_SESSION, "d": false, "s": null, "t": null });
        self.send_text(invalid.to_string()).await
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
        let service = &self.gateway.service;
        let chunks = async {
            let caller = service.caller(session.user_id()).await?;
            service.member_chunks(&caller, &member_request).await
        };
        if let Ok(chunks) = chunks.await {
            for chunk in chunks {
                session.dispatch_direct("GUILD_MEMBERS_CHUNK", chunk.to_string());
            }
        }
        Ok(())
    }

    /// Writes a batch of queued items: dispatches rendered around their shared `d`, or op 7
    /// (which ends the connection). Small dispatches share one socket write.
    async fn write_batch(&mut self, mut items: VecDeque<Outbound>) -> Result<(), End> {
        loop {
            let (wire, reconnect) = self.render(&mut items)?;
            if wire.is_empty() {
                return Ok(());
            }
            self.write_wire(&wire).await?;
            if reconnect {
                return Err(End::Close(CloseCode::UnknownError));
            }
        }
    }

    /// Frames items until about [`WRITE_CHUNK`] bytes are ready, the items run out, or op 7
    /// was framed (then `true`: nothing may follow it).
    fn render(&mut self, items: &mut VecDeque<Outbound>) -> Result<(Vec<u8>, bool), End> {
        let mut wire = Vec::with_capacity(self.plain_chunk_len(items));
        while let Some(item) = items.pop_front() {
            match item {
                Outbound::Dispatch { seq, dispatch } => {
                    let mut seq_text = itoa::Buffer::new();
                    let pieces = dispatch_pieces(seq_text.format(seq), &dispatch);
                    if self.writes_plain_json() {
                        // The common case: no copy of the frame besides the wire's.
                        frame_header_into(Data::Text, pieces_len(&pieces), &mut wire)?;
                        pieces
                            .iter()
                            .for_each(|piece| wire.extend_from_slice(piece.as_bytes()));
                    } else {
                        self.encode(pieces.concat())?.frame_into(&mut wire)?;
                    }
                    if wire.len() >= WRITE_CHUNK {
                        break;
                    }
                }
                Outbound::Reconnect => {
                    let reconnect = json!({ "op": OP_RECONNECT, "d": null, "s": null, "t": null });
                    self.encode(reconnect.to_string())?.frame_into(&mut wire)?;
                    return Ok((wire, true));
                }
            }
        }
        Ok((wire, false))
    }

    /// The bytes [`Connection::render`] will frame from `items` when they go out as plain
    /// JSON (0 otherwise: an encoder's output size is not known before), so the wire is
    /// allocated once instead of growing frame by frame.
    fn plain_chunk_len(&self, items: &VecDeque<Outbound>) -> usize {
        if !self.writes_plain_json() {
            return 0;
        }
        let mut total = 0;
        for item in items {
            let Outbound::Dispatch { seq, dispatch } = item else {
                break;
            };
            let mut seq_text = itoa::Buffer::new();
            let len = pieces_len(&dispatch_pieces(seq_text.format(*seq), dispatch));
            total += data_header(Data::Text).len(len as u64) + len;
            if total >= WRITE_CHUNK {
                break;
            }
        }
        total
    }

    /// Writes framed bytes to the socket. tungstenite's own writer would copy them into a
    /// buffer that keeps, for the rest of the connection, the largest size it ever needed
    /// (heaptrack: 4.5 KiB an idle session, its READY or GUILD_CREATE); these bytes are freed
    /// once written. A control frame tungstenite still holds (a pong) goes out first, whole.
    async fn write_wire(&mut self, wire: &[u8]) -> Result<(), End> {
        self.socket.flush().await.map_err(|_| End::Gone)?;
        let io = self.socket.get_mut();
        io.write_all(wire).await.map_err(|_| End::Gone)?;
        io.flush().await.map_err(|_| End::Gone)
    }

    /// Whether payloads go out as the JSON text they are rendered as (no ETF, no compression).
    fn writes_plain_json(&self) -> bool {
        matches!(self.encoding, Encoding::Json) && !self.compression.is_stream()
    }

    /// Decodes a client payload in the connection's encoding.
    fn decode(&self, bytes: &[u8]) -> Option<ClientPayload> {
        match self.encoding {
            Encoding::Json => serde_json::from_slice(bytes).ok(),
            Encoding::Etf => serde_json::from_value(super::etf::decode(bytes).ok()?).ok(),
        }
    }

    /// Sends one payload given as JSON text (see [`Connection::encode`]).
    async fn send_text(&mut self, text: String) -> Result<(), End> {
        let mut wire = Vec::new();
        self.encode(text)?.frame_into(&mut wire)?;
        self.write_wire(&wire).await
    }

    /// One payload given as JSON text, in the connection's encoding and through its
    /// compression stream if it has one (IDENTIFY `compress: true` is never acted on).
    fn encode(&mut self, text: String) -> Result<Encoded, End> {
        let payload = match self.encoding {
            Encoding::Json => text.into_bytes(),
            Encoding::Etf => {
                // ETF sessions pay a conversion per payload; JSON is the fast path.
                let value: Value = serde_json::from_str(&text).map_err(|_| End::Gone)?;
                super::etf::encode(&value)
            }
        };
        Ok(match (self.compression.compress(&payload), self.encoding) {
            (Some(compressed), _) => Encoded::binary(compressed),
            (None, Encoding::Etf) => Encoded::binary(payload),
            // JSON text rendered from a String: valid UTF-8.
            (None, Encoding::Json) => Encoded {
                kind: Data::Text,
                payload,
            },
        })
    }
}

/// One payload ready for the wire: its bytes and the kind of data frame they go in.
struct Encoded {
    kind: Data,
    payload: Vec<u8>,
}

impl Encoded {
    fn binary(payload: Vec<u8>) -> Self {
        Encoded {
            kind: Data::Binary,
            payload,
        }
    }

    /// Appends the payload as one final, unmasked data frame (a server's); the header is
    /// tungstenite's.
    fn frame_into(self, wire: &mut Vec<u8>) -> Result<(), End> {
        frame_header_into(self.kind, self.payload.len(), wire)?;
        wire.extend_from_slice(&self.payload);
        Ok(())
    }
}

/// The header of one final, unmasked data frame (a server's).
fn data_header(kind: Data) -> FrameHeader {
    FrameHeader {
        opcode: OpCode::Data(kind),
        ..FrameHeader::default()
    }
}

/// Appends the header of one final, unmasked data frame (a server's) of `len` payload bytes,
/// with room reserved for the payload; the header is tungstenite's.
fn frame_header_into(kind: Data, len: usize, wire: &mut Vec<u8>) -> Result<(), End> {
    let header = data_header(kind);
    wire.reserve(header.len(len as u64) + len);
    header.format(len as u64, wire).map_err(|_| End::Gone)
}

/// Op 10 HELLO as JSON text.
fn hello_payload(interval_ms: u64) -> String {
    json!({ "op": OP_HELLO, "d": { "heartbeat_interval": interval_ms }, "s": null, "t": null })
        .to_string()
}

/// `{"op":0,"t":…,"s":…,"d":…}` around the shared `d`, as the pieces it is written from:
/// concatenated for an encoder, or appended straight to the wire for plain JSON.
fn dispatch_pieces<'a>(seq: &'a str, dispatch: &'a Dispatch) -> [&'a str; 8] {
    const _: () = assert!(OP_DISPATCH == 0, "the pieces below spell op 0");
    let [shared, own] = dispatch.data_parts();
    let event = dispatch.event.as_ref();
    [
        r#"{"op":0,"t":""#,
        event,
        r#"","s":"#,
        seq,
        r#","d":"#,
        shared,
        own,
        "}",
    ]
}

/// The bytes of a frame's payload given as pieces.
fn pieces_len(pieces: &[&str]) -> usize {
    pieces.iter().map(|piece| piece.len()).sum()
}

fn random_session_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn next_session_number() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
