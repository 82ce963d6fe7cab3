//! GET /gateway, GET /gateway/bot and the WebSocket gateway: HELLO, heartbeat, IDENTIFY, READY,
//! GUILD_CREATE, close codes, dispatches and op 8.
mod common;
use common::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn gateway_discovery() {
    let srv = Server::start().await;
    let g = srv.api().gateway().await.ok(200);
    assert_eq!(g["url"], srv.ws_url(), "{g}");
    assert_eq!(srv.api().v9().gateway().await.ok(200)["url"], srv.ws_url());

    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "GwBot").await;
    let b = bot.api.gateway_bot().await.ok(200);
    assert_eq!(b["url"], srv.ws_url());
    assert_eq!(b["shards"], 1);
    let ssl = &b["session_start_limit"];
    assert_keys(
        ssl,
        &["total", "remaining", "reset_after", "max_concurrency"],
        "session_start_limit",
    );
    for k in ["total", "remaining", "reset_after", "max_concurrency"] {
        assert!(
            ssl[k].is_u64(),
            "session_start_limit.{k} must be a non-negative integer: {ssl}"
        );
    }
    assert!(ssl["max_concurrency"].as_u64().unwrap() >= 1);
    srv.api().gateway_bot().await.unauthorized();
}

#[tokio::test]
async fn hello_and_heartbeat_before_identify() {
    let srv = Server::start().await;
    let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
    assert_eq!(gw.hello["op"], 10);
    assert_eq!(gw.hello["d"]["heartbeat_interval"], 41250);
    assert!(
        gw.hello["s"].is_null() && gw.hello["t"].is_null(),
        "{}",
        gw.hello
    );
    gw.send(json!({"op": 1, "d": null})).await;
    let ack = gw.expect_op(11, EVENT_TIMEOUT).await;
    assert_eq!(ack["op"], 11);
    // still usable: identify works afterwards
    let owner = srv.user("owner").await;
    gw.identify(&owner.token, intents::DEFAULT).await;
    gw.heartbeat().await;
    gw.expect_op(11, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn ws_on_any_path_and_query() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    for path in [
        "/",
        "/?v=10",
        "/gateway/whatever?v=10&encoding=json",
        "/?&v=10&encoding=json&unknown=1",
        "",
    ] {
        let mut gw = Gw::open(&format!("{}{}", srv.ws_url(), path)).await;
        gw.identify(&owner.token, intents::DEFAULT).await;
    }
}

#[tokio::test]
async fn user_ready_and_guild_create() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let g2 = srv.guild(&owner, "Second").await;
    let gw = srv.gw(&owner.token, intents::DEFAULT).await;

    let ready = &gw.ready;
    assert_eq!(ready["op"], 0);
    assert!(ready["s"].is_i64(), "READY must carry s: {ready}");
    let d = gw.ready_d();
    assert_keys(
        d,
        &["v", "user", "guilds", "session_id", "resume_gateway_url"],
        "READY",
    );
    assert_eq!(d["v"], 10);
    assert_eq!(d["session_type"], "normal");
    assert_eq!(d["private_channels"], json!([]), "{d}");
    for empty_list in ["relationships", "presences", "guild_join_requests"] {
        assert_eq!(d[empty_list], json!([]), "READY.{empty_list}: {d}");
    }
    assert_eq!(d["user_settings"], json!({}), "{d}");
    assert!(
        d.get("application").is_none() && d.get("shard").is_none(),
        "{d}"
    );
    assert_keys(
        &d["user"],
        &["id", "username", "discriminator", "avatar", "mfa_enabled"],
        "READY.user",
    );
    assert_eq!(d["user"]["id"], owner.id.as_str());
    assert!(d["session_id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(
        d["resume_gateway_url"]
            .as_str()
            .is_some_and(|s| s.starts_with("ws://")),
        "{d}"
    );
    let mut guild_ids: Vec<String> = d["guilds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert_eq!(x["unavailable"], true, "READY guilds are unavailable: {x}");
            x["id"].as_str().unwrap().to_string()
        })
        .collect();
    guild_ids.sort();
    let mut want = vec![g.id.clone(), g2.id.clone()];
    want.sort();
    assert_eq!(guild_ids, want);

    assert_eq!(gw.guilds.len(), 2);
    let gc = gw.guild_create(&g.id);
    check_guild_create(gc, "GUILD_CREATE");
    assert_eq!(gc["name"], "World");
    assert_eq!(gc["owner_id"], owner.id.as_str());
    assert_eq!(gc["member_count"], 2);
    assert_eq!(gc["large"], false);
    assert!(gc["channels"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == g.general.as_str() && c["type"] == 0));
    let member_ids: Vec<&str> = gc["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap())
        .collect();
    assert!(
        member_ids.contains(&owner.id.as_str()),
        "GUILD_CREATE members include the current user"
    );
    assert!(gc["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == g.id.as_str()));

    // the member's session sees the guild too
    let mgw = srv.gw(&member.token, intents::DEFAULT).await;
    assert_eq!(mgw.guilds.len(), 1);
    check_guild_create(&mgw.guilds[0], "member GUILD_CREATE");
}

#[tokio::test]
async fn bot_ready_with_and_without_prefix() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "BotLand").await;
    let bot = srv.bot(&owner, "GwBot").await;
    srv.authorize(&owner, &bot, &g, perm::VIEW_CHANNEL | perm::SEND_MESSAGES)
        .await;

    for token in [format!("Bot {}", bot.token), bot.token.clone()] {
        let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
        gw.identify_with(json!({
            "token": token,
            "properties": {"os": "linux", "browser": "discord.js", "device": "discord.js"},
            "intents": intents::DEFAULT,
            "shard": [0, 1],
            "compress": false,
            "large_threshold": 50,
        }))
        .await;
        let d = gw.ready_d();
        assert_eq!(d["user"]["id"], bot.id.as_str());
        assert_eq!(d["user"]["bot"], true);
        assert_eq!(
            d["application"]["id"],
            bot.id.as_str(),
            "READY.application.id: {d}"
        );
        assert!(
            d["application"]["flags"].is_i64(),
            "READY.application.flags: {d}"
        );
        assert_eq!(d["shard"], json!([0, 1]));
        assert_eq!(gw.guilds.len(), 1);
        let gc = gw.guild_create(&g.id);
        check_guild_create(gc, "bot GUILD_CREATE");
        let me = gc["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user"]["id"] == bot.id.as_str());
        assert!(
            me.is_some(),
            "bot's own member must be in GUILD_CREATE.members"
        );
        assert!(gc["roles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["managed"] == true && r["tags"]["bot_id"] == bot.id.as_str()));
    }
}

#[tokio::test]
async fn close_4004_on_bad_token() {
    let srv = Server::start().await;
    for token in [
        "garbage",
        "Bot garbage",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.AAAA",
    ] {
        let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
        gw.send(json!({"op": 2, "d": {"token": token, "properties": {}, "intents": 513}}))
            .await;
        gw.expect_close(4004, EVENT_TIMEOUT).await;
    }
}

#[tokio::test]
async fn close_4003_before_identify() {
    let srv = Server::start().await;
    for op in [3, 8, 4] {
        let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
        gw.send(json!({"op": op, "d": {"guild_id": "1", "query": "", "limit": 0, "since": null, "activities": [], "status": "online", "afk": false}}))
            .await;
        gw.expect_close(4003, EVENT_TIMEOUT).await;
    }
}

#[tokio::test]
async fn close_4002_on_undecodable_payload() {
    let srv = Server::start().await;
    for text in ["this is not json", "{\"op\":"] {
        let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
        gw.send_text(text).await;
        gw.expect_close(4002, EVENT_TIMEOUT).await;
    }
}

#[tokio::test]
async fn close_4001_on_unknown_opcode() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let mut gw = srv.gw(&owner.token, intents::DEFAULT).await;
    gw.send(json!({"op": 99, "d": null})).await;
    gw.expect_close(4001, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn close_4005_on_second_identify() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let mut gw = srv.gw(&owner.token, intents::DEFAULT).await;
    gw.send(json!({"op": 2, "d": {"token": owner.token, "properties": {}, "intents": intents::DEFAULT}})).await;
    gw.expect_close(4005, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn message_create_dispatch() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let m = owner
        .api
        .send(&g.general, &json!({"content": "live", "nonce": "n-1"}))
        .await
        .ok(200);
    for gw in [&mut mgw, &mut ogw] {
        let d = gw
            .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
            .await;
        check_message(&d, "MESSAGE_CREATE");
        assert_eq!(d["content"], "live");
        assert_eq!(d["guild_id"], g.id.as_str());
        assert_eq!(d["channel_id"], g.general.as_str());
        assert_eq!(d["author"]["id"], owner.id.as_str());
        assert_eq!(d["nonce"], "n-1");
        assert_eq!(
            d["timestamp"], m["timestamp"],
            "REST and gateway carry the same object"
        );
    }
}

#[tokio::test]
async fn bot_receives_message_create_and_respects_intents() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let bot = srv.bot(&owner, "Listener").await;
    srv.authorize(&owner, &bot, &g, 0).await;
    let mut with = srv
        .gw(&format!("Bot {}", bot.token), intents::DEFAULT)
        .await;
    let mut without = srv.gw(&bot.token, intents::GUILDS).await;

    let m = owner.api.say(&g.general, "!ping").await;
    let d = with
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
        .await;
    assert_eq!(d["content"], "!ping");
    without.expect_no_dispatch("MESSAGE_CREATE", QUIET).await;

    // the bot's reply reaches the user's gateway session
    let mut ugw = srv.gw(&owner.token, intents::DEFAULT).await;
    let reply = bot
        .api
        .send(
            &g.general,
            &json!({"content": "pong", "message_reference": {"message_id": m["id"]}}),
        )
        .await
        .ok(200);
    let d = ugw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == reply["id"])
        .await;
    assert_eq!(d["type"], 19);
    assert_eq!(d["author"]["bot"], true);
    assert_eq!(d["referenced_message"]["id"], m["id"]);
}

#[tokio::test]
async fn outsider_gets_no_events_of_foreign_guilds() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let other = srv.guild(&outsider, "Elsewhere").await;
    let mut ogw = srv.gw(&outsider.token, intents::DEFAULT).await;
    owner.api.say(&g.general, "private to World").await;
    owner
        .api
        .create_channel(&g.id, &json!({"name": "world-only"}))
        .await
        .ok(201);
    let r = srv.role(&owner, &g, "world-role", 0).await;
    owner
        .api
        .add_role(&g.id, &member.id, r["id"].as_str().unwrap())
        .await
        .ok(204);
    let late = srv.user("late").await;
    srv.join(&owner, &g, &late).await;
    ogw.expect_no_dispatch("MESSAGE_CREATE", QUIET).await;
    for t in [
        "CHANNEL_CREATE",
        "GUILD_ROLE_CREATE",
        "GUILD_MEMBER_UPDATE",
        "GUILD_MEMBER_ADD",
        "GUILD_CREATE",
    ] {
        ogw.expect_no_dispatch(t, Duration::from_millis(50)).await;
    }
    // sanity: the session works for its own guild
    let m = outsider.api.say(&other.general, "mine").await;
    ogw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
        .await;
}

#[tokio::test]
async fn channel_and_role_create_dispatches() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    let c = owner
        .api
        .create_channel(&g.id, &json!({"name": "announcements"}))
        .await
        .ok(201);
    let d = mgw
        .expect_dispatch_where("CHANNEL_CREATE", EVENT_TIMEOUT, |d| d["id"] == c["id"])
        .await;
    check_channel(&d, "CHANNEL_CREATE");
    assert_eq!(d["name"], "announcements");
    assert_eq!(d["guild_id"], g.id.as_str());

    let r = srv.role(&owner, &g, "Shiny", 0).await;
    let d = mgw
        .expect_dispatch_where("GUILD_ROLE_CREATE", EVENT_TIMEOUT, |d| {
            d["role"]["id"] == r["id"]
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    check_role(&d["role"], "GUILD_ROLE_CREATE.role");
    assert_eq!(d["role"]["name"], "Shiny");
}

#[tokio::test]
async fn member_update_on_role_change() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;
    let r = srv.role(&owner, &g, "Vip", 0).await;
    let rid = r["id"].as_str().unwrap().to_string();

    owner.api.add_role(&g.id, &member.id, &rid).await.ok(204);
    for gw in [&mut ogw, &mut mgw] {
        let d = gw
            .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
                d["user"]["id"] == member.id.as_str()
                    && d["roles"]
                        .as_array()
                        .is_some_and(|a| a.contains(&json!(rid)))
            })
            .await;
        assert_eq!(d["guild_id"], g.id.as_str());
        assert_keys(
            &d,
            &["guild_id", "roles", "user", "joined_at"],
            "GUILD_MEMBER_UPDATE",
        );
        check_user(&d["user"], "GUILD_MEMBER_UPDATE.user");
    }
    owner.api.remove_role(&g.id, &member.id, &rid).await.ok(204);
    let d = ogw
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str() && d["roles"] == json!([])
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
}

#[tokio::test]
async fn bot_gets_guild_create_when_authorized() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Late").await;
    let bot = srv.bot(&owner, "Newcomer").await;
    let mut bgw = srv
        .gw(&format!("Bot {}", bot.token), intents::DEFAULT)
        .await;
    assert!(bgw.guilds.is_empty());
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    srv.authorize(&owner, &bot, &g, perm::SEND_MESSAGES).await;
    let gc = bgw
        .expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    check_guild_create(&gc, "GUILD_CREATE after authorize");
    let add = ogw
        .expect_dispatch_where("GUILD_MEMBER_ADD", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == bot.id.as_str()
        })
        .await;
    assert_eq!(add["guild_id"], g.id.as_str());
    ogw.expect_dispatch_where("GUILD_ROLE_CREATE", EVENT_TIMEOUT, |d| {
        d["role"]["tags"]["bot_id"] == bot.id.as_str()
    })
    .await;
    // and from now on the bot's session receives the guild's messages
    let m = owner.api.say(&g.general, "hello bot").await;
    bgw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
        .await;
}

#[tokio::test]
async fn request_guild_members_chunk() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "Chunker").await;
    srv.authorize(&owner, &bot, &g, 0).await;
    let mut gw = srv.gw(&bot.token, intents::DEFAULT).await;

    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "query": "", "limit": 0, "nonce": "chunk-1"}}))
        .await;
    let d = gw
        .expect_dispatch("GUILD_MEMBERS_CHUNK", EVENT_TIMEOUT)
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    assert_eq!(d["chunk_index"], 0);
    assert_eq!(d["chunk_count"], 1);
    assert_eq!(d["nonce"], "chunk-1");
    let members = d["members"].as_array().unwrap();
    assert_eq!(members.len(), 3, "{d}");
    for (i, m) in members.iter().enumerate() {
        check_member(m, &format!("chunk.members[{i}]"));
    }

    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "user_ids": [member.id], "nonce": "chunk-2"}}))
        .await;
    let d = gw
        .expect_dispatch_where("GUILD_MEMBERS_CHUNK", EVENT_TIMEOUT, |d| {
            d["nonce"] == "chunk-2"
        })
        .await;
    let members = d["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{d}");
    assert_eq!(members[0]["user"]["id"], member.id.as_str());
}

#[tokio::test]
async fn sequence_numbers_increase() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Seq").await;
    let mut gw = srv.gw(&owner.token, intents::DEFAULT).await;
    assert_eq!(gw.ready["s"], 1, "READY is the first dispatch (s = 1)");
    // Gw checks that every dispatch's s is above the previous one
    for i in 0..5 {
        let m = owner.api.say(&g.general, &format!("{i}")).await;
        gw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
            .await;
    }
    gw.heartbeat().await;
    gw.expect_op(11, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn reset_bot_token_is_refused_by_gateway() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "Rotated").await;
    owner.api.reset_bot(&bot.id).await.ok(200);
    let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
    gw.send(
        json!({"op": 2, "d": {"token": bot.token, "properties": {}, "intents": intents::DEFAULT}}),
    )
    .await;
    gw.expect_close(4004, EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn intents_gate_guild_and_member_events() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Intents").await;
    let bot = srv.bot(&owner, "Picky").await;
    srv.authorize(&owner, &bot, &g, 0).await;
    // no GUILD_MEMBERS: no GUILD_MEMBER_ADD; no GUILDS: no CHANNEL_CREATE / GUILD_ROLE_CREATE
    let mut only_guilds = srv
        .gw(&bot.token, intents::GUILDS | intents::GUILD_MESSAGES)
        .await;
    let mut only_members = srv.gw(&bot.token, intents::GUILD_MEMBERS).await;

    let joiner = srv.user("joiner").await;
    srv.join(&owner, &g, &joiner).await;
    let c = owner
        .api
        .create_channel(&g.id, &json!({"name": "gated"}))
        .await
        .ok(201);
    let r = srv.role(&owner, &g, "gated", 0).await;

    only_members
        .expect_dispatch_where("GUILD_MEMBER_ADD", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == joiner.id.as_str()
        })
        .await;
    only_guilds
        .expect_dispatch_where("CHANNEL_CREATE", EVENT_TIMEOUT, |d| d["id"] == c["id"])
        .await;
    only_guilds
        .expect_dispatch_where("GUILD_ROLE_CREATE", EVENT_TIMEOUT, |d| {
            d["role"]["id"] == r["id"]
        })
        .await;
    only_guilds
        .expect_no_dispatch("GUILD_MEMBER_ADD", QUIET)
        .await;
    only_members
        .expect_no_dispatch("CHANNEL_CREATE", QUIET)
        .await;
    only_members
        .expect_no_dispatch("GUILD_ROLE_CREATE", Duration::from_millis(100))
        .await;
}

/// Bots without MESSAGE_CONTENT get MESSAGE_CREATE with `content`/`embeds` blanked, except for
/// their own messages and messages that mention them; user sessions always get content.
#[tokio::test]
async fn message_content_intent_blanks_content_for_bots() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let bot = srv.bot(&owner, "Muted").await;
    srv.authorize(&owner, &bot, &g, 0).await;
    let mut blind = srv
        .gw(&bot.token, intents::GUILDS | intents::GUILD_MESSAGES)
        .await;
    let mut user = srv.gw(&owner.token, intents::DEFAULT).await;

    let plain = owner
        .api
        .send(
            &g.general,
            &json!({"content": "secret", "embeds": [{"title": "hidden"}]}),
        )
        .await
        .ok(200);
    let d = blind
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == plain["id"])
        .await;
    assert_eq!(d["content"], "");
    assert_eq!(d["embeds"], json!([]));
    assert_eq!(d["author"]["id"], owner.id.as_str(), "metadata stays");
    let d = user
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == plain["id"])
        .await;
    assert_eq!(d["content"], "secret");

    let mention = owner
        .api
        .say(&g.general, &format!("hey <@{}>", bot.id))
        .await;
    let d = blind
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["id"] == mention["id"]
        })
        .await;
    assert_eq!(d["content"], format!("hey <@{}>", bot.id));
    assert_eq!(d["mentions"][0]["id"], bot.id.as_str());

    let own = bot.api.say(&g.general, "mine").await;
    let d = blind
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == own["id"])
        .await;
    assert_eq!(d["content"], "mine");
}

/// Start-up queues READY and every GUILD_CREATE before the connection writes any of them, so
/// the writer meets more than one write batch (64) at once: every dispatch must still arrive,
/// numbered without a gap.
#[tokio::test]
async fn a_user_in_many_guilds_gets_every_guild_create_in_order() {
    let srv = Server::start().await;
    let owner = srv.user("collector").await;
    let mut want = Vec::new();
    for n in 0..70 {
        want.push(srv.guild(&owner, &format!("Guild {n}")).await.id);
    }
    let gw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut got: Vec<String> = gw
        .guilds
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got.len(), 70, "one GUILD_CREATE per guild");
    got.sort();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(gw.ready["s"], 1);
}

/// IDENTIFY builds GUILD_CREATE from a per-guild snapshot shared by the node's sessions: every
/// change after a snapshot was taken must reach the next session to identify, and each
/// session still gets its own member object.
#[tokio::test]
async fn guild_create_after_a_change_shows_the_change_to_the_next_session() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let first = srv.gw(&owner.token, intents::DEFAULT).await;
    assert_eq!(first.guilds.len(), 1);
    assert_eq!(first.guilds[0]["member_count"], 2);
    assert_eq!(
        first.guilds[0]["members"][0]["user"]["id"],
        owner.id.as_str()
    );

    // The snapshot of the first IDENTIFY is now cached; change the guild in three ways.
    let added = owner
        .api
        .create_channel(&g.id, &json!({"name": "added-later", "type": 0}))
        .await
        .ok(201);
    let role = srv.role(&owner, &g, "later-role", 0).await;
    let newcomer = srv.user("newcomer").await;
    srv.join(&owner, &g, &newcomer).await;

    let second = srv.gw(&member.token, intents::DEFAULT).await;
    let guild = &second.guilds[0];
    check_guild_create(guild, "GUILD_CREATE after changes");
    let channel_ids: Vec<String> = ids(&guild["channels"]);
    assert!(
        channel_ids.contains(&sid(&added)),
        "new channel missing: {guild}"
    );
    let role_ids: Vec<String> = ids(&guild["roles"]);
    assert!(role_ids.contains(&sid(&role)), "new role missing: {guild}");
    assert_eq!(guild["member_count"], 3, "{guild}");
    assert_eq!(guild["members"][0]["user"]["id"], member.id.as_str());
    assert_eq!(guild["members"].as_array().map(Vec::len), Some(1));

    // A third session with nothing changed in between gets the same guild, with its own member.
    let third = srv.gw(&newcomer.token, intents::DEFAULT).await;
    let mut same = third.guilds[0].clone();
    let mut before = guild.clone();
    for g in [&mut same, &mut before] {
        let object = g.as_object_mut().unwrap();
        object.remove("members");
        object.remove("joined_at");
    }
    assert_eq!(same, before);
    assert_eq!(
        third.guilds[0]["members"][0]["user"]["id"],
        newcomer.id.as_str()
    );
    drop(first);
}

/// Large payloads (a GUILD_CREATE of a guild with many channels) are written on their own
/// between batched small ones; the order and numbering of what a session receives must not
/// change.
#[tokio::test]
async fn large_and_small_start_up_dispatches_arrive_in_order() {
    let srv = Server::start().await;
    let owner = srv.user("builder").await;
    let mut want = Vec::new();
    for n in 0..4 {
        let guild = srv.guild(&owner, &format!("Guild {n}")).await;
        if n % 2 == 0 {
            for c in 0..16 {
                owner
                    .api
                    .create_channel(
                        &guild.id,
                        &json!({"name": format!("channel-{c}"), "type": 0}),
                    )
                    .await
                    .ok(201);
            }
        }
        want.push(guild.id);
    }
    let gw = srv.gw(&owner.token, intents::DEFAULT).await;
    let got: Vec<String> = gw
        .guilds
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    let large = gw
        .guilds
        .iter()
        .filter(|g| g.to_string().len() > 2048)
        .count();
    assert_eq!(
        large, 2,
        "two GUILD_CREATEs should be large enough to go out alone"
    );
    let mut sorted = got.clone();
    sorted.sort();
    want.sort();
    assert_eq!(sorted, want);
    // READY is 1, the GUILD_CREATEs 2..=5 with nothing skipped.
    assert_eq!(gw.ready["s"], 1);
    assert_eq!(gw.last_seq(), 5);
}
