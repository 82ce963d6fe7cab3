//! Application command permissions: per-guild overwrites that allow or deny a command (or, under
//! the application's id, every command of the application) to roles, users and channels, and
//! their enforcement when a user invokes a command.
//!
//! Discord lets only an OAuth2 Bearer token of a user who may manage the guild and its roles
//! edit them; this server issues no OAuth2 tokens, so the user's own token stands in, and bots
//! get Discord's 20001 as they do there.

use serde::Deserialize;

use super::{Caller, CommandScope, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::command::permission_type;
use crate::model::{
    ApplicationCommand, Channel, CommandPermission, GuildCommandPermissions, Snowflake,
};
use crate::permissions::Permissions;

/// Most overwrites per command (Discord: 100).
const MAX_PERMISSIONS: usize = 100;

/// `PUT .../commands/{id}/permissions` body.
#[derive(Debug, Deserialize)]
pub struct CommandPermissionsPut {
    #[serde(default)]
    pub permissions: Option<Vec<CommandPermission>>,
}

fn unknown_permissions() -> ApiError {
    ApiError::new(404, 10066, "Unknown application command permissions")
}

/// The id that stands for "every channel of the guild" in a channel overwrite.
fn all_channels(guild_id: Snowflake) -> Snowflake {
    Snowflake(guild_id.0.saturating_sub(1))
}

/// What one level of overwrites (a command's, or the application's) says about a channel:
/// the channel's own overwrite, else the all-channels one.
fn channel_rule(level: &GuildCommandPermissions, channel: &Channel) -> Option<bool> {
    let find = |id: Snowflake| {
        level
            .permissions
            .iter()
            .find(|p| p.kind == permission_type::CHANNEL && p.id == id)
            .map(|p| p.permission)
    };
    // (A category's overwrite does not reach its channels; there are no threads here.)
    find(channel.id).or_else(|| find(all_channels(level.guild_id)))
}

/// What one level of overwrites says about a member: the user's overwrite, else its roles' (one
/// allowing role is enough), else @everyone's (the role whose id is the guild's).
fn member_rule(level: &GuildCommandPermissions, access: &GuildAccess) -> Option<bool> {
    let member = &access.member;
    let of = |kind: u8, id: Snowflake| {
        level
            .permissions
            .iter()
            .find(|p| p.kind == kind && p.id == id)
            .map(|p| p.permission)
    };
    if let Some(user) = of(permission_type::USER, member.user_id) {
        return Some(user);
    }
    let roles: Vec<bool> = member
        .roles
        .iter()
        .filter_map(|role| of(permission_type::ROLE, *role))
        .collect();
    if roles.contains(&true) {
        return Some(true);
    }
    if roles.contains(&false) {
        return Some(false);
    }
    of(permission_type::ROLE, access.guild.id)
}

impl Service {
    /// Who may read a guild's command permissions: the application's bot or owner (as for the
    /// commands themselves), or a member who may manage the guild.
    async fn command_permissions_reader(
        &self,
        caller: &Caller,
        scope: CommandScope,
    ) -> Result<(), ApiError> {
        let managed = self.commands_application(caller, scope).await;
        if managed.is_ok() || caller.is_bot() {
            return managed.map(|_| ());
        }
        let guild_id = scope.guild_id.ok_or_else(ApiError::missing_access)?;
        self.require_guild(caller, guild_id, Permissions::MANAGE_GUILD)
            .await?;
        self.store
            .application(scope.application_id)
            .await?
            .ok_or_else(ApiError::unknown_application)?;
        Ok(())
    }

    /// `GET /applications/{app}/guilds/{gid}/commands/permissions`: every stored entry.
    pub async fn guild_command_permissions(
        &self,
        caller: &Caller,
        scope: CommandScope,
    ) -> Result<Vec<GuildCommandPermissions>, ApiError> {
        self.command_permissions_reader(caller, scope).await?;
        let guild_id = scope.guild_id.ok_or_else(ApiError::missing_access)?;
        Ok(self
            .store
            .command_permissions_of_guild(scope.application_id, guild_id)
            .await?)
    }

    /// The command `command_id` names in the scope's guild (a guild command there or a global
    /// one); the application's own id names the application-wide entry (`None`).
    async fn permissions_target(
        &self,
        scope: CommandScope,
        command_id: Snowflake,
    ) -> Result<Option<ApplicationCommand>, ApiError> {
        if command_id == scope.application_id {
            return Ok(None);
        }
        match self.store.command(scope.application_id, command_id).await? {
            Some(command) if command.guild_id.is_none() || command.guild_id == scope.guild_id => {
                Ok(Some(command))
            }
            _ => Err(super::commands::unknown_command()),
        }
    }

    /// `GET .../commands/{id}/permissions`: the command's entry, 10066 when it has none (and
    /// 10063 for an unknown command).
    pub async fn command_permissions(
        &self,
        caller: &Caller,
        scope: CommandScope,
        command_id: Snowflake,
    ) -> Result<GuildCommandPermissions, ApiError> {
        self.command_permissions_reader(caller, scope).await?;
        self.permissions_target(scope, command_id).await?;
        let guild_id = scope.guild_id.ok_or_else(ApiError::missing_access)?;
        self.store
            .command_permissions_of_guild(scope.application_id, guild_id)
            .await?
            .into_iter()
            .find(|entry| entry.id == command_id)
            .ok_or_else(unknown_permissions)
    }

    /// `PUT .../commands/{id}/permissions`: replaces the command's (or, under the application
    /// id, the application's) overwrites in the guild. A user who may manage the guild and its
    /// roles only; the application's bot hears APPLICATION_COMMAND_PERMISSIONS_UPDATE.
    pub async fn put_command_permissions(
        &self,
        caller: &Caller,
        scope: CommandScope,
        command_id: Snowflake,
        body: CommandPermissionsPut,
    ) -> Result<GuildCommandPermissions, ApiError> {
        caller.require_user()?;
        let guild_id = scope.guild_id.ok_or_else(ApiError::missing_access)?;
        let access = self
            .require_guild(
                caller,
                guild_id,
                Permissions::MANAGE_GUILD | Permissions::MANAGE_ROLES,
            )
            .await?;
        let app = self
            .store
            .application(scope.application_id)
            .await?
            .ok_or_else(ApiError::unknown_application)?;
        if self.store.member(guild_id, app.id).await?.is_none() {
            return Err(ApiError::missing_access());
        }
        self.permissions_target(scope, command_id).await?;
        let permissions = body.permissions.unwrap_or_default();
        let mut form = FormErrors::default();
        if permissions.len() > MAX_PERMISSIONS {
            form.add(
                &["permissions"],
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {MAX_PERMISSIONS} or fewer in length."),
            );
        }
        let channels = self.store.channels_of_guild(guild_id).await?;
        for (index, permission) in permissions.iter().enumerate() {
            let index = index.to_string();
            let known = match permission.kind {
                permission_type::ROLE => access.role(permission.id).is_some(),
                permission_type::USER => true,
                permission_type::CHANNEL => {
                    permission.id == all_channels(guild_id)
                        || channels.iter().any(|c| c.id == permission.id)
                }
                _ => {
                    form.add(
                        &["permissions", &index, "type"],
                        "BASE_TYPE_CHOICES",
                        "Value must be one of {1, 2, 3}.",
                    );
                    continue;
                }
            };
            if !known {
                form.add(
                    &["permissions", &index, "id"],
                    "APPLICATION_COMMAND_PERMISSIONS_INVALID_ID",
                    format!("Unknown role or channel \"{}\"", permission.id),
                );
            }
        }
        form.finish()?;
        // One overwrite per target: a later duplicate replaces an earlier one.
        let mut unique: Vec<CommandPermission> = Vec::with_capacity(permissions.len());
        for permission in permissions {
            match unique
                .iter_mut()
                .find(|p| p.id == permission.id && p.kind == permission.kind)
            {
                Some(existing) => *existing = permission,
                None => unique.push(permission),
            }
        }
        let entry = GuildCommandPermissions {
            id: command_id,
            application_id: app.id,
            guild_id,
            permissions: unique,
        };
        self.store.put_command_permissions(entry.clone()).await?;
        self.publish(
            Topic::User(app.id),
            "APPLICATION_COMMAND_PERMISSIONS_UPDATE",
            &entry,
            Audience::Everyone,
            None,
        )?;
        Ok(entry)
    }

    /// Whether the member may run `command` in `channel` (`perms`: its permissions there):
    /// administrators always may; a channel overwrite that denies wins; then the member's user,
    /// role and @everyone overwrites — the command's own before the application-wide ones —
    /// and only when none applies, the command's `default_member_permissions`.
    pub(super) async fn may_use_command(
        &self,
        access: &GuildAccess,
        channel: &Channel,
        perms: Permissions,
        command: &ApplicationCommand,
    ) -> Result<bool, ApiError> {
        if perms.contains(Permissions::ADMINISTRATOR) || access.is_owner() {
            return Ok(true);
        }
        let entries = self
            .store
            .command_permissions_of_guild(command.application_id, access.guild.id)
            .await?;
        let command_level = entries.iter().find(|e| e.id == command.id);
        let app_level = entries.iter().find(|e| e.id == command.application_id);
        let channel_says = command_level
            .and_then(|level| channel_rule(level, channel))
            .or_else(|| app_level.and_then(|level| channel_rule(level, channel)));
        if channel_says == Some(false) {
            return Ok(false);
        }
        let member_says = command_level
            .and_then(|level| member_rule(level, access))
            .or_else(|| app_level.and_then(|level| member_rule(level, access)));
        if let Some(allowed) = member_says {
            return Ok(allowed);
        }
        Ok(match &command.default_member_permissions {
            Some(required) => {
                let bits = Permissions::from_wire(required).unwrap_or_default();
                // "0": only administrators (handled above).
                !bits.is_empty() && perms.contains(bits)
            }
            None => true,
        })
    }

    /// Forgets an application's commands and their permissions in a guild its bot left (the
    /// bot user's id is the application's); a no-op for users who are not bots.
    pub(super) async fn forget_guild_commands_of(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> Result<(), ApiError> {
        Ok(self
            .store
            .delete_guild_commands(guild_id, Some(user_id))
            .await?)
    }
}
