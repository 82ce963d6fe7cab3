//! The MongoDB store, for several nodes sharing one database. Same semantics as the embedded
//! store (the reference): one collection per resource, ids as Int64, each record as the same
//! JSON document the embedded store keeps (`data`) beside the Int64 fields that are queried or
//! sorted on. Operations that touch several documents run in one transaction, retried with
//! jittered backoff for a bounded time on transient errors (write conflicts between nodes).
//! Transactions need a replica set (a one-node set is enough) or a server that advertises
//! itself as one.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Bson, Document};
use mongodb::error::{
    ErrorKind, WriteFailure, TRANSIENT_TRANSACTION_ERROR, UNKNOWN_TRANSACTION_COMMIT_RESULT,
};
use mongodb::options::IndexOptions;
use mongodb::{Client, ClientSession, Collection, IndexModel};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{
    emoji_record, nonce_key, AuditQuery, EmojiImage, MessageWindow, NewGuild, Pin, ReactionSummary,
    Store, StoreResult, StoredReaction, UserRecord,
};
use crate::error::StoreError;
use crate::model::{
    Application, ApplicationCommand, AuditLogEntry, Ban, Channel, CurrentUser, Emoji, Guild,
    GuildCommandPermissions, InteractionRecord, Invite, Member, Message, Role, Snowflake, User,
    Webhook,
};

/// How long a transaction keeps being retried while the server calls its failure transient
/// (write conflicts: several writers on one hot document, e.g. a busy channel's
/// `last_message_id`, each need a turn). The driver's own helper allows 120 s.
const TRANSACTION_RETRY_BUDGET: Duration = Duration::from_secs(10);
/// How many times a commit whose outcome is unknown is retried.
const COMMIT_ATTEMPTS: u32 = 3;
/// MongoDB's duplicate-key error code.
const DUPLICATE_KEY: i32 = 11000;
/// MongoDB's write-conflict error code (transient inside a transaction).
const WRITE_CONFLICT: i32 = 112;

/// MongoDB-backed `Store`, shared by every node of a cluster. Cheap to clone.
#[derive(Clone)]
pub struct MongoStore {
    client: Client,
    settings: Collection<Document>,
    users: Collection<Document>,
    applications: Collection<Document>,
    guilds: Collection<Document>,
    channels: Collection<Document>,
    roles: Collection<Document>,
    members: Collection<Document>,
    bans: Collection<Document>,
    /// Keyed by code (`_id`), so the primary index is the lookup by code.
    invites: Collection<Document>,
    messages: Collection<Document>,
    /// Application commands; `guild_id` 0 for global ones.
    commands: Collection<Document>,
    interactions: Collection<Document>,
    webhooks: Collection<Document>,
    /// Attachment bytes, in the `attachments` GridFS bucket.
    blobs: std::sync::Arc<super::GridFsBlobStore>,
    /// One document per user reaction: message, emoji key, user, channel, order, emoji JSON.
    reactions: Collection<Document>,
    /// Custom emojis with their image bytes.
    emojis: Collection<Document>,
    /// Audit log entries: `guild_id`, `user_id`, `target_id`, `action_type` beside `data`.
    audit_log: Collection<Document>,
}

/// What went wrong inside an operation, before it becomes a `StoreError`: driver errors keep
/// their labels so a transaction can tell whether to retry.
enum Failure {
    Driver(mongodb::error::Error),
    Conflict(&'static str),
    /// A duplicate key in `users`; `user_conflict` finds out which (servers word the error
    /// differently and may check the indexes in any order).
    UserTaken,
    Data(String),
}

type Res<T> = Result<T, Failure>;

impl From<mongodb::error::Error> for Failure {
    fn from(err: mongodb::error::Error) -> Self {
        Failure::Driver(err)
    }
}

impl From<mongodb::bson::document::ValueAccessError> for Failure {
    fn from(err: mongodb::bson::document::ValueAccessError) -> Self {
        Failure::Data(err.to_string())
    }
}

impl From<Failure> for StoreError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Driver(err) => StoreError::Backend(err.to_string()),
            Failure::Conflict(what) => StoreError::Conflict(what),
            Failure::UserTaken => StoreError::Conflict("unique"),
            Failure::Data(message) => StoreError::Backend(message),
        }
    }
}

/// The message of a duplicate-key error, whichever way the driver reports it.
fn duplicate_key_message(err: &mongodb::error::Error) -> Option<String> {
    match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) if e.code == DUPLICATE_KEY => {
            Some(e.message.clone())
        }
        ErrorKind::Command(e) if e.code == DUPLICATE_KEY => Some(e.message.clone()),
        ErrorKind::InsertMany(e) => e
            .write_errors
            .as_ref()?
            .iter()
            .find(|w| w.code == DUPLICATE_KEY)
            .map(|w| w.message.clone()),
        _ => None,
    }
}

/// Maps a duplicate key to the `Conflict` the embedded store reports for the same table.
fn classify(err: mongodb::error::Error, collection: &str) -> Failure {
    if duplicate_key_message(&err).is_none() {
        return Failure::Driver(err);
    }
    match collection {
        "users" => Failure::UserTaken,
        "members" => Failure::Conflict("member"),
        _ => Failure::Conflict("unique"),
    }
}

fn is_transient(err: &mongodb::error::Error) -> bool {
    err.contains_label(TRANSIENT_TRANSACTION_ERROR)
        || matches!(err.kind.as_ref(), ErrorKind::Command(e) if e.code == WRITE_CONFLICT)
}

/// Index names, fixed so that creating them again at start-up is a no-op.
const USERNAME_INDEX: &str = "username_unique";
const EMAIL_INDEX: &str = "email_unique";

fn id(snowflake: Snowflake) -> i64 {
    snowflake.0 as i64
}

fn snowflake(raw: i64) -> Snowflake {
    Snowflake(raw as u64)
}

fn to_json<T: Serialize>(value: &T) -> Res<String> {
    serde_json::to_string(value).map_err(|e| Failure::Data(e.to_string()))
}

/// The record kept in a document's `data` field.
fn data<T: DeserializeOwned>(doc: &Document) -> Res<T> {
    serde_json::from_str(doc.get_str("data")?).map_err(|e| Failure::Data(e.to_string()))
}

fn optional_i64(doc: &Document, key: &str) -> Option<i64> {
    match doc.get(key) {
        Some(Bson::Int64(v)) => Some(*v),
        Some(Bson::Int32(v)) => Some(i64::from(*v)),
        _ => None,
    }
}

fn optional_string(doc: &Document, key: &str) -> Option<String> {
    match doc.get(key) {
        Some(Bson::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// A limit as the driver takes it; callers handle 0 (MongoDB reads 0 as "no limit").
fn limit_of(limit: u32) -> i64 {
    i64::from(limit)
}

fn user_doc(record: &UserRecord) -> Res<Document> {
    let mut doc = doc! {
        "_id": id(record.user.user.id),
        "username": &record.user.user.username,
        "is_bot": record.user.user.bot,
        "password_hash": record.password_hash.clone(),
        "data": to_json(&record.user)?,
    };
    // Absent rather than null, so users without an email stay out of the unique index.
    if let Some(email) = &record.user.email {
        doc.insert("email", email);
    }
    Ok(doc)
}

fn user_record(doc: &Document) -> Res<UserRecord> {
    Ok(UserRecord {
        user: data(doc)?,
        password_hash: optional_string(doc, "password_hash"),
    })
}

/// A DM channel also carries its pair key (`dm_pair`, unique) and its users' ids
/// (`dm_users`, for listing a user's DMs).
fn channel_doc(channel: &Channel) -> Res<Document> {
    let mut doc = doc! {
        "_id": id(channel.id),
        "guild_id": channel.guild_id.map(id),
        "last_message_id": channel.last_message_id.map(id),
        "data": to_json(channel)?,
    };
    if channel.guild_id.is_none() {
        let (lo, hi) = super::dm_pair(channel).map_err(|e| Failure::Data(e.to_string()))?;
        doc.insert("dm_pair", dm_pair_key(lo, hi));
        doc.insert("dm_users", vec![id(lo), id(hi)]);
    }
    Ok(doc)
}

fn dm_pair_key(lo: Snowflake, hi: Snowflake) -> String {
    format!("{lo}:{hi}")
}

/// A channel; `last_message_id` lives in its own field so a new message moves it without
/// reading the channel.
fn channel_of(doc: &Document) -> Res<Channel> {
    let mut channel: Channel = data(doc)?;
    channel.last_message_id = optional_i64(doc, "last_message_id").map(snowflake);
    Ok(channel)
}

fn role_doc(guild_id: Snowflake, role: &Role) -> Res<Document> {
    Ok(doc! { "_id": id(role.id), "guild_id": id(guild_id), "data": to_json(role)? })
}

/// Members are stored without their user object (as in the embedded store); the role ids are
/// kept beside the record so deleting a role finds its members through the index.
fn member_fields(member: &Member) -> Res<Document> {
    let stored = Member {
        user: None,
        ..member.clone()
    };
    let roles: Vec<i64> = member.roles.iter().map(|r| id(*r)).collect();
    Ok(doc! { "roles": roles, "data": to_json(&stored)? })
}

fn member_doc(member: &Member) -> Res<Document> {
    let mut doc = doc! { "guild_id": id(member.guild_id), "user_id": id(member.user_id) };
    doc.extend(member_fields(member)?);
    Ok(doc)
}

/// A stored member with `guild_id` and `user_id` filled in (`user` left empty).
fn member_record(doc: &Document) -> Res<Member> {
    let mut member: Member = data(doc)?;
    member.guild_id = snowflake(doc.get_i64("guild_id")?);
    member.user_id = snowflake(doc.get_i64("user_id")?);
    Ok(member)
}

fn message_doc(message: &Message) -> Res<Document> {
    let mut doc = doc! {
        "_id": id(message.id),
        "channel_id": id(message.channel_id),
        "author_id": id(message.author.id),
        "data": to_json(message)?,
    };
    if let Some(nonce) = &message.nonce {
        doc.insert("nonce", nonce_key(nonce));
    }
    Ok(doc)
}

/// Runs `$body` (an expression using the session `$s`, evaluating to `Res<T>`) in a transaction,
/// retrying the whole transaction on transient errors and the commit when its outcome is
/// unknown. Evaluates to `Res<T>`.
macro_rules! transaction {
    ($store:expr, |$s:ident| $body:expr) => {{
        let started = std::time::Instant::now();
        let mut attempt = 1u32;
        loop {
            let mut session = match $store.client.start_session().await {
                Ok(session) => session,
                Err(err) => break Err(Failure::Driver(err)),
            };
            if let Err(err) = session.start_transaction().await {
                break Err(Failure::Driver(err));
            }
            let outcome: Res<_> = {
                let $s = &mut session;
                $body
            };
            let failure = match outcome {
                Ok(value) => match commit(&mut session).await {
                    Ok(()) => break Ok(value),
                    Err(err) => Failure::Driver(err),
                },
                Err(failure) => {
                    // The server may have aborted already; nothing to learn from this result.
                    let _ = session.abort_transaction().await;
                    failure
                }
            };
            match failure {
                Failure::Driver(err)
                    if started.elapsed() < TRANSACTION_RETRY_BUDGET && is_transient(&err) =>
                {
                    tracing::debug!(attempt, error = %err, "retrying transaction");
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
                other => break Err(other),
            }
        }
    }};
}

/// Commits, retrying while the outcome is unknown (commitTransaction is idempotent).
async fn commit(session: &mut ClientSession) -> mongodb::error::Result<()> {
    let mut attempt = 1;
    loop {
        match session.commit_transaction().await {
            Err(err)
                if attempt < COMMIT_ATTEMPTS
                    && err.contains_label(UNKNOWN_TRANSACTION_COMMIT_RESULT) =>
            {
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// A short, growing, randomised pause (full jitter, capped at 100 ms) so competing writers do
/// not collide again at once.
fn backoff(attempt: u32) -> Duration {
    let ceiling = (1u64 << attempt.min(7)).min(100);
    Duration::from_millis(1 + rand::random::<u64>() % ceiling)
}

/// Reads every document of a query, in order.
async fn find_all(
    coll: &Collection<Document>,
    s: &mut ClientSession,
    filter: Document,
    sort: Document,
    limit: Option<i64>,
) -> Res<Vec<Document>> {
    let mut cursor = coll
        .find(filter)
        .sort(sort)
        .limit(limit.unwrap_or(0))
        .session(&mut *s)
        .await?;
    let mut out = Vec::new();
    while let Some(doc) = cursor.next(s).await {
        out.push(doc?);
    }
    Ok(out)
}

async fn find_one(
    coll: &Collection<Document>,
    s: &mut ClientSession,
    filter: Document,
) -> Res<Option<Document>> {
    Ok(coll.find_one(filter).session(s).await?)
}

async fn insert(coll: &Collection<Document>, s: &mut ClientSession, doc: Document) -> Res<()> {
    coll.insert_one(doc)
        .session(s)
        .await
        .map_err(|err| classify(err, coll.name()))?;
    Ok(())
}

async fn update(
    coll: &Collection<Document>,
    s: &mut ClientSession,
    filter: Document,
    set: Document,
) -> Res<u64> {
    let result = coll
        .update_one(filter, doc! { "$set": set })
        .session(s)
        .await
        .map_err(|err| classify(err, coll.name()))?;
    Ok(result.matched_count)
}

async fn delete_many(
    coll: &Collection<Document>,
    s: &mut ClientSession,
    filter: Document,
) -> Res<u64> {
    Ok(coll.delete_many(filter).session(s).await?.deleted_count)
}

impl MongoStore {
    /// The body of `set_pinned`'s transaction.
    async fn set_pinned_in(
        &self,
        s: &mut ClientSession,
        filter: &Document,
        pinned_filter: &Document,
        pinned_at: Option<String>,
        max_pins: usize,
    ) -> Res<Option<Message>> {
        let Some(doc) = find_one(&self.messages, s, filter.clone()).await? else {
            return Ok(None);
        };
        let mut message: Message = data(&doc)?;
        if message.pinned == pinned_at.is_some() {
            return Ok(Some(message));
        }
        message.pinned = pinned_at.is_some();
        let change = match pinned_at {
            Some(at) => {
                let pinned = self
                    .messages
                    .count_documents(pinned_filter.clone())
                    .session(&mut *s)
                    .await?;
                if pinned as usize >= max_pins {
                    return Err(Failure::Conflict("pins"));
                }
                doc! { "$set": { "data": to_json(&message)?, "pinned_at": at } }
            }
            None => doc! { "$set": { "data": to_json(&message)? }, "$unset": { "pinned_at": "" } },
        };
        self.messages
            .update_one(filter.clone(), change)
            .session(&mut *s)
            .await?;
        Ok(Some(message))
    }

    /// Connects to `uri`, uses `database`, and creates the indexes the queries rely on (an
    /// existing index with the same definition is left as it is, so every node may do this at
    /// start-up).
    pub async fn connect(uri: &str, database: &str) -> Result<MongoStore, StoreError> {
        let client = Client::with_uri_str(uri)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let db = client.database(database);
        let store = MongoStore {
            settings: db.collection("settings"),
            users: db.collection("users"),
            applications: db.collection("applications"),
            guilds: db.collection("guilds"),
            channels: db.collection("channels"),
            roles: db.collection("roles"),
            members: db.collection("members"),
            bans: db.collection("bans"),
            invites: db.collection("invites"),
            messages: db.collection("messages"),
            commands: db.collection("commands"),
            interactions: db.collection("interactions"),
            webhooks: db.collection("webhooks"),
            blobs: std::sync::Arc::new(super::GridFsBlobStore::new(&db)),
            reactions: db.collection("reactions"),
            emojis: db.collection("emojis"),
            audit_log: db.collection("audit_log"),
            client,
        };
        store.create_indexes().await.map_err(StoreError::from)?;
        store.blobs.create_indexes().await?;
        Ok(store)
    }

    async fn create_indexes(&self) -> Res<()> {
        fn index(name: &str, keys: Document) -> IndexModel {
            named(name, keys, IndexOptions::default())
        }
        fn named(name: &str, keys: Document, mut options: IndexOptions) -> IndexModel {
            options.name = Some(name.to_owned());
            IndexModel::builder().keys(keys).options(options).build()
        }
        fn unique(partial: Option<Document>) -> IndexOptions {
            let mut options = IndexOptions::default();
            options.unique = Some(true);
            options.partial_filter_expression = partial;
            options
        }
        let plan: Vec<(&Collection<Document>, Vec<IndexModel>)> = vec![
            (
                &self.users,
                vec![
                    // Bots may share a username; people may not.
                    named(
                        USERNAME_INDEX,
                        doc! { "username": 1 },
                        unique(Some(doc! { "is_bot": false })),
                    ),
                    named(
                        EMAIL_INDEX,
                        doc! { "email": 1 },
                        unique(Some(doc! { "email": { "$type": "string" } })),
                    ),
                ],
            ),
            (
                &self.channels,
                vec![
                    index("by_guild", doc! { "guild_id": 1, "_id": 1 }),
                    // One DM channel per pair of users.
                    named(
                        "dm_pair_unique",
                        doc! { "dm_pair": 1 },
                        unique(Some(doc! { "dm_pair": { "$type": "string" } })),
                    ),
                    index("by_dm_user", doc! { "dm_users": 1, "_id": 1 }),
                ],
            ),
            (
                &self.roles,
                vec![index("by_guild", doc! { "guild_id": 1, "_id": 1 })],
            ),
            (
                &self.members,
                vec![
                    named(
                        "by_guild_user",
                        doc! { "guild_id": 1, "user_id": 1 },
                        unique(None),
                    ),
                    index("by_user_guild", doc! { "user_id": 1, "guild_id": 1 }),
                    index("by_guild_role", doc! { "guild_id": 1, "roles": 1 }),
                ],
            ),
            (
                &self.bans,
                vec![named(
                    "by_guild_user",
                    doc! { "guild_id": 1, "user_id": 1 },
                    unique(None),
                )],
            ),
            (
                &self.invites,
                vec![index("by_guild", doc! { "guild_id": 1 })],
            ),
            (
                &self.messages,
                vec![
                    index("by_channel", doc! { "channel_id": 1, "_id": 1 }),
                    named("by_pin", doc! { "channel_id": 1, "pinned_at": -1 }, {
                        let mut options = IndexOptions::default();
                        options.partial_filter_expression =
                            Some(doc! { "pinned_at": { "$type": "string" } });
                        options
                    }),
                    index(
                        "by_nonce",
                        doc! { "channel_id": 1, "author_id": 1, "nonce": 1 },
                    ),
                ],
            ),
            (
                &self.webhooks,
                vec![
                    index("by_channel", doc! { "channel_id": 1, "_id": 1 }),
                    index("by_guild", doc! { "guild_id": 1, "_id": 1 }),
                ],
            ),
            (
                &self.reactions,
                vec![
                    named(
                        "by_message_emoji_user",
                        doc! { "message_id": 1, "emoji_key": 1, "user_id": 1 },
                        unique(None),
                    ),
                    index("by_message_order", doc! { "message_id": 1, "ord": 1 }),
                    index("by_channel", doc! { "channel_id": 1 }),
                ],
            ),
            (
                &self.emojis,
                vec![index("by_guild", doc! { "guild_id": 1, "_id": 1 })],
            ),
            (
                &self.commands,
                vec![index(
                    "by_scope",
                    doc! { "application_id": 1, "guild_id": 1, "_id": 1 },
                )],
            ),
            (
                &self.interactions,
                vec![index("by_age", doc! { "created_ms": 1 })],
            ),
            (
                &self.audit_log,
                vec![index("by_guild", doc! { "guild_id": 1, "_id": 1 })],
            ),
        ];
        for (coll, indexes) in plan {
            coll.create_indexes(indexes).await?;
        }
        Ok(())
    }

    /// A session for a single operation (helpers take one so they also run in transactions).
    async fn session(&self) -> Res<ClientSession> {
        Ok(self.client.start_session().await?)
    }

    async fn read_user(
        &self,
        s: &mut ClientSession,
        user_id: Snowflake,
    ) -> Res<Option<UserRecord>> {
        find_one(&self.users, s, doc! { "_id": id(user_id) })
            .await?
            .map(|doc| user_record(&doc))
            .transpose()
    }

    /// Names the taken value after a duplicate key in `users` as the embedded store does: the
    /// username first (people only), then the email, else the id.
    async fn user_conflict(
        &self,
        s: &mut ClientSession,
        user: &CurrentUser,
        outcome: Res<()>,
    ) -> Res<()> {
        let Err(Failure::UserTaken) = outcome else {
            return outcome;
        };
        let others = doc! { "$ne": id(user.user.id) };
        if !user.user.bot {
            let same_name = doc! {
                "username": &user.user.username,
                "is_bot": false,
                "_id": others.clone(),
            };
            if find_one(&self.users, s, same_name).await?.is_some() {
                return Err(Failure::Conflict("username"));
            }
        }
        if let Some(email) = &user.email {
            let same_email = doc! { "email": email, "_id": others };
            if find_one(&self.users, s, same_email).await?.is_some() {
                return Err(Failure::Conflict("email"));
            }
        }
        Err(Failure::Conflict("unique"))
    }

    /// Public users by id, for filling in members and bans with one query.
    async fn users_by_id(&self, s: &mut ClientSession, ids: Vec<i64>) -> Res<HashMap<i64, User>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let docs = find_all(
            &self.users,
            s,
            doc! { "_id": { "$in": ids } },
            doc! { "_id": 1 },
            None,
        )
        .await?;
        docs.iter()
            .map(|doc| Ok((doc.get_i64("_id")?, user_record(doc)?.user.user)))
            .collect()
    }

    /// Stored members with `user` filled in (left `None` for a user that no longer exists).
    async fn hydrate(&self, s: &mut ClientSession, docs: Vec<Document>) -> Res<Vec<Member>> {
        let members = docs.iter().map(member_record).collect::<Res<Vec<_>>>()?;
        let users = self
            .users_by_id(s, members.iter().map(|m| id(m.user_id)).collect())
            .await?;
        Ok(members
            .into_iter()
            .map(|mut member| {
                member.user = users.get(&id(member.user_id)).cloned();
                member
            })
            .collect())
    }

    async fn write_channel(&self, s: &mut ClientSession, channel: &Channel) -> Res<()> {
        update(
            &self.channels,
            s,
            doc! { "_id": id(channel.id) },
            doc! {
                "last_message_id": channel.last_message_id.map(id),
                "data": to_json(channel)?,
            },
        )
        .await?;
        Ok(())
    }

    async fn write_role(&self, s: &mut ClientSession, role: &Role) -> Res<()> {
        update(
            &self.roles,
            s,
            doc! { "_id": id(role.id) },
            doc! { "data": to_json(role)? },
        )
        .await?;
        Ok(())
    }

    async fn write_member(&self, s: &mut ClientSession, member: &Member) -> Res<()> {
        update(
            &self.members,
            s,
            doc! { "guild_id": id(member.guild_id), "user_id": id(member.user_id) },
            member_fields(member)?,
        )
        .await?;
        Ok(())
    }

    async fn channels_in(&self, s: &mut ClientSession, guild_id: Snowflake) -> Res<Vec<Channel>> {
        find_all(
            &self.channels,
            s,
            doc! { "guild_id": id(guild_id) },
            doc! { "_id": 1 },
            None,
        )
        .await?
        .iter()
        .map(channel_of)
        .collect()
    }

    /// Inserts a role at its position, moving every other role (but @everyone) at or above it
    /// up by one.
    async fn insert_role(
        &self,
        s: &mut ClientSession,
        guild_id: Snowflake,
        role: &Role,
    ) -> Res<()> {
        if role.id != guild_id {
            let roles = find_all(
                &self.roles,
                s,
                doc! { "guild_id": id(guild_id) },
                doc! { "_id": 1 },
                None,
            )
            .await?;
            for doc in &roles {
                let mut other: Role = data(doc)?;
                if other.id != guild_id && other.position >= role.position {
                    other.position += 1;
                    self.write_role(s, &other).await?;
                }
            }
        }
        insert(&self.roles, s, role_doc(guild_id, role)?).await
    }

    async fn create_guild_in(&self, s: &mut ClientSession, new: &NewGuild) -> Res<()> {
        insert(
            &self.guilds,
            s,
            doc! { "_id": id(new.guild.id), "data": to_json(&new.guild)? },
        )
        .await?;
        self.insert_role(s, new.guild.id, &new.everyone).await?;
        for channel in &new.channels {
            insert(&self.channels, s, channel_doc(channel)?).await?;
        }
        insert(&self.members, s, member_doc(&new.owner)?).await
    }

    async fn delete_guild_in(&self, s: &mut ClientSession, guild_id: Snowflake) -> Res<()> {
        let g = id(guild_id);
        let channel_ids = self.channel_ids_in(s, guild_id).await?;
        delete_many(
            &self.reactions,
            s,
            doc! { "channel_id": { "$in": channel_ids.clone() } },
        )
        .await?;
        delete_many(&self.emojis, s, doc! { "guild_id": g }).await?;
        delete_many(
            &self.messages,
            s,
            doc! { "channel_id": { "$in": channel_ids } },
        )
        .await?;
        for coll in [
            &self.channels,
            &self.roles,
            &self.members,
            &self.invites,
            &self.bans,
            &self.webhooks,
            &self.audit_log,
        ] {
            delete_many(coll, s, doc! { "guild_id": g }).await?;
        }
        delete_many(&self.guilds, s, doc! { "_id": g }).await?;
        Ok(())
    }

    async fn channel_ids_in(&self, s: &mut ClientSession, guild_id: Snowflake) -> Res<Vec<i64>> {
        let mut cursor = self
            .channels
            .find(doc! { "guild_id": id(guild_id) })
            .projection(doc! { "_id": 1 })
            .sort(doc! { "_id": 1 })
            .session(&mut *s)
            .await?;
        let mut ids = Vec::new();
        while let Some(doc) = cursor.next(s).await {
            ids.push(doc?.get_i64("_id")?);
        }
        Ok(ids)
    }

    async fn delete_channel_in(
        &self,
        s: &mut ClientSession,
        channel_id: Snowflake,
    ) -> Res<Vec<Channel>> {
        let Some(doc) = find_one(&self.channels, s, doc! { "_id": id(channel_id) }).await? else {
            return Ok(Vec::new());
        };
        let channel = channel_of(&doc)?;
        delete_many(&self.reactions, s, doc! { "channel_id": id(channel_id) }).await?;
        delete_many(&self.messages, s, doc! { "channel_id": id(channel_id) }).await?;
        delete_many(&self.channels, s, doc! { "_id": id(channel_id) }).await?;
        delete_many(&self.webhooks, s, doc! { "channel_id": id(channel_id) }).await?;
        let Some(guild_id) = channel.guild_id else {
            return Ok(Vec::new());
        };
        let mut detached = Vec::new();
        for mut child in self
            .channels_in(s, guild_id)
            .await?
            .into_iter()
            .filter(|c| c.parent_id == Some(channel_id))
        {
            child.parent_id = None;
            self.write_channel(s, &child).await?;
            detached.push(child);
        }
        Ok(detached)
    }

    async fn delete_role_in(
        &self,
        s: &mut ClientSession,
        guild_id: Snowflake,
        role_id: Snowflake,
    ) -> Res<Vec<Channel>> {
        delete_many(
            &self.roles,
            s,
            doc! { "_id": id(role_id), "guild_id": id(guild_id) },
        )
        .await?;
        let holders = find_all(
            &self.members,
            s,
            doc! { "guild_id": id(guild_id), "roles": id(role_id) },
            doc! { "user_id": 1 },
            None,
        )
        .await?;
        for doc in &holders {
            let mut member = member_record(doc)?;
            member.roles.retain(|r| *r != role_id);
            self.write_member(s, &member).await?;
        }
        let mut changed = Vec::new();
        for mut channel in self.channels_in(s, guild_id).await? {
            let before = channel.permission_overwrites.len();
            channel.permission_overwrites.retain(|o| o.id != role_id.0);
            if channel.permission_overwrites.len() != before {
                self.write_channel(s, &channel).await?;
                changed.push(channel);
            }
        }
        Ok(changed)
    }

    async fn use_invite_in(&self, s: &mut ClientSession, code: &str, member: &Member) -> Res<()> {
        if let Some(doc) = find_one(&self.invites, s, doc! { "_id": code }).await? {
            let mut invite: Invite = data(&doc)?;
            invite.uses += 1;
            update(
                &self.invites,
                s,
                doc! { "_id": code },
                doc! { "data": to_json(&invite)? },
            )
            .await?;
        }
        insert(&self.members, s, member_doc(member)?).await
    }

    async fn delete_recent_in(
        &self,
        s: &mut ClientSession,
        guild_id: Snowflake,
        author_id: Snowflake,
        since: Snowflake,
    ) -> Res<Vec<(Snowflake, Vec<Snowflake>)>> {
        let channel_ids = self.channel_ids_in(s, guild_id).await?;
        let mut cursor = self
            .messages
            .find(doc! {
                "channel_id": { "$in": channel_ids },
                "author_id": id(author_id),
                "_id": { "$gt": id(since) },
            })
            .projection(doc! { "_id": 1, "channel_id": 1 })
            .sort(doc! { "channel_id": 1, "_id": 1 })
            .session(&mut *s)
            .await?;
        let mut rows = Vec::new();
        while let Some(doc) = cursor.next(s).await {
            let doc = doc?;
            rows.push((doc.get_i64("channel_id")?, doc.get_i64("_id")?));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|(_, m)| *m).collect();
        delete_many(
            &self.reactions,
            s,
            doc! { "message_id": { "$in": ids.clone() } },
        )
        .await?;
        delete_many(&self.messages, s, doc! { "_id": { "$in": ids } }).await?;
        let mut deleted: Vec<(Snowflake, Vec<Snowflake>)> = Vec::new();
        for (channel, message) in rows {
            let (channel, message) = (snowflake(channel), snowflake(message));
            match deleted.last_mut() {
                Some((last, ids)) if *last == channel => ids.push(message),
                _ => deleted.push((channel, vec![message])),
            }
        }
        Ok(deleted)
    }

    async fn messages_in(
        &self,
        s: &mut ClientSession,
        channel_id: Snowflake,
        window: MessageWindow,
        limit: u32,
    ) -> Res<Vec<Message>> {
        let channel = id(channel_id);
        let read = |docs: Vec<Document>| docs.iter().map(data).collect::<Res<Vec<Message>>>();
        if limit == 0 {
            return Ok(Vec::new());
        }
        match window {
            MessageWindow::Before(before) => read(
                find_all(
                    &self.messages,
                    s,
                    doc! { "channel_id": channel, "_id": { "$lt": before.map_or(i64::MAX, id) } },
                    doc! { "_id": -1 },
                    Some(limit_of(limit)),
                )
                .await?,
            ),
            MessageWindow::After(after) => {
                let mut list = read(
                    find_all(
                        &self.messages,
                        s,
                        doc! { "channel_id": channel, "_id": { "$gt": id(after) } },
                        doc! { "_id": 1 },
                        Some(limit_of(limit)),
                    )
                    .await?,
                )?;
                list.reverse();
                Ok(list)
            }
            MessageWindow::Around(around) => {
                // The target and the newer half (rounded up), then the older half.
                let newer_count = limit - limit / 2;
                let mut newer = read(
                    find_all(
                        &self.messages,
                        s,
                        doc! { "channel_id": channel, "_id": { "$gte": id(around) } },
                        doc! { "_id": 1 },
                        Some(limit_of(newer_count)),
                    )
                    .await?,
                )?;
                newer.reverse();
                let older_count = limit.saturating_sub(newer.len() as u32);
                if older_count > 0 {
                    let older = read(
                        find_all(
                            &self.messages,
                            s,
                            doc! { "channel_id": channel, "_id": { "$lt": id(around) } },
                            doc! { "_id": -1 },
                            Some(limit_of(older_count)),
                        )
                        .await?,
                    )?;
                    newer.extend(older);
                }
                Ok(newer)
            }
        }
    }
}

#[async_trait]
impl Store for MongoStore {
    async fn setting(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.settings, &mut s, doc! { "_id": key }).await?;
        Ok(doc.map(|d| setting_value(&d)).transpose()?)
    }

    async fn setting_init(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        let mut s = self.session().await?;
        let value = Binary {
            subtype: BinarySubtype::Generic,
            bytes: value,
        };
        // The unique _id decides between nodes starting at once: the first insert wins and
        // everyone reads back the winner's value.
        match insert(&self.settings, &mut s, doc! { "_id": key, "value": value }).await {
            Ok(()) | Err(Failure::Conflict(_)) => {}
            Err(other) => return Err(other.into()),
        }
        let doc = find_one(&self.settings, &mut s, doc! { "_id": key })
            .await?
            .ok_or_else(|| StoreError::Backend(format!("setting {key} vanished")))?;
        Ok(setting_value(&doc)?)
    }

    async fn create_user(&self, record: UserRecord) -> StoreResult<()> {
        let mut s = self.session().await?;
        let inserted = insert(&self.users, &mut s, user_doc(&record)?).await;
        Ok(self.user_conflict(&mut s, &record.user, inserted).await?)
    }

    async fn user(&self, user_id: Snowflake) -> StoreResult<Option<UserRecord>> {
        let mut s = self.session().await?;
        Ok(self.read_user(&mut s, user_id).await?)
    }

    async fn user_by_login(&self, login: &str) -> StoreResult<Option<UserRecord>> {
        let mut s = self.session().await?;
        let doc = find_one(
            &self.users,
            &mut s,
            doc! { "$or": [ { "username": login, "is_bot": false }, { "email": login } ] },
        )
        .await?;
        Ok(doc.map(|d| user_record(&d)).transpose()?)
    }

    async fn update_user(&self, user: CurrentUser) -> StoreResult<()> {
        let mut s = self.session().await?;
        let mut change = doc! {
            "$set": { "username": &user.user.username, "data": to_json(&user)? },
        };
        match &user.email {
            Some(email) => {
                if let Ok(set) = change.get_document_mut("$set") {
                    set.insert("email", email);
                }
            }
            None => {
                change.insert("$unset", doc! { "email": "" });
            }
        }
        let updated = self
            .users
            .update_one(doc! { "_id": id(user.user.id) }, change)
            .session(&mut s)
            .await
            .map(|_| ())
            .map_err(|err| classify(err, "users"));
        Ok(self.user_conflict(&mut s, &user, updated).await?)
    }

    async fn create_application(&self, app: Application, bot: UserRecord) -> StoreResult<()> {
        let app_doc = doc! {
            "_id": id(app.id),
            "owner_id": id(app.owner.id),
            "token_issued_ms": 0i64,
            "data": to_json(&app)?,
        };
        let bot_doc = user_doc(&bot)?;
        let created = transaction!(self, |s| {
            match insert(&self.users, s, bot_doc.clone()).await {
                Ok(()) => insert(&self.applications, s, app_doc.clone()).await,
                Err(err) => Err(err),
            }
        });
        let mut s = self.session().await?;
        Ok(self.user_conflict(&mut s, &bot.user, created).await?)
    }

    async fn application(&self, app_id: Snowflake) -> StoreResult<Option<Application>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.applications, &mut s, doc! { "_id": id(app_id) }).await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn update_application(&self, app: Application) -> StoreResult<()> {
        let mut s = self.session().await?;
        update(
            &self.applications,
            &mut s,
            doc! { "_id": id(app.id) },
            doc! { "data": to_json(&app)? },
        )
        .await?;
        Ok(())
    }

    async fn bot_token_issued(&self, bot_id: Snowflake) -> StoreResult<u64> {
        let mut s = self.session().await?;
        let doc = find_one(&self.applications, &mut s, doc! { "_id": id(bot_id) }).await?;
        Ok(doc
            .and_then(|d| optional_i64(&d, "token_issued_ms"))
            .unwrap_or(0) as u64)
    }

    async fn set_bot_token_issued(&self, bot_id: Snowflake, issued_ms: u64) -> StoreResult<()> {
        let mut s = self.session().await?;
        update(
            &self.applications,
            &mut s,
            doc! { "_id": id(bot_id) },
            doc! { "token_issued_ms": issued_ms as i64 },
        )
        .await?;
        Ok(())
    }

    async fn create_guild(&self, new: NewGuild) -> StoreResult<()> {
        Ok(transaction!(self, |s| self.create_guild_in(s, &new).await)?)
    }

    async fn guild(&self, guild_id: Snowflake) -> StoreResult<Option<Guild>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.guilds, &mut s, doc! { "_id": id(guild_id) }).await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn update_guild(&self, guild: Guild) -> StoreResult<()> {
        let mut s = self.session().await?;
        update(
            &self.guilds,
            &mut s,
            doc! { "_id": id(guild.id) },
            doc! { "data": to_json(&guild)? },
        )
        .await?;
        Ok(())
    }

    async fn delete_guild(&self, guild_id: Snowflake) -> StoreResult<()> {
        Ok(transaction!(self, |s| self
            .delete_guild_in(s, guild_id)
            .await)?)
    }

    async fn guild_ids_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Snowflake>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.members,
            &mut s,
            doc! { "user_id": id(user_id) },
            doc! { "guild_id": 1 },
            None,
        )
        .await?;
        let ids = docs
            .iter()
            .map(|d| d.get_i64("guild_id").map(snowflake))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::from)?;
        Ok(ids)
    }

    async fn create_channel(&self, channel: Channel) -> StoreResult<()> {
        let mut s = self.session().await?;
        Ok(insert(&self.channels, &mut s, channel_doc(&channel)?).await?)
    }

    async fn channel(&self, channel_id: Snowflake) -> StoreResult<Option<Channel>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.channels, &mut s, doc! { "_id": id(channel_id) }).await?;
        Ok(doc.map(|d| channel_of(&d)).transpose()?)
    }

    async fn channels_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Channel>> {
        let mut s = self.session().await?;
        Ok(self.channels_in(&mut s, guild_id).await?)
    }

    async fn update_channels(&self, channels: Vec<Channel>) -> StoreResult<()> {
        Ok(transaction!(self, |s| {
            let mut result = Ok(());
            for channel in &channels {
                result = self.write_channel(s, channel).await;
                if result.is_err() {
                    break;
                }
            }
            result
        })?)
    }

    async fn delete_channel(&self, channel_id: Snowflake) -> StoreResult<Vec<Channel>> {
        Ok(transaction!(self, |s| self
            .delete_channel_in(s, channel_id)
            .await)?)
    }

    async fn create_role(&self, guild_id: Snowflake, role: Role) -> StoreResult<()> {
        Ok(transaction!(self, |s| self
            .insert_role(s, guild_id, &role)
            .await)?)
    }

    async fn roles_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Role>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.roles,
            &mut s,
            doc! { "guild_id": id(guild_id) },
            doc! { "_id": 1 },
            None,
        )
        .await?;
        Ok(docs.iter().map(data).collect::<Res<Vec<Role>>>()?)
    }

    async fn update_roles(&self, guild_id: Snowflake, roles: Vec<Role>) -> StoreResult<()> {
        Ok(transaction!(self, |s| {
            let mut result = Ok(());
            for role in &roles {
                // Only roles of this guild are replaced.
                let written = match to_json(role) {
                    Ok(json) => {
                        update(
                            &self.roles,
                            s,
                            doc! { "_id": id(role.id), "guild_id": id(guild_id) },
                            doc! { "data": json },
                        )
                        .await
                    }
                    Err(err) => Err(err),
                };
                if let Err(err) = written {
                    result = Err(err);
                    break;
                }
            }
            result
        })?)
    }

    async fn delete_role(
        &self,
        guild_id: Snowflake,
        role_id: Snowflake,
    ) -> StoreResult<Vec<Channel>> {
        Ok(transaction!(self, |s| self
            .delete_role_in(s, guild_id, role_id)
            .await)?)
    }

    async fn add_member(&self, member: Member, managed_role: Option<Role>) -> StoreResult<()> {
        let member_doc = member_doc(&member)?;
        Ok(transaction!(self, |s| {
            let role_added = match &managed_role {
                Some(role) => self.insert_role(s, member.guild_id, role).await,
                None => Ok(()),
            };
            match role_added {
                Ok(()) => insert(&self.members, s, member_doc.clone()).await,
                Err(err) => Err(err),
            }
        })?)
    }

    async fn member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Member>> {
        let mut s = self.session().await?;
        let Some(doc) = find_one(
            &self.members,
            &mut s,
            doc! { "guild_id": id(guild_id), "user_id": id(user_id) },
        )
        .await?
        else {
            return Ok(None);
        };
        Ok(self.hydrate(&mut s, vec![doc]).await?.pop())
    }

    async fn members_of_guild(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Member>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut s = self.session().await?;
        let docs = find_all(
            &self.members,
            &mut s,
            doc! { "guild_id": id(guild_id), "user_id": { "$gt": id(after) } },
            doc! { "user_id": 1 },
            Some(limit_of(limit)),
        )
        .await?;
        Ok(self.hydrate(&mut s, docs).await?)
    }

    async fn member_records_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Member>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.members,
            &mut s,
            doc! { "guild_id": id(guild_id) },
            doc! { "user_id": 1 },
            None,
        )
        .await?;
        Ok(docs.iter().map(member_record).collect::<Res<Vec<_>>>()?)
    }

    async fn member_count(&self, guild_id: Snowflake) -> StoreResult<u64> {
        let mut s = self.session().await?;
        self.members
            .count_documents(doc! { "guild_id": id(guild_id) })
            .session(&mut s)
            .await
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    async fn update_member(&self, member: Member) -> StoreResult<()> {
        let mut s = self.session().await?;
        Ok(self.write_member(&mut s, &member).await?)
    }

    async fn remove_member(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let deleted = delete_many(
            &self.members,
            &mut s,
            doc! { "guild_id": id(guild_id), "user_id": id(user_id) },
        )
        .await?;
        Ok(deleted > 0)
    }

    async fn ban_member(
        &self,
        guild_id: Snowflake,
        user_id: Snowflake,
        reason: Option<String>,
    ) -> StoreResult<()> {
        let key = doc! { "guild_id": id(guild_id), "user_id": id(user_id) };
        Ok(transaction!(self, |s| {
            let banned = self
                .bans
                .update_one(key.clone(), doc! { "$set": { "reason": reason.clone() } })
                .upsert(true)
                .session(&mut *s)
                .await;
            match banned {
                Ok(_) => delete_many(&self.members, s, key.clone()).await.map(|_| ()),
                Err(err) => Err(Failure::Driver(err)),
            }
        })?)
    }

    async fn ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<Option<Ban>> {
        let mut s = self.session().await?;
        let Some(doc) = find_one(
            &self.bans,
            &mut s,
            doc! { "guild_id": id(guild_id), "user_id": id(user_id) },
        )
        .await?
        else {
            return Ok(None);
        };
        let reason = optional_string(&doc, "reason");
        Ok(self.read_user(&mut s, user_id).await?.map(|record| Ban {
            reason,
            user: record.user.user,
        }))
    }

    async fn bans(
        &self,
        guild_id: Snowflake,
        after: Snowflake,
        before: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Ban>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut s = self.session().await?;
        let docs = find_all(
            &self.bans,
            &mut s,
            doc! {
                "guild_id": id(guild_id),
                "user_id": { "$gt": id(after), "$lt": id(before) },
            },
            doc! { "user_id": 1 },
            Some(limit_of(limit)),
        )
        .await?;
        let rows = docs
            .iter()
            .map(|d| Ok((d.get_i64("user_id")?, optional_string(d, "reason"))))
            .collect::<Res<Vec<_>>>()?;
        let users = self
            .users_by_id(&mut s, rows.iter().map(|(u, _)| *u).collect())
            .await?;
        // A ban of a user that no longer exists is skipped, as the embedded store does.
        Ok(rows
            .into_iter()
            .filter_map(|(user_id, reason)| {
                users.get(&user_id).map(|user| Ban {
                    reason,
                    user: user.clone(),
                })
            })
            .collect())
    }

    async fn remove_ban(&self, guild_id: Snowflake, user_id: Snowflake) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let deleted = delete_many(
            &self.bans,
            &mut s,
            doc! { "guild_id": id(guild_id), "user_id": id(user_id) },
        )
        .await?;
        Ok(deleted > 0)
    }

    async fn create_invite(&self, invite: Invite) -> StoreResult<()> {
        let mut s = self.session().await?;
        let doc = doc! {
            "_id": &invite.code,
            "guild_id": id(invite.guild_id),
            "data": to_json(&invite)?,
        };
        Ok(insert(&self.invites, &mut s, doc).await?)
    }

    async fn invite(&self, code: &str) -> StoreResult<Option<Invite>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.invites, &mut s, doc! { "_id": code }).await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn use_invite(&self, code: &str, member: Member) -> StoreResult<()> {
        Ok(transaction!(self, |s| self
            .use_invite_in(s, code, &member)
            .await)?)
    }

    /// No transaction: every post in a channel would update the same channel document and
    /// concurrent posters would abort each other. The message is inserted first (one atomic
    /// write), then the channel's `last_message_id` moves with `$max`, which commutes, so
    /// concurrent posts never conflict and the newest id wins. A reader between the two writes
    /// sees the message before the pointer, as if it had read just before the post.
    async fn create_message(&self, message: Message) -> StoreResult<()> {
        self.messages
            .insert_one(message_doc(&message)?)
            .await
            .map_err(|err| classify(err, "messages"))?;
        self.channels
            .update_one(
                doc! { "_id": id(message.channel_id) },
                doc! { "$max": { "last_message_id": id(message.id) } },
            )
            .await
            .map_err(Failure::from)?;
        Ok(())
    }

    async fn message(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
    ) -> StoreResult<Option<Message>> {
        let mut s = self.session().await?;
        let doc = find_one(
            &self.messages,
            &mut s,
            doc! { "_id": id(message_id), "channel_id": id(channel_id) },
        )
        .await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn messages(
        &self,
        channel_id: Snowflake,
        window: MessageWindow,
        limit: u32,
    ) -> StoreResult<Vec<Message>> {
        let mut s = self.session().await?;
        Ok(self.messages_in(&mut s, channel_id, window, limit).await?)
    }

    async fn update_message(&self, message: Message) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let matched = update(
            &self.messages,
            &mut s,
            doc! { "_id": id(message.id), "channel_id": id(message.channel_id) },
            doc! { "data": to_json(&message)? },
        )
        .await?;
        Ok(matched == 1)
    }

    async fn delete_messages(
        &self,
        channel_id: Snowflake,
        ids: Vec<Snowflake>,
    ) -> StoreResult<Vec<Snowflake>> {
        let wanted: Vec<i64> = ids.into_iter().map(id).collect();
        let filter = doc! { "_id": { "$in": wanted }, "channel_id": id(channel_id) };
        Ok(transaction!(self, |s| {
            match find_all(&self.messages, s, filter.clone(), doc! { "_id": 1 }, None).await {
                Ok(found) => {
                    let existing: Vec<Snowflake> = found
                        .iter()
                        .filter_map(|d| d.get_i64("_id").ok())
                        .map(snowflake)
                        .collect();
                    let gone: Vec<i64> = existing.iter().map(|m| id(*m)).collect();
                    match delete_many(&self.reactions, s, doc! { "message_id": { "$in": gone } })
                        .await
                    {
                        Ok(_) => delete_many(&self.messages, s, filter.clone())
                            .await
                            .map(|_| existing),
                        Err(err) => Err(err),
                    }
                }
                Err(err) => Err(err),
            }
        })?)
    }

    async fn set_pinned(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
        pinned_at: Option<String>,
        max_pins: usize,
    ) -> StoreResult<Option<Message>> {
        let filter = doc! { "_id": id(message_id), "channel_id": id(channel_id) };
        let pinned_filter =
            doc! { "channel_id": id(channel_id), "pinned_at": { "$type": "string" } };
        Ok(transaction!(self, |s| {
            self.set_pinned_in(s, &filter, &pinned_filter, pinned_at.clone(), max_pins)
                .await
        })?)
    }

    async fn pins(
        &self,
        channel_id: Snowflake,
        before: Option<String>,
        limit: u32,
    ) -> StoreResult<Vec<Pin>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut s = self.session().await?;
        let mut pinned_at = doc! { "$type": "string" };
        if let Some(before) = before {
            pinned_at.insert("$lt", before);
        }
        let docs = find_all(
            &self.messages,
            &mut s,
            doc! { "channel_id": id(channel_id), "pinned_at": pinned_at },
            doc! { "pinned_at": -1, "_id": -1 },
            Some(limit_of(limit)),
        )
        .await?;
        let mut pins = Vec::with_capacity(docs.len());
        for doc in &docs {
            pins.push(Pin {
                pinned_at: doc.get_str("pinned_at").map_err(Failure::from)?.to_owned(),
                message: data(doc)?,
            });
        }
        Ok(pins)
    }

    async fn delete_recent_messages(
        &self,
        guild_id: Snowflake,
        author_id: Snowflake,
        since: Snowflake,
    ) -> StoreResult<Vec<(Snowflake, Vec<Snowflake>)>> {
        Ok(transaction!(self, |s| self
            .delete_recent_in(s, guild_id, author_id, since)
            .await)?)
    }

    async fn message_by_nonce(
        &self,
        channel_id: Snowflake,
        author_id: Snowflake,
        nonce: &str,
        since: Snowflake,
    ) -> StoreResult<Option<Message>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.messages,
            &mut s,
            doc! {
                "channel_id": id(channel_id),
                "author_id": id(author_id),
                "nonce": nonce,
                "_id": { "$gt": id(since) },
            },
            doc! { "_id": -1 },
            Some(1),
        )
        .await?;
        Ok(docs.first().map(data).transpose()?)
    }

    // --- reactions ---
    async fn add_reaction(
        &self,
        reaction: StoredReaction,
        max_emojis: usize,
    ) -> StoreResult<Option<bool>> {
        Ok(transaction!(self, |s| self
            .add_reaction_in(s, &reaction, max_emojis)
            .await)?)
    }

    async fn remove_reaction(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        user_id: Snowflake,
    ) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let filter =
            doc! { "message_id": id(message_id), "emoji_key": emoji_key, "user_id": id(user_id) };
        Ok(delete_many(&self.reactions, &mut s, filter).await? > 0)
    }

    async fn remove_reactions(
        &self,
        message_id: Snowflake,
        emoji_key: Option<&str>,
    ) -> StoreResult<u64> {
        let mut s = self.session().await?;
        let mut filter = doc! { "message_id": id(message_id) };
        if let Some(key) = emoji_key {
            filter.insert("emoji_key", key);
        }
        Ok(delete_many(&self.reactions, &mut s, filter).await?)
    }

    async fn reaction_users(
        &self,
        message_id: Snowflake,
        emoji_key: &str,
        after: Snowflake,
        limit: u32,
    ) -> StoreResult<Vec<Snowflake>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut s = self.session().await?;
        let docs = find_all(
            &self.reactions,
            &mut s,
            doc! {
                "message_id": id(message_id),
                "emoji_key": emoji_key,
                "user_id": { "$gt": id(after) },
            },
            doc! { "user_id": 1 },
            Some(limit_of(limit)),
        )
        .await?;
        let users = docs
            .iter()
            .map(|d| d.get_i64("user_id").map(snowflake))
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::from)?;
        Ok(users)
    }

    async fn reaction_summaries(
        &self,
        message_ids: &[Snowflake],
        viewer: Snowflake,
    ) -> StoreResult<Vec<ReactionSummary>> {
        if message_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut s = self.session().await?;
        let wanted: Vec<i64> = message_ids.iter().map(|m| id(*m)).collect();
        let docs = find_all(
            &self.reactions,
            &mut s,
            doc! { "message_id": { "$in": wanted } },
            doc! { "message_id": 1, "ord": 1 },
            None,
        )
        .await?;
        // Grouped here rather than with an aggregation: the documents arrive in first-use
        // order per message, so the first of each (message, emoji) fixes the emoji's place.
        let mut found: Vec<ReactionSummary> = Vec::new();
        let mut slot: HashMap<(i64, String), usize> = HashMap::new();
        for doc in &docs {
            let message = doc.get_i64("message_id").map_err(Failure::from)?;
            let key = doc.get_str("emoji_key").map_err(Failure::from)?.to_owned();
            let mine = doc.get_i64("user_id").map_err(Failure::from)? == id(viewer);
            match slot.get(&(message, key.clone())) {
                Some(&at) => {
                    found[at].count += 1;
                    found[at].me |= mine;
                }
                None => {
                    let emoji = serde_json::from_str(doc.get_str("emoji").map_err(Failure::from)?)
                        .map_err(|e| Failure::Data(e.to_string()))?;
                    slot.insert((message, key), found.len());
                    found.push(ReactionSummary {
                        message_id: snowflake(message),
                        emoji,
                        count: 1,
                        me: mine,
                    });
                }
            }
        }
        found.sort_by_key(|summary| {
            message_ids
                .iter()
                .position(|m| *m == summary.message_id)
                .unwrap_or(usize::MAX)
        });
        Ok(found)
    }

    // --- emojis ---
    async fn create_emoji(
        &self,
        guild_id: Snowflake,
        emoji: Emoji,
        image: EmojiImage,
    ) -> StoreResult<()> {
        let mut s = self.session().await?;
        let doc = doc! {
            "_id": id(emoji.id),
            "guild_id": id(guild_id),
            "data": to_json(&emoji_record(&emoji))?,
            "content_type": image.content_type,
            "image": Binary { subtype: BinarySubtype::Generic, bytes: image.bytes },
        };
        Ok(insert(&self.emojis, &mut s, doc).await?)
    }

    async fn emojis_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Emoji>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.emojis,
            &mut s,
            doc! { "guild_id": id(guild_id) },
            doc! { "_id": 1 },
            None,
        )
        .await?;
        Ok(docs.iter().map(data).collect::<Res<Vec<Emoji>>>()?)
    }

    async fn emoji(&self, emoji_id: Snowflake) -> StoreResult<Option<(Snowflake, Emoji)>> {
        let mut s = self.session().await?;
        let Some(doc) = find_one(&self.emojis, &mut s, doc! { "_id": id(emoji_id) }).await? else {
            return Ok(None);
        };
        let guild = doc.get_i64("guild_id").map_err(Failure::from)?;
        Ok(Some((snowflake(guild), data(&doc)?)))
    }

    async fn update_emoji(&self, guild_id: Snowflake, emoji: Emoji) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let matched = update(
            &self.emojis,
            &mut s,
            doc! { "_id": id(emoji.id), "guild_id": id(guild_id) },
            doc! { "data": to_json(&emoji_record(&emoji))? },
        )
        .await?;
        Ok(matched == 1)
    }

    async fn delete_emoji(&self, guild_id: Snowflake, emoji_id: Snowflake) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let filter = doc! { "_id": id(emoji_id), "guild_id": id(guild_id) };
        Ok(delete_many(&self.emojis, &mut s, filter).await? == 1)
    }

    async fn emoji_image(&self, emoji_id: Snowflake) -> StoreResult<Option<EmojiImage>> {
        let mut s = self.session().await?;
        let Some(doc) = find_one(&self.emojis, &mut s, doc! { "_id": id(emoji_id) }).await? else {
            return Ok(None);
        };
        let bytes = match doc.get("image") {
            Some(Bson::Binary(binary)) => binary.bytes.clone(),
            _ => return Err(Failure::Data("emoji without image bytes".into()).into()),
        };
        Ok(Some(EmojiImage {
            content_type: doc
                .get_str("content_type")
                .map_err(Failure::from)?
                .to_owned(),
            bytes,
        }))
    }

    // --- interactions ---
    async fn put_command(&self, command: ApplicationCommand) -> StoreResult<()> {
        let doc = command_doc(&command)?;
        self.commands
            .replace_one(doc! { "_id": id(command.id) }, doc)
            .upsert(true)
            .await
            .map_err(Failure::from)?;
        Ok(())
    }

    async fn command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<Option<ApplicationCommand>> {
        let mut s = self.session().await?;
        let filter = doc! { "_id": id(command_id), "application_id": id(application_id) };
        let doc = find_one(&self.commands, &mut s, filter).await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
    ) -> StoreResult<Vec<ApplicationCommand>> {
        let mut s = self.session().await?;
        let filter =
            doc! { "application_id": id(application_id), "guild_id": guild_id.map_or(0, id) };
        let docs = find_all(&self.commands, &mut s, filter, doc! { "_id": 1 }, None).await?;
        Ok(docs.iter().map(data).collect::<Res<Vec<_>>>()?)
    }

    async fn delete_command(
        &self,
        application_id: Snowflake,
        command_id: Snowflake,
    ) -> StoreResult<bool> {
        let result = self
            .commands
            .delete_one(doc! { "_id": id(command_id), "application_id": id(application_id) })
            .await
            .map_err(Failure::from)?;
        Ok(result.deleted_count == 1)
    }

    async fn replace_commands(
        &self,
        application_id: Snowflake,
        guild_id: Option<Snowflake>,
        commands: Vec<ApplicationCommand>,
    ) -> StoreResult<()> {
        let scope =
            doc! { "application_id": id(application_id), "guild_id": guild_id.map_or(0, id) };
        let docs = commands.iter().map(command_doc).collect::<Res<Vec<_>>>()?;
        Ok(transaction!(self, |s| {
            match delete_many(&self.commands, s, scope.clone()).await {
                Ok(_) if docs.is_empty() => Ok(()),
                Ok(_) => self
                    .commands
                    .insert_many(docs.clone())
                    .session(&mut *s)
                    .await
                    .map(|_| ())
                    .map_err(|err| classify(err, "commands")),
                Err(err) => Err(err),
            }
        })?)
    }

    async fn create_interaction(&self, record: InteractionRecord) -> StoreResult<()> {
        let mut s = self.session().await?;
        let doc = doc! {
            "_id": id(record.id),
            "created_ms": record.created_ms as i64,
            "response": record.response.map(i32::from),
            "original_message_id": record.original_message_id.map(id),
            "ephemeral": to_json(&record.ephemeral)?,
            "data": to_json(&record)?,
        };
        insert(&self.interactions, &mut s, doc).await?;
        Ok(())
    }

    async fn interaction(
        &self,
        interaction_id: Snowflake,
    ) -> StoreResult<Option<InteractionRecord>> {
        let mut s = self.session().await?;
        let Some(doc) = find_one(
            &self.interactions,
            &mut s,
            doc! { "_id": id(interaction_id) },
        )
        .await?
        else {
            return Ok(None);
        };
        let mut record: InteractionRecord = data(&doc)?;
        record.response = optional_i64(&doc, "response").map(|raw| raw as u8);
        record.original_message_id = optional_i64(&doc, "original_message_id").map(snowflake);
        record.ephemeral = serde_json::from_str(doc.get_str("ephemeral").map_err(Failure::from)?)
            .map_err(|e| Failure::Data(e.to_string()))?;
        Ok(Some(record))
    }

    async fn acknowledge_interaction(
        &self,
        interaction_id: Snowflake,
        response: u8,
        original_message_id: Option<Snowflake>,
    ) -> StoreResult<bool> {
        let mut s = self.session().await?;
        let matched = update(
            &self.interactions,
            &mut s,
            doc! { "_id": id(interaction_id), "response": Bson::Null },
            doc! {
                "response": i32::from(response),
                "original_message_id": original_message_id.map(id),
            },
        )
        .await?;
        Ok(matched == 1)
    }

    async fn set_interaction_ephemeral(
        &self,
        interaction_id: Snowflake,
        messages: Vec<Message>,
    ) -> StoreResult<()> {
        let mut s = self.session().await?;
        update(
            &self.interactions,
            &mut s,
            doc! { "_id": id(interaction_id) },
            doc! { "ephemeral": to_json(&messages)? },
        )
        .await?;
        Ok(())
    }

    async fn delete_interactions_before(&self, before_ms: u64) -> StoreResult<u64> {
        let mut s = self.session().await?;
        let filter = doc! { "created_ms": { "$lt": before_ms as i64 } };
        Ok(delete_many(&self.interactions, &mut s, filter).await?)
    }

    // --- files ---
    fn blobs(&self) -> std::sync::Arc<dyn super::BlobStore> {
        std::sync::Arc::clone(&self.blobs) as std::sync::Arc<dyn super::BlobStore>
    }

    // --- webhooks ---
    async fn create_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<()> {
        Ok(transaction!(self, |s| {
            match self
                .webhook_room(s, webhook.channel_id, max_per_channel)
                .await
            {
                Ok(()) => insert(&self.webhooks, s, webhook_doc(&webhook)?).await,
                Err(failure) => Err(failure),
            }
        })?)
    }

    async fn webhook(&self, webhook_id: Snowflake) -> StoreResult<Option<Webhook>> {
        let mut s = self.session().await?;
        let doc = find_one(&self.webhooks, &mut s, doc! { "_id": id(webhook_id) }).await?;
        Ok(doc.map(|d| data(&d)).transpose()?)
    }

    async fn webhooks_of_channel(&self, channel_id: Snowflake) -> StoreResult<Vec<Webhook>> {
        self.webhooks_where(doc! { "channel_id": id(channel_id) })
            .await
    }

    async fn webhooks_of_guild(&self, guild_id: Snowflake) -> StoreResult<Vec<Webhook>> {
        self.webhooks_where(doc! { "guild_id": id(guild_id) }).await
    }

    async fn update_webhook(&self, webhook: Webhook, max_per_channel: usize) -> StoreResult<bool> {
        Ok(transaction!(self, |s| {
            self.update_webhook_in(s, &webhook, max_per_channel).await
        })?)
    }

    async fn delete_webhook(&self, webhook_id: Snowflake) -> StoreResult<bool> {
        let mut s = self.session().await?;
        Ok(delete_many(&self.webhooks, &mut s, doc! { "_id": id(webhook_id) }).await? > 0)
    }

    // --- dms ---

    async fn open_dm(&self, channel: Channel) -> StoreResult<Channel> {
        let (lo, hi) = super::dm_pair(&channel)?;
        let mut s = self.session().await?;
        // One insert, no transaction: the unique index on `dm_pair` decides who wins a race,
        // and the loser reads the winner's channel.
        match insert(&self.channels, &mut s, channel_doc(&channel)?).await {
            Ok(()) => Ok(channel),
            Err(Failure::Conflict(_)) => {
                let filter = doc! { "dm_pair": dm_pair_key(lo, hi) };
                match find_one(&self.channels, &mut s, filter).await? {
                    Some(doc) => Ok(channel_of(&doc)?),
                    None => Err(StoreError::Backend("DM channel vanished".into())),
                }
            }
            Err(failure) => Err(failure.into()),
        }
    }

    async fn dm_channels_of_user(&self, user_id: Snowflake) -> StoreResult<Vec<Channel>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.channels,
            &mut s,
            doc! { "dm_users": id(user_id) },
            doc! { "_id": 1 },
            None,
        )
        .await?;
        Ok(docs.iter().map(channel_of).collect::<Res<Vec<_>>>()?)
    }

    // --- audit log ---

    async fn add_audit_entry(&self, entry: AuditLogEntry) -> StoreResult<()> {
        let guild_id = entry
            .guild_id
            .ok_or_else(|| StoreError::Backend("an audit log entry needs its guild".into()))?;
        let mut s = self.session().await?;
        let doc = doc! {
            "_id": id(entry.id),
            "guild_id": id(guild_id),
            "user_id": entry.user_id.map(id),
            "target_id": entry.target_id.map(id),
            "action_type": i32::from(entry.action_type),
            "data": to_json(&entry)?,
        };
        Ok(insert(&self.audit_log, &mut s, doc).await?)
    }

    async fn audit_entries(
        &self,
        guild_id: Snowflake,
        query: AuditQuery,
    ) -> StoreResult<Vec<AuditLogEntry>> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "guild_id": id(guild_id) };
        if let Some(user_id) = query.user_id {
            filter.insert("user_id", id(user_id));
        }
        if let Some(target_id) = query.target_id {
            filter.insert("target_id", id(target_id));
        }
        if let Some(action_type) = query.action_type {
            filter.insert("action_type", i32::from(action_type));
        }
        let mut range = Document::new();
        if let Some(before) = query.before {
            range.insert("$lt", id(before));
        }
        if let Some(after) = query.after {
            range.insert("$gt", id(after));
        }
        if !range.is_empty() {
            filter.insert("_id", range);
        }
        let sort = if query.after.is_some() { 1 } else { -1 };
        let mut s = self.session().await?;
        let docs = find_all(
            &self.audit_log,
            &mut s,
            filter,
            doc! { "_id": sort },
            Some(limit_of(query.limit)),
        )
        .await?;
        let mut entries = docs
            .iter()
            .map(data::<AuditLogEntry>)
            .collect::<Res<Vec<_>>>()?;
        if query.after.is_some() {
            entries.reverse();
        }
        Ok(entries)
    }
    // --- command permissions ---
    async fn put_command_permissions(
        &self,
        permissions: GuildCommandPermissions,
    ) -> StoreResult<()> {
        let coll = self.command_permissions_collection();
        let key = format!(
            "{}:{}:{}",
            permissions.application_id, permissions.guild_id, permissions.id
        );
        if permissions.permissions.is_empty() {
            coll.delete_one(doc! { "_id": key })
                .await
                .map_err(Failure::from)?;
            return Ok(());
        }
        let doc = doc! {
            "_id": key.clone(),
            "application_id": id(permissions.application_id),
            "guild_id": id(permissions.guild_id),
            "id": id(permissions.id),
            "data": to_json(&permissions)?,
        };
        coll.replace_one(doc! { "_id": key }, doc)
            .upsert(true)
            .await
            .map_err(Failure::from)?;
        Ok(())
    }

    async fn command_permissions_of_guild(
        &self,
        application_id: Snowflake,
        guild_id: Snowflake,
    ) -> StoreResult<Vec<GuildCommandPermissions>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.command_permissions_collection(),
            &mut s,
            doc! { "application_id": id(application_id), "guild_id": id(guild_id) },
            doc! { "id": 1 },
            None,
        )
        .await?;
        Ok(docs.iter().map(data).collect::<Res<Vec<_>>>()?)
    }

    async fn delete_guild_commands(
        &self,
        guild_id: Snowflake,
        application_id: Option<Snowflake>,
    ) -> StoreResult<()> {
        let mut filter = doc! { "guild_id": id(guild_id) };
        if let Some(app) = application_id {
            filter.insert("application_id", id(app));
        }
        let permissions = self.command_permissions_collection();
        Ok(transaction!(self, |s| {
            match delete_many(&self.commands, s, filter.clone()).await {
                Ok(_) => delete_many(&permissions, s, filter.clone())
                    .await
                    .map(|_| ()),
                Err(err) => Err(err),
            }
        })?)
    }

    async fn count_command_create(
        &self,
        application_id: Snowflake,
        scope: u64,
        day: u64,
        by: u64,
    ) -> StoreResult<u64> {
        let coll = self.command_creates_collection();
        let key = format!("{application_id}:{scope}");
        // One document per application and scope; a new day starts again at 1.
        let stale = doc! { "_id": key.clone(), "day": { "$ne": day as i64 } };
        coll.update_one(
            stale,
            doc! { "$set": { "day": day as i64, "count": 0_i64 } },
        )
        .await
        .map_err(Failure::from)?;
        coll.update_one(
            doc! { "_id": key.clone() },
            doc! { "$inc": { "count": by as i64 }, "$setOnInsert": { "day": day as i64 } },
        )
        .upsert(true)
        .await
        .map_err(Failure::from)?;
        let doc = coll
            .find_one(doc! { "_id": key })
            .await
            .map_err(Failure::from)?;
        let count = doc.and_then(|d| optional_i64(&d, "count")).unwrap_or(0);
        Ok(count.max(0) as u64)
    }

    async fn set_interaction_context(
        &self,
        interaction_id: Snowflake,
        context: serde_json::Value,
    ) -> StoreResult<()> {
        let mut s = self.session().await?;
        let filter = doc! { "_id": id(interaction_id) };
        let Some(doc) = find_one(&self.interactions, &mut s, filter.clone()).await? else {
            return Ok(());
        };
        let mut record: InteractionRecord = data(&doc)?;
        record.context = context;
        self.interactions
            .update_one(filter, doc! { "$set": { "data": to_json(&record)? } })
            .await
            .map_err(Failure::from)?;
        Ok(())
    }

    async fn interactions_before(&self, before_ms: u64) -> StoreResult<Vec<InteractionRecord>> {
        let mut s = self.session().await?;
        let docs = find_all(
            &self.interactions,
            &mut s,
            doc! { "created_ms": { "$lt": before_ms as i64 } },
            doc! { "_id": 1 },
            None,
        )
        .await?;
        let mut records = Vec::with_capacity(docs.len());
        for doc in &docs {
            let mut record: InteractionRecord = data(doc)?;
            record.ephemeral =
                serde_json::from_str(doc.get_str("ephemeral").map_err(Failure::from)?)
                    .map_err(|e| Failure::Data(e.to_string()))?;
            records.push(record);
        }
        Ok(records)
    }
}

impl MongoStore {
    /// Command permission overwrites: `_id` `"{app}:{guild}:{id}"`, with `application_id`,
    /// `guild_id` and `id` to filter on.
    fn command_permissions_collection(&self) -> Collection<Document> {
        self.client
            .database(&self.commands.namespace().db)
            .collection("command_permissions")
    }

    /// Daily command creation counts: `_id` `"{app}:{scope}"`, `day`, `count`.
    fn command_creates_collection(&self) -> Collection<Document> {
        self.client
            .database(&self.commands.namespace().db)
            .collection("command_creates")
    }
}

fn webhook_doc(webhook: &Webhook) -> Res<Document> {
    Ok(doc! {
        "_id": id(webhook.id),
        "guild_id": id(webhook.guild_id),
        "channel_id": id(webhook.channel_id),
        "data": to_json(webhook)?,
    })
}

impl MongoStore {
    /// `Conflict("webhooks")` when the channel already has `max` webhooks.
    async fn webhook_room(
        &self,
        s: &mut ClientSession,
        channel_id: Snowflake,
        max: usize,
    ) -> Res<()> {
        let count = self
            .webhooks
            .count_documents(doc! { "channel_id": id(channel_id) })
            .session(&mut *s)
            .await?;
        if count as usize >= max {
            return Err(Failure::Conflict("webhooks"));
        }
        Ok(())
    }

    /// The body of `update_webhook`'s transaction.
    async fn update_webhook_in(
        &self,
        s: &mut ClientSession,
        webhook: &Webhook,
        max: usize,
    ) -> Res<bool> {
        let Some(doc) = find_one(&self.webhooks, s, doc! { "_id": id(webhook.id) }).await? else {
            return Ok(false);
        };
        let current: Webhook = data(&doc)?;
        if current.channel_id != webhook.channel_id {
            self.webhook_room(s, webhook.channel_id, max).await?;
        }
        let mut fields = webhook_doc(webhook)?;
        fields.remove("_id");
        update(&self.webhooks, s, doc! { "_id": id(webhook.id) }, fields).await?;
        Ok(true)
    }

    async fn webhooks_where(&self, filter: Document) -> StoreResult<Vec<Webhook>> {
        let mut s = self.session().await?;
        let docs = find_all(&self.webhooks, &mut s, filter, doc! { "_id": 1 }, None).await?;
        Ok(docs.iter().map(data).collect::<Res<Vec<_>>>()?)
    }
}

fn setting_value(doc: &Document) -> Res<Vec<u8>> {
    match doc.get("value") {
        Some(Bson::Binary(binary)) => Ok(binary.bytes.clone()),
        _ => Err(Failure::Data("setting without a binary value".into())),
    }
}

impl MongoStore {
    /// The body of `add_reaction`'s transaction.
    async fn add_reaction_in(
        &self,
        s: &mut ClientSession,
        reaction: &StoredReaction,
        max_emojis: usize,
    ) -> Res<Option<bool>> {
        let message = id(reaction.message_id);
        let exists = find_one(
            &self.messages,
            s,
            doc! { "_id": message, "channel_id": id(reaction.channel_id) },
        )
        .await?;
        if exists.is_none() {
            return Ok(None);
        }
        let key = reaction.emoji.key();
        let mut cursor = self
            .reactions
            .find(doc! { "message_id": message })
            .projection(doc! { "emoji_key": 1, "user_id": 1 })
            .session(&mut *s)
            .await?;
        let mut keys = std::collections::HashSet::new();
        let mut same_emoji = false;
        while let Some(doc) = cursor.next(s).await {
            let doc = doc?;
            let other = doc.get_str("emoji_key")?;
            if other == key {
                if doc.get_i64("user_id")? == id(reaction.user_id) {
                    return Ok(Some(false));
                }
                same_emoji = true;
            }
            keys.insert(other.to_owned());
        }
        if !same_emoji && keys.len() >= max_emojis {
            return Err(Failure::Conflict("reactions"));
        }
        insert(
            &self.reactions,
            s,
            doc! {
                "message_id": message,
                "emoji_key": key,
                "user_id": id(reaction.user_id),
                "channel_id": id(reaction.channel_id),
                "ord": id(reaction.order),
                "emoji": to_json(&reaction.emoji)?,
            },
        )
        .await?;
        Ok(Some(true))
    }
}

fn command_doc(command: &ApplicationCommand) -> Res<Document> {
    Ok(doc! {
        "_id": id(command.id),
        "application_id": id(command.application_id),
        "guild_id": command.guild_id.map_or(0, id),
        "data": to_json(command)?,
    })
}
