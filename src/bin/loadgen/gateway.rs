//! Gateway sessions: one task per session, connected from a chosen loopback source address,
//! HELLO → IDENTIFY → READY → GUILD_CREATEs, heartbeats at the HELLO interval, and every
//! dispatch checked (contiguous `s`) and MESSAGE_CREATEs timed into the tracker.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use memchr::memmem;
use serde::de::IgnoredAny;
use serde::Deserialize;
use tokio::net::TcpSocket;
use tokio::sync::{mpsc, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

use crate::load::{SessionView, Tracker};
use crate::setup::UserEntry;
use crate::ws::{Incoming, WsClient};
use crate::{unix_us, Args, Result};

/// GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT: what a chat client needs to see messages.
const INTENTS: u64 = 1 | (1 << 9) | (1 << 15);

/// Where and how sessions connect.
#[derive(Clone)]
pub struct GwConfig {
    url: String,
    addr: SocketAddr,
    source_ips: u8,
    zlib: bool,
    ready_timeout: Duration,
}

impl GwConfig {
    /// From `--gateway-url` (or the base URL as ws://), with the query the gateway expects.
    pub fn new(args: &Args) -> Result<GwConfig> {
        let root = match &args.gateway_url {
            Some(u) => u.clone(),
            None => args
                .base
                .replacen("https://", "wss://", 1)
                .replacen("http://", "ws://", 1),
        };
        let parsed = reqwest::Url::parse(&root)?;
        let host = parsed.host_str().ok_or("gateway URL without host")?;
        let port = parsed
            .port_or_known_default()
            .ok_or("gateway URL without port")?;
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host, port))?
            .find(SocketAddr::is_ipv4)
            .ok_or("gateway host has no IPv4 address")?;
        let mut url = root.trim_end_matches('/').to_string();
        if parsed.query().is_some() {
            url.push('&');
        } else {
            if parsed.path() == "/" || parsed.path().is_empty() {
                url.push('/');
            }
            url.push('?');
        }
        url.push_str("v=10&encoding=json");
        if args.zlib {
            url.push_str("&compress=zlib-stream");
        }
        Ok(GwConfig {
            url,
            addr,
            source_ips: args.source_ips,
            zlib: args.zlib,
            ready_timeout: Duration::from_secs_f64(args.ready_timeout),
        })
    }
}

/// How the identify phase went.
pub struct ReadyStats {
    /// sessions that reached READY and their GUILD_CREATEs
    pub ok: usize,
    /// per session (same order as the users): reached READY and is being read
    pub live: Vec<bool>,
    /// connect start → READY, µs
    pub to_ready: Histogram<u64>,
    /// connect start → last GUILD_CREATE, µs
    pub to_guilds: Histogram<u64>,
    /// first connect → last session ready
    pub elapsed: Duration,
    /// first few failures, verbatim
    pub errors: Vec<String>,
    pub failed: usize,
}

/// The running sessions.
pub struct Sessions {
    pub ready: ReadyStats,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<Outcome>>,
}

impl Sessions {
    /// Closes every session (code 1000) and collects what each saw.
    pub async fn stop(self) -> (ReadyStats, Vec<Outcome>) {
        let _ = self.stop.send(true);
        let mut out = Vec::with_capacity(self.tasks.len());
        for t in self.tasks {
            match tokio::time::timeout(Duration::from_secs(30), t).await {
                Ok(Ok(o)) => out.push(o),
                Ok(Err(e)) => out.push(Outcome::failed(format!("session task: {e}"))),
                Err(_) => out.push(Outcome::failed("session did not stop in 30 s".into())),
            }
        }
        (self.ready, out)
    }
}

/// What one session saw.
#[derive(Debug, Default)]
pub struct Outcome {
    /// why the session ended early (None: it ran until told to stop)
    pub error: Option<String>,
    /// dispatches whose `s` was not the previous one + 1
    pub seq_gaps: u64,
    pub dispatches: u64,
    /// this run's messages received twice
    pub duplicates: u64,
    /// this run's messages received although hidden
    pub leaks: u64,
    pub heartbeats: u64,
    pub acks: u64,
    /// heartbeats due while the previous one had no ACK
    pub missed_acks: u64,
    pub reconnects_requested: u64,
    /// connections the server closed resumably (4000: too slow) that the session resumed, as
    /// a client would
    pub resumes: u64,
    /// resumes the server refused (op 9: the replay buffer no longer covered the gap), after
    /// which the session identified anew
    pub reidentified: u64,
}

impl Outcome {
    fn failed(error: String) -> Outcome {
        Outcome {
            error: Some(error),
            ..Outcome::default()
        }
    }
}

enum Ready {
    Ok {
        to_ready: Duration,
        to_guilds: Duration,
    },
    Failed(String),
}

/// Opens one session per user, `concurrency` connecting at once, and returns once each has
/// reached READY + GUILD_CREATE or failed.
pub async fn start(
    cfg: &GwConfig,
    users: &[UserEntry],
    tracker: &Arc<Tracker>,
    concurrency: usize,
) -> Result<Sessions> {
    let cfg = Arc::new(cfg.clone());
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        let spec = Spec {
            index,
            token: user.token.clone(),
            viewer: !user.hidden,
        };
        let cfg = cfg.clone();
        let tracker = tracker.clone();
        let permits = permits.clone();
        let ready_tx = ready_tx.clone();
        let stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            session(spec, cfg, tracker, permits, ready_tx, stop).await
        }));
    }
    drop(ready_tx);
    let mut stats = ReadyStats {
        ok: 0,
        live: vec![false; users.len()],
        to_ready: crate::hist()?,
        to_guilds: crate::hist()?,
        elapsed: Duration::ZERO,
        errors: Vec::new(),
        failed: 0,
    };
    let mut reported = 0;
    while let Some((index, r)) = ready_rx.recv().await {
        reported += 1;
        match r {
            Ready::Ok {
                to_ready,
                to_guilds,
            } => {
                stats.ok += 1;
                stats.live[index] = true;
                stats
                    .to_ready
                    .saturating_record(to_ready.as_micros() as u64);
                stats
                    .to_guilds
                    .saturating_record(to_guilds.as_micros() as u64);
                stats.elapsed = started.elapsed();
            }
            Ready::Failed(e) => {
                stats.failed += 1;
                if stats.errors.len() < 5 {
                    stats.errors.push(e);
                }
            }
        }
        if reported == users.len() {
            break;
        }
        if reported % 1000 == 0 {
            eprintln!("gateway: {reported}/{} sessions settled", users.len());
        }
    }
    Ok(Sessions {
        ready: stats,
        stop: stop_tx,
        tasks,
    })
}

struct Spec {
    index: usize,
    token: String,
    viewer: bool,
}

async fn connect(cfg: &GwConfig, index: usize) -> Result<WsClient> {
    let socket = TcpSocket::new_v4()?;
    if cfg.source_ips > 1 {
        let last = 1 + (index % usize::from(cfg.source_ips)) as u8;
        socket.bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
            0,
        ))?;
    }
    let stream = socket.connect(cfg.addr).await?;
    stream.set_nodelay(true)?;
    WsClient::handshake(stream, &cfg.url).await
}

async fn session(
    spec: Spec,
    cfg: Arc<GwConfig>,
    tracker: Arc<Tracker>,
    permits: Arc<Semaphore>,
    ready_tx: mpsc::UnboundedSender<(usize, Ready)>,
    mut stop: watch::Receiver<bool>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut conn = Conn::new(&spec, &tracker);
    let permit = permits.acquire_owned().await.ok();
    let r = drive(&cfg, &mut conn, &mut out, permit, &ready_tx, &mut stop).await;
    if let Err(e) = r {
        if !conn.reported {
            let _ = ready_tx.send((spec.index, Ready::Failed(e.to_string())));
        }
        out.error = Some(e.to_string());
    }
    out
}

/// Per-session protocol state.
struct Conn {
    index: usize,
    token: String,
    viewer: bool,
    tracker: Arc<Tracker>,
    started: Instant,
    last_seq: Option<u64>,
    heartbeat_interval: Option<Duration>,
    ready_at: Option<Duration>,
    guilds_pending: usize,
    acked: bool,
    reported: bool,
    /// from READY, for RESUME
    session_id: Option<String>,
    /// a RESUME was sent on this connection and not yet answered
    resuming: bool,
    /// the step this session counts for and its messages already received
    view: SessionView,
}

enum Action {
    None,
    /// HELLO came: IDENTIFY, or RESUME after a reconnect
    Identify,
    /// the connection is gone but the session may be resumed on a new one
    Reconnect,
    /// the server refused the RESUME: identify anew
    Reidentify,
    HeartbeatNow,
    /// READY and every GUILD_CREATE are in
    Live,
}

#[derive(Deserialize)]
struct Frame<'a> {
    op: u8,
    #[serde(default)]
    s: Option<u64>,
    #[serde(default, borrow)]
    t: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    d: Option<Data<'a>>,
}

/// `d` when it is an object (only the fields the harness reads).
#[derive(Deserialize)]
struct Data<'a> {
    #[serde(default)]
    heartbeat_interval: Option<u64>,
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    channel_id: Option<Cow<'a, str>>,
    #[serde(default)]
    guilds: Option<Vec<IgnoredAny>>,
    #[serde(default, borrow)]
    session_id: Option<Cow<'a, str>>,
}

/// Any frame whose `d` is not an object (op 9's bool, op 1's null…).
#[derive(Deserialize)]
struct LooseFrame<'a> {
    op: u8,
    #[serde(default)]
    s: Option<u64>,
    #[serde(default, borrow)]
    t: Option<Cow<'a, str>>,
}

impl Conn {
    fn new(spec: &Spec, tracker: &Arc<Tracker>) -> Conn {
        Conn {
            index: spec.index,
            token: spec.token.clone(),
            viewer: spec.viewer,
            tracker: tracker.clone(),
            started: Instant::now(),
            last_seq: None,
            heartbeat_interval: None,
            ready_at: None,
            guilds_pending: 0,
            acked: true,
            reported: false,
            session_id: None,
            resuming: false,
            view: SessionView::default(),
        }
    }

    fn handle(&mut self, text: &str, out: &mut Outcome) -> Result<Action> {
        let now_us = unix_us();
        if let Some(message) = QuickMessage::find(text) {
            self.sequence(message.s, out);
            out.dispatches += 1;
            self.message_create(message.content, Some(message.channel_id), now_us, out);
            return Ok(Action::None);
        }
        let frame = match serde_json::from_str::<Frame>(text) {
            Ok(f) => f,
            Err(_) => {
                let f: LooseFrame = serde_json::from_str(text)?;
                Frame {
                    op: f.op,
                    s: f.s,
                    t: f.t,
                    d: None,
                }
            }
        };
        if let Some(s) = frame.s {
            self.sequence(s, out);
        }
        match frame.op {
            0 => {
                out.dispatches += 1;
                let Some(d) = frame.d else {
                    return Ok(Action::None);
                };
                match frame.t.as_deref() {
                    Some("MESSAGE_CREATE") => {
                        if let Some(content) = d.content.as_deref() {
                            self.message_create(content, d.channel_id.as_deref(), now_us, out);
                        }
                    }
                    Some("RESUMED") => self.resuming = false,
                    Some("READY") => {
                        self.session_id = d.session_id.map(Cow::into_owned);
                        if self.ready_at.is_none() {
                            self.ready_at = Some(self.started.elapsed());
                        }
                        self.guilds_pending = d.guilds.map_or(0, |g| g.len());
                        if self.guilds_pending == 0 {
                            return Ok(Action::Live);
                        }
                    }
                    Some("GUILD_CREATE") if self.guilds_pending > 0 => {
                        self.guilds_pending -= 1;
                        if self.guilds_pending == 0 && self.ready_at.is_some() {
                            return Ok(Action::Live);
                        }
                    }
                    _ => {}
                }
                Ok(Action::None)
            }
            10 => {
                let ms = frame
                    .d
                    .and_then(|d| d.heartbeat_interval)
                    .ok_or("HELLO without heartbeat_interval")?;
                self.heartbeat_interval = Some(Duration::from_millis(ms.max(1)));
                Ok(Action::Identify)
            }
            11 => {
                self.acked = true;
                out.acks += 1;
                Ok(Action::None)
            }
            1 => Ok(Action::HeartbeatNow),
            7 => {
                out.reconnects_requested += 1;
                Err("server sent op 7 (reconnect)".into())
            }
            9 if self.resuming => Ok(Action::Reidentify),
            9 => Err(format!("server sent op 9 (invalid session): {text}").into()),
            op => Err(format!("unexpected op {op}").into()),
        }
    }
}

/// Close codes after which a client resumes: 4000 is what our server sends a connection that
/// fell too far behind (the session keeps buffering), as Discord's "unknown error, reconnect".
fn is_resumable(frame: Option<(u16, &str)>) -> bool {
    frame.is_some_and(|(code, _)| code == 4000)
}

/// How often one session may resume in a run before that counts as its failure.
const MAX_RESUMES: u64 = 20;

impl Conn {
    /// Whether a lost connection should be resumed: only a session that was READY (a failure
    /// before that is the identify phase's result).
    fn can_resume(&self) -> bool {
        self.reported && self.session_id.is_some()
    }

    /// Counts a lost connection that will be resumed; an error once there were too many.
    fn dropped(&mut self, out: &mut Outcome) -> Result<()> {
        out.resumes += 1;
        if out.resumes > MAX_RESUMES {
            return Err(format!("connection lost {} times", out.resumes).into());
        }
        Ok(())
    }

    /// The IDENTIFY payload.
    fn identify(&self) -> String {
        serde_json::json!({
            "op": 2,
            "d": {
                "token": self.token,
                "intents": INTENTS,
                "properties": {"os": "linux", "browser": "loadgen", "device": "loadgen"},
            }
        })
        .to_string()
    }

    /// Checks that dispatch numbers are contiguous.
    fn sequence(&mut self, s: u64, out: &mut Outcome) {
        if let Some(last) = self.last_seq {
            if s != last + 1 {
                out.seq_gaps += 1;
            }
        }
        self.last_seq = Some(s);
    }

    /// Times one MESSAGE_CREATE into the tracker.
    fn message_create(
        &mut self,
        content: &str,
        channel_id: Option<&str>,
        now_us: u64,
        out: &mut Outcome,
    ) {
        let same_channel = channel_id == Some(self.tracker.channel());
        match self
            .tracker
            .deliver(content, same_channel, self.viewer, &mut self.view, now_us)
        {
            crate::load::Delivery::Duplicate => out.duplicates += 1,
            crate::load::Delivery::Leak => out.leaks += 1,
            _ => {}
        }
    }
}

/// The fields of a MESSAGE_CREATE the harness reads, found by searching the frame's text
/// instead of parsing all of it: under fan-out every recipient reads every message, and the
/// full parse was the load generator's largest cost, taking the machine from the servers it
/// measures. Both servers write compact JSON; the keys are looked for as `"key":` (a key, since
/// a string value is never followed by a colon), and a MESSAGE_CREATE of the load has no
/// nested message (no reply), so `content` and `channel_id` are the message's own. Anything
/// unusual — an escaped quote in a value, a missing field — returns None and the frame is
/// parsed in full.
struct QuickMessage<'a> {
    s: u64,
    content: &'a str,
    channel_id: &'a str,
}

impl<'a> QuickMessage<'a> {
    fn find(text: &'a str) -> Option<QuickMessage<'a>> {
        use std::sync::LazyLock;
        static IS_MESSAGE_CREATE: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(br#""t":"MESSAGE_CREATE""#));
        static SEQUENCE: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(br#""s":"#));
        static CONTENT: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(br#""content":""#));
        static CHANNEL_ID: LazyLock<memmem::Finder<'static>> =
            LazyLock::new(|| memmem::Finder::new(br#""channel_id":""#));
        let bytes = text.as_bytes();
        IS_MESSAGE_CREATE.find(bytes)?;
        let after_s = &text[SEQUENCE.find(bytes)? + 4..];
        let digits = after_s.bytes().take_while(u8::is_ascii_digit).count();
        let s = after_s[..digits].parse().ok()?;
        let string_after = |finder: &memmem::Finder<'_>| -> Option<&'a str> {
            let start = finder.find(bytes)? + finder.needle().len();
            let len = memchr::memchr(b'"', &bytes[start..])?;
            let value = &text[start..start + len];
            (!value.contains('\\')).then_some(value)
        };
        Some(QuickMessage {
            s,
            content: string_after(&CONTENT)?,
            channel_id: string_after(&CHANNEL_ID)?,
        })
    }
}

/// zlib-stream: one inflate context per connection; a payload ends with 00 00 FF FF.
struct Inflater {
    z: flate2::Decompress,
    input: Vec<u8>,
    output: Vec<u8>,
}

impl Inflater {
    fn new() -> Inflater {
        Inflater {
            z: flate2::Decompress::new(true),
            input: Vec::new(),
            output: Vec::with_capacity(4096),
        }
    }

    /// Adds a frame; returns the payload once a complete one is in.
    fn push(&mut self, data: &[u8]) -> Result<Option<&str>> {
        self.input.extend_from_slice(data);
        if !self.input.ends_with(&[0, 0, 0xff, 0xff]) {
            return Ok(None);
        }
        self.output.clear();
        let mut pos = 0;
        loop {
            if self.output.capacity() - self.output.len() < 1024 {
                self.output.reserve(self.output.capacity().max(4096));
            }
            let (in_before, out_before) = (self.z.total_in(), self.z.total_out());
            self.z.decompress_vec(
                &self.input[pos..],
                &mut self.output,
                flate2::FlushDecompress::Sync,
            )?;
            pos += (self.z.total_in() - in_before) as usize;
            let progressed = self.z.total_in() != in_before || self.z.total_out() != out_before;
            let room_left = self.output.len() < self.output.capacity();
            if !progressed || (pos >= self.input.len() && room_left) {
                break;
            }
        }
        self.input.clear();
        Ok(Some(std::str::from_utf8(&self.output)?))
    }
}

async fn send_heartbeat(ws: &mut WsClient, conn: &mut Conn, out: &mut Outcome) -> Result<()> {
    if !conn.acked {
        out.missed_acks += 1;
    }
    conn.acked = false;
    out.heartbeats += 1;
    let seq = conn
        .last_seq
        .map_or_else(|| "null".to_string(), |s| s.to_string());
    ws.send_text(&format!(r#"{{"op":1,"d":{seq}}}"#)).await?;
    Ok(())
}

fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365)
}

async fn drive(
    cfg: &GwConfig,
    conn: &mut Conn,
    out: &mut Outcome,
    mut permit: Option<OwnedSemaphorePermit>,
    ready_tx: &mpsc::UnboundedSender<(usize, Ready)>,
    stop: &mut watch::Receiver<bool>,
) -> Result<()> {
    conn.started = Instant::now();
    let deadline = tokio::time::Instant::now() + cfg.ready_timeout;
    let mut ws = tokio::time::timeout_at(deadline, connect(cfg, conn.index))
        .await
        .map_err(|_| "connect timed out")??;
    let mut inflater = cfg.zlib.then(Inflater::new);
    let heartbeat = tokio::time::sleep_until(far_future());
    tokio::pin!(heartbeat);
    let ready_deadline = tokio::time::sleep_until(deadline);
    tokio::pin!(ready_deadline);
    // One waiter for the whole session: a `changed()` made anew per frame registers with the
    // watch's shared notifier and deregisters again (a lock all sessions contend for).
    let stopped = stop.changed();
    tokio::pin!(stopped);
    loop {
        let action = tokio::select! {
            frame = ws.next() => {
                let frame = match frame {
                    Ok(Some(frame)) => Some(frame),
                    // The TCP connection broke: resumed like a close with 4000.
                    _ if conn.can_resume() => None,
                    Ok(None) => return Err("server closed the TCP connection".into()),
                    Err(e) => return Err(e),
                };
                match frame {
                    Some(Incoming::Text(text)) => conn.handle(text, out)?,
                    Some(Incoming::Binary(bytes)) => {
                        let inflater = inflater
                            .as_mut()
                            .ok_or("binary frame without compression")?;
                        match inflater.push(bytes)? {
                            Some(text) => conn.handle(text, out)?,
                            None => Action::None,
                        }
                    }
                    Some(Incoming::Close(close))
                        if !(conn.can_resume() && is_resumable(close)) =>
                    {
                        return Err(format!("server closed the socket: {close:?}").into())
                    }
                    Some(Incoming::Close(_)) | None => {
                        conn.dropped(out)?;
                        Action::Reconnect
                    }
                    Some(Incoming::Control) => Action::None,
                }
            }
            _ = &mut heartbeat => Action::HeartbeatNow,
            _ = &mut ready_deadline, if !conn.reported => {
                return Err(format!("not ready within {:?}", cfg.ready_timeout).into());
            }
            _ = &mut stopped => {
                let _ = tokio::time::timeout(
                    Duration::from_secs(2),
                    ws.close(1000, "loadgen done"),
                ).await;
                return Ok(());
            }
        };
        match action {
            Action::None => {}
            Action::Reconnect => {
                ws = tokio::time::timeout(Duration::from_secs(10), connect(cfg, conn.index))
                    .await
                    .map_err(|_| "reconnect timed out")??;
                // A new connection is a new compression stream; its HELLO starts the heartbeats.
                inflater = cfg.zlib.then(Inflater::new);
                heartbeat.as_mut().reset(far_future());
                conn.acked = true;
                conn.resuming = true;
            }
            Action::Reidentify => {
                out.reidentified += 1;
                conn.resuming = false;
                // The old session id stays until the new READY replaces it: a connection closed
                // before that is resumed with it, refused again, and identifies again.
                conn.last_seq = None;
                ws.send_text(&conn.identify()).await?;
            }
            Action::Identify => {
                let hello_answer = match (&conn.session_id, conn.resuming) {
                    (Some(session_id), true) => serde_json::json!({
                        "op": 6,
                        "d": {"token": conn.token, "session_id": session_id, "seq": conn.last_seq},
                    })
                    .to_string(),
                    _ => conn.identify(),
                };
                ws.send_text(&hello_answer).await?;
                if let Some(interval) = conn.heartbeat_interval {
                    let jitter: f64 = rand::random();
                    heartbeat
                        .as_mut()
                        .reset(tokio::time::Instant::now() + interval.mul_f64(jitter));
                }
            }
            Action::HeartbeatNow => {
                send_heartbeat(&mut ws, conn, out).await?;
                if let Some(interval) = conn.heartbeat_interval {
                    heartbeat
                        .as_mut()
                        .reset(tokio::time::Instant::now() + interval);
                }
            }
            // Identified anew after a refused RESUME: READY was reported long ago.
            Action::Live if conn.reported => {}
            Action::Live => {
                let to_guilds = conn.started.elapsed();
                let to_ready = conn.ready_at.unwrap_or(to_guilds);
                conn.reported = true;
                permit.take();
                let _ = ready_tx.send((
                    conn.index,
                    Ready::Ok {
                        to_ready,
                        to_guilds,
                    },
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick path must read what the full parse reads, in either server's key order.
    #[test]
    fn quick_message_matches_the_full_parse() {
        let ours = r#"{"t":"MESSAGE_CREATE","s":42,"op":0,"d":{"id":"9","content":"lg t 1 5 abc","channel_id":"7","author":{"id":"3","username":"u"}}}"#;
        let baseline = r#"{"d":{"channel_id":"7","content":"lg t 1 5 abc","id":"9"},"op":0,"s":42,"t":"MESSAGE_CREATE"}"#;
        for text in [ours, baseline] {
            let quick = QuickMessage::find(text).expect("a MESSAGE_CREATE");
            let full: Frame = serde_json::from_str(text).unwrap();
            let d = full.d.unwrap();
            assert_eq!(Some(quick.s), full.s);
            assert_eq!(Some(quick.content), d.content.as_deref());
            assert_eq!(Some(quick.channel_id), d.channel_id.as_deref());
        }
    }

    #[test]
    fn quick_message_leaves_anything_unusual_to_the_full_parse() {
        let escaped =
            r#"{"t":"MESSAGE_CREATE","s":1,"op":0,"d":{"content":"a \"quote\"","channel_id":"7"}}"#;
        let other = r#"{"t":"GUILD_CREATE","s":1,"op":0,"d":{"channel_id":"7"}}"#;
        let no_sequence =
            r#"{"t":"MESSAGE_CREATE","s":null,"op":0,"d":{"content":"x","channel_id":"7"}}"#;
        for text in [escaped, other, no_sequence] {
            assert!(QuickMessage::find(text).is_none(), "{text}");
        }
    }
}
