//! Guild members: listing, reading, and adding/removing roles under the role hierarchy.

use super::guilds::merge;
use super::{Caller, Service};
use crate::bus::Topic;
use crate::error::ApiError;
use crate::model::{Member, Snowflake};
use crate::permissions::Permissions;

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
        self.store
            .member(guild_id, user_id)
            .await?
            .ok_or_else(ApiError::unknown_member)
    }

    /// `PUT`/`DELETE /guilds/{id}/members/{uid}/roles/{rid}`: needs MANAGE_ROLES and the role
    /// strictly below the caller's highest role; managed roles and @everyone cannot be moved.
    pub async fn set_member_role(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        user_id: Snowflake,
        role_id: Snowflake,
        grant: bool,
    ) -> Result<(), ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let role = access
            .roles
            .iter()
            .find(|role| role.id == role_id && role.id != guild_id)
            .cloned()
            .ok_or_else(ApiError::unknown_role)?;
        let mut member = self
            .store
            .member(guild_id, user_id)
            .await?
            .ok_or_else(ApiError::unknown_member)?;
        access.require(Permissions::MANAGE_ROLES)?;
        if role.managed || !access.outranks_role(&role) {
            return Err(ApiError::missing_permissions());
        }
        let has = member.roles.contains(&role_id);
        if has == grant {
            return Ok(());
        }
        if grant {
            member.roles.push(role_id);
        } else {
            member.roles.retain(|id| *id != role_id);
        }
        self.store.update_member(member.clone()).await?;
        let mut update = serde_json::to_value(&member).map_err(|_| ApiError::internal())?;
        merge(&mut update, serde_json::json!({ "guild_id": guild_id }));
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_MEMBER_UPDATE",
            &update,
            None,
            Some(user_id),
        )
    }
}
