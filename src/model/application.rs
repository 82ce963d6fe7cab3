use serde::{Deserialize, Serialize};

use super::{Snowflake, User};

/// Application flags that allow privileged gateway intents (full and "limited" variants).
pub mod flags {
    pub const GATEWAY_PRESENCE: u64 = 1 << 12;
    pub const GATEWAY_PRESENCE_LIMITED: u64 = 1 << 13;
    pub const GATEWAY_GUILD_MEMBERS: u64 = 1 << 14;
    pub const GATEWAY_GUILD_MEMBERS_LIMITED: u64 = 1 << 15;
    pub const GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;
    pub const GATEWAY_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
    /// What an owner may change through the API (the limited variants, as on Discord).
    pub const SETTABLE: u64 =
        GATEWAY_PRESENCE_LIMITED | GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED;
    /// New applications may use every privileged intent until their owner turns it off: a
    /// self-hosted server has no review process to wait for.
    pub const DEFAULT: u64 = SETTABLE;
}

/// An application and its bot. As in Discord, the application's id is its bot user's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub id: Snowflake,
    pub name: String,
    pub icon: Option<String>,
    pub description: String,
    pub summary: String,
    #[serde(rename = "type")]
    pub kind: Option<u8>,
    pub bot_public: bool,
    pub bot_require_code_grant: bool,
    pub verify_key: String,
    pub flags: u64,
    pub team: Option<serde_json::Value>,
    pub owner: User,
    pub bot: User,
    pub rpc_origins: Vec<String>,
    pub terms_of_service_url: Option<String>,
    pub privacy_policy_url: Option<String>,
    pub guild_id: Option<Snowflake>,
    pub approximate_guild_count: u32,
    pub interactions_endpoint_url: Option<String>,
    pub tags: Vec<String>,
}
