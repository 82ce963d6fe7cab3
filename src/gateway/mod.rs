//! The gateway node: WebSocket connections, resumable sessions, and the fan-out that takes
//! each bus event once and hands it to the local sessions allowed to see it (intents,
//! audience, MESSAGE_CONTENT).

pub mod compression;
mod connection;
pub mod etf;
mod memory;
mod outlet;
mod protocol;
mod registry;
mod session;
mod snapshots;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

pub use protocol::ConnectParams;

use crate::bus::{Audience, Delivery, Envelope, Topic};
use crate::error::ApiError;
use crate::model::Snowflake;
use crate::permissions::Permissions;
use crate::service::visibility::GuildPermissions;
use crate::service::{guild_create_tail, open_snapshot, Caller, PresenceUpdate, Service};
use protocol::{intents, required_dm_intent, required_intent};
use registry::Registry;
use session::{Dispatch, Session};

/// One whole member list per guild per user this often (Discord's rule for op 8).
const FULL_MEMBER_LIST_INTERVAL: Duration = Duration::from_secs(30);

/// Gateway settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// How long a session whose connection dropped stays resumable.
    pub resume_window: Duration,
    /// How long a new connection may take to IDENTIFY or RESUME.
    pub identify_timeout: Duration,
    /// Announced in HELLO (Discord's current value is 41.25 s).
    pub heartbeat_interval: Duration,
    /// Most guilds one bot session may carry; above it the bot must shard (close 4011).
    pub guilds_per_shard: usize,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            resume_window: Duration::from_secs(180),
            identify_timeout: Duration::from_secs(45),
            heartbeat_interval: Duration::from_millis(41_250),
            guilds_per_shard: 2500,
        }
    }
}

/// One node's gateway: its sessions, its single bus subscription, and a permission view of
/// each guild its sessions follow.
pub struct Gateway {
    service: Arc<Service>,
    config: GatewayConfig,
    registry: Mutex<Registry>,
    views: Mutex<HashMap<Snowflake, GuildPermissions>>,
    /// When each (user, guild) last asked for a whole member list (op 8).
    full_member_lists: Mutex<HashMap<(Snowflake, Snowflake), Instant>>,
    /// The latest presence of each user with a session here, as PRESENCE_UPDATE carried it.
    presences: Mutex<HashMap<Snowflake, Arc<str>>>,
    /// Connections opened and closed since the last heap trim.
    churn: memory::Churn,
    /// Rendered GUILD_CREATE snapshots of followed guilds, shared by identifying sessions.
    snapshots: snapshots::GuildSnapshots,
    /// The runtime connection tasks run on, apart from the fan-out's (see [`crate::serve`]).
    connections: tokio::runtime::Handle,
}

impl Gateway {
    /// Creates the gateway and starts its fan-out and session-expiry tasks on the current
    /// runtime; its connections' tasks will run on `connections`.
    pub fn start(
        service: Arc<Service>,
        config: GatewayConfig,
        connections: tokio::runtime::Handle,
    ) -> Arc<Gateway> {
        let gateway = Arc::new(Gateway {
            service,
            config,
            registry: Mutex::new(Registry::default()),
            views: Mutex::new(HashMap::new()),
            full_member_lists: Mutex::new(HashMap::new()),
            presences: Mutex::new(HashMap::new()),
            churn: memory::Churn::default(),
            snapshots: snapshots::GuildSnapshots::default(),
            connections,
        });
        let fanout = Arc::clone(&gateway);
        tokio::spawn(async move { fanout.fanout().await });
        let reaper = Arc::downgrade(&gateway);
        tokio::spawn(async move {
            // Every second: expiry is checked in seconds, and a heap trim should follow a
            // connection storm closely (see memory.rs).
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let Some(gateway) = reaper.upgrade() else {
                    break;
                };
                let expired = gateway.registry().expired(gateway.config.resume_window);
                for number in expired {
                    gateway.end_session(number);
                }
                gateway.churn.tick().await;
            }
        });
        gateway
    }

    /// Graceful shutdown: every connected client is told to reconnect (op 7) so it resumes
    /// elsewhere.
    pub fn request_reconnect_all(&self) {
        for session in self.registry().all() {
            session.request_reconnect();
        }
    }

    /// Discord allows one whole-member-list request per guild per user every 30 s; returns
    /// the seconds to wait when this one comes too soon.
    fn allow_full_member_list(&self, user_id: Snowflake, guild_id: Snowflake) -> Result<(), f64> {
        let mut last = self
            .full_member_lists
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        last.retain(|_, at| now.duration_since(*at) < FULL_MEMBER_LIST_INTERVAL);
        match last.get(&(user_id, guild_id)) {
            Some(at) => Err((FULL_MEMBER_LIST_INTERVAL - now.duration_since(*at)).as_secs_f64()),
            None => {
                last.insert((user_id, guild_id), now);
                Ok(())
            }
        }
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn views(&self) -> MutexGuard<'_, HashMap<Snowflake, GuildPermissions>> {
        self.views
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tells the bus which topics this node now needs; returns once their events arrive here.
    async fn watch(&self, topics: Vec<Topic>) {
        if !topics.is_empty() {
            self.service.bus().watch(topics).await;
        }
    }

    /// Tells the bus which topics this node no longer needs; a guild nobody here follows any
    /// more also loses its permission view.
    fn unwatch(&self, topics: Vec<Topic>) {
        if topics.is_empty() {
            return;
        }
        {
            let mut views = self.views();
            for topic in &topics {
                if let Topic::Guild(guild_id) = topic {
                    views.remove(guild_id);
                    self.snapshots.forget(*guild_id);
                }
            }
        }
        self.service.bus().unwatch(topics);
    }

    /// Ends a session for good (client closed with 1000/1001).
    /// A user whose last session ended goes offline for the members of their guilds.
    fn end_session(&self, number: u64) {
        let (session, unwatch, last) = {
            let mut registry = self.registry();
            let session = registry.get(number);
            let unwatch = registry.remove(number);
            let last = session
                .as_ref()
                .is_some_and(|s| !registry.has_user(s.user_id()));
            (session, unwatch, last)
        };
        self.unwatch(unwatch);
        if let (Some(session), true) = (session, last) {
            let service = Arc::clone(&self.service);
            tokio::spawn(async move {
                let offline = PresenceUpdate {
                    status: Some("offline".into()),
                    ..PresenceUpdate::default()
                };
                let updated = async {
                    let caller = service.caller(session.user_id()).await?;
                    service.update_presence(&caller, offline).await
                };
                if let Err(err) = updated.await {
                    tracing::warn!(%err, "offline presence failed");
                }
            });
        }
    }

    /// GUILD_CREATE `d` for one of the caller's guilds in two parts: the guild's shared
    /// snapshot (read and rendered once until the guild changes) and the caller's own keys.
    async fn guild_create(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        with_presences: bool,
    ) -> Result<(Arc<str>, String), ApiError> {
        let member = self.service.own_member(caller, guild_id).await?;
        let snapshot = match self.snapshots.get(guild_id) {
            Ok(snapshot) => snapshot,
            Err(miss) => {
                let snapshot = self.service.guild_snapshot(guild_id).await?;
                let rendered: Arc<str> = open_snapshot(&snapshot).into();
                self.snapshots.put(guild_id, miss, Arc::clone(&rendered));
                rendered
            }
        };
        let presences = if with_presences {
            self.presences_in(guild_id).await
        } else {
            Vec::new()
        };
        Ok((snapshot, guild_create_tail(&member, &presences)))
    }

    /// Presences this node knows of members of `guild_id` (for GUILD_CREATE).
    async fn presences_in(&self, guild_id: Snowflake) -> Vec<Value> {
        let known: Vec<(Snowflake, Arc<str>)> = self
            .presences
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(user, presence)| (*user, Arc::clone(presence)))
            .collect();
        if known.is_empty() {
            return Vec::new();
        }
        let Ok(members) = self.service.member_ids(guild_id).await else {
            return Vec::new();
        };
        known
            .into_iter()
            .filter(|(user, _)| members.binary_search(user).is_ok())
            .filter_map(|(_, presence)| serde_json::from_str(&presence).ok())
            .collect()
    }

    /// Remembers the latest presence each user announced (offline forgets it).
    fn record_presence(&self, envelope: &Envelope) {
        if envelope.event != "PRESENCE_UPDATE" {
            return;
        }
        let Ok(mut presence) = serde_json::from_str::<Value>(&envelope.data) else {
            return;
        };
        let Some(user_id) = presence["user"]["id"].as_str().and_then(Snowflake::parse) else {
            return;
        };
        let mut presences = self.presences.lock().unwrap_or_else(|p| p.into_inner());
        if presence["status"] == "offline" {
            presences.remove(&user_id);
        } else {
            if let Some(object) = presence.as_object_mut() {
                object.remove("guild_id");
            }
            presences.insert(user_id, Arc::from(presence.to_string()));
        }
    }

    async fn fanout(self: Arc<Self>) {
        let mut events = self.service.bus().subscribe();
        loop {
            match events.recv().await {
                Ok(Delivery::Event(envelope)) => self.deliver(&envelope).await,
                Ok(Delivery::Gap) => {
                    tracing::warn!("the bus may have lost events");
                    self.recover_from_gap();
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "gateway fan-out lagged behind the bus");
                    self.recover_from_gap();
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Sessions may have missed events: ask them to reconnect and resume (so their clients
    /// re-read what they need), and rebuild the permission views from the store.
    fn recover_from_gap(&self) {
        self.views().clear();
        self.snapshots.clear();
        self.request_reconnect_all();
    }

    /// Delivers one event to the local sessions that may receive it.
    async fn deliver(&self, envelope: &Envelope) {
        let guild_id = match envelope.topic {
            Topic::Guild(guild_id) => Some(guild_id),
            Topic::User(_) => None,
        };
        if let Some(guild_id) = guild_id.filter(|_| snapshots::changes_snapshot(&envelope.event)) {
            self.snapshots.invalidate(guild_id);
        }
        self.follow_joined_guild(envelope).await;
        self.record_presence(envelope);
        let filtered = guild_id.filter(|_| envelope.audience != Audience::Everyone);
        // A node that published an event delivers it locally even when none of its sessions
        // follows the guild; loading a view then would leave one that no later event keeps
        // current (the node does not watch the topic), so only followed guilds get one.
        let followed = self.registry().follows(envelope.topic);
        if let Some(guild_id) = filtered.filter(|_| followed) {
            if !self.ensure_view(guild_id).await {
                tracing::error!(event = %envelope.event, %guild_id, "no permission view; event not delivered");
                return;
            }
        }
        // State changes apply before delivery: a member who just got access receives the
        // event announcing it.
        if let Some(guild_id) = guild_id {
            if let Some(view) = self.views().get_mut(&guild_id) {
                view.apply_update(&envelope.event, &envelope.data);
            }
        }

        let direct = envelope.audience == Audience::DirectMessage;
        let required = if direct {
            required_dm_intent(&envelope.event)
        } else {
            required_intent(&envelope.event)
        };
        // A guild event addressed to a user goes only to the shard that carries the guild.
        let shard_guild = match (envelope.topic, envelope.event.as_str()) {
            (Topic::User(_), "GUILD_CREATE" | "GUILD_DELETE") => guild_id_of(&envelope.data),
            _ => None,
        };
        // Filtered on what the registry keeps beside each follower; only the recipients'
        // sessions are touched (the registry is locked meanwhile, then the views: always in
        // that order).
        let recipients: Vec<Arc<Session>> = {
            let registry = self.registry();
            let mut candidates = registry.candidates(envelope.topic);
            candidates.retain(|c| {
                required.is_none_or(|bits| c.intents & bits != 0)
                    || (envelope.event == "GUILD_MEMBER_UPDATE"
                        && envelope.subject_user == Some(c.user_id))
            });
            if let Some(guild) = shard_guild {
                candidates.retain(|c| c.session.carries_guild(guild));
            }
            if let Some(guild_id) = filtered {
                let mut views = self.views();
                match (views.get_mut(&guild_id), envelope.audience) {
                    (Some(view), Audience::Channel(channel_id)) => {
                        view.retain_viewers(channel_id, &mut candidates, |c| c.user_id)
                    }
                    (Some(view), Audience::AnyGuildPermission(bits)) => {
                        let wanted = Permissions::from_bits_truncate(bits);
                        candidates.retain(|c| {
                            view.guild_permissions(c.user_id)
                                .is_some_and(|p| p.intersects(wanted))
                        })
                    }
                    (_, Audience::Everyone | Audience::DirectMessage) => {}
                    (None, _) => candidates.clear(),
                }
            }
            candidates.iter().map(|c| Arc::clone(c.session)).collect()
        };
        send(envelope, &recipients, direct);

        if let Some(guild_id) = guild_id {
            if let Some(view) = self.views().get_mut(&guild_id) {
                view.apply_removal(&envelope.event, &envelope.data);
            }
        }
        self.unfollow_left_guild(envelope);
    }

    /// Loads the guild's permission view if this node has none; false if it cannot.
    async fn ensure_view(&self, guild_id: Snowflake) -> bool {
        if self.views().contains_key(&guild_id) {
            return true;
        }
        match self.service.permission_view(guild_id).await {
            Ok(Some(view)) => {
                self.views().entry(guild_id).or_insert(view);
                true
            }
            Ok(None) => false,
            Err(err) => {
                tracing::error!(%err, %guild_id, "loading a permission view failed");
                false
            }
        }
    }

    /// GUILD_CREATE to a user: their sessions start following the guild.
    async fn follow_joined_guild(&self, envelope: &Envelope) {
        if let (Topic::User(user_id), "GUILD_CREATE") = (envelope.topic, envelope.event.as_str()) {
            if let Some(guild_id) = guild_id_of(&envelope.data) {
                let watch = self.registry().join_guild(user_id, guild_id);
                self.watch(watch).await;
            }
        }
    }

    /// GUILD_DELETE: to a user (left, kicked, banned) their sessions stop following the guild;
    /// to a guild (deleted) every session does.
    fn unfollow_left_guild(&self, envelope: &Envelope) {
        if envelope.event != "GUILD_DELETE" {
            return;
        }
        let unwatch = match envelope.topic {
            Topic::User(user_id) => match guild_id_of(&envelope.data) {
                Some(guild_id) => self.registry().leave_guild(user_id, guild_id),
                None => return,
            },
            Topic::Guild(guild_id) => self.registry().drop_guild(guild_id),
        };
        self.unwatch(unwatch);
    }
}

/// Hands the event to each recipient. The `d` is shared; the content-less variant for bots
/// without MESSAGE_CONTENT is rendered at most once per event (never in DMs, where Discord
/// shows bots the content regardless).
fn send(envelope: &Envelope, recipients: &[Arc<Session>], direct: bool) {
    let full = Dispatch::new(&envelope.event, envelope.data.as_str());
    // Parsed only when a recipient is subject to it (most events reach no bot without
    // MESSAGE_CONTENT, and parsing every message cost 5 % of the server in M4).
    let mut gate: Option<Option<ContentGate>> = None;
    let mut without_content: Option<Arc<Dispatch>> = None;
    for session in recipients {
        let hidden = !direct
            && ContentGate::applies_to(session)
            && gate
                .get_or_insert_with(|| ContentGate::for_event(&envelope.event, &envelope.data))
                .as_ref()
                .is_some_and(|gate| gate.hides_from(session));
        let dispatch = if hidden {
            without_content.get_or_insert_with(|| {
                Dispatch::new(&envelope.event, strip_message_content(&envelope.data))
            })
        } else {
            &full
        };
        if !session.dispatch(dispatch) {
            // Its connection is dropped with a resumable close; the session keeps buffering.
            tracing::warn!(session = session.number, "connection too slow; detached");
        }
    }
}

/// Who may see a message's content: bots need MESSAGE_CONTENT unless they wrote the message
/// or are mentioned in it. Parsed once per message event.
struct ContentGate {
    author: Option<Snowflake>,
    mentions: Vec<Snowflake>,
}

impl ContentGate {
    fn for_event(event: &str, data: &str) -> Option<ContentGate> {
        if !matches!(event, "MESSAGE_CREATE" | "MESSAGE_UPDATE") {
            return None;
        }
        /// Only the fields the gate reads; serde skips the rest without building it.
        #[derive(serde::Deserialize)]
        struct Addressed {
            author: Option<IdOnly>,
            #[serde(default)]
            mentions: Vec<IdOnly>,
        }
        let message: Addressed = serde_json::from_str(data).ok()?;
        Some(ContentGate {
            author: message.author.map(|user| user.id),
            mentions: message.mentions.into_iter().map(|user| user.id).collect(),
        })
    }

    /// Bots without MESSAGE_CONTENT are the only sessions whose view the gate can change.
    fn applies_to(session: &Session) -> bool {
        session.is_bot() && session.intents & intents::MESSAGE_CONTENT == 0
    }

    /// For a session the gate applies to: whether the message's content is hidden from it.
    fn hides_from(&self, session: &Session) -> bool {
        let me = session.user_id();
        self.author != Some(me) && !self.mentions.contains(&me)
    }
}

fn strip_message_content(data: &str) -> String {
    let Ok(mut message) = serde_json::from_str::<Value>(data) else {
        return data.to_owned();
    };
    message["content"] = Value::String(String::new());
    for field in ["embeds", "attachments", "components"] {
        message[field] = Value::Array(Vec::new());
    }
    if let Some(object) = message.as_object_mut() {
        object.remove("poll");
    }
    message.to_string()
}

/// An object of which only the id is wanted.
#[derive(serde::Deserialize)]
struct IdOnly {
    id: Snowflake,
}

fn guild_id_of(data: &str) -> Option<Snowflake> {
    serde_json::from_str::<IdOnly>(data).ok().map(|g| g.id)
}
