//! Guild audit log entries in Discord's shape (`GET /guilds/{id}/audit-logs`,
//! GUILD_AUDIT_LOG_ENTRY_CREATE).

use serde::{Deserialize, Serialize};

use super::Snowflake;

/// Discord's `AuditLogEvent` numbers for the actions this server records.
pub mod action {
    pub const GUILD_UPDATE: u16 = 1;
    pub const CHANNEL_CREATE: u16 = 10;
    pub const CHANNEL_UPDATE: u16 = 11;
    pub const CHANNEL_DELETE: u16 = 12;
    pub const CHANNEL_OVERWRITE_CREATE: u16 = 13;
    pub const CHANNEL_OVERWRITE_UPDATE: u16 = 14;
    pub const CHANNEL_OVERWRITE_DELETE: u16 = 15;
    pub const MEMBER_KICK: u16 = 20;
    pub const MEMBER_BAN_ADD: u16 = 22;
    pub const MEMBER_BAN_REMOVE: u16 = 23;
    pub const MEMBER_UPDATE: u16 = 24;
    pub const MEMBER_ROLE_UPDATE: u16 = 25;
    pub const BOT_ADD: u16 = 28;
    pub const ROLE_CREATE: u16 = 30;
    pub const ROLE_UPDATE: u16 = 31;
    pub const ROLE_DELETE: u16 = 32;
    pub const INVITE_CREATE: u16 = 40;
    pub const INVITE_DELETE: u16 = 42;
    pub const WEBHOOK_CREATE: u16 = 50;
    pub const WEBHOOK_UPDATE: u16 = 51;
    pub const WEBHOOK_DELETE: u16 = 52;
    pub const EMOJI_CREATE: u16 = 60;
    pub const EMOJI_UPDATE: u16 = 61;
    pub const EMOJI_DELETE: u16 = 62;
    pub const MESSAGE_DELETE: u16 = 72;
    pub const MESSAGE_BULK_DELETE: u16 = 73;
    pub const MESSAGE_PIN: u16 = 74;
    pub const MESSAGE_UNPIN: u16 = 75;
}

/// One changed field of the entry's target (`new_value` absent on deletes, `old_value` absent
/// on creates, as Discord sends them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLogChange {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_value: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_value: Option<serde_json::Value>,
}

impl AuditLogChange {
    /// A change from `old` to `new`; `None` on either side leaves that value out.
    pub fn new(
        key: &str,
        old_value: Option<serde_json::Value>,
        new_value: Option<serde_json::Value>,
    ) -> Self {
        AuditLogChange {
            key: key.to_owned(),
            old_value,
            new_value,
        }
    }
}

/// An audit log entry. `guild_id` is kept for the store and the gateway event (Discord sends it
/// only in GUILD_AUDIT_LOG_ENTRY_CREATE); the REST listing leaves it out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditLogEntry {
    pub id: Snowflake,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guild_id: Option<Snowflake>,
    pub target_id: Option<Snowflake>,
    /// Who acted (a user or bot id).
    pub user_id: Option<Snowflake>,
    pub action_type: u16,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<AuditLogChange>,
    /// Extra information for some actions (Discord's "optional audit entry info"), values as
    /// strings as Discord sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    /// The `X-Audit-Log-Reason` the moderator gave (at most 512 characters).
    pub reason: Option<String>,
}
