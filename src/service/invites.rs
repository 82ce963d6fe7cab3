//! Invites: creating them on a channel, resolving a code, and joining a guild with one.

use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Value};

use super::audit_log::{self, Audit};
use super::{Caller, Service};
use crate::error::{ApiError, FormErrors, StoreError};
use crate::model::audit_log::action;
use crate::model::{Invite, Member, Snowflake};
use crate::permissions::Permissions;

/// `POST /channels/{id}/invites` body.
#[derive(Debug, Default, Deserialize)]
pub struct NewInvite {
    #[serde(default)]
    pub max_age: Option<u32>,
    #[serde(default)]
    pub max_uses: Option<u32>,
    #[serde(default)]
    pub temporary: Option<bool>,
    #[serde(default)]
    pub unique: Option<bool>,
}

impl Service {
    /// Needs CREATE_INSTANT_INVITE in the channel.
    pub async fn create_invite(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        body: NewInvite,
        reason: Option<String>,
    ) -> Result<Value, ApiError> {
        let access = self
            .require_channel(caller, channel_id, Permissions::CREATE_INSTANT_INVITE)
            .await?;
        let guild_id = access.guild()?.guild.id;
        let max_age = body.max_age.unwrap_or(86_400);
        let max_uses = body.max_uses.unwrap_or(0);
        let mut form = FormErrors::default();
        if max_age > 604_800 {
            form.add(
                &["max_age"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 604800.",
            );
        }
        if max_uses > 100 {
            form.add(
                &["max_uses"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 100.",
            );
        }
        form.finish()?;
        let now = chrono::Utc::now();
        let invite = Invite {
            code: rand::thread_rng()
                .sample_iter(&Alphanumeric)
                .take(10)
                .map(char::from)
                .collect(),
            guild_id,
            channel_id,
            inviter_id: caller.id(),
            uses: 0,
            max_uses,
            max_age,
            temporary: body.temporary.unwrap_or(false),
            created_at: crate::model::timestamp(now),
            expires_at: (max_age > 0).then(|| {
                crate::model::timestamp(now + chrono::Duration::seconds(i64::from(max_age)))
            }),
        };
        self.store.create_invite(invite.clone()).await?;
        let unlogged = ["guild_id", "created_at", "expires_at"];
        let changes = audit_log::changes(None, Some(&invite), &unlogged);
        let audit = Audit::new(action::INVITE_CREATE, None, reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.invite_object(&invite).await
    }

    /// Resolves a usable invite code (no authentication needed).
    pub async fn invite(&self, code: &str) -> Result<Value, ApiError> {
        let invite = self.usable_invite(code).await?;
        self.invite_object(&invite).await
    }

    /// Joins the invite's guild (user accounts only); already being a member is not an error.
    pub async fn accept_invite(&self, caller: &Caller, code: &str) -> Result<Value, ApiError> {
        caller.require_user()?;
        let invite = self.usable_invite(code).await?;
        if self
            .store
            .ban(invite.guild_id, caller.id())
            .await?
            .is_some()
        {
            return Err(ApiError::new(
                403,
                40007,
                "The user is banned from this guild.",
            ));
        }
        if self
            .store
            .member(invite.guild_id, caller.id())
            .await?
            .is_none()
        {
            let member = Member::new(invite.guild_id, caller.user.user.clone(), Vec::new());
            match self.store.use_invite(code, member.clone()).await {
                Ok(()) => self.announce_join(invite.guild_id, &member).await?,
                // A concurrent accept by the same user already made them a member.
                Err(StoreError::Conflict("member")) => {}
                Err(err) => return Err(err.into()),
            }
        }
        self.invite_object(&invite).await
    }

    async fn usable_invite(&self, code: &str) -> Result<Invite, ApiError> {
        match self.store.invite(code).await? {
            Some(invite) if invite.usable() => Ok(invite),
            _ => Err(ApiError::unknown_invite()),
        }
    }

    /// The invite as Discord shows it: partial guild and channel, inviter, usage metadata.
    async fn invite_object(&self, invite: &Invite) -> Result<Value, ApiError> {
        let guild = self
            .store
            .guild(invite.guild_id)
            .await?
            .ok_or_else(ApiError::unknown_invite)?;
        let channel = self
            .store
            .channel(invite.channel_id)
            .await?
            .ok_or_else(ApiError::unknown_invite)?;
        let inviter = self
            .store
            .user(invite.inviter_id)
            .await?
            .map(|record| record.public());
        Ok(json!({
            "type": 0,
            "code": invite.code,
            "guild_id": guild.id,
            "guild": {
                "id": guild.id,
                "name": guild.name,
                "icon": guild.icon,
                "splash": guild.splash,
                "banner": guild.banner,
                "description": guild.description,
                "features": guild.features,
                "verification_level": guild.verification_level,
                "vanity_url_code": guild.vanity_url_code,
                "nsfw_level": guild.nsfw_level,
                "premium_subscription_count": guild.premium_subscription_count,
            },
            "channel": { "id": channel.id, "name": channel.name, "type": channel.kind },
            "inviter": inviter,
            "uses": invite.uses,
            "max_uses": invite.max_uses,
            "max_age": invite.max_age,
            "temporary": invite.temporary,
            "created_at": invite.created_at,
            "expires_at": invite.expires_at,
        }))
    }
}
