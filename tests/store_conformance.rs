//! One suite of `Store` checks, run unchanged against the embedded store (a temporary
//! directory) and the MongoDB store (a fresh database per test on `ACCORD_TEST_MONGODB_URI`,
//! which `source scripts/mongo-service.sh` provides). The embedded store is the reference: every
//! expected value here is what it returns, so the two backends cannot drift apart.

use std::sync::Arc;

use accord::error::StoreError;
use accord::model::{
    Application, ApplicationCommand, AuditLogChange, AuditLogEntry, Ban, Channel, ChannelType,
    CommandOption, CommandPermission, CurrentUser, Emoji, Guild, GuildCommandPermissions,
    InteractionRecord, Invite, Member, Message, PartialEmoji, Role, Snowflake, User, Webhook,
};
use accord::permissions::{OverwriteKind, PermissionOverwrite, Permissions};
use accord::store::{
    AuditQuery, EmbeddedStore, EmojiImage, MessageWindow, MongoStore, NewGuild, ReactionSummary,
    Store, StoredReaction, UserRecord,
};
use serde_json::json;

// ---------------------------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------------------------

/// A store under test and what must live as long as it (its directory or its database).
struct Fixture {
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    mongo: Option<(String, String)>,
}

impl Fixture {
    fn embedded() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = EmbeddedStore::open(dir.path()).expect("open embedded store");
        Fixture {
            store: Arc::new(store),
            _dir: Some(dir),
            mongo: None,
        }
    }

    async fn mongo() -> Fixture {
        let uri = mongo_uri();
        let database = fresh_database_name();
        let store = MongoStore::connect(&uri, &database)
            .await
            .unwrap_or_else(|e| panic!("connect to {uri}: {e}"));
        Fixture {
            store: Arc::new(store),
            _dir: None,
            mongo: Some((uri, database)),
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// Drops the test's database (after a passing test; a failing one leaves it to look at).
    async fn finish(self) {
        if let Some((uri, database)) = self.mongo {
            let client = ::mongodb::Client::with_uri_str(&uri)
                .await
                .expect("connect to drop the test database");
            client
                .database(&database)
                .drop()
                .await
                .expect("drop the test database");
        }
    }
}

fn mongo_uri() -> String {
    std::env::var("ACCORD_TEST_MONGODB_URI").unwrap_or_else(|_| {
        panic!(
            "ACCORD_TEST_MONGODB_URI is not set: source scripts/mongo-service.sh (or run \
             scripts/test-all.sh) to start a MongoDB-compatible server for these tests"
        )
    })
}

fn fresh_database_name() -> String {
    format!("conformance_{:016x}", rand::random::<u64>())
}

/// Instantiates each check once per backend: `embedded::<name>` and `mongo::<name>`.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fixture = super::Fixture::embedded();
                    super::$name(fixture.store()).await;
                    fixture.finish().await;
                }
            )*
        }
        mod mongo {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let fixture = super::Fixture::mongo().await;
                    super::$name(fixture.store()).await;
                    fixture.finish().await;
                }
            )*
        }
    };
}

conformance!(
    settings_init_keeps_the_first_value,
    users_create_conflict_lookup_update,
    applications_and_bot_tokens,
    guild_creation_is_all_or_nothing,
    update_and_delete_guild_cascades,
    guild_ids_of_user_ascend,
    channels_create_read_update,
    delete_channel_detaches_children_and_drops_messages,
    create_role_shifts_positions,
    update_roles_only_touches_the_guild,
    delete_role_cleans_members_and_overwrites,
    add_member_conflicts_and_managed_role,
    members_pagination_records_and_count,
    update_and_remove_member,
    bans_remove_members_and_paginate,
    invites_count_uses_and_add_members,
    create_message_moves_last_message_id,
    message_windows,
    delete_recent_messages_per_channel,
    message_by_nonce_finds_the_newest,
    concurrent_messages_in_one_channel,
    update_and_delete_messages,
    pins_keep_order_limit_and_leave_with_their_message,
    webhooks_limit_move_and_cascade,
    // --- files ---
    blobs_put_read_and_delete,
    // --- reactions ---
    reactions_add_once_list_and_remove,
    reactions_go_with_message_channel_and_guild,
    emojis_create_read_update_delete,
    // --- dms ---
    dm_channels_one_per_pair,
    // --- interactions ---
    commands_by_scope_replace_and_delete,
    interactions_acknowledge_once_and_expire,
    // --- audit log ---
    audit_log_filters_windows_and_goes_with_guild,
    // --- command permissions ---
    command_permissions_replace_list_and_go_with_the_guild,
    daily_command_creates_count_per_scope_and_day,
    interaction_context_is_replaced_alone,
);

// ---------------------------------------------------------------------------------------------
// Test data, built with the model's own constructors
// ---------------------------------------------------------------------------------------------

fn sf(raw: u64) -> Snowflake {
    Snowflake(raw)
}

fn person(id: u64, name: &str) -> UserRecord {
    UserRecord {
        user: CurrentUser::new(
            User::new(sf(id), name.into(), false),
            Some(format!("{name}@example.com")),
        ),
        password_hash: Some(format!("$argon2id$hash-of-{name}")),
    }
}

fn bot(id: u64, name: &str) -> UserRecord {
    UserRecord {
        user: CurrentUser::new(User::new(sf(id), name.into(), true), None),
        password_hash: None,
    }
}

fn public(record: &UserRecord) -> User {
    record.public()
}

fn text(id: u64, guild: u64, name: &str) -> Channel {
    Channel::new(sf(id), ChannelType::GuildText, sf(guild), name.into())
}

fn category(id: u64, guild: u64, name: &str) -> Channel {
    Channel::new(sf(id), ChannelType::GuildCategory, sf(guild), name.into())
}

fn role(id: u64, name: &str, position: i64) -> Role {
    Role::new(
        sf(id),
        name.into(),
        Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES,
        position,
    )
}

fn member(guild: u64, user: &UserRecord, roles: &[u64]) -> Member {
    Member::new(
        sf(guild),
        public(user),
        roles.iter().copied().map(sf).collect(),
    )
}

fn role_overwrite(role: u64) -> PermissionOverwrite {
    PermissionOverwrite {
        id: role,
        kind: OverwriteKind::Role,
        allow: Permissions::SEND_MESSAGES,
        deny: Permissions::empty(),
    }
}

fn message(id: u64, channel: u64, guild: u64, author: &UserRecord, content: &str) -> Message {
    Message {
        id: sf(id),
        kind: 0,
        channel_id: sf(channel),
        guild_id: Some(sf(guild)),
        author: public(author),
        member: None,
        content: content.into(),
        timestamp: accord::model::now_timestamp(),
        edited_timestamp: None,
        tts: false,
        mention_everyone: false,
        mentions: Vec::new(),
        mention_roles: Vec::new(),
        attachments: Vec::new(),
        embeds: vec![json!({"type": "rich", "title": content})],
        pinned: false,
        nonce: None,
        message_reference: None,
        referenced_message: None,
        flags: 0,
        components: Vec::new(),
        webhook_id: None,
        application_id: None,
        reactions: Vec::new(),
        interaction_metadata: None,
        interaction: None,
    }
}

fn with_nonce(mut message: Message, nonce: serde_json::Value) -> Message {
    message.nonce = Some(nonce);
    message
}

fn invite(code: &str, guild: u64, channel: u64, inviter: u64) -> Invite {
    Invite {
        code: code.into(),
        guild_id: sf(guild),
        channel_id: sf(channel),
        inviter_id: sf(inviter),
        uses: 0,
        max_uses: 0,
        max_age: 86_400,
        temporary: false,
        created_at: accord::model::now_timestamp(),
        expires_at: None,
    }
}

fn application(bot: &UserRecord, owner: &UserRecord, name: &str) -> Application {
    Application {
        id: bot.user.user.id,
        name: name.into(),
        icon: None,
        description: String::new(),
        summary: String::new(),
        kind: None,
        bot_public: true,
        bot_require_code_grant: false,
        verify_key: "00ff".into(),
        flags: accord::model::application::flags::DEFAULT,
        team: None,
        owner: public(owner),
        bot: public(bot),
        rpc_origins: Vec::new(),
        terms_of_service_url: None,
        privacy_policy_url: None,
        guild_id: None,
        approximate_guild_count: 0,
        interactions_endpoint_url: None,
        tags: Vec::new(),
    }
}

/// A guild as the service creates it: @everyone, the given channels and the owner as member.
fn new_guild(id: u64, name: &str, owner: &UserRecord, channels: Vec<Channel>) -> NewGuild {
    let mut guild = Guild::new(sf(id), name.into(), owner.user.user.id);
    guild.system_channel_id = channels.first().map(|c| c.id);
    NewGuild {
        guild,
        everyone: Role::everyone(sf(id)),
        channels,
        owner: member(id, owner, &[]),
    }
}

/// Creates the owner and a guild with one text channel (`id + 1`, "general").
async fn guild_with_owner(store: &dyn Store, id: u64, owner: &UserRecord) -> NewGuild {
    if store
        .user(owner.user.user.id)
        .await
        .expect("user")
        .is_none()
    {
        store
            .create_user(owner.clone())
            .await
            .expect("create owner");
    }
    let new = new_guild(id, "guild", owner, vec![text(id + 1, id, "general")]);
    store.create_guild(new.clone()).await.expect("create guild");
    new
}

fn assert_same_user(found: Option<UserRecord>, expected: &UserRecord) {
    let found = found.expect("user should exist");
    assert_eq!(found.user, expected.user);
    assert_eq!(found.password_hash, expected.password_hash);
}

fn assert_conflict<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    match result {
        Err(StoreError::Conflict(found)) => assert_eq!(found, what, "conflict kind"),
        other => panic!("expected Conflict({what}), got {other:?}"),
    }
}

fn ids<T>(items: &[T], id: impl Fn(&T) -> Snowflake) -> Vec<u64> {
    items.iter().map(|item| id(item).0).collect()
}

fn message_ids(messages: &[Message]) -> Vec<u64> {
    ids(messages, |m| m.id)
}

fn with_user(mut member: Member, user: Option<User>) -> Member {
    member.user = user;
    member
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

async fn settings_init_keeps_the_first_value(store: Arc<dyn Store>) {
    assert_eq!(store.setting("secret").await.unwrap(), None);
    assert_eq!(
        store.setting_init("secret", vec![1, 2, 3]).await.unwrap(),
        vec![1, 2, 3]
    );
    assert_eq!(
        store.setting_init("secret", vec![9]).await.unwrap(),
        vec![1, 2, 3],
        "a second init keeps the first value"
    );
    assert_eq!(store.setting("secret").await.unwrap(), Some(vec![1, 2, 3]));
    assert_eq!(store.setting("other").await.unwrap(), None);

    // Nodes starting at once agree on one value.
    let racers = (0u8..8).map(|i| {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.setting_init("race", vec![i; 4]).await.unwrap() })
    });
    let values = futures_util::future::join_all(racers).await;
    let first = values[0].as_ref().unwrap().clone();
    assert_eq!(first.len(), 4);
    for value in values {
        assert_eq!(value.unwrap(), first);
    }
    assert_eq!(store.setting("race").await.unwrap(), Some(first));
}

async fn users_create_conflict_lookup_update(store: Arc<dyn Store>) {
    let alice = person(10, "alice");
    store.create_user(alice.clone()).await.unwrap();
    assert_same_user(store.user(sf(10)).await.unwrap(), &alice);
    assert!(store.user(sf(11)).await.unwrap().is_none());

    assert_same_user(store.user_by_login("alice").await.unwrap(), &alice);
    assert_same_user(
        store.user_by_login("alice@example.com").await.unwrap(),
        &alice,
    );
    assert!(store.user_by_login("nobody").await.unwrap().is_none());

    // Taken username (other email), taken email (other username), both taken.
    let mut same_name = person(11, "alice");
    same_name.user.email = Some("other@example.com".into());
    assert_conflict(store.create_user(same_name).await, "username");
    let mut same_email = person(12, "alicia");
    same_email.user.email = Some("alice@example.com".into());
    assert_conflict(store.create_user(same_email).await, "email");
    assert_conflict(store.create_user(person(13, "alice")).await, "username");
    // A taken id with a free username and email.
    assert_conflict(store.create_user(person(10, "bob")).await, "unique");
    assert!(store.user(sf(11)).await.unwrap().is_none());
    assert!(store.user(sf(12)).await.unwrap().is_none());
    assert!(store.user_by_login("bob").await.unwrap().is_none());

    // Bots may share a username with a person and with each other, and have no email.
    let bot_alice = bot(20, "alice");
    store.create_user(bot_alice.clone()).await.unwrap();
    store.create_user(bot(21, "alice")).await.unwrap();
    assert_same_user(store.user(sf(20)).await.unwrap(), &bot_alice);
    assert_same_user(store.user_by_login("alice").await.unwrap(), &alice);

    // Update: new username and no email; the old ones are free again.
    let mut renamed = alice.user.clone();
    renamed.user.username = "alice2".into();
    renamed.user.global_name = Some("Alice".into());
    renamed.email = None;
    store.update_user(renamed.clone()).await.unwrap();
    let found = store.user(sf(10)).await.unwrap().expect("alice");
    assert_eq!(found.user, renamed);
    assert_eq!(found.password_hash, alice.password_hash);
    assert_eq!(
        store
            .user_by_login("alice2")
            .await
            .unwrap()
            .map(|u| u.user.user.id),
        Some(sf(10))
    );
    assert!(store.user_by_login("alice").await.unwrap().is_none());
    assert!(store
        .user_by_login("alice@example.com")
        .await
        .unwrap()
        .is_none());
    let newcomer = person(14, "alice");
    store.create_user(newcomer.clone()).await.unwrap();
    assert_same_user(store.user_by_login("alice").await.unwrap(), &newcomer);

    // Renaming onto a taken username or email conflicts and changes nothing.
    let mut clash = renamed.clone();
    clash.user.username = "alice".into();
    assert_conflict(store.update_user(clash).await, "username");
    let mut clash = renamed.clone();
    clash.email = Some("alice@example.com".into());
    assert_conflict(store.update_user(clash).await, "email");
    assert_eq!(store.user(sf(10)).await.unwrap().unwrap().user, renamed);
}

async fn applications_and_bot_tokens(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    store.create_user(owner.clone()).await.unwrap();
    let robot = bot(50, "robot");
    let app = application(&robot, &owner, "Robot");
    store
        .create_application(app.clone(), robot.clone())
        .await
        .unwrap();
    assert_eq!(store.application(sf(50)).await.unwrap(), Some(app.clone()));
    assert_same_user(store.user(sf(50)).await.unwrap(), &robot);
    assert_eq!(store.application(sf(51)).await.unwrap(), None);

    assert_eq!(store.bot_token_issued(sf(50)).await.unwrap(), 0);
    assert_eq!(store.bot_token_issued(sf(51)).await.unwrap(), 0);
    store
        .set_bot_token_issued(sf(50), 1_700_000_000_123)
        .await
        .unwrap();
    assert_eq!(
        store.bot_token_issued(sf(50)).await.unwrap(),
        1_700_000_000_123
    );

    let mut renamed = app.clone();
    renamed.name = "Robot 2".into();
    renamed.description = "beep".into();
    store.update_application(renamed.clone()).await.unwrap();
    assert_eq!(store.application(sf(50)).await.unwrap(), Some(renamed));
    assert_eq!(
        store.bot_token_issued(sf(50)).await.unwrap(),
        1_700_000_000_123,
        "an edit keeps the token's issue time"
    );

    // An application whose bot user cannot be created is not created either.
    let mut twin = application(&robot, &owner, "Twin");
    twin.id = sf(52);
    assert_conflict(
        store.create_application(twin, robot.clone()).await,
        "unique",
    );
    assert_eq!(store.application(sf(52)).await.unwrap(), None);
}

async fn guild_creation_is_all_or_nothing(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    store.create_user(owner.clone()).await.unwrap();
    let new = new_guild(
        100,
        "Guild",
        &owner,
        vec![
            text(103, 100, "general"),
            category(101, 100, "Text"),
            Channel::new(sf(102), ChannelType::GuildVoice, sf(100), "voice".into()),
        ],
    );
    store.create_guild(new.clone()).await.unwrap();

    assert_eq!(store.guild(sf(100)).await.unwrap(), Some(new.guild.clone()));
    assert_eq!(
        store.roles_of_guild(sf(100)).await.unwrap(),
        vec![Role::everyone(sf(100))]
    );
    let channels = store.channels_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&channels, |c| c.id), vec![101, 102, 103]);
    assert_eq!(channels[0], new.channels[1]);
    assert_eq!(channels[1], new.channels[2]);
    assert_eq!(channels[2], new.channels[0]);
    assert_eq!(
        store.member(sf(100), sf(1)).await.unwrap(),
        Some(new.owner.clone())
    );
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 1);
    assert_eq!(store.guild_ids_of_user(sf(1)).await.unwrap(), vec![sf(100)]);

    // A guild that cannot be written whole (its channel id is taken) leaves nothing behind.
    let broken = new_guild(200, "Broken", &owner, vec![text(103, 200, "taken")]);
    assert_conflict(store.create_guild(broken).await, "unique");
    assert_eq!(store.guild(sf(200)).await.unwrap(), None);
    assert!(store.roles_of_guild(sf(200)).await.unwrap().is_empty());
    assert!(store.channels_of_guild(sf(200)).await.unwrap().is_empty());
    assert_eq!(store.member(sf(200), sf(1)).await.unwrap(), None);
    assert_eq!(store.guild_ids_of_user(sf(1)).await.unwrap(), vec![sf(100)]);
    assert_eq!(
        store.channel(sf(103)).await.unwrap(),
        Some(new.channels[0].clone())
    );

    // A second guild with the same id conflicts.
    let again = new_guild(100, "Again", &owner, vec![text(104, 100, "x")]);
    assert_conflict(store.create_guild(again).await, "unique");
    assert_eq!(store.guild(sf(100)).await.unwrap(), Some(new.guild));
    assert_eq!(store.channel(sf(104)).await.unwrap(), None);
}

async fn update_and_delete_guild_cascades(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let guest = person(2, "guest");
    let villain = person(3, "villain");
    for user in [&guest, &villain] {
        store.create_user(user.clone()).await.unwrap();
    }
    let doomed = guild_with_owner(&*store, 100, &owner).await;
    let kept = guild_with_owner(&*store, 200, &owner).await;

    let mut renamed = doomed.guild.clone();
    renamed.name = "Renamed".into();
    renamed.description = Some("a guild".into());
    store.update_guild(renamed.clone()).await.unwrap();
    assert_eq!(store.guild(sf(100)).await.unwrap(), Some(renamed));

    store
        .create_channel(text(105, 100, "second"))
        .await
        .unwrap();
    store
        .create_role(sf(100), role(110, "mod", 1))
        .await
        .unwrap();
    store
        .add_member(member(100, &guest, &[110]), None)
        .await
        .unwrap();
    store
        .add_member(member(200, &guest, &[]), None)
        .await
        .unwrap();
    store.ban_member(sf(100), sf(3), None).await.unwrap();
    store.ban_member(sf(200), sf(3), None).await.unwrap();
    store
        .create_invite(invite("doomed", 100, 101, 1))
        .await
        .unwrap();
    store
        .create_invite(invite("kept", 200, 201, 1))
        .await
        .unwrap();
    store
        .create_message(message(1000, 101, 100, &owner, "a"))
        .await
        .unwrap();
    store
        .create_message(message(1001, 105, 100, &guest, "b"))
        .await
        .unwrap();
    store
        .create_message(message(1002, 201, 200, &owner, "c"))
        .await
        .unwrap();

    store.delete_guild(sf(100)).await.unwrap();

    assert_eq!(store.guild(sf(100)).await.unwrap(), None);
    assert!(store.roles_of_guild(sf(100)).await.unwrap().is_empty());
    assert!(store.channels_of_guild(sf(100)).await.unwrap().is_empty());
    assert_eq!(store.channel(sf(101)).await.unwrap(), None);
    assert_eq!(store.member(sf(100), sf(1)).await.unwrap(), None);
    assert_eq!(store.member(sf(100), sf(2)).await.unwrap(), None);
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 0);
    assert!(store
        .member_records_of_guild(sf(100))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.ban(sf(100), sf(3)).await.unwrap(), None);
    assert_eq!(store.invite("doomed").await.unwrap(), None);
    assert_eq!(store.message(sf(101), sf(1000)).await.unwrap(), None);
    assert_eq!(store.message(sf(105), sf(1001)).await.unwrap(), None);
    assert!(store
        .messages(sf(101), MessageWindow::Before(None), 50)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.guild_ids_of_user(sf(1)).await.unwrap(), vec![sf(200)]);
    assert_eq!(store.guild_ids_of_user(sf(2)).await.unwrap(), vec![sf(200)]);

    // The other guild is untouched.
    assert_eq!(store.guild(sf(200)).await.unwrap(), Some(kept.guild));
    assert_eq!(store.roles_of_guild(sf(200)).await.unwrap().len(), 1);
    assert_eq!(store.channels_of_guild(sf(200)).await.unwrap().len(), 1);
    assert_eq!(store.member_count(sf(200)).await.unwrap(), 2);
    assert!(store.ban(sf(200), sf(3)).await.unwrap().is_some());
    assert!(store.invite("kept").await.unwrap().is_some());
    assert!(store.message(sf(201), sf(1002)).await.unwrap().is_some());
    // The users themselves stay.
    assert!(store.user(sf(2)).await.unwrap().is_some());
}

async fn guild_ids_of_user_ascend(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let other = person(2, "other");
    store.create_user(other.clone()).await.unwrap();
    for id in [300, 100, 200] {
        guild_with_owner(&*store, id, &owner).await;
    }
    guild_with_owner(&*store, 400, &other).await;
    store
        .add_member(member(300, &other, &[]), None)
        .await
        .unwrap();
    assert_eq!(
        store.guild_ids_of_user(sf(1)).await.unwrap(),
        vec![sf(100), sf(200), sf(300)]
    );
    assert_eq!(
        store.guild_ids_of_user(sf(2)).await.unwrap(),
        vec![sf(300), sf(400)]
    );
    assert!(store.guild_ids_of_user(sf(3)).await.unwrap().is_empty());
}

async fn channels_create_read_update(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    let mut news = text(150, 100, "news");
    news.topic = Some("headlines".into());
    news.kind = ChannelType::GuildAnnouncement;
    news.permission_overwrites = vec![role_overwrite(100)];
    let lounge = category(120, 100, "Lounge");
    store.create_channel(news.clone()).await.unwrap();
    store.create_channel(lounge.clone()).await.unwrap();
    assert_conflict(store.create_channel(text(120, 100, "dup")).await, "unique");

    assert_eq!(store.channel(sf(150)).await.unwrap(), Some(news.clone()));
    assert_eq!(store.channel(sf(999)).await.unwrap(), None);
    let channels = store.channels_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&channels, |c| c.id), vec![101, 120, 150]);
    assert_eq!(
        ids(&store.channels_of_guild(sf(200)).await.unwrap(), |c| c.id),
        vec![201]
    );

    // An edit and the child it syncs, at once.
    let mut moved = news.clone();
    moved.parent_id = Some(sf(120));
    moved.name = "moved".into();
    moved.position = 3;
    moved.nsfw = true;
    moved.rate_limit_per_user = 10;
    let mut renamed = lounge.clone();
    renamed.name = "Renamed".into();
    renamed.permission_overwrites = vec![role_overwrite(100)];
    store
        .update_channels(vec![moved.clone(), renamed.clone()])
        .await
        .unwrap();
    assert_eq!(store.channel(sf(150)).await.unwrap(), Some(moved));
    assert_eq!(store.channel(sf(120)).await.unwrap(), Some(renamed));
    store.update_channels(Vec::new()).await.unwrap();
}

async fn delete_channel_detaches_children_and_drops_messages(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    store
        .create_channel(category(110, 100, "cat"))
        .await
        .unwrap();
    let mut second = text(112, 100, "second");
    second.parent_id = Some(sf(110));
    let mut first = text(111, 100, "first");
    first.parent_id = Some(sf(110));
    first.topic = Some("kept".into());
    let mut elsewhere = text(113, 100, "elsewhere");
    elsewhere.parent_id = Some(sf(101));
    for channel in [&second, &first, &elsewhere] {
        store.create_channel(channel.clone()).await.unwrap();
    }
    store
        .create_message(message(1000, 110, 100, &owner, "in cat"))
        .await
        .unwrap();
    store
        .create_message(message(1001, 111, 100, &owner, "in first"))
        .await
        .unwrap();
    store
        .create_message(message(1002, 110, 100, &owner, "in cat"))
        .await
        .unwrap();

    let detached = store.delete_channel(sf(110)).await.unwrap();
    let mut first_now = first.clone();
    first_now.parent_id = None;
    first_now.last_message_id = Some(sf(1001));
    let mut second_now = second.clone();
    second_now.parent_id = None;
    assert_eq!(detached, vec![first_now.clone(), second_now.clone()]);
    assert_eq!(store.channel(sf(110)).await.unwrap(), None);
    assert_eq!(store.channel(sf(111)).await.unwrap(), Some(first_now));
    assert_eq!(store.channel(sf(112)).await.unwrap(), Some(second_now));
    assert_eq!(store.channel(sf(113)).await.unwrap(), Some(elsewhere));
    assert_eq!(store.message(sf(110), sf(1000)).await.unwrap(), None);
    assert!(store
        .messages(sf(110), MessageWindow::Before(None), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store.message(sf(111), sf(1001)).await.unwrap().is_some());
    assert_eq!(
        ids(&store.channels_of_guild(sf(100)).await.unwrap(), |c| c.id),
        vec![101, 111, 112, 113]
    );

    // A leaf channel detaches nothing; an unknown one is a no-op.
    assert!(store.delete_channel(sf(113)).await.unwrap().is_empty());
    assert!(store.delete_channel(sf(999)).await.unwrap().is_empty());
    assert_eq!(store.channel(sf(113)).await.unwrap(), None);
}

async fn create_role_shifts_positions(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    store
        .create_role(sf(200), role(201, "elsewhere", 1))
        .await
        .unwrap();

    store.create_role(sf(100), role(110, "a", 1)).await.unwrap();
    store.create_role(sf(100), role(111, "b", 1)).await.unwrap();
    store.create_role(sf(100), role(112, "c", 3)).await.unwrap();
    store.create_role(sf(100), role(113, "d", 0)).await.unwrap();

    let roles = store.roles_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&roles, |r| r.id), vec![100, 110, 111, 112, 113]);
    let positions: Vec<i64> = roles.iter().map(|r| r.position).collect();
    // @everyone never moves; b pushed a up, d (at 0) pushed everything else up.
    assert_eq!(positions, vec![0, 3, 2, 4, 0]);
    assert_eq!(roles[0], Role::everyone(sf(100)));
    assert_eq!(roles[1].name, "a");
    let elsewhere = store.roles_of_guild(sf(200)).await.unwrap();
    assert_eq!(
        elsewhere[1],
        role(201, "elsewhere", 1),
        "other guilds keep theirs"
    );
    assert_conflict(
        store.create_role(sf(100), role(110, "dup", 9)).await,
        "unique",
    );
    assert_eq!(
        store.roles_of_guild(sf(100)).await.unwrap(),
        roles,
        "a failed create shifts nothing"
    );
}

async fn update_roles_only_touches_the_guild(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    store.create_role(sf(100), role(110, "a", 1)).await.unwrap();
    store.create_role(sf(100), role(111, "b", 2)).await.unwrap();
    store
        .create_role(sf(200), role(210, "foreign", 1))
        .await
        .unwrap();

    let mut a = role(110, "a", 2);
    a.color = 0xff0000;
    a.colors.primary_color = 0xff0000;
    a.hoist = true;
    let mut b = role(111, "b renamed", 1);
    b.permissions = Permissions::ADMINISTRATOR;
    let foreign = role(210, "hijacked", 5);
    let missing = role(999, "missing", 1);
    store
        .update_roles(sf(100), vec![a.clone(), b.clone(), foreign, missing])
        .await
        .unwrap();
    assert_eq!(
        store.roles_of_guild(sf(100)).await.unwrap(),
        vec![Role::everyone(sf(100)), a, b]
    );
    assert_eq!(
        store.roles_of_guild(sf(200)).await.unwrap()[1],
        role(210, "foreign", 1)
    );
}

async fn delete_role_cleans_members_and_overwrites(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let one = person(2, "one");
    let two = person(3, "two");
    for user in [&one, &two] {
        store.create_user(user.clone()).await.unwrap();
    }
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    store
        .create_role(sf(100), role(110, "doomed", 1))
        .await
        .unwrap();
    store
        .create_role(sf(100), role(111, "kept", 2))
        .await
        .unwrap();
    store
        .add_member(member(100, &one, &[110]), None)
        .await
        .unwrap();
    store
        .add_member(member(100, &two, &[111, 110]), None)
        .await
        .unwrap();

    let mut only_doomed = text(130, 100, "a");
    only_doomed.permission_overwrites = vec![role_overwrite(110)];
    let mut only_kept = text(120, 100, "b");
    only_kept.permission_overwrites = vec![role_overwrite(111)];
    let mut both = text(125, 100, "c");
    both.permission_overwrites = vec![role_overwrite(111), role_overwrite(110)];
    // A channel of another guild that happens to name the id is not this guild's business.
    let mut foreign = text(205, 200, "foreign");
    foreign.permission_overwrites = vec![role_overwrite(110)];
    for channel in [&only_doomed, &only_kept, &both, &foreign] {
        store.create_channel(channel.clone()).await.unwrap();
    }

    let changed = store.delete_role(sf(100), sf(110)).await.unwrap();
    let mut both_now = both.clone();
    both_now.permission_overwrites = vec![role_overwrite(111)];
    let mut only_doomed_now = only_doomed.clone();
    only_doomed_now.permission_overwrites = Vec::new();
    assert_eq!(changed, vec![both_now.clone(), only_doomed_now.clone()]);
    assert_eq!(store.channel(sf(125)).await.unwrap(), Some(both_now));
    assert_eq!(store.channel(sf(130)).await.unwrap(), Some(only_doomed_now));
    assert_eq!(store.channel(sf(120)).await.unwrap(), Some(only_kept));
    assert_eq!(store.channel(sf(205)).await.unwrap(), Some(foreign));
    assert_eq!(
        ids(&store.roles_of_guild(sf(100)).await.unwrap(), |r| r.id),
        vec![100, 111]
    );
    let one_now = store.member(sf(100), sf(2)).await.unwrap().unwrap();
    assert!(one_now.roles.is_empty());
    let two_now = store.member(sf(100), sf(3)).await.unwrap().unwrap();
    assert_eq!(two_now.roles, vec![sf(111)]);
    assert_eq!(two_now, member(100, &two, &[111]).clone_joined(&two_now));

    // Deleting it again (or from another guild) changes nothing.
    assert!(store
        .delete_role(sf(100), sf(110))
        .await
        .unwrap()
        .is_empty());
    store.delete_role(sf(200), sf(111)).await.unwrap();
    assert_eq!(store.roles_of_guild(sf(100)).await.unwrap().len(), 2);
}

/// Compares members made at different instants: takes `joined_at` from the stored one.
trait CloneJoined {
    fn clone_joined(self, stored: &Member) -> Member;
}

impl CloneJoined for Member {
    fn clone_joined(mut self, stored: &Member) -> Member {
        self.joined_at = stored.joined_at.clone();
        self
    }
}

async fn add_member_conflicts_and_managed_role(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let guest = person(2, "guest");
    store.create_user(guest.clone()).await.unwrap();
    guild_with_owner(&*store, 100, &owner).await;
    store
        .create_role(sf(100), role(110, "mod", 1))
        .await
        .unwrap();

    let mut joined = member(100, &guest, &[110]);
    joined.nick = Some("guesty".into());
    store.add_member(joined.clone(), None).await.unwrap();
    assert_eq!(
        store.member(sf(100), sf(2)).await.unwrap(),
        Some(joined.clone())
    );
    assert_conflict(store.add_member(joined.clone(), None).await, "member");
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 2);
    // The reads whose callers know the user may leave `user` out; the rest must match.
    let without_user = |member: Member| Member {
        user: None,
        ..member
    };
    let record = store.member_record(sf(100), sf(2)).await.unwrap();
    assert_eq!(record.map(without_user), Some(without_user(joined.clone())));
    assert_eq!(store.member_record(sf(100), sf(3)).await.unwrap(), None);
    assert_eq!(store.member_record(sf(101), sf(2)).await.unwrap(), None);
    let (record, guild, roles) = store
        .member_guild_roles(sf(100), sf(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(without_user(record), without_user(joined.clone()));
    assert_eq!(guild.id, sf(100));
    assert_eq!(ids(&roles, |r| r.id), vec![100, 110]);
    assert!(store
        .member_guild_roles(sf(100), sf(3))
        .await
        .unwrap()
        .is_none());

    // A bot joins with its managed role, created at position 1 (pushing "mod" up).
    let robot = bot(50, "robot");
    store.create_user(robot.clone()).await.unwrap();
    let mut managed = role(150, "robot", 1);
    managed.managed = true;
    managed.tags = Some(accord::model::RoleTags {
        bot_id: Some(sf(50)),
    });
    let bot_member = member(100, &robot, &[150]);
    store
        .add_member(bot_member.clone(), Some(managed.clone()))
        .await
        .unwrap();
    assert_eq!(
        store.member(sf(100), sf(50)).await.unwrap(),
        Some(bot_member)
    );
    let roles = store.roles_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&roles, |r| r.id), vec![100, 110, 150]);
    assert_eq!(roles[2], managed);
    assert_eq!(roles[1].position, 2);

    // A member that is already there: the managed role is not created either.
    let mut another = role(151, "robot again", 1);
    another.managed = true;
    assert_conflict(
        store
            .add_member(member(100, &robot, &[151]), Some(another))
            .await,
        "member",
    );
    assert_eq!(store.roles_of_guild(sf(100)).await.unwrap(), roles);
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 3);
}

async fn members_pagination_records_and_count(store: Arc<dyn Store>) {
    let owner = person(5, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    let users: Vec<UserRecord> = [(3, "c"), (9, "i"), (7, "g"), (4, "d")]
        .into_iter()
        .map(|(id, name)| person(id, name))
        .collect();
    for user in &users {
        store.create_user(user.clone()).await.unwrap();
        store
            .add_member(member(100, user, &[]), None)
            .await
            .unwrap();
    }
    // A member whose user record is gone is still listed, without a user.
    let ghost = person(6, "ghost");
    store
        .add_member(member(100, &ghost, &[]), None)
        .await
        .unwrap();
    store
        .add_member(member(200, &users[0], &[]), None)
        .await
        .unwrap();

    assert_eq!(store.member_count(sf(100)).await.unwrap(), 6);
    assert_eq!(store.member_count(sf(200)).await.unwrap(), 2);
    assert_eq!(store.member_count(sf(999)).await.unwrap(), 0);

    let page = store.members_of_guild(sf(100), sf(0), 2).await.unwrap();
    assert_eq!(ids(&page, |m| m.user_id), vec![3, 4]);
    assert_eq!(page[0].user.as_ref(), Some(&public(&users[0])));
    assert_eq!(page[0].guild_id, sf(100));
    let page = store.members_of_guild(sf(100), sf(4), 3).await.unwrap();
    assert_eq!(ids(&page, |m| m.user_id), vec![5, 6, 7]);
    assert_eq!(page[0].user.as_ref(), Some(&public(&owner)));
    assert_eq!(page[1].user, None, "the ghost has no user");
    let page = store.members_of_guild(sf(100), sf(7), 10).await.unwrap();
    assert_eq!(ids(&page, |m| m.user_id), vec![9]);
    assert!(store
        .members_of_guild(sf(100), sf(9), 10)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .members_of_guild(sf(100), sf(0), 0)
        .await
        .unwrap()
        .is_empty());
    let all = store
        .members_of_guild(sf(100), sf(0), u32::MAX)
        .await
        .unwrap();
    assert_eq!(ids(&all, |m| m.user_id), vec![3, 4, 5, 6, 7, 9]);

    let records = store.member_records_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&records, |m| m.user_id), vec![3, 4, 5, 6, 7, 9]);
    for (record, full) in records.iter().zip(&all) {
        assert_eq!(record.user, None);
        assert_eq!(record.guild_id, sf(100));
        assert_eq!(&with_user(record.clone(), full.user.clone()), full);
    }
    assert_eq!(
        store.member(sf(100), sf(6)).await.unwrap(),
        Some(with_user(member(100, &ghost, &[]), None)).map(|m| m.clone_joined(&records[3]))
    );
    assert_eq!(store.member(sf(100), sf(8)).await.unwrap(), None);
}

async fn update_and_remove_member(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let guest = person(2, "guest");
    store.create_user(guest.clone()).await.unwrap();
    guild_with_owner(&*store, 100, &owner).await;
    store
        .create_role(sf(100), role(110, "mod", 1))
        .await
        .unwrap();
    store
        .add_member(member(100, &guest, &[]), None)
        .await
        .unwrap();

    let mut edited = store.member(sf(100), sf(2)).await.unwrap().unwrap();
    edited.nick = Some("nick".into());
    edited.roles = vec![sf(110)];
    edited.mute = true;
    edited.communication_disabled_until = Some("2030-01-01T00:00:00.000000+00:00".into());
    store.update_member(edited.clone()).await.unwrap();
    assert_eq!(store.member(sf(100), sf(2)).await.unwrap(), Some(edited));
    // Updating someone who is not a member adds nobody.
    store
        .update_member(member(100, &person(3, "stranger"), &[]))
        .await
        .unwrap();
    assert_eq!(store.member(sf(100), sf(3)).await.unwrap(), None);

    assert!(store.remove_member(sf(100), sf(2)).await.unwrap());
    assert!(!store.remove_member(sf(100), sf(2)).await.unwrap());
    assert_eq!(store.member(sf(100), sf(2)).await.unwrap(), None);
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 1);
    assert!(store.guild_ids_of_user(sf(2)).await.unwrap().is_empty());
}

async fn bans_remove_members_and_paginate(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    let users: Vec<UserRecord> = (2..=6).map(|i| person(i, &format!("u{i}"))).collect();
    for user in &users {
        store.create_user(user.clone()).await.unwrap();
    }
    store
        .add_member(member(100, &users[0], &[]), None)
        .await
        .unwrap();

    store
        .ban_member(sf(100), sf(2), Some("spam".into()))
        .await
        .unwrap();
    assert_eq!(store.member(sf(100), sf(2)).await.unwrap(), None);
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 1);
    assert_eq!(
        store.ban(sf(100), sf(2)).await.unwrap(),
        Some(Ban {
            reason: Some("spam".into()),
            user: public(&users[0])
        })
    );
    // Banning again replaces the reason; banning a non-member works.
    store.ban_member(sf(100), sf(2), None).await.unwrap();
    assert_eq!(
        store.ban(sf(100), sf(2)).await.unwrap(),
        Some(Ban {
            reason: None,
            user: public(&users[0])
        })
    );
    for id in [5, 3, 6, 4] {
        store
            .ban_member(sf(100), sf(id), Some(format!("r{id}")))
            .await
            .unwrap();
    }
    // A ban of a user that does not exist is not listed.
    store.ban_member(sf(100), sf(7), None).await.unwrap();
    assert_eq!(store.ban(sf(100), sf(7)).await.unwrap(), None);
    assert_eq!(store.ban(sf(100), sf(1)).await.unwrap(), None);
    assert_eq!(store.ban(sf(200), sf(2)).await.unwrap(), None);

    let max = sf(i64::MAX as u64);
    let ban_ids = |bans: Vec<Ban>| bans.iter().map(|b| b.user.id.0).collect::<Vec<_>>();
    assert_eq!(
        ban_ids(store.bans(sf(100), sf(0), max, 100).await.unwrap()),
        vec![2, 3, 4, 5, 6]
    );
    assert_eq!(
        ban_ids(store.bans(sf(100), sf(0), max, 2).await.unwrap()),
        vec![2, 3]
    );
    assert_eq!(
        ban_ids(store.bans(sf(100), sf(3), max, 2).await.unwrap()),
        vec![4, 5]
    );
    assert_eq!(
        ban_ids(store.bans(sf(100), sf(2), sf(6), 100).await.unwrap()),
        vec![3, 4, 5]
    );
    assert!(store.bans(sf(100), sf(0), max, 0).await.unwrap().is_empty());
    let listed = store.bans(sf(100), sf(4), sf(6), 10).await.unwrap();
    assert_eq!(
        listed,
        vec![Ban {
            reason: Some("r5".into()),
            user: public(&users[3])
        }]
    );

    assert!(store.remove_ban(sf(100), sf(3)).await.unwrap());
    assert!(!store.remove_ban(sf(100), sf(3)).await.unwrap());
    assert_eq!(store.ban(sf(100), sf(3)).await.unwrap(), None);
    assert_eq!(
        ban_ids(store.bans(sf(100), sf(0), max, 100).await.unwrap()),
        vec![2, 4, 5, 6]
    );
}

async fn invites_count_uses_and_add_members(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    let guest = person(2, "guest");
    let other = person(3, "other");
    for user in [&guest, &other] {
        store.create_user(user.clone()).await.unwrap();
    }
    guild_with_owner(&*store, 100, &owner).await;
    let mut code = invite("abcDEF12", 100, 101, 1);
    code.max_uses = 5;
    code.expires_at = Some("2030-01-01T00:00:00.000000+00:00".into());
    store.create_invite(code.clone()).await.unwrap();
    assert_eq!(store.invite("abcDEF12").await.unwrap(), Some(code.clone()));
    assert_eq!(
        store.invite("abcdef12").await.unwrap(),
        None,
        "codes are case-sensitive"
    );
    assert_conflict(
        store.create_invite(invite("abcDEF12", 100, 101, 1)).await,
        "unique",
    );

    let joined = member(100, &guest, &[]);
    store.use_invite("abcDEF12", joined.clone()).await.unwrap();
    let mut used = code.clone();
    used.uses = 1;
    assert_eq!(store.invite("abcDEF12").await.unwrap(), Some(used.clone()));
    assert_eq!(store.member(sf(100), sf(2)).await.unwrap(), Some(joined));

    // Joining twice: nothing is counted.
    assert_conflict(
        store.use_invite("abcDEF12", member(100, &guest, &[])).await,
        "member",
    );
    assert_eq!(store.invite("abcDEF12").await.unwrap(), Some(used.clone()));

    store
        .use_invite("abcDEF12", member(100, &other, &[]))
        .await
        .unwrap();
    used.uses = 2;
    assert_eq!(store.invite("abcDEF12").await.unwrap(), Some(used));
    assert_eq!(store.member_count(sf(100)).await.unwrap(), 3);

    // An unknown code still adds the member (the service checks the invite first).
    let late = person(4, "late");
    store.create_user(late.clone()).await.unwrap();
    store
        .use_invite("gone", member(100, &late, &[]))
        .await
        .unwrap();
    assert!(store.member(sf(100), sf(4)).await.unwrap().is_some());
    assert_eq!(store.invite("gone").await.unwrap(), None);
}

async fn create_message_moves_last_message_id(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    assert_eq!(
        store
            .channel(sf(101))
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        None
    );

    let mut first = message(1000, 101, 100, &owner, "hello");
    // As the service stores it: no user, and the ids are not part of the wire format.
    first.member = Some(Member {
        user: None,
        user_id: Snowflake::default(),
        guild_id: Snowflake::default(),
        ..member(100, &owner, &[])
    });
    first.mentions = vec![public(&owner)];
    first.mention_roles = vec![sf(100)];
    first.attachments = vec![accord::model::Attachment {
        id: sf(1),
        filename: "a.png".into(),
        description: Some("alt".into()),
        content_type: Some("image/png".into()),
        size: 3,
        url: "http://x/attachments/101/1/a.png".into(),
        proxy_url: "http://x/attachments/101/1/a.png".into(),
        height: Some(1),
        width: Some(2),
        flags: None,
    }];
    first.nonce = Some(json!("n-1"));
    store.create_message(first.clone()).await.unwrap();
    assert_eq!(
        store
            .channel(sf(101))
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        Some(sf(1000))
    );
    assert_eq!(
        store.message(sf(101), sf(1000)).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store.message(sf(102), sf(1000)).await.unwrap(),
        None,
        "wrong channel"
    );
    assert_eq!(store.message(sf(101), sf(1001)).await.unwrap(), None);

    let mut reply = message(1001, 101, 100, &owner, "reply");
    reply.kind = 19;
    reply.message_reference = Some(accord::model::MessageReference {
        kind: 0,
        message_id: Some(sf(1000)),
        channel_id: Some(sf(101)),
        guild_id: Some(sf(100)),
        fail_if_not_exists: None,
    });
    reply.referenced_message = Some(Box::new(first.clone()));
    store.create_message(reply.clone()).await.unwrap();
    assert_eq!(store.message(sf(101), sf(1001)).await.unwrap(), Some(reply));
    assert_eq!(
        store
            .channel(sf(101))
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        Some(sf(1001))
    );

    // A duplicate id is refused and moves nothing.
    assert_conflict(
        store
            .create_message(message(1000, 101, 100, &owner, "again"))
            .await,
        "unique",
    );
    assert_eq!(store.message(sf(101), sf(1000)).await.unwrap(), Some(first));
    assert_eq!(
        store
            .channel(sf(101))
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        Some(sf(1001))
    );
    // A channel edit carries last_message_id as read.
    let mut edited = store.channel(sf(101)).await.unwrap().unwrap();
    edited.name = "edited".into();
    store.update_channels(vec![edited.clone()]).await.unwrap();
    assert_eq!(store.channel(sf(101)).await.unwrap(), Some(edited));
}

async fn message_windows(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    store.create_channel(text(102, 100, "other")).await.unwrap();
    for id in 1001..=1010 {
        store
            .create_message(message(id, 101, 100, &owner, &format!("m{id}")))
            .await
            .unwrap();
        // Interleaved messages of another channel must never show up.
        store
            .create_message(message(id + 100, 102, 100, &owner, "x"))
            .await
            .unwrap();
    }
    let read = |window, limit| {
        let store = Arc::clone(&store);
        async move { message_ids(&store.messages(sf(101), window, limit).await.unwrap()) }
    };
    use MessageWindow::{After, Around, Before};

    assert_eq!(read(Before(None), 3).await, vec![1010, 1009, 1008]);
    assert_eq!(
        read(Before(None), 100).await,
        (1001..=1010).rev().collect::<Vec<_>>()
    );
    assert_eq!(
        read(Before(Some(sf(1005))), 3).await,
        vec![1004, 1003, 1002]
    );
    assert_eq!(read(Before(Some(sf(1002))), 5).await, vec![1001]);
    assert!(read(Before(Some(sf(1001))), 5).await.is_empty());
    assert!(read(Before(None), 0).await.is_empty());

    assert_eq!(read(After(sf(1003)), 3).await, vec![1006, 1005, 1004]);
    assert_eq!(read(After(sf(1008)), 5).await, vec![1010, 1009]);
    assert_eq!(read(After(sf(0)), 2).await, vec![1002, 1001]);
    assert!(read(After(sf(1010)), 5).await.is_empty());
    assert!(read(After(sf(0)), 0).await.is_empty());

    assert_eq!(
        read(Around(sf(1005)), 4).await,
        vec![1006, 1005, 1004, 1003]
    );
    assert_eq!(
        read(Around(sf(1005)), 5).await,
        vec![1007, 1006, 1005, 1004, 1003]
    );
    assert_eq!(
        read(Around(sf(1009)), 6).await,
        vec![1010, 1009, 1008, 1007, 1006, 1005]
    );
    assert_eq!(read(Around(sf(1001)), 3).await, vec![1002, 1001]);
    assert_eq!(read(Around(sf(1005)), 1).await, vec![1005]);
    // Around an id newer than every message: all of it comes from the older side.
    assert_eq!(read(Around(sf(1104)), 2).await, vec![1010, 1009]);
    assert!(read(Around(sf(1005)), 0).await.is_empty());

    // The messages come back whole.
    let full = store
        .messages(sf(101), Before(Some(sf(1004))), 1)
        .await
        .unwrap();
    assert_eq!(full.len(), 1);
    assert_eq!(
        Some(full[0].clone()),
        store.message(sf(101), sf(1003)).await.unwrap()
    );
    assert_eq!(full[0].content, "m1003");
}

async fn delete_recent_messages_per_channel(store: Arc<dyn Store>) {
    let author = person(1, "author");
    let bystander = person(2, "bystander");
    store.create_user(bystander.clone()).await.unwrap();
    guild_with_owner(&*store, 100, &author).await;
    guild_with_owner(&*store, 300, &author).await;
    // Channel ids in the opposite order of the message ids.
    store.create_channel(text(121, 100, "a")).await.unwrap();
    store.create_channel(text(120, 100, "b")).await.unwrap();
    let posts = [
        (1001, 121, &author),
        (1002, 120, &author),
        (1003, 120, &author),
        (1004, 301, &author),
        (1005, 121, &author),
        (1006, 121, &bystander),
        (1007, 120, &author),
    ];
    for (id, channel, who) in posts {
        let guild = if channel == 301 { 300 } else { 100 };
        store
            .create_message(message(id, channel, guild, who, "x"))
            .await
            .unwrap();
    }

    let deleted = store
        .delete_recent_messages(sf(100), sf(1), sf(1002))
        .await
        .unwrap();
    assert_eq!(
        deleted,
        vec![
            (sf(120), vec![sf(1003), sf(1007)]),
            (sf(121), vec![sf(1005)]),
        ]
    );
    assert_eq!(
        message_ids(
            &store
                .messages(sf(120), MessageWindow::Before(None), 10)
                .await
                .unwrap()
        ),
        vec![1002]
    );
    assert_eq!(
        message_ids(
            &store
                .messages(sf(121), MessageWindow::Before(None), 10)
                .await
                .unwrap()
        ),
        vec![1006, 1001]
    );
    assert!(store.message(sf(301), sf(1004)).await.unwrap().is_some());
    assert!(store
        .delete_recent_messages(sf(100), sf(1), sf(1002))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .delete_recent_messages(sf(999), sf(1), sf(0))
        .await
        .unwrap()
        .is_empty());
}

async fn message_by_nonce_finds_the_newest(store: Arc<dyn Store>) {
    let author = person(1, "author");
    let other = person(2, "other");
    store.create_user(other.clone()).await.unwrap();
    guild_with_owner(&*store, 100, &author).await;
    store
        .create_channel(text(102, 100, "second"))
        .await
        .unwrap();
    let posts = [
        with_nonce(message(1001, 101, 100, &author, "a"), json!("abc")),
        with_nonce(message(1002, 101, 100, &author, "b"), json!(42)),
        with_nonce(message(1003, 101, 100, &other, "c"), json!("abc")),
        with_nonce(message(1004, 102, 100, &author, "d"), json!("abc")),
        message(1005, 101, 100, &author, "no nonce"),
        with_nonce(message(1006, 101, 100, &author, "e"), json!("abc")),
    ];
    for post in &posts {
        store.create_message(post.clone()).await.unwrap();
    }
    let find = |channel: u64, author: u64, nonce: &'static str, since: u64| {
        let store = Arc::clone(&store);
        async move {
            store
                .message_by_nonce(sf(channel), sf(author), nonce, sf(since))
                .await
                .unwrap()
                .map(|m| m.id.0)
        }
    };
    assert_eq!(find(101, 1, "abc", 0).await, Some(1006));
    assert_eq!(find(101, 1, "abc", 1006).await, None);
    assert_eq!(find(101, 1, "abc", 1005).await, Some(1006));
    assert_eq!(
        find(101, 1, "42", 0).await,
        Some(1002),
        "integer nonces as text"
    );
    assert_eq!(find(101, 2, "abc", 0).await, Some(1003));
    assert_eq!(find(102, 1, "abc", 0).await, Some(1004));
    assert_eq!(find(101, 1, "zzz", 0).await, None);
    assert_eq!(
        store
            .message_by_nonce(sf(101), sf(1), "abc", sf(0))
            .await
            .unwrap(),
        Some(posts[5].clone())
    );
}

/// Many writers in one channel (as several nodes would be): every message lands and the
/// channel points at one of them.
async fn concurrent_messages_in_one_channel(store: Arc<dyn Store>) {
    let author = person(1, "author");
    guild_with_owner(&*store, 100, &author).await;
    let writers = (0..16u64).map(|i| {
        let store = Arc::clone(&store);
        let author = author.clone();
        tokio::spawn(async move {
            store
                .create_message(message(2000 + i, 101, 100, &author, "race"))
                .await
        })
    });
    for result in futures_util::future::join_all(writers).await {
        result.unwrap().expect("every concurrent message is stored");
    }
    let stored = store
        .messages(sf(101), MessageWindow::Before(None), 100)
        .await
        .unwrap();
    assert_eq!(message_ids(&stored), (2000..2016).rev().collect::<Vec<_>>());
    let last = store
        .channel(sf(101))
        .await
        .unwrap()
        .unwrap()
        .last_message_id;
    assert!(
        last.is_some_and(|id| (2000..2016).contains(&id.0)),
        "last_message_id {last:?}"
    );
}

// --- dms ---

async fn dm_channels_one_per_pair(store: Arc<dyn Store>) {
    let (a, b, c) = (person(1, "a"), person(2, "b"), bot(3, "c"));
    for user in [&a, &b, &c] {
        store.create_user(user.clone()).await.unwrap();
    }
    // Both users open the pair's channel at once, many times: one channel wins, everyone gets it.
    let opens = (0..16u64).map(|i| {
        let store = Arc::clone(&store);
        let pair = if i % 2 == 0 {
            [public(&a), public(&b)]
        } else {
            [public(&b), public(&a)]
        };
        tokio::spawn(async move { store.open_dm(Channel::dm(sf(500 + i), pair)).await })
    });
    let opened: Vec<Channel> = futures_util::future::join_all(opens)
        .await
        .into_iter()
        .map(|r| r.unwrap().expect("open_dm"))
        .collect();
    let winner = opened[0].clone();
    assert!(opened.iter().all(|c| *c == winner), "one channel per pair");
    assert_eq!(winner.kind, ChannelType::Dm);
    assert_eq!(winner.guild_id, None);
    assert!(winner.has_recipient(sf(1)) && winner.has_recipient(sf(2)));
    assert_eq!(
        store.channel(winner.id).await.unwrap(),
        Some(winner.clone())
    );

    let other = store
        .open_dm(Channel::dm(sf(600), [public(&c), public(&a)]))
        .await
        .unwrap();
    assert_eq!(other.id, sf(600));
    assert_eq!(
        ids(&store.dm_channels_of_user(sf(1)).await.unwrap(), |c| c.id),
        vec![winner.id.0, 600]
    );
    assert_eq!(
        ids(&store.dm_channels_of_user(sf(2)).await.unwrap(), |c| c.id),
        vec![winner.id.0]
    );
    assert!(store.dm_channels_of_user(sf(4)).await.unwrap().is_empty());
    assert!(store
        .open_dm(Channel::dm(sf(700), [public(&a), public(&a)]))
        .await
        .is_err());

    // Messages move a DM's last_message_id like a guild channel's.
    let mut first = message(800, winner.id.0, 0, &a, "hi");
    first.guild_id = None;
    store.create_message(first).await.unwrap();
    let reread = store.dm_channels_of_user(sf(2)).await.unwrap();
    assert_eq!(reread[0].last_message_id, Some(sf(800)));
    assert_eq!(
        store
            .channel(winner.id)
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        Some(sf(800))
    );
    // A guild's channel list never shows DMs.
    guild_with_owner(&*store, 100, &a).await;
    assert_eq!(
        ids(&store.channels_of_guild(sf(100)).await.unwrap(), |c| c.id),
        vec![101]
    );
}

// ---------------------------------------------------------------------------------------------
// MongoDB only
// ---------------------------------------------------------------------------------------------

async fn update_and_delete_messages(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    store.create_channel(text(102, 100, "other")).await.unwrap();
    for id in 1001..=1004 {
        store
            .create_message(message(id, 101, 100, &owner, "before"))
            .await
            .unwrap();
    }
    store
        .create_message(message(2001, 102, 100, &owner, "elsewhere"))
        .await
        .unwrap();

    let mut edited = message(1002, 101, 100, &owner, "after");
    edited.edited_timestamp = Some("2026-01-01T00:00:00.000000+00:00".into());
    assert!(store.update_message(edited.clone()).await.unwrap());
    assert_eq!(
        store.message(sf(101), sf(1002)).await.unwrap(),
        Some(edited)
    );
    // The message is not in that channel: nothing changes.
    assert!(!store
        .update_message(message(2001, 101, 100, &owner, "moved?"))
        .await
        .unwrap());
    assert_eq!(
        store
            .message(sf(102), sf(2001))
            .await
            .unwrap()
            .unwrap()
            .content,
        "elsewhere"
    );

    // Only the channel's messages go; the answer names those that existed.
    let mut deleted = store
        .delete_messages(sf(101), vec![sf(1001), sf(1003), sf(2001), sf(9999)])
        .await
        .unwrap();
    deleted.sort();
    assert_eq!(deleted, vec![sf(1001), sf(1003)]);
    let left = store
        .messages(sf(101), MessageWindow::Before(None), 10)
        .await
        .unwrap();
    assert_eq!(message_ids(&left), vec![1004, 1002]);
    assert!(store.message(sf(102), sf(2001)).await.unwrap().is_some());
    assert!(store
        .delete_messages(sf(101), vec![sf(1001)])
        .await
        .unwrap()
        .is_empty());
}

async fn pins_keep_order_limit_and_leave_with_their_message(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    for id in 1001..=1004 {
        store
            .create_message(message(id, 101, 100, &owner, "m"))
            .await
            .unwrap();
    }
    let at = |n: u32| Some(format!("2026-01-01T00:00:0{n}.000000+00:00"));
    let pinned = store
        .set_pinned(sf(101), sf(1003), at(1), 3)
        .await
        .unwrap()
        .unwrap();
    assert!(pinned.pinned);
    assert!(
        store
            .message(sf(101), sf(1003))
            .await
            .unwrap()
            .unwrap()
            .pinned
    );
    store.set_pinned(sf(101), sf(1001), at(2), 3).await.unwrap();
    store.set_pinned(sf(101), sf(1002), at(3), 3).await.unwrap();
    // Pinning again changes nothing (and does not count against the limit).
    assert!(
        store
            .set_pinned(sf(101), sf(1002), at(4), 3)
            .await
            .unwrap()
            .unwrap()
            .pinned
    );
    assert_conflict(store.set_pinned(sf(101), sf(1004), at(5), 3).await, "pins");
    assert!(
        !store
            .message(sf(101), sf(1004))
            .await
            .unwrap()
            .unwrap()
            .pinned
    );
    assert_eq!(
        store.set_pinned(sf(101), sf(4242), at(5), 3).await.unwrap(),
        None
    );

    let pins = store.pins(sf(101), None, 10).await.unwrap();
    let order: Vec<(u64, String)> = pins
        .iter()
        .map(|p| (p.message.id.0, p.pinned_at.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            (1002, at(3).unwrap()),
            (1001, at(2).unwrap()),
            (1003, at(1).unwrap())
        ]
    );
    assert!(pins.iter().all(|p| p.message.pinned));
    let older = store.pins(sf(101), at(3), 1).await.unwrap();
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].message.id, sf(1001));

    // Unpinning and deleting free their places.
    let unpinned = store
        .set_pinned(sf(101), sf(1001), None, 3)
        .await
        .unwrap()
        .unwrap();
    assert!(!unpinned.pinned);
    store
        .delete_messages(sf(101), vec![sf(1002)])
        .await
        .unwrap();
    let pins = store.pins(sf(101), None, 10).await.unwrap();
    assert_eq!(pins.len(), 1);
    assert_eq!(pins[0].message.id, sf(1003));
    store.set_pinned(sf(101), sf(1004), at(6), 3).await.unwrap();
    assert_eq!(store.pins(sf(101), None, 10).await.unwrap().len(), 2);
}

// --- reactions ---

fn unicode(text: &str) -> PartialEmoji {
    PartialEmoji {
        id: None,
        name: Some(text.into()),
        animated: None,
    }
}

fn custom(id: u64, name: &str) -> PartialEmoji {
    PartialEmoji {
        id: Some(sf(id)),
        name: Some(name.into()),
        animated: Some(false),
    }
}

fn reaction(
    channel: u64,
    message: u64,
    user: u64,
    emoji: PartialEmoji,
    order: u64,
) -> StoredReaction {
    StoredReaction {
        channel_id: sf(channel),
        message_id: sf(message),
        user_id: sf(user),
        emoji,
        order: sf(order),
    }
}

fn summary(message: u64, emoji: PartialEmoji, count: u32, me: bool) -> ReactionSummary {
    ReactionSummary {
        message_id: sf(message),
        emoji,
        count,
        me,
    }
}

async fn reactions_add_once_list_and_remove(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    for id in [1001, 1002] {
        store
            .create_message(message(id, 101, 100, &owner, "m"))
            .await
            .unwrap();
    }
    let thumbs = unicode("👍");
    let blob = custom(777, "blob");
    let add = |r: StoredReaction| {
        let store = Arc::clone(&store);
        async move { store.add_reaction(r, 2).await }
    };
    assert_eq!(
        add(reaction(101, 1001, 5, thumbs.clone(), 10))
            .await
            .unwrap(),
        Some(true)
    );
    assert_eq!(
        add(reaction(101, 1001, 3, thumbs.clone(), 11))
            .await
            .unwrap(),
        Some(true)
    );
    // The same user and emoji again: nothing changes.
    assert_eq!(
        add(reaction(101, 1001, 5, thumbs.clone(), 12))
            .await
            .unwrap(),
        Some(false)
    );
    assert_eq!(
        add(reaction(101, 1001, 3, blob.clone(), 13)).await.unwrap(),
        Some(true)
    );
    // A third emoji is over this call's limit of two; an existing one is not.
    assert_conflict(
        add(reaction(101, 1001, 3, unicode("🎉"), 14)).await,
        "reactions",
    );
    assert_eq!(
        add(reaction(101, 1001, 9, blob.clone(), 15)).await.unwrap(),
        Some(true)
    );
    // No such message in that channel.
    assert_eq!(
        add(reaction(101, 4242, 3, thumbs.clone(), 16))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        add(reaction(999, 1001, 3, thumbs.clone(), 17))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        add(reaction(101, 1002, 9, unicode("🎉"), 18))
            .await
            .unwrap(),
        Some(true)
    );

    // Users by ascending id, paged.
    let users = |key: &'static str, after: u64, limit: u32| {
        let store = Arc::clone(&store);
        async move {
            store
                .reaction_users(sf(1001), key, sf(after), limit)
                .await
                .unwrap()
                .into_iter()
                .map(|id| id.0)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(users("👍", 0, 10).await, vec![3, 5]);
    assert_eq!(users("👍", 0, 1).await, vec![3]);
    assert_eq!(users("👍", 3, 10).await, vec![5]);
    assert_eq!(users("777", 0, 10).await, vec![3, 9]);
    assert_eq!(users("🎉", 0, 10).await, Vec::<u64>::new());

    // Summaries: per message in the order asked, emojis in first-use order, `me` per viewer.
    let seen = store
        .reaction_summaries(&[sf(1002), sf(1001), sf(4242)], sf(9))
        .await
        .unwrap();
    assert_eq!(
        seen,
        vec![
            summary(1002, unicode("🎉"), 1, true),
            summary(1001, thumbs.clone(), 2, false),
            summary(1001, blob.clone(), 2, true),
        ]
    );
    assert_eq!(store.reaction_summaries(&[], sf(9)).await.unwrap(), vec![]);

    // Removing one, one emoji, then all.
    assert!(store.remove_reaction(sf(1001), "👍", sf(5)).await.unwrap());
    assert!(!store.remove_reaction(sf(1001), "👍", sf(5)).await.unwrap());
    assert_eq!(users("👍", 0, 10).await, vec![3]);
    assert_eq!(
        store.remove_reactions(sf(1001), Some("777")).await.unwrap(),
        2
    );
    assert_eq!(
        store.reaction_summaries(&[sf(1001)], sf(3)).await.unwrap(),
        vec![summary(1001, thumbs.clone(), 1, true)]
    );
    assert_eq!(store.remove_reactions(sf(1001), None).await.unwrap(), 1);
    assert_eq!(store.remove_reactions(sf(1001), None).await.unwrap(), 0);
    assert_eq!(
        store.reaction_summaries(&[sf(1001)], sf(3)).await.unwrap(),
        vec![]
    );
    // The other message kept its reaction.
    assert_eq!(
        store
            .reaction_summaries(&[sf(1002)], sf(3))
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn reactions_go_with_message_channel_and_guild(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    store
        .create_channel(text(102, 100, "second"))
        .await
        .unwrap();
    for (id, channel) in [(1001, 101), (1002, 101), (1003, 102), (1004, 101)] {
        store
            .create_message(message(id, channel, 100, &owner, "m"))
            .await
            .unwrap();
        store
            .add_reaction(reaction(channel, id, 1, unicode("👍"), id), 20)
            .await
            .unwrap();
    }
    let count = |ids: Vec<u64>| {
        let store = Arc::clone(&store);
        async move {
            let ids: Vec<Snowflake> = ids.into_iter().map(sf).collect();
            store.reaction_summaries(&ids, sf(1)).await.unwrap().len()
        }
    };
    assert_eq!(count(vec![1001, 1002, 1003, 1004]).await, 4);
    store
        .delete_messages(sf(101), vec![sf(1001)])
        .await
        .unwrap();
    assert_eq!(count(vec![1001]).await, 0);
    store
        .delete_recent_messages(sf(100), sf(1), sf(1003))
        .await
        .unwrap();
    assert_eq!(count(vec![1004]).await, 0);
    assert_eq!(count(vec![1002, 1003]).await, 2);
    store.delete_channel(sf(102)).await.unwrap();
    assert_eq!(count(vec![1003]).await, 0);
    assert_eq!(count(vec![1002]).await, 1);
    store.delete_guild(sf(100)).await.unwrap();
    assert_eq!(count(vec![1002]).await, 0);
    // A message made again with an old id does not find old reactions.
    guild_with_owner(&*store, 100, &owner).await;
    store
        .create_message(message(1002, 101, 100, &owner, "again"))
        .await
        .unwrap();
    assert_eq!(count(vec![1002]).await, 0);
}

fn emoji(id: u64, name: &str, creator: u64) -> Emoji {
    Emoji {
        id: sf(id),
        name: name.into(),
        roles: Vec::new(),
        user: None,
        require_colons: true,
        managed: false,
        animated: false,
        available: true,
        creator_id: Some(sf(creator)),
    }
}

async fn emojis_create_read_update_delete(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    let png = EmojiImage {
        content_type: "image/png".into(),
        bytes: b"\x89PNG\r\n\x1a\n\x00\x01\xff".to_vec(),
    };
    store
        .create_emoji(sf(100), emoji(502, "second", 1), png.clone())
        .await
        .unwrap();
    store
        .create_emoji(sf(100), emoji(501, "first", 1), png.clone())
        .await
        .unwrap();
    store
        .create_emoji(sf(200), emoji(503, "elsewhere", 1), png.clone())
        .await
        .unwrap();
    assert_conflict(
        store
            .create_emoji(sf(100), emoji(501, "dup", 1), png.clone())
            .await,
        "unique",
    );
    let listed = store.emojis_of_guild(sf(100)).await.unwrap();
    assert_eq!(
        listed,
        vec![emoji(501, "first", 1), emoji(502, "second", 1)]
    );
    assert_eq!(
        store.emoji(sf(503)).await.unwrap(),
        Some((sf(200), emoji(503, "elsewhere", 1)))
    );
    assert_eq!(store.emoji(sf(999)).await.unwrap(), None);
    assert_eq!(store.emoji_image(sf(501)).await.unwrap(), Some(png.clone()));
    assert_eq!(store.emoji_image(sf(999)).await.unwrap(), None);

    let mut renamed = emoji(501, "renamed", 1);
    renamed.roles = vec![sf(100)];
    assert!(store.update_emoji(sf(100), renamed.clone()).await.unwrap());
    // Only within its own guild.
    assert!(!store
        .update_emoji(sf(200), emoji(501, "stolen", 1))
        .await
        .unwrap());
    assert_eq!(
        store.emoji(sf(501)).await.unwrap(),
        Some((sf(100), renamed))
    );
    assert!(!store.delete_emoji(sf(200), sf(501)).await.unwrap());
    assert!(store.delete_emoji(sf(100), sf(501)).await.unwrap());
    assert!(!store.delete_emoji(sf(100), sf(501)).await.unwrap());
    assert_eq!(store.emoji(sf(501)).await.unwrap(), None);
    assert_eq!(store.emoji_image(sf(501)).await.unwrap(), None);

    store.delete_guild(sf(100)).await.unwrap();
    assert_eq!(store.emojis_of_guild(sf(100)).await.unwrap(), vec![]);
    assert_eq!(store.emoji(sf(502)).await.unwrap(), None);
    assert_eq!(store.emojis_of_guild(sf(200)).await.unwrap().len(), 1);
}

/// Nodes restart and several connect to one database: connecting again finds the data and the
/// indexes (creating them again is harmless and they still hold).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mongo_store_survives_reconnecting() {
    let uri = mongo_uri();
    let database = fresh_database_name();
    let owner = person(1, "owner");
    {
        let store = MongoStore::connect(&uri, &database).await.unwrap();
        store.setting_init("secret", vec![7; 8]).await.unwrap();
        guild_with_owner(&store, 100, &owner).await;
        store
            .create_message(message(1000, 101, 100, &owner, "persisted"))
            .await
            .unwrap();
    }
    let store = MongoStore::connect(&uri, &database).await.unwrap();
    let again = MongoStore::connect(&uri, &database).await.unwrap();
    assert_eq!(
        again.setting_init("secret", vec![1]).await.unwrap(),
        vec![7; 8]
    );
    assert_same_user(store.user(sf(1)).await.unwrap(), &owner);
    assert_eq!(store.guild_ids_of_user(sf(1)).await.unwrap(), vec![sf(100)]);
    assert_eq!(
        message_ids(
            &store
                .messages(sf(101), MessageWindow::Before(None), 10)
                .await
                .unwrap()
        ),
        vec![1000]
    );
    assert_eq!(
        store
            .channel(sf(101))
            .await
            .unwrap()
            .unwrap()
            .last_message_id,
        Some(sf(1000))
    );
    assert_conflict(store.create_user(person(2, "owner")).await, "username");
    assert_conflict(
        store.add_member(member(100, &owner, &[]), None).await,
        "member",
    );
    let fixture = Fixture {
        store: Arc::new(store),
        _dir: None,
        mongo: Some((uri, database)),
    };
    fixture.finish().await;
}

// --- webhooks ---
fn webhook(id: u64, guild: u64, channel: u64, creator: &UserRecord) -> Webhook {
    Webhook {
        id: sf(id),
        kind: 1,
        guild_id: sf(guild),
        channel_id: sf(channel),
        user: Some(public(creator)),
        name: Some(format!("hook {id}")),
        avatar: None,
        token: Some(format!("token-{id}")),
        application_id: None,
        url: None,
    }
}

async fn webhooks_limit_move_and_cascade(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    store.create_channel(text(102, 100, "two")).await.unwrap();
    guild_with_owner(&*store, 200, &owner).await;

    for id in [5001, 5002] {
        store
            .create_webhook(webhook(id, 100, 101, &owner), 2)
            .await
            .unwrap();
    }
    assert_conflict(
        store
            .create_webhook(webhook(5003, 100, 101, &owner), 2)
            .await,
        "webhooks",
    );
    assert!(store.webhook(sf(5003)).await.unwrap().is_none());
    store
        .create_webhook(webhook(5004, 100, 102, &owner), 2)
        .await
        .unwrap();
    store
        .create_webhook(webhook(5005, 200, 201, &owner), 2)
        .await
        .unwrap();

    let found = store.webhook(sf(5001)).await.unwrap().unwrap();
    assert_eq!(found, webhook(5001, 100, 101, &owner));
    assert_eq!(found.token.as_deref(), Some("token-5001"));
    let of_channel = store.webhooks_of_channel(sf(101)).await.unwrap();
    assert_eq!(ids(&of_channel, |w| w.id), vec![5001, 5002]);
    let of_guild = store.webhooks_of_guild(sf(100)).await.unwrap();
    assert_eq!(ids(&of_guild, |w| w.id), vec![5001, 5002, 5004]);

    // An edit in place; a move into a full channel is refused and changes nothing.
    let mut renamed = found.clone();
    renamed.name = Some("renamed".into());
    assert!(store.update_webhook(renamed.clone(), 2).await.unwrap());
    assert_eq!(store.webhook(sf(5001)).await.unwrap().unwrap(), renamed);
    let mut moved = webhook(5004, 100, 101, &owner);
    moved.name = Some("moved".into());
    assert_conflict(store.update_webhook(moved, 2).await, "webhooks");
    assert_eq!(
        store.webhook(sf(5004)).await.unwrap().unwrap().channel_id,
        sf(102)
    );
    let mut moved = renamed.clone();
    moved.channel_id = sf(102);
    assert!(store.update_webhook(moved, 2).await.unwrap());
    let of_channel = store.webhooks_of_channel(sf(102)).await.unwrap();
    assert_eq!(ids(&of_channel, |w| w.id), vec![5001, 5004]);
    assert!(!store
        .update_webhook(webhook(5999, 100, 101, &owner), 2)
        .await
        .unwrap());

    assert!(store.delete_webhook(sf(5002)).await.unwrap());
    assert!(!store.delete_webhook(sf(5002)).await.unwrap());
    assert!(store.webhooks_of_channel(sf(101)).await.unwrap().is_empty());

    // Deleting a channel or a guild deletes its webhooks.
    store.delete_channel(sf(102)).await.unwrap();
    assert!(store.webhook(sf(5001)).await.unwrap().is_none());
    assert!(store.webhook(sf(5004)).await.unwrap().is_none());
    assert!(store.webhooks_of_guild(sf(100)).await.unwrap().is_empty());
    store.delete_guild(sf(200)).await.unwrap();
    assert!(store.webhook(sf(5005)).await.unwrap().is_none());
}

// --- files ---

/// Attachment bytes: stored, read back exactly (also empty and binary), replaced, and deleted
/// by attachment, by message and by channel without touching other channels.
async fn blobs_put_read_and_delete(store: Arc<dyn Store>) {
    use accord::store::{Blob, BlobKey};
    let blobs = store.blobs();
    let key = |channel: u64, message: u64, attachment: u64| BlobKey {
        channel_id: sf(channel),
        message_id: sf(message),
        attachment_id: sf(attachment),
    };
    let big: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let puts = [
        (key(1, 10, 100), b"hello".to_vec()),
        (key(1, 10, 101), big.clone()),
        (key(1, 11, 102), Vec::new()),
        (key(2, 20, 200), vec![0, 255, 0]),
    ];
    for (k, bytes) in &puts {
        blobs.put_blob(*k, bytes.clone().into()).await.unwrap();
    }
    for (k, bytes) in &puts {
        assert_eq!(
            blobs.blob(k.channel_id, k.attachment_id).await.unwrap(),
            Some(Blob {
                message_id: k.message_id,
                bytes: bytes.clone().into(),
            }),
            "{k:?}"
        );
    }
    assert_eq!(
        blobs.blob(sf(2), sf(100)).await.unwrap(),
        None,
        "other channel"
    );
    assert_eq!(blobs.blob(sf(1), sf(999)).await.unwrap(), None);

    blobs
        .put_blob(key(1, 10, 100), b"replaced".to_vec().into())
        .await
        .unwrap();
    assert_eq!(
        blobs.blob(sf(1), sf(100)).await.unwrap().unwrap().bytes,
        &b"replaced"[..]
    );

    blobs
        .delete_blobs(sf(1), vec![sf(101), sf(555)])
        .await
        .unwrap();
    assert_eq!(blobs.blob(sf(1), sf(101)).await.unwrap(), None);
    assert!(blobs.blob(sf(1), sf(100)).await.unwrap().is_some());

    blobs
        .delete_message_blobs(sf(1), vec![sf(10), sf(77)])
        .await
        .unwrap();
    assert_eq!(blobs.blob(sf(1), sf(100)).await.unwrap(), None);
    assert!(blobs.blob(sf(1), sf(102)).await.unwrap().is_some());
    // Deleting again (nothing left) succeeds.
    blobs
        .delete_message_blobs(sf(1), vec![sf(10)])
        .await
        .unwrap();

    blobs.delete_channel_blobs(sf(1)).await.unwrap();
    assert_eq!(blobs.blob(sf(1), sf(102)).await.unwrap(), None);
    blobs.delete_channel_blobs(sf(1)).await.unwrap();
    assert_eq!(
        blobs.blob(sf(2), sf(200)).await.unwrap().unwrap().bytes,
        &[0u8, 255, 0][..]
    );
}

// ---------------------------------------------------------------------------------------------
// --- interactions ---
// ---------------------------------------------------------------------------------------------

fn command(id: u64, app: u64, guild: Option<u64>, name: &str) -> ApplicationCommand {
    ApplicationCommand {
        id: sf(id),
        kind: 1,
        application_id: sf(app),
        guild_id: guild.map(sf),
        name: name.into(),
        name_localizations: Some([("fr".to_owned(), format!("{name}-fr"))].into()),
        description: format!("{name} command"),
        description_localizations: None,
        options: vec![CommandOption {
            kind: 3,
            name: "text".into(),
            name_localizations: None,
            description: "what".into(),
            description_localizations: None,
            required: true,
            choices: None,
            options: None,
            channel_types: None,
            min_value: None,
            max_value: None,
            min_length: Some(1),
            max_length: None,
            autocomplete: false,
        }],
        default_member_permissions: Some("32".into()),
        dm_permission: guild.is_none().then_some(true),
        nsfw: false,
        integration_types: vec![0],
        contexts: None,
        version: sf(id + 1000),
    }
}

async fn commands_by_scope_replace_and_delete(store: Arc<dyn Store>) {
    let global = command(10, 1, None, "ping");
    let in_guild = command(11, 1, Some(500), "echo");
    let elsewhere = command(12, 1, Some(501), "echo");
    let other_app = command(13, 2, None, "ping");
    for c in [&global, &in_guild, &elsewhere, &other_app] {
        store.put_command(c.clone()).await.unwrap();
    }
    assert_eq!(
        store.commands(sf(1), None).await.unwrap(),
        vec![global.clone()]
    );
    assert_eq!(
        store.commands(sf(1), Some(sf(500))).await.unwrap(),
        vec![in_guild.clone()]
    );
    assert_eq!(
        store.command(sf(1), sf(11)).await.unwrap(),
        Some(in_guild.clone())
    );
    assert_eq!(
        store.command(sf(2), sf(11)).await.unwrap(),
        None,
        "another app's id"
    );

    // put_command replaces by id.
    let mut edited = global.clone();
    edited.description = "edited".into();
    edited.version = sf(9999);
    store.put_command(edited.clone()).await.unwrap();
    assert_eq!(
        store.commands(sf(1), None).await.unwrap(),
        vec![edited.clone()]
    );

    // Replacing one scope leaves the others alone.
    let fresh = command(14, 1, Some(500), "new");
    store
        .replace_commands(sf(1), Some(sf(500)), vec![fresh.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.commands(sf(1), Some(sf(500))).await.unwrap(),
        vec![fresh]
    );
    assert_eq!(
        store.commands(sf(1), Some(sf(501))).await.unwrap(),
        vec![elsewhere]
    );
    assert_eq!(store.commands(sf(1), None).await.unwrap(), vec![edited]);
    store
        .replace_commands(sf(1), Some(sf(500)), Vec::new())
        .await
        .unwrap();
    assert!(store
        .commands(sf(1), Some(sf(500)))
        .await
        .unwrap()
        .is_empty());

    assert!(store.delete_command(sf(1), sf(10)).await.unwrap());
    assert!(!store.delete_command(sf(1), sf(10)).await.unwrap());
    assert!(
        !store.delete_command(sf(1), sf(13)).await.unwrap(),
        "another app's command"
    );
    assert_eq!(store.commands(sf(2), None).await.unwrap(), vec![other_app]);
}

async fn interactions_acknowledge_once_and_expire(store: Arc<dyn Store>) {
    let author = bot(50, "robot");
    let record = |id: u64, created_ms: u64| InteractionRecord {
        id: sf(id),
        application_id: sf(50),
        token: format!("aW50ZXJhY3Rpb246-{id}"),
        kind: 2,
        created_ms,
        guild_id: Some(sf(500)),
        channel_id: sf(600),
        user_id: sf(7),
        context: json!({ "name": "echo", "nonce": "1" }),
        response: None,
        original_message_id: None,
        ephemeral: Vec::new(),
    };
    let first = record(1, 1_000);
    store.create_interaction(first.clone()).await.unwrap();
    store.create_interaction(record(2, 5_000)).await.unwrap();
    assert_eq!(store.interaction(sf(1)).await.unwrap(), Some(first.clone()));
    assert_eq!(store.interaction(sf(3)).await.unwrap(), None);

    // The first acknowledgement wins; later ones change nothing.
    assert!(store
        .acknowledge_interaction(sf(1), 4, Some(sf(900)))
        .await
        .unwrap());
    assert!(!store
        .acknowledge_interaction(sf(1), 5, Some(sf(901)))
        .await
        .unwrap());
    assert!(!store.acknowledge_interaction(sf(3), 4, None).await.unwrap());
    let acked = store.interaction(sf(1)).await.unwrap().unwrap();
    assert_eq!(acked.response, Some(4));
    assert_eq!(acked.original_message_id, Some(sf(900)));
    assert_eq!(acked.context, first.context);

    // Ephemeral messages are kept with the interaction.
    let secret = message(901, 600, 500, &author, "only you");
    store
        .set_interaction_ephemeral(sf(1), vec![secret.clone()])
        .await
        .unwrap();
    let with = store.interaction(sf(1)).await.unwrap().unwrap();
    assert_eq!(with.ephemeral, vec![secret]);
    assert_eq!(with.response, Some(4), "keeps the acknowledgement");

    // Expired ones are forgotten.
    assert_eq!(store.delete_interactions_before(2_000).await.unwrap(), 1);
    assert_eq!(store.interaction(sf(1)).await.unwrap(), None);
    assert!(store.interaction(sf(2)).await.unwrap().is_some());
}

// --- audit log ---

fn audit_entry(id: u64, guild: u64, actor: u64, target: u64, action_type: u16) -> AuditLogEntry {
    AuditLogEntry {
        id: sf(id),
        guild_id: Some(sf(guild)),
        target_id: Some(sf(target)),
        user_id: Some(sf(actor)),
        action_type,
        changes: vec![AuditLogChange::new(
            "nick",
            Some(json!("old")),
            Some(json!("new")),
        )],
        options: None,
        reason: id.is_multiple_of(2).then(|| format!("reason {id}")),
    }
}

async fn audit_log_filters_windows_and_goes_with_guild(store: Arc<dyn Store>) {
    let owner = person(1, "owner");
    guild_with_owner(&*store, 100, &owner).await;
    guild_with_owner(&*store, 200, &owner).await;
    // Guild 100: entries 1..=6 by users 1 and 2, kicks (20) and bans (22); one in guild 200.
    let entries: Vec<AuditLogEntry> = (1..=6)
        .map(|i| audit_entry(i, 100, 1 + i % 2, 50 + i % 3, if i <= 3 { 20 } else { 22 }))
        .collect();
    for entry in &entries {
        store.add_audit_entry(entry.clone()).await.unwrap();
    }
    store
        .add_audit_entry(audit_entry(7, 200, 1, 50, 20))
        .await
        .unwrap();
    let query = |limit| AuditQuery {
        limit,
        ..AuditQuery::default()
    };
    let listed = |found: Vec<AuditLogEntry>| ids(&found, |e| e.id);

    // Newest first, whole entries back as written.
    let all = store.audit_entries(sf(100), query(50)).await.unwrap();
    assert_eq!(all.first(), Some(&entries[5]));
    assert_eq!(listed(all), vec![6, 5, 4, 3, 2, 1]);
    assert_eq!(
        listed(store.audit_entries(sf(100), query(2)).await.unwrap()),
        vec![6, 5]
    );
    // Filters.
    let by_user = AuditQuery {
        user_id: Some(sf(2)),
        ..query(50)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), by_user).await.unwrap()),
        vec![5, 3, 1]
    );
    let bans = AuditQuery {
        action_type: Some(22),
        ..query(50)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), bans).await.unwrap()),
        vec![6, 5, 4]
    );
    let by_target = AuditQuery {
        target_id: Some(sf(50)),
        ..query(50)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), by_target).await.unwrap()),
        vec![6, 3]
    );
    // Windows: before is exclusive; after takes the oldest ones above it, still newest first.
    let before = AuditQuery {
        before: Some(sf(5)),
        ..query(2)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), before).await.unwrap()),
        vec![4, 3]
    );
    let after = AuditQuery {
        after: Some(sf(2)),
        ..query(2)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), after).await.unwrap()),
        vec![4, 3]
    );
    let between = AuditQuery {
        after: Some(sf(1)),
        before: Some(sf(4)),
        ..query(50)
    };
    assert_eq!(
        listed(store.audit_entries(sf(100), between).await.unwrap()),
        vec![3, 2]
    );

    // Deleting a guild deletes its log only.
    store.delete_guild(sf(100)).await.unwrap();
    assert!(store
        .audit_entries(sf(100), query(50))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        listed(store.audit_entries(sf(200), query(50)).await.unwrap()),
        vec![7]
    );
}

// --- command permissions ---

fn overwrites(
    id: u64,
    app: u64,
    guild: u64,
    targets: &[(u64, u8, bool)],
) -> GuildCommandPermissions {
    GuildCommandPermissions {
        id: sf(id),
        application_id: sf(app),
        guild_id: sf(guild),
        permissions: targets
            .iter()
            .map(|&(target, kind, permission)| CommandPermission {
                id: sf(target),
                kind,
                permission,
            })
            .collect(),
    }
}

async fn command_permissions_replace_list_and_go_with_the_guild(store: Arc<dyn Store>) {
    let command_level = overwrites(11, 1, 500, &[(500, 1, false), (7, 2, true)]);
    let app_level = overwrites(1, 1, 500, &[(499, 3, false)]);
    let elsewhere = overwrites(12, 1, 501, &[(501, 1, false)]);
    let other_app = overwrites(21, 2, 500, &[(500, 1, true)]);
    for entry in [&command_level, &app_level, &elsewhere, &other_app] {
        store.put_command_permissions(entry.clone()).await.unwrap();
    }
    store
        .put_command(command(11, 1, Some(500), "echo"))
        .await
        .unwrap();
    store
        .put_command(command(10, 1, None, "ping"))
        .await
        .unwrap();
    store
        .put_command(command(21, 2, Some(500), "other"))
        .await
        .unwrap();
    assert_eq!(
        store
            .command_permissions_of_guild(sf(1), sf(500))
            .await
            .unwrap(),
        vec![app_level.clone(), command_level.clone()],
        "by id"
    );
    // A put replaces the entry; an empty one removes it.
    let replaced = overwrites(11, 1, 500, &[(8, 2, false)]);
    store
        .put_command_permissions(replaced.clone())
        .await
        .unwrap();
    assert_eq!(
        store
            .command_permissions_of_guild(sf(1), sf(500))
            .await
            .unwrap(),
        vec![app_level.clone(), replaced]
    );
    store
        .put_command_permissions(overwrites(1, 1, 500, &[]))
        .await
        .unwrap();
    assert_eq!(
        store
            .command_permissions_of_guild(sf(1), sf(500))
            .await
            .unwrap()
            .len(),
        1
    );

    // One application leaves the guild: its guild commands and permissions go, nothing else.
    store
        .delete_guild_commands(sf(500), Some(sf(1)))
        .await
        .unwrap();
    assert!(store
        .command_permissions_of_guild(sf(1), sf(500))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .commands(sf(1), Some(sf(500)))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store.commands(sf(1), None).await.unwrap().len(),
        1,
        "global stays"
    );
    assert_eq!(
        store
            .command_permissions_of_guild(sf(1), sf(501))
            .await
            .unwrap(),
        vec![elsewhere]
    );
    assert_eq!(
        store
            .command_permissions_of_guild(sf(2), sf(500))
            .await
            .unwrap(),
        vec![other_app]
    );
    // The guild goes: every application's.
    store.delete_guild_commands(sf(500), None).await.unwrap();
    assert!(store
        .command_permissions_of_guild(sf(2), sf(500))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .commands(sf(2), Some(sf(500)))
        .await
        .unwrap()
        .is_empty());
}

async fn daily_command_creates_count_per_scope_and_day(store: Arc<dyn Store>) {
    assert_eq!(
        store.count_command_create(sf(1), 0, 100, 1).await.unwrap(),
        1
    );
    assert_eq!(
        store.count_command_create(sf(1), 0, 100, 5).await.unwrap(),
        6
    );
    assert_eq!(
        store
            .count_command_create(sf(1), 500, 100, 2)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.count_command_create(sf(2), 0, 100, 3).await.unwrap(),
        3
    );
    // A new day starts again.
    assert_eq!(
        store.count_command_create(sf(1), 0, 101, 1).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .count_command_create(sf(1), 500, 100, 1)
            .await
            .unwrap(),
        3
    );
}

async fn interaction_context_is_replaced_alone(store: Arc<dyn Store>) {
    let record = InteractionRecord {
        id: sf(1),
        application_id: sf(50),
        token: "aW50ZXJhY3Rpb246-1".into(),
        kind: 2,
        created_ms: 1_000,
        guild_id: None,
        channel_id: sf(600),
        user_id: sf(7),
        context: json!({ "name": "echo" }),
        response: None,
        original_message_id: None,
        ephemeral: Vec::new(),
    };
    store.create_interaction(record.clone()).await.unwrap();
    assert!(store.acknowledge_interaction(sf(1), 9, None).await.unwrap());
    store
        .set_interaction_context(sf(1), json!({ "name": "echo", "modal_custom_id": "form" }))
        .await
        .unwrap();
    let stored = store.interaction(sf(1)).await.unwrap().unwrap();
    assert_eq!(stored.context["modal_custom_id"], "form");
    assert_eq!(stored.response, Some(9), "keeps the acknowledgement");
    assert_eq!(stored.guild_id, None);
    // An unknown interaction: nothing happens.
    store
        .set_interaction_context(sf(2), json!({}))
        .await
        .unwrap();
    assert_eq!(store.interaction(sf(2)).await.unwrap(), None);

    // The expired ones, with their ephemeral messages, before they are forgotten.
    let later = InteractionRecord {
        id: sf(3),
        created_ms: 9_000,
        ..record.clone()
    };
    store.create_interaction(later).await.unwrap();
    let author = bot(50, "robot");
    let secret = message(901, 600, 500, &author, "only you");
    store
        .set_interaction_ephemeral(sf(1), vec![secret.clone()])
        .await
        .unwrap();
    let expired = store.interactions_before(5_000).await.unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].id, sf(1));
    assert_eq!(expired[0].ephemeral, vec![secret]);
    assert_eq!(expired[0].context["modal_custom_id"], "form");
}
