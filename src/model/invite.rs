use serde::{Deserialize, Serialize};

use super::Snowflake;

/// A stored invite; the API shape (with partial guild and channel) is built by the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invite {
    pub code: String,
    pub guild_id: Snowflake,
    pub channel_id: Snowflake,
    pub inviter_id: Snowflake,
    pub uses: u32,
    pub max_uses: u32,
    pub max_age: u32,
    pub temporary: bool,
    pub created_at: String,
    pub expires_at: Option<String>,
}

impl Invite {
    /// Whether the invite can still be used now.
    pub fn usable(&self) -> bool {
        let not_used_up = self.max_uses == 0 || self.uses < self.max_uses;
        let not_expired = self
            .expires_at
            .as_deref()
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .is_none_or(|at| at > chrono::Utc::now());
        not_used_up && not_expired
    }
}
