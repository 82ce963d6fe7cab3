//! Guilds: creation (with @everyone and a `general` channel), reading, and the GUILD_CREATE
//! payload a session receives for each of its guilds.

use serde_json::{json, Value};

use super::{check_length, Caller, Service};
use crate::bus::Topic;
use crate::error::{ApiError, FormErrors};
use crate::model::{Channel, ChannelType, Guild, Member, Role, Snowflake};
use crate::store::NewGuild;

/// Above this many members a guild is `large` (Discord's default `large_threshold`).
const LARGE_THRESHOLD: u64 = 250;

impl Service {
    /// `POST /guilds`: the caller owns the new guild.
    pub async fn create_guild(&self, caller: &Caller, name: String) -> Result<Value, ApiError> {
        let mut form = FormErrors::default();
        check_length(&mut form, "name", name.trim(), 2, 100);
        form.finish()?;
        let guild_id = self.next_id();
        let mut guild = Guild::new(guild_id, name.trim().to_owned(), caller.id());
        let general = Channel {
            id: self.next_id(),
            kind: ChannelType::GuildText,
            guild_id,
            name: "general".into(),
            position: 0,
            parent_id: None,
            topic: None,
            nsfw: false,
            permission_overwrites: Vec::new(),
            last_message_id: None,
            rate_limit_per_user: 0,
            flags: 0,
            bitrate: None,
            user_limit: None,
        };
        guild.system_channel_id = Some(general.id);
        let owner = Member::new(guild_id, caller.user.user.clone(), Vec::new());
        self.store
            .create_guild(NewGuild {
                guild,
                everyone: Role::everyone(guild_id),
                channels: vec![general],
                owner: owner.clone(),
            })
            .await?;
        self.publish(
            Topic::User(caller.id()),
            "GUILD_CREATE",
            &self.guild_create_payload(guild_id, &owner).await?,
            None,
            None,
        )?;
        let access = self.guild_access(caller, guild_id).await?;
        Ok(rest_guild(&access.guild, &access.roles))
    }

    /// `GET /guilds/{id}` for a member.
    pub async fn guild(&self, caller: &Caller, guild_id: Snowflake) -> Result<Value, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        Ok(rest_guild(&access.guild, &access.roles))
    }

    /// The full GUILD_CREATE `d` for `member`'s sessions: the guild with roles, channels, and
    /// (as Discord does without the presences intent) only the member itself in `members`.
    pub async fn guild_create_payload(
        &self,
        guild_id: Snowflake,
        member: &Member,
    ) -> Result<Value, ApiError> {
        let guild = self
            .store
            .guild(guild_id)
            .await?
            .ok_or_else(ApiError::unknown_guild)?;
        let roles = self.store.roles_of_guild(guild_id).await?;
        let channels = self.store.channels_of_guild(guild_id).await?;
        let member_count = self.store.member_count(guild_id).await?;
        let mut payload = rest_guild(&guild, &roles);
        let extra = json!({
            "joined_at": member.joined_at,
            "large": member_count > LARGE_THRESHOLD,
            "unavailable": false,
            "member_count": member_count,
            "members": [member],
            "channels": channels,
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "lazy": true,
        });
        merge(&mut payload, extra);
        Ok(payload)
    }

    /// After a member was added: GUILD_MEMBER_ADD to the guild, GUILD_CREATE to the newcomer.
    pub(super) async fn announce_join(
        &self,
        guild_id: Snowflake,
        member: &Member,
    ) -> Result<(), ApiError> {
        let mut added = serde_json::to_value(member).map_err(|_| ApiError::internal())?;
        merge(&mut added, json!({ "guild_id": guild_id }));
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_MEMBER_ADD",
            &added,
            None,
            Some(member.user_id),
        )?;
        self.publish(
            Topic::User(member.user_id),
            "GUILD_CREATE",
            &self.guild_create_payload(guild_id, member).await?,
            None,
            None,
        )
    }
}

/// The guild as REST returns it: the stored guild plus roles, emojis and stickers.
fn rest_guild(guild: &Guild, roles: &[Role]) -> Value {
    let mut value = serde_json::to_value(guild).unwrap_or_else(|_| json!({}));
    merge(
        &mut value,
        json!({ "roles": roles, "emojis": [], "stickers": [] }),
    );
    value
}

/// Copies the keys of `extra` (an object) into `target` (an object).
pub(super) fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}
