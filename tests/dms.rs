//! Direct messages: opening a DM (one channel per pair, also under concurrency), Discord's DM
//! channel shape, messages and their events reaching both users (and nobody else) under the DM
//! intents, CHANNEL_CREATE on the first message, history, 50007 for users sharing no guild,
//! READY private_channels.
mod common;

use common::*;
use serde_json::{json, Value};

const DIRECT_MESSAGES: u64 = 1 << 12;
const DIRECT_MESSAGE_TYPING: u64 = 1 << 14;
const GUILD_MESSAGE_TYPING: u64 = 1 << 11;

async fn open_dm(api: &Api, recipient: &str) -> Resp {
    api.post("/users/@me/channels", &json!({ "recipient_id": recipient }))
        .await
}

/// The next MESSAGE_CREATE or CHANNEL_CREATE dispatch, in arrival order.
async fn next_of_interest(gw: &mut Gw) -> Value {
    loop {
        match gw.next_frame(EVENT_TIMEOUT).await {
            Some(Frame::Json(v))
                if v["op"] == 0 && (v["t"] == "MESSAGE_CREATE" || v["t"] == "CHANNEL_CREATE") =>
            {
                return v
            }
            Some(Frame::Json(_)) => continue,
            other => panic!("expected a dispatch, got {other:?}"),
        }
    }
}

fn assert_dm_shape(channel: &Value, other: &User) {
    assert_keys(
        channel,
        &["flags", "id", "last_message_id", "recipients", "type"],
        "DM channel",
    );
    assert_eq!(channel["type"], 1);
    let recipients = channel["recipients"].as_array().expect("recipients");
    assert_eq!(recipients.len(), 1, "only the other user: {channel}");
    assert_eq!(recipients[0]["id"], json!(other.id));
    assert_eq!(recipients[0]["username"], json!(other.username));
    check_user(&recipients[0], "DM recipient");
}

#[tokio::test]
async fn opening_a_dm_is_idempotent_and_shaped_like_discords() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let third = srv.joined_user(&owner, &g, "third").await;

    let first = open_dm(&owner.api, &member.id).await.ok(200);
    assert_dm_shape(&first, &member);
    assert!(first["last_message_id"].is_null());
    let again = open_dm(&owner.api, &member.id).await.ok(200);
    assert_eq!(again["id"], first["id"]);
    // The other side opening it gets the same channel, seen from its side.
    let theirs = open_dm(&member.api, &owner.id).await.ok(200);
    assert_eq!(theirs["id"], first["id"]);
    assert_dm_shape(&theirs, &owner);
    let dm = sid(&first);
    assert_dm_shape(&member.api.channel(&dm).await.ok(200), &owner);

    // Both sides at once, many times: still one channel.
    let opens = (0..12).map(|n| {
        let (api, other) = if n % 2 == 0 {
            (third.api.clone(), member.id.clone())
        } else {
            (member.api.clone(), third.id.clone())
        };
        async move { open_dm(&api, &other).await.ok(200)["id"].clone() }
    });
    let ids = futures_util::future::join_all(opens).await;
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_ne!(ids[0], first["id"]);

    let listed = member.api.get("/users/@me/channels").await.ok(200);
    let listed_ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["id"])
        .collect();
    assert_eq!(listed_ids, vec![&first["id"], &ids[0]]);
    assert_dm_shape(&listed[0], &owner);
    assert_dm_shape(&listed[1], &third);
    let owners = owner.api.get("/users/@me/channels").await.ok(200);
    assert_eq!(owners.as_array().unwrap().len(), 1);

    // Closing a DM (DELETE) answers the channel and keeps it, as on Discord.
    assert_dm_shape(&owner.api.delete_channel(&dm).await.ok(200), &member);
    assert_eq!(sid(&open_dm(&owner.api, &member.id).await.ok(200)), dm);
    owner
        .api
        .patch_channel(&dm, &json!({ "name": "renamed" }))
        .await
        .err(403, 50013);

    // A DM one is not in is an unknown channel.
    third.api.channel(&dm).await.err(404, 10003);
    third.api.messages(&dm, "").await.err(404, 10003);
    third
        .api
        .send(&dm, &json!({ "content": "let me in" }))
        .await
        .err(404, 10003);

    open_dm(&owner.api, "12345678901234567")
        .await
        .err(404, 10013);
    open_dm(&owner.api, &owner.id).await.err(403, 50007);
    owner
        .api
        .post("/users/@me/channels", &json!({}))
        .await
        .form_error_code("recipient_id", "BASE_TYPE_REQUIRED");
    // DM channels are not guild channels.
    owner
        .api
        .create_channel(&g.id, &json!({ "name": "x", "type": 1 }))
        .await
        .form_error_code("type", "BASE_TYPE_CHOICES");
}

#[tokio::test]
async fn dm_events_reach_both_users_and_nobody_else() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let third = srv.joined_user(&owner, &g, "third").await;
    let all = intents::DEFAULT | DIRECT_MESSAGES | DIRECT_MESSAGE_TYPING | GUILD_MESSAGE_TYPING;
    let mut owner_gw = srv.gw(&owner.token, all).await;
    let mut member_gw = srv.gw(&member.token, all).await;
    let mut third_gw = srv.gw(&third.token, all).await;

    let dm = sid(&open_dm(&owner.api, &member.id).await.ok(200));
    let hello = owner
        .api
        .say(&dm, &format!("hello <@{}> <@{}>", member.id, third.id))
        .await;
    assert!(
        hello.get("guild_id").is_none() && hello.get("member").is_none(),
        "{hello}"
    );
    // Only the DM's users can be mentioned in it.
    let mentioned: Vec<&Value> = hello["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["id"])
        .collect();
    assert_eq!(mentioned, vec![&json!(member.id)]);

    // The recipient learns of the channel first, then gets the message.
    let first = next_of_interest(&mut member_gw).await;
    assert_eq!(first["t"], "CHANNEL_CREATE", "{first}");
    assert_dm_shape(&first["d"], &owner);
    let created = next_of_interest(&mut member_gw).await;
    assert_eq!(created["t"], "MESSAGE_CREATE");
    assert_eq!(created["d"]["id"], hello["id"]);
    assert!(created["d"].get("guild_id").is_none(), "{created}");
    assert!(created["d"].get("member").is_none(), "{created}");
    // The author's own sessions get the message but no CHANNEL_CREATE (it opened the DM).
    owner_gw.expect_msg(&hello).await;

    // Later messages do not announce the channel again.
    let second = member.api.say(&dm, "hi").await;
    owner_gw.expect_msg(&second).await;
    member_gw.expect_msg(&second).await;
    member_gw.expect_no_dispatch("CHANNEL_CREATE", QUIET).await;
    owner_gw.expect_no_dispatch("CHANNEL_CREATE", QUIET).await;

    // Edits, typing, pins and deletes reach both users, without guild_id.
    member
        .api
        .patch(
            &format!("/channels/{dm}/messages/{}", sid(&second)),
            &json!({ "content": "edited" }),
        )
        .await
        .ok(200);
    for gw in [&mut owner_gw, &mut member_gw] {
        let update = gw.expect_dispatch("MESSAGE_UPDATE", EVENT_TIMEOUT).await;
        assert_eq!(update["content"], "edited");
        assert!(update.get("guild_id").is_none());
    }
    member
        .api
        .post(&format!("/channels/{dm}/typing"), &json!({}))
        .await
        .ok(204);
    let typing = owner_gw
        .expect_dispatch("TYPING_START", EVENT_TIMEOUT)
        .await;
    assert_eq!(typing["user_id"], json!(member.id));
    assert_eq!(typing["channel_id"], json!(dm));
    assert!(typing.get("guild_id").is_none() && typing.get("member").is_none());
    owner
        .api
        .put(&format!("/channels/{dm}/messages/pins/{}", sid(&second)))
        .await
        .ok(204);
    for gw in [&mut owner_gw, &mut member_gw] {
        let pins = gw
            .expect_dispatch("CHANNEL_PINS_UPDATE", EVENT_TIMEOUT)
            .await;
        assert_eq!(pins["channel_id"], json!(dm));
        assert!(pins.get("guild_id").is_none());
    }
    // Only the author deletes its message (no MANAGE_MESSAGES in DMs).
    owner
        .api
        .delete(&format!("/channels/{dm}/messages/{}", sid(&second)))
        .await
        .err(403, 50013);
    member
        .api
        .delete(&format!("/channels/{dm}/messages/{}", sid(&second)))
        .await
        .ok(204);
    for gw in [&mut owner_gw, &mut member_gw] {
        let deleted = gw.expect_dispatch("MESSAGE_DELETE", EVENT_TIMEOUT).await;
        assert_eq!(deleted, json!({ "id": second["id"], "channel_id": dm }));
    }

    // History through the channel routes.
    let history = owner.api.messages(&dm, "").await.ok(200);
    let ids: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, vec![&hello["id"]]);
    assert_eq!(
        member.api.message(&dm, &sid(&hello)).await.ok(200)["content"],
        hello["content"]
    );

    // The third member of the guild saw none of it.
    for event in [
        "CHANNEL_CREATE",
        "MESSAGE_CREATE",
        "MESSAGE_UPDATE",
        "MESSAGE_DELETE",
        "TYPING_START",
        "CHANNEL_PINS_UPDATE",
    ] {
        third_gw
            .expect_no_dispatch(event, std::time::Duration::ZERO)
            .await;
    }
    third_gw.expect_no_dispatch("MESSAGE_CREATE", QUIET).await;
    third
        .api
        .post(&format!("/channels/{dm}/typing"), &json!({}))
        .await
        .err(404, 10003);

    // READY lists the user's DMs as seen from its side.
    let again = srv.gw(&member.token, all).await;
    let private = again.ready_d()["private_channels"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(private.len(), 1);
    assert_eq!(private[0]["id"], json!(dm));
    assert_dm_shape(&private[0], &owner);
    // Guild messages still work as before.
    let guild_msg = owner.api.say(&g.general, "guild").await;
    third_gw.expect_msg(&guild_msg).await;
}

#[tokio::test]
async fn dm_intents_gate_delivery() {
    let srv = Server::start().await;
    let (owner, _g, member) = srv.world().await;
    // Guild intents only: no DM events at all.
    let mut guild_only = srv
        .gw(&member.token, intents::DEFAULT | GUILD_MESSAGE_TYPING)
        .await;
    // DMs but not DM typing.
    let mut no_typing = srv
        .gw(&member.token, intents::GUILDS | DIRECT_MESSAGES)
        .await;
    let dm = sid(&open_dm(&owner.api, &member.id).await.ok(200));
    let m = owner.api.say(&dm, "psst").await;
    owner
        .api
        .post(&format!("/channels/{dm}/typing"), &json!({}))
        .await
        .ok(204);
    let got = no_typing.expect_msg(&m).await;
    assert_eq!(got["content"], "psst");
    no_typing.expect_no_dispatch("TYPING_START", QUIET).await;
    guild_only.expect_no_dispatch("MESSAGE_CREATE", QUIET).await;
    guild_only
        .expect_no_dispatch("CHANNEL_CREATE", std::time::Duration::ZERO)
        .await;
    guild_only
        .expect_no_dispatch("TYPING_START", std::time::Duration::ZERO)
        .await;
}

#[tokio::test]
async fn bots_dm_users_they_share_a_guild_with_only() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let bot = srv.bot(&owner, "dmbot").await;
    srv.authorize(&owner, &bot, &g, 1 << 11 | 1 << 10).await;
    let stranger = srv.user("stranger").await;
    // No MESSAGE_CONTENT: DM content is shown to bots regardless.
    let mut bot_gw = srv.gw(&bot.token, intents::GUILDS | DIRECT_MESSAGES).await;
    assert_eq!(bot_gw.ready_d()["private_channels"], json!([]));

    // Opening works for anyone; sending to a user sharing no guild does not.
    let to_stranger = sid(&open_dm(&bot.api, &stranger.id).await.ok(200));
    bot.api
        .send(&to_stranger, &json!({ "content": "hi stranger" }))
        .await
        .err(403, 50007);
    stranger
        .api
        .send(&to_stranger, &json!({ "content": "hi bot" }))
        .await
        .err(403, 50007);
    assert_eq!(
        stranger.api.messages(&to_stranger, "").await.ok(200),
        json!([])
    );

    // The owner writes to the bot first: the bot gets CHANNEL_CREATE, then the message.
    let dm = sid(&open_dm(&owner.api, &bot.id).await.ok(200));
    let m = owner.api.say(&dm, "hello bot").await;
    let first = next_of_interest(&mut bot_gw).await;
    assert_eq!(first["t"], "CHANNEL_CREATE", "{first}");
    assert_eq!(first["d"]["id"], json!(dm));
    assert_eq!(first["d"]["recipients"][0]["id"], json!(owner.id));
    let created = next_of_interest(&mut bot_gw).await;
    assert_eq!(created["d"]["id"], m["id"]);
    assert_eq!(created["d"]["content"], "hello bot");
    // The bot answers in the same channel (opening it from its side finds it).
    assert_eq!(sid(&open_dm(&bot.api, &owner.id).await.ok(200)), dm);
    bot.api.say(&dm, "hello human").await;
    // Bots keep no DM list (as on Discord); people do.
    assert_eq!(bot.api.get("/users/@me/channels").await.ok(200), json!([]));
    assert_eq!(
        owner.api.get("/users/@me/channels").await.ok(200)[0]["recipients"][0]["id"],
        json!(bot.id)
    );
}
