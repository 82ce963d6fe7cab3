//! Webhooks: management with MANAGE_WEBHOOKS, the token routes without authentication,
//! execution (wait, username/avatar overrides, mentions, threads), the webhook's own messages,
//! WEBHOOKS_UPDATE and message events, cascades, and per-webhook rate limits.
mod common;

use common::*;
use serde_json::{json, Value};

const MANAGE_WEBHOOKS: u64 = 1 << 29;
const GUILD_WEBHOOKS: u64 = 1 << 5;

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("no string {k} in {v}"))
}

/// Creates a webhook in `channel` as `api` and returns it (200).
async fn hook(api: &Api, channel: &str, name: &str) -> Value {
    api.post(
        &format!("/channels/{channel}/webhooks"),
        &json!({ "name": name }),
    )
    .await
    .ok(200)
}

/// `/webhooks/{id}/{token}` of a webhook object.
fn token_path(hook: &Value) -> String {
    format!("/webhooks/{}/{}", s(hook, "id"), s(hook, "token"))
}

#[tokio::test]
async fn manage_lifecycle_with_events() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv
        .gw(&owner.token, intents::DEFAULT | GUILD_WEBHOOKS)
        .await;
    // Without GUILD_WEBHOOKS no WEBHOOKS_UPDATE arrives.
    let mut deaf = srv.gw(&member.token, intents::DEFAULT).await;

    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let created = owner
        .api
        .req_h(
            "POST",
            &format!("/channels/{}/webhooks", g.general),
            Some(&json!({ "name": "Captain Hook", "avatar": png })),
            &[("X-Audit-Log-Reason", "for%20tests")],
        )
        .await
        .ok(200);
    assert_keys(
        &created,
        &[
            "id",
            "type",
            "guild_id",
            "channel_id",
            "user",
            "name",
            "avatar",
            "token",
            "application_id",
            "url",
        ],
        "webhook",
    );
    assert_snowflake(&created["id"], "webhook.id");
    assert_eq!(created["type"], 1);
    assert_eq!(created["guild_id"], json!(g.id));
    assert_eq!(created["channel_id"], json!(g.general));
    assert_eq!(created["user"]["id"], json!(owner.id));
    check_user(&created["user"], "webhook.user");
    assert_eq!(created["name"], "Captain Hook");
    assert_eq!(s(&created, "avatar").len(), 32);
    assert_eq!(created["application_id"], Value::Null);
    let token = s(&created, "token");
    assert_eq!(token.len(), 68);
    assert!(s(&created, "url").ends_with(&format!(
        "/api/webhooks/{}/{}",
        s(&created, "id"),
        token
    )));

    let update = watcher
        .expect_dispatch("WEBHOOKS_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(update, json!({ "guild_id": g.id, "channel_id": g.general }));
    deaf.expect_no_dispatch("WEBHOOKS_UPDATE", QUIET).await;

    let id = s(&created, "id").to_string();
    let listed = owner
        .api
        .get(&format!("/channels/{}/webhooks", g.general))
        .await
        .ok(200);
    assert_eq!(listed, json!([created]));
    let in_guild = owner
        .api
        .get(&format!("/guilds/{}/webhooks", g.id))
        .await
        .ok(200);
    assert_eq!(in_guild, json!([created]));
    let one = owner.api.get(&format!("/webhooks/{id}")).await.ok(200);
    assert_eq!(one, created);

    // Rename, clear the avatar and move it to another channel: both channels hear of it.
    let other = owner
        .api
        .create_channel(&g.id, &json!({ "name": "elsewhere" }))
        .await
        .ok(201);
    let other_id = s(&other, "id").to_string();
    let moved = owner
        .api
        .patch(
            &format!("/webhooks/{id}"),
            &json!({ "name": "Smee", "avatar": null, "channel_id": other_id }),
        )
        .await
        .ok(200);
    assert_eq!(moved["name"], "Smee");
    assert_eq!(moved["avatar"], Value::Null);
    assert_eq!(moved["channel_id"], json!(other_id));
    assert_eq!(moved["token"], created["token"]);
    let mut channels = Vec::new();
    for _ in 0..2 {
        let u = watcher
            .expect_dispatch("WEBHOOKS_UPDATE", EVENT_TIMEOUT)
            .await;
        channels.push(s(&u, "channel_id").to_string());
    }
    channels.sort();
    let mut want = vec![g.general.clone(), other_id.clone()];
    want.sort();
    assert_eq!(channels, want);
    assert_eq!(
        owner
            .api
            .get(&format!("/channels/{}/webhooks", g.general))
            .await
            .ok(200),
        json!([])
    );

    owner
        .api
        .req_h(
            "DELETE",
            &format!("/webhooks/{id}"),
            None,
            &[("X-Audit-Log-Reason", "done")],
        )
        .await
        .ok(204);
    let gone = watcher
        .expect_dispatch("WEBHOOKS_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(gone["channel_id"], json!(other_id));
    owner
        .api
        .get(&format!("/webhooks/{id}"))
        .await
        .err(404, 10015);
    owner
        .api
        .delete(&format!("/webhooks/{id}"))
        .await
        .err(404, 10015);
}

#[tokio::test]
async fn management_needs_manage_webhooks_and_hides_foreign_ids() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let created = hook(&owner.api, &g.general, "hook").await;
    let id = s(&created, "id").to_string();

    // A member without MANAGE_WEBHOOKS.
    let create_path = format!("/channels/{}/webhooks", g.general);
    member
        .api
        .post(&create_path, &json!({ "name": "x" }))
        .await
        .err(403, 50013);
    member.api.get(&create_path).await.err(403, 50013);
    member
        .api
        .get(&format!("/guilds/{}/webhooks", g.id))
        .await
        .err(403, 50013);
    member
        .api
        .get(&format!("/webhooks/{id}"))
        .await
        .err(403, 50013);
    member
        .api
        .patch(&format!("/webhooks/{id}"), &json!({ "name": "mine" }))
        .await
        .err(403, 50013);
    member
        .api
        .delete(&format!("/webhooks/{id}"))
        .await
        .err(403, 50013);

    // Someone outside the guild learns nothing.
    outsider
        .api
        .post(&create_path, &json!({ "name": "x" }))
        .await
        .err(404, 10003);
    outsider
        .api
        .get(&format!("/guilds/{}/webhooks", g.id))
        .await
        .err(404, 10004);
    outsider
        .api
        .get(&format!("/webhooks/{id}"))
        .await
        .err(404, 10015);
    outsider
        .api
        .delete(&format!("/webhooks/{id}"))
        .await
        .err(404, 10015);

    // Without a token at all.
    srv.api()
        .get(&format!("/webhooks/{id}"))
        .await
        .unauthorized();
    srv.api().get(&create_path).await.unauthorized();

    // A channel the member cannot see: 50001.
    let hidden = owner
        .api
        .create_channel(
            &g.id,
            &json!({ "name": "hidden", "permission_overwrites": [
                { "id": g.id, "type": 0, "allow": "0", "deny": perm::VIEW_CHANNEL.to_string() }
            ] }),
        )
        .await
        .ok(201);
    member
        .api
        .get(&format!("/channels/{}/webhooks", s(&hidden, "id")))
        .await
        .err(403, 50001);

    // Granting MANAGE_WEBHOOKS through a role lets the member in.
    let role = srv.role(&owner, &g, "hookers", MANAGE_WEBHOOKS).await;
    owner
        .api
        .add_role(&g.id, &member.id, s(&role, "id"))
        .await
        .ok(204);
    let theirs = hook(&member.api, &g.general, "theirs").await;
    assert_eq!(theirs["user"]["id"], json!(member.id));
    let all = member.api.get(&create_path).await.ok(200);
    assert_eq!(ids(&all), vec![id.clone(), s(&theirs, "id").to_string()]);
    member
        .api
        .patch(&format!("/webhooks/{id}"), &json!({ "name": "renamed" }))
        .await
        .ok(200);

    // A bot's webhook carries its application; others do not see its token.
    let bot = srv.bot(&owner, "hookbot").await;
    srv.authorize(&owner, &bot, &g, MANAGE_WEBHOOKS | perm::VIEW_CHANNEL)
        .await;
    let bots = hook(&bot.api, &g.general, "bot hook").await;
    assert_eq!(bots["application_id"], json!(bot.id));
    assert_eq!(bots["user"]["id"], json!(bot.id));
    assert!(bots["token"].is_string());
    let seen_by_owner = owner
        .api
        .get(&format!("/webhooks/{}", s(&bots, "id")))
        .await
        .ok(200);
    assert!(seen_by_owner.get("token").is_none(), "{seen_by_owner}");
    assert!(seen_by_owner.get("url").is_none(), "{seen_by_owner}");
    let seen_by_bot = bot
        .api
        .get(&format!("/webhooks/{}", s(&bots, "id")))
        .await
        .ok(200);
    assert_eq!(seen_by_bot["token"], bots["token"]);
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let path = format!("/channels/{}/webhooks", g.general);

    owner
        .api
        .post(&path, &json!({}))
        .await
        .form_error_code("name", "BASE_TYPE_REQUIRED");
    owner
        .api
        .post(&path, &json!({ "name": "" }))
        .await
        .form_error_code("name", "BASE_TYPE_BAD_LENGTH");
    owner
        .api
        .post(&path, &json!({ "name": "x".repeat(81) }))
        .await
        .form_error_code("name", "BASE_TYPE_BAD_LENGTH");
    for banned in ["clyde", "My Discord Hook", "CLYDE bot"] {
        owner
            .api
            .post(&path, &json!({ "name": banned }))
            .await
            .form_error_code("name", "USERNAME_INVALID_CONTAINS");
    }
    owner
        .api
        .post(&path, &json!({ "name": "ok", "avatar": "not an image" }))
        .await
        .err(400, 50035);
    owner
        .api
        .post(&path, &json!({ "name": 5 }))
        .await
        .err(400, 50035);
    owner
        .api
        .post("/channels/abc/webhooks", &json!({ "name": "ok" }))
        .await
        .err(400, 50035);
    owner
        .api
        .post(
            &format!("/channels/{}/webhooks", bogus_id()),
            &json!({ "name": "ok" }),
        )
        .await
        .err(404, 10003);
    let category = owner
        .api
        .create_channel(&g.id, &json!({ "name": "cat", "type": 4 }))
        .await
        .ok(201);
    owner
        .api
        .post(
            &format!("/channels/{}/webhooks", s(&category, "id")),
            &json!({ "name": "ok" }),
        )
        .await
        .err(400, 50024);
    assert_eq!(owner.api.get(&path).await.ok(200), json!([]));

    // Fifteen per channel.
    let mut first = Value::Null;
    for n in 0..15 {
        let h = hook(&owner.api, &g.general, &format!("hook {n}")).await;
        if n == 0 {
            first = h;
        }
    }
    owner
        .api
        .post(&path, &json!({ "name": "sixteenth" }))
        .await
        .err(400, 30007);
    assert_eq!(
        owner.api.get(&path).await.ok(200).as_array().unwrap().len(),
        15
    );

    // Moving into a full channel, into another guild, or with a bad name.
    let other = owner
        .api
        .create_channel(&g.id, &json!({ "name": "other" }))
        .await
        .ok(201);
    let movable = hook(&owner.api, s(&other, "id"), "movable").await;
    owner
        .api
        .patch(
            &format!("/webhooks/{}", s(&movable, "id")),
            &json!({ "channel_id": g.general }),
        )
        .await
        .err(400, 30007);
    let g2 = srv.guild(&owner, "Second").await;
    owner
        .api
        .patch(
            &format!("/webhooks/{}", s(&first, "id")),
            &json!({ "channel_id": g2.general }),
        )
        .await
        .err(404, 10003);
    owner
        .api
        .patch(
            &format!("/webhooks/{}", s(&first, "id")),
            &json!({ "name": "discord" }),
        )
        .await
        .form_error_code("name", "USERNAME_INVALID_CONTAINS");
    let still = owner
        .api
        .get(&format!("/webhooks/{}", s(&first, "id")))
        .await
        .ok(200);
    assert_eq!(still, first);
}

#[tokio::test]
async fn token_routes_need_no_authentication() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let created = hook(&owner.api, &g.general, "hook").await;
    let anon = srv.api();
    let path = token_path(&created);

    let seen = anon.get(&path).await.ok(200);
    assert!(seen.get("user").is_none(), "{seen}");
    assert_eq!(seen["token"], created["token"]);
    assert_eq!(seen["id"], created["id"]);
    assert_eq!(seen["channel_id"], created["channel_id"]);
    // A user token sent along changes nothing.
    assert_eq!(owner.api.get(&path).await.ok(200), seen);

    let wrong = format!("/webhooks/{}/{}", s(&created, "id"), "x".repeat(68));
    anon.get(&wrong).await.err(401, 50027);
    anon.patch(&wrong, &json!({ "name": "no" }))
        .await
        .err(401, 50027);
    anon.delete(&wrong).await.err(401, 50027);
    anon.post(&wrong, &json!({ "content": "no" }))
        .await
        .err(401, 50027);
    let unknown = format!("/webhooks/{}/{}", bogus_id(), s(&created, "token"));
    anon.get(&unknown).await.err(404, 10015);
    anon.get(&format!("/webhooks/abc/{}", s(&created, "token")))
        .await
        .err(400, 50035);

    // PATCH by token renames but cannot move.
    let other = owner
        .api
        .create_channel(&g.id, &json!({ "name": "other" }))
        .await
        .ok(201);
    let renamed = anon
        .patch(
            &path,
            &json!({ "name": "renamed", "channel_id": s(&other, "id") }),
        )
        .await
        .ok(200);
    assert_eq!(renamed["name"], "renamed");
    assert_eq!(renamed["channel_id"], json!(g.general));
    assert!(renamed.get("user").is_none());
    anon.patch(&path, &json!({ "name": "clyde" }))
        .await
        .form_error_code("name", "USERNAME_INVALID_CONTAINS");

    anon.delete(&path).await.ok(204);
    anon.get(&path).await.err(404, 10015);
    owner
        .api
        .get(&format!("/channels/{}/webhooks", g.general))
        .await
        .ok(200);
}

#[tokio::test]
async fn execute_posts_as_the_webhook() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let created = hook(&owner.api, &g.general, "Announcer").await;
    let path = token_path(&created);
    let anon = srv.api();
    let mut watcher = srv.gw(&member.token, intents::DEFAULT).await;

    // Without wait: 204 and nothing in the body; the message still arrives.
    let r = anon.post(&path, &json!({ "content": "no wait" })).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let event = watcher
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["content"] == "no wait"
        })
        .await;
    assert_eq!(event["webhook_id"], created["id"]);
    assert_eq!(event["author"]["id"], created["id"]);
    assert_eq!(event["author"]["username"], "Announcer");
    assert_eq!(event["author"]["discriminator"], "0000");
    assert_eq!(event["author"]["bot"], true);
    assert!(event.get("member").is_none(), "{event}");
    assert!(event.get("application_id").is_none(), "{event}");

    // wait=true: 200 with the message, overrides applied.
    let sent = anon
        .post(
            &format!("{path}?wait=true"),
            &json!({
                "content": "hello @everyone",
                "username": "Someone Else",
                "avatar_url": "https://example.com/a.png",
                "embeds": [{ "title": "t", "description": "d" }],
                "tts": true,
                "flags": 4,
            }),
        )
        .await
        .ok(200);
    assert_snowflake(&sent["id"], "message.id");
    assert_eq!(sent["type"], 0);
    assert!(sent.get("member").is_none(), "{sent}");
    assert_eq!(sent["edited_timestamp"], Value::Null);
    assert_eq!(sent["webhook_id"], created["id"]);
    assert_eq!(sent["author"]["username"], "Someone Else");
    assert_eq!(s(&sent["author"], "avatar").len(), 32);
    assert_eq!(sent["mention_everyone"], true);
    assert_eq!(sent["tts"], true);
    assert_eq!(sent["flags"], 4);
    assert_eq!(sent["embeds"][0]["type"], "rich");
    assert_eq!(sent["channel_id"], json!(g.general));
    let event = watcher.expect_msg(&sent).await;
    assert_eq!(event["author"]["username"], "Someone Else");
    let read = member.api.message(&g.general, s(&sent, "id")).await.ok(200);
    assert_eq!(read["webhook_id"], created["id"]);

    // allowed_mentions narrows what a webhook mentions.
    let quiet = anon
        .post(
            &format!("{path}?wait=1"),
            &json!({
                "content": format!("@everyone <@{}>", member.id),
                "allowed_mentions": { "parse": ["users"] },
            }),
        )
        .await
        .ok(200);
    assert_eq!(quiet["mention_everyone"], false);
    assert_eq!(ids(&quiet["mentions"]), vec![member.id.clone()]);

    // The same validation as normal messages, plus the execute-only fields.
    anon.post(&path, &json!({ "content": "" }))
        .await
        .err(400, 50006);
    anon.post(&path, &json!({ "content": "x".repeat(2001) }))
        .await
        .form_error_code("content", "BASE_TYPE_MAX_LENGTH");
    anon.post(
        &path,
        &json!({ "content": "x", "allowed_mentions": { "parse": ["nobody"] } }),
    )
    .await
    .err(400, 50035);
    anon.post(
        &path,
        &json!({ "content": "x", "embeds": [{ "title": "t".repeat(257) }] }),
    )
    .await
    .err(400, 50035);
    anon.post(&path, &json!({ "content": "x", "username": "clyde" }))
        .await
        .form_error_code("username", "USERNAME_INVALID_CONTAINS");
    anon.post(&path, &json!({ "content": "x", "avatar_url": "ftp://x" }))
        .await
        .form_error_code("avatar_url", "URL_TYPE_INVALID_URL");
    anon.post(&format!("{path}?wait=perhaps"), &json!({ "content": "x" }))
        .await
        .err(400, 50035);
    anon.post(
        &format!("{path}?thread_id={}", g.general),
        &json!({ "content": "x" }),
    )
    .await
    .err(404, 10003);
    anon.post(
        &format!("{path}?thread_id=nope"),
        &json!({ "content": "x" }),
    )
    .await
    .err(400, 50035);
    anon.post(&path, &json!({ "content": "x", "thread_name": "t" }))
        .await
        .err(400, 220003);
    anon.raw("POST", &path, Some(b"{nope".to_vec()), "application/json")
        .await
        .err(400, 50109);
    watcher
        .expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| d["content"] == "x")
        .await;
    let history = member.api.messages(&g.general, "?limit=100").await.ok(200);
    assert_eq!(history.as_array().unwrap().len(), 3);

    // A bot's webhook marks its messages with the application.
    let bot = srv.bot(&owner, "hookbot").await;
    srv.authorize(&owner, &bot, &g, MANAGE_WEBHOOKS | perm::VIEW_CHANNEL)
        .await;
    let bots = hook(&bot.api, &g.general, "bot hook").await;
    let m = anon
        .post(
            &format!("{}?wait=true", token_path(&bots)),
            &json!({ "content": "from app" }),
        )
        .await
        .ok(200);
    assert_eq!(m["application_id"], json!(bot.id));
    assert_eq!(m["webhook_id"], bots["id"]);
}

#[tokio::test]
async fn webhook_messages_by_token() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let created = hook(&owner.api, &g.general, "hook").await;
    let other = hook(&owner.api, &g.general, "other").await;
    let path = token_path(&created);
    let anon = srv.api();
    let mut watcher = srv.gw(&member.token, intents::DEFAULT).await;

    let sent = anon
        .post(&format!("{path}?wait=true"), &json!({ "content": "v1" }))
        .await
        .ok(200);
    watcher.expect_msg(&sent).await;
    let mid = s(&sent, "id").to_string();
    let mpath = format!("{path}/messages/{mid}");

    assert_eq!(anon.get(&mpath).await.ok(200), sent);
    let edited = anon
        .patch(
            &mpath,
            &json!({ "content": "v2 @everyone", "embeds": [{ "title": "e" }] }),
        )
        .await
        .ok(200);
    assert_eq!(edited["content"], "v2 @everyone");
    assert_eq!(edited["mention_everyone"], true);
    assert!(edited["edited_timestamp"].is_string());
    assert_eq!(edited["author"], sent["author"]);
    let update = watcher
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| d["id"] == json!(mid))
        .await;
    assert_eq!(update["content"], "v2 @everyone");
    anon.patch(&mpath, &json!({ "content": "", "embeds": [] }))
        .await
        .err(400, 50006);
    anon.patch(&mpath, &json!({ "allowed_mentions": { "parse": ["x"] } }))
        .await
        .err(400, 50035);

    // Not this webhook's message: a member's, another webhook's, an unknown id.
    let theirs = member.api.say(&g.general, "mine").await;
    let foreign = format!("{path}/messages/{}", s(&theirs, "id"));
    anon.get(&foreign).await.err(404, 10008);
    anon.patch(&foreign, &json!({ "content": "hijack" }))
        .await
        .err(404, 10008);
    anon.delete(&foreign).await.err(404, 10008);
    let via_other = format!("{}/messages/{mid}", token_path(&other));
    anon.get(&via_other).await.err(404, 10008);
    anon.delete(&via_other).await.err(404, 10008);
    anon.get(&format!("{path}/messages/{}", bogus_id()))
        .await
        .err(404, 10008);
    anon.get(&format!("{path}/messages/abc"))
        .await
        .err(400, 50035);
    anon.get(&format!("{mpath}?thread_id=5"))
        .await
        .err(404, 10003);
    let wrong = format!(
        "/webhooks/{}/{}/messages/{mid}",
        s(&created, "id"),
        "y".repeat(68)
    );
    anon.get(&wrong).await.err(401, 50027);
    anon.delete(&wrong).await.err(401, 50027);

    anon.delete(&mpath).await.ok(204);
    let deleted = watcher
        .expect_dispatch("MESSAGE_DELETE", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        deleted,
        json!({ "id": mid, "channel_id": g.general, "guild_id": g.id })
    );
    anon.get(&mpath).await.err(404, 10008);
    member.api.message(&g.general, &mid).await.err(404, 10008);
    // The member's own message is untouched.
    member
        .api
        .message(&g.general, s(&theirs, "id"))
        .await
        .ok(200);
}

#[tokio::test]
async fn webhooks_go_with_their_channel_and_guild() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let extra = owner
        .api
        .create_channel(&g.id, &json!({ "name": "doomed" }))
        .await
        .ok(201);
    let in_extra = hook(&owner.api, s(&extra, "id"), "doomed hook").await;
    let in_general = hook(&owner.api, &g.general, "general hook").await;
    let anon = srv.api();

    owner.api.delete_channel(s(&extra, "id")).await.ok(200);
    anon.get(&token_path(&in_extra)).await.err(404, 10015);
    let left = owner
        .api
        .get(&format!("/guilds/{}/webhooks", g.id))
        .await
        .ok(200);
    assert_eq!(ids(&left), vec![s(&in_general, "id").to_string()]);

    owner.api.delete_guild(&g.id).await.ok(204);
    anon.get(&token_path(&in_general)).await.err(404, 10015);
    anon.post(&token_path(&in_general), &json!({ "content": "ghost" }))
        .await
        .err(404, 10015);
}

#[tokio::test]
async fn execution_is_rate_limited_per_webhook() {
    let srv = Server::start_with(StartOpts {
        args: [
            "--rate-limit-route",
            "2",
            "--rate-limit-route-window-ms",
            "60000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..StartOpts::default()
    })
    .await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Limits").await;
    let first = hook(&owner.api, &g.general, "one").await;
    let other = owner
        .api
        .create_channel(&g.id, &json!({ "name": "two" }))
        .await
        .ok(201);
    let second = hook(&owner.api, s(&other, "id"), "two").await;
    let anon = srv.api();

    for _ in 0..2 {
        anon.post(&token_path(&first), &json!({ "content": "hi" }))
            .await
            .ok(204);
    }
    let limited = anon
        .post(&token_path(&first), &json!({ "content": "hi" }))
        .await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.body["global"], false);
    // Another webhook has its own window.
    anon.post(&token_path(&second), &json!({ "content": "hi" }))
        .await
        .ok(204);
}
