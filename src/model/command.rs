//! Application commands (slash commands and context-menu commands) and the record the server
//! keeps of each interaction, in Discord's wire shapes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Message, Snowflake};

/// Command types (`type`): CHAT_INPUT, USER (context menu), MESSAGE (context menu).
pub const CHAT_INPUT: u8 = 1;
pub const USER_COMMAND: u8 = 2;
pub const MESSAGE_COMMAND: u8 = 3;

/// Option types (`options[].type`).
pub mod option_type {
    pub const SUB_COMMAND: u8 = 1;
    pub const SUB_COMMAND_GROUP: u8 = 2;
    pub const STRING: u8 = 3;
    pub const INTEGER: u8 = 4;
    pub const BOOLEAN: u8 = 5;
    pub const USER: u8 = 6;
    pub const CHANNEL: u8 = 7;
    pub const ROLE: u8 = 8;
    pub const MENTIONABLE: u8 = 9;
    pub const NUMBER: u8 = 10;
    pub const ATTACHMENT: u8 = 11;
}

/// Per-locale names or descriptions (`name_localizations`, `description_localizations`).
pub type Localizations = BTreeMap<String, String>;

/// An application command as Discord returns it (and as it is stored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApplicationCommand {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: u8,
    pub application_id: Snowflake,
    /// Absent for global commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    pub name: String,
    pub name_localizations: Option<Localizations>,
    pub description: String,
    pub description_localizations: Option<Localizations>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<CommandOption>,
    /// Permission bits (decimal string) a member needs by default; `None`: everyone.
    pub default_member_permissions: Option<String>,
    /// Deprecated; kept for global commands as Discord still sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dm_permission: Option<bool>,
    pub nsfw: bool,
    /// Installation contexts (0 guild, 1 user); global commands only on Discord, but echoed.
    pub integration_types: Vec<u8>,
    /// Where it may be used (0 guild, 1 bot DM, 2 private channel); `None`: everywhere.
    pub contexts: Option<Vec<u8>>,
    /// A snowflake that changes whenever the command does.
    pub version: Snowflake,
}

/// One option (or subcommand / group) of a chat-input command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandOption {
    #[serde(rename = "type")]
    pub kind: u8,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_localizations: Option<Localizations>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_localizations: Option<Localizations>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<CommandChoice>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<CommandOption>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_types: Option<Vec<u8>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<serde_json::Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub autocomplete: bool,
}

/// A fixed choice of a string, integer or number option.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandChoice {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_localizations: Option<Localizations>,
    pub value: Value,
}

/// Interaction types (`type` of an interaction).
pub mod interaction_type {
    pub const PING: u8 = 1;
    pub const APPLICATION_COMMAND: u8 = 2;
    pub const MESSAGE_COMPONENT: u8 = 3;
    pub const AUTOCOMPLETE: u8 = 4;
    pub const MODAL_SUBMIT: u8 = 5;
}

/// What the server remembers of one interaction so that its token can answer it (3 seconds for
/// the first response) and follow up (15 minutes). Kept in the store so any node can take the
/// callback or a follow-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRecord {
    pub id: Snowflake,
    pub application_id: Snowflake,
    /// The secret part of the URL (`aW50ZXJhY3Rpb246…`).
    pub token: String,
    /// Interaction type (2 command, 3 component, 4 autocomplete, 5 modal submit).
    #[serde(rename = "type")]
    pub kind: u8,
    /// When it was created, milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// `None` in the DM with the application's bot.
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
    pub channel_id: Snowflake,
    /// Who invoked it.
    pub user_id: Snowflake,
    /// What responses and follow-ups need: the invoking user, the command's name and type, the
    /// component's message, the client's nonce, a modal's custom_id.
    pub context: Value,
    /// The first response's callback type once there is one (set once, atomically).
    pub response: Option<u8>,
    /// The message `@original` names, once there is one.
    pub original_message_id: Option<Snowflake>,
    /// Ephemeral messages of this interaction: only the invoking user ever sees them, so they
    /// live here (as long as the token) rather than in the channel's history.
    pub ephemeral: Vec<Message>,
}

/// Command permission overwrite targets (`permissions[].type`).
pub mod permission_type {
    pub const ROLE: u8 = 1;
    pub const USER: u8 = 2;
    pub const CHANNEL: u8 = 3;
}

/// One overwrite: allow or deny a role, user or channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandPermission {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: u8,
    pub permission: bool,
}

/// Discord's guild_application_command_permissions object: the overwrites of one command in one
/// guild, or (`id` = the application id) of every command of the application there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildCommandPermissions {
    /// A command id, or the application id for the application-wide overwrites.
    pub id: Snowflake,
    pub application_id: Snowflake,
    pub guild_id: Snowflake,
    pub permissions: Vec<CommandPermission>,
}
