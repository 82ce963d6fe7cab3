//! The default store: one SQLite file (WAL, synchronous=FULL) in the data directory, so a
//! write is on disk before the client hears about it. Records are JSON documents beside the
//! columns that are indexed.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::group_commit::GroupCommit;
use super::{
    emoji_record, nonce_key, AuditQuery, EmojiImage, MessageWindow, NewGuild, Pin, ReactionSummary,
    Store, StoreResult, StoredReaction, UserRecord,
};
use crate::error::StoreError;
use crate::model::{
    Application, ApplicationCommand, AuditLogEntry, Ban, Channel, CurrentUser, Emoji, Guild,
    GuildCommandPermissions, InteractionRecord, Invite, Member, Message, Role, Snowflake, Webhook,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY, username TEXT NOT NULL, is_bot INTEGER NOT NULL, email TEXT UNIQUE,
    password_hash TEXT, data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS users_by_username ON users (username) WHERE is_bot = 0;
CREATE TABLE IF NOT EXISTS applications (
    id INTEGER PRIMARY KEY, owner_id INTEGER NOT NULL, token_issued_ms INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS guilds (id INTEGER PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channels (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS channels_by_guild ON channels (guild_id, id);
CREATE TABLE IF NOT EXISTS roles (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS roles_by_guild ON roles (guild_id, id);
CREATE TABLE IF NOT EXISTS members (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS members_by_user ON members (user_id, guild_id);
CREATE TABLE IF NOT EXISTS bans (
    guild_id INTEGER NOT NULL, user_id INTEGER NOT NULL, reason TEXT,
    PRIMARY KEY (guild_id, user_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS invites (code TEXT PRIMARY KEY, guild_id INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY, channel_id INTEGER NOT NULL, author_id INTEGER NOT NULL, nonce TEXT,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS messages_by_channel ON messages (channel_id, id);
CREATE TABLE IF NOT EXISTS pins (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    channel_id INTEGER NOT NULL, pinned_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS pins_by_channel ON pins (channel_id, pinned_at);
CREATE INDEX IF NOT EXISTS messages_by_nonce ON messages (channel_id, author_id, nonce) WHERE nonce IS NOT NULL;
CREATE TABLE IF NOT EXISTS reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji_key TEXT NOT NULL, user_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
    ord INTEGER NOT NULL, emoji TEXT NOT NULL,
    PRIMARY KEY (message_id, emoji_key, user_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reactions_by_order ON reactions (message_id, ord);
CREATE TABLE IF NOT EXISTS emojis (
    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, data TEXT NOT NULL,
    content_type TEXT NOT NULL, image BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS emojis_by_guild ON emojis (guild_id, id);
-- interactions: guild_id 0 is a global command
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY, application_id INTEGER NOT NULL, guild_id INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS commands_by_scope ON commands (application_id, guild_id, id);
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, response INTEGER,
    original_message_id INTEGER, ephemeral TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS interactions_by_age ON interactions (created_ms);
";

/// One row per pair of users that has a DM channel (the primary key makes it one channel per
/// pair, whoever opens it first).
const SCHEMA_DMS: &str = "
CREATE TABLE IF NOT EXISTS dm_channels (
    user_lo INTEGER NOT NULL, user_hi INTEGER NOT NULL, channel_id INTEGER NOT NULL,
    PRIMARY KEY (user_lo, user_hi)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dm_channels_by_hi ON dm_channels (user_hi);
CREATE INDEX IF NOT EXISTS dm_channels_by_channel ON dm_channels (channel_id);
";

/// Webhooks: looked up by id, listed per channel and per guild.
const WEBHOOK_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS webhooks (
    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
    data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_by_channel ON webhooks (channel_id, id);
CREATE INDEX IF NOT EXISTS webhooks_by_guild ON webhooks (guild_id, id);
";

/// The audit log: read per guild, newest first, optionally by actor, target or action.
const AUDIT_LOG_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, user_id INTEGER, target_id INTEGER,
    action_type INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_by_guild ON audit_log (guild_id, id);
";

/// Command permission overwrites, one row per (application, guild, command or application
/// id); daily counts of command creations (Discord's 200 a day per scope).
const COMMAND_PERMISSIONS_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS command_permissions (
    application_id INTEGER NOT NULL, guild_id INTEGER NOT NULL, id INTEGER NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (application_id, guild_id, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS command_permissions_by_guild ON command_permissions (guild_id);
CREATE TABLE IF NOT EXISTS command_creates (
    application_id INTEGER NOT NULL, scope INTEGER NOT NULL, day INTEGER NOT NULL,
    count INTEGER NOT NULL, PRIMARY KEY (application_id, scope, day)) WITHOUT ROWID;
";

/// SQLite-backed `Store`. Writes go to one writer thread that group-commits them; reads use a
/// small pool of read-only connections (small ones inline, large ones on tokio's blocking
/// pool; see `read` and `scan`), which WAL lets proceed while the writer holds its
/// transaction (a reader sees every write whose caller has been
/// answered, since callers are answered after the COMMIT).
#[derive(Clone)]
pub struct EmbeddedStore {
    readers: r2d2::Pool<ReadConnections>,
    /// Every write goes through one writer thread that commits them in batches.
    writer: GroupCommit,
    /// Attachment bytes, in `<data-dir>/attachments`.
    blobs: Arc<super::FileBlobStore>,
}

/// Prepared statements kept per connection (rusqlite's default of 16 is fewer than the
/// statements one request path uses).
const STATEMENT_CACHE: usize = 256;

/// Page cache per read connection, in KiB (SQLite's `cache_size` counts KiB when negative).
/// SQLite's default of 2 MiB per connection let the readers' caches grow by up to 8 MiB during
/// a connection storm, depending on which readers the storm happened to use; the hot pages of
/// the per-request lookups (b-tree interiors, recent rows) fit in far less, and the rest comes
/// from the operating system's file cache.
const READER_CACHE_KIB: i64 = -512;

/// Read connections, all opened up front: one per runtime worker (which may read inline) and a
/// few for the blocking pool's longer reads.
fn readers_wanted() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores + 2).unwrap_or(u32::MAX)
}

impl EmbeddedStore {
    /// Opens (creating if needed) `accord.db` in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::Backend(e.to_string()))?;
        let path = data_dir.join("accord.db");
        let conn = Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), VFS)
            .map_err(backend)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(backend)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.execute_batch(SCHEMA).map_err(backend)?;
        conn.execute_batch(WEBHOOK_SCHEMA).map_err(backend)?;
        conn.execute_batch(SCHEMA_DMS).map_err(backend)?;
        conn.execute_batch(COMMAND_PERMISSIONS_SCHEMA)
            .map_err(backend)?;
        conn.execute_batch(AUDIT_LOG_SCHEMA).map_err(backend)?;
        let readers = ReadConnections { path };
        let readers = r2d2::Pool::builder()
            .max_size(readers_wanted())
            .build(readers)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let writer = GroupCommit::start(conn).map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(EmbeddedStore {
            readers,
            writer,
            blobs: Arc::new(super::FileBlobStore::new(data_dir.join("attachments"))),
        })
    }

    /// Runs a small read (a lookup by key, a guild's roles or channels) right here when a read
    /// connection is free, else on the blocking pool. Such a read takes tens of microseconds
    /// from SQLite's page cache, while a trip to the blocking pool and back puts the caller
    /// at the end of the runtime's run queue: under gateway load that queue holds thousands
    /// of connection tasks, and a REST request made of several reads waited behind it once
    /// per read (M3's first-recipient latency fell from 127 ms to 22 ms at p50 without it).
    async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        match self.readers.try_get() {
            Some(reader) => work(&reader).map_err(classify),
            None => self.scan(work).await,
        }
    }

    /// Runs a read whose cost grows with the data (member lists, history pages, counts) with a
    /// read-only connection on the blocking pool.
    async fn scan<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let reader = readers
                .get()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            work(&reader).map_err(classify)
        })
        .await
        .map_err(|e| StoreError::Backend(e.to_string()))?
    }

    /// Runs `work` as one write transaction that commits only if `work` succeeds. It is
    /// group-committed with the other writes waiting at the same moment (see
    /// [`GroupCommit`]); it returns once its COMMIT is durable.
    async fn in_transaction<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer.write(work, classify).await
    }
}

/// The SQLite VFS every connection uses. One server process owns its data directory, so
/// `unix-excl` takes one exclusive lock for the process and coordinates its own connections in
/// memory (the WAL index lives on the heap): each read transaction otherwise costs a handful of
/// `fcntl` lock calls, a few per cent of the server's CPU in a connection storm. Another
/// process (a second server, the `sqlite3` shell) gets "database is locked" while it runs.
const VFS: &str = "unix-excl";

/// Opens the read connections of the pool (r2d2_sqlite cannot name a VFS).
struct ReadConnections {
    path: std::path::PathBuf,
}

impl r2d2::ManageConnection for ReadConnections {
    type Connection = Connection;
    type Error = rusqlite::Error;

    fn connect(&self) -> rusqlite::Result<Connection> {
        // Opened read-write because `unix-excl` handles read-only connections with real file
        // locks, which would release the process's own; `query_only` still makes a write that
        // slipped into `read` fail loudly instead of bypassing the writer's group commit.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let reader = Connection::open_with_flags_and_vfs(&self.path, flags, VFS)?;
        reader.pragma_update(None, "query_only", true)?;
        reader.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        reader.pragma_update(None, "cache_size", READER_CACHE_KIB)?;
        reader.busy_timeout(BUSY_TIMEOUT)?;
        Ok(reader)
    }

    fn is_valid(&self, reader: &mut Connection) -> rusqlite::Result<()> {
        reader.execute_batch("")
    }

    fn has_broken(&self, _: &mut Connection) -> bool {
        false
    }
}

/// How long a connection waits for a lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

fn backend(err: rusqlite::Error) -> StoreError {
    StoreError::Backend(err.to_string())
}

/// Maps unique-constraint failures to `Conflict` naming the column, everything else to Backend.
fn classify(err: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(code, Some(message)) = &err {
        if code.code == rusqlite::ErrorCode::ConstraintViolation {
            return StoreError::Conflict(if message.contains("users.username") {
                "username"
            } else if message.contains("users.email") {
                "email"
            } else if message.contains("members.") {
                "member"
            } else {
                "unique"
            });
        }
    }
    StoreError::Backend(err.to_string())
}

fn id(snowflake: Snowflake) -> i64 {
    snowflake.0 as i64
}

fn to_json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn from_json<T: DeserializeOwned>(raw: &str) -> rusqlite::Result<T> {
    serde_json::from_str(raw).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// `execute` through the connection's statement cache: parsing the same SQL again for every
/// write showed up in the REST write profile.
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

/// `query_row` through the connection's statement cache.
fn query_one<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    conn.prepare_cached(sql)?.query_row(params, row)
}

/// Reads one JSON document (`data` column) or `None`.
fn one<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Option<T>> {
    conn.prepare_cached(sql)?
        .query_row(params, |row| row.get::<_, String>(0))
        .optional()?
        .map(|raw| from_json(&raw))
        .transpose()
}

/// Reads every JSON document a query returns.
fn many<T: DeserializeOwned>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params, |row| row.get::<_, String>(0))?;
    rows.map(|raw| from_json(&raw?)).collect()
}

fn user_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, Option<String>)> {
    Ok((row.get(0)?, row.get(1)?))
}

fn read_user(conn: &Connection, user_id: Snowflake) -> rusqlite::Result<Option<UserRecord>> {
    let row = query_one(
        conn,
        "SELECT data, password_hash FROM users WHERE id = ?1",
        [id(user_id)],
        user_record,
    )
    .optional()?;
    row.map(|(data, password_hash)| {
        Ok(UserRecord {
            user: from_json(&data)?,
            password_hash,
        })
    })
    .transpose()
}

fn insert_user(conn: &Connection, record: &UserRecord) -> rusqlite::Result<()> {
    exec(conn,
        "INSERT INTO users (id, username, is_bot, email, password_hash, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id(record.user.user.id),
            record.user.user.username,
            record.user.user.bot,
            record.user.email,
            record.password_hash,
            to_json(&record.user)?
        ],
    )?;
    Ok(())
}

/// Inserts a role at its position, moving every other role at or above it up by one (as
/// Discord does when a role is created at the bottom of the list).
fn insert_role(conn: &Connection, guild_id: Snowflake, role: &Role) -> rusqlite::Result<()> {
    if role.id != guild_id {
        let roles: Vec<Role> = many(
            conn,
            "SELECT data FROM roles WHERE guild_id = ?1",
            [id(guild_id)],
        )?;
        for mut other in roles {
            if other.id != guild_id && other.position >= role.position {
                other.position += 1;
                write_role(conn, &other)?;
            }
        }
    }
    exec(
        conn,
        "INSERT INTO roles (id, guild_id, data) VALUES (?1, ?2, ?3)",
        params![id(role.id), id(guild_id), to_json(role)?],
    )?;
    Ok(())
}

fn insert_channel(conn: &Connection, channel: &Channel) -> rusqlite::Result<()> {
    exec(
        conn,
        "INSERT INTO channels (id, guild_id, data) VALUES (?1, ?2, ?3)",
        // DM channels (no guild) are kept under guild id 0, which no guild has.
        params![
            id(channel.id),
            channel.guild_id.map_or(0, id),
            to_json(channel)?
        ],
    )?;
    Ok(())
}

fn insert_member(conn: &Connection, member: &Member) -> rusqlite::Result<()> {
    exec(
        conn,
        "INSERT INTO members (guild_id, user_id, data) VALUES (?1, ?2, ?3)",
        params![
            id(member.guild_id),
            id(member.user_id),
            to_json(&stored_member(member))?
        ],
    )?;
    Ok(())
}

fn write_channel(conn: &Connection, channel: &Channel) -> rusqlite::Result<()> {
    exec(
        conn,
        "UPDATE channels SET data = ?2 WHERE id = ?1",
        params![id(channel.id), to_json(channel)?],
    )?;
    Ok(())
}

fn write_role(conn: &Connection, role: &Role) -> rusqlite::Result<()> {
    exec(
        conn,
        "UPDATE roles SET data = ?2 WHERE id = ?1",
        params![id(role.id), to_json(role)?],
    )?;
    Ok(())
}

fn write_member(conn: &Connection, member: &Member) -> rusqlite::Result<()> {
    exec(
        conn,
        "UPDATE members SET data = ?3 WHERE guild_id = ?1 AND user_id = ?2",
        params![
            id(member.guild_id),
            id(member.user_id),
            to_json(&stored_member(member))?
        ],
    )?;
    Ok(())
}

fn read_ban(
    conn: &Connection,
    user_id: i64,
    reason: Option<String>,
) -> rusqlite::Result<Option<Ban>> {
    Ok(
        read_user(conn, Snowflake(user_id as u64))?.map(|record| Ban {
            reason,
            user: record.user.user,
        }),
    )
}

/// Deletes the row of a (guild, user) table (`members`, `bans`); returns whether one existed.
fn delete_pair(
    conn: &Connection,
    table: &'static str,
    guild_id: Snowflake,
    user_id: Snowflake,
) -> rusqlite::Result<bool> {
    exec(
        conn,
        &format!("DELETE FROM {table} WHERE guild_id = ?1 AND user_id = ?2"),
        [id(guild_id), id(user_id)],
    )
    .map(|n| n > 0)
}

/// Members are stored without their user object; ids live in columns.
fn stored_member(member: &Member) -> Member {
    Member {
        user: None,
        ..member.clone()
    }
}

/// A stored member document with the ids its row keys it by (the document leaves them out).
fn member_record(guild_id: Snowflake, user_id: Snowflake, data: &str) -> rusqlite::Result<Member> {
    let mut member: Member = from_json(data)?;
    member.guild_id = guild_id;
    member.user_id = user_id;
    Ok(member)
}

/// Fills a stored member's `user`, `user_id` and `guild_id`.
fn hydrate_member(
    conn: &Connection,
    guild_id: i64,
    user_id: i64,
    data: &str,
) -> rusqlite::Result<Member> {
    let mut member = member_record(Snowflake(guild_id as u64), Snowflake(user_id as u64), data)?;
    member.user = read_user(conn, member.user_id)?.map(|record| record.user.user);
    Ok(member)
}

fn read_members(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<Member>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
        .query_map(params, |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(guild_id, user_id, data)| hydrate_member(conn, guild_id, user_id, &data))
        .collect()
}

/// The member without `user` (for callers that know it).
fn read_member_record(
    conn: &Connection,
    guild_id: Snowflake,
    user_id: Snowflake,
) -> rusqlite::Result<Option<Member>> {
    let data: Option<String> = conn
        .prepare_cached("SELECT data FROM members WHERE guild_id = ?1 AND user_id = ?2")?
        .query_row([id(guild_id), id(user_id)], |row| row.get(0))
        .optional()?;
    data.map(|data| member_record(guild_id, user_id, &data))
        .transpose()
}

/// Runs several reads in one read transaction: they see one state of the database, and the
/// transaction's start and end (locks, WAL snapshot) are paid once instead of per statement.
fn in_read_transaction<T>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let tx = conn.unchecked_transaction()?;
    let out = work(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// The member, with `user` filled in.
fn read_member(
    conn: &Connection,
    guild_id: Snowflake,
    user_id: Snowflake,
) -> rusqlite::Result<Option<Member>> {
    Ok(read_members(
        conn,
        "SELECT guild_id, user_id, data FROM members WHERE guild_id = ?1 AND user_id = ?2",
        [id(guild_id), id(user_id)],
    )?
    .pop())
}

fn read_guild(conn: &Connection, guild_id: Snowflake) -> rusqlite::Result<Option<Guild>> {
    one(
        conn,
        "SELECT data FROM guilds WHERE id = ?1",
        [id(guild_id)],
    )
}

fn read_roles(conn: &Connection, guild_id: Snowflake) -> rusqlite::Result<Vec<Role>> {
    many(
        conn,
        "SELECT data FROM roles WHERE guild_id = ?1 ORDER BY id",
        [id(guild_id)],
    )
}

#[async_trait]
impl Store for EmbeddedStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let key = key.to_owned();
        self.read(move |conn| {
            query_one(
                conn,
                "SELECT value FROM settings WHERE key = ?1",
                [key],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }

    async fn setting_init(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        let key = key.to_owned();
        self.in_transaction(move |tx| {
            exec(
                tx,
                "INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)",
                params![key, value],
            )?;
            query_one(
                tx,
                "SELECT value FROM settings WHERE key = ?1",
                [key],
                |row| row.get(0),
            )
        })
        .await
    }

    async fn create_user(&self, record: UserRecord) -> StoreResult<()> {
        self.in_transaction(move |conn| insert_user(conn, &record))
            .await
    }

    async fn user(&self, user_id: Snowflake) -> StoreResult<Option<UserRecord>> {
        self.read(move |conn| read_user(conn, user_id)).await
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<UserRecord>> {
        let login = login.to_owned();
        self.read(move |conn| {
            let found: Option<i64> = query_one(
                conn,
                "SELECT id FROM users WHERE (username = ?1 AND is_bot = 0) OR email = ?1",
                [login],
                |row| row.get(0),
            )
            .optional()?;
            match found {
                Some(user_id) => read_user(conn, Snowflake(user_id as u64)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn update_user(&self, user: CurrentUser) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE users SET username = ?2, email = ?3, data = ?4 WHERE id = ?1",
                params![
                    id(user.user.id),
                    user.user.username,
                    user.email,
                    to_json(&user)?
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_application(&self, app: Application, bot: UserRecord) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            insert_user(tx, &bot)?;
            exec(
                tx,
                "INSERT INTO applications (id, owner_id, data) VALUES (?1, ?2, ?3)",
                params![id(app.id), id(app.owner.id), to_json(&app)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn application(&self, app_id: Snowflake) -> StoreResult<Option<Application>> {
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM applications WHERE id = ?1",
                [id(app_id)],
            )
        })
        .await
    }

    async fn update_application(&self, app: Application) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE applications SET data = ?2 WHERE id = ?1",
                params![id(app.id), to_json(&app)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn bot_token_issued(&self, bot_id: Snowflake) -> StoreResult<u64> {
        self.read(move |conn| {
            let issued: Option<i64> = query_one(
                conn,
                "SELECT token_issued_ms FROM applications WHERE id = ?1",
                [id(bot_id)],
                |row| row.get(0),
            )
            .optional()?;
            Ok(issued.unwrap_or(0) as u64)
        })
        .await
    }

    async fn set_bot_token_issued(&self, bot_id: Snowflake, issued_ms: u64) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE applications SET token_issued_ms = ?2 WHERE id = ?1",
                params![id(bot_id), issued_ms as i64],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_guild(&self, new: NewGuild) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            exec(
                tx,
                "INSERT INTO guilds (id, data) VALUES (?1, ?2)",
                params![id(new.guild.id), to_json(&new.guild)?],
            )?;
            insert_role(tx, new.guild.id, &new.everyone)?;
            for channel in &new.channels {
                insert_channel(tx, channel)?;
            }
            insert_member(tx, &new.owner)
        })
        .await
    }

    async fn guild(&self, guild_id: Snowflake) -> StoreResult<Option<Guild>> {
        self.read(move |conn| read_guild(conn, guild_id)).await
    }

    async fn guild_ids_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Snowflake>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT guild_id FROM members WHERE user_id = ?1 ORDER BY guild_id",
            )?;
            let rows = stmt.query_map([id(user_id)], |row| row.get::<_, i64>(0))?;
            rows.map(|r| r.map(|g| Snowflake(g as u64))).collect()
        })
        .await
    }

    async fn create_channel(&self, channel: Channel) -> StoreResult<()> {
        self.in_transaction(move |conn| insert_channel(conn, &channel))
            .await
    }

    async fn channel(&self, channel_id: Snowflake) -> StoreResult<Option<Channel>> {
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM channels WHERE id = ?1",
                [id(channel_id)],
            )
        })
        .await
    }

    async fn channels_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Channel>> {
        self.read(move |conn| {
            many(
                conn,
                "SELECT data FROM channels WHERE guild_id = ?1 ORDER BY id",
                [id(guild_id)],
            )
        })
        .await
    }

    async fn create_role(&self, guild_id: Snowflake, role: Role) -> StoreResult<()> {
        self.in_transaction(move |tx| insert_role(tx, guild_id, &role))
            .await
    }

    async fn roles_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Role>> {
        self.read(move |conn| read_roles(conn, guild_id)).await
    }

    async fn add_member(&self, member: Member, managed_role: Option<Role>) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            if let Some(role) = &managed_role {
                insert_role(tx, member.guild_id, role)?;
            }
            insert_member(tx, &member)
        })
        .await
    }

    async fn member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Member>> {
        self.read(move |conn| read_member(conn, guild_id, user_id))
            .await
    }

    async fn member_guild_roles(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> StoreResult<Option<(Member, Guild, Vec<Role>)>> {
        self.read(move |conn| {
            in_read_transaction(conn, |conn| {
                let Some(member) = read_member_record(conn, guild_id, user_id)? else {
                    return Ok(None);
                };
                let Some(guild) = read_guild(conn, guild_id)? else {
                    return Ok(None);
                };
                Ok(Some((member, guild, read_roles(conn, guild_id)?)))
            })
        })
        .await
    }

    async fn member_record(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
    ) -> StoreResult<Option<Member>> {
        self.read(move |conn| read_member_record(conn, guild_id, user_id))
            .await
    }

    async fn members_of_guild(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Member>> {
        self.scan(move |conn| {
            read_members(
                conn,
                "SELECT guild_id, user_id, data FROM members WHERE guild_id = ?1 AND user_id > ?2
                 ORDER BY user_id LIMIT ?3",
                params![id(guild_id), id(after), limit],
            )
        })
        .await
    }

    async fn member_records_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Member>> {
        self.scan(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, data FROM members WHERE guild_id = ?1 ORDER BY user_id",
            )?;
            let rows = stmt.query_map([id(guild_id)], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?;
            rows.map(|row| {
                let (user_id, data) = row?;
                member_record(guild_id, Snowflake(user_id as u64), &data)
            })
            .collect()
        })
        .await
    }

    async fn member_count(&self, guild_id: Snowflake) -> StoreResult<u64> {
        self.scan(move |conn| {
            query_one(
                conn,
                "SELECT COUNT(*) FROM members WHERE guild_id = ?1",
                [id(guild_id)],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
        })
        .await
    }

    async fn update_member(&self, member: Member) -> StoreResult<()> {
        self.in_transaction(move |conn| write_member(conn, &member))
            .await
    }

    async fn update_guild(&self, guild: Guild) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE guilds SET data = ?2 WHERE id = ?1",
                params![id(guild.id), to_json(&guild)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_guild(&self, guild_id: Snowflake) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            let g = id(guild_id);
            exec(tx,
                "DELETE FROM messages WHERE channel_id IN (SELECT id FROM channels WHERE guild_id = ?1)",
                [g],
            )?;
            for table in [
                "channels", "roles", "members", "invites", "bans", "webhooks", "audit_log",
            ] {
                exec(tx, &format!("DELETE FROM {table} WHERE guild_id = ?1"), [g])?;
            }
            // Reactions go with their messages (ON DELETE CASCADE); emojis with their guild.
            exec(tx, "DELETE FROM emojis WHERE guild_id = ?1", [g])?;
            exec(tx, "DELETE FROM guilds WHERE id = ?1", [g])?;
            Ok(())
        })
        .await
    }

    async fn update_channels(&self, channels: Vec<Channel>) -> StoreResult<()> {
        self.in_transaction(move |tx| channels.iter().try_for_each(|c| write_channel(tx, c)))
            .await
    }

    async fn delete_channel(&self, channel_id: Snowflake) -> StoreResult<Vec<Channel>> {
        self.in_transaction(move |tx| {
            let Some(channel): Option<Channel> = one(
                tx,
                "SELECT data FROM channels WHERE id = ?1",
                [id(channel_id)],
            )?
            else {
                return Ok(Vec::new());
            };
            exec(
                tx,
                "DELETE FROM messages WHERE channel_id = ?1",
                [id(channel_id)],
            )?;
            exec(tx, "DELETE FROM channels WHERE id = ?1", [id(channel_id)])?;
            exec(
                tx,
                "DELETE FROM webhooks WHERE channel_id = ?1",
                [id(channel_id)],
            )?;
            let Some(guild_id) = channel.guild_id else {
                exec(
                    tx,
                    "DELETE FROM dm_channels WHERE channel_id = ?1",
                    [id(channel_id)],
                )?;
                return Ok(Vec::new());
            };
            let siblings: Vec<Channel> = many(
                tx,
                "SELECT data FROM channels WHERE guild_id = ?1 ORDER BY id",
                [id(guild_id)],
            )?;
            let mut detached = Vec::new();
            for mut child in siblings
                .into_iter()
                .filter(|c| c.parent_id == Some(channel_id))
            {
                child.parent_id = None;
                write_channel(tx, &child)?;
                detached.push(child);
            }
            Ok(detached)
        })
        .await
    }

    async fn update_roles(&self, guild_id: Snowflake, roles: Vec<Role>) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            for role in &roles {
                let owner: Option<i64> = query_one(
                    tx,
                    "SELECT guild_id FROM roles WHERE id = ?1",
                    [id(role.id)],
                    |row| row.get(0),
                )
                .optional()?;
                if owner == Some(id(guild_id)) {
                    write_role(tx, role)?;
                }
            }
            Ok(())
        })
        .await
    }

    async fn delete_role(
        &self,
        guild_id: Snowflake,
        role_id: Snowflake,
    ) -> StoreResult<Vec<Channel>> {
        self.in_transaction(move |tx| {
            exec(
                tx,
                "DELETE FROM roles WHERE id = ?1 AND guild_id = ?2",
                [id(role_id), id(guild_id)],
            )?;
            let members = read_members(
                tx,
                "SELECT guild_id, user_id, data FROM members WHERE guild_id = ?1",
                [id(guild_id)],
            )?;
            for mut member in members.into_iter().filter(|m| m.roles.contains(&role_id)) {
                member.roles.retain(|r| *r != role_id);
                write_member(tx, &member)?;
            }
            let channels: Vec<Channel> = many(
                tx,
                "SELECT data FROM channels WHERE guild_id = ?1 ORDER BY id",
                [id(guild_id)],
            )?;
            let mut changed = Vec::new();
            for mut channel in channels {
                let before = channel.permission_overwrites.len();
                channel.permission_overwrites.retain(|o| o.id != role_id.0);
                if channel.permission_overwrites.len() != before {
                    write_channel(tx, &channel)?;
                    changed.push(channel);
                }
            }
            Ok(changed)
        })
        .await
    }

    async fn remove_member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool> {
        self.in_transaction(move |conn| delete_pair(conn, "members", guild_id, user_id))
            .await
    }

    async fn ban_member(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
    ) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            exec(
                tx,
                "INSERT OR REPLACE INTO bans (guild_id, user_id, reason) VALUES (?1, ?2, ?3)",
                params![id(guild_id), id(user_id), reason],
            )?;
            delete_pair(tx, "members", guild_id, user_id)?;
            Ok(())
        })
        .await
    }

    async fn ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Ban>> {
        self.read(move |conn| {
            let reason: Option<Option<String>> = query_one(
                conn,
                "SELECT reason FROM bans WHERE guild_id = ?1 AND user_id = ?2",
                [id(guild_id), id(user_id)],
                |row| row.get(0),
            )
            .optional()?;
            match reason {
                Some(reason) => read_ban(conn, id(user_id), reason),
                None => Ok(None),
            }
        })
        .await
    }

    async fn bans(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        before: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Ban>> {
        self.scan(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, reason FROM bans WHERE guild_id = ?1 AND user_id > ?2 AND user_id < ?3
                 ORDER BY user_id LIMIT ?4",
            )?;
            let rows = stmt
                .query_map(params![id(guild_id), id(after), id(before), limit], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Option<String>>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut bans = Vec::new();
            for (user_id, reason) in rows {
                bans.extend(read_ban(conn, user_id, reason)?);
            }
            Ok(bans)
        })
        .await
    }

    async fn remove_ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool> {
        self.in_transaction(move |conn| delete_pair(conn, "bans", guild_id, user_id))
            .await
    }

    async fn create_invite(&self, invite: Invite) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "INSERT INTO invites (code, guild_id, data) VALUES (?1, ?2, ?3)",
                params![invite.code, id(invite.guild_id), to_json(&invite)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn invite(&self, code: &str) -> StoreResult<Option<Invite>> {
        let code = code.to_owned();
        self.read(move |conn| one(conn, "SELECT data FROM invites WHERE code = ?1", [code]))
            .await
    }

    async fn use_invite(&self, code: &str, member: Member) -> StoreResult<()> {
        let code = code.to_owned();
        self.in_transaction(move |tx| {
            let invite: Option<Invite> =
                one(tx, "SELECT data FROM invites WHERE code = ?1", [&code])?;
            if let Some(mut invite) = invite {
                invite.uses += 1;
                exec(
                    tx,
                    "UPDATE invites SET data = ?2 WHERE code = ?1",
                    params![code, to_json(&invite)?],
                )?;
            }
            insert_member(tx, &member)
        })
        .await
    }

    async fn create_message(&self, message: Message) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            let nonce = message.nonce.as_ref().map(nonce_key);
            exec(tx,
                "INSERT INTO messages (id, channel_id, author_id, nonce, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id(message.id),
                    id(message.channel_id),
                    id(message.author.id),
                    nonce,
                    to_json(&message)?
                ],
            )?;
            // In place, by SQLite's JSON functions: reading, decoding, encoding and writing
            // back the whole channel for every message showed in the REST write profile.
            exec(
                tx,
                "UPDATE channels SET data = json_set(data, '$.last_message_id', ?2) WHERE id = ?1",
                params![id(message.channel_id), message.id.to_string()],
            )?;
            Ok(())
        })
        .await
    }

    async fn update_message(&self, message: Message) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            let changed = exec(
                conn,
                "UPDATE messages SET data = ?3 WHERE id = ?1 AND channel_id = ?2",
                params![id(message.id), id(message.channel_id), to_json(&message)?],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn delete_messages(
        &self,
        channel_id: Snowflake,
        ids: Vec<Snowflake>,
    ) -> StoreResult<Vec<Snowflake>> {
        self.in_transaction(move |tx| {
            let mut deleted = Vec::new();
            for message_id in ids {
                let gone = exec(
                    tx,
                    "DELETE FROM messages WHERE id = ?1 AND channel_id = ?2",
                    [id(message_id), id(channel_id)],
                )?;
                if gone == 1 {
                    deleted.push(message_id);
                }
            }
            Ok(deleted)
        })
        .await
    }

    async fn set_pinned(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
        pinned_at: Option<String>,
        max_pins: usize,
    ) -> StoreResult<Option<Message>> {
        /// The transaction's outcome: a full channel is not a database error.
        enum Pinning {
            Done(Option<Box<Message>>),
            Full,
        }
        let outcome = self
            .in_transaction(move |tx| {
                let message: Option<Message> = one(
                    tx,
                    "SELECT data FROM messages WHERE id = ?1 AND channel_id = ?2",
                    [id(message_id), id(channel_id)],
                )?;
                let Some(mut message) = message else {
                    return Ok(Pinning::Done(None));
                };
                if message.pinned == pinned_at.is_some() {
                    return Ok(Pinning::Done(Some(Box::new(message))));
                }
                match &pinned_at {
                    Some(at) => {
                        let count: i64 = query_one(
                            tx,
                            "SELECT COUNT(*) FROM pins WHERE channel_id = ?1",
                            [id(channel_id)],
                            |row| row.get(0),
                        )?;
                        if count as usize >= max_pins {
                            return Ok(Pinning::Full);
                        }
                        exec(tx,
                        "INSERT INTO pins (message_id, channel_id, pinned_at) VALUES (?1, ?2, ?3)",
                        params![id(message_id), id(channel_id), at],
                    )?;
                    }
                    None => {
                        exec(
                            tx,
                            "DELETE FROM pins WHERE message_id = ?1",
                            [id(message_id)],
                        )?;
                    }
                }
                message.pinned = pinned_at.is_some();
                exec(
                    tx,
                    "UPDATE messages SET data = ?2 WHERE id = ?1",
                    params![id(message_id), to_json(&message)?],
                )?;
                Ok(Pinning::Done(Some(Box::new(message))))
            })
            .await?;
        match outcome {
            Pinning::Done(message) => Ok(message.map(|m| *m)),
            Pinning::Full => Err(StoreError::Conflict("pins")),
        }
    }

    async fn pins(
        &self,
        channel_id: Snowflake,
        before: Option<String>,
        limit: u32,
    ) -> StoreResult<Vec<Pin>> {
        self.read(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT pins.pinned_at, messages.data FROM pins JOIN messages ON messages.id = pins.message_id
                 WHERE pins.channel_id = ?1 AND (?2 IS NULL OR pins.pinned_at < ?2)
                 ORDER BY pins.pinned_at DESC, pins.message_id DESC LIMIT ?3",
            )?;
            let rows = statement.query_map(params![id(channel_id), before, limit], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            let mut pins = Vec::new();
            for row in rows {
                let (pinned_at, data) = row?;
                pins.push(Pin {
                    pinned_at,
                    message: from_json(&data)?,
                });
            }
            Ok(pins)
        })
        .await
    }

    async fn message(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
    ) -> StoreResult<Option<Message>> {
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM messages WHERE id = ?1 AND channel_id = ?2",
                [id(message_id), id(channel_id)],
            )
        })
        .await
    }

    async fn messages(
        &self,
        channel_id: Snowflake,
        window: MessageWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        self.scan(move |conn| {
            let channel = id(channel_id);
            match window {
                MessageWindow::Before(before) => many(
                    conn,
                    "SELECT data FROM messages WHERE channel_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                    params![channel, before.map_or(i64::MAX, id), limit],
                ),
                MessageWindow::After(after) => {
                    let mut list: Vec<Message> = many(
                        conn,
                        "SELECT data FROM messages WHERE channel_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3",
                        params![channel, id(after), limit],
                    )?;
                    list.reverse();
                    Ok(list)
                }
                MessageWindow::Around(around) => {
                    // The target and the newer half (rounded up), then the older half.
                    let newer_count = limit - limit / 2;
                    let mut newer: Vec<Message> = many(
                        conn,
                        "SELECT data FROM messages WHERE channel_id = ?1 AND id >= ?2 ORDER BY id ASC LIMIT ?3",
                        params![channel, id(around), newer_count],
                    )?;
                    newer.reverse();
                    let older: Vec<Message> = many(
                        conn,
                        "SELECT data FROM messages WHERE channel_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                        params![channel, id(around), limit.saturating_sub(newer.len() as u32)],
                    )?;
                    newer.extend(older);
                    Ok(newer)
                }
            }
        })
        .await
    }

    async fn delete_recent_messages(
        &self,
        guild_id: Snowflake,
        author_id: Snowflake,
        since: Snowflake,
    ) -> StoreResult<Vec<(Snowflake, Vec<Snowflake>)>> {
        self.in_transaction(move |tx| {
            let mut stmt = tx.prepare_cached(
                "SELECT channel_id, id FROM messages WHERE author_id = ?1 AND id > ?2
                 AND channel_id IN (SELECT id FROM channels WHERE guild_id = ?3) ORDER BY channel_id, id",
            )?;
            let rows = stmt
                .query_map([id(author_id), id(since), id(guild_id)], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut deleted: Vec<(Snowflake, Vec<Snowflake>)> = Vec::new();
            for (channel, message) in rows {
                exec(tx, "DELETE FROM messages WHERE id = ?1", [message])?;
                let (channel, message) = (Snowflake(channel as u64), Snowflake(message as u64));
                match deleted.last_mut() {
                    Some((last, ids)) if *last == channel => ids.push(message),
                    _ => deleted.push((channel, vec![message])),
                }
            }
            Ok(deleted)
        })
        .await
    }

    async fn message_by_nonce(
        &self,
        channel_id: Snowflake,
        author_id: Snowflake,
        nonce: &str,
        since: Snowflake,
    ) -> StoreResult<Option<Message>> {
        let nonce = nonce.to_owned();
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM messages WHERE channel_id = ?1 AND author_id = ?2 AND nonce = ?3
                 AND id > ?4 ORDER BY id DESC LIMIT 1",
                params![id(channel_id), id(author_id), nonce, id(since)],
            )
        })
        .await
    }

    // --- reactions ---
    async fn add_reaction(
        &self,
        reaction: StoredReaction,
        max_emojis: usize,
    ) -> StoreResult<Option<bool>> {
        /// The transaction's outcome: a full message is not a database error.
        enum Adding {
            Done(Option<bool>),
            Full,
        }
        let outcome = self
            .in_transaction(move |tx| {
                let message = id(reaction.message_id);
                let exists = query_one(
                    tx,
                    "SELECT 1 FROM messages WHERE id = ?1 AND channel_id = ?2",
                    [message, id(reaction.channel_id)],
                    |_| Ok(()),
                )
                .optional()?;
                if exists.is_none() {
                    return Ok(Adding::Done(None));
                }
                let key = reaction.emoji.key();
                let (mine, same_emoji, emojis): (i64, i64, i64) = query_one(
                    tx,
                    "SELECT COALESCE(SUM(emoji_key = ?2 AND user_id = ?3), 0),
                            COALESCE(SUM(emoji_key = ?2), 0), COUNT(DISTINCT emoji_key)
                     FROM reactions WHERE message_id = ?1",
                    params![message, key, id(reaction.user_id)],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )?;
                if mine > 0 {
                    return Ok(Adding::Done(Some(false)));
                }
                if same_emoji == 0 && emojis as usize >= max_emojis {
                    return Ok(Adding::Full);
                }
                exec(
                    tx,
                    "INSERT INTO reactions (message_id, emoji_key, user_id, channel_id, ord, emoji)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        message,
                        key,
                        id(reaction.user_id),
                        id(reaction.channel_id),
                        id(reaction.order),
                        to_json(&reaction.emoji)?
                    ],
                )?;
                Ok(Adding::Done(Some(true)))
            })
            .await?;
        match outcome {
            Adding::Done(added) => Ok(added),
            Adding::Full => Err(StoreError::Conflict("reactions")),
        }
    }

    async fn remove_reaction(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        user_id: Snowflake,
    ) -> StoreResult<bool> {
        let key = emoji_key.to_owned();
        self.in_transaction(move |conn| {
            exec(
                conn,
                "DELETE FROM reactions WHERE message_id = ?1 AND emoji_key = ?2 AND user_id = ?3",
                params![id(message_id), key, id(user_id)],
            )
            .map(|n| n > 0)
        })
        .await
    }

    async fn remove_reactions(
        &self,
        message_id: Snowflake,
        emoji_key: Option<&str>,
    ) -> StoreResult<u64> {
        let key = emoji_key.map(str::to_owned);
        self.in_transaction(move |conn| {
            exec(
                conn,
                "DELETE FROM reactions WHERE message_id = ?1 AND (?2 IS NULL OR emoji_key = ?2)",
                params![id(message_id), key],
            )
            .map(|n| n as u64)
        })
        .await
    }

    async fn reaction_users(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Snowflake>> {
        let key = emoji_key.to_owned();
        self.scan(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT user_id FROM reactions WHERE message_id = ?1 AND emoji_key = ?2
                 AND user_id > ?3 ORDER BY user_id LIMIT ?4",
            )?;
            let rows = statement
                .query_map(params![id(message_id), key, id(after), limit], |row| {
                    row.get::<_, i64>(0)
                })?;
            rows.map(|raw| raw.map(|v| Snowflake(v as u64))).collect()
        })
        .await
    }

    async fn reaction_summaries(
        &self,
        message_ids: &[Snowflake],
        viewer: Snowflake,
    ) -> StoreResult<Vec<ReactionSummary>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let wanted: Vec<i64> = message_ids.iter().map(|m| id(*m)).collect();
        self.scan(move |conn| {
            let marks = vec!["?"; wanted.len()].join(",");
            // With MIN(ord) as the only min/max aggregate, SQLite takes the bare `emoji` from
            // the first reaction of each group.
            let sql = format!(
                "SELECT message_id, emoji, COUNT(*), SUM(user_id = {viewer}), MIN(ord) AS first
                 FROM reactions WHERE message_id IN ({marks})
                 GROUP BY message_id, emoji_key ORDER BY first",
                viewer = id(viewer)
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map(rusqlite::params_from_iter(wanted.iter()), |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, i64>(3)?,
                ))
            })?;
            let mut found = Vec::new();
            for row in rows {
                let (message, emoji, count, mine) = row?;
                found.push(ReactionSummary {
                    message_id: Snowflake(message as u64),
                    emoji: from_json(&emoji)?,
                    count: count as u32,
                    me: mine > 0,
                });
            }
            // Stable: each message's emojis stay in first-use order.
            found.sort_by_key(|s| {
                wanted
                    .iter()
                    .position(|m| *m == id(s.message_id))
                    .unwrap_or(usize::MAX)
            });
            Ok(found)
        })
        .await
    }

    // --- emojis ---
    async fn create_emoji(
        &self,
        guild_id: Snowflake,
        emoji: Emoji,
        image: EmojiImage,
    ) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(conn,
                "INSERT INTO emojis (id, guild_id, data, content_type, image) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id(emoji.id),
                    id(guild_id),
                    to_json(&emoji_record(&emoji))?,
                    image.content_type,
                    image.bytes
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn emojis_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Emoji>> {
        self.read(move |conn| {
            let mut statement =
                conn.prepare_cached("SELECT data FROM emojis WHERE guild_id = ?1 ORDER BY id")?;
            let rows = statement.query_map([id(guild_id)], |row| row.get::<_, String>(0))?;
            rows.map(|raw| read_emoji(&raw?)).collect()
        })
        .await
    }

    async fn emoji(&self, emoji_id: Snowflake) -> StoreResult<Option<(Snowflake, Emoji)>> {
        self.read(move |conn| {
            let row = query_one(
                conn,
                "SELECT guild_id, data FROM emojis WHERE id = ?1",
                [id(emoji_id)],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
            )
            .optional()?;
            row.map(|(guild, data)| Ok((Snowflake(guild as u64), read_emoji(&data)?)))
                .transpose()
        })
        .await
    }

    async fn update_emoji(&self, guild_id: Snowflake, emoji: Emoji) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE emojis SET data = ?3 WHERE id = ?1 AND guild_id = ?2",
                params![id(emoji.id), id(guild_id), to_json(&emoji_record(&emoji))?],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn delete_emoji(&self, guild_id: Snowflake, emoji_id: Snowflake) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "DELETE FROM emojis WHERE id = ?1 AND guild_id = ?2",
                [id(emoji_id), id(guild_id)],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn emoji_image(&self, emoji_id: Snowflake) -> StoreResult<Option<EmojiImage>> {
        self.scan(move |conn| {
            query_one(
                conn,
                "SELECT content_type, image FROM emojis WHERE id = ?1",
                [id(emoji_id)],
                |row| {
                    Ok(EmojiImage {
                        content_type: row.get(0)?,
                        bytes: row.get(1)?,
                    })
                },
            )
            .optional()
        })
        .await
    }

    // --- interactions ---
    async fn put_command(&self, command: ApplicationCommand) -> StoreResult<()> {
        self.in_transaction(move |conn| write_command(conn, &command))
            .await
    }

    async fn command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<Option<ApplicationCommand>> {
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM commands WHERE id = ?1 AND application_id = ?2",
                [id(command_id), id(application_id)],
            )
        })
        .await
    }

    async fn commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
    ) -> StoreResult<Vec<ApplicationCommand>> {
        let scope = guild_id.map_or(0, id);
        self.read(move |conn| {
            many(
                conn,
                "SELECT data FROM commands WHERE application_id = ?1 AND guild_id = ?2 ORDER BY id",
                [id(application_id), scope],
            )
        })
        .await
    }

    async fn delete_command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            let deleted = exec(
                conn,
                "DELETE FROM commands WHERE id = ?1 AND application_id = ?2",
                [id(command_id), id(application_id)],
            )?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn replace_commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
        commands: Vec<ApplicationCommand>,
    ) -> StoreResult<()> {
        let scope = guild_id.map_or(0, id);
        self.in_transaction(move |tx| {
            exec(
                tx,
                "DELETE FROM commands WHERE application_id = ?1 AND guild_id = ?2",
                [id(application_id), scope],
            )?;
            for command in &commands {
                write_command(tx, command)?;
            }
            Ok(())
        })
        .await
    }

    async fn create_interaction(&self, record: InteractionRecord) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(conn,
                "INSERT INTO interactions (id, created_ms, response, original_message_id, ephemeral, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id(record.id),
                    record.created_ms as i64,
                    record.response,
                    record.original_message_id.map(id),
                    to_json(&record.ephemeral)?,
                    to_json(&record)?
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn interaction(
        &self,
        interaction_id: Snowflake,
    ) -> StoreResult<Option<InteractionRecord>> {
        self.read(move |conn| {
            let row = query_one(conn,
                    "SELECT data, response, original_message_id, ephemeral FROM interactions WHERE id = ?1",
                    [id(interaction_id)],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<u8>>(1)?,
                            row.get::<_, Option<i64>>(2)?,
                            row.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()?;
            let Some((data, response, original, ephemeral)) = row else {
                return Ok(None);
            };
            let mut record: InteractionRecord = from_json(&data)?;
            record.response = response;
            record.original_message_id = original.map(|raw| Snowflake(raw as u64));
            record.ephemeral = from_json(&ephemeral)?;
            Ok(Some(record))
        })
        .await
    }

    async fn acknowledge_interaction(
        &self,
        interaction_id: Snowflake,
        response: u8,
        original_message_id: Option<Snowflake>,
    ) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            let changed = exec(
                conn,
                "UPDATE interactions SET response = ?2, original_message_id = ?3 \
                 WHERE id = ?1 AND response IS NULL",
                params![id(interaction_id), response, original_message_id.map(id)],
            )?;
            Ok(changed == 1)
        })
        .await
    }

    async fn set_interaction_ephemeral(
        &self,
        interaction_id: Snowflake,
        messages: Vec<Message>,
    ) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            exec(
                conn,
                "UPDATE interactions SET ephemeral = ?2 WHERE id = ?1",
                params![id(interaction_id), to_json(&messages)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_interactions_before(&self, before_ms: u64) -> StoreResult<u64> {
        self.in_transaction(move |conn| {
            let deleted = exec(
                conn,
                "DELETE FROM interactions WHERE created_ms < ?1",
                [before_ms as i64],
            )?;
            Ok(deleted as u64)
        })
        .await
    }

    // --- files ---
    fn blobs(&self) -> Arc<dyn super::BlobStore> {
        Arc::clone(&self.blobs) as Arc<dyn super::BlobStore>
    }

    // --- webhooks ---
    async fn create_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            if webhook_count(tx, webhook.channel_id)? >= max_per_channel {
                return Ok(Err(StoreError::Conflict("webhooks")));
            }
            exec(
                tx,
                "INSERT INTO webhooks (id, guild_id, channel_id, data) VALUES (?1, ?2, ?3, ?4)",
                params![
                    id(webhook.id),
                    id(webhook.guild_id),
                    id(webhook.channel_id),
                    to_json(&webhook)?
                ],
            )?;
            Ok(Ok(()))
        })
        .await?
    }

    async fn webhook(&self, webhook_id: Snowflake) -> StoreResult<Option<Webhook>> {
        self.read(move |conn| {
            one(
                conn,
                "SELECT data FROM webhooks WHERE id = ?1",
                [id(webhook_id)],
            )
        })
        .await
    }

    async fn webhooks_of_channel(&self, channel_id: Snowflake) -> StoreResult<Vec<Webhook>> {
        self.read(move |conn| {
            many(
                conn,
                "SELECT data FROM webhooks WHERE channel_id = ?1 ORDER BY id",
                [id(channel_id)],
            )
        })
        .await
    }

    async fn webhooks_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Webhook>> {
        self.read(move |conn| {
            many(
                conn,
                "SELECT data FROM webhooks WHERE guild_id = ?1 ORDER BY id",
                [id(guild_id)],
            )
        })
        .await
    }

    async fn update_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<bool> {
        self.in_transaction(move |tx| {
            let Some(current): Option<Webhook> = one(
                tx,
                "SELECT data FROM webhooks WHERE id = ?1",
                [id(webhook.id)],
            )?
            else {
                return Ok(Ok(false));
            };
            if current.channel_id != webhook.channel_id
                && webhook_count(tx, webhook.channel_id)? >= max_per_channel
            {
                return Ok(Err(StoreError::Conflict("webhooks")));
            }
            exec(
                tx,
                "UPDATE webhooks SET guild_id = ?2, channel_id = ?3, data = ?4 WHERE id = ?1",
                params![
                    id(webhook.id),
                    id(webhook.guild_id),
                    id(webhook.channel_id),
                    to_json(&webhook)?
                ],
            )?;
            Ok(Ok(true))
        })
        .await?
    }

    async fn delete_webhook(&self, webhook_id: Snowflake) -> StoreResult<bool> {
        self.in_transaction(move |conn| {
            Ok(exec(conn, "DELETE FROM webhooks WHERE id = ?1", [id(webhook_id)])? > 0)
        })
        .await
    }

    // --- dms ---

    async fn open_dm(&self, channel: Channel) -> StoreResult<Channel> {
        let (lo, hi) = super::dm_pair(&channel)?;
        self.in_transaction(move |tx| {
            let existing: Option<Channel> = one(
                tx,
                "SELECT c.data FROM dm_channels d JOIN channels c ON c.id = d.channel_id
                 WHERE d.user_lo = ?1 AND d.user_hi = ?2",
                [id(lo), id(hi)],
            )?;
            if let Some(existing) = existing {
                return Ok(existing);
            }
            insert_channel(tx, &channel)?;
            exec(
                tx,
                "INSERT INTO dm_channels (user_lo, user_hi, channel_id) VALUES (?1, ?2, ?3)",
                params![id(lo), id(hi), id(channel.id)],
            )?;
            Ok(channel)
        })
        .await
    }

    async fn dm_channels_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Channel>> {
        // Inline: every IDENTIFY reads it (READY's private_channels), and it is one user's list.
        // Two index lookups and a sort here rather than `OR` + `ORDER BY`: SQLite answers those
        // with two temporary b-trees built and freed per query, which made this empty lookup
        // 8 % of the server's CPU in a connection storm.
        self.read(move |conn| {
            let mut channels: Vec<Channel> = many(
                conn,
                "SELECT c.data FROM dm_channels d JOIN channels c ON c.id = d.channel_id
                 WHERE d.user_lo = ?1
                 UNION ALL
                 SELECT c.data FROM dm_channels d JOIN channels c ON c.id = d.channel_id
                 WHERE d.user_hi = ?1 AND d.user_lo <> ?1",
                [id(user_id)],
            )?;
            channels.sort_unstable_by_key(|channel| channel.id);
            Ok(channels)
        })
        .await
    }

    // --- audit log ---

    async fn add_audit_entry(&self, entry: AuditLogEntry) -> StoreResult<()> {
        let guild_id = entry
            .guild_id
            .ok_or_else(|| StoreError::Backend("an audit log entry needs its guild".into()))?;
        self.in_transaction(move |conn| {
            exec(
                conn,
                "INSERT INTO audit_log (id, guild_id, user_id, target_id, action_type, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id(entry.id),
                    id(guild_id),
                    entry.user_id.map(id),
                    entry.target_id.map(id),
                    entry.action_type,
                    to_json(&entry)?
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn audit_entries(
        &self,
        guild_id: Snowflake,
        query: AuditQuery,
    ) -> StoreResult<Vec<AuditLogEntry>> {
        self.scan(move |conn| {
            // NULL parameters switch a filter off.
            let order = if query.after.is_some() { "ASC" } else { "DESC" };
            let sql = format!(
                "SELECT data FROM audit_log WHERE guild_id = ?1
                 AND (?2 IS NULL OR user_id = ?2) AND (?3 IS NULL OR target_id = ?3)
                 AND (?4 IS NULL OR action_type = ?4)
                 AND (?5 IS NULL OR id < ?5) AND (?6 IS NULL OR id > ?6)
                 ORDER BY id {order} LIMIT ?7"
            );
            let mut entries: Vec<AuditLogEntry> = many(
                conn,
                &sql,
                params![
                    id(guild_id),
                    query.user_id.map(id),
                    query.target_id.map(id),
                    query.action_type,
                    query.before.map(id),
                    query.after.map(id),
                    query.limit
                ],
            )?;
            if query.after.is_some() {
                entries.reverse();
            }
            Ok(entries)
        })
        .await
    }
    // --- command permissions ---
    async fn put_command_permissions(
        &self,
        permissions: GuildCommandPermissions,
    ) -> StoreResult<()> {
        self.in_transaction(move |conn| {
            if permissions.permissions.is_empty() {
                exec(conn,
                    "DELETE FROM command_permissions \
                     WHERE application_id = ?1 AND guild_id = ?2 AND id = ?3",
                    [
                        id(permissions.application_id),
                        id(permissions.guild_id),
                        id(permissions.id),
                    ],
                )?;
            } else {
                exec(conn,
                    "INSERT OR REPLACE INTO command_permissions (application_id, guild_id, id, data) \
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        id(permissions.application_id),
                        id(permissions.guild_id),
                        id(permissions.id),
                        to_json(&permissions)?
                    ],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn command_permissions_of_guild(
        &self,
        application_id: Snowflake,
        guild_id: Snowflake,
    ) -> StoreResult<Vec<GuildCommandPermissions>> {
        self.read(move |conn| {
            many(
                conn,
                "SELECT data FROM command_permissions \
                 WHERE application_id = ?1 AND guild_id = ?2 ORDER BY id",
                [id(application_id), id(guild_id)],
            )
        })
        .await
    }

    async fn delete_guild_commands(
        &self,
        guild_id: Snowflake,
        application_id: Option<Snowflake>,
    ) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            for table in ["commands", "command_permissions"] {
                match application_id {
                    Some(app) => exec(
                        tx,
                        &format!("DELETE FROM {table} WHERE guild_id = ?1 AND application_id = ?2"),
                        [id(guild_id), id(app)],
                    )?,
                    None => exec(
                        tx,
                        &format!("DELETE FROM {table} WHERE guild_id = ?1"),
                        [id(guild_id)],
                    )?,
                };
            }
            Ok(())
        })
        .await
    }

    async fn count_command_create(
        &self,
        application_id: Snowflake,
        scope: u64,
        day: u64,
        by: u64,
    ) -> StoreResult<u64> {
        self.in_transaction(move |tx| {
            // Older days are of no further use.
            exec(tx,
                "DELETE FROM command_creates WHERE application_id = ?1 AND scope = ?2 AND day < ?3",
                params![id(application_id), scope as i64, day as i64],
            )?;
            exec(tx,
                "INSERT INTO command_creates (application_id, scope, day, count) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (application_id, scope, day) DO UPDATE SET count = count + ?4",
                params![id(application_id), scope as i64, day as i64, by as i64],
            )?;
            let count: i64 = query_one(tx,
                "SELECT count FROM command_creates WHERE application_id = ?1 AND scope = ?2 AND day = ?3",
                params![id(application_id), scope as i64, day as i64],
                |row| row.get(0),
            )?;
            Ok(count as u64)
        })
        .await
    }

    async fn set_interaction_context(
        &self,
        interaction_id: Snowflake,
        context: serde_json::Value,
    ) -> StoreResult<()> {
        self.in_transaction(move |tx| {
            let Some(mut record): Option<InteractionRecord> = one(
                tx,
                "SELECT data FROM interactions WHERE id = ?1",
                [id(interaction_id)],
            )?
            else {
                return Ok(());
            };
            record.context = context;
            exec(
                tx,
                "UPDATE interactions SET data = ?2 WHERE id = ?1",
                params![id(interaction_id), to_json(&record)?],
            )?;
            Ok(())
        })
        .await
    }

    async fn interactions_before(&self, before_ms: u64) -> StoreResult<Vec<InteractionRecord>> {
        self.scan(move |conn| {
            let mut statement = conn.prepare_cached(
                "SELECT data, ephemeral FROM interactions WHERE created_ms < ?1 ORDER BY id",
            )?;
            let rows = statement.query_map([before_ms as i64], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?;
            let mut records = Vec::new();
            for row in rows {
                let (data, ephemeral) = row?;
                let mut record: InteractionRecord = from_json(&data)?;
                record.ephemeral = from_json(&ephemeral)?;
                records.push(record);
            }
            Ok(records)
        })
        .await
    }
}

/// How many webhooks a channel has.
fn webhook_count(conn: &Connection, channel_id: Snowflake) -> rusqlite::Result<usize> {
    query_one(
        conn,
        "SELECT COUNT(*) FROM webhooks WHERE channel_id = ?1",
        [id(channel_id)],
        |row| row.get::<_, i64>(0),
    )
    .map(|count| count as usize)
}

fn read_emoji(raw: &str) -> rusqlite::Result<Emoji> {
    from_json(raw)
}

fn write_command(conn: &Connection, command: &ApplicationCommand) -> rusqlite::Result<()> {
    exec(conn,
        "INSERT OR REPLACE INTO commands (id, application_id, guild_id, data) VALUES (?1, ?2, ?3, ?4)",
        params![
            id(command.id),
            id(command.application_id),
            command.guild_id.map_or(0, id),
            to_json(command)?
        ],
    )?;
    Ok(())
}
