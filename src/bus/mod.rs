//! Event fan-out between the service (which publishes after every write) and the gateway nodes
//! (which deliver). The in-process bus is the default; a Redis bus implements the same trait so
//! several nodes see the same events.

mod local;
mod redis;

use std::sync::Arc;

use async_trait::async_trait;

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

pub use self::redis::RedisBus;
pub use local::LocalBus;

use crate::model::Snowflake;

/// Where an event is published; a node subscribes to the topics its sessions care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    /// Everything that happens in a guild.
    Guild(Snowflake),
    /// Events addressed to one user's sessions (e.g. a guild they just joined).
    User(Snowflake),
}

/// One event as it travels between nodes: the dispatch name, its `d` rendered once as JSON text,
/// and what the gateway needs to decide who may receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub topic: Topic,
    /// The dispatch name (`t`), e.g. `MESSAGE_CREATE`.
    pub event: String,
    /// The dispatch `d`, serialised once.
    pub data: String,
    /// Who in the topic may receive it.
    pub audience: Audience,
    /// The user the event is about, for events that a session receives about itself even
    /// without the intent (GUILD_MEMBER_UPDATE for the current user).
    pub subject_user: Option<Snowflake>,
}

/// Which sessions of a topic may receive an event, decided by the gateway with the guild's
/// permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    /// Every session following the topic (subject to intents).
    Everyone,
    /// Members who can VIEW_CHANNEL in this channel.
    Channel(Snowflake),
    /// Members holding at least one of these guild-wide permission bits.
    AnyGuildPermission(u64),
    /// The sessions of the user whose topic this is, as a user of a DM channel: the DM intents
    /// apply instead of the guild ones, and bots see message content without MESSAGE_CONTENT.
    DirectMessage,
}

/// What a node's subscription yields.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// An event on a watched topic.
    Event(Arc<Envelope>),
    /// Events may have been lost (e.g. the connection to Redis dropped): the node must
    /// rebuild what it derives from events and ask its sessions to reconnect and resume.
    Gap,
}

/// Publish/subscribe between service and gateway.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Sends the event to every node with sessions on its topic. Fire-and-forget: the write it
    /// describes is already durable.
    fn publish(&self, envelope: Envelope);
    /// The node's single stream of events for the topics it watches.
    fn subscribe(&self) -> broadcast::Receiver<Delivery>;
    /// Declares that local sessions need these topics (reference counted by the caller);
    /// returns once events on them reach this node.
    async fn watch(&self, topics: Vec<Topic>);
    /// No local session needs these topics any more.
    fn unwatch(&self, topics: Vec<Topic>);
}
