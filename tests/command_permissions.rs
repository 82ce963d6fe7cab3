//! Application command permissions and where commands may run, on both stores: overwrites set
//! by a user who manages the guild (bots get 20001), listed, announced to the bot and enforced
//! at invocation (user over role over @everyone, channel denials, command level over
//! application level, `default_member_permissions` only when no overwrite applies); guild
//! commands forgotten when the bot leaves; age-restricted commands; modal custom_ids; the DM
//! with the bot (context 1); the daily limit of command creations; attachment options uploaded
//! with the invocation.
mod common;

use common::*;
use serde_json::{json, Value};

const BOT_PERMS: u64 = perm::VIEW_CHANNEL | perm::SEND_MESSAGES;
const KICK_MEMBERS: u64 = 1 << 1;
const DIRECT_MESSAGES: u64 = 1 << 12;

/// The embedded store, or the Mongo store on a fresh database.
fn store_opts(mongo: bool) -> StartOpts {
    if !mongo {
        return StartOpts::default();
    }
    StartOpts {
        args: vec![
            "--store".into(),
            "mongodb".into(),
            "--mongodb-uri".into(),
            common::cluster::mongo_uri(),
            "--mongodb-database".into(),
            common::cluster::unique("accord_cmdperms"),
        ],
        ..StartOpts::default()
    }
}

struct World {
    srv: Server,
    owner: User,
    member: User,
    g: Guild,
    bot: Bot,
    bot_gw: Gw,
}

async fn world(mongo: bool) -> World {
    let srv = Server::start_with(store_opts(mongo)).await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "permbot").await;
    srv.authorize(&owner, &bot, &g, BOT_PERMS).await;
    let bot_gw = srv.gw(&bot.token, intents::DEFAULT | DIRECT_MESSAGES).await;
    World {
        srv,
        owner,
        member,
        g,
        bot,
        bot_gw,
    }
}

impl World {
    fn commands(&self) -> String {
        format!(
            "/applications/{}/guilds/{}/commands",
            self.bot.id, self.g.id
        )
    }

    fn permissions(&self, id: &str) -> String {
        format!("{}/{id}/permissions", self.commands())
    }

    async fn command(&self, body: Value) -> Value {
        self.bot.api.post(&self.commands(), &body).await.ok(201)
    }

    async fn put_permissions(&self, by: &User, id: &str, permissions: Value) -> Resp {
        by.api
            .req(
                "PUT",
                &self.permissions(id),
                Some(&json!({ "permissions": permissions })),
            )
            .await
    }

    async fn invoke_in(&self, user: &User, command: &Value, channel: &str) -> Resp {
        user.api
            .post(
                "/interactions",
                &json!({
                    "type": 2,
                    "application_id": self.bot.id,
                    "guild_id": self.g.id,
                    "channel_id": channel,
                    "session_id": "s",
                    "data": {
                        "id": command["id"], "name": command["name"], "type": command["type"],
                        "version": command["version"],
                    },
                }),
            )
            .await
    }

    async fn invoke(&self, user: &User, command: &Value) -> Resp {
        self.invoke_in(user, command, &self.g.general).await
    }

    /// Whether `user` may run `command` in `channel` (204, the bot hears it) or is refused
    /// (403 50013).
    async fn may_run(&mut self, user: &User, command: &Value, channel: &str) -> bool {
        let r = self.invoke_in(user, command, channel).await;
        if r.status == 204 {
            self.bot_gw
                .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
                .await;
            true
        } else {
            r.err(403, 50013);
            false
        }
    }
}

fn role_ow(id: &str, allow: bool) -> Value {
    json!({ "id": id, "type": 1, "permission": allow })
}
fn user_ow(id: &str, allow: bool) -> Value {
    json!({ "id": id, "type": 2, "permission": allow })
}
fn channel_ow(id: &str, allow: bool) -> Value {
    json!({ "id": id, "type": 3, "permission": allow })
}

async fn permissions_are_set_listed_and_enforced(mongo: bool) {
    let mut w = world(mongo).await;
    let cmd = w
        .command(json!({ "name": "mod", "description": "Moderate" }))
        .await;
    let cid = sid(&cmd);
    let everyone = w.g.id.clone();
    let all_channels = (w.g.id.parse::<u64>().unwrap() - 1).to_string();

    // Nothing yet.
    let listed = w
        .bot
        .api
        .get(&format!("{}/permissions", w.commands()))
        .await
        .ok(200);
    assert_eq!(listed, json!([]));
    w.bot.api.get(&w.permissions(&cid)).await.err(404, 10066);

    // Who may set them: not the bot (Discord's 20001), not a plain member.
    let deny_all = json!([role_ow(&everyone, false)]);
    w.bot
        .api
        .req(
            "PUT",
            &w.permissions(&cid),
            Some(&json!({ "permissions": deny_all })),
        )
        .await
        .err(403, 20001);
    w.put_permissions(&w.member, &cid, deny_all.clone())
        .await
        .err(403, 50013);
    // Validation: at most 100, known types, known roles and channels, known commands.
    let many: Vec<Value> = (0..101)
        .map(|i| user_ow(&(1_000_000 + i).to_string(), true))
        .collect();
    let r = w.put_permissions(&w.owner, &cid, json!(many)).await;
    r.err(400, 50035);
    r.form_error("permissions");
    w.put_permissions(
        &w.owner,
        &cid,
        json!([{ "id": everyone, "type": 4, "permission": true }]),
    )
    .await
    .err(400, 50035);
    w.put_permissions(&w.owner, &cid, json!([role_ow(&bogus_id(), true)]))
        .await
        .err(400, 50035);
    w.put_permissions(&w.owner, &bogus_id(), deny_all.clone())
        .await
        .err(404, 10063);
    w.bot.api.get(&w.permissions(&cid)).await.err(404, 10066);

    // The member may run it until @everyone is denied; the owner always may.
    assert!(
        w.may_run(&w.member.clone(), &cmd, &w.g.general.clone())
            .await
    );
    let set = w
        .put_permissions(&w.owner, &cid, deny_all.clone())
        .await
        .ok(200);
    assert_keys(
        &set,
        &["id", "application_id", "guild_id", "permissions"],
        "command permissions",
    );
    assert_eq!(set["id"], json!(cid));
    assert_eq!(set["application_id"], json!(w.bot.id));
    assert_eq!(set["guild_id"], json!(w.g.id));
    assert_eq!(set["permissions"], deny_all);
    let event = w
        .bot_gw
        .expect_dispatch("APPLICATION_COMMAND_PERMISSIONS_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(event, set);
    assert_eq!(w.bot.api.get(&w.permissions(&cid)).await.ok(200), set);
    let general = w.g.general.clone();
    let (member, owner) = (w.member.clone(), w.owner.clone());
    assert!(!w.may_run(&member, &cmd, &general).await);
    assert!(w.may_run(&owner, &cmd, &general).await);

    // A role allowed beats @everyone denied; the user's own overwrite beats its roles.
    let helpers = w.srv.role(&w.owner, &w.g, "helpers", 0).await;
    let helpers_id = sid(&helpers);
    w.owner
        .api
        .add_role(&w.g.id, &w.member.id, &helpers_id)
        .await
        .ok(204);
    w.put_permissions(
        &w.owner,
        &cid,
        json!([role_ow(&everyone, false), role_ow(&helpers_id, true)]),
    )
    .await
    .ok(200);
    assert!(w.may_run(&member, &cmd, &general).await);
    w.put_permissions(
        &w.owner,
        &cid,
        json!([
            role_ow(&everyone, false),
            role_ow(&helpers_id, true),
            user_ow(&w.member.id, false)
        ]),
    )
    .await
    .ok(200);
    assert!(!w.may_run(&member, &cmd, &general).await);

    // An empty list removes the command's overwrites.
    let cleared = w.put_permissions(&w.owner, &cid, json!([])).await.ok(200);
    assert_eq!(cleared["permissions"], json!([]));
    w.bot.api.get(&w.permissions(&cid)).await.err(404, 10066);
    assert!(w.may_run(&member, &cmd, &general).await);

    // Application-wide overwrites (id = the application's) apply to every command unless the
    // command has its own.
    let app_level = w
        .put_permissions(&w.owner, &w.bot.id, json!([role_ow(&everyone, false)]))
        .await
        .ok(200);
    assert_eq!(app_level["id"], json!(w.bot.id));
    assert!(!w.may_run(&member, &cmd, &general).await);
    w.put_permissions(&w.owner, &cid, json!([role_ow(&everyone, true)]))
        .await
        .ok(200);
    assert!(w.may_run(&member, &cmd, &general).await);
    let listed = w
        .bot
        .api
        .get(&format!("{}/permissions", w.commands()))
        .await
        .ok(200);
    let mut listed_ids: Vec<String> = ids(&listed);
    listed_ids.sort();
    let mut expected = vec![cid.clone(), w.bot.id.clone()];
    expected.sort();
    assert_eq!(listed_ids, expected);

    // Channels: a denied channel refuses even an allowed member; "all channels" (guild id - 1)
    // with one channel allowed.
    let other = w
        .owner
        .api
        .create_channel(&w.g.id, &json!({ "name": "other", "type": 0 }))
        .await
        .ok(201);
    let other_id = sid(&other);
    w.put_permissions(&w.owner, &w.bot.id, json!([channel_ow(&general, false)]))
        .await
        .ok(200);
    assert!(!w.may_run(&member, &cmd, &general).await);
    assert!(w.may_run(&member, &cmd, &other_id).await);
    w.put_permissions(
        &w.owner,
        &cid,
        json!([
            channel_ow(&all_channels, false),
            channel_ow(&other_id, true)
        ]),
    )
    .await
    .ok(200);
    assert!(!w.may_run(&member, &cmd, &general).await);
    assert!(w.may_run(&member, &cmd, &other_id).await);
    // Administrators pass whatever the overwrites say.
    let admins = w
        .srv
        .role(&w.owner, &w.g, "admins", perm::ADMINISTRATOR)
        .await;
    w.owner
        .api
        .add_role(&w.g.id, &w.member.id, &sid(&admins))
        .await
        .ok(204);
    assert!(w.may_run(&member, &cmd, &general).await);
    w.owner
        .api
        .remove_role(&w.g.id, &w.member.id, &sid(&admins))
        .await
        .ok(204);

    // default_member_permissions applies only when no overwrite speaks for the member.
    let kick = w
        .command(json!({ "name": "kick", "description": "Kick", "default_member_permissions": KICK_MEMBERS.to_string() }))
        .await;
    w.put_permissions(&w.owner, &w.bot.id, json!([]))
        .await
        .ok(200);
    assert!(!w.may_run(&member, &kick, &general).await);
    w.put_permissions(&w.owner, &sid(&kick), json!([user_ow(&w.member.id, true)]))
        .await
        .ok(200);
    assert!(w.may_run(&member, &kick, &general).await);
}

#[tokio::test]
async fn permissions_are_set_listed_and_enforced_embedded() {
    permissions_are_set_listed_and_enforced(false).await;
}

#[tokio::test]
async fn permissions_are_set_listed_and_enforced_mongo() {
    permissions_are_set_listed_and_enforced(true).await;
}

/// A kicked bot's guild commands and their permissions are gone when it comes back.
async fn guild_commands_leave_with_the_bot(mongo: bool) {
    let w = world(mongo).await;
    let cmd = w
        .command(json!({ "name": "stay", "description": "Stays?" }))
        .await;
    w.put_permissions(&w.owner, &sid(&cmd), json!([role_ow(&w.g.id, false)]))
        .await
        .ok(200);
    let global = w
        .bot
        .api
        .post(
            &format!("/applications/{}/commands", w.bot.id),
            &json!({ "name": "everywhere", "description": "Global" }),
        )
        .await
        .ok(201);
    w.owner
        .api
        .delete(&format!("/guilds/{}/members/{}", w.g.id, w.bot.id))
        .await
        .ok(204);
    w.srv.authorize(&w.owner, &w.bot, &w.g, BOT_PERMS).await;
    assert_eq!(w.bot.api.get(&w.commands()).await.ok(200), json!([]));
    assert_eq!(
        w.bot
            .api
            .get(&format!("{}/permissions", w.commands()))
            .await
            .ok(200),
        json!([])
    );
    // Global commands stay.
    let globals = w
        .bot
        .api
        .get(&format!("/applications/{}/commands", w.bot.id))
        .await
        .ok(200);
    assert_eq!(ids(&globals), vec![sid(&global)]);
}

#[tokio::test]
async fn guild_commands_leave_with_the_bot_embedded() {
    guild_commands_leave_with_the_bot(false).await;
}

#[tokio::test]
async fn guild_commands_leave_with_the_bot_mongo() {
    guild_commands_leave_with_the_bot(true).await;
}

/// Age-restricted commands run only in age-restricted channels; a modal submit must name the
/// modal the bot opened.
async fn nsfw_commands_and_modal_ids(mongo: bool) {
    let mut w = world(mongo).await;
    let cmd = w
        .command(json!({ "name": "spicy", "description": "Age-restricted", "nsfw": true }))
        .await;
    assert_eq!(cmd["nsfw"], true);
    let r = w.invoke(&w.member, &cmd).await;
    r.err(400, 50035);
    r.form_error("channel_id");
    w.owner
        .api
        .patch(
            &format!("/channels/{}", w.g.general),
            &json!({ "nsfw": true }),
        )
        .await
        .ok(200);
    w.invoke(&w.member, &cmd).await.ok(204);
    let i = w
        .bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;

    // The bot opens a modal "form"; a submit naming another custom_id is refused.
    w.srv
        .api()
        .post(
            &format!(
                "/interactions/{}/{}/callback",
                sid(&i),
                i["token"].as_str().unwrap()
            ),
            &json!({ "type": 9, "data": { "custom_id": "form", "title": "Tell me", "components": [
                { "type": 1, "components": [{ "type": 4, "custom_id": "answer", "style": 1, "label": "Answer" }] },
            ] } }),
        )
        .await
        .ok(204);
    let submit = |custom_id: &'static str| {
        let api = w.member.api.clone();
        let body = json!({
            "type": 5, "application_id": w.bot.id, "guild_id": w.g.id,
            "channel_id": w.g.general, "session_id": "s",
            "data": { "id": i["id"], "custom_id": custom_id, "components": [
                { "type": 1, "components": [{ "type": 4, "custom_id": "answer", "value": "42" }] },
            ] },
        });
        async move { api.post("/interactions", &body).await }
    };
    let r = submit("not-the-form").await;
    r.err(400, 50035);
    r.form_error("data.custom_id");
    w.bot_gw
        .expect_no_dispatch("INTERACTION_CREATE", std::time::Duration::from_millis(300))
        .await;
    submit("form").await.ok(204);
    let submitted = w
        .bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(submitted["type"], 5);
    assert_eq!(submitted["data"]["custom_id"], "form");
}

#[tokio::test]
async fn nsfw_commands_and_modal_ids_embedded() {
    nsfw_commands_and_modal_ids(false).await;
}

#[tokio::test]
async fn nsfw_commands_and_modal_ids_mongo() {
    nsfw_commands_and_modal_ids(true).await;
}

/// A global command run in the DM with the bot: context 1, `user` instead of `member`, the DM
/// as `channel`; the answer reaches the user's DM; commands whose `contexts` leave out 1 (and
/// guild commands) are refused there.
async fn commands_in_the_bot_dm(mongo: bool) {
    let mut w = world(mongo).await;
    let mut member_gw = w
        .srv
        .gw(&w.member.token, intents::DEFAULT | DIRECT_MESSAGES)
        .await;
    let global = format!("/applications/{}/commands", w.bot.id);
    let anywhere = w
        .bot
        .api
        .post(
            &global,
            &json!({ "name": "anywhere", "description": "DMs too", "contexts": [0, 1],
                "options": [{ "type": 6, "name": "who", "description": "someone" }] }),
        )
        .await
        .ok(201);
    let guild_only = w
        .bot
        .api
        .post(
            &global,
            &json!({ "name": "guildonly", "description": "Guilds only", "contexts": [0] }),
        )
        .await
        .ok(201);
    let local = w
        .command(json!({ "name": "local", "description": "This guild" }))
        .await;
    let dm = w
        .member
        .api
        .post("/users/@me/channels", &json!({ "recipient_id": w.bot.id }))
        .await
        .ok(200);
    let dm_id = sid(&dm);
    let run = |command: &Value, options: Value| {
        let api = w.member.api.clone();
        let body = json!({
            "type": 2, "application_id": w.bot.id, "channel_id": dm_id, "session_id": "s",
            "data": { "id": command["id"], "name": command["name"], "type": 1,
                "options": options },
        });
        async move { api.post("/interactions", &body).await }
    };
    run(
        &anywhere,
        json!([{ "type": 6, "name": "who", "value": w.owner.id }]),
    )
    .await
    .ok(204);
    let i = w
        .bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(i["context"], 1);
    assert_eq!(i["channel_id"], json!(dm_id));
    assert_eq!(i["channel"]["id"], json!(dm_id));
    assert_eq!(i["user"]["id"], json!(w.member.id));
    assert!(i.get("member").is_none(), "no member in a DM: {i}");
    assert!(i.get("guild_id").is_none(), "no guild in a DM: {i}");
    assert_eq!(i["authorizing_integration_owners"]["0"], "0");
    assert_eq!(
        i["data"]["resolved"]["users"][&w.owner.id]["id"],
        json!(w.owner.id)
    );
    perm_str(&i["app_permissions"], "app_permissions");

    // The bot answers; the user's DM receives it.
    w.srv
        .api()
        .post(
            &format!(
                "/interactions/{}/{}/callback",
                sid(&i),
                i["token"].as_str().unwrap()
            ),
            &json!({ "type": 4, "data": { "content": "hello in DM" } }),
        )
        .await
        .ok(204);
    let message = member_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["content"] == "hello in DM"
        })
        .await;
    assert_eq!(message["channel_id"], json!(dm_id));
    assert_eq!(message["author"]["id"], json!(w.bot.id));
    assert!(message.get("guild_id").is_none());
    assert_eq!(
        message["interaction_metadata"]["user"]["id"],
        json!(w.member.id)
    );
    let history = w.member.api.messages(&dm_id, "").await.ok(200);
    assert_eq!(history[0]["content"], "hello in DM");
    // Follow-ups go to the DM too.
    let followup = w
        .srv
        .api()
        .post(
            &format!("/webhooks/{}/{}", w.bot.id, i["token"].as_str().unwrap()),
            &json!({ "content": "and more" }),
        )
        .await
        .ok(200);
    assert_eq!(followup["channel_id"], json!(dm_id));

    // Refused: contexts without 1, guild commands, and other people's DMs with the bot.
    let r = run(&guild_only, json!([])).await;
    r.err(400, 50035);
    r.form_error("context");
    run(&local, json!([])).await.err(404, 10063);
    w.owner
        .api
        .post(
            "/interactions",
            &json!({
                "type": 2, "application_id": w.bot.id, "channel_id": dm_id,
                "data": { "id": anywhere["id"], "name": "anywhere", "type": 1 },
            }),
        )
        .await
        .err(404, 10003);
    // In the guild, the guild-only global command runs.
    w.invoke(&w.member, &guild_only).await.ok(204);
}

#[tokio::test]
async fn commands_in_the_bot_dm_embedded() {
    commands_in_the_bot_dm(false).await;
}

#[tokio::test]
async fn commands_in_the_bot_dm_mongo() {
    commands_in_the_bot_dm(true).await;
}

/// 200 command creations a day per scope, then 30034 (nothing created).
async fn daily_command_creates(mongo: bool) {
    let w = world(mongo).await;
    let batch = |prefix: &str| -> Value {
        json!((0..100)
            .map(|i| json!({ "name": format!("{prefix}{i}"), "description": "x" }))
            .collect::<Vec<_>>())
    };
    for prefix in ["a", "b"] {
        let made = w
            .bot
            .api
            .req("PUT", &w.commands(), Some(&batch(prefix)))
            .await
            .ok(200);
        assert_eq!(made.as_array().unwrap().len(), 100);
    }
    // Re-sending the same set creates nothing new.
    w.bot
        .api
        .req("PUT", &w.commands(), Some(&batch("b")))
        .await
        .ok(200);
    w.bot
        .api
        .req("PUT", &w.commands(), Some(&json!([])))
        .await
        .ok(200);
    let r = w
        .bot
        .api
        .post(
            &w.commands(),
            &json!({ "name": "onemore", "description": "x" }),
        )
        .await;
    r.err(400, 30034);
    assert_eq!(w.bot.api.get(&w.commands()).await.ok(200), json!([]));
    // Global commands have their own allowance.
    w.bot
        .api
        .post(
            &format!("/applications/{}/commands", w.bot.id),
            &json!({ "name": "onemore", "description": "x" }),
        )
        .await
        .ok(201);
}

#[tokio::test]
async fn daily_command_creates_embedded() {
    daily_command_creates(false).await;
}

#[tokio::test]
async fn daily_command_creates_mongo() {
    daily_command_creates(true).await;
}

const BOUNDARY: &str = "accord-test-boundary-7f3a";

/// A multipart body: `payload_json`, then file parts `(name, filename, bytes)`.
fn multipart(payload: &Value, files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{payload}\r\n"
        )
        .as_bytes(),
    );
    for (name, filename, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// An attachment option: the client uploads the file with the invocation (multipart), the bot
/// gets the attachment id as the option's value and the object in `resolved.attachments`, and
/// its URL answers with the bytes.
async fn attachment_options(mongo: bool) {
    let mut w = world(mongo).await;
    let cmd = w
        .command(
            json!({ "name": "upload", "description": "Takes a file", "options": [
            { "type": 11, "name": "file", "description": "the file", "required": true },
        ] }),
        )
        .await;
    let invocation = |value: &str| {
        json!({
            "type": 2, "application_id": w.bot.id, "guild_id": w.g.id,
            "channel_id": w.g.general, "session_id": "s",
            "data": { "id": cmd["id"], "name": "upload", "type": 1,
                "options": [{ "type": 11, "name": "file", "value": value }],
                "attachments": [{ "id": "0", "filename": "notes.txt" }] },
        })
    };
    let send = |payload: Value, files: Vec<(&'static str, &'static str, &'static [u8])>| {
        let api = w.member.api.clone();
        let body = multipart(&payload, &files);
        async move {
            api.raw(
                "POST",
                "/interactions",
                Some(body),
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .await
        }
    };
    // An option naming no uploaded file.
    let r = send(
        invocation("3"),
        vec![("files[0]", "notes.txt", b"hello file")],
    )
    .await;
    r.err(400, 50035);
    r.form_error("data.options");
    send(
        invocation("0"),
        vec![("files[0]", "notes.txt", b"hello file")],
    )
    .await
    .ok(204);
    let i = w
        .bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    let value = i["data"]["options"][0]["value"]
        .as_str()
        .expect("attachment id")
        .to_owned();
    assert_ne!(value, "0");
    let attachment = &i["data"]["resolved"]["attachments"][&value];
    assert_eq!(attachment["id"], json!(value));
    assert_eq!(attachment["filename"], "notes.txt");
    assert_eq!(attachment["size"], 10);
    let url = attachment["url"].as_str().expect("url");
    let fetched = reqwest::get(url).await.expect("fetch");
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"hello file");
    // Another name under the same id is not found.
    let wrong = url.replace("notes.txt", "other.txt");
    assert_eq!(reqwest::get(&wrong).await.unwrap().status().as_u16(), 404);

    // The bot defers, then follows up with files (multipart, as webhook execution takes them):
    // the first fills in the loading message, the next (a file alone) is a new message.
    let token = i["token"].as_str().unwrap().to_owned();
    w.srv
        .api()
        .post(
            &format!("/interactions/{}/{token}/callback", sid(&i)),
            &json!({ "type": 5 }),
        )
        .await
        .ok(204);
    let hook = format!("/webhooks/{}/{token}", w.bot.id);
    let followup = |payload: Value, files: Vec<(&'static str, &'static str, &'static [u8])>| {
        let api = w.srv.api();
        let hook = hook.clone();
        let body = multipart(&payload, &files);
        async move {
            api.raw(
                "POST",
                &hook,
                Some(body),
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .await
        }
    };
    let filled = followup(
        json!({ "content": "got it" }),
        vec![("files[0]", "reply.txt", b"reply bytes")],
    )
    .await
    .ok(200);
    assert_eq!(filled["content"], "got it");
    assert_eq!(filled["attachments"][0]["filename"], "reply.txt");
    let original = w
        .srv
        .api()
        .get(&format!("{hook}/messages/@original"))
        .await
        .ok(200);
    assert_eq!(
        original["id"], filled["id"],
        "the loading message was filled in"
    );
    let reply_url = filled["attachments"][0]["url"].as_str().unwrap().to_owned();
    let fetched = reqwest::get(&reply_url).await.unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"reply bytes");
    let alone = followup(json!({}), vec![("files[0]", "only.bin", b"\x00\x01")])
        .await
        .ok(200);
    assert_ne!(alone["id"], filled["id"]);
    assert_eq!(alone["content"], "");
    assert_eq!(alone["attachments"][0]["size"], 2);
    let listed = w
        .member
        .api
        .message(&w.g.general, &sid(&alone))
        .await
        .ok(200);
    assert_eq!(listed["attachments"][0]["filename"], "only.bin");
    // An ephemeral follow-up's file is served too (it lives with the interaction).
    let secret = followup(
        json!({ "content": "for you", "flags": 64 }),
        vec![("files[0]", "secret.txt", b"shh")],
    )
    .await
    .ok(200);
    let secret_url = secret["attachments"][0]["url"].as_str().unwrap().to_owned();
    let fetched = reqwest::get(&secret_url).await.unwrap();
    assert_eq!(fetched.status().as_u16(), 200);
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"shh");

    // A first response (type 4) may carry files too.
    send(invocation("0"), vec![("files[0]", "notes.txt", b"again")])
        .await
        .ok(204);
    let i2 = w
        .bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    let body = multipart(
        &json!({ "type": 4, "data": { "content": "with a file",
            "attachments": [{ "id": "0", "filename": "answer.txt" }] } }),
        &[("files[0]", "answer.txt", b"answer bytes")],
    );
    let answer = w
        .srv
        .api()
        .raw(
            "POST",
            &format!(
                "/interactions/{}/{}/callback?with_response=true",
                sid(&i2),
                i2["token"].as_str().unwrap()
            ),
            Some(body),
            &format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .await
        .ok(200);
    let sent = &answer["resource"]["message"];
    assert_eq!(sent["content"], "with a file");
    assert_eq!(sent["attachments"][0]["filename"], "answer.txt");
    let fetched = reqwest::get(sent["attachments"][0]["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(fetched.bytes().await.unwrap().as_ref(), b"answer bytes");
}

#[tokio::test]
async fn attachment_options_embedded() {
    attachment_options(false).await;
}

#[tokio::test]
async fn attachment_options_mongo() {
    attachment_options(true).await;
}

/// Bytes an interaction owns (attachment options) are removed once its token expired and the
/// interactions are next cleaned up (the embedded store's files, seen on disk).
#[tokio::test]
async fn interaction_files_leave_with_expired_interactions() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--interaction-token-secs".into(), "1".into()],
        ..StartOpts::default()
    })
    .await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "filebot").await;
    srv.authorize(&owner, &bot, &g, BOT_PERMS).await;
    let mut bot_gw = srv.gw(&bot.token, intents::DEFAULT).await;
    let cmd = bot
        .api
        .post(
            &format!("/applications/{}/guilds/{}/commands", bot.id, g.id),
            &json!({ "name": "upload", "description": "Takes a file", "options": [
                { "type": 11, "name": "file", "description": "the file", "required": true },
            ] }),
        )
        .await
        .ok(201);
    let invoke = || {
        let body = multipart(
            &json!({
                "type": 2, "application_id": bot.id, "guild_id": g.id,
                "channel_id": g.general, "session_id": "s",
                "data": { "id": cmd["id"], "name": "upload", "type": 1,
                    "options": [{ "type": 11, "name": "file", "value": "0" }] },
            }),
            &[("files[0]", "notes.txt", b"bytes")],
        );
        let api = member.api.clone();
        async move {
            api.raw(
                "POST",
                "/interactions",
                Some(body),
                &format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .await
        }
    };
    invoke().await.ok(204);
    let i = bot_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    let aid = i["data"]["options"][0]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = srv
        .data_dir()
        .join("attachments")
        .join(&g.general)
        .join(&aid);
    assert!(stored.exists(), "the upload is on disk");
    tokio::time::sleep(std::time::Duration::from_millis(1300)).await;
    invoke().await.ok(204);
    assert!(!stored.exists(), "the expired interaction's bytes are gone");
}
