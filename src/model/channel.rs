use serde::{Deserialize, Serialize};

use super::Snowflake;
use crate::permissions::{ChannelKind, PermissionOverwrite};

/// Discord's channel types that guilds can hold today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum ChannelType {
    GuildText,
    GuildVoice,
    GuildCategory,
    GuildAnnouncement,
    GuildStageVoice,
    GuildForum,
    GuildMedia,
}

impl From<ChannelType> for u8 {
    fn from(kind: ChannelType) -> u8 {
        match kind {
            ChannelType::GuildText => 0,
            ChannelType::GuildVoice => 2,
            ChannelType::GuildCategory => 4,
            ChannelType::GuildAnnouncement => 5,
            ChannelType::GuildStageVoice => 13,
            ChannelType::GuildForum => 15,
            ChannelType::GuildMedia => 16,
        }
    }
}

impl TryFrom<u8> for ChannelType {
    type Error = String;
    fn try_from(raw: u8) -> Result<Self, String> {
        Ok(match raw {
            0 => ChannelType::GuildText,
            2 => ChannelType::GuildVoice,
            4 => ChannelType::GuildCategory,
            5 => ChannelType::GuildAnnouncement,
            13 => ChannelType::GuildStageVoice,
            15 => ChannelType::GuildForum,
            16 => ChannelType::GuildMedia,
            other => {
                return Err(format!(
                    "Value must be one of {{0, 2, 4, 5, 13, 15, 16}}, got {other}."
                ))
            }
        })
    }
}

impl ChannelType {
    /// Which implicit permission rules apply.
    pub fn permission_kind(self) -> ChannelKind {
        match self {
            ChannelType::GuildText
            | ChannelType::GuildAnnouncement
            | ChannelType::GuildForum
            | ChannelType::GuildMedia => ChannelKind::Text,
            ChannelType::GuildVoice | ChannelType::GuildStageVoice => ChannelKind::Voice,
            ChannelType::GuildCategory => ChannelKind::Other,
        }
    }

    /// Whether messages can be posted directly in the channel.
    pub fn holds_messages(self) -> bool {
        matches!(
            self,
            ChannelType::GuildText
                | ChannelType::GuildAnnouncement
                | ChannelType::GuildVoice
                | ChannelType::GuildStageVoice
        )
    }
}

/// A guild channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: ChannelType,
    pub guild_id: Snowflake,
    pub name: String,
    pub position: i64,
    pub parent_id: Option<Snowflake>,
    pub topic: Option<String>,
    pub nsfw: bool,
    pub permission_overwrites: Vec<PermissionOverwrite>,
    pub last_message_id: Option<Snowflake>,
    pub rate_limit_per_user: u32,
    pub flags: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_limit: Option<u32>,
}

impl Channel {
    /// A channel with Discord's defaults for everything but its identity (voice channels get
    /// Discord's default bitrate and no user limit).
    pub fn new(id: Snowflake, kind: ChannelType, guild_id: Snowflake, name: String) -> Channel {
        let is_voice = kind.permission_kind() == ChannelKind::Voice;
        Channel {
            id,
            kind,
            guild_id,
            name,
            position: 0,
            parent_id: None,
            topic: None,
            nsfw: false,
            permission_overwrites: Vec::new(),
            last_message_id: None,
            rate_limit_per_user: 0,
            flags: 0,
            bitrate: is_voice.then_some(64_000),
            user_limit: is_voice.then_some(0),
        }
    }
}
