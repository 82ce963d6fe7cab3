use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Snowflake, User};
use crate::permissions::{ChannelKind, PermissionOverwrite};

/// Discord's channel types that guilds can hold today, and direct messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum ChannelType {
    GuildText,
    /// A direct message between two users (type 1); it belongs to no guild.
    Dm,
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
            ChannelType::Dm => 1,
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
            1 => ChannelType::Dm,
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
    /// A type a guild channel may be created with (every type but DM).
    pub fn for_guild(raw: u8) -> Result<Self, String> {
        match ChannelType::try_from(raw) {
            Ok(ChannelType::Dm) | Err(_) => Err(format!(
                "Value must be one of {{0, 2, 4, 5, 13, 15, 16}}, got {raw}."
            )),
            Ok(kind) => Ok(kind),
        }
    }

    /// Which implicit permission rules apply.
    pub fn permission_kind(self) -> ChannelKind {
        match self {
            ChannelType::GuildText
            | ChannelType::Dm
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
                | ChannelType::Dm
                | ChannelType::GuildAnnouncement
                | ChannelType::GuildVoice
                | ChannelType::GuildStageVoice
        )
    }
}

/// A guild channel or a DM channel. A DM channel (`kind == Dm`) has no `guild_id` and lists its
/// users in `recipients`; its guild-only fields keep their defaults and are not serialised
/// (Discord's `PrivateChannelResponse`: id, type, last_message_id, flags, recipients).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Channel {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: ChannelType,
    /// `None` only for DM channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: i64,
    #[serde(default)]
    pub parent_id: Option<Snowflake>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub nsfw: bool,
    #[serde(default)]
    pub permission_overwrites: Vec<PermissionOverwrite>,
    pub last_message_id: Option<Snowflake>,
    #[serde(default)]
    pub rate_limit_per_user: u32,
    pub flags: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_limit: Option<u32>,
    /// DM channels: the users in it. Stored with every user; `Channel::seen_by` keeps the
    /// others, as Discord shows a DM to each of its users.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<User>,
}

/// A DM channel on the wire (and in the stores): no guild fields.
#[derive(Serialize)]
struct DmChannelWire<'a> {
    id: Snowflake,
    #[serde(rename = "type")]
    kind: ChannelType,
    last_message_id: Option<Snowflake>,
    flags: u64,
    recipients: &'a [User],
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.kind == ChannelType::Dm {
            DmChannelWire {
                id: self.id,
                kind: self.kind,
                last_message_id: self.last_message_id,
                flags: self.flags,
                recipients: &self.recipients,
            }
            .serialize(serializer)
        } else {
            Channel::serialize(self, serializer)
        }
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Channel::deserialize(deserializer)
    }
}

impl Channel {
    /// A channel with Discord's defaults for everything but its identity (voice channels get
    /// Discord's default bitrate and no user limit).
    pub fn new(id: Snowflake, kind: ChannelType, guild_id: Snowflake, name: String) -> Channel {
        let is_voice = kind.permission_kind() == ChannelKind::Voice;
        Channel {
            id,
            kind,
            guild_id: Some(guild_id),
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
            recipients: Vec::new(),
        }
    }

    /// A new DM channel between two users.
    pub fn dm(id: Snowflake, recipients: [User; 2]) -> Channel {
        Channel {
            guild_id: None,
            bitrate: None,
            user_limit: None,
            recipients: recipients.into(),
            ..Channel::new(id, ChannelType::Dm, Snowflake(0), String::new())
        }
    }

    /// Whether `user_id` is one of a DM channel's users (false for guild channels).
    pub fn has_recipient(&self, user_id: Snowflake) -> bool {
        self.recipients.iter().any(|user| user.id == user_id)
    }

    /// The channel as `viewer` sees it: a DM lists only the other users.
    pub fn seen_by(mut self, viewer: Snowflake) -> Channel {
        if self.kind == ChannelType::Dm {
            self.recipients.retain(|user| user.id != viewer);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_channels_have_discords_private_channel_shape() {
        let a = User::new(Snowflake(5), "a".into(), false);
        let b = User::new(Snowflake(6), "b".into(), true);
        let dm = Channel::dm(Snowflake(9), [a, b]);
        let wire = serde_json::to_value(dm.clone().seen_by(Snowflake(5))).unwrap();
        let mut keys: Vec<&str> = wire
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["flags", "id", "last_message_id", "recipients", "type"]
        );
        assert_eq!(wire["type"], 1);
        assert_eq!(wire["recipients"][0]["id"], "6");
        // The stored form reads back as the same channel.
        let stored = serde_json::to_string(&dm).unwrap();
        assert_eq!(serde_json::from_str::<Channel>(&stored).unwrap(), dm);
        let guild = Channel::new(
            Snowflake(3),
            ChannelType::GuildText,
            Snowflake(1),
            "c".into(),
        );
        let wire = serde_json::to_value(&guild).unwrap();
        assert_eq!(wire["guild_id"], "1");
        assert!(wire.get("recipients").is_none());
        assert_eq!(
            ChannelType::for_guild(1).unwrap_err(),
            "Value must be one of {0, 2, 4, 5, 13, 15, 16}, got 1."
        );
    }
}
