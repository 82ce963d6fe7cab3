//! Guild members: listing, reading, editing (nick, roles, timeout, voice mute/deaf), role
//! add/remove, kick and leave — each under the role hierarchy.

use serde::Deserialize;
use serde_json::json;

use super::audit_log::{self, Audit};
use super::guilds::merge;
use super::{Caller, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Member, Snowflake, User};
use crate::permissions::Permissions;

/// Longest timeout Discord allows.
const MAX_TIMEOUT_DAYS: i64 = 28;

/// `PATCH /guilds/{id}/members/{uid}` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct MemberPatch {
    #[serde(default, with = "super::double_option")]
    pub nick: Option<Option<String>>,
    #[serde(default)]
    pub roles: Option<Vec<Snowflake>>,
    #[serde(default)]
    pub mute: Option<bool>,
    #[serde(default)]
    pub deaf: Option<bool>,
    #[serde(default, with = "super::double_option")]
    pub communication_disabled_until: Option<Option<String>>,
}

impl Service {
    /// Members ordered by user id, after `after`, at most `limit` (1–1000).
    pub async fn guild_members(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        after: Snowflake,
        limit: u32,
    ) -> Result<Vec<Member>, ApiError> {
        self.guild_access(caller, guild_id).await?;
        Ok(self.store.members_of_guild(guild_id, after, limit).await?)
    }

    pub async fn guild_member(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> Result<Member, ApiError> {
        self.guild_access(caller, guild_id).await?;
        self.member_or_unknown(guild_id, user_id).await
    }

    /// `PATCH /guilds/{id}/members/{uid}`: each field needs its own permission (nick:
    /// MANAGE_NICKNAMES, roles: MANAGE_ROLES, mute/deaf: MUTE/DEAFEN_MEMBERS, timeout:
    /// MODERATE_MEMBERS) and acting on another member needs to outrank it.
    pub async fn update_member(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        patch: MemberPatch,
        reason: Option<String>,
    ) -> Result<Member, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let mut member = self.member_or_unknown(guild_id, user_id).await?;
        let before = member.clone();
        let is_self = user_id == caller.id();
        let mut form = FormErrors::default();

        if let Some(nick) = patch.nick {
            // An empty nickname resets it, as on Discord.
            if let Some(nick) = nick.as_deref().filter(|n| !n.is_empty()) {
                super::check_length(&mut form, "nick", nick, 1, 32);
            }
            let allowed = if is_self {
                access.require(Permissions::CHANGE_NICKNAME).is_ok()
                    || access.require(Permissions::MANAGE_NICKNAMES).is_ok()
            } else {
                access.require(Permissions::MANAGE_NICKNAMES).is_ok()
                    && access.outranks_member(&member)
            };
            if !allowed {
                return Err(ApiError::missing_permissions());
            }
            member.nick = nick.filter(|n| !n.is_empty());
        }
        if let Some(roles) = patch.roles {
            access.require(Permissions::MANAGE_ROLES)?;
            member.roles = checked_role_change(&access, &member.roles, roles, &mut form)?;
        }
        if let Some(mute) = patch.mute {
            access.require(Permissions::MUTE_MEMBERS)?;
            member.mute = mute;
        }
        if let Some(deaf) = patch.deaf {
            access.require(Permissions::DEAFEN_MEMBERS)?;
            member.deaf = deaf;
        }
        if let Some(until) = patch.communication_disabled_until {
            access.require(Permissions::MODERATE_MEMBERS)?;
            if !access.outranks_member(&member)
                || access.base_of(&member).contains(Permissions::ADMINISTRATOR)
            {
                return Err(ApiError::missing_permissions());
            }
            member.communication_disabled_until = match until {
                None => None,
                Some(raw) => check_timeout(&raw, &mut form),
            };
        }
        form.finish()?;
        self.store.update_member(member.clone()).await?;
        self.audit_member_change(&access, caller, &before, &member, reason)
            .await;
        self.publish_member_update(&member)?;
        Ok(member)
    }

    /// `PATCH /guilds/{id}/members/@me`: the caller's own nickname.
    pub async fn update_current_member(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        nick: Option<Option<String>>,
        reason: Option<String>,
    ) -> Result<Member, ApiError> {
        let patch = MemberPatch {
            nick,
            ..MemberPatch::default()
        };
        self.update_member(caller, guild_id, caller.id(), patch, reason)
            .await
    }

    /// `PUT`/`DELETE /guilds/{id}/members/{uid}/roles/{rid}`.
    pub async fn set_member_role(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        role_id: Snowflake,
        grant: bool,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        if access.role(role_id).is_none() || role_id == guild_id {
            return Err(ApiError::unknown_role());
        }
        let mut member = self.member_or_unknown(guild_id, user_id).await?;
        access.require(Permissions::MANAGE_ROLES)?;
        let mut wanted: Vec<Snowflake> = member
            .roles
            .iter()
            .copied()
            .filter(|r| *r != role_id)
            .collect();
        if grant {
            wanted.push(role_id);
        }
        let mut form = FormErrors::default();
        let roles = checked_role_change(&access, &member.roles, wanted, &mut form)?;
        form.finish()?;
        if roles == member.roles {
            return Ok(());
        }
        let before = member.clone();
        member.roles = roles;
        self.store.update_member(member.clone()).await?;
        self.publish_member_update(&member)?;
        self.audit_member_change(&access, caller, &before, &member, reason)
            .await;
        Ok(())
    }

    /// `DELETE /guilds/{id}/members/{uid}`: KICK_MEMBERS and outranking the member.
    pub async fn kick_member(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::KICK_MEMBERS)
            .await?;
        let member = self.member_or_unknown(guild_id, user_id).await?;
        if !access.outranks_member(&member) {
            return Err(ApiError::missing_permissions());
        }
        if self.store.remove_member(guild_id, user_id).await? {
            let audit = Audit::new(action::MEMBER_KICK, Some(user_id), reason);
            self.record_audit(guild_id, caller.id(), audit).await;
            self.forget_guild_commands_of(guild_id, user_id).await?;
            self.announce_leave(
                guild_id,
                member.user.unwrap_or_else(|| unknown_user(user_id)),
            )?;
        }
        Ok(())
    }

    /// `DELETE /users/@me/guilds/{id}`: the owner cannot leave (transfer or delete instead).
    pub async fn leave_guild(&self, caller: &Caller, guild_id: Snowflake) -> Result<(), ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        if access.is_owner() {
            return Err(ApiError::new(400, 50055, "Invalid Guild"));
        }
        if self.store.remove_member(guild_id, caller.id()).await? {
            self.forget_guild_commands_of(guild_id, caller.id()).await?;
            self.announce_leave(guild_id, caller.user.user.clone())?;
        }
        Ok(())
    }

    pub(super) async fn member_or_unknown(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> Result<Member, ApiError> {
        self.store
            .member(guild_id, user_id)
            .await?
            .ok_or_else(ApiError::unknown_member)
    }

    /// After a member left: GUILD_MEMBER_REMOVE to the guild, GUILD_DELETE to the user.
    pub(super) fn announce_leave(&self, guild_id: Snowflake, user: User) -> Result<(), ApiError> {
        let user_id = user.id;
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_MEMBER_REMOVE",
            &json!({ "guild_id": guild_id, "user": user }),
            Audience::Everyone,
            Some(user_id),
        )?;
        self.publish(
            Topic::User(user_id),
            "GUILD_DELETE",
            &json!({ "id": guild_id }),
            Audience::Everyone,
            None,
        )
    }

    /// MEMBER_UPDATE for nick, timeout, mute and deaf changes; MEMBER_ROLE_UPDATE (`$add`,
    /// `$remove`) for role changes.
    async fn audit_member_change(
        &self,
        access: &GuildAccess,
        caller: &Caller,
        before: &Member,
        after: &Member,
        reason: Option<String>,
    ) {
        const LOGGED: [&str; 4] = ["nick", "communication_disabled_until", "mute", "deaf"];
        let changes: Vec<_> = audit_log::changes(Some(before), Some(after), &[])
            .into_iter()
            .filter(|change| LOGGED.contains(&change.key.as_str()))
            .collect();
        let (guild_id, target) = (access.guild.id, Some(after.user_id));
        if !changes.is_empty() {
            let audit = Audit::new(action::MEMBER_UPDATE, target, reason.clone()).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        let named = |ids: Vec<&Snowflake>| -> Vec<(Snowflake, String)> {
            ids.into_iter()
                .map(|id| {
                    (
                        *id,
                        access.role(*id).map(|r| r.name.clone()).unwrap_or_default(),
                    )
                })
                .collect()
        };
        let added = named(
            after
                .roles
                .iter()
                .filter(|r| !before.roles.contains(r))
                .collect(),
        );
        let removed = named(
            before
                .roles
                .iter()
                .filter(|r| !after.roles.contains(r))
                .collect(),
        );
        if !added.is_empty() || !removed.is_empty() {
            let audit = Audit::new(action::MEMBER_ROLE_UPDATE, target, reason)
                .changes(audit_log::role_changes(&added, &removed));
            self.record_audit(guild_id, caller.id(), audit).await;
        }
    }

    fn publish_member_update(&self, member: &Member) -> Result<(), ApiError> {
        let mut update = serde_json::to_value(member).map_err(|_| ApiError::internal())?;
        merge(&mut update, json!({ "guild_id": member.guild_id }));
        self.publish(
            Topic::Guild(member.guild_id),
            "GUILD_MEMBER_UPDATE",
            &update,
            Audience::Everyone,
            Some(member.user_id),
        )
    }
}

/// The member's new role list, if every role added or removed exists, is not @everyone or
/// managed, and is strictly below the caller's highest role.
fn checked_role_change(
    access: &GuildAccess,
    current: &[Snowflake],
    wanted: Vec<Snowflake>,
    form: &mut FormErrors,
) -> Result<Vec<Snowflake>, ApiError> {
    let mut roles: Vec<Snowflake> = Vec::new();
    for (index, id) in wanted.iter().enumerate() {
        if access.role(*id).is_none() || *id == access.guild.id {
            form.add(
                &["roles", &index.to_string()],
                "BASE_TYPE_CHOICES",
                format!("Unknown role {id}"),
            );
        } else if !roles.contains(id) {
            roles.push(*id);
        }
    }
    let added = roles.iter().filter(|id| !current.contains(id));
    let removed = current.iter().filter(|id| !roles.contains(id));
    for id in added.chain(removed) {
        if let Some(role) = access.role(*id) {
            if role.managed || !access.outranks_role(role) {
                return Err(ApiError::missing_permissions());
            }
        }
    }
    Ok(roles)
}

/// Parses a timeout end; it must not be more than 28 days ahead. A past time clears it.
fn check_timeout(raw: &str, form: &mut FormErrors) -> Option<String> {
    let Ok(until) = chrono::DateTime::parse_from_rfc3339(raw) else {
        form.add(
            &["communication_disabled_until"],
            "DATE_TIME_TYPE_PARSE",
            "Could not parse the timestamp.",
        );
        return None;
    };
    let until = until.with_timezone(&chrono::Utc);
    let now = chrono::Utc::now();
    if until > now + chrono::Duration::days(MAX_TIMEOUT_DAYS) {
        form.add(
            &["communication_disabled_until"],
            "COMMUNICATION_DISABLED_TIMESTAMP_TOO_LARGE",
            "Timeouts can be at most 28 days.",
        );
        return None;
    }
    (until > now).then(|| crate::model::timestamp(until))
}

/// A user record that vanished between reads still gets a well-formed event.
fn unknown_user(user_id: Snowflake) -> User {
    User::new(user_id, String::new(), false)
}
