//! The gateway node: WebSocket sessions, and the fan-out that takes each bus event once and
//! hands it to the local sessions allowed to see it (intents, VIEW_CHANNEL, MESSAGE_CONTENT).

mod protocol;
mod registry;
mod session;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

pub use protocol::ConnectParams;

use crate::bus::{Audience, Envelope, Topic};
use crate::model::Snowflake;
use crate::permissions::Permissions;
use crate::service::visibility::GuildPermissions;
use crate::service::Service;
use protocol::{intents, required_intent};
use registry::{Outbound, Recipient, Registry};

/// Heartbeat interval announced in HELLO (Discord's current value).
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// One node's gateway: its sessions, its single bus subscription, and a permission view of
/// each guild its sessions follow.
pub struct Gateway {
    service: Arc<Service>,
    registry: Mutex<Registry>,
    views: Mutex<HashMap<Snowflake, GuildPermissions>>,
}

impl Gateway {
    /// Creates the gateway and starts its fan-out task.
    pub fn start(service: Arc<Service>) -> Arc<Gateway> {
        let gateway = Arc::new(Gateway {
            service,
            registry: Mutex::new(Registry::default()),
            views: Mutex::new(HashMap::new()),
        });
        let fanout = Arc::clone(&gateway);
        tokio::spawn(async move { fanout.fanout().await });
        gateway
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

    /// Tells the bus which topics this node now needs or no longer needs; a guild nobody here
    /// follows any more also loses its permission view.
    fn apply_topics(&self, watch: Vec<Topic>, unwatch: Vec<Topic>) {
        let bus = self.service.bus();
        watch.into_iter().for_each(|topic| bus.watch(topic));
        for topic in unwatch {
            if let Topic::Guild(guild_id) = topic {
                self.views().remove(&guild_id);
            }
            bus.unwatch(topic);
        }
    }

    async fn fanout(self: Arc<Self>) {
        let mut events = self.service.bus().subscribe();
        loop {
            match events.recv().await {
                Ok(envelope) => self.deliver(&envelope).await,
                Err(RecvError::Lagged(missed)) => {
                    // The views may be stale and sessions may have missed events; resuming
                    // them is the gateway issue's job (op 7). Rebuild views from the store.
                    tracing::warn!(missed, "gateway fan-out lagged behind the bus");
                    self.views().clear();
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Delivers one event to the local sessions that may receive it.
    async fn deliver(&self, envelope: &Envelope) {
        let guild_id = match envelope.topic {
            Topic::Guild(guild_id) => Some(guild_id),
            Topic::User(_) => None,
        };
        self.follow_joined_guild(envelope);
        let filtered = guild_id.filter(|_| envelope.audience != Audience::Everyone);
        if let Some(guild_id) = filtered {
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

        let recipients = self.registry().recipients(envelope.topic);
        let required = required_intent(&envelope.event);
        let mut recipients: Vec<Recipient> = recipients
            .into_iter()
            .filter(|r| {
                required.is_none_or(|bits| r.intents & bits != 0)
                    || (envelope.event == "GUILD_MEMBER_UPDATE"
                        && envelope.subject_user == Some(r.user_id))
            })
            .collect();
        if let Some(guild_id) = filtered {
            let mut views = self.views();
            match (views.get_mut(&guild_id), envelope.audience) {
                (Some(view), Audience::Channel(channel_id)) => {
                    view.retain_viewers(channel_id, &mut recipients, |r| r.user_id)
                }
                (Some(view), Audience::AnyGuildPermission(bits)) => {
                    let wanted = Permissions::from_bits_truncate(bits);
                    recipients.retain(|r| {
                        view.guild_permissions(r.user_id)
                            .is_some_and(|p| p.intersects(wanted))
                    })
                }
                (_, Audience::Everyone) => {}
                (None, _) => recipients.clear(),
            }
        }
        self.send(envelope, &recipients);

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
    fn follow_joined_guild(&self, envelope: &Envelope) {
        if let (Topic::User(user_id), "GUILD_CREATE") = (envelope.topic, envelope.event.as_str()) {
            if let Some(guild_id) = guild_id_of(&envelope.data) {
                let watch = self.registry().join_guild(user_id, guild_id);
                self.apply_topics(watch, Vec::new());
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
        self.apply_topics(Vec::new(), unwatch);
    }

    /// Hands the event to each recipient, rendering the content-less variant at most once.
    fn send(&self, envelope: &Envelope, recipients: &[Recipient]) {
        let event: Arc<str> = Arc::from(envelope.event.as_str());
        let full: Arc<str> = Arc::from(envelope.data.as_str());
        let mut without_content: Option<Arc<str>> = None;
        let mut slow = Vec::new();
        for recipient in recipients {
            let data = if needs_content_stripped(&envelope.event, recipient, &full) {
                without_content
                    .get_or_insert_with(|| strip_message_content(&full))
                    .clone()
            } else {
                full.clone()
            };
            let outbound = Outbound::Dispatch {
                event: event.clone(),
                data,
            };
            if recipient.sender.try_send(outbound).is_err() {
                slow.push(recipient.session_id);
            }
        }
        for session_id in slow {
            // A session that cannot keep up is dropped (its socket closes with a reconnectable
            // code) instead of letting its queue grow without bound.
            tracing::warn!(session_id, "session queue full; disconnecting it");
            let unwatch = self.registry().remove(session_id);
            self.apply_topics(Vec::new(), unwatch);
        }
    }
}

/// Bots without MESSAGE_CONTENT get messages without content, except their own and those
/// that mention them.
fn needs_content_stripped(event: &str, recipient: &Recipient, data: &str) -> bool {
    if !recipient.bot
        || recipient.intents & intents::MESSAGE_CONTENT != 0
        || !matches!(event, "MESSAGE_CREATE" | "MESSAGE_UPDATE")
    {
        return false;
    }
    let Ok(message) = serde_json::from_str::<Value>(data) else {
        return false;
    };
    let me = recipient.user_id.to_string();
    let authored = message["author"]["id"].as_str() == Some(me.as_str());
    let mentioned = message["mentions"]
        .as_array()
        .is_some_and(|users| users.iter().any(|u| u["id"].as_str() == Some(me.as_str())));
    !(authored || mentioned)
}

fn strip_message_content(data: &str) -> Arc<str> {
    let Ok(mut message) = serde_json::from_str::<Value>(data) else {
        return Arc::from(data);
    };
    message["content"] = Value::String(String::new());
    for field in ["embeds", "attachments", "components"] {
        message[field] = Value::Array(Vec::new());
    }
    if let Some(object) = message.as_object_mut() {
        object.remove("poll");
    }
    Arc::from(message.to_string())
}

fn guild_id_of(data: &str) -> Option<Snowflake> {
    #[derive(serde::Deserialize)]
    struct IdOnly {
        id: Snowflake,
    }
    serde_json::from_str::<IdOnly>(data).ok().map(|g| g.id)
}
