use serde::{Deserialize, Serialize};

use super::Snowflake;

/// A user as anyone may see it (message authors, member objects, `GET /users/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Snowflake,
    pub username: String,
    /// Always "0": Discord retired discriminators for new-style usernames.
    #[serde(default = "zero_discriminator")]
    pub discriminator: String,
    pub global_name: Option<String>,
    pub avatar: Option<String>,
    #[serde(default)]
    pub bot: bool,
    #[serde(default)]
    pub system: bool,
    #[serde(default)]
    pub public_flags: u64,
    #[serde(default)]
    pub banner: Option<String>,
    #[serde(default)]
    pub accent_color: Option<u32>,
}

fn zero_discriminator() -> String {
    "0".into()
}

impl User {
    pub fn new(id: Snowflake, username: String, bot: bool) -> Self {
        User {
            id,
            username,
            discriminator: zero_discriminator(),
            global_name: None,
            avatar: None,
            bot,
            system: false,
            public_flags: 0,
            banner: None,
            accent_color: None,
        }
    }
}

/// The caller's own user (`GET /users/@me`, READY): the public user plus private fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentUser {
    #[serde(flatten)]
    pub user: User,
    pub email: Option<String>,
    pub verified: bool,
    pub mfa_enabled: bool,
    pub locale: String,
    pub flags: u64,
    pub premium_type: u8,
}

impl CurrentUser {
    pub fn new(user: User, email: Option<String>) -> Self {
        CurrentUser {
            user,
            email,
            verified: true,
            mfa_enabled: false,
            locale: "en-US".into(),
            flags: 0,
            premium_type: 0,
        }
    }
}
