//! The caller's own account and other users' public profiles.

use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_length, Caller, Service};
use crate::error::{ApiError, FormErrors, StoreError};
use crate::model::{CurrentUser, Snowflake, User};

/// `PATCH /users/@me` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    pub username: Option<String>,
    /// `Some(None)` clears the display name.
    #[serde(default, with = "super::double_option")]
    pub global_name: Option<Option<String>>,
}

impl Service {
    /// The caller's own user, with its private fields.
    pub fn current_user(&self, caller: &Caller) -> CurrentUser {
        caller.user.clone()
    }

    pub async fn update_current_user(
        &self,
        caller: &Caller,
        patch: UserPatch,
    ) -> Result<CurrentUser, ApiError> {
        let mut form = FormErrors::default();
        if let Some(username) = &patch.username {
            check_length(&mut form, "username", username, 2, 32);
        }
        if let Some(Some(global_name)) = &patch.global_name {
            check_length(&mut form, "global_name", global_name, 1, 32);
        }
        form.finish()?;
        let mut user = caller.user.clone();
        if let Some(username) = patch.username {
            user.user.username = username;
        }
        if let Some(global_name) = patch.global_name {
            user.user.global_name = global_name;
        }
        match self.store.update_user(user.clone()).await {
            Ok(()) => Ok(user),
            Err(StoreError::Conflict("username")) => Err(ApiError::invalid_field(
                &["username"],
                "USERNAME_ALREADY_TAKEN",
                "This username is already taken.",
            )),
            Err(err) => Err(err.into()),
        }
    }

    /// Any user's public profile.
    pub async fn user(&self, user_id: Snowflake) -> Result<User, ApiError> {
        Ok(self
            .store
            .user(user_id)
            .await?
            .ok_or_else(ApiError::unknown_user)?
            .public())
    }

    /// `GET /users/@me/guilds`: partial guilds with the caller's guild-wide permissions.
    pub async fn current_user_guilds(&self, caller: &Caller) -> Result<Vec<Value>, ApiError> {
        let mut guilds = Vec::new();
        for guild_id in self.store.guild_ids_of_user(caller.id()).await? {
            let access = self.guild_access(caller, guild_id).await?;
            guilds.push(json!({
                "id": access.guild.id,
                "name": access.guild.name,
                "icon": access.guild.icon,
                "banner": access.guild.banner,
                "owner": access.is_owner(),
                "permissions": access.base(),
                "features": access.guild.features,
            }));
        }
        Ok(guilds)
    }
}
