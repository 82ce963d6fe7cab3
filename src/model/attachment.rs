//! A file attached to a message, in Discord's shape (`AttachmentResponse`).

use serde::{Deserialize, Serialize};

use super::Snowflake;

/// An uploaded file as messages carry it. `url` and `proxy_url` point at this server's
/// CDN-style route `/attachments/{channel_id}/{attachment_id}/{filename}` (outside `/api`, as
/// Discord's point at cdn.discordapp.com / media.discordapp.net).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: Snowflake,
    pub filename: String,
    /// Alt text given by the uploader; absent when none (Discord omits it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Sniffed from the bytes, else guessed from the name; absent when neither tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Bytes.
    pub size: u64,
    pub url: String,
    pub proxy_url: String,
    /// Pixel size, for images whose header could be read (Discord sends both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Attachment flags (bit 3 IS_SPOILER); absent when 0, as Discord sends them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flags: Option<u64>,
}
