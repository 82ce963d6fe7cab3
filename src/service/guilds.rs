//! Guilds: creation (with @everyone and a `general` channel), reading, and the GUILD_CREATE
//! payload a session receives for each of its guilds.

use serde::Deserialize;
use serde_json::{json, Value};

use super::audit_log::{self, Audit};
use super::{check_length, Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Channel, ChannelType, Guild, Member, Role, Snowflake};
use crate::permissions::Permissions;
use crate::store::NewGuild;

/// `PATCH /guilds/{id}` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct GuildPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub description: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub icon: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub system_channel_id: Option<Option<Snowflake>>,
    #[serde(default)]
    pub afk_timeout: Option<u32>,
    #[serde(default)]
    pub verification_level: Option<u8>,
    #[serde(default)]
    pub default_message_notifications: Option<u8>,
    #[serde(default)]
    pub explicit_content_filter: Option<u8>,
    #[serde(default)]
    pub preferred_locale: Option<String>,
    #[serde(default)]
    pub owner_id: Option<Snowflake>,
}

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
        let general = Channel::new(
            self.next_id(),
            ChannelType::GuildText,
            guild_id,
            "general".into(),
        );
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
            Audience::Everyone,
            None,
        )?;
        let access = self.guild_access(caller, guild_id).await?;
        let emojis = self.store.emojis_of_guild(guild_id).await?;
        Ok(rest_guild(&access.guild, &access.roles, &emojis))
    }

    /// `GET /guilds/{id}` for a member.
    pub async fn guild(&self, caller: &Caller, guild_id: Snowflake) -> Result<Value, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let emojis = self.store.emojis_of_guild(guild_id).await?;
        Ok(rest_guild(&access.guild, &access.roles, &emojis))
    }

    /// `PATCH /guilds/{id}`: MANAGE_GUILD; only the owner can hand ownership over.
    pub async fn update_guild(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        patch: GuildPatch,
        reason: Option<String>,
    ) -> Result<Value, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_GUILD)
            .await?;
        let mut guild = access.guild.clone();
        let mut form = FormErrors::default();
        if let Some(name) = &patch.name {
            check_length(&mut form, "name", name.trim(), 2, 100);
        }
        if let Some(Some(description)) = &patch.description {
            check_length(&mut form, "description", description, 0, 300);
        }
        if patch
            .afk_timeout
            .is_some_and(|t| ![60, 300, 900, 1800, 3600].contains(&t))
        {
            form.add(
                &["afk_timeout"],
                "BASE_TYPE_CHOICES",
                "Value must be one of {60, 300, 900, 1800, 3600}.",
            );
        }
        for (field, value, max) in [
            ("verification_level", patch.verification_level, 4),
            (
                "default_message_notifications",
                patch.default_message_notifications,
                1,
            ),
            ("explicit_content_filter", patch.explicit_content_filter, 2),
        ] {
            if value.is_some_and(|v| v > max) {
                form.add(
                    &[field],
                    "BASE_TYPE_CHOICES",
                    format!("Value must be between 0 and {max}."),
                );
            }
        }
        if let Some(Some(channel_id)) = patch.system_channel_id {
            let in_guild = self
                .store
                .channel(channel_id)
                .await?
                .is_some_and(|c| c.guild_id == Some(guild_id));
            if !in_guild {
                form.add(
                    &["system_channel_id"],
                    "BASE_TYPE_CHOICES",
                    "Unknown channel",
                );
            }
        }
        if let Some(owner_id) = patch.owner_id {
            if owner_id != guild.owner_id {
                if !access.is_owner() {
                    return Err(ApiError::missing_permissions());
                }
                if self.store.member(guild_id, owner_id).await?.is_none() {
                    form.add(
                        &["owner_id"],
                        "BASE_TYPE_CHOICES",
                        "The new owner must be a member.",
                    );
                }
            }
        }
        form.finish()?;
        if let Some(name) = patch.name {
            guild.name = name.trim().to_owned();
        }
        if let Some(description) = patch.description {
            guild.description = description;
        }
        if let Some(icon) = patch.icon {
            guild.icon = icon;
        }
        if let Some(channel) = patch.system_channel_id {
            guild.system_channel_id = channel;
        }
        if let Some(timeout) = patch.afk_timeout {
            guild.afk_timeout = timeout;
        }
        if let Some(level) = patch.verification_level {
            guild.verification_level = level;
        }
        if let Some(level) = patch.default_message_notifications {
            guild.default_message_notifications = level;
        }
        if let Some(level) = patch.explicit_content_filter {
            guild.explicit_content_filter = level;
        }
        if let Some(locale) = patch.preferred_locale {
            guild.preferred_locale = locale;
        }
        if let Some(owner_id) = patch.owner_id {
            guild.owner_id = owner_id;
        }
        self.store.update_guild(guild.clone()).await?;
        let changes = audit_log::changes(Some(&access.guild), Some(&guild), &["id"]);
        if !changes.is_empty() {
            let audit = Audit::new(action::GUILD_UPDATE, Some(guild_id), reason).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        let emojis = self.store.emojis_of_guild(guild_id).await?;
        let body = rest_guild(&guild, &access.roles, &emojis);
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_UPDATE",
            &body,
            Audience::Everyone,
            None,
        )?;
        Ok(body)
    }

    /// `DELETE /guilds/{id}`: the owner only; every member's sessions get GUILD_DELETE.
    pub async fn delete_guild(&self, caller: &Caller, guild_id: Snowflake) -> Result<(), ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        if !access.is_owner() {
            return Err(ApiError::missing_permissions());
        }
        let channels = self.store.channels_of_guild(guild_id).await?;
        self.store.delete_guild(guild_id).await?;
        self.store.delete_guild_commands(guild_id, None).await?;
        self.forget_channel_blobs(channels.iter().map(|c| c.id).collect())
            .await;
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_DELETE",
            &json!({ "id": guild_id }),
            Audience::Everyone,
            None,
        )
    }

    /// The full GUILD_CREATE `d` for `member`'s sessions: the guild with roles, channels, and
    /// (as Discord does without the presences intent) only the member itself in `members`.
    pub async fn guild_create_payload(
        &self,
        guild_id: Snowflake,
        member: &Member,
    ) -> Result<Value, ApiError> {
        let mut payload = self.guild_snapshot(guild_id).await?;
        merge(&mut payload, member_part(member, &[]));
        Ok(payload)
    }

    /// What GUILD_CREATE says about a guild apart from the member it is sent to (no
    /// `joined_at`, `members` or `presences`): the same for every member, so a gateway node
    /// renders it once and reuses it until an event says the guild changed.
    pub async fn guild_snapshot(&self, guild_id: Snowflake) -> Result<Value, ApiError> {
        let guild = self
            .store
            .guild(guild_id)
            .await?
            .ok_or_else(ApiError::unknown_guild)?;
        let roles = self.store.roles_of_guild(guild_id).await?;
        let channels = self.store.channels_of_guild(guild_id).await?;
        let member_count = self.store.member_count(guild_id).await?;
        let emojis = self.store.emojis_of_guild(guild_id).await?;
        let mut payload = rest_guild(&guild, &roles, &emojis);
        let extra = json!({
            "large": member_count > LARGE_THRESHOLD,
            "unavailable": false,
            "member_count": member_count,
            "channels": channels,
            "threads": [],
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
            Audience::Everyone,
            Some(member.user_id),
        )?;
        self.publish(
            Topic::User(member.user_id),
            "GUILD_CREATE",
            &self.guild_create_payload(guild_id, member).await?,
            Audience::Everyone,
            None,
        )
    }
}

/// The guild as REST returns it: the stored guild plus roles, emojis and stickers.
fn rest_guild(guild: &Guild, roles: &[Role], emojis: &[crate::model::Emoji]) -> Value {
    let mut value = serde_json::to_value(guild).unwrap_or_else(|_| json!({}));
    merge(
        &mut value,
        json!({ "roles": roles, "emojis": emojis, "stickers": [] }),
    );
    value
}

/// A [`Service::guild_snapshot`] rendered without its closing brace: the shared head of every
/// member's GUILD_CREATE `d`, which [`guild_create_tail`] completes.
pub fn open_snapshot(snapshot: &Value) -> String {
    let mut rendered = snapshot.to_string();
    // A snapshot always has keys, so what remains is `{"k":v,…` and the tail adds `,…}`.
    rendered.pop();
    rendered
}

/// The member's own keys of GUILD_CREATE, closing an [`open_snapshot`].
pub fn guild_create_tail(member: &Member, presences: &[Value]) -> String {
    let own = member_part(member, presences).to_string();
    format!(",{}", own.strip_prefix('{').unwrap_or(&own))
}

/// The member-specific keys of GUILD_CREATE.
fn member_part(member: &Member, presences: &[Value]) -> Value {
    json!({ "joined_at": member.joined_at, "members": [member], "presences": presences })
}

/// Copies the keys of `extra` (an object) into `target` (an object).
pub(super) fn merge(target: &mut Value, extra: Value) {
    if let (Value::Object(target), Value::Object(extra)) = (target, extra) {
        target.extend(extra);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::User;

    #[test]
    fn a_spliced_guild_create_is_the_snapshot_with_the_members_keys() {
        let snapshot = json!({ "id": "1", "channels": [{ "id": "2" }], "member_count": 3 });
        let member = Member::new(
            Snowflake(1),
            User::new(Snowflake(5), "ann".into(), false),
            vec![Snowflake(9)],
        );
        let presences = [json!({ "user": { "id": "6" }, "status": "online" })];
        let text = open_snapshot(&snapshot) + &guild_create_tail(&member, &presences);
        let mut expected = snapshot.clone();
        merge(&mut expected, member_part(&member, &presences));
        let spliced: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(spliced, expected);
        assert_eq!(spliced["members"][0]["user"]["id"], "5");
        assert_eq!(spliced["joined_at"], member.joined_at.as_str());
    }
}
