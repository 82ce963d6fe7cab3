//! Guild channels: listing what the caller can see, creating, editing (with category
//! permission sync), deleting, and permission overwrites.

use serde::Deserialize;

use super::audit_log::{self, Audit};
use super::{check_length, Caller, ChannelAccess, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Channel, ChannelType, Snowflake};
use crate::permissions::{OverwriteKind, PermissionOverwrite, Permissions};

/// `POST /guilds/{id}/channels` body.
#[derive(Debug, Deserialize)]
pub struct NewChannel {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: Option<u8>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default)]
    pub parent_id: Option<Snowflake>,
    #[serde(default)]
    pub nsfw: Option<bool>,
    #[serde(default)]
    pub permission_overwrites: Option<Vec<PermissionOverwrite>>,
    #[serde(default)]
    pub rate_limit_per_user: Option<u32>,
}

/// `PATCH /channels/{id}` body; absent fields stay as they are.
#[derive(Debug, Default, Deserialize)]
pub struct ChannelPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub position: Option<i64>,
    #[serde(default, with = "super::double_option")]
    pub topic: Option<Option<String>>,
    #[serde(default)]
    pub nsfw: Option<bool>,
    #[serde(default)]
    pub rate_limit_per_user: Option<u32>,
    /// `Some(None)` detaches the channel from its category.
    #[serde(default, with = "super::double_option")]
    pub parent_id: Option<Option<Snowflake>>,
    #[serde(default)]
    pub permission_overwrites: Option<Vec<PermissionOverwrite>>,
    #[serde(default)]
    pub lock_permissions: Option<bool>,
}

/// `PUT /channels/{id}/permissions/{overwrite_id}` body.
#[derive(Debug, Deserialize)]
pub struct OverwritePut {
    #[serde(rename = "type")]
    pub kind: OverwriteKind,
    #[serde(default)]
    pub allow: Option<Permissions>,
    #[serde(default)]
    pub deny: Option<Permissions>,
}

/// Channel fields an audit log entry leaves out (identity, and what moves without an edit).
const CHANNEL_UNLOGGED: &[&str] = &["id", "guild_id", "last_message_id", "last_pin_timestamp"];

impl Service {
    /// Every channel of the guild, as GUILD_CREATE lists them (hidden ones included, as on
    /// Discord); reading a hidden channel or its messages is what VIEW_CHANNEL guards.
    pub async fn guild_channels(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Vec<Channel>, ApiError> {
        self.guild_access(caller, guild_id).await?;
        Ok(self.store.channels_of_guild(guild_id).await?)
    }

    /// A guild channel, or a DM as the caller sees it.
    pub async fn channel(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
    ) -> Result<Channel, ApiError> {
        let channel = self.channel_access(caller, channel_id).await?.channel;
        if channel.guild_id.is_none() {
            return self.present_dm(channel, caller.id()).await;
        }
        Ok(channel)
    }

    /// Needs MANAGE_CHANNELS (and MANAGE_ROLES to set overwrites); fires CHANNEL_CREATE.
    pub async fn create_channel(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        body: NewChannel,
        reason: Option<String>,
    ) -> Result<Channel, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::MANAGE_CHANNELS)
            .await?;
        let mut form = FormErrors::default();
        check_length(&mut form, "name", &body.name, 1, 100);
        let kind = match ChannelType::for_guild(body.kind.unwrap_or(0)) {
            Ok(kind) => kind,
            Err(message) => {
                form.add(&["type"], "BASE_TYPE_CHOICES", message);
                ChannelType::GuildText
            }
        };
        check_channel_fields(&mut form, body.topic.as_deref(), body.rate_limit_per_user);
        let channels = self.store.channels_of_guild(guild_id).await?;
        if let Some(parent_id) = body.parent_id {
            check_parent(&mut form, &channels, parent_id, kind);
        }
        form.finish()?;

        let overwrites = one_per_target(body.permission_overwrites.unwrap_or_default());
        check_overwrites_grantable(&access, &overwrites)?;
        let channel = Channel {
            position: body.position.unwrap_or(channels.len() as i64),
            parent_id: body.parent_id,
            topic: body.topic,
            nsfw: body.nsfw.unwrap_or(false),
            permission_overwrites: overwrites,
            rate_limit_per_user: body.rate_limit_per_user.unwrap_or(0),
            ..Channel::new(self.next_id(), kind, guild_id, body.name)
        };
        self.store.create_channel(channel.clone()).await?;
        let changes = audit_log::changes(None, Some(&channel), CHANNEL_UNLOGGED);
        let audit = Audit::new(action::CHANNEL_CREATE, Some(channel.id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.publish_channel("CHANNEL_CREATE", &channel)?;
        Ok(channel)
    }

    /// `PATCH /channels/{id}`: MANAGE_CHANNELS (and MANAGE_ROLES when overwrites change).
    /// Editing a category's overwrites carries them to the children that were in sync.
    pub async fn update_channel(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        patch: ChannelPatch,
        reason: Option<String>,
    ) -> Result<Channel, ApiError> {
        let ChannelAccess {
            guild: access,
            channel: before,
            perms,
        } = self
            .require_channel(caller, channel_id, Permissions::MANAGE_CHANNELS)
            .await?;
        let access = access.ok_or_else(ApiError::missing_permissions)?;
        let mut form = FormErrors::default();
        if let Some(name) = &patch.name {
            check_length(&mut form, "name", name, 1, 100);
        }
        check_channel_fields(
            &mut form,
            patch.topic.as_ref().and_then(|t| t.as_deref()),
            patch.rate_limit_per_user,
        );
        let channels = self.store.channels_of_guild(access.guild.id).await?;
        if let Some(Some(parent_id)) = patch.parent_id {
            check_parent(&mut form, &channels, parent_id, before.kind);
        }
        form.finish()?;

        let mut channel = before.clone();
        if let Some(name) = patch.name {
            channel.name = name;
        }
        if let Some(position) = patch.position {
            channel.position = position;
        }
        if let Some(topic) = patch.topic {
            channel.topic = topic;
        }
        if let Some(nsfw) = patch.nsfw {
            channel.nsfw = nsfw;
        }
        if let Some(limit) = patch.rate_limit_per_user {
            channel.rate_limit_per_user = limit;
        }
        if let Some(parent_id) = patch.parent_id {
            channel.parent_id = parent_id;
        }
        if let Some(overwrites) = patch.permission_overwrites {
            channel.permission_overwrites = one_per_target(overwrites);
        }
        if patch.lock_permissions == Some(true) {
            if let Some(parent) = channel
                .parent_id
                .and_then(|id| channels.iter().find(|c| c.id == id))
            {
                channel.permission_overwrites = parent.permission_overwrites.clone();
            }
        }
        if channel.permission_overwrites != before.permission_overwrites {
            require_manage_roles(perms)?;
            let added: Vec<_> = channel
                .permission_overwrites
                .iter()
                .filter(|o| !before.permission_overwrites.contains(o))
                .cloned()
                .collect();
            check_overwrites_grantable(&access, &added)?;
        }
        let mut audits = Vec::new();
        let mut skip = CHANNEL_UNLOGGED.to_vec();
        skip.push("permission_overwrites");
        let changes = audit_log::changes(Some(&before), Some(&channel), &skip);
        if !changes.is_empty() {
            audits.push(
                Audit::new(action::CHANNEL_UPDATE, Some(channel_id), reason.clone())
                    .changes(changes),
            );
        }
        audits.extend(audit_log::overwrite_audits(
            channel_id,
            &before.permission_overwrites,
            &channel.permission_overwrites,
            |id| access.role(id).map(|r| r.name.clone()),
            &reason,
        ));
        self.save_with_synced_children(&before, channel.clone(), &channels)
            .await?;
        for audit in audits {
            self.record_audit(access.guild.id, caller.id(), audit).await;
        }
        Ok(channel)
    }

    /// `DELETE /channels/{id}`: MANAGE_CHANNELS; children of a category are detached. On a DM it
    /// "closes" the DM as Discord does: the channel (and its history) stays, and is returned.
    pub async fn delete_channel(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        reason: Option<String>,
    ) -> Result<Channel, ApiError> {
        let access = self.channel_access(caller, channel_id).await?;
        if access.guild.is_none() {
            return self.present_dm(access.channel, caller.id()).await;
        }
        if !access.perms.contains(Permissions::MANAGE_CHANNELS) {
            return Err(ApiError::missing_permissions());
        }
        let channel = access.channel;
        let detached = self.store.delete_channel(channel_id).await?;
        self.forget_channel_blobs(vec![channel_id]).await;
        if let Some(guild_id) = channel.guild_id {
            let changes = audit_log::changes(Some(&channel), None, CHANNEL_UNLOGGED);
            let audit =
                Audit::new(action::CHANNEL_DELETE, Some(channel_id), reason).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.publish_channel("CHANNEL_DELETE", &channel)?;
        for child in &detached {
            self.publish_channel("CHANNEL_UPDATE", child)?;
        }
        Ok(channel)
    }

    /// `PUT /channels/{id}/permissions/{overwrite_id}`: MANAGE_ROLES in the channel, and only
    /// bits the caller holds there.
    pub async fn put_overwrite(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        target: Snowflake,
        body: OverwritePut,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let channel_access = self.channel_access(caller, channel_id).await?;
        require_manage_roles(channel_access.perms)?;
        let access = channel_access.guild()?;
        let (mut channel, perms) = (channel_access.channel.clone(), channel_access.perms);
        let overwrite = PermissionOverwrite {
            id: target.0,
            kind: body.kind,
            allow: body.allow.unwrap_or_default(),
            deny: body.deny.unwrap_or_default(),
        };
        let held = if access.base().contains(Permissions::ADMINISTRATOR) {
            Permissions::all()
        } else {
            perms
        };
        if !held.contains(overwrite.allow | overwrite.deny) {
            return Err(ApiError::missing_permissions());
        }
        match overwrite.kind {
            OverwriteKind::Role if access.role(target).is_none() => {
                return Err(ApiError::unknown_role())
            }
            OverwriteKind::Member
                if self.store.member(access.guild.id, target).await?.is_none() =>
            {
                return Err(ApiError::unknown_member())
            }
            _ => {}
        }
        let before = channel.clone();
        match channel
            .permission_overwrites
            .iter_mut()
            .find(|o| o.id == target.0)
        {
            Some(existing) => *existing = overwrite,
            None => channel.permission_overwrites.push(overwrite),
        }
        let audits = audit_log::overwrite_audits(
            channel_id,
            &before.permission_overwrites,
            &channel.permission_overwrites,
            |id| access.role(id).map(|r| r.name.clone()),
            &reason,
        );
        let channels = self.store.channels_of_guild(access.guild.id).await?;
        self.save_with_synced_children(&before, channel, &channels)
            .await?;
        for audit in audits {
            self.record_audit(access.guild.id, caller.id(), audit).await;
        }
        Ok(())
    }

    /// `DELETE /channels/{id}/permissions/{overwrite_id}`: MANAGE_ROLES in the channel.
    pub async fn delete_overwrite(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        target: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let ChannelAccess {
            guild: access,
            mut channel,
            perms,
        } = self.channel_access(caller, channel_id).await?;
        require_manage_roles(perms)?;
        let access = access.ok_or_else(ApiError::missing_permissions)?;
        let guild_id = access.guild.id;
        let before = channel.clone();
        channel.permission_overwrites.retain(|o| o.id != target.0);
        if channel.permission_overwrites == before.permission_overwrites {
            return Ok(());
        }
        let audits = audit_log::overwrite_audits(
            channel_id,
            &before.permission_overwrites,
            &channel.permission_overwrites,
            |id| access.role(id).map(|r| r.name.clone()),
            &reason,
        );
        let channels = self.store.channels_of_guild(guild_id).await?;
        self.save_with_synced_children(&before, channel, &channels)
            .await?;
        for audit in audits {
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        Ok(())
    }

    /// Saves an edited channel; when a category's overwrites changed, children that were in
    /// sync with it (same overwrites before the edit) get the new ones too. One transaction,
    /// then one CHANNEL_UPDATE per saved channel.
    async fn save_with_synced_children(
        &self,
        before: &Channel,
        channel: Channel,
        channels: &[Channel],
    ) -> Result<(), ApiError> {
        let mut changed = vec![channel.clone()];
        if before.kind == ChannelType::GuildCategory
            && channel.permission_overwrites != before.permission_overwrites
        {
            for child in channels.iter().filter(|c| {
                c.parent_id == Some(channel.id)
                    && c.permission_overwrites == before.permission_overwrites
            }) {
                changed.push(Channel {
                    permission_overwrites: channel.permission_overwrites.clone(),
                    ..child.clone()
                });
            }
        }
        self.store.update_channels(changed.clone()).await?;
        for updated in &changed {
            self.publish_channel("CHANNEL_UPDATE", updated)?;
        }
        Ok(())
    }

    /// Channel events go to every member (GUILDS intent), hidden channels included: GUILD_CREATE
    /// lists every channel, so withholding updates would leave clients' caches stale (their
    /// permission checks then go wrong). Message events stay limited to viewers.
    /// DM channels have no guild topic: their CHANNEL_CREATE goes out in `dms.rs`.
    pub(super) fn publish_channel(&self, event: &str, channel: &Channel) -> Result<(), ApiError> {
        let Some(guild_id) = channel.guild_id else {
            return Ok(());
        };
        self.publish(
            Topic::Guild(guild_id),
            event,
            channel,
            Audience::Everyone,
            None,
        )
    }
}

/// One overwrite per role or member: a list naming a target twice keeps the last entry (the
/// engine reads overwrites the same way), so every client computes the same permissions.
fn one_per_target(overwrites: Vec<PermissionOverwrite>) -> Vec<PermissionOverwrite> {
    let mut kept: Vec<PermissionOverwrite> = Vec::with_capacity(overwrites.len());
    for overwrite in overwrites {
        match kept.iter_mut().find(|o| o.id == overwrite.id) {
            Some(existing) => *existing = overwrite,
            None => kept.push(overwrite),
        }
    }
    kept
}

/// MANAGE_ROLES as computed in the channel ("Manage Permissions"): an overwrite can grant it
/// there, or take it away.
fn require_manage_roles(channel_perms: Permissions) -> Result<(), ApiError> {
    if channel_perms.contains(Permissions::MANAGE_ROLES) {
        Ok(())
    } else {
        Err(ApiError::missing_permissions())
    }
}

/// Setting overwrites needs MANAGE_ROLES, and only bits the caller holds may be set.
fn check_overwrites_grantable(
    access: &GuildAccess,
    overwrites: &[PermissionOverwrite],
) -> Result<(), ApiError> {
    if overwrites.is_empty() {
        return Ok(());
    }
    access.require(Permissions::MANAGE_ROLES)?;
    let bits = overwrites
        .iter()
        .fold(Permissions::empty(), |acc, o| acc | o.allow | o.deny);
    access.require_grantable(bits)
}

fn check_channel_fields(form: &mut FormErrors, topic: Option<&str>, rate_limit: Option<u32>) {
    if let Some(topic) = topic {
        check_length(form, "topic", topic, 0, 1024);
    }
    if rate_limit.is_some_and(|limit| limit > 21_600) {
        form.add(
            &["rate_limit_per_user"],
            "NUMBER_TYPE_MAX",
            "int value should be less than or equal to 21600.",
        );
    }
}

fn check_parent(
    form: &mut FormErrors,
    channels: &[Channel],
    parent_id: Snowflake,
    kind: ChannelType,
) {
    let is_category = channels
        .iter()
        .any(|c| c.id == parent_id && c.kind == ChannelType::GuildCategory);
    if !is_category || kind == ChannelType::GuildCategory {
        form.add(
            &["parent_id"],
            "CHANNEL_PARENT_INVALID",
            "Category does not exist",
        );
    }
}
