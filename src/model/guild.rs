use serde::{Deserialize, Serialize};

use super::Snowflake;

/// The stored guild. Settings Discord has but we do not implement yet keep Discord's defaults,
/// so libraries that read them find them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guild {
    pub id: Snowflake,
    pub name: String,
    pub icon: Option<String>,
    pub splash: Option<String>,
    pub discovery_splash: Option<String>,
    pub banner: Option<String>,
    pub description: Option<String>,
    pub owner_id: Snowflake,
    pub afk_channel_id: Option<Snowflake>,
    pub afk_timeout: u32,
    pub verification_level: u8,
    pub default_message_notifications: u8,
    pub explicit_content_filter: u8,
    pub features: Vec<String>,
    pub mfa_level: u8,
    pub application_id: Option<Snowflake>,
    pub system_channel_id: Option<Snowflake>,
    pub system_channel_flags: u64,
    pub rules_channel_id: Option<Snowflake>,
    pub public_updates_channel_id: Option<Snowflake>,
    pub safety_alerts_channel_id: Option<Snowflake>,
    pub vanity_url_code: Option<String>,
    pub premium_tier: u8,
    pub premium_subscription_count: u32,
    pub preferred_locale: String,
    pub nsfw_level: u8,
    pub premium_progress_bar_enabled: bool,
    pub max_members: u32,
    pub max_video_channel_users: u32,
}

impl Guild {
    pub fn new(id: Snowflake, name: String, owner_id: Snowflake) -> Guild {
        Guild {
            id,
            name,
            icon: None,
            splash: None,
            discovery_splash: None,
            banner: None,
            description: None,
            owner_id,
            afk_channel_id: None,
            afk_timeout: 300,
            verification_level: 0,
            default_message_notifications: 0,
            explicit_content_filter: 0,
            features: Vec::new(),
            mfa_level: 0,
            application_id: None,
            system_channel_id: None,
            system_channel_flags: 0,
            rules_channel_id: None,
            public_updates_channel_id: None,
            safety_alerts_channel_id: None,
            vanity_url_code: None,
            premium_tier: 0,
            premium_subscription_count: 0,
            preferred_locale: "en-US".into(),
            nsfw_level: 0,
            premium_progress_bar_enabled: false,
            max_members: 500_000,
            max_video_channel_users: 25,
        }
    }
}
