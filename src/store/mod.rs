//! Persistence, one method per operation so each backend can use its native indexes. The
//! embedded SQLite backend is the default; a MongoDB backend implements the same trait.

mod embedded;
pub mod files;
mod group_commit;
mod mongo;

use async_trait::async_trait;

pub use embedded::EmbeddedStore;
pub use files::{Blob, BlobKey, BlobStore, FileBlobStore, GridFsBlobStore};
pub use mongo::MongoStore;

use crate::error::StoreError;
use crate::model::{
    Application, ApplicationCommand, AuditLogEntry, Ban, Channel, CurrentUser, Emoji, Guild,
    GuildCommandPermissions, InteractionRecord, Invite, Member, Message, PartialEmoji, Role,
    Snowflake, User, Webhook,
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

/// A pinned message and when it was pinned (ISO 8601, as Discord writes timestamps).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pin {
    pub pinned_at: String,
    pub message: Message,
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

/// One user's reaction to a message, as stored (apart from the message, keyed by message,
/// emoji and user).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReaction {
    pub channel_id: Snowflake,
    pub message_id: Snowflake,
    pub user_id: Snowflake,
    pub emoji: PartialEmoji,
    /// Insertion order (a snowflake taken when the reaction was added): a message lists its
    /// emojis in the order each was first used.
    pub order: Snowflake,
}

/// The reactions with one emoji on one message, seen by one viewer.
#[derive(Debug, Clone, PartialEq)]
pub struct ReactionSummary {
    pub message_id: Snowflake,
    /// As the first reactor used it.
    pub emoji: PartialEmoji,
    pub count: u32,
    /// Whether the viewer is among the reactors.
    pub me: bool,
}

/// An emoji as both backends keep it: without the creator's user object (`creator_id` keeps
/// who it was), so a renamed creator is never stale.
pub fn emoji_record(emoji: &Emoji) -> serde_json::Value {
    let mut value = serde_json::to_value(emoji).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("user");
        object.insert("creator_id".into(), serde_json::json!(emoji.creator_id));
    }
    value
}

/// A custom emoji's image as uploaded (the bytes of the data URI).
#[derive(Debug, Clone, PartialEq)]
pub struct EmojiImage {
    /// `image/png`, `image/jpeg`, `image/gif` or `image/webp`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Which audit log entries to read: filters, and a window over entry ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AuditQuery {
    /// Only entries made by this user.
    pub user_id: Option<Snowflake>,
    /// Only entries about this target.
    pub target_id: Option<Snowflake>,
    pub action_type: Option<u16>,
    /// Only entries older than this id.
    pub before: Option<Snowflake>,
    /// Only entries newer than this id; the oldest `limit` of them (still answered newest
    /// first), so paging forward with the largest id seen misses nothing.
    pub after: Option<Snowflake>,
    pub limit: u32,
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
    async fn update_application(&self, app: Application) -> StoreResult<()>;
    /// The issue time (ms) of the bot's current token; 0 when none was issued.
    async fn bot_token_issued(&self, bot_id: Snowflake) -> StoreResult<u64>;
    async fn set_bot_token_issued(&self, bot_id: Snowflake, issued_ms: u64) -> StoreResult<()>;

    async fn create_guild(&self, guild: NewGuild) -> StoreResult<()>;
    async fn guild(&self, id: Snowflake) -> StoreResult<Option<Guild>>;
    async fn update_guild(&self, guild: Guild) -> StoreResult<()>;
    /// Deletes the guild and everything in it (roles, channels, members, invites, messages,
    /// bans) in one transaction.
    async fn delete_guild(&self, id: Snowflake) -> StoreResult<()>;
    /// Ids of the guilds the user is a member of, ascending.
    async fn guild_ids_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Snowflake>>;

    async fn create_channel(&self, channel: Channel) -> StoreResult<()>;
    async fn channel(&self, id: Snowflake) -> StoreResult<Option<Channel>>;
    async fn channels_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Channel>>;
    /// Replaces the given channels in one transaction (an edit and the children it syncs).
    async fn update_channels(&self, channels: Vec<Channel>) -> StoreResult<()>;
    /// Deletes a channel and its messages; children of a deleted category are detached and
    /// returned as they are now.
    async fn delete_channel(&self, id: Snowflake) -> StoreResult<Vec<Channel>>;

    /// Inserts the role at `role.position`, moving the roles at or above it up by one.
    async fn create_role(&self, guild_id: Snowflake, role: Role) -> StoreResult<()>;
    /// All roles of a guild, @everyone included.
    async fn roles_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Role>>;
    /// Replaces the given roles of the guild in one transaction (an edit, or new positions).
    async fn update_roles(&self, guild_id: Snowflake, roles: Vec<Role>) -> StoreResult<()>;
    /// Deletes a role, takes it off every member and out of every channel overwrite; returns
    /// the channels whose overwrites changed, as they are now.
    async fn delete_role(
        &self,
        guild_id: Snowflake,
        role_id: Snowflake,
    ) -> StoreResult<Vec<Channel>>;

    /// Adds a member, creating `managed_role` first in the same transaction when given.
    /// Fails with `Conflict("member")` when already a member.
    async fn add_member(&self, member: Member, managed_role: Option<Role>) -> StoreResult<()>;
    /// The member, with `user` filled in.
    async fn member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Member>>;
    /// The member where the caller already knows the user: `user` may be left unfilled (the
    /// embedded store skips reading it; every IDENTIFY reads its own member).
    async fn member_record(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> StoreResult<Option<Member>> {
        self.member(guild_id, user_id).await
    }
    /// What every guild-scoped permission check reads: the user's member object (`user` may be
    /// unfilled, as in `member_record`), the guild and its roles; `None` unless both the guild
    /// and the membership exist. A store that can answers in one round trip (the embedded one:
    /// one read transaction on one connection).
    async fn member_guild_roles(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> StoreResult<Option<(Member, Guild, Vec<Role>)>> {
        let (member, guild, roles) = futures_util::try_join!(
            self.member(guild_id, user_id),
            self.guild(guild_id),
            self.roles_of_guild(guild_id)
        )?;
        Ok(member
            .zip(guild)
            .map(|(member, guild)| (member, guild, roles)))
    }
    /// Members with user id above `after`, ascending, at most `limit`.
    async fn members_of_guild(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Member>>;
    /// Every member of the guild without `user` filled in (for permission views).
    async fn member_records_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Member>>;
    async fn member_count(&self, guild_id: Snowflake) -> StoreResult<u64>;
    async fn update_member(&self, member: Member) -> StoreResult<()>;
    /// Returns whether a member was removed.
    async fn remove_member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool>;

    /// Records the ban and removes the member (if one) in one transaction.
    async fn ban_member(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
    ) -> StoreResult<()>;
    async fn ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Ban>>;
    /// Bans with user ids in (after, before), ascending, at most `limit`.
    async fn bans(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        before: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Ban>>;
    /// Returns whether a ban was lifted.
    async fn remove_ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool>;

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
    /// Replaces a stored message (an edit); false when it no longer exists.
    async fn update_message(&self, message: Message) -> StoreResult<bool>;
    /// Deletes those of `ids` that are messages of the channel, in one transaction; returns
    /// the ids that were deleted.
    async fn delete_messages(
        &self,
        channel_id: Snowflake,
        ids: Vec<Snowflake>,
    ) -> StoreResult<Vec<Snowflake>>;
    /// Pins (`pinned_at` given) or unpins a message of the channel; returns it as it is now, or
    /// `None` when there is no such message. Pinning past `max_pins` fails with
    /// `Conflict("pins")`. Pinning a pinned message (or unpinning one that is not) changes
    /// nothing.
    async fn set_pinned(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
        pinned_at: Option<String>,
        max_pins: usize,
    ) -> StoreResult<Option<Message>>;
    /// The channel's pins, most recently pinned first, pinned before `before` (a timestamp).
    async fn pins(
        &self,
        channel_id: Snowflake,
        before: Option<String>,
        limit: u32,
    ) -> StoreResult<Vec<Pin>>;
    /// Deletes the author's messages in the guild's channels newer than `since`; returns the
    /// deleted ids per channel.
    async fn delete_recent_messages(
        &self,
        guild_id: Snowflake,
        author_id: Snowflake,
        since: Snowflake,
    ) -> StoreResult<Vec<(Snowflake, Vec<Snowflake>)>>;
    /// The author's message in the channel carrying `nonce`, made after `since`.
    async fn message_by_nonce(
        &self,
        channel_id: Snowflake,
        author_id: Snowflake,
        nonce: &str,
        since: Snowflake,
    ) -> StoreResult<Option<Message>>;

    // --- webhooks ---
    /// Persists a webhook (its token included) unless its channel already has
    /// `max_per_channel` webhooks: `Conflict("webhooks")`.
    async fn create_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<()>;
    async fn webhook(&self, id: Snowflake) -> StoreResult<Option<Webhook>>;
    /// The channel's webhooks, oldest first.
    async fn webhooks_of_channel(&self, channel_id: Snowflake) -> StoreResult<Vec<Webhook>>;
    /// The guild's webhooks, oldest first.
    async fn webhooks_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Webhook>>;
    /// Replaces a webhook; false when it no longer exists. Moving it into a channel that
    /// already has `max_per_channel` webhooks fails with `Conflict("webhooks")`.
    async fn update_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<bool>;
    /// Returns whether a webhook was deleted. (Deleting a channel or guild deletes its
    /// webhooks too.)
    async fn delete_webhook(&self, id: Snowflake) -> StoreResult<bool>;
    // --- files ---
    /// Where this backend keeps attachment bytes: files in the data directory for the embedded
    /// store, GridFS in the same database for MongoDB.
    fn blobs(&self) -> std::sync::Arc<dyn BlobStore>;
    // --- reactions ---
    /// Adds the reaction unless the user already reacted to the message with that emoji.
    /// `Ok(None)`: no such message in the channel; `Ok(Some(false))`: already there. An emoji
    /// new to a message that already carries `max_emojis` different ones fails with
    /// `Conflict("reactions")`.
    async fn add_reaction(
        &self,
        reaction: StoredReaction,
        max_emojis: usize,
    ) -> StoreResult<Option<bool>>;
    /// Removes one user's reaction; whether there was one.
    async fn remove_reaction(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        user_id: Snowflake,
    ) -> StoreResult<bool>;
    /// Removes every reaction of the message (`emoji_key` None) or those with one emoji;
    /// returns how many were removed.
    async fn remove_reactions(
        &self,
        message_id: Snowflake,
        emoji_key: Option<&str>,
    ) -> StoreResult<u64>;
    /// Ids of the users who reacted with the emoji, above `after`, ascending, at most `limit`.
    async fn reaction_users(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Snowflake>>;
    /// For each of the messages, its emojis in the order each was first used, with their
    /// counts and whether `viewer` reacted; grouped by message in the order of `message_ids`.
    async fn reaction_summaries(
        &self,
        message_ids: &[Snowflake],
        viewer: Snowflake,
    ) -> StoreResult<Vec<ReactionSummary>>;

    // --- emojis ---
    async fn create_emoji(
        &self,
        guild_id: Snowflake,
        emoji: Emoji,
        image: EmojiImage,
    ) -> StoreResult<()>;
    /// The guild's emojis, oldest first.
    async fn emojis_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Emoji>>;
    /// An emoji of any guild, with its guild's id.
    async fn emoji(&self, emoji_id: Snowflake) -> StoreResult<Option<(Snowflake, Emoji)>>;
    /// Replaces an emoji of the guild; false when there is none.
    async fn update_emoji(&self, guild_id: Snowflake, emoji: Emoji) -> StoreResult<bool>;
    /// Deletes an emoji of the guild (reactions with it stay, as on Discord); whether it existed.
    async fn delete_emoji(&self, guild_id: Snowflake, emoji_id: Snowflake) -> StoreResult<bool>;
    async fn emoji_image(&self, emoji_id: Snowflake) -> StoreResult<Option<EmojiImage>>;

    // --- dms ---

    /// Stores `channel` (a new DM channel with two recipients) unless the pair already has a
    /// DM channel; returns the pair's channel either way. One channel per pair even when both
    /// users open it at once.
    async fn open_dm(&self, channel: Channel) -> StoreResult<Channel>;
    /// The DM channels the user is in, ascending by id.
    async fn dm_channels_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Channel>>;

    // --- interactions ---
    /// Creates or replaces (by id) an application command.
    async fn put_command(&self, command: ApplicationCommand) -> StoreResult<()>;
    /// One command of the application (global or of any guild).
    async fn command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<Option<ApplicationCommand>>;
    /// The application's global commands (`guild_id` `None`) or those of one guild, by id.
    async fn commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
    ) -> StoreResult<Vec<ApplicationCommand>>;
    /// Returns whether a command was deleted.
    async fn delete_command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<bool>;
    /// Replaces the whole set (global or one guild's) in one transaction (bulk overwrite).
    async fn replace_commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
        commands: Vec<ApplicationCommand>,
    ) -> StoreResult<()>;
    async fn create_interaction(&self, record: InteractionRecord) -> StoreResult<()>;
    async fn interaction(&self, id: Snowflake) -> StoreResult<Option<InteractionRecord>>;
    /// Records the first response (its callback type and the message `@original` names);
    /// true only for the one caller that got there first, so an interaction is answered once
    /// even when two nodes take callbacks at the same time.
    async fn acknowledge_interaction(
        &self,
        id: Snowflake,
        response: u8,
        original_message_id: Option<Snowflake>,
    ) -> StoreResult<bool>;
    /// Replaces the interaction's ephemeral messages.
    async fn set_interaction_ephemeral(
        &self,
        id: Snowflake,
        messages: Vec<Message>,
    ) -> StoreResult<()>;
    /// Forgets interactions created before `before_ms` (their tokens have expired); returns how
    /// many.
    async fn delete_interactions_before(&self, before_ms: u64) -> StoreResult<u64>;

    // --- audit log ---
    /// Appends an entry (with its `guild_id` set) to its guild's audit log. Deleting the guild
    /// deletes its log.
    async fn add_audit_entry(&self, entry: AuditLogEntry) -> StoreResult<()>;
    /// The guild's entries that match `query`, newest first, at most `query.limit`.
    async fn audit_entries(
        &self,
        guild_id: Snowflake,
        query: AuditQuery,
    ) -> StoreResult<Vec<AuditLogEntry>>;
    // --- command permissions ---
    /// Replaces the overwrites of one command (or, `id` = the application id, of the whole
    /// application) in one guild; an empty list removes the entry.
    async fn put_command_permissions(
        &self,
        permissions: GuildCommandPermissions,
    ) -> StoreResult<()>;
    /// Every stored entry of the application in the guild, by id.
    async fn command_permissions_of_guild(
        &self,
        application_id: Snowflake,
        guild_id: Snowflake,
    ) -> StoreResult<Vec<GuildCommandPermissions>>;
    /// Forgets the guild's commands and command permissions: of one application (its bot left
    /// the guild) or, `None`, of every application (the guild was deleted).
    async fn delete_guild_commands(
        &self,
        guild_id: Snowflake,
        application_id: Option<Snowflake>,
    ) -> StoreResult<()>;
    /// Counts `by` more commands created by the application in `scope` (a guild id, or 0 for
    /// global commands) on `day` (days since the Unix epoch); returns the day's count so far.
    async fn count_command_create(
        &self,
        application_id: Snowflake,
        scope: u64,
        day: u64,
        by: u64,
    ) -> StoreResult<u64>;
    /// Replaces what the interaction remembers (`context`, e.g. the custom_id of the modal its
    /// bot opened); its response and messages are untouched.
    async fn set_interaction_context(
        &self,
        id: Snowflake,
        context: serde_json::Value,
    ) -> StoreResult<()>;
    /// The interactions created before `before_ms` (about to be forgotten), with their
    /// ephemeral messages, so the bytes they own can be removed.
    async fn interactions_before(&self, before_ms: u64) -> StoreResult<Vec<InteractionRecord>>;
}

/// The two users of a DM channel, smaller id first: the key that makes it one channel per pair.
fn dm_pair(channel: &Channel) -> StoreResult<(Snowflake, Snowflake)> {
    match channel.recipients.as_slice() {
        [a, b] if a.id != b.id => Ok((a.id.min(b.id), a.id.max(b.id))),
        _ => Err(crate::error::StoreError::Backend(
            "a DM channel needs two distinct recipients".into(),
        )),
    }
}
