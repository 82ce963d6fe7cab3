//! Redis pub/sub bus: several nodes share one Redis so each node's gateway receives the events
//! its sessions need, whichever node published them.
//!
//! Per node there is ONE publishing and ONE subscribing connection, however many sessions the
//! node carries. Topics map to channels `<prefix>:g:<guild>` and `<prefix>:u:<user>`; the
//! gateway tells the bus when the first local session needs a topic (`watch`) and when the last
//! one leaves (`unwatch`). Every node also listens on `<prefix>:gaps`, where a node announces
//! that some of its events may not have reached Redis.
//!
//! Outages never produce a silent gap:
//! - the subscriber connection drops → `Delivery::Gap` at once; after reconnecting (back-off 50 ms
//!   doubling to 2 s) and resubscribing every watched topic, `Delivery::Gap` again (events
//!   published meanwhile were lost for this node);
//! - a batch of PUBLISH commands fails, or the publish queue overflows → after reconnecting, a
//!   gap marker on `<prefix>:gaps`, which every other node turns into `Delivery::Gap`;
//! - `watch` waits at most [`WATCH_WAIT`] for Redis to confirm the subscription; if it returned
//!   earlier than the confirmation, a `Delivery::Gap` follows once the subscription is in place.
//!
//! Events published on this node reach its own stream at once (no Redis round trip, and also
//! while Redis is down); the copy that comes back from Redis is recognised by its origin and
//! dropped.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSub, PubSubSink, PubSubStream};
use redis::{AsyncConnectionConfig, Client, ConnectionAddr, Msg, RedisError, RedisResult};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{sleep, timeout, Instant};

use super::{Bus, Delivery, Envelope, Topic};

/// How far the node's fan-out may lag before it must recover (as for the local bus).
const BROADCAST_CAPACITY: usize = 65_536;
/// Events waiting for the publisher connection; beyond this they are dropped (with a gap marker).
const PUBLISH_QUEUE: usize = 65_536;
/// Most PUBLISH commands pipelined in one round trip.
const PUBLISH_BATCH: usize = 1024;
/// First reconnection delay; doubles up to [`BACKOFF_MAX`].
const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Longest `watch` waits for Redis to confirm a subscription.
pub const WATCH_WAIT: Duration = Duration::from_secs(5);
/// Connecting, or one command's reply, taking longer than this counts as a lost connection.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// Subscribing to every watched topic after a reconnection may take this long.
const RESUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);
/// An idle subscriber connection is checked this often, so a silently dead one is noticed.
const PING_INTERVAL: Duration = Duration::from_secs(5);

/// What travels on a topic channel: the event and the process instance that published it.
#[derive(Serialize)]
struct WireOut<'a> {
    origin: u64,
    envelope: &'a Envelope,
}

#[derive(Deserialize)]
struct WireIn {
    origin: u64,
    envelope: Envelope,
}

/// What travels on the gaps channel: which instance may have lost events.
#[derive(Serialize, Deserialize)]
struct GapMarker {
    origin: u64,
}

fn encode(origin: u64, envelope: &Envelope) -> Result<Vec<u8>, rmp_serde::encode::Error> {
    rmp_serde::to_vec_named(&WireOut { origin, envelope })
}

/// Channel names of one cluster (one prefix).
#[derive(Clone)]
struct Channels {
    prefix: String,
    gaps: String,
}

impl Channels {
    fn new(prefix: &str) -> Channels {
        Channels {
            prefix: prefix.to_owned(),
            gaps: format!("{prefix}:gaps"),
        }
    }

    fn topic(&self, topic: Topic) -> String {
        match topic {
            Topic::Guild(id) => format!("{}:g:{}", self.prefix, id.0),
            Topic::User(id) => format!("{}:u:{}", self.prefix, id.0),
        }
    }
}

enum Command {
    /// Subscribe; the sender is answered once Redis confirmed it.
    Watch(Vec<Topic>, oneshot::Sender<()>),
    Unwatch(Vec<Topic>),
}

/// A bus shared by every node connected to the same Redis with the same prefix.
pub struct RedisBus {
    origin: u64,
    prefix: String,
    local: broadcast::Sender<Delivery>,
    outgoing: mpsc::Sender<Arc<Envelope>>,
    /// Set when an event could not be queued for Redis; the publisher then sends a gap marker.
    lost: Arc<AtomicBool>,
    commands: mpsc::UnboundedSender<Command>,
}

impl RedisBus {
    /// Connects both connections and starts their tasks. Fails if Redis is unreachable now;
    /// afterwards the bus never fails, it reconnects.
    pub async fn connect(url: &str, prefix: &str) -> Result<Arc<RedisBus>, RedisError> {
        let client = Client::open(url)?;
        let origin: u64 = rand::random();
        let channels = Channels::new(prefix);
        let publisher_name = client_name(prefix, origin, "pub");
        let subscriber_name = client_name(prefix, origin, "sub");

        let publisher = open_publisher(&client, &publisher_name).await?;
        let (mut sink, stream) = open_subscriber(&client, &subscriber_name).await?;
        within(IO_TIMEOUT, sink.subscribe(&channels.gaps)).await?;

        let (local, _) = broadcast::channel(BROADCAST_CAPACITY);
        let (outgoing, queue) = mpsc::channel(PUBLISH_QUEUE);
        let (commands, command_rx) = mpsc::unbounded_channel();
        let lost = Arc::new(AtomicBool::new(false));

        let publishing = Publisher {
            client: client.clone(),
            name: publisher_name,
            channels: channels.clone(),
            origin,
            lost: Arc::clone(&lost),
        };
        tokio::spawn(publishing.run(publisher, queue));
        let subscribing = Subscriber {
            client: client.clone(),
            name: subscriber_name,
            channels,
            origin,
            local: local.clone(),
            commands: command_rx,
            wanted: HashSet::new(),
            waiting: Vec::new(),
        };
        tokio::spawn(subscribing.run(sink, stream));

        tracing::info!(
            redis = %client.get_connection_info().addr,
            prefix,
            instance = format_args!("{origin:016x}"),
            "bus connected to Redis"
        );
        Ok(Arc::new(RedisBus {
            origin,
            prefix: prefix.to_owned(),
            local,
            outgoing,
            lost,
            commands,
        }))
    }

    /// The CLIENT SETNAME of this node's publishing connection, so operators (and fault tests)
    /// can find it in CLIENT LIST.
    pub fn publisher_client_name(&self) -> String {
        client_name(&self.prefix, self.origin, "pub")
    }

    /// The CLIENT SETNAME of this node's subscribing connection (see
    /// [`RedisBus::publisher_client_name`]); unset when Redis requires AUTH or the URL is not TCP.
    pub fn subscriber_client_name(&self) -> String {
        client_name(&self.prefix, self.origin, "sub")
    }
}

#[async_trait]
impl Bus for RedisBus {
    fn publish(&self, envelope: Envelope) {
        let envelope = Arc::new(envelope);
        // This node's sessions get it now; no receiver means no local sessions.
        let _ = self.local.send(Delivery::Event(Arc::clone(&envelope)));
        match self.outgoing.try_send(envelope) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !self.lost.swap(true, Ordering::AcqRel) {
                    tracing::warn!("Redis publish queue full; dropping events (other nodes will be told of the gap)");
                }
            }
            // The publisher task only ends when the bus is dropped.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.local.subscribe()
    }

    async fn watch(&self, topics: Vec<Topic>) {
        let (done, confirmed) = oneshot::channel();
        if self.commands.send(Command::Watch(topics, done)).is_err() {
            return;
        }
        if timeout(WATCH_WAIT, confirmed).await.is_err() {
            tracing::warn!(
                wait_ms = WATCH_WAIT.as_millis() as u64,
                "Redis has not confirmed a subscription; continuing (a gap follows once it is in place)"
            );
        }
    }

    fn unwatch(&self, topics: Vec<Topic>) {
        let _ = self.commands.send(Command::Unwatch(topics));
    }
}

fn client_name(prefix: &str, origin: u64, role: &str) -> String {
    // Client names may not contain spaces.
    let prefix: String = prefix
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    format!("{prefix}:{origin:016x}:{role}")
}

/// Runs `future` with a deadline; running out counts as an I/O error.
async fn within<T>(
    limit: Duration,
    future: impl std::future::Future<Output = RedisResult<T>>,
) -> RedisResult<T> {
    match timeout(limit, future).await {
        Ok(result) => result,
        Err(_) => {
            Err(io::Error::new(io::ErrorKind::TimedOut, "Redis did not answer in time").into())
        }
    }
}

async fn open_publisher(client: &Client, name: &str) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(IO_TIMEOUT)
        .set_response_timeout(IO_TIMEOUT);
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await?;
    let named: RedisResult<()> = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(name)
        .query_async(&mut connection)
        .await;
    if let Err(err) = named {
        tracing::debug!(%err, "could not name the Redis publisher connection");
    }
    Ok(connection)
}

/// Opens a pub/sub connection. Over TCP it is named first (a subscribed RESP2 connection
/// accepts no other commands), by one raw command before the driver takes the socket over.
async fn open_subscriber(client: &Client, name: &str) -> RedisResult<(PubSubSink, PubSubStream)> {
    let info = client.get_connection_info();
    let pubsub = match &info.addr {
        ConnectionAddr::Tcp(host, port) => {
            let mut stream = within(IO_TIMEOUT, async {
                Ok(TcpStream::connect((host.as_str(), *port)).await?)
            })
            .await?;
            stream.set_nodelay(true)?;
            within(IO_TIMEOUT, name_raw_connection(&mut stream, name)).await?;
            within(IO_TIMEOUT, PubSub::new(&info.redis, stream)).await?
        }
        _ => within(IO_TIMEOUT, client.get_async_pubsub()).await?,
    };
    Ok(pubsub.split())
}

/// Sends CLIENT SETNAME and reads its one-line reply. A refusal (e.g. NOAUTH) leaves the
/// connection unnamed, which only affects CLIENT LIST.
async fn name_raw_connection(stream: &mut TcpStream, name: &str) -> RedisResult<()> {
    let command = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(name)
        .get_packed_command();
    stream.write_all(&command).await?;
    let mut line = Vec::new();
    loop {
        let byte = stream.read_u8().await?;
        line.push(byte);
        if byte == b'\n' {
            break;
        }
        if line.len() > 4096 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "overlong reply").into());
        }
    }
    if line.first() != Some(&b'+') {
        tracing::debug!(
            reply = %String::from_utf8_lossy(&line).trim_end(),
            "could not name the Redis subscriber connection"
        );
    }
    Ok(())
}

/// Subscribes to each channel with its own command: the driver matches one reply to one
/// request, and a multi-channel SUBSCRIBE gets one reply per channel.
async fn subscribe_each(sink: &PubSubSink, channels: &[String]) -> RedisResult<()> {
    let commands = channels.iter().map(|channel| {
        let mut sink = sink.clone();
        async move { sink.subscribe(channel).await }
    });
    futures_util::future::try_join_all(commands).await?;
    Ok(())
}

struct Publisher {
    client: Client,
    name: String,
    channels: Channels,
    origin: u64,
    lost: Arc<AtomicBool>,
}

impl Publisher {
    /// Drains the queue in pipelined batches until the bus is dropped.
    async fn run(
        self,
        connection: MultiplexedConnection,
        mut queue: mpsc::Receiver<Arc<Envelope>>,
    ) {
        let mut connection = Some(connection);
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        loop {
            let Some(current) = connection.as_mut() else {
                match self.reconnect(&queue).await {
                    Some(fresh) => connection = Some(fresh),
                    None => return,
                }
                continue;
            };
            if self.lost.swap(false, Ordering::AcqRel) {
                if let Err(err) = self.publish_gap_marker(current).await {
                    tracing::warn!(%err, "publishing the gap marker failed; reconnecting");
                    self.lost.store(true, Ordering::Release);
                    connection = None;
                }
                continue;
            }
            if queue.recv_many(&mut batch, PUBLISH_BATCH).await == 0 {
                return;
            }
            let mut pipe = redis::pipe();
            for envelope in batch.drain(..) {
                match encode(self.origin, &envelope) {
                    Ok(bytes) => {
                        pipe.cmd("PUBLISH")
                            .arg(self.channels.topic(envelope.topic))
                            .arg(bytes)
                            .ignore();
                    }
                    Err(err) => {
                        tracing::error!(%err, event = %envelope.event, "event not encodable; not published")
                    }
                }
            }
            let sent: RedisResult<()> = within(IO_TIMEOUT, pipe.query_async(current)).await;
            if let Err(err) = sent {
                tracing::warn!(%err, "publishing to Redis failed; the batch is lost, reconnecting");
                self.lost.store(true, Ordering::Release);
                connection = None;
            }
        }
    }

    async fn publish_gap_marker(&self, connection: &mut MultiplexedConnection) -> RedisResult<()> {
        let marker = rmp_serde::to_vec_named(&GapMarker {
            origin: self.origin,
        })
        .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
        let sent: RedisResult<()> = within(
            IO_TIMEOUT,
            redis::cmd("PUBLISH")
                .arg(&self.channels.gaps)
                .arg(marker)
                .query_async(connection),
        )
        .await;
        sent?;
        tracing::info!("told the other nodes that events from this node may have been lost");
        Ok(())
    }

    /// Reconnects with back-off; None once the bus is dropped.
    async fn reconnect(
        &self,
        queue: &mpsc::Receiver<Arc<Envelope>>,
    ) -> Option<MultiplexedConnection> {
        let mut delay = BACKOFF_MIN;
        let mut attempt = 1u32;
        loop {
            sleep(delay).await;
            if queue.is_closed() {
                return None;
            }
            match open_publisher(&self.client, &self.name).await {
                Ok(connection) => {
                    tracing::info!(attempt, "Redis publisher reconnected");
                    return Some(connection);
                }
                Err(err) => tracing::warn!(%err, attempt, "Redis publisher reconnection failed"),
            }
            delay = (delay * 2).min(BACKOFF_MAX);
            attempt += 1;
        }
    }
}

/// Why serving a subscriber connection stopped.
enum Stopped {
    /// The bus was dropped.
    Closed,
    /// The connection broke (or stopped answering).
    Lost,
}

struct Subscriber {
    client: Client,
    name: String,
    channels: Channels,
    origin: u64,
    local: broadcast::Sender<Delivery>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Topics local sessions need; while connected, exactly the subscribed ones.
    wanted: HashSet<Topic>,
    /// `watch` calls to answer once their topics are subscribed.
    waiting: Vec<oneshot::Sender<()>>,
}

impl Subscriber {
    async fn run(mut self, mut sink: PubSubSink, mut stream: PubSubStream) {
        loop {
            if let Stopped::Closed = self.serve(&sink, &mut stream).await {
                return;
            }
            tracing::warn!("Redis subscriber connection lost; sessions are asked to resume");
            self.gap();
            match self.reconnect().await {
                Some((fresh_sink, fresh_stream)) => {
                    sink = fresh_sink;
                    stream = fresh_stream;
                }
                None => return,
            }
            // Whatever was published while we were away is lost for this node.
            self.gap();
            self.answer_watchers();
        }
    }

    fn gap(&self) {
        let _ = self.local.send(Delivery::Gap);
    }

    /// Answers every waiting `watch`; true if one of them had stopped waiting.
    fn answer_watchers(&mut self) -> bool {
        let mut gave_up = false;
        for done in self.waiting.drain(..) {
            gave_up |= done.send(()).is_err();
        }
        gave_up
    }

    async fn serve(&mut self, sink: &PubSubSink, stream: &mut PubSubStream) -> Stopped {
        let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => self.receive(&message),
                    None => return Stopped::Lost,
                },
                command = self.commands.recv() => match command {
                    Some(command) => {
                        if let Err(err) = self.apply(sink, command).await {
                            tracing::warn!(%err, "Redis (un)subscribe failed");
                            return Stopped::Lost;
                        }
                    }
                    None => return Stopped::Closed,
                },
                _ = ping.tick() => {
                    let mut sink = sink.clone();
                    let pong: RedisResult<redis::Value> = within(IO_TIMEOUT, sink.ping()).await;
                    if let Err(err) = pong {
                        tracing::warn!(%err, "Redis subscriber connection does not answer");
                        return Stopped::Lost;
                    }
                }
            }
        }
    }

    /// Applies one command on a live connection. On error the topics stay wanted (the
    /// reconnection subscribes them) and the watcher stays waiting.
    async fn apply(&mut self, sink: &PubSubSink, command: Command) -> RedisResult<()> {
        match command {
            Command::Watch(topics, done) => {
                let fresh: Vec<String> = topics
                    .into_iter()
                    .filter(|topic| self.wanted.insert(*topic))
                    .map(|topic| self.channels.topic(topic))
                    .collect();
                self.waiting.push(done);
                within(IO_TIMEOUT, subscribe_each(sink, &fresh)).await?;
                if self.answer_watchers() {
                    // Someone went on before the subscription existed: events may be missing.
                    tracing::warn!(
                        "a watch gave up before Redis confirmed it; sessions are asked to resume"
                    );
                    self.gap();
                }
            }
            Command::Unwatch(topics) => {
                for topic in topics {
                    if self.wanted.remove(&topic) {
                        let mut sink = sink.clone();
                        within(IO_TIMEOUT, sink.unsubscribe(self.channels.topic(topic))).await?;
                    }
                }
            }
        }
        Ok(())
    }

    fn receive(&self, message: &Msg) {
        let channel = message.get_channel_name();
        let payload = message.get_payload_bytes();
        if channel == self.channels.gaps {
            match rmp_serde::from_slice::<GapMarker>(payload) {
                Ok(marker) if marker.origin == self.origin => {}
                Ok(_) => {
                    tracing::warn!(
                        "another node may have lost events; sessions are asked to resume"
                    );
                    self.gap();
                }
                Err(err) => tracing::warn!(%err, channel, "undecodable gap marker skipped"),
            }
            return;
        }
        match rmp_serde::from_slice::<WireIn>(payload) {
            // Already delivered locally when it was published.
            Ok(wire) if wire.origin == self.origin => {}
            Ok(wire) => {
                let _ = self.local.send(Delivery::Event(Arc::new(wire.envelope)));
            }
            Err(err) => tracing::warn!(%err, channel, "undecodable bus message skipped"),
        }
    }

    /// Reconnects with back-off and subscribes to every wanted topic; meanwhile (un)watch
    /// commands only change what is wanted. None once the bus is dropped.
    async fn reconnect(&mut self) -> Option<(PubSubSink, PubSubStream)> {
        let mut delay = BACKOFF_MIN;
        let mut attempt = 1u32;
        loop {
            let deadline = Instant::now() + delay;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    command = self.commands.recv() => match command {
                        Some(Command::Watch(topics, done)) => {
                            self.wanted.extend(topics);
                            self.waiting.push(done);
                        }
                        Some(Command::Unwatch(topics)) => {
                            for topic in topics {
                                self.wanted.remove(&topic);
                            }
                        }
                        None => return None,
                    },
                }
            }
            match self.resubscribe().await {
                Ok(connection) => {
                    tracing::info!(
                        attempt,
                        topics = self.wanted.len(),
                        "Redis subscriber reconnected and resubscribed"
                    );
                    return Some(connection);
                }
                Err(err) => tracing::warn!(%err, attempt, "Redis subscriber reconnection failed"),
            }
            delay = (delay * 2).min(BACKOFF_MAX);
            attempt += 1;
        }
    }

    async fn resubscribe(&self) -> RedisResult<(PubSubSink, PubSubStream)> {
        let (sink, stream) = open_subscriber(&self.client, &self.name).await?;
        let mut channels = vec![self.channels.gaps.clone()];
        channels.extend(self.wanted.iter().map(|topic| self.channels.topic(*topic)));
        within(RESUBSCRIBE_TIMEOUT, subscribe_each(&sink, &channels)).await?;
        Ok((sink, stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Audience;
    use crate::model::Snowflake;

    #[test]
    fn channel_names_carry_the_prefix_and_topic_kind() {
        let channels = Channels::new("acc");
        assert_eq!(channels.topic(Topic::Guild(Snowflake(42))), "acc:g:42");
        assert_eq!(channels.topic(Topic::User(Snowflake(7))), "acc:u:7");
        assert_eq!(channels.gaps, "acc:gaps");
    }

    #[test]
    fn wire_format_round_trips_every_field() {
        let envelope = Envelope {
            topic: Topic::User(Snowflake(u64::MAX)),
            event: "MESSAGE_CREATE".into(),
            data: "{\"content\":\"héllo 🌍\"}".into(),
            audience: Audience::AnyGuildPermission(1 << 40),
            subject_user: Some(Snowflake(3)),
        };
        let bytes = encode(99, &envelope).unwrap();
        let decoded: WireIn = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!(decoded.origin, 99);
        assert_eq!(decoded.envelope, envelope);
    }

    #[test]
    fn a_gap_marker_is_not_an_envelope() {
        let marker = rmp_serde::to_vec_named(&GapMarker { origin: 5 }).unwrap();
        assert!(rmp_serde::from_slice::<WireIn>(&marker).is_err());
        assert!(rmp_serde::from_slice::<WireIn>(b"\xc1garbage").is_err());
    }

    #[test]
    fn client_names_have_no_spaces() {
        let name = client_name("my prefix", 1, "sub");
        assert_eq!(name, "my_prefix:0000000000000001:sub");
    }
}
