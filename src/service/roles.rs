//! Guild roles: listing and creating (at the bottom of the list, as Discord does).

use serde::Deserialize;

use super::{check_length, Caller, Service};
use crate::bus::Topic;
use crate::error::{ApiError, FormErrors};
use crate::model::{Role, RoleColors, Snowflake};
use crate::permissions::Permissions;

/// `POST /guilds/{id}/roles` body.
#[derive(Debug, Default, Deserialize)]
pub struct NewRole {
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
        body: NewRole,
    ) -> Result<Role, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        access.require(Permissions::MANAGE_ROLES)?;
        let name = body.name.unwrap_or_else(|| "new role".into());
        let mut form = FormErrors::default();
        check_length(&mut form, "name", &name, 1, 100);
        form.finish()?;
        let everyone = access
            .roles
            .iter()
            .find(|role| role.id == guild_id)
            .map_or(Permissions::empty(), |role| role.permissions);
        let permissions = body.permissions.unwrap_or(everyone);
        if !access.base().contains(permissions) {
            return Err(ApiError::missing_permissions());
        }
        let mut role = Role::new(self.next_id(), name, permissions, 1);
        if let Some(colors) = body.colors {
            role.colors = colors;
            role.color = colors.primary_color;
        } else if let Some(color) = body.color {
            role.color = color;
            role.colors.primary_color = color;
        }
        role.hoist = body.hoist.unwrap_or(false);
        role.mentionable = body.mentionable.unwrap_or(false);
        self.store.create_role(guild_id, role.clone()).await?;
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_ROLE_CREATE",
            &serde_json::json!({ "guild_id": guild_id, "role": role }),
            None,
            None,
        )?;
        Ok(role)
    }
}
