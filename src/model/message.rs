use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Attachment, Member, Reaction, Snowflake, User};

/// Message types we create.
pub const MESSAGE_TYPE_DEFAULT: u8 = 0;
pub const MESSAGE_TYPE_REPLY: u8 = 19;
/// The response to a slash command (and its follow-ups).
pub const MESSAGE_TYPE_CHAT_INPUT_COMMAND: u8 = 20;
/// The response to a user or message context-menu command.
pub const MESSAGE_TYPE_CONTEXT_MENU_COMMAND: u8 = 23;

/// A message as Discord sends it in REST answers and MESSAGE_CREATE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: u8,
    pub channel_id: Snowflake,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    pub author: User,
    /// The author's member, without `user` (as in Discord's MESSAGE_CREATE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
    pub content: String,
    pub timestamp: String,
    pub edited_timestamp: Option<String>,
    pub tts: bool,
    pub mention_everyone: bool,
    pub mentions: Vec<User>,
    pub mention_roles: Vec<Snowflake>,
    pub attachments: Vec<Attachment>,
    pub embeds: Vec<Value>,
    pub pinned: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_reference: Option<MessageReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_message: Option<Box<Message>>,
    pub flags: u64,
    pub components: Vec<Value>,
    /// The webhook that posted it (its id is also the author's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<Snowflake>,
    /// The application of a webhook (or interaction) that posted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_id: Option<Snowflake>,
    /// Filled from the reactions store for REST answers (never stored with the message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<Reaction>,
    /// For interaction responses: `{id, type, user, authorizing_integration_owners, name?,
    /// command_type?, ...}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_metadata: Option<Value>,
    /// The deprecated form of `interaction_metadata` (`{id, type, name, user}`), which older
    /// libraries still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<Value>,
}

/// What a reply points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageReference {
    #[serde(rename = "type", default)]
    pub kind: u8,
    pub message_id: Option<Snowflake>,
    pub channel_id: Option<Snowflake>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    #[serde(default, skip_serializing)]
    pub fail_if_not_exists: Option<bool>,
}
