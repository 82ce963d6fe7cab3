use serde::{Deserialize, Serialize};

use super::Snowflake;
use crate::permissions::Permissions;

/// A guild role. The @everyone role has the guild's id and position 0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    pub id: Snowflake,
    pub name: String,
    /// Deprecated by Discord in favour of `colors`, still sent and read by libraries.
    pub color: u32,
    pub colors: RoleColors,
    pub hoist: bool,
    pub icon: Option<String>,
    pub unicode_emoji: Option<String>,
    pub position: i64,
    pub permissions: Permissions,
    pub managed: bool,
    pub mentionable: bool,
    pub flags: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<RoleTags>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct RoleColors {
    pub primary_color: u32,
    pub secondary_color: Option<u32>,
    pub tertiary_color: Option<u32>,
}

/// Marks managed roles; a bot's role carries its `bot_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleTags {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_id: Option<Snowflake>,
}

impl Role {
    pub fn everyone(guild_id: Snowflake) -> Role {
        Role::new(
            guild_id,
            "@everyone".into(),
            Permissions::from_bits_truncate(Permissions::DEFAULT_EVERYONE),
            0,
        )
    }

    pub fn new(id: Snowflake, name: String, permissions: Permissions, position: i64) -> Role {
        Role {
            id,
            name,
            color: 0,
            colors: RoleColors::default(),
            hoist: false,
            icon: None,
            unicode_emoji: None,
            position,
            permissions,
            managed: false,
            mentionable: false,
            flags: 0,
            tags: None,
        }
    }
}
