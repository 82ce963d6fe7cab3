//! Guild roles: listing, creating (at the bottom of the list, as Discord does), editing,
//! deleting and reordering, all under the role hierarchy.

use serde::Deserialize;
use serde_json::json;

use super::audit_log::{self, Audit};
use super::{check_length, Caller, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Role, RoleColors, Snowflake};
use crate::permissions::Permissions;

/// `POST /guilds/{id}/roles` and `PATCH /guilds/{id}/roles/{rid}` body; absent fields are
/// defaults on create and unchanged on edit.
#[derive(Debug, Default, Deserialize)]
pub struct RoleFields {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub permissions: Option<Permissions>,
    #[serde(default)]
    pub color: Option<u32>,
    #[serde(default)]
    pub colors: Option<RoleColors>,
    #[serde(default)]
    pub hoist: Option<bool>,
    #[serde(default)]
    pub mentionable: Option<bool>,
}

/// One entry of `PATCH /guilds/{id}/roles`.
#[derive(Debug, Deserialize)]
pub struct RolePosition {
    pub id: Snowflake,
    #[serde(default)]
    pub position: Option<i64>,
}

/// Role fields an audit log entry leaves out (identity, and what the server manages).
const ROLE_UNLOGGED: &[&str] = &["id", "position", "managed", "tags", "flags"];

impl Service {
    pub async fn guild_roles(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Vec<Role>, ApiError> {
        Ok(self.guild_access(caller, guild_id).await?.roles)
    }

    /// Needs MANAGE_ROLES; a role can only carry permissions the caller holds.
    pub async fn create_role(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        body: RoleFields,
        reason: Option<String>,
    ) -> Result<Role, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_ROLES)
            .await?;
        let everyone = access
            .role(guild_id)
            .map_or(Permissions::empty(), |role| role.permissions);
        let mut role = Role::new(self.next_id(), "new role".into(), everyone, 1);
        apply_role_fields(&access, &mut role, body)?;
        self.store.create_role(guild_id, role.clone()).await?;
        let changes = audit_log::changes(None, Some(&role), ROLE_UNLOGGED);
        let audit = Audit::new(action::ROLE_CREATE, Some(role.id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.publish_role("GUILD_ROLE_CREATE", guild_id, &role)?;
        Ok(role)
    }

    /// Needs MANAGE_ROLES and the role strictly below the caller's highest; @everyone keeps
    /// its name.
    pub async fn update_role(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        role_id: Snowflake,
        body: RoleFields,
        reason: Option<String>,
    ) -> Result<Role, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_ROLES)
            .await?;
        let mut role = access
            .role(role_id)
            .cloned()
            .ok_or_else(ApiError::unknown_role)?;
        if !access.outranks_role(&role) {
            return Err(ApiError::missing_permissions());
        }
        if role.id == guild_id && body.name.as_deref().is_some_and(|n| n != role.name) {
            return Err(ApiError::invalid_field(
                &["name"],
                "BASE_TYPE_CHOICES",
                "The @everyone role cannot be renamed.",
            ));
        }
        let before = role.clone();
        apply_role_fields(&access, &mut role, body)?;
        self.store
            .update_roles(guild_id, vec![role.clone()])
            .await?;
        let changes = audit_log::changes(Some(&before), Some(&role), ROLE_UNLOGGED);
        if !changes.is_empty() {
            let audit = Audit::new(action::ROLE_UPDATE, Some(role_id), reason).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.publish_role("GUILD_ROLE_UPDATE", guild_id, &role)?;
        Ok(role)
    }

    /// Needs MANAGE_ROLES and the role strictly below the caller's highest; @everyone and
    /// managed roles cannot be deleted. Members lose the role; overwrites for it go away.
    pub async fn delete_role(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        role_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_ROLES)
            .await?;
        let role = access
            .role(role_id)
            .cloned()
            .ok_or_else(ApiError::unknown_role)?;
        if role.id == guild_id {
            return Err(ApiError::new(400, 50028, "Invalid Role"));
        }
        if role.managed || !access.outranks_role(&role) {
            return Err(ApiError::missing_permissions());
        }
        let changed_channels = self.store.delete_role(guild_id, role_id).await?;
        let changes = audit_log::changes(Some(&role), None, ROLE_UNLOGGED);
        let audit = Audit::new(action::ROLE_DELETE, Some(role_id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_ROLE_DELETE",
            &json!({ "guild_id": guild_id, "role_id": role_id }),
            Audience::Everyone,
            None,
        )?;
        for channel in &changed_channels {
            self.publish_channel("CHANNEL_UPDATE", channel)?;
        }
        Ok(())
    }

    /// `PATCH /guilds/{id}/roles`: moves roles, only among positions below the caller's
    /// highest role. Returns every role.
    pub async fn reorder_roles(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        moves: Vec<RolePosition>,
        reason: Option<String>,
    ) -> Result<Vec<Role>, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_ROLES)
            .await?;
        let mut form = FormErrors::default();
        let mut moved = Vec::new();
        for (index, entry) in moves.iter().enumerate() {
            let Some(role) = access.role(entry.id) else {
                form.add(
                    &[&index.to_string(), "id"],
                    "BASE_TYPE_CHOICES",
                    "Unknown role",
                );
                continue;
            };
            let Some(position) = entry.position else {
                continue;
            };
            if role.id == guild_id || position < 1 {
                form.add(
                    &[&index.to_string(), "position"],
                    "BASE_TYPE_CHOICES",
                    "Invalid position",
                );
                continue;
            }
            if role.position != position {
                let target = Role {
                    position,
                    ..role.clone()
                };
                // Only roles below the caller, and only to places still below it.
                if !access.outranks_role(role) || !access.outranks_role(&target) {
                    return Err(ApiError::missing_permissions());
                }
                moved.push(target);
            }
        }
        form.finish()?;
        self.store.update_roles(guild_id, moved.clone()).await?;
        for role in &moved {
            let old = access.role(role.id);
            let changes = audit_log::changes(old, Some(role), &[]);
            let audit =
                Audit::new(action::ROLE_UPDATE, Some(role.id), reason.clone()).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        for role in &moved {
            self.publish_role("GUILD_ROLE_UPDATE", guild_id, role)?;
        }
        let mut roles = self.store.roles_of_guild(guild_id).await?;
        roles.sort_by_key(|role| (role.position, role.id));
        Ok(roles)
    }

    fn publish_role(&self, event: &str, guild_id: Snowflake, role: &Role) -> Result<(), ApiError> {
        self.publish(
            Topic::Guild(guild_id),
            event,
            &json!({ "guild_id": guild_id, "role": role }),
            Audience::Everyone,
            None,
        )
    }
}

/// Validates and applies the given fields; only permissions the caller holds may be set.
fn apply_role_fields(
    access: &GuildAccess,
    role: &mut Role,
    body: RoleFields,
) -> Result<(), ApiError> {
    let mut form = FormErrors::default();
    if let Some(name) = &body.name {
        check_length(&mut form, "name", name, 1, 100);
    }
    form.finish()?;
    if let Some(permissions) = body.permissions {
        // Bits the role already had may stay even if the caller lacks them.
        access.require_grantable(permissions - role.permissions)?;
        role.permissions = permissions;
    }
    if let Some(name) = body.name {
        role.name = name;
    }
    if let Some(colors) = body.colors {
        role.colors = colors;
        role.color = colors.primary_color;
    } else if let Some(color) = body.color {
        role.color = color;
        role.colors.primary_color = color;
    }
    if let Some(hoist) = body.hoist {
        role.hoist = hoist;
    }
    if let Some(mentionable) = body.mentionable {
        role.mentionable = mentionable;
    }
    Ok(())
}
