use serde::{Deserialize, Serialize};

use super::{Snowflake, User};

/// A guild member. `user` is filled in when the member is read, so the stored record never
/// holds a stale copy of the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(skip)]
    pub user_id: Snowflake,
    #[serde(skip)]
    pub guild_id: Snowflake,
    pub nick: Option<String>,
    pub avatar: Option<String>,
    pub banner: Option<String>,
    pub roles: Vec<Snowflake>,
    pub joined_at: String,
    pub premium_since: Option<String>,
    pub deaf: bool,
    pub mute: bool,
    pub flags: u64,
    pub pending: bool,
    pub communication_disabled_until: Option<String>,
}

impl Member {
    pub fn new(guild_id: Snowflake, user: User, roles: Vec<Snowflake>) -> Member {
        Member {
            user_id: user.id,
            user: Some(user),
            guild_id,
            nick: None,
            avatar: None,
            banner: None,
            roles,
            joined_at: super::now_timestamp(),
            premium_since: None,
            deaf: false,
            mute: false,
            flags: 0,
            pending: false,
            communication_disabled_until: None,
        }
    }

    /// Whether a timeout is in force now.
    pub fn timed_out(&self) -> bool {
        self.communication_disabled_until
            .as_deref()
            .and_then(|until| chrono::DateTime::parse_from_rfc3339(until).ok())
            .is_some_and(|until| until > chrono::Utc::now())
    }
}
