//! Persistence, one method per operation so each backend can use its native indexes. The
//! embedded SQLite backend is the default; a MongoDB backend implements the same trait.

mod embedded;

use async_trait::async_trait;

pub use embedded::EmbeddedStore;

use crate::error::StoreError;
use crate::model::{
    Application, Channel, CurrentUser, Guild, Invite, Member, Message, Role, Snowflake, User,
};

pub type StoreResult<T> = Result<T, StoreError>;

/// A user record with what only the server may see.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: CurrentUser,
    /// argon2 PHC string; `None` for bot users.
    pub password_hash: Option<String>,
}

impl UserRecord {
    /// The user as anyone may see it.
    pub fn public(&self) -> User {
        self.user.user.clone()
    }
}

/// A nonce may be a string or an integer on the wire; both are stored and compared as text.
pub fn nonce_key(nonce: &serde_json::Value) -> String {
    match nonce {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Everything a new guild starts with, written at once so no half-made guild is ever visible.
#[derive(Debug, Clone)]
pub struct NewGuild {
    pub guild: Guild,
    pub everyone: Role,
    pub channels: Vec<Channel>,
    pub owner: Member,
}

/// Which slice of a channel's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageWindow {
    /// Newest first, older than the id (or the newest at all when `None`).
    Before(Option<Snowflake>),
    /// Newest first, newer than the id (the oldest `limit` of them).
    After(Snowflake),
    /// Newest first, centred on the id.
    Around(Snowflake),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A value the server generates once and keeps (e.g. its signing secret).
    async fn setting(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores `value` under `key` unless a value is already there; returns the kept value.
    async fn setting_init(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>>;

    /// Fails with `Conflict("username")` / `Conflict("email")` when taken.
    async fn create_user(&self, record: UserRecord) -> StoreResult<()>;
    async fn user(&self, id: Snowflake) -> StoreResult<Option<UserRecord>>;
    /// Finds a user by username or email.
    async fn user_by_login(&self, login: &str) -> StoreResult<Option<UserRecord>>;
    async fn update_user(&self, user: CurrentUser) -> StoreResult<()>;

    /// Creates the application together with its bot user.
    async fn create_application(&self, app: Application, bot: UserRecord) -> StoreResult<()>;
    async fn application(&self, id: Snowflake) -> StoreResult<Option<Application>>;
    /// The issue time (ms) of the bot's current token; 0 when none was issued.
    async fn bot_token_issued(&self, bot_id: Snowflake) -> StoreResult<u64>;
    async fn set_bot_token_issued(&self, bot_id: Snowflake, issued_ms: u64) -> StoreResult<()>;

    async fn create_guild(&self, guild: NewGuild) -> StoreResult<()>;
    async fn guild(&self, id: Snowflake) -> StoreResult<Option<Guild>>;
    /// Ids of the guilds the user is a member of, ascending.
    async fn guild_ids_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Snowflake>>;

    async fn create_channel(&self, channel: Channel) -> StoreResult<()>;
    async fn channel(&self, id: Snowflake) -> StoreResult<Option<Channel>>;
    async fn channels_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Channel>>;

    /// Inserts the role at `role.position`, moving the roles at or above it up by one.
    async fn create_role(&self, guild_id: Snowflake, role: Role) -> StoreResult<()>;
    /// All roles of a guild, @everyone included.
    async fn roles_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Role>>;

    /// Adds a member, creating `managed_role` first in the same transaction when given.
    /// Fails with `Conflict("member")` when already a member.
    async fn add_member(&self, member: Member, managed_role: Option<Role>) -> StoreResult<()>;
    /// The member, with `user` filled in.
    async fn member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Member>>;
    /// Members with user id above `after`, ascending, at most `limit`.
    async fn members_of_guild(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Member>>;
    async fn member_count(&self, guild_id: Snowflake) -> StoreResult<u64>;
    async fn update_member(&self, member: Member) -> StoreResult<()>;

    async fn create_invite(&self, invite: Invite) -> StoreResult<()>;
    async fn invite(&self, code: &str) -> StoreResult<Option<Invite>>;
    /// Counts one use and adds the member in one transaction.
    async fn use_invite(&self, code: &str, member: Member) -> StoreResult<()>;

    /// Persists the message and moves the channel's `last_message_id`.
    async fn create_message(&self, message: Message) -> StoreResult<()>;
    async fn message(&self, channel_id: Snowflake, id: Snowflake) -> StoreResult<Option<Message>>;
    async fn messages(
        &self,
        channel_id: Snowflake,
        window: MessageWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// The author's message in the channel carrying `nonce`, made after `since`.
    async fn message_by_nonce(
        &self,
        channel_id: Snowflake,
        author_id: Snowflake,
        nonce: &str,
        since: Snowflake,
    ) -> StoreResult<Option<Message>>;
}
