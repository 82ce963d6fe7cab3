//! The gateway node: WebSocket sessions, and the fan-out that takes each bus event once and
//! hands it to the local sessions allowed to see it (intents, VIEW_CHANNEL, MESSAGE_CONTENT).

mod protocol;
mod registry;
mod session;

use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

pub use protocol::ConnectParams;

use crate::bus::{Envelope, Topic};
use crate::model::Snowflake;
use crate::service::Service;
use protocol::{intents, required_intent};
use registry::{Outbound, Recipient, Registry};

/// Heartbeat interval announced in HELLO (Discord's current value).
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// One node's gateway: its sessions and its single bus subscription.
pub struct Gateway {
    service: Arc<Service>,
    registry: Mutex<Registry>,
}

impl Gateway {
    /// Creates the gateway and starts its fan-out task.
    pub fn start(service: Arc<Service>) -> Arc<Gateway> {
        let gateway = Arc::new(Gateway {
            service,
            registry: Mutex::new(Registry::default()),
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

    /// Tells the bus which topics this node now needs or no longer needs.
    fn apply_topics(&self, watch: Vec<Topic>, unwatch: Vec<Topic>) {
        let bus = self.service.bus();
        watch.into_iter().for_each(|topic| bus.watch(topic));
        unwatch.into_iter().for_each(|topic| bus.unwatch(topic));
    }

    async fn fanout(self: Arc<Self>) {
        let mut events = self.service.bus().subscribe();
        loop {
            match events.recv().await {
                Ok(envelope) => self.deliver(&envelope).await,
                Err(RecvError::Lagged(missed)) => {
                    // Sessions may have missed events; resuming them is the gateway issue's
                    // job (op 7). Until then, say so loudly.
                    tracing::warn!(missed, "gateway fan-out lagged behind the bus");
                }
                Err(RecvError::Closed) => break,
            }
        }
    }

    /// Delivers one event to the local sessions that may receive it.
    async fn deliver(&self, envelope: &Envelope) {
        let joined_guild = match envelope.topic {
            Topic::User(user_id) if envelope.event == "GUILD_CREATE" => {
                guild_id_of(&envelope.data).map(|guild_id| (user_id, guild_id))
            }
            _ => None,
        };
        let recipients = {
            let mut registry = self.registry();
            if let Some((user_id, guild_id)) = joined_guild {
                let watch = registry.join_guild(user_id, guild_id);
                drop(registry);
                self.apply_topics(watch, Vec::new());
                registry = self.registry();
            }
            registry.recipients(envelope.topic)
        };
        let required = required_intent(&envelope.event);
        let mut recipients: Vec<Recipient> = recipients
            .into_iter()
            .filter(|r| {
                required.is_none_or(|bits| r.intents & bits != 0)
                    || (envelope.event == "GUILD_MEMBER_UPDATE"
                        && envelope.subject_user == Some(r.user_id))
            })
            .collect();
        if recipients.is_empty() {
            return;
        }
        if let (Topic::Guild(guild_id), Some(channel_id)) = (envelope.topic, envelope.channel_id) {
            let mut candidates: Vec<Snowflake> = recipients.iter().map(|r| r.user_id).collect();
            candidates.sort_unstable();
            candidates.dedup();
            match self
                .service
                .channel_viewers(guild_id, channel_id, &candidates)
                .await
            {
                Ok(viewers) => recipients.retain(|r| viewers.contains(&r.user_id)),
                Err(err) => {
                    tracing::error!(%err, event = %envelope.event, "visibility check failed; event not delivered");
                    return;
                }
            }
        }

        let event: Arc<str> = Arc::from(envelope.event.as_str());
        let full: Arc<str> = Arc::from(envelope.data.as_str());
        let mut without_content: Option<Arc<str>> = None;
        let mut slow = Vec::new();
        for recipient in &recipients {
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
