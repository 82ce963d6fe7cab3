//! Gateway wire constants: opcodes, close codes, intents and which intent gates which event.

use serde::Deserialize;

pub const OP_DISPATCH: u8 = 0;
pub const OP_HEARTBEAT: u8 = 1;
pub const OP_IDENTIFY: u8 = 2;
pub const OP_PRESENCE_UPDATE: u8 = 3;
pub const OP_VOICE_STATE_UPDATE: u8 = 4;
pub const OP_RESUME: u8 = 6;
pub const OP_RECONNECT: u8 = 7;
pub const OP_REQUEST_GUILD_MEMBERS: u8 = 8;
pub const OP_INVALID_SESSION: u8 = 9;
pub const OP_HELLO: u8 = 10;
pub const OP_HEARTBEAT_ACK: u8 = 11;

/// Close codes the server sends (Discord's 4000–4014).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseCode {
    UnknownError = 4000,
    UnknownOpcode = 4001,
    DecodeError = 4002,
    NotAuthenticated = 4003,
    AuthenticationFailed = 4004,
    AlreadyAuthenticated = 4005,
    RateLimited = 4008,
    SessionTimedOut = 4009,
    InvalidShard = 4010,
    ShardingRequired = 4011,
    InvalidApiVersion = 4012,
    InvalidIntents = 4013,
    DisallowedIntents = 4014,
}

impl CloseCode {
    /// Whether the client may resume its session after this close (Discord's table).
    pub fn resumable(self) -> bool {
        !matches!(
            self,
            CloseCode::AuthenticationFailed
                | CloseCode::SessionTimedOut
                | CloseCode::InvalidShard
                | CloseCode::ShardingRequired
                | CloseCode::InvalidApiVersion
                | CloseCode::InvalidIntents
                | CloseCode::DisallowedIntents
        )
    }

    pub fn reason(self) -> &'static str {
        match self {
            CloseCode::UnknownError => "Unknown error.",
            CloseCode::UnknownOpcode => "Unknown opcode.",
            CloseCode::DecodeError => "Error while decoding payload.",
            CloseCode::NotAuthenticated => "Not authenticated.",
            CloseCode::AuthenticationFailed => "Authentication failed.",
            CloseCode::AlreadyAuthenticated => "Already authenticated.",
            CloseCode::RateLimited => "You are being rate limited.",
            CloseCode::SessionTimedOut => "Session timed out.",
            CloseCode::InvalidShard => "Invalid shard.",
            CloseCode::ShardingRequired => "Sharding required.",
            CloseCode::InvalidApiVersion => "Invalid API version.",
            CloseCode::InvalidIntents => "Invalid intent(s).",
            CloseCode::DisallowedIntents => "Disallowed intent(s).",
        }
    }
}

/// Intent bits (documented ones only).
pub mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_MODERATION: u64 = 1 << 2;
    pub const GUILD_WEBHOOKS: u64 = 1 << 5;
    pub const GUILD_EXPRESSIONS: u64 = 1 << 3;
    pub const GUILD_VOICE_STATES: u64 = 1 << 7;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    pub const GUILD_MESSAGE_TYPING: u64 = 1 << 11;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
    pub const DIRECT_MESSAGE_TYPING: u64 = 1 << 14;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    /// Every documented intent (sum = 53608447).
    pub const ALL: u64 = 53_608_447;
}

/// The intent a dispatch needs, or `None` for events every session gets.
pub fn required_intent(event: &str) -> Option<u64> {
    match event {
        "GUILD_CREATE"
        | "GUILD_UPDATE"
        | "GUILD_DELETE"
        | "GUILD_ROLE_CREATE"
        | "GUILD_ROLE_UPDATE"
        | "GUILD_ROLE_DELETE"
        | "CHANNEL_CREATE"
        | "CHANNEL_UPDATE"
        | "CHANNEL_DELETE"
        | "CHANNEL_PINS_UPDATE" => Some(intents::GUILDS),
        "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" | "GUILD_MEMBER_REMOVE" => {
            Some(intents::GUILD_MEMBERS)
        }
        "GUILD_BAN_ADD" | "GUILD_BAN_REMOVE" | "GUILD_AUDIT_LOG_ENTRY_CREATE" => {
            Some(intents::GUILD_MODERATION)
        }
        "WEBHOOKS_UPDATE" => Some(intents::GUILD_WEBHOOKS),
        "VOICE_STATE_UPDATE" => Some(intents::GUILD_VOICE_STATES),
        "PRESENCE_UPDATE" => Some(intents::GUILD_PRESENCES),
        "TYPING_START" => Some(intents::GUILD_MESSAGE_TYPING),
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" | "MESSAGE_DELETE_BULK" => {
            Some(intents::GUILD_MESSAGES)
        }
        "MESSAGE_REACTION_ADD"
        | "MESSAGE_REACTION_REMOVE"
        | "MESSAGE_REACTION_REMOVE_ALL"
        | "MESSAGE_REACTION_REMOVE_EMOJI" => Some(intents::GUILD_MESSAGE_REACTIONS),
        "GUILD_EMOJIS_UPDATE" => Some(intents::GUILD_EXPRESSIONS),
        _ => None,
    }
}

/// The intent an event in a DM channel needs (`Audience::DirectMessage`).
pub fn required_dm_intent(event: &str) -> Option<u64> {
    match event {
        "TYPING_START" => Some(intents::DIRECT_MESSAGE_TYPING),
        "MESSAGE_REACTION_ADD"
        | "MESSAGE_REACTION_REMOVE"
        | "MESSAGE_REACTION_REMOVE_ALL"
        | "MESSAGE_REACTION_REMOVE_EMOJI" => Some(intents::DIRECT_MESSAGE_REACTIONS),
        // CHANNEL_CREATE of a DM is announced with its first message, under the same intent.
        _ => Some(intents::DIRECT_MESSAGES),
    }
}

/// Query parameters of the WebSocket URL.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConnectParams {
    pub v: Option<String>,
    pub encoding: Option<String>,
    pub compress: Option<String>,
}

/// A client payload's envelope; `d` is decoded per opcode.
#[derive(Debug, Deserialize)]
pub struct ClientPayload {
    pub op: u8,
    #[serde(default)]
    pub d: serde_json::Value,
}

/// IDENTIFY `d`.
#[derive(Debug, Deserialize)]
pub struct Identify {
    pub token: String,
    #[serde(default)]
    pub intents: Option<u64>,
    #[serde(default)]
    pub shard: Option<[u32; 2]>,
    /// Parsed leniently afterwards: an odd presence must not fail the IDENTIFY.
    #[serde(default)]
    pub presence: Option<serde_json::Value>,
}

/// REQUEST_GUILD_MEMBERS `d`.
#[derive(Debug, Deserialize)]
pub struct RequestGuildMembers {
    pub guild_id: crate::model::Snowflake,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub user_ids: Option<OneOrMany>,
    #[serde(default)]
    pub presences: Option<bool>,
    #[serde(default)]
    pub nonce: Option<serde_json::Value>,
}

/// `user_ids` may be one id or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(crate::model::Snowflake),
    Many(Vec<crate::model::Snowflake>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<crate::model::Snowflake> {
        match self {
            OneOrMany::One(id) => vec![id],
            OneOrMany::Many(ids) => ids,
        }
    }
}
