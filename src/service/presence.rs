//! Ephemeral state a session announces: presence (op 3) and voice state (op 4). Nothing is
//! persisted; the events are published to the user's guilds for the sessions that asked for
//! them (GUILD_PRESENCES, GUILD_VOICE_STATES).

use serde::Deserialize;
use serde_json::{json, Value};

use super::{Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::ApiError;
use crate::model::{ChannelType, Snowflake};
use crate::permissions::Permissions;

/// Status strings Discord accepts in op 3.
const STATUSES: [&str; 5] = ["online", "dnd", "idle", "invisible", "offline"];

/// Op 3 / IDENTIFY `presence`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PresenceUpdate {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub activities: Option<Vec<Value>>,
    #[serde(default)]
    pub afk: Option<bool>,
}

/// Op 4.
#[derive(Debug, Clone, Deserialize)]
pub struct VoiceStateUpdate {
    pub guild_id: Snowflake,
    #[serde(default)]
    pub channel_id: Option<Snowflake>,
    #[serde(default)]
    pub self_mute: bool,
    #[serde(default)]
    pub self_deaf: bool,
}

impl Service {
    /// Publishes PRESENCE_UPDATE to every guild of the caller. `invisible` is shown to others
    /// as `offline`, as on Discord.
    pub async fn update_presence(
        &self,
        caller: &Caller,
        update: PresenceUpdate,
    ) -> Result<(), ApiError> {
        let status = update
            .status
            .filter(|s| STATUSES.contains(&s.as_str()))
            .unwrap_or_else(|| "online".into());
        let shown = if status == "invisible" {
            "offline".to_owned()
        } else {
            status
        };
        let activities = update.activities.unwrap_or_default();
        for guild_id in self.store.guild_ids_of_user(caller.id()).await? {
            self.publish(
                Topic::Guild(guild_id),
                "PRESENCE_UPDATE",
                &json!({
                    "user": { "id": caller.id() },
                    "guild_id": guild_id,
                    "status": shown,
                    "activities": activities,
                    "client_status": { "desktop": shown },
                }),
                Audience::Everyone,
                Some(caller.id()),
            )?;
        }
        Ok(())
    }

    /// Joins, moves or leaves (`channel_id: null`) a voice channel: VOICE_STATE_UPDATE to the
    /// guild. The channel must be a voice channel the caller can CONNECT to; there is no media
    /// server yet, so this is signalling only.
    pub async fn update_voice_state(
        &self,
        caller: &Caller,
        session_id: &str,
        update: VoiceStateUpdate,
    ) -> Result<(), ApiError> {
        if let Some(channel_id) = update.channel_id {
            let access = self
                .require_channel(caller, channel_id, Permissions::CONNECT)
                .await?;
            let voice = matches!(
                access.channel.kind,
                ChannelType::GuildVoice | ChannelType::GuildStageVoice
            );
            if !voice || access.channel.guild_id != Some(update.guild_id) {
                return Err(ApiError::new(
                    400,
                    50024,
                    "Cannot execute action on this channel type",
                ));
            }
        }
        let access = self.guild_access(caller, update.guild_id).await?;
        let mut member = serde_json::to_value(&access.member).map_err(|_| ApiError::internal())?;
        member["user"] = json!(caller.user.user);
        self.publish(
            Topic::Guild(update.guild_id),
            "VOICE_STATE_UPDATE",
            &json!({
                "guild_id": update.guild_id,
                "channel_id": update.channel_id,
                "user_id": caller.id(),
                "member": member,
                "session_id": session_id,
                "deaf": access.member.deaf,
                "mute": access.member.mute,
                "self_deaf": update.self_deaf,
                "self_mute": update.self_mute,
                "self_video": false,
                "suppress": false,
                "request_to_speak_timestamp": null,
            }),
            Audience::Everyone,
            Some(caller.id()),
        )
    }
}
