//! Application commands and interactions end to end: command management and validation, a
//! user invoking through `POST /interactions`, INTERACTION_CREATE to the bot, every callback
//! type, the 3-second deadline, follow-ups through the interaction token and its expiry,
//! ephemeral messages, components, modals, autocomplete and permission refusals.
mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
const BOT_PERMS: u64 = perm::VIEW_CHANNEL | perm::SEND_MESSAGES;

/// A guild with an owner, a member, and a bot that is in the guild with its gateway open.
struct World {
    srv: Server,
    owner: User,
    member: User,
    g: Guild,
    bot: Bot,
    bot_gw: Gw,
}

async fn world_with(opts: StartOpts) -> World {
    let srv = Server::start_with(opts).await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "slashbot").await;
    srv.authorize(&owner, &bot, &g, BOT_PERMS).await;
    let bot_gw = srv.gw(&bot.token, intents::DEFAULT).await;
    World {
        srv,
        owner,
        member,
        g,
        bot,
        bot_gw,
    }
}

async fn world() -> World {
    world_with(StartOpts::default()).await
}

impl World {
    fn guild_commands(&self) -> String {
        format!(
            "/applications/{}/guilds/{}/commands",
            self.bot.id, self.g.id
        )
    }

    async fn command(&self, body: Value) -> Value {
        let r = self.bot.api.post(&self.guild_commands(), &body).await;
        r.ok(201)
    }

    /// The member's client runs a command (204).
    async fn invoke(&self, user: &User, command: &Value, options: Value) -> Resp {
        user.api
            .post(
                "/interactions",
                &json!({
                    "type": 2,
                    "application_id": self.bot.id,
                    "guild_id": self.g.id,
                    "channel_id": self.g.general,
                    "session_id": "s",
                    "nonce": "1234",
                    "data": {
                        "id": command["id"], "name": command["name"], "type": command["type"],
                        "version": command["version"], "options": options,
                    },
                }),
            )
            .await
    }

    async fn next_interaction(&mut self) -> Value {
        self.bot_gw
            .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
            .await
    }

    async fn callback(&self, i: &Value, body: Value, query: &str) -> Resp {
        self.srv
            .api()
            .post(
                &format!(
                    "/interactions/{}/{}/callback{query}",
                    sid(i),
                    i["token"].as_str().unwrap()
                ),
                &body,
            )
            .await
    }

    fn hook(&self, i: &Value) -> String {
        format!("/webhooks/{}/{}", self.bot.id, i["token"].as_str().unwrap())
    }
}

fn echo_command() -> Value {
    json!({
        "name": "echo",
        "description": "Says it back",
        "options": [
            { "type": 3, "name": "text", "description": "what to say", "required": true },
            { "type": 6, "name": "who", "description": "someone" },
        ],
    })
}

#[tokio::test]
async fn commands_are_managed_and_validated() {
    let w = world().await;
    let global = format!("/applications/{}/commands", w.bot.id);
    let first = w
        .bot
        .api
        .post(&global, &json!({ "name": "ping", "description": "Pong!" }))
        .await
        .ok(201);
    assert_keys(
        &first,
        &[
            "id",
            "application_id",
            "name",
            "description",
            "type",
            "version",
            "default_member_permissions",
            "nsfw",
            "integration_types",
            "contexts",
        ],
        "command",
    );
    assert_eq!(first["type"], 1);
    assert_eq!(first["application_id"], json!(w.bot.id));
    // Same name and type: overwritten (200), same id, new version.
    let again = w
        .bot
        .api
        .post(&global, &json!({ "name": "ping", "description": "Pong again", "default_member_permissions": 32 }))
        .await
        .ok(200);
    assert_eq!(again["id"], first["id"]);
    assert_ne!(again["version"], first["version"]);
    assert_eq!(again["default_member_permissions"], "32");
    let path = format!("{global}/{}", sid(&first));
    let edited = w
        .bot
        .api
        .patch(
            &path,
            &json!({ "description": "edited", "name_localizations": { "fr": "pong" } }),
        )
        .await
        .ok(200);
    assert_eq!(edited["description"], "edited");
    assert_eq!(edited["name"], "ping");
    assert_ne!(edited["version"], again["version"]);
    assert_eq!(w.bot.api.get(&path).await.ok(200)["description"], "edited");
    let listed = w.bot.api.get(&global).await.ok(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("name_localizations").is_none());
    let localized = w
        .bot
        .api
        .get(&format!("{global}?with_localizations=true"))
        .await
        .ok(200);
    assert_eq!(localized[0]["name_localizations"]["fr"], "pong");

    // Only the application's bot (or owner) manages them.
    let other = w.srv.bot(&w.member, "other").await;
    other.api.get(&global).await.err(403, 50001);
    w.member.api.get(&global).await.err(403, 50001);
    w.owner.api.get(&global).await.ok(200);

    // Guild commands need the bot in the guild.
    let other_guild = w.srv.guild(&w.member, "elsewhere").await;
    w.bot
        .api
        .get(&format!(
            "/applications/{}/guilds/{}/commands",
            w.bot.id, other_guild.id
        ))
        .await
        .err(403, 50001);

    // Validation.
    let bad = |body: Value, path: &'static str| {
        let api = w.bot.api.clone();
        let global = global.clone();
        async move {
            let r = api.post(&global, &body).await;
            r.err(400, 50035);
            assert!(
                !r.form_error(path).is_empty(),
                "no error at {path}: {}",
                r.text
            );
        }
    };
    bad(json!({ "name": "Ping", "description": "x" }), "name").await;
    bad(json!({ "name": "two words", "description": "x" }), "name").await;
    bad(json!({ "name": "ok", "description": "" }), "description").await;
    bad(
        json!({ "name": "ok", "description": "d".repeat(101) }),
        "description",
    )
    .await;
    bad(
        json!({ "name": "Who", "type": 2, "description": "no" }),
        "description",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 3, "name": "a", "description": "a" },
        { "type": 3, "name": "b", "description": "b", "required": true },
    ] }),
        "options.1.required",
    )
    .await;
    bad(json!({ "name": "x", "description": "x", "options": [
        { "type": 4, "name": "n", "description": "n", "choices": [{ "name": "one", "value": "1" }] },
    ] }), "options.0.choices.0.value").await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 12, "name": "n", "description": "n" },
    ] }),
        "options.0.type",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 1, "name": "sub", "description": "s" },
        { "type": 3, "name": "n", "description": "n" },
    ] }),
        "options",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 1, "name": "sub", "description": "s", "options": [
            { "type": 1, "name": "deeper", "description": "d" },
        ] },
    ] }),
        "options.0.options.0.type",
    )
    .await;
    bad(json!({ "name": "x", "description": "x", "options":
        (0..26).map(|i| json!({ "type": 3, "name": format!("o{i}"), "description": "d" })).collect::<Vec<_>>()
    }), "options").await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 3, "name": "s", "description": "s", "min_length": 7000 },
    ] }),
        "options.0.min_length",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "options": [
        { "type": 4, "name": "n", "description": "n", "min_value": 5, "max_value": 1 },
    ] }),
        "options.0.min_value",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "name_localizations": { "xx": "y" } }),
        "name_localizations.xx",
    )
    .await;
    bad(
        json!({ "name": "x", "description": "x", "contexts": [7] }),
        "contexts.0",
    )
    .await;
    // Nothing was created by the refused bodies.
    assert_eq!(
        w.bot
            .api
            .get(&global)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Five user commands at most.
    for i in 0..5 {
        w.bot
            .api
            .post(&global, &json!({ "name": format!("User {i}"), "type": 2 }))
            .await
            .ok(201);
    }
    w.bot
        .api
        .post(&global, &json!({ "name": "User 5", "type": 2 }))
        .await
        .err(400, 30032);

    // Bulk overwrite: keeps ids of same-named commands, drops the rest.
    let put = w
        .bot
        .api
        .req(
            "PUT",
            &global,
            Some(&json!([
                { "name": "ping", "description": "edited", "name_localizations": { "fr": "pong" }, "default_member_permissions": "32" },
                { "name": "new", "description": "fresh" },
            ])),
        )
        .await
        .ok(200);
    let put = put.as_array().unwrap();
    assert_eq!(put.len(), 2);
    assert_eq!(put[0]["id"], first["id"]);
    assert_eq!(
        w.bot
            .api
            .get(&global)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let dup = w
        .bot
        .api
        .req(
            "PUT",
            &global,
            Some(
                &json!([{ "name": "a", "description": "a" }, { "name": "a", "description": "b" }]),
            ),
        )
        .await;
    dup.err(400, 50035);
    assert!(!dup.form_error("1.name").is_empty());
    assert_eq!(
        w.bot
            .api
            .get(&global)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Delete.
    w.bot.api.delete(&path).await.ok(204);
    w.bot.api.get(&path).await.err(404, 10063);
    w.bot.api.delete(&path).await.err(404, 10063);

    // Guild commands and their (empty) permissions.
    let g_cmd = w.command(echo_command()).await;
    assert_eq!(g_cmd["guild_id"], json!(w.g.id));
    assert_eq!(g_cmd["options"][0]["required"], true);
    let perms = format!("{}/permissions", w.guild_commands());
    assert_eq!(w.bot.api.get(&perms).await.ok(200), json!([]));
    w.bot
        .api
        .get(&format!(
            "{}/{}/permissions",
            w.guild_commands(),
            sid(&g_cmd)
        ))
        .await
        .err(404, 10066);
    // A guild command is not reachable through the global routes.
    w.bot
        .api
        .get(&format!("{global}/{}", sid(&g_cmd)))
        .await
        .err(404, 10063);
    let emptied = w
        .bot
        .api
        .req("PUT", &w.guild_commands(), Some(&json!([])))
        .await
        .ok(200);
    assert_eq!(emptied, json!([]));
}

#[tokio::test]
async fn slash_command_round_trip() {
    let mut w = world().await;
    let mut member_gw = w.srv.gw(&w.member.token, intents::DEFAULT).await;
    let mut owner_gw = w.srv.gw(&w.owner.token, intents::DEFAULT).await;
    let cmd = w.command(echo_command()).await;

    w.invoke(
        &w.member,
        &cmd,
        json!([
            { "type": 3, "name": "text", "value": "hello" },
            { "type": 6, "name": "who", "value": w.owner.id },
        ]),
    )
    .await
    .ok(204);
    let i = w.next_interaction().await;
    assert_keys(
        &i,
        &[
            "id",
            "application_id",
            "type",
            "token",
            "version",
            "guild_id",
            "channel_id",
            "channel",
            "member",
            "app_permissions",
            "locale",
            "guild_locale",
            "entitlements",
            "authorizing_integration_owners",
            "attachment_size_limit",
            "data",
            "guild",
            "context",
        ],
        "INTERACTION_CREATE",
    );
    assert!(i["token"].as_str().unwrap().starts_with("aW50ZXJhY3Rpb246"));
    assert_eq!(i["type"], 2);
    assert_eq!(i["version"], 1);
    assert_eq!(i["channel"]["id"], json!(w.g.general));
    assert_eq!(i["member"]["user"]["id"], json!(w.member.id));
    assert!(
        perm_str(&i["member"]["permissions"], "member.permissions") & USE_APPLICATION_COMMANDS != 0
    );
    assert_eq!(
        perm_str(&i["app_permissions"], "app_permissions") & BOT_PERMS,
        BOT_PERMS
    );
    assert_eq!(i["entitlements"], json!([]));
    assert_eq!(i["authorizing_integration_owners"]["0"], json!(w.g.id));
    assert_eq!(i["data"]["name"], "echo");
    assert_eq!(i["data"]["id"], cmd["id"]);
    assert_eq!(i["data"]["guild_id"], json!(w.g.id));
    assert_eq!(i["data"]["options"][0]["value"], "hello");
    assert_eq!(i["data"]["options"][1]["value"], json!(w.owner.id));
    assert_eq!(
        i["data"]["resolved"]["users"][&w.owner.id]["id"],
        json!(w.owner.id)
    );
    assert!(i["data"]["resolved"]["members"][&w.owner.id]["permissions"].is_string());
    // The invoking client hears its interaction went out.
    let ack = member_gw
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(ack["id"], i["id"]);
    assert_eq!(ack["nonce"], "1234");

    // Type 4 with the response body discord.py asks for.
    let answer = w
        .callback(&i, json!({ "type": 4, "data": { "content": "hello back", "components": [
            { "type": 1, "components": [{ "type": 2, "style": 1, "label": "Click", "custom_id": "click" }] },
        ] } }), "?with_response=true")
        .await
        .ok(200);
    assert_eq!(answer["interaction"]["id"], i["id"]);
    assert_eq!(answer["interaction"]["type"], 2);
    assert_eq!(answer["interaction"]["response_message_loading"], false);
    assert_eq!(answer["interaction"]["response_message_ephemeral"], false);
    assert_eq!(answer["resource"]["type"], 4);
    let message = &answer["resource"]["message"];
    assert_eq!(answer["interaction"]["response_message_id"], message["id"]);
    assert_eq!(message["type"], 20);
    assert_eq!(message["author"]["id"], json!(w.bot.id));
    assert_eq!(message["webhook_id"], json!(w.bot.id));
    assert_eq!(message["application_id"], json!(w.bot.id));
    assert_eq!(message["interaction_metadata"]["id"], i["id"]);
    assert_eq!(
        message["interaction_metadata"]["user"]["id"],
        json!(w.member.id)
    );
    assert_eq!(message["interaction_metadata"]["name"], "echo");
    assert_eq!(message["interaction"]["name"], "echo");
    let seen = member_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["id"] == message["id"]
        })
        .await;
    assert_eq!(seen["content"], "hello back");
    owner_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["id"] == message["id"]
        })
        .await;
    member_gw
        .expect_dispatch_where("INTERACTION_SUCCESS", EVENT_TIMEOUT, |d| d["id"] == i["id"])
        .await;
    // In the channel's history.
    let history = w
        .member
        .api
        .messages(&w.g.general, "?limit=1")
        .await
        .ok(200);
    assert_eq!(history[0]["id"], message["id"]);

    // One response only.
    w.callback(&i, json!({ "type": 4, "data": { "content": "again" } }), "")
        .await
        .err(400, 40060);
    // A wrong token is an unknown interaction.
    w.srv
        .api()
        .post(
            &format!("/interactions/{}/aW50ZXJhY3Rpb246bogus/callback", sid(&i)),
            &json!({ "type": 4, "data": { "content": "x" } }),
        )
        .await
        .err(404, 10062);

    // Follow-ups, and editing and reading @original.
    let hook = w.hook(&i);
    let follow = w
        .bot
        .api
        .without_auth()
        .post(&hook, &json!({ "content": "and another thing" }))
        .await
        .ok(200);
    assert_eq!(follow["interaction_metadata"]["id"], i["id"]);
    member_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == follow["id"])
        .await;
    let api = w.srv.api();
    let edited = api
        .patch(
            &format!("{hook}/messages/@original"),
            &json!({ "content": "edited" }),
        )
        .await
        .ok(200);
    assert_eq!(edited["id"], message["id"]);
    assert!(edited["edited_timestamp"].is_string());
    let update = member_gw
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| {
            d["id"] == message["id"]
        })
        .await;
    assert_eq!(update["content"], "edited");
    assert_eq!(
        api.get(&format!("{hook}/messages/@original")).await.ok(200)["content"],
        "edited"
    );
    assert_eq!(
        api.get(&format!("{hook}/messages/{}", sid(&follow)))
            .await
            .ok(200)["content"],
        "and another thing"
    );
    // Messages that are not this interaction's are not reachable through its token.
    let other = w.member.api.say(&w.g.general, "mine").await;
    api.get(&format!("{hook}/messages/{}", sid(&other)))
        .await
        .err(404, 10008);
    api.delete(&format!("{hook}/messages/{}", sid(&follow)))
        .await
        .ok(204);
    member_gw
        .expect_dispatch_where("MESSAGE_DELETE", EVENT_TIMEOUT, |d| d["id"] == follow["id"])
        .await;
    api.get(&format!("{hook}/messages/{}", sid(&follow)))
        .await
        .err(404, 10008);
    // The token belongs to this application only; bad tokens are unknown webhooks.
    api.post(
        &format!("/webhooks/{}/{}", w.owner.id, i["token"].as_str().unwrap()),
        &json!({ "content": "x" }),
    )
    .await
    .err(404, 10015);
    api.post(
        &format!("/webhooks/{}/aW50ZXJhY3Rpb246eA", w.bot.id),
        &json!({ "content": "x" }),
    )
    .await
    .err(404, 10015);
}

#[tokio::test]
async fn deferred_ephemeral_reaches_only_the_invoker() {
    let mut w = world().await;
    let mut member_gw = w.srv.gw(&w.member.token, intents::DEFAULT).await;
    let mut owner_gw = w.srv.gw(&w.owner.token, intents::DEFAULT).await;
    let cmd = w.command(echo_command()).await;
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "text", "value": "x" }]),
    )
    .await
    .ok(204);
    let i = w.next_interaction().await;
    let answer = w
        .callback(
            &i,
            json!({ "type": 5, "data": { "flags": 64 } }),
            "?with_response=1",
        )
        .await
        .ok(200);
    assert_eq!(answer["interaction"]["response_message_loading"], true);
    assert_eq!(answer["interaction"]["response_message_ephemeral"], true);
    let loading = member_gw
        .expect_dispatch("MESSAGE_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(loading["flags"], 64 | 128);
    assert_eq!(loading["content"], "");
    let api = w.srv.api();
    let hook = w.hook(&i);
    // The first follow-up after a deferred response fills in the loading message.
    let done = api
        .post(&hook, &json!({ "content": "secret answer" }))
        .await
        .ok(200);
    assert_eq!(done["id"], loading["id"]);
    assert_eq!(done["flags"], 64);
    let update = member_gw
        .expect_dispatch("MESSAGE_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(update["content"], "secret answer");
    let second = api
        .post(&hook, &json!({ "content": "public", "flags": 0 }))
        .await
        .ok(200);
    assert_ne!(second["id"], loading["id"]);
    owner_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == second["id"])
        .await;
    // The ephemeral message never reached anyone else and is not in the history.
    owner_gw
        .expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| d["id"] == loading["id"])
        .await;
    owner_gw
        .expect_no_dispatch_where("MESSAGE_UPDATE", Duration::from_millis(100), |d| {
            d["id"] == loading["id"]
        })
        .await;
    let history = w
        .owner
        .api
        .messages(&w.g.general, "?limit=10")
        .await
        .ok(200);
    assert!(!ids(&history).contains(&sid(&loading)));
    assert_eq!(
        api.get(&format!("{hook}/messages/@original")).await.ok(200)["content"],
        "secret answer"
    );
    api.delete(&format!("{hook}/messages/@original"))
        .await
        .ok(204);
    member_gw
        .expect_dispatch_where("MESSAGE_DELETE", EVENT_TIMEOUT, |d| {
            d["id"] == loading["id"]
        })
        .await;
}

/// The member clicks a button on `message` (204).
async fn click(w: &World, message: &Value, custom_id: &str) -> Resp {
    w.member
        .api
        .post(
            "/interactions",
            &json!({
                "type": 3, "application_id": w.bot.id, "guild_id": w.g.id,
                "channel_id": w.g.general, "message_id": message["id"], "session_id": "s",
                "nonce": "77", "data": { "component_type": 2, "custom_id": custom_id },
            }),
        )
        .await
}

#[tokio::test]
async fn components_update_and_modals() {
    let mut w = world().await;
    let mut member_gw = w.srv.gw(&w.member.token, intents::DEFAULT).await;
    let cmd = w.command(echo_command()).await;
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "text", "value": "x" }]),
    )
    .await
    .ok(204);
    let i = w.next_interaction().await;
    let buttons = json!([{ "type": 1, "components": [
        { "type": 2, "style": 1, "label": "A", "custom_id": "a" },
        { "type": 2, "style": 1, "label": "B", "custom_id": "b" },
    ] }]);
    // Update-message responses are for components only.
    w.callback(&i, json!({ "type": 7, "data": { "content": "no" } }), "")
        .await
        .err(400, 50035);
    w.callback(
        &i,
        json!({ "type": 4, "data": { "content": "pick", "components": buttons } }),
        "",
    )
    .await
    .ok(204);
    let message = member_gw
        .expect_dispatch("MESSAGE_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(message["components"][0]["components"][0]["custom_id"], "a");

    // Unknown components are refused.
    click(&w, &message, "zzz").await.err(400, 50035);
    click(&w, &message, "a").await.ok(204);
    let c = w.next_interaction().await;
    assert_eq!(c["type"], 3);
    assert_eq!(c["data"]["custom_id"], "a");
    assert_eq!(c["data"]["component_type"], 2);
    assert_eq!(c["message"]["id"], message["id"]);
    // Autocomplete results are for autocomplete only.
    w.callback(&c, json!({ "type": 8, "data": { "choices": [] } }), "")
        .await
        .err(400, 50035);
    let answer = w
        .callback(
            &c,
            json!({ "type": 7, "data": { "content": "picked A", "components": [] } }),
            "?with_response=true",
        )
        .await
        .ok(200);
    assert_eq!(answer["resource"]["message"]["id"], message["id"]);
    let update = member_gw
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| {
            d["id"] == message["id"]
        })
        .await;
    assert_eq!(update["content"], "picked A");
    assert_eq!(update["components"], json!([]));

    // Deferred update, then the bot edits the component's message through @original.
    w.callback(&i, json!({ "type": 4, "data": { "content": "x" } }), "")
        .await
        .err(400, 40060);
    let hook = w.hook(&i);
    let again = w
        .srv
        .api()
        .post(&hook, &json!({ "content": "again", "components": buttons }))
        .await
        .ok(200);
    click(&w, &again, "b").await.ok(204);
    let c2 = w.next_interaction().await;
    w.callback(&c2, json!({ "type": 6 }), "").await.ok(204);
    let edited = w
        .srv
        .api()
        .patch(
            &format!("{}/messages/@original", w.hook(&c2)),
            &json!({ "content": "picked B" }),
        )
        .await
        .ok(200);
    assert_eq!(edited["id"], again["id"]);

    // A modal, then its submit reaches the bot.
    click(&w, &edited, "b").await.ok(204);
    let c3 = w.next_interaction().await;
    w.callback(&c3, json!({ "type": 9, "data": { "custom_id": "form", "title": "Tell me", "components": [
        { "type": 1, "components": [{ "type": 4, "custom_id": "answer", "style": 1, "label": "Answer" }] },
    ] } }), "")
        .await
        .ok(204);
    let modal = member_gw
        .expect_dispatch("INTERACTION_MODAL_CREATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(modal["custom_id"], "form");
    assert_eq!(modal["id"], c3["id"]);
    w.member
        .api
        .post(
            "/interactions",
            &json!({
                "type": 5, "application_id": w.bot.id, "guild_id": w.g.id,
                "channel_id": w.g.general, "session_id": "s", "nonce": "78",
                "data": { "id": modal["id"], "custom_id": "form", "components": [
                    { "type": 1, "components": [{ "type": 4, "custom_id": "answer", "value": "42" }] },
                ] },
            }),
        )
        .await
        .ok(204);
    let submit = w.next_interaction().await;
    assert_eq!(submit["type"], 5);
    assert_eq!(submit["data"]["custom_id"], "form");
    assert_eq!(
        submit["data"]["components"][0]["components"][0]["value"],
        "42"
    );
    // Modals cannot answer a modal submit.
    w.callback(&submit, json!({ "type": 9, "data": { "custom_id": "f", "title": "t", "components": [{ "type": 1, "components": [] }] } }), "")
        .await
        .err(400, 50035);
    w.callback(
        &submit,
        json!({ "type": 4, "data": { "content": "thanks" } }),
        "",
    )
    .await
    .ok(204);
    // Someone else cannot submit that modal.
    w.owner
        .api
        .post(
            "/interactions",
            &json!({
                "type": 5, "application_id": w.bot.id, "channel_id": w.g.general,
                "data": { "id": modal["id"], "custom_id": "form", "components": [] },
            }),
        )
        .await
        .err(404, 10062);
}

#[tokio::test]
async fn autocomplete_and_context_menus() {
    let mut w = world().await;
    let mut member_gw = w.srv.gw(&w.member.token, intents::DEFAULT).await;
    let cmd = w
        .command(json!({ "name": "find", "description": "finds", "options": [
            { "type": 3, "name": "query", "description": "q", "required": true, "autocomplete": true },
        ] }))
        .await;
    w.member
        .api
        .post(
            "/interactions",
            &json!({
                "type": 4, "application_id": w.bot.id, "guild_id": w.g.id,
                "channel_id": w.g.general, "nonce": "9",
                "data": { "id": cmd["id"], "name": "find", "type": 1, "version": cmd["version"],
                          "options": [{ "type": 3, "name": "query", "value": "ap", "focused": true }] },
            }),
        )
        .await
        .ok(204);
    let a = w.next_interaction().await;
    assert_eq!(a["type"], 4);
    assert_eq!(a["data"]["options"][0]["focused"], true);
    w.callback(&a, json!({ "type": 4, "data": { "content": "no" } }), "")
        .await
        .err(400, 50035);
    w.callback(
        &a,
        json!({ "type": 8, "data": { "choices": [{ "name": "apple", "value": "apple" }] } }),
        "",
    )
    .await
    .ok(204);
    let result = member_gw
        .expect_dispatch("APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE", EVENT_TIMEOUT)
        .await;
    assert_eq!(result["choices"][0]["name"], "apple");
    assert_eq!(result["nonce"], "9");

    // A user command on the owner, and a message command on a message.
    let user_cmd = w.command(json!({ "name": "Wave at", "type": 2 })).await;
    let target = w.owner.api.say(&w.g.general, "target").await;
    let message_cmd = w.command(json!({ "name": "Quote", "type": 3 })).await;
    for (command, target_id) in [
        (&user_cmd, w.owner.id.clone()),
        (&message_cmd, sid(&target)),
    ] {
        w.member
            .api
            .post(
                "/interactions",
                &json!({
                    "type": 2, "application_id": w.bot.id, "guild_id": w.g.id,
                    "channel_id": w.g.general,
                    "data": { "id": command["id"], "name": command["name"], "type": command["type"], "target_id": target_id },
                }),
            )
            .await
            .ok(204);
        let i = w.next_interaction().await;
        assert_eq!(i["data"]["target_id"], json!(target_id));
        assert_eq!(i["data"]["type"], command["type"]);
        if command["type"] == 2 {
            assert_eq!(
                i["data"]["resolved"]["users"][&target_id]["id"],
                json!(target_id)
            );
            assert!(i["data"]["resolved"]["members"][&target_id].is_object());
        } else {
            assert_eq!(
                i["data"]["resolved"]["messages"][&target_id]["content"],
                "target"
            );
        }
        let answer = w
            .callback(
                &i,
                json!({ "type": 4, "data": { "content": "done" } }),
                "?with_response=true",
            )
            .await
            .ok(200);
        assert_eq!(answer["resource"]["message"]["type"], 23);
        assert_eq!(
            answer["resource"]["message"]["interaction_metadata"]["command_type"],
            command["type"]
        );
    }
}

#[tokio::test]
async fn deadline_and_token_expiry() {
    let mut w = world_with(StartOpts {
        args: vec!["--interaction-token-secs".into(), "5".into()],
        ..Default::default()
    })
    .await;
    let cmd = w.command(echo_command()).await;
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "text", "value": "a" }]),
    )
    .await
    .ok(204);
    let late = w.next_interaction().await;
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "text", "value": "b" }]),
    )
    .await
    .ok(204);
    let prompt = w.next_interaction().await;
    w.callback(
        &prompt,
        json!({ "type": 4, "data": { "content": "in time" } }),
        "",
    )
    .await
    .ok(204);
    // Follow-ups need a response first.
    w.srv
        .api()
        .post(&w.hook(&late), &json!({ "content": "too soon" }))
        .await
        .err(404, 10015);
    tokio::time::sleep(Duration::from_millis(3300)).await;
    w.callback(
        &late,
        json!({ "type": 4, "data": { "content": "late" } }),
        "",
    )
    .await
    .err(404, 10062);
    // Within the token's life follow-ups still work...
    w.srv
        .api()
        .post(&w.hook(&prompt), &json!({ "content": "follow" }))
        .await
        .ok(200);
    tokio::time::sleep(Duration::from_millis(2000)).await;
    // ...and after it, not.
    w.srv
        .api()
        .post(&w.hook(&prompt), &json!({ "content": "expired" }))
        .await
        .err(401, 50027);
    w.srv
        .api()
        .patch(
            &format!("{}/messages/@original", w.hook(&prompt)),
            &json!({ "content": "x" }),
        )
        .await
        .err(401, 50027);
}

#[tokio::test]
async fn who_may_invoke() {
    let mut w = world().await;
    let cmd = w.command(echo_command()).await;
    let options = json!([{ "type": 3, "name": "text", "value": "a" }]);
    // Bots do not invoke.
    w.invoke(&w.srv.user("bystander").await, &cmd, options.clone())
        .await
        .err(404, 10003);
    let bot_user = User {
        id: w.bot.id.clone(),
        username: "slashbot".into(),
        token: w.bot.token.clone(),
        api: w.bot.api.clone(),
    };
    w.invoke(&bot_user, &cmd, options.clone())
        .await
        .err(403, 20001);
    // Unknown command, wrong version, missing required option.
    let mut unknown = cmd.clone();
    unknown["id"] = json!(bogus_id());
    w.invoke(&w.member, &unknown, options.clone())
        .await
        .err(404, 10063);
    let mut outdated = cmd.clone();
    outdated["version"] = json!(bogus_id());
    w.invoke(&w.member, &outdated, options.clone())
        .await
        .err(400, 50035);
    w.invoke(&w.member, &cmd, json!([])).await.err(400, 50035);
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "nope", "value": "a" }]),
    )
    .await
    .err(400, 50035);
    w.invoke(
        &w.member,
        &cmd,
        json!([{ "type": 3, "name": "text", "value": 5 }]),
    )
    .await
    .err(400, 50035);
    // Choices and bounds are enforced.
    let picky = w
        .command(json!({ "name": "pick", "description": "p", "options": [
            { "type": 3, "name": "fruit", "description": "f", "required": true,
              "choices": [{ "name": "Apple", "value": "apple" }] },
            { "type": 4, "name": "n", "description": "n", "min_value": 1, "max_value": 10 },
        ] }))
        .await;
    w.invoke(
        &w.member,
        &picky,
        json!([{ "type": 3, "name": "fruit", "value": "pear" }]),
    )
    .await
    .err(400, 50035);
    w.invoke(&w.member, &picky, json!([
        { "type": 3, "name": "fruit", "value": "apple" }, { "type": 4, "name": "n", "value": 11 },
    ]))
    .await
    .err(400, 50035);
    w.invoke(&w.member, &picky, json!([
        { "type": 3, "name": "fruit", "value": "apple" }, { "type": 4, "name": "n", "value": 10 },
    ]))
    .await
    .ok(204);
    assert_eq!(
        w.next_interaction().await["data"]["options"][1]["value"],
        10
    );
    // USE_APPLICATION_COMMANDS denied in the channel.
    w.owner
        .api
        .put_overwrite(
            &w.g.general,
            &w.g.id,
            &json!({ "type": 0, "allow": "0", "deny": USE_APPLICATION_COMMANDS.to_string() }),
        )
        .await
        .ok(204);
    w.invoke(&w.member, &cmd, options.clone())
        .await
        .err(403, 50013);
    w.owner
        .api
        .delete_overwrite(&w.g.general, &w.g.id)
        .await
        .ok(204);
    // default_member_permissions: MANAGE_GUILD needed; "0" is administrators only.
    let path = format!("{}/{}", w.guild_commands(), sid(&cmd));
    let cmd = w
        .bot
        .api
        .patch(
            &path,
            &json!({ "default_member_permissions": perm::MANAGE_GUILD.to_string() }),
        )
        .await
        .ok(200);
    w.invoke(&w.member, &cmd, options.clone())
        .await
        .err(403, 50013);
    w.invoke(&w.owner, &cmd, options.clone()).await.ok(204);
    w.next_interaction().await;
    let cmd = w
        .bot
        .api
        .patch(&path, &json!({ "default_member_permissions": "0" }))
        .await
        .ok(200);
    w.invoke(&w.member, &cmd, options.clone())
        .await
        .err(403, 50013);
    w.invoke(&w.owner, &cmd, options.clone()).await.ok(204);
    w.next_interaction().await;
    let cmd = w
        .bot
        .api
        .patch(&path, &json!({ "default_member_permissions": null }))
        .await
        .ok(200);
    w.invoke(&w.member, &cmd, options.clone()).await.ok(204);
    w.next_interaction().await;
    // Nothing reached the bot for the refused attempts.
    w.bot_gw
        .expect_no_dispatch("INTERACTION_CREATE", Duration::from_millis(300))
        .await;
    // A bot that left the guild cannot be invoked there.
    w.owner.api.kick(&w.g.id, &w.bot.id).await.ok(204);
    w.invoke(&w.member, &cmd, options).await.err(404, 10002);
}
