//! One function per operation: authorize → persist → publish. The HTTP and gateway layers call
//! only this module; it is the only writer of the store and the only publisher on the bus.

mod access;
mod applications;
mod audit_log;
mod auth;
mod bans;
mod channels;
mod command_permissions;
mod commands;
mod dms;
mod emojis;
pub mod files;
pub mod gateway;
mod guilds;
mod interactions;
mod invites;
mod members;
mod messages;
mod presence;
mod reactions;
mod roles;
mod users;
pub mod visibility;
mod webhooks;

use std::sync::Arc;

use serde::Serialize;

/// Which audit log entries to read (filters and an id window), as the store takes them.
pub use crate::store::AuditQuery;
pub use access::{ChannelAccess, GuildAccess};
pub use applications::{ApplicationPatch, AuthorizeBot};
pub use audit_log::AuditLogPage;
pub use auth::{Caller, Credentials, Registration};
pub use channels::{ChannelPatch, NewChannel, OverwritePut};
pub use command_permissions::CommandPermissionsPut;
pub use commands::{CommandInput, CommandScope};
pub use dms::NewDm;
pub use emojis::{EmojiPatch, NewEmoji};
pub use guilds::{guild_create_tail, open_snapshot, GuildPatch};
pub use interactions::{
    FollowupQuery, InteractionCallback, InteractionInvoke, WebhookMessageEdit,
    TOKEN_PREFIX as INTERACTION_TOKEN_PREFIX,
};
pub use invites::NewInvite;
pub use members::MemberPatch;
pub use messages::{BulkDelete, MessageEdit, MessageQuery, NewMessage, PinsQuery};
pub use presence::{PresenceUpdate, VoiceStateUpdate};
pub use reactions::{EmojiRef, ReactionQuery};
pub use roles::{RoleFields, RolePosition};
pub use users::UserPatch;
pub use webhooks::{
    ExecuteQuery, ExecuteWebhook, NewWebhook, WebhookMessageQuery, WebhookPatch,
    MAX_WEBHOOKS_PER_CHANNEL,
};

use crate::bus::{Audience, Bus, Envelope, Topic};
use crate::error::{ApiError, StoreError};
use crate::model::{Snowflake, SnowflakeGenerator};
use crate::store::Store;

/// Where clients reach this node; used in `/gateway` answers and `resume_gateway_url`.
#[derive(Debug, Clone)]
pub struct PublicUrls {
    /// e.g. `http://127.0.0.1:8080`
    pub http: String,
    /// e.g. `ws://127.0.0.1:8080`
    pub gateway: String,
}

/// The application core shared by every request and session.
pub struct Service {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    ids: SnowflakeGenerator,
    /// Signs user JWTs and bot tokens; generated on first start and kept in the store.
    secret: Vec<u8>,
    pub urls: PublicUrls,
    identify_budget: gateway::IdentifyBudget,
    /// Largest file one upload may carry (`--max-upload-bytes`).
    max_upload_bytes: u64,
    /// How long an interaction token takes follow-ups (Discord: 15 minutes).
    pub interaction_token_ttl_ms: u64,
}

impl Service {
    /// Loads (or creates on first start) the signing secret.
    pub async fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        node_id: u8,
        urls: PublicUrls,
    ) -> Result<Self, StoreError> {
        use rand::RngCore;
        let mut fresh = vec![0u8; 64];
        rand::thread_rng().fill_bytes(&mut fresh);
        let secret = store.setting_init("signing_secret", fresh).await?;
        Ok(Service {
            store,
            bus,
            ids: SnowflakeGenerator::new(node_id),
            secret,
            urls,
            identify_budget: gateway::IdentifyBudget::default(),
            max_upload_bytes: files::DEFAULT_MAX_UPLOAD_BYTES,
            interaction_token_ttl_ms: interactions::DEFAULT_TOKEN_TTL_MS,
        })
    }

    /// Sets the largest file one upload may carry (the default is Discord's 10 MiB).
    pub fn with_max_upload_bytes(mut self, bytes: u64) -> Self {
        self.max_upload_bytes = bytes;
        self
    }

    /// The largest file one upload may carry.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_bytes
    }

    pub fn bus(&self) -> &Arc<dyn Bus> {
        &self.bus
    }

    fn next_id(&self) -> Snowflake {
        self.ids.next()
    }

    /// Publishes an event after the write it describes is durable.
    fn publish<T: Serialize>(
        &self,
        topic: Topic,
        event: &str,
        data: &T,
        audience: Audience,
        subject_user: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let data = serde_json::to_string(data).map_err(|err| {
            tracing::error!(%err, event, "event did not serialise");
            ApiError::internal()
        })?;
        self.bus.publish(Envelope {
            topic,
            event: event.to_owned(),
            data,
            audience,
            subject_user,
        });
        Ok(())
    }
}

/// Distinguishes an absent field (`None`: no change) from an explicit `null` (`Some(None)`).
pub mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Checks a string's length in characters (Discord counts characters, not bytes).
fn check_length(
    form: &mut crate::error::FormErrors,
    field: &str,
    value: &str,
    min: usize,
    max: usize,
) {
    let len = value.chars().count();
    if len < min || len > max {
        form.add(
            &[field],
            "BASE_TYPE_BAD_LENGTH",
            format!("Must be between {min} and {max} in length."),
        );
    }
}
