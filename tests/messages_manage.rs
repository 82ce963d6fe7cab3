//! Editing and deleting messages: who may, what changes, the events, and the errors.
mod common;

use common::*;
use serde_json::{json, Value};

const SUPPRESS_EMBEDS: u64 = 1 << 2;

async fn edit(api: &Api, channel: &str, message: &Value, body: Value) -> Resp {
    api.patch(
        &format!(
            "/channels/{channel}/messages/{}",
            message["id"].as_str().unwrap()
        ),
        &body,
    )
    .await
}

async fn delete(api: &Api, channel: &str, id: &str) -> Resp {
    api.delete(&format!("/channels/{channel}/messages/{id}"))
        .await
}

async fn bulk(api: &Api, channel: &str, ids: Value) -> Resp {
    api.post(
        &format!("/channels/{channel}/messages/bulk-delete"),
        &json!({ "messages": ids }),
    )
    .await
}

#[tokio::test]
async fn the_author_edits_and_viewers_get_message_update() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&owner.token, intents::DEFAULT).await;
    let m = member.api.say(&g.general, "first draft").await;
    assert!(m["edited_timestamp"].is_null());

    let mention = format!("second draft for <@{}>", owner.id);
    let edited = edit(&member.api, &g.general, &m, json!({ "content": mention }))
        .await
        .ok(200);
    assert_eq!(edited["id"], m["id"]);
    assert_eq!(edited["content"], mention);
    assert!(edited["edited_timestamp"].is_string());
    assert_eq!(edited["timestamp"], m["timestamp"]);
    assert_eq!(edited["mentions"][0]["id"], json!(owner.id));

    let event = watcher
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
        .await;
    assert_eq!(event["content"], mention);
    assert_eq!(event["guild_id"], json!(g.id));
    let stored = member
        .api
        .message(&g.general, m["id"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(stored["content"], mention);

    // Embeds can be replaced and cleared; the text can then be the only thing left.
    let with_embed = edit(
        &member.api,
        &g.general,
        &m,
        json!({ "embeds": [{ "title": "t", "description": "d" }] }),
    )
    .await
    .ok(200);
    assert_eq!(with_embed["embeds"][0]["type"], "rich");
    assert_eq!(with_embed["content"], mention);
    let cleared = edit(&member.api, &g.general, &m, json!({ "embeds": null }))
        .await
        .ok(200);
    assert_eq!(cleared["embeds"], json!([]));
}

#[tokio::test]
async fn only_the_author_edits_text_and_moderators_only_suppress_embeds() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let m = member.api.say(&g.general, "mine").await;

    // The owner has MANAGE_MESSAGES but is not the author.
    edit(&owner.api, &g.general, &m, json!({ "content": "hijacked" }))
        .await
        .err(403, 50005);
    let suppressed = edit(
        &owner.api,
        &g.general,
        &m,
        json!({ "flags": SUPPRESS_EMBEDS }),
    )
    .await
    .ok(200);
    assert_eq!(
        suppressed["flags"].as_u64().unwrap() & SUPPRESS_EMBEDS,
        SUPPRESS_EMBEDS
    );
    assert_eq!(suppressed["content"], "mine");

    // Without MANAGE_MESSAGES even the flags of another's message are off limits.
    let o = owner.api.say(&g.general, "owner's").await;
    edit(
        &member.api,
        &g.general,
        &o,
        json!({ "flags": SUPPRESS_EMBEDS }),
    )
    .await
    .err(403, 50005);
    // Other flag bits are not the caller's to set.
    let flags = edit(
        &owner.api,
        &g.general,
        &o,
        json!({ "flags": 1 | SUPPRESS_EMBEDS }),
    )
    .await
    .ok(200);
    assert_eq!(flags["flags"], json!(SUPPRESS_EMBEDS));
}

#[tokio::test]
async fn bad_edits_change_nothing() {
    let srv = Server::start().await;
    let (_owner, g, member) = srv.world().await;
    let m = member.api.say(&g.general, "keep me").await;
    let id = m["id"].as_str().unwrap();

    edit(
        &member.api,
        &g.general,
        &m,
        json!({ "content": "x".repeat(2001) }),
    )
    .await
    .form_error_code("content", "BASE_TYPE_MAX_LENGTH");
    edit(&member.api, &g.general, &m, json!({ "content": "" }))
        .await
        .err(400, 50006);
    edit(&member.api, &g.general, &m, json!({ "content": 5 }))
        .await
        .err(400, 50035);
    let raw = member
        .api
        .raw(
            "PATCH",
            &format!("/channels/{}/messages/{id}", g.general),
            Some(b"{".to_vec()),
            "application/json",
        )
        .await;
    raw.err(400, 50109);
    let stored = member.api.message(&g.general, id).await.ok(200);
    assert_eq!(stored["content"], "keep me");
    assert!(stored["edited_timestamp"].is_null());

    edit(
        &member.api,
        &g.general,
        &json!({ "id": "1" }),
        json!({ "content": "x" }),
    )
    .await
    .err(404, 10008);
}

#[tokio::test]
async fn authors_and_moderators_delete_and_viewers_get_message_delete() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&owner.token, intents::DEFAULT).await;

    let own = member.api.say(&g.general, "delete me").await;
    let own_id = own["id"].as_str().unwrap();
    delete(&member.api, &g.general, own_id).await.ok(204);
    let event = watcher
        .expect_dispatch_where("MESSAGE_DELETE", EVENT_TIMEOUT, |d| d["id"] == own["id"])
        .await;
    assert_eq!(
        event,
        json!({ "id": own_id, "channel_id": g.general, "guild_id": g.id })
    );
    member.api.message(&g.general, own_id).await.err(404, 10008);
    delete(&member.api, &g.general, own_id)
        .await
        .err(404, 10008);

    // A member may not delete another's message; the owner (MANAGE_MESSAGES) may.
    let owners = owner.api.say(&g.general, "owner's").await;
    delete(&member.api, &g.general, owners["id"].as_str().unwrap())
        .await
        .err(403, 50013);
    let members = member.api.say(&g.general, "moderated").await;
    delete(&owner.api, &g.general, members["id"].as_str().unwrap())
        .await
        .ok(204);
    let history = owner.api.messages(&g.general, "").await.ok(200);
    let ids: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, vec![&owners["id"]]);
}

#[tokio::test]
async fn bulk_delete_checks_its_input_and_sends_one_event() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(member.api.say(&g.general, &format!("m{n}")).await["id"].clone());
    }

    bulk(&owner.api, &g.general, json!([ids[0]]))
        .await
        .form_error_code("messages", "BASE_TYPE_MIN_LENGTH");
    let many: Vec<String> = (0..101).map(|n| (u64::MAX / 2 - n).to_string()).collect();
    bulk(&owner.api, &g.general, json!(many))
        .await
        .form_error_code("messages", "BASE_TYPE_MAX_LENGTH");
    bulk(&owner.api, &g.general, json!([ids[0], ids[0]]))
        .await
        .err(400, 50035);
    let old = ((15 * 24 * 3600 * 1000u64) + 1) << 22; // 15 days after the epoch: long ago
    bulk(&owner.api, &g.general, json!([ids[0], old.to_string()]))
        .await
        .err(400, 50034);
    bulk(&owner.api, &g.general, json!(["nope", ids[0]]))
        .await
        .err(400, 50035);
    bulk(&member.api, &g.general, json!([ids[0], ids[1]]))
        .await
        .err(403, 50013);
    assert_eq!(
        owner
            .api
            .messages(&g.general, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // Three real ids and one that is not a message here: the three go, in one event.
    let unknown = (ids[3].as_str().unwrap().parse::<u64>().unwrap() + 1).to_string();
    bulk(
        &owner.api,
        &g.general,
        json!([ids[0], ids[1], ids[2], unknown]),
    )
    .await
    .ok(204);
    let event = watcher
        .expect_dispatch("MESSAGE_DELETE_BULK", EVENT_TIMEOUT)
        .await;
    let mut deleted: Vec<Value> = event["ids"].as_array().unwrap().clone();
    deleted.sort_by_key(|v| v.as_str().unwrap().parse::<u64>().unwrap());
    assert_eq!(deleted, ids[..3].to_vec());
    assert_eq!(event["channel_id"], json!(g.general));
    assert_eq!(event["guild_id"], json!(g.id));
    let left = owner.api.messages(&g.general, "").await.ok(200);
    assert_eq!(left.as_array().unwrap().len(), 1);
    assert_eq!(left[0]["id"], ids[3]);
}
