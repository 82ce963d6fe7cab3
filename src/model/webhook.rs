use serde::{Deserialize, Serialize};

use super::{Snowflake, User};

/// Webhook types; only incoming webhooks (posting into a channel with a token) exist here.
pub const WEBHOOK_TYPE_INCOMING: u8 = 1;

/// A webhook as Discord sends it. The store keeps the whole record (token included); the
/// service decides per answer whether `user`, `token` and `url` are shown, as Discord does
/// (no `user` on token routes; no token of another application's webhook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: Snowflake,
    #[serde(rename = "type")]
    pub kind: u8,
    pub guild_id: Snowflake,
    pub channel_id: Snowflake,
    /// The user who created it (a snapshot taken at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    pub name: Option<String>,
    /// Avatar hash (from a data URI given at creation or edit).
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The bot application that created it, if one did.
    pub application_id: Option<Snowflake>,
    /// The URL to execute it (only beside a visible token; never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Webhook {
    /// The author shown on the webhook's messages: the webhook itself as a bot user with the
    /// `0000` discriminator, under the name and avatar the execution chose (or its own).
    pub fn author(&self, username: Option<String>, avatar: Option<String>) -> User {
        let mut user = User::new(
            self.id,
            username.unwrap_or_else(|| self.name.clone().unwrap_or_default()),
            true,
        );
        user.discriminator = "0000".into();
        user.avatar = avatar.or_else(|| self.avatar.clone());
        user
    }
}
