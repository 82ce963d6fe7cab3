//! POST /channels/{id}/messages, GET /channels/{id}/messages, GET /channels/{id}/messages/{mid}.
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn send_message_shape() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let m = member
        .api
        .send(
            &g.general,
            &json!({"content": "hello world", "whatever": true}),
        )
        .await
        .ok(200);
    check_message(&m, "POST message");
    assert_eq!(m["type"], 0);
    assert_eq!(m["content"], "hello world");
    assert_eq!(m["channel_id"], g.general.as_str());
    assert_eq!(m["guild_id"], g.id.as_str());
    assert_eq!(m["author"]["id"], member.id.as_str());
    assert_eq!(m["author"]["username"], "member");
    assert_eq!(m["tts"], false);
    assert_eq!(m["pinned"], false);
    assert_eq!(m["mention_everyone"], false);
    assert_eq!(m["flags"], 0);
    assert_eq!(m["embeds"], json!([]));
    assert_eq!(m["attachments"], json!([]));

    let got = owner
        .api
        .message(&g.general, m["id"].as_str().unwrap())
        .await
        .ok(200);
    check_message(&got, "GET message");
    assert_eq!(got["id"], m["id"]);
    assert_eq!(got["content"], "hello world");
    assert_eq!(got["author"]["id"], member.id.as_str());
    assert_eq!(got["timestamp"], m["timestamp"]);
}

#[tokio::test]
async fn channel_last_message_id_follows_posts() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let m = owner.api.say(&g.general, "one").await;
    let c = owner.api.channel(&g.general).await.ok(200);
    assert_eq!(c["last_message_id"], m["id"], "{c}");
}

#[tokio::test]
async fn content_length_limits() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let r = owner
        .api
        .send(&g.general, &json!({"content": "a".repeat(2001)}))
        .await;
    r.form_error_code("content", "BASE_TYPE_MAX_LENGTH");
    owner
        .api
        .send(&g.general, &json!({"content": "a".repeat(2000)}))
        .await
        .ok(200);
    // the limit counts characters, not bytes
    let m = owner
        .api
        .send(&g.general, &json!({"content": "é".repeat(2000)}))
        .await
        .ok(200);
    assert_eq!(m["content"].as_str().unwrap().chars().count(), 2000);
    owner
        .api
        .send(&g.general, &json!({"content": "é".repeat(2001)}))
        .await
        .form_error_code("content", "BASE_TYPE_MAX_LENGTH");
    // rejected messages were not stored
    let list = owner.api.messages(&g.general, "limit=100").await.ok(200);
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn empty_message_is_50006() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    owner.api.send(&g.general, &json!({})).await.err(400, 50006);
    owner
        .api
        .send(&g.general, &json!({"content": ""}))
        .await
        .err(400, 50006);
    owner
        .api
        .send(&g.general, &json!({"tts": false, "nonce": "1"}))
        .await
        .err(400, 50006);
    assert_eq!(owner.api.messages(&g.general, "").await.ok(200), json!([]));
}

#[tokio::test]
async fn malformed_and_invalid_bodies() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    owner
        .api
        .raw(
            "POST",
            &format!("/channels/{}/messages", g.general),
            Some(b"{\"content\":".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    // wrong type for content
    owner
        .api
        .send(&g.general, &json!({"content": 5}))
        .await
        .form_error("content");
}

#[tokio::test]
async fn nonce_is_echoed_and_enforced() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let m = owner
        .api
        .send(&g.general, &json!({"content": "a", "nonce": "abc123"}))
        .await
        .ok(200);
    assert_eq!(m["nonce"], "abc123");
    let m = owner
        .api
        .send(&g.general, &json!({"content": "b", "nonce": 987654321}))
        .await
        .ok(200);
    assert!(
        m["nonce"] == json!(987654321) || m["nonce"] == json!("987654321"),
        "nonce echo: {}",
        m["nonce"]
    );

    let first = owner
        .api
        .send(
            &g.general,
            &json!({"content": "once", "nonce": "dedupe-1", "enforce_nonce": true}),
        )
        .await
        .ok(200);
    let second = owner
        .api
        .send(
            &g.general,
            &json!({"content": "once", "nonce": "dedupe-1", "enforce_nonce": true}),
        )
        .await
        .ok(200);
    assert_eq!(
        first["id"], second["id"],
        "enforce_nonce must return the existing message"
    );
    let list = owner.api.messages(&g.general, "limit=100").await.ok(200);
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
}

#[tokio::test]
async fn tts_and_embeds() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let m = owner
        .api
        .send(&g.general, &json!({"content": "speak", "tts": true}))
        .await
        .ok(200);
    assert_eq!(m["tts"], true);
    let m = owner
        .api
        .send(
            &g.general,
            &json!({"embeds": [{"title": "Title", "description": "Body"}]}),
        )
        .await
        .ok(200);
    check_message(&m, "embed message");
    assert_eq!(m["content"], "");
    let e = &m["embeds"][0];
    assert_eq!(e["title"], "Title");
    assert_eq!(e["description"], "Body");
    assert_eq!(e["type"], "rich");
}

#[tokio::test]
async fn reply_with_message_reference() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let original = owner.api.say(&g.general, "!ping").await;
    let oid: u64 = original["id"].as_str().unwrap().parse().unwrap();
    // discord.py sends message_id as an integer
    let reply = member
        .api
        .send(
            &g.general,
            &json!({"content": "pong", "message_reference": {"message_id": oid, "channel_id": g.general, "guild_id": g.id, "fail_if_not_exists": true}}),
        )
        .await
        .ok(200);
    check_message(&reply, "reply");
    assert_eq!(reply["type"], 19);
    assert_eq!(reply["message_reference"]["message_id"], original["id"]);
    assert_eq!(reply["message_reference"]["channel_id"], g.general.as_str());
    assert_eq!(reply["referenced_message"]["id"], original["id"]);
    assert_eq!(reply["referenced_message"]["content"], "!ping");
    let got = owner
        .api
        .message(&g.general, reply["id"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(got["type"], 19);
    assert_eq!(got["message_reference"]["message_id"], original["id"]);
    assert_eq!(got["referenced_message"]["id"], original["id"]);

    // string id, only message_id given
    let reply = member
        .api
        .send(
            &g.general,
            &json!({"content": "pong2", "message_reference": {"message_id": original["id"]}}),
        )
        .await
        .ok(200);
    assert_eq!(reply["type"], 19);

    // unknown referenced message
    let r = member
        .api
        .send(
            &g.general,
            &json!({"content": "x", "message_reference": {"message_id": bogus_id()}}),
        )
        .await;
    r.form_error("message_reference");
    // ... unless fail_if_not_exists is false: sent as a normal message
    let m = member
        .api
        .send(&g.general, &json!({"content": "y", "message_reference": {"message_id": bogus_id(), "fail_if_not_exists": false}}))
        .await
        .ok(200);
    assert_eq!(m["type"], 0);
}

#[tokio::test]
async fn send_failures() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let outsider = srv.user("outsider").await;
    outsider
        .api
        .send(&g.general, &json!({"content": "hi"}))
        .await
        .err(404, 10003);
    owner
        .api
        .send(&bogus_id(), &json!({"content": "hi"}))
        .await
        .err(404, 10003);
    srv.api()
        .send(&g.general, &json!({"content": "hi"}))
        .await
        .unauthorized();
    srv.api_as("Bot nope")
        .send(&g.general, &json!({"content": "hi"}))
        .await
        .unauthorized();
    assert_eq!(owner.api.messages(&g.general, "").await.ok(200), json!([]));
}

#[tokio::test]
async fn bot_posts_with_bot_token() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let bot = srv.bot(&owner, "Poster").await;
    // before authorization the bot is no member
    bot.api
        .send(&g.general, &json!({"content": "early"}))
        .await
        .err(404, 10003);
    srv.authorize(&owner, &bot, &g, perm::VIEW_CHANNEL | perm::SEND_MESSAGES)
        .await;
    let m = bot
        .api
        .send(&g.general, &json!({"content": "beep"}))
        .await
        .ok(200);
    check_message(&m, "bot message");
    assert_eq!(m["author"]["id"], bot.id.as_str());
    assert_eq!(m["author"]["bot"], true);
    assert_eq!(
        m["member"]["roles"].as_array().unwrap().len(),
        1,
        "bot member carries its managed role"
    );
    let list = bot.api.messages(&g.general, "").await.ok(200);
    assert_eq!(ids(&list), vec![m["id"].as_str().unwrap().to_string()]);
}

#[tokio::test]
async fn list_messages_pagination() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut posted = vec![];
    for i in 0..6 {
        let m = owner.api.say(&g.general, &format!("m{i}")).await;
        posted.push(m["id"].as_str().unwrap().to_string());
    }
    let newest_first: Vec<String> = posted.iter().rev().cloned().collect();

    let all = member.api.messages(&g.general, "").await.ok(200);
    for (i, m) in all.as_array().unwrap().iter().enumerate() {
        check_message(m, &format!("list[{i}]"));
    }
    assert_eq!(ids(&all), newest_first, "newest first");
    assert_eq!(all[0]["content"], "m5");

    assert_eq!(
        ids(&owner.api.messages(&g.general, "limit=2").await.ok(200)),
        newest_first[..2].to_vec()
    );
    let before = owner
        .api
        .messages(&g.general, &format!("before={}", posted[2]))
        .await
        .ok(200);
    assert_eq!(ids(&before), vec![posted[1].clone(), posted[0].clone()]);
    let before = owner
        .api
        .messages(&g.general, &format!("before={}&limit=1", posted[2]))
        .await
        .ok(200);
    assert_eq!(ids(&before), vec![posted[1].clone()]);
    let after = owner
        .api
        .messages(&g.general, &format!("after={}", posted[3]))
        .await
        .ok(200);
    assert_eq!(ids(&after), vec![posted[5].clone(), posted[4].clone()]);
    // after + limit returns the messages right after the cursor
    let after = owner
        .api
        .messages(&g.general, &format!("after={}&limit=2", posted[0]))
        .await
        .ok(200);
    assert_eq!(ids(&after), vec![posted[2].clone(), posted[1].clone()]);
    let around = owner
        .api
        .messages(&g.general, &format!("around={}&limit=3", posted[3]))
        .await
        .ok(200);
    // around: a window of consecutive messages containing the cursor, newest first
    let got = ids(&around);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got.contains(&posted[3]),
        "around must include the cursor message: {got:?}"
    );
    let start = newest_first
        .iter()
        .position(|id| *id == got[0])
        .expect("known id");
    assert_eq!(
        got,
        newest_first[start..start + 3].to_vec(),
        "around window must be contiguous, newest first"
    );
    let one = owner
        .api
        .messages(&g.general, &format!("around={}&limit=1", posted[3]))
        .await
        .ok(200);
    assert_eq!(
        ids(&one),
        vec![posted[3].clone()],
        "around with limit=1 is the message itself"
    );

    owner
        .api
        .messages(&g.general, "limit=0")
        .await
        .err(400, 50035);
    owner
        .api
        .messages(&g.general, "limit=101")
        .await
        .err(400, 50035);
    owner.api.messages(&g.general, "limit=100").await.ok(200);
}

#[tokio::test]
async fn read_failures() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let outsider = srv.user("outsider").await;
    let m = owner.api.say(&g.general, "secret").await;
    let mid = m["id"].as_str().unwrap();
    outsider.api.messages(&g.general, "").await.err(404, 10003);
    outsider.api.message(&g.general, mid).await.err(404, 10003);
    owner
        .api
        .message(&g.general, &bogus_id())
        .await
        .err(404, 10008);
    owner.api.messages(&bogus_id(), "").await.err(404, 10003);
    owner.api.message(&bogus_id(), mid).await.err(404, 10003);
    srv.api().messages(&g.general, "").await.unauthorized();
    srv.api().message(&g.general, mid).await.unauthorized();
    // a message fetched through another channel id is unknown there
    let other = owner
        .api
        .create_channel(&g.id, &json!({"name": "other"}))
        .await
        .ok(201);
    owner
        .api
        .message(other["id"].as_str().unwrap(), mid)
        .await
        .err(404, 10008);
}

#[tokio::test]
async fn mentions_are_resolved() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let role = owner
        .api
        .create_role(&g.id, &json!({"name": "pingable", "mentionable": true}))
        .await
        .ok(200);
    let rid = role["id"].as_str().unwrap();
    let m = owner
        .api
        .say(&g.general, &format!("hey <@{}> and <@&{}>", member.id, rid))
        .await;
    let mentions = m["mentions"].as_array().unwrap();
    assert_eq!(mentions.len(), 1, "{m}");
    assert_eq!(mentions[0]["id"], member.id.as_str());
    check_user(&mentions[0], "mentions[0]");
    assert_eq!(m["mention_roles"], json!([rid]));
    assert_eq!(m["mention_everyone"], false);
    let m = owner.api.say(&g.general, "@everyone listen").await;
    assert_eq!(m["mention_everyone"], true);
}

#[tokio::test]
async fn nested_embed_errors_use_index_keys() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let r = owner
        .api
        .send(
            &g.general,
            &json!({"content": "x", "embeds": [{"title": "ok"}, {"title": "t".repeat(257)}]}),
        )
        .await;
    r.form_error_code("embeds.1.title", "BASE_TYPE_MAX_LENGTH");
    owner
        .api
        .send(&g.general, &json!({"embeds": [{"title": "t".repeat(256)}]}))
        .await
        .ok(200);
}

#[tokio::test]
async fn v9_prefix_works_for_messages() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let m = owner
        .api
        .v9()
        .send(&g.general, &json!({"content": "via v9"}))
        .await
        .ok(200);
    check_message(&m, "v9 message");
    let got = owner
        .api
        .v9()
        .message(&g.general, m["id"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(got["content"], "via v9");
}

#[tokio::test]
async fn huge_body_is_rejected_cleanly() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let r = owner
        .api
        .send(&g.general, &json!({"content": "x".repeat(1_000_000)}))
        .await;
    assert!(
        (r.status == 400 && r.body["code"] == 50035)
            || (r.status == 413 && r.body["code"] == 40005),
        "1 MB content: expected 400 50035 or 413 40005, got {} {}",
        r.status,
        &r.text[..r.text.len().min(300)]
    );
    r.assert_json_content_type();
    owner.api.say(&g.general, "still fine").await;
}
