//! Guild channels: listing what the caller can see, creating, reading.

use serde::Deserialize;

use super::{check_length, Caller, Service};
use crate::bus::Topic;
use crate::error::{ApiError, FormErrors};
use crate::model::{Channel, ChannelType, Snowflake};
use crate::permissions::{PermissionOverwrite, Permissions};

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

impl Service {
    /// The guild's channels the caller can view.
    pub async fn guild_channels(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Vec<Channel>, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let channels = self.store.channels_of_guild(guild_id).await?;
        Ok(channels
            .into_iter()
            .filter(|channel| {
                access
                    .in_channel(channel)
                    .contains(Permissions::VIEW_CHANNEL)
            })
            .collect())
    }

    pub async fn channel(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
    ) -> Result<Channel, ApiError> {
        Ok(self.channel_access(caller, channel_id).await?.1)
    }

    /// Needs MANAGE_CHANNELS (and MANAGE_ROLES to set overwrites); fires CHANNEL_CREATE.
    pub async fn create_channel(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        body: NewChannel,
    ) -> Result<Channel, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        access.require(Permissions::MANAGE_CHANNELS)?;

        let mut form = FormErrors::default();
        check_length(&mut form, "name", &body.name, 1, 100);
        let kind = match ChannelType::try_from(body.kind.unwrap_or(0)) {
            Ok(kind) => kind,
            Err(message) => {
                form.add(&["type"], "BASE_TYPE_CHOICES", message);
                ChannelType::GuildText
            }
        };
        if let Some(topic) = &body.topic {
            check_length(&mut form, "topic", topic, 0, 1024);
        }
        if body.rate_limit_per_user.is_some_and(|limit| limit > 21_600) {
            form.add(
                &["rate_limit_per_user"],
                "NUMBER_TYPE_MAX",
                "int value should be less than or equal to 21600.",
            );
        }
        let channels = self.store.channels_of_guild(guild_id).await?;
        if let Some(parent_id) = body.parent_id {
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
        form.finish()?;

        let overwrites = body.permission_overwrites.unwrap_or_default();
        if !overwrites.is_empty() {
            access.require(Permissions::MANAGE_ROLES)?;
            let held = access.base();
            if overwrites.iter().any(|o| !held.contains(o.allow | o.deny)) {
                return Err(ApiError::missing_permissions());
            }
        }
        let is_voice = kind.permission_kind() == crate::permissions::ChannelKind::Voice;
        let channel = Channel {
            id: self.next_id(),
            kind,
            guild_id,
            name: body.name,
            position: body.position.unwrap_or(channels.len() as i64),
            parent_id: body.parent_id,
            topic: body.topic,
            nsfw: body.nsfw.unwrap_or(false),
            permission_overwrites: overwrites,
            last_message_id: None,
            rate_limit_per_user: body.rate_limit_per_user.unwrap_or(0),
            flags: 0,
            bitrate: is_voice.then_some(64_000),
            user_limit: is_voice.then_some(0),
        };
        self.store.create_channel(channel.clone()).await?;
        self.publish(
            Topic::Guild(guild_id),
            "CHANNEL_CREATE",
            &channel,
            Some(channel.id),
            None,
        )?;
        Ok(channel)
    }
}
