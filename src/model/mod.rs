//! Discord object shapes (serde), one file per resource, shared by every layer. Field names and
//! types follow Discord's wire format so a value can be sent as it is.

pub mod application;
pub mod attachment;
pub mod audit_log;
pub mod ban;
pub mod channel;
pub mod command;
pub mod emoji;
pub mod guild;
pub mod invite;
pub mod member;
pub mod message;
pub mod role;
pub mod snowflake;
pub mod user;
pub mod webhook;

pub use application::Application;
pub use attachment::Attachment;
pub use audit_log::{AuditLogChange, AuditLogEntry};
pub use ban::Ban;
pub use channel::{Channel, ChannelType};
pub use command::{
    ApplicationCommand, CommandChoice, CommandOption, CommandPermission, GuildCommandPermissions,
    InteractionRecord,
};
pub use emoji::{Emoji, PartialEmoji, Reaction, ReactionCountDetails};
pub use guild::Guild;
pub use invite::Invite;
pub use member::Member;
pub use message::{Message, MessageReference};
pub use role::{Role, RoleColors, RoleTags};
pub use snowflake::{Snowflake, SnowflakeGenerator};
pub use user::{CurrentUser, User};
pub use webhook::Webhook;

/// Discord's timestamp format (`2015-04-26T06:26:56.936000+00:00`).
pub fn timestamp(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// Now, in Discord's timestamp format.
pub fn now_timestamp() -> String {
    timestamp(chrono::Utc::now())
}
