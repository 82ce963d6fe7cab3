//! Guild bans: listing, reading, banning (which also removes the member) and unbanning.

use serde_json::json;

use super::audit_log::Audit;
use super::{Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Ban, Snowflake};
use crate::permissions::Permissions;

/// Longest message history a ban may delete (seven days).
const MAX_DELETE_MESSAGE_SECONDS: u64 = 604_800;

impl Service {
    /// `GET /guilds/{id}/bans`: BAN_MEMBERS.
    pub async fn guild_bans(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        after: Snowflake,
        before: Option<Snowflake>,
        limit: u32,
    ) -> Result<Vec<Ban>, ApiError> {
        self.require_guild(caller, guild_id, Permissions::BAN_MEMBERS)
            .await?;
        let before = before.unwrap_or(Snowflake(i64::MAX as u64));
        Ok(self.store.bans(guild_id, after, before, limit).await?)
    }

    /// `GET /guilds/{id}/bans/{uid}`: BAN_MEMBERS; 10026 when not banned.
    pub async fn guild_ban(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> Result<Ban, ApiError> {
        self.require_guild(caller, guild_id, Permissions::BAN_MEMBERS)
            .await?;
        self.store
            .ban(guild_id, user_id)
            .await?
            .ok_or_else(unknown_ban)
    }

    /// `PUT /guilds/{id}/bans/{uid}`: BAN_MEMBERS, and outranking the user if a member.
    pub async fn ban_user(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
        delete_message_seconds: Option<u64>,
    ) -> Result<(), ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::BAN_MEMBERS)
            .await?;
        if delete_message_seconds.is_some_and(|s| s > MAX_DELETE_MESSAGE_SECONDS) {
            let mut form = FormErrors::default();
            form.add(
                &["delete_message_seconds"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 604800.",
            );
            form.finish()?;
        }
        let user = self.user(user_id).await?;
        let member = self.store.member(guild_id, user_id).await?;
        if let Some(member) = &member {
            if !access.outranks_member(member) {
                return Err(ApiError::missing_permissions());
            }
        } else if user_id == access.guild.owner_id {
            return Err(ApiError::missing_permissions());
        }
        self.store
            .ban_member(guild_id, user_id, reason.clone())
            .await?;
        let audit = Audit::new(action::MEMBER_BAN_ADD, Some(user_id), reason);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.forget_guild_commands_of(guild_id, user_id).await?;
        if member.is_some() {
            self.announce_leave(guild_id, user.clone())?;
        }
        if let Some(seconds) = delete_message_seconds.filter(|s| *s > 0) {
            let now_ms = chrono::Utc::now().timestamp_millis() as u64;
            let since = Snowflake::from_timestamp_ms(now_ms.saturating_sub(seconds * 1000));
            for (channel_id, ids) in self
                .store
                .delete_recent_messages(guild_id, user_id, since)
                .await?
            {
                self.forget_message_blobs(channel_id, ids.clone()).await;
                self.publish(
                    Topic::Guild(guild_id),
                    "MESSAGE_DELETE_BULK",
                    &json!({ "ids": ids, "channel_id": channel_id, "guild_id": guild_id }),
                    Audience::Channel(channel_id),
                    None,
                )?;
            }
        }
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_BAN_ADD",
            &json!({ "guild_id": guild_id, "user": user }),
            ban_watchers(),
            None,
        )
    }

    /// `DELETE /guilds/{id}/bans/{uid}`: BAN_MEMBERS; 10026 when not banned.
    pub async fn unban_user(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        self.require_guild(caller, guild_id, Permissions::BAN_MEMBERS)
            .await?;
        let ban = self
            .store
            .ban(guild_id, user_id)
            .await?
            .ok_or_else(unknown_ban)?;
        if self.store.remove_ban(guild_id, user_id).await? {
            let audit = Audit::new(action::MEMBER_BAN_REMOVE, Some(user_id), reason);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_BAN_REMOVE",
            &json!({ "guild_id": guild_id, "user": ban.user }),
            ban_watchers(),
            None,
        )
    }
}

/// Ban events reach only members who may see bans (BAN_MEMBERS or VIEW_AUDIT_LOG).
fn ban_watchers() -> Audience {
    Audience::AnyGuildPermission((Permissions::BAN_MEMBERS | Permissions::VIEW_AUDIT_LOG).bits())
}

fn unknown_ban() -> ApiError {
    ApiError::new(404, 10026, "Unknown Ban")
}
