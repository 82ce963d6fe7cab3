use serde::{Deserialize, Serialize};

use super::{Snowflake, User};

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
