//! Reactions (`/channels/{id}/messages/{mid}/reactions...`) and the guild emojis they may use
//! (`/guilds/{id}/emojis...`): every route, the four reaction events and GUILD_EMOJIS_UPDATE with
//! their intents, permissions, and bad input.
mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};

const ADD_REACTIONS: u64 = 1 << 6;
const MANAGE_MESSAGES: u64 = 1 << 13;
const READ_MESSAGE_HISTORY: u64 = 1 << 16;
const USE_EXTERNAL_EMOJIS: u64 = 1 << 18;
const MANAGE_GUILD_EXPRESSIONS: u64 = 1 << 30;
const CREATE_GUILD_EXPRESSIONS: u64 = 1 << 43;

const GUILD_EXPRESSIONS: u64 = 1 << 3;
const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
/// What the watchers in these tests identify with.
const WATCH: u64 = intents::DEFAULT | GUILD_MESSAGE_REACTIONS | GUILD_EXPRESSIONS;

/// URL-encodes an emoji for the path, as bot libraries do.
fn enc(emoji: &str) -> String {
    percent_encoding::utf8_percent_encode(emoji, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn reactions(channel: &str, message: &Value) -> String {
    format!("/channels/{channel}/messages/{}/reactions", sid(message))
}

fn mine(channel: &str, message: &Value, emoji: &str) -> String {
    format!("{}/{}/@me", reactions(channel, message), enc(emoji))
}

fn users_of(channel: &str, message: &Value, emoji: &str, query: &str) -> String {
    format!("{}/{}{query}", reactions(channel, message), enc(emoji))
}

fn user_ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(sid)
        .collect()
}

fn png_uri() -> String {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend_from_slice(&[0u8; 32]);
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

fn gif_uri() -> String {
    format!(
        "data:image/gif;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(b"GIF89a\x01\x00\x01\x00")
    )
}

async fn everyone_overwrite(owner: &User, g: &Guild, allow: u64, deny: u64) {
    owner
        .api
        .put_overwrite(&g.general, &g.id, &ow3(&g.id, 0, allow, deny))
        .await
        .ok(204);
}

#[tokio::test]
async fn react_list_and_unreact_with_events() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let third = srv.joined_user(&owner, &g, "third").await;
    let mut watcher = srv.gw(&member.token, WATCH).await;
    let mut no_intent = srv.gw(&owner.token, intents::DEFAULT).await;

    let m = owner.api.say(&g.general, "react to me").await;
    let created = watcher
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m["id"])
        .await;
    assert!(created.get("reactions").is_none(), "{created}");
    assert!(m.get("reactions").is_none(), "{m}");

    member.api.put(&mine(&g.general, &m, "👍")).await.ok(204);
    let add = watcher
        .expect_dispatch("MESSAGE_REACTION_ADD", EVENT_TIMEOUT)
        .await;
    assert_eq!(add["user_id"], json!(member.id));
    assert_eq!(add["channel_id"], json!(g.general));
    assert_eq!(add["message_id"], m["id"]);
    assert_eq!(add["guild_id"], json!(g.id));
    assert_eq!(add["member"]["user"]["id"], json!(member.id));
    assert!(add["member"]["roles"].is_array(), "{add}");
    assert_eq!(add["emoji"], json!({"id": null, "name": "👍"}));
    assert_eq!(add["message_author_id"], json!(owner.id));
    assert_eq!(add["burst"], false);
    assert_eq!(add["type"], 0);
    no_intent
        .expect_no_dispatch("MESSAGE_REACTION_ADD", QUIET)
        .await;

    owner.api.put(&mine(&g.general, &m, "👍")).await.ok(204);
    watcher
        .expect_dispatch_where("MESSAGE_REACTION_ADD", EVENT_TIMEOUT, |d| {
            d["user_id"] == json!(owner.id)
        })
        .await;
    // Reacting twice changes nothing and announces nothing.
    owner.api.put(&mine(&g.general, &m, "👍")).await.ok(204);
    owner.api.put(&mine(&g.general, &m, "🎉")).await.ok(204);
    watcher
        .expect_dispatch_where("MESSAGE_REACTION_ADD", EVENT_TIMEOUT, |d| {
            d["emoji"]["name"] == "🎉"
        })
        .await;
    watcher
        .expect_no_dispatch("MESSAGE_REACTION_ADD", QUIET)
        .await;

    // The message lists its reactions, first-used emoji first, `me` per caller.
    let seen = member.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(
        seen["reactions"],
        json!([
            {"count": 2, "count_details": {"burst": 0, "normal": 2}, "me": true, "me_burst": false,
             "burst_colors": [], "emoji": {"id": null, "name": "👍"}},
            {"count": 1, "count_details": {"burst": 0, "normal": 1}, "me": false, "me_burst": false,
             "burst_colors": [], "emoji": {"id": null, "name": "🎉"}},
        ])
    );
    let by_third = third.api.messages(&g.general, "").await.ok(200);
    let listed = by_third
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == m["id"])
        .unwrap();
    assert_eq!(listed["reactions"][0]["count"], 2);
    assert_eq!(listed["reactions"][0]["me"], false);
    assert_eq!(listed["reactions"][1]["me"], false);
    let by_owner = owner.api.messages(&g.general, "limit=5").await.ok(200);
    assert_eq!(by_owner[0]["reactions"][1]["me"], true);

    // Users who reacted, by ascending id, paged with after/limit.
    let mut both = vec![owner.id.clone(), member.id.clone()];
    both.sort_by_key(|id| id.parse::<u64>().unwrap());
    let all = member
        .api
        .get(&users_of(&g.general, &m, "👍", ""))
        .await
        .ok(200);
    assert_eq!(user_ids(&all), both);
    assert!(all[0]["username"].is_string());
    let first = member
        .api
        .get(&users_of(&g.general, &m, "👍", "?limit=1"))
        .await
        .ok(200);
    assert_eq!(user_ids(&first), vec![both[0].clone()]);
    let rest = member
        .api
        .get(&users_of(
            &g.general,
            &m,
            "👍",
            &format!("?limit=100&after={}", both[0]),
        ))
        .await
        .ok(200);
    assert_eq!(user_ids(&rest), vec![both[1].clone()]);
    let burst = member
        .api
        .get(&users_of(&g.general, &m, "👍", "?type=1"))
        .await
        .ok(200);
    assert_eq!(burst, json!([]));
    let nobody = member
        .api
        .get(&users_of(&g.general, &m, "🙂", ""))
        .await
        .ok(200);
    assert_eq!(nobody, json!([]));

    // Taking one's own reaction back.
    member.api.delete(&mine(&g.general, &m, "👍")).await.ok(204);
    let removed = watcher
        .expect_dispatch("MESSAGE_REACTION_REMOVE", EVENT_TIMEOUT)
        .await;
    assert_eq!(removed["user_id"], json!(member.id));
    assert_eq!(removed["message_id"], m["id"]);
    assert_eq!(removed["channel_id"], json!(g.general));
    assert_eq!(removed["guild_id"], json!(g.id));
    assert_eq!(removed["emoji"], json!({"id": null, "name": "👍"}));
    assert_eq!(removed["burst"], false);
    assert_eq!(removed["type"], 0);
    member.api.delete(&mine(&g.general, &m, "👍")).await.ok(204);
    watcher
        .expect_no_dispatch("MESSAGE_REACTION_REMOVE", QUIET)
        .await;
    let after = member
        .api
        .get(&users_of(&g.general, &m, "👍", ""))
        .await
        .ok(200);
    assert_eq!(user_ids(&after), vec![owner.id.clone()]);
    let seen = member.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(seen["reactions"][0]["count"], 1);
    assert_eq!(seen["reactions"][0]["me"], false);
    no_intent
        .expect_no_dispatch("MESSAGE_REACTION_REMOVE", QUIET)
        .await;
}

#[tokio::test]
async fn removing_all_or_one_emoji_needs_manage_messages() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&member.token, WATCH).await;
    let m = member.api.say(&g.general, "busy").await;
    for emoji in ["👍", "🎉"] {
        member.api.put(&mine(&g.general, &m, emoji)).await.ok(204);
        owner.api.put(&mine(&g.general, &m, emoji)).await.ok(204);
    }

    // A member without MANAGE_MESSAGES removes neither others' reactions nor all of them.
    let owners = format!("{}/{}/{}", reactions(&g.general, &m), enc("👍"), owner.id);
    member.api.delete(&owners).await.err(403, 50013);
    member
        .api
        .delete(&users_of(&g.general, &m, "👍", ""))
        .await
        .err(403, 50013);
    member
        .api
        .delete(&reactions(&g.general, &m))
        .await
        .err(403, 50013);
    // Naming oneself by id is allowed.
    let own = format!("{}/{}/{}", reactions(&g.general, &m), enc("🎉"), member.id);
    member.api.delete(&own).await.ok(204);
    watcher
        .expect_dispatch_where("MESSAGE_REACTION_REMOVE", EVENT_TIMEOUT, |d| {
            d["user_id"] == json!(member.id) && d["emoji"]["name"] == "🎉"
        })
        .await;

    // The owner (all permissions) removes the member's reaction.
    let members = format!("{}/{}/{}", reactions(&g.general, &m), enc("👍"), member.id);
    owner.api.delete(&members).await.ok(204);
    watcher
        .expect_dispatch_where("MESSAGE_REACTION_REMOVE", EVENT_TIMEOUT, |d| {
            d["user_id"] == json!(member.id) && d["emoji"]["name"] == "👍"
        })
        .await;

    // One emoji, then everything.
    owner
        .api
        .delete(&users_of(&g.general, &m, "👍", ""))
        .await
        .ok(204);
    let gone = watcher
        .expect_dispatch("MESSAGE_REACTION_REMOVE_EMOJI", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        gone,
        json!({"channel_id": g.general, "guild_id": g.id, "message_id": m["id"],
               "emoji": {"id": null, "name": "👍"}})
    );
    let left = owner.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(left["reactions"].as_array().unwrap().len(), 1);
    assert_eq!(left["reactions"][0]["emoji"]["name"], "🎉");

    // A moderator role with MANAGE_MESSAGES may clear the message.
    let role = srv.role(&owner, &g, "mod", MANAGE_MESSAGES).await;
    srv.give3(&owner, &g, &member.id, &sid(&role)).await;
    member.api.delete(&reactions(&g.general, &m)).await.ok(204);
    let all = watcher
        .expect_dispatch("MESSAGE_REACTION_REMOVE_ALL", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        all,
        json!({"channel_id": g.general, "message_id": m["id"], "guild_id": g.id})
    );
    let bare = owner.api.message(&g.general, &sid(&m)).await.ok(200);
    assert!(bare.get("reactions").is_none(), "{bare}");
    // Nothing left: no event.
    member.api.delete(&reactions(&g.general, &m)).await.ok(204);
    watcher
        .expect_no_dispatch("MESSAGE_REACTION_REMOVE_ALL", QUIET)
        .await;
}

#[tokio::test]
async fn reacting_needs_history_and_add_reactions_for_new_emoji() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let m = owner.api.say(&g.general, "guarded").await;

    // Without ADD_REACTIONS: only emoji already on the message.
    everyone_overwrite(&owner, &g, 0, ADD_REACTIONS).await;
    member
        .api
        .put(&mine(&g.general, &m, "🔥"))
        .await
        .err(403, 50013);
    owner.api.put(&mine(&g.general, &m, "🔥")).await.ok(204);
    member.api.put(&mine(&g.general, &m, "🔥")).await.ok(204);
    let users = member
        .api
        .get(&users_of(&g.general, &m, "🔥", ""))
        .await
        .ok(200);
    assert_eq!(users.as_array().unwrap().len(), 2);

    // Without READ_MESSAGE_HISTORY nothing works on reactions.
    everyone_overwrite(&owner, &g, 0, READ_MESSAGE_HISTORY).await;
    member
        .api
        .put(&mine(&g.general, &m, "🔥"))
        .await
        .err(403, 50013);
    member
        .api
        .get(&users_of(&g.general, &m, "🔥", ""))
        .await
        .err(403, 50013);

    // Without VIEW_CHANNEL: missing access; not a member: the channel is unknown.
    everyone_overwrite(&owner, &g, 0, perm::VIEW_CHANNEL).await;
    member
        .api
        .put(&mine(&g.general, &m, "👍"))
        .await
        .err(403, 50001);
    outsider
        .api
        .put(&mine(&g.general, &m, "👍"))
        .await
        .err(404, 10003);
    outsider
        .api
        .get(&users_of(&g.general, &m, "🔥", ""))
        .await
        .err(404, 10003);
    outsider
        .api
        .delete(&reactions(&g.general, &m))
        .await
        .err(404, 10003);

    // Members who cannot see the channel hear nothing of its reactions.
    let mut blind = srv.gw(&member.token, WATCH).await;
    owner.api.put(&mine(&g.general, &m, "👀")).await.ok(204);
    blind
        .expect_no_dispatch("MESSAGE_REACTION_ADD", QUIET)
        .await;
    let users = owner
        .api
        .get(&users_of(&g.general, &m, "🔥", ""))
        .await
        .ok(200);
    assert_eq!(users.as_array().unwrap().len(), 2, "{users}");
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let m = owner.api.say(&g.general, "target").await;
    let base = reactions(&g.general, &m);

    for raw in [
        "garbage",
        "x",
        "name%3A",
        "%3A123",
        "nope%3A123",
        "a%3Anope%3A123",
    ] {
        member
            .api
            .put(&format!("{base}/{raw}/@me"))
            .await
            .err(400, 10014);
        member
            .api
            .get(&format!("{base}/{raw}"))
            .await
            .err(400, 10014);
        member
            .api
            .delete(&format!("{base}/{raw}/@me"))
            .await
            .err(400, 10014);
        owner
            .api
            .delete(&format!("{base}/{raw}"))
            .await
            .err(400, 10014);
    }
    // An unknown message or a malformed id.
    let unknown = format!(
        "/channels/{}/messages/{}/reactions/{}/@me",
        g.general,
        bogus_id(),
        enc("👍")
    );
    member.api.put(&unknown).await.err(404, 10008);
    member.api.delete(&unknown).await.err(404, 10008);
    let malformed = format!(
        "/channels/{}/messages/abc/reactions/{}/@me",
        g.general,
        enc("👍")
    );
    member.api.put(&malformed).await.err(400, 50035);
    // Limits outside 1..=100 and unknown types.
    owner.api.put(&mine(&g.general, &m, "👍")).await.ok(204);
    for query in ["?limit=0", "?limit=101", "?type=2", "?limit=x"] {
        member
            .api
            .get(&users_of(&g.general, &m, "👍", query))
            .await
            .err(400, 50035);
    }
    member
        .api
        .get(&users_of(&g.general, &m, "👍", "?limit=100"))
        .await
        .ok(200);

    // Twenty different emojis at most.
    let twenty = [
        "😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰",
        "😗", "😙", "😚", "🙂",
    ];
    for emoji in twenty {
        owner.api.put(&mine(&g.general, &m, emoji)).await.ok(204);
    }
    member
        .api
        .put(&mine(&g.general, &m, "🤗"))
        .await
        .err(400, 30010);
    // Adding to an emoji already there still works.
    member.api.put(&mine(&g.general, &m, "😀")).await.ok(204);
    let seen = owner.api.message(&g.general, &sid(&m)).await.ok(200);
    let names: Vec<&str> = seen["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["emoji"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 20);
    assert_eq!(names[0], "👍");
    assert!(!names.contains(&"🤗"));
    assert_eq!(seen["reactions"][1]["count"], 2);
}

#[tokio::test]
async fn reactions_go_with_their_message() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let m = member.api.say(&g.general, "short-lived").await;
    member.api.put(&mine(&g.general, &m, "👍")).await.ok(204);
    owner
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, sid(&m)))
        .await
        .ok(204);
    member
        .api
        .get(&users_of(&g.general, &m, "👍", ""))
        .await
        .err(404, 10008);
    member
        .api
        .put(&mine(&g.general, &m, "👍"))
        .await
        .err(404, 10008);
}

#[tokio::test]
async fn guild_emojis_and_custom_reactions() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&member.token, WATCH).await;
    let mut no_intent = srv.gw(&owner.token, intents::DEFAULT).await;
    let emojis_path = format!("/guilds/{}/emojis", g.id);

    // Creating needs CREATE_GUILD_EXPRESSIONS; bad names and images are form errors.
    let body = json!({"name": "party_blob", "image": png_uri()});
    member.api.post(&emojis_path, &body).await.err(403, 50013);
    let bad = owner
        .api
        .post(&emojis_path, &json!({"name": "x", "image": png_uri()}))
        .await;
    bad.err(400, 50035);
    bad.form_error_code("name", "BASE_TYPE_BAD_LENGTH");
    let bad = owner
        .api
        .post(
            &emojis_path,
            &json!({"name": "has space", "image": "data:image/png;base64,R0lGODlh"}),
        )
        .await;
    bad.err(400, 50035);
    bad.form_error_code("image", "IMAGE_INVALID");
    owner
        .api
        .post(&emojis_path, &json!({"name": "noimage"}))
        .await
        .err(400, 50035);
    owner
        .api
        .post(
            &emojis_path,
            &json!({"name": "ghost_role", "image": png_uri(), "roles": [bogus_id()]}),
        )
        .await
        .err(400, 50035);
    assert_eq!(owner.api.get(&emojis_path).await.ok(200), json!([]));

    let emoji = owner.api.post(&emojis_path, &body).await.ok(201);
    let emoji_id = sid(&emoji);
    assert_eq!(emoji["name"], "party_blob");
    assert_eq!(emoji["roles"], json!([]));
    assert_eq!(emoji["user"]["id"], json!(owner.id));
    assert_eq!(emoji["require_colons"], true);
    assert_eq!(emoji["managed"], false);
    assert_eq!(emoji["animated"], false);
    assert_eq!(emoji["available"], true);
    let update = watcher
        .expect_dispatch("GUILD_EMOJIS_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(update["guild_id"], json!(g.id));
    assert_eq!(update["emojis"][0]["id"], json!(emoji_id));
    assert!(update["emojis"][0].get("user").is_none());
    no_intent
        .expect_no_dispatch("GUILD_EMOJIS_UPDATE", QUIET)
        .await;

    // Listed for members (without the creator), in the guild and in GUILD_CREATE.
    let listed = member.api.get(&emojis_path).await.ok(200);
    assert_eq!(user_ids(&listed), vec![emoji_id.clone()]);
    assert!(listed[0].get("user").is_none(), "{listed}");
    let one = owner
        .api
        .get(&format!("{emojis_path}/{emoji_id}"))
        .await
        .ok(200);
    assert_eq!(one["user"]["id"], json!(owner.id));
    member
        .api
        .get(&format!("{emojis_path}/{}", bogus_id()))
        .await
        .err(404, 10014);
    let guild = member.api.guild(&g.id).await.ok(200);
    assert_eq!(guild["emojis"][0]["name"], "party_blob");
    let fresh = srv.gw(&member.token, WATCH).await;
    assert_eq!(
        fresh.guild_create(&g.id)["emojis"][0]["id"],
        json!(emoji_id)
    );

    // The image is served at the CDN path, as uploaded, without a token.
    let served = reqwest::get(format!("{}/emojis/{emoji_id}.png", srv.base()))
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    let uploaded = base64::engine::general_purpose::STANDARD
        .decode(png_uri().trim_start_matches("data:image/png;base64,"))
        .unwrap();
    assert_eq!(served.bytes().await.unwrap(), uploaded);
    let missing = reqwest::get(format!("{}/emojis/{}.png", srv.base(), bogus_id()))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Reacting with it as name:id, URL-encoded.
    let m = owner.api.say(&g.general, "custom").await;
    let custom = format!("party_blob:{emoji_id}");
    member.api.put(&mine(&g.general, &m, &custom)).await.ok(204);
    let add = watcher
        .expect_dispatch("MESSAGE_REACTION_ADD", EVENT_TIMEOUT)
        .await;
    assert_eq!(
        add["emoji"],
        json!({"id": emoji_id, "name": "party_blob", "animated": false})
    );
    // The name in the path does not have to match; the id decides.
    owner
        .api
        .put(&mine(&g.general, &m, &format!("whatever:{emoji_id}")))
        .await
        .ok(204);
    let users = owner
        .api
        .get(&users_of(&g.general, &m, &custom, ""))
        .await
        .ok(200);
    assert_eq!(users.as_array().unwrap().len(), 2);
    let seen = member.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(seen["reactions"][0]["count"], 2);
    assert_eq!(seen["reactions"][0]["emoji"]["id"], json!(emoji_id));
    member
        .api
        .put(&mine(&g.general, &m, &format!("ghost:{}", bogus_id())))
        .await
        .err(400, 10014);

    // Renaming: MANAGE_GUILD_EXPRESSIONS (or one's own with CREATE_GUILD_EXPRESSIONS).
    let one_path = format!("{emojis_path}/{emoji_id}");
    member
        .api
        .patch(&one_path, &json!({"name": "mine_now"}))
        .await
        .err(403, 50013);
    member.api.delete(&one_path).await.err(403, 50013);
    let creator = srv
        .role(&owner, &g, "creator", CREATE_GUILD_EXPRESSIONS)
        .await;
    srv.give3(&owner, &g, &member.id, &sid(&creator)).await;
    member
        .api
        .patch(&one_path, &json!({"name": "mine_now"}))
        .await
        .err(403, 50013);
    let renamed = owner
        .api
        .patch(
            &one_path,
            &json!({"name": "blob_party", "roles": [sid(&creator)]}),
        )
        .await
        .ok(200);
    assert_eq!(renamed["name"], "blob_party");
    assert_eq!(renamed["roles"], json!([sid(&creator)]));
    let update = watcher
        .expect_dispatch_where("GUILD_EMOJIS_UPDATE", EVENT_TIMEOUT, |d| {
            d["emojis"][0]["name"] == "blob_party"
        })
        .await;
    assert_eq!(update["emojis"].as_array().unwrap().len(), 1);
    // Restricted to a role: only its holders may react with it.
    owner
        .api
        .put(&mine(&g.general, &m, &custom))
        .await
        .err(400, 10014);
    member.api.put(&mine(&g.general, &m, &custom)).await.ok(204);
    owner
        .api
        .patch(&one_path, &json!({"name": "bad name!"}))
        .await
        .err(400, 50035);

    // A member with CREATE_GUILD_EXPRESSIONS manages their own (animated) emoji.
    let gif = member
        .api
        .post(&emojis_path, &json!({"name": "dance", "image": gif_uri()}))
        .await
        .ok(201);
    assert_eq!(gif["animated"], true);
    let gif_path = format!("{emojis_path}/{}", sid(&gif));
    member
        .api
        .patch(&gif_path, &json!({"name": "dance2"}))
        .await
        .ok(200);
    member
        .api
        .put(&mine(&g.general, &m, &format!("a:dance2:{}", sid(&gif))))
        .await
        .ok(204);
    let add = watcher
        .expect_dispatch_where("MESSAGE_REACTION_ADD", EVENT_TIMEOUT, |d| {
            d["emoji"]["id"] == gif["id"]
        })
        .await;
    assert_eq!(add["emoji"]["animated"], true);
    member.api.delete(&gif_path).await.ok(204);
    let manager = srv
        .role(&owner, &g, "manager", MANAGE_GUILD_EXPRESSIONS)
        .await;
    srv.give3(&owner, &g, &member.id, &sid(&manager)).await;
    member
        .api
        .patch(&one_path, &json!({"name": "managed_now"}))
        .await
        .ok(200);

    // Deleted: unknown for the emoji routes and for new reactions; existing reactions stay
    // readable and removable.
    owner.api.delete(&one_path).await.ok(204);
    owner.api.get(&one_path).await.err(404, 10014);
    owner.api.delete(&one_path).await.err(404, 10014);
    let update = watcher
        .expect_dispatch_where("GUILD_EMOJIS_UPDATE", EVENT_TIMEOUT, |d| {
            d["emojis"] == json!([])
        })
        .await;
    assert_eq!(update["guild_id"], json!(g.id));
    let other = owner.api.say(&g.general, "after").await;
    member
        .api
        .put(&mine(&g.general, &other, &custom))
        .await
        .err(400, 10014);
    let users = owner
        .api
        .get(&users_of(&g.general, &m, &custom, ""))
        .await
        .ok(200);
    assert_eq!(users.as_array().unwrap().len(), 2);
    member
        .api
        .delete(&mine(&g.general, &m, &custom))
        .await
        .ok(204);
    let removed = watcher
        .expect_dispatch("MESSAGE_REACTION_REMOVE", EVENT_TIMEOUT)
        .await;
    assert_eq!(removed["emoji"]["id"], json!(emoji_id));
}

#[tokio::test]
async fn emojis_of_other_guilds_need_membership_and_use_external_emojis() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let other_owner = srv.user("elsewhere").await;
    let other = srv.guild(&other_owner, "Elsewhere").await;
    let foreign = other_owner
        .api
        .post(
            &format!("/guilds/{}/emojis", other.id),
            &json!({"name": "foreign", "image": png_uri()}),
        )
        .await
        .ok(201);
    let name = format!("foreign:{}", sid(&foreign));
    let m = owner.api.say(&g.general, "external").await;

    // Not a member of the emoji's guild: as if it did not exist.
    member
        .api
        .put(&mine(&g.general, &m, &name))
        .await
        .err(400, 10014);
    // A member there, but USE_EXTERNAL_EMOJIS denied here.
    srv.join(&other_owner, &other, &member).await;
    everyone_overwrite(&owner, &g, 0, USE_EXTERNAL_EMOJIS).await;
    member
        .api
        .put(&mine(&g.general, &m, &name))
        .await
        .err(403, 50013);
    everyone_overwrite(&owner, &g, USE_EXTERNAL_EMOJIS, 0).await;
    member.api.put(&mine(&g.general, &m, &name)).await.ok(204);
    let seen = owner.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(seen["reactions"][0]["emoji"]["name"], "foreign");
    // Emojis of another guild cannot be read or edited through this one.
    owner
        .api
        .get(&format!("/guilds/{}/emojis/{}", g.id, sid(&foreign)))
        .await
        .err(404, 10014);
    owner
        .api
        .delete(&format!("/guilds/{}/emojis/{}", g.id, sid(&foreign)))
        .await
        .err(404, 10014);
    owner
        .api
        .get(&format!("/guilds/{}/emojis", other.id))
        .await
        .err(404, 10004);
}
