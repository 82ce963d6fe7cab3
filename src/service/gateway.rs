//! What gateway sessions ask of the core: who is identifying, the READY and GUILD_CREATE
//! payloads, who may see a channel event, and member chunks.

use serde_json::{json, Value};

use super::visibility::GuildPermissions;
use super::{Caller, Service};
use crate::error::ApiError;
use crate::model::Snowflake;

/// Gateway API versions this server speaks.
pub const SUPPORTED_VERSIONS: [u8; 2] = [9, 10];

/// READY plus the guilds the session starts in.
pub struct ReadyState {
    pub ready: Value,
    pub guild_ids: Vec<Snowflake>,
}

impl Service {
    /// `GET /gateway`.
    pub fn gateway_info(&self) -> Value {
        json!({ "url": self.urls.gateway })
    }

    /// `GET /gateway/bot`: one shard, and Discord's default session start limits.
    pub fn gateway_bot_info(&self) -> Value {
        json!({
            "url": self.urls.gateway,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 14_400_000,
                "max_concurrency": 1
            }
        })
    }

    /// The READY `d` for a new session.
    pub async fn ready_state(
        &self,
        caller: &Caller,
        session_id: &str,
        shard: Option<[u32; 2]>,
    ) -> Result<ReadyState, ApiError> {
        let guild_ids = self.store.guild_ids_of_user(caller.id()).await?;
        let guilds: Vec<Value> = guild_ids
            .iter()
            .map(|id| json!({ "id": id, "unavailable": true }))
            .collect();
        let mut ready = json!({
            "v": 10,
            "user": caller.user,
            "guilds": guilds,
            "session_id": session_id,
            "session_type": "normal",
            "resume_gateway_url": self.urls.gateway,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
        });
        if caller.is_bot() {
            let flags = self
                .store
                .application(caller.id())
                .await?
                .map_or(0, |app| app.flags);
            ready["application"] = json!({ "id": caller.id(), "flags": flags });
        }
        if let Some(shard) = shard {
            ready["shard"] = json!(shard);
        }
        Ok(ReadyState { ready, guild_ids })
    }

    /// GUILD_CREATE `d` for one of the caller's guilds.
    pub async fn guild_create_for(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Value, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        self.guild_create_payload(guild_id, &access.member).await
    }

    /// A consistent read of what delivery filtering needs to know about a guild, or `None`
    /// when the guild is gone.
    pub async fn permission_view(
        &self,
        guild_id: Snowflake,
    ) -> Result<Option<GuildPermissions>, ApiError> {
        let Some(guild) = self.store.guild(guild_id).await? else {
            return Ok(None);
        };
        let roles = self.store.roles_of_guild(guild_id).await?;
        let channels = self.store.channels_of_guild(guild_id).await?;
        let members = self.store.member_records_of_guild(guild_id).await?;
        Ok(Some(GuildPermissions::new(
            guild_id,
            guild.owner_id,
            &roles,
            &channels,
            &members,
        )))
    }

    /// Answers op 8 with one GUILD_MEMBERS_CHUNK `d` (members the caller can list).
    pub async fn member_chunk(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        query: &str,
        limit: u32,
        user_ids: &[Snowflake],
        nonce: Option<&Value>,
    ) -> Result<Value, ApiError> {
        self.guild_access(caller, guild_id).await?;
        let all = self
            .store
            .members_of_guild(guild_id, Snowflake(0), u32::MAX)
            .await?;
        let cap = if limit == 0 {
            usize::MAX
        } else {
            limit as usize
        };
        let members: Vec<_> = all
            .into_iter()
            .filter(|member| {
                let name = member.user.as_ref().map_or("", |u| u.username.as_str());
                if user_ids.is_empty() {
                    name.to_lowercase().starts_with(&query.to_lowercase())
                } else {
                    user_ids.contains(&member.user_id)
                }
            })
            .take(cap)
            .collect();
        let mut chunk = json!({
            "guild_id": guild_id,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        });
        if let Some(nonce) = nonce {
            chunk["nonce"] = nonce.clone();
        }
        Ok(chunk)
    }
}
