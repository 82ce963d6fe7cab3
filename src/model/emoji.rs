//! Custom guild emoji and message reactions, in Discord's shapes.

use serde::{Deserialize, Serialize};

use super::{Snowflake, User};

/// A guild's custom emoji (`GET /guilds/{id}/emojis`, GUILD_CREATE `emojis`,
/// GUILD_EMOJIS_UPDATE). `user` (the creator) is only filled for callers that manage or create
/// expressions, as on Discord; the store keeps the creator's id in `creator_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Emoji {
    pub id: Snowflake,
    pub name: String,
    /// Roles allowed to use the emoji; empty means everyone.
    pub roles: Vec<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub require_colons: bool,
    pub managed: bool,
    pub animated: bool,
    pub available: bool,
    /// Who uploaded it; never sent (the wire carries `user` instead).
    #[serde(default, skip_serializing)]
    pub creator_id: Option<Snowflake>,
}

/// An emoji as reactions name it: `{id: null, name: "👍"}` for unicode, `{id, name, animated}`
/// for a custom one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialEmoji {
    pub id: Option<Snowflake>,
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub animated: Option<bool>,
}

impl PartialEmoji {
    /// The key reactions are stored under: the custom emoji's id, or the unicode text itself
    /// (so a renamed custom emoji keeps its reactions).
    pub fn key(&self) -> String {
        match self.id {
            Some(id) => id.0.to_string(),
            None => self.name.clone().unwrap_or_default(),
        }
    }
}

/// Burst and normal counts of a reaction (`count_details`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionCountDetails {
    pub burst: u32,
    pub normal: u32,
}

/// One emoji's reactions on a message, as the message object's `reactions` lists them. `me`
/// is per viewer: REST answers fill it for the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reaction {
    pub count: u32,
    pub count_details: ReactionCountDetails,
    pub me: bool,
    pub me_burst: bool,
    pub burst_colors: Vec<String>,
    pub emoji: PartialEmoji,
}
