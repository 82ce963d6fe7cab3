//! The guild audit log: moderation and management actions leave entries (with the
//! `X-Audit-Log-Reason` header's reason) that `GET /guilds/{id}/audit-logs` lists with
//! VIEW_AUDIT_LOG, filtered and paged like Discord's; GUILD_AUDIT_LOG_ENTRY_CREATE reaches
//! GUILD_MODERATION sessions that may view the log. Every test runs against the embedded store
//! and against MongoDB (with the Redis bus; `source scripts/mongo-service.sh` and
//! `scripts/redis-service.sh`).
mod common;
use common::intents3 as intents;
use common::perm3 as perm;
use common::*;
use serde_json::{json, Value};

/// Instantiates each scenario once per store: `embedded::<name>` and `mongo::<name>`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $name() {
                    let srv = super::Server::start().await;
                    super::$name(&srv).await;
                }
            )*
        }
        mod mongo {
            $(
                #[tokio::test]
                async fn $name() {
                    let backends = super::common::cluster::Backends::fresh();
                    let srv = super::Server::start_with(backends.node_opts(1)).await;
                    super::$name(&srv).await;
                }
            )*
        }
    };
}

both_stores!(
    ban_kick_and_unban_are_logged_with_their_reasons,
    member_channel_role_and_message_actions,
    webhooks_are_logged_and_listed,
    emojis_are_logged,
    viewing_needs_view_audit_log,
    filters_and_pagination,
    limit_and_query_validation,
    failed_actions_leave_no_entry,
    entry_create_event_reaches_moderators_only,
);

const VIEW_AUDIT_LOG: u64 = perm::VIEW_AUDIT_LOG;

/// Action types (Discord's AuditLogEvent).
mod action {
    pub const GUILD_UPDATE: i64 = 1;
    pub const CHANNEL_CREATE: i64 = 10;
    pub const CHANNEL_UPDATE: i64 = 11;
    pub const CHANNEL_DELETE: i64 = 12;
    pub const CHANNEL_OVERWRITE_CREATE: i64 = 13;
    pub const CHANNEL_OVERWRITE_DELETE: i64 = 15;
    pub const MEMBER_KICK: i64 = 20;
    pub const MEMBER_BAN_ADD: i64 = 22;
    pub const MEMBER_BAN_REMOVE: i64 = 23;
    pub const MEMBER_UPDATE: i64 = 24;
    pub const MEMBER_ROLE_UPDATE: i64 = 25;
    pub const ROLE_CREATE: i64 = 30;
    pub const ROLE_UPDATE: i64 = 31;
    pub const ROLE_DELETE: i64 = 32;
    pub const INVITE_CREATE: i64 = 40;
    pub const WEBHOOK_CREATE: i64 = 50;
    pub const WEBHOOK_UPDATE: i64 = 51;
    pub const WEBHOOK_DELETE: i64 = 52;
    pub const EMOJI_CREATE: i64 = 60;
    pub const EMOJI_UPDATE: i64 = 61;
    pub const EMOJI_DELETE: i64 = 62;
    pub const MESSAGE_DELETE: i64 = 72;
    pub const MESSAGE_BULK_DELETE: i64 = 73;
    pub const MESSAGE_PIN: i64 = 74;
    pub const MESSAGE_UNPIN: i64 = 75;
}

/// `GET /guilds/{id}/audit-logs?{query}`.
async fn audit_log(api: &Api, guild_id: &str, query: &str) -> Resp {
    api.get(&format!("/guilds/{guild_id}/audit-logs?{query}"))
        .await
}

/// The log's entries (200), newest first.
async fn entries(api: &Api, guild_id: &str, query: &str) -> Vec<Value> {
    let page = audit_log(api, guild_id, query).await.ok(200);
    page["audit_log_entries"]
        .as_array()
        .unwrap_or_else(|| panic!("no audit_log_entries in {page}"))
        .clone()
}

/// The newest entry of `action_type`.
async fn newest(api: &Api, guild_id: &str, action_type: i64) -> Value {
    entries(api, guild_id, &format!("action_type={action_type}&limit=1"))
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no entry of type {action_type}"))
}

/// Discord's entry shape.
fn check_entry(e: &Value, ctx: &str) {
    assert_snowflake(&e["id"], &format!("{ctx}.id"));
    assert!(e["action_type"].is_i64(), "{ctx}: action_type in {e}");
    assert_snowflake(&e["user_id"], &format!("{ctx}.user_id"));
    let o = e.as_object().unwrap();
    assert!(o.contains_key("target_id"), "{ctx}: target_id in {e}");
    assert!(o.contains_key("reason"), "{ctx}: reason in {e}");
    assert!(
        !o.contains_key("guild_id"),
        "{ctx}: no guild_id over REST: {e}"
    );
    if let Some(changes) = e.get("changes") {
        for c in changes.as_array().unwrap() {
            assert!(c["key"].is_string(), "{ctx}: change key in {e}");
        }
    }
}

/// The value of `key` in an entry's changes: (old, new).
fn change(e: &Value, key: &str) -> (Value, Value) {
    let c = e["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("no changes in {e}"))
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no change {key} in {e}"));
    (c["old_value"].clone(), c["new_value"].clone())
}

/// Calls `method path` as `api` with an `X-Audit-Log-Reason`.
async fn with_reason(
    api: &Api,
    method: &str,
    path: &str,
    body: Option<&Value>,
    reason: &str,
) -> Resp {
    api.req_h(method, path, body, &[("X-Audit-Log-Reason", reason)])
        .await
}

async fn ban_kick_and_unban_are_logged_with_their_reasons(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let other = srv.joined_user(&owner, &g, "other").await;

    // A ban with a URL-encoded reason.
    owner
        .api
        .ban_with_reason(&g.id, &member.id, &json!({}), "spam%20and%20%C3%A9mojis")
        .await
        .ok(204);
    let page = audit_log(&owner.api, &g.id, "").await.ok(200);
    for key in [
        "audit_log_entries",
        "users",
        "webhooks",
        "integrations",
        "threads",
        "application_commands",
        "auto_moderation_rules",
        "guild_scheduled_events",
    ] {
        assert!(page[key].is_array(), "{key} in {page}");
    }
    let ban = &page["audit_log_entries"][0];
    check_entry(ban, "ban");
    assert_eq!(ban["action_type"], action::MEMBER_BAN_ADD, "{ban}");
    assert_eq!(ban["user_id"], owner.id.as_str());
    assert_eq!(ban["target_id"], member.id.as_str());
    assert_eq!(ban["reason"], "spam and émojis");
    // Both the moderator and the target come along in `users`.
    let users: Vec<&str> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert!(users.contains(&owner.id.as_str()), "{page}");
    assert!(users.contains(&member.id.as_str()), "{page}");
    for u in page["users"].as_array().unwrap() {
        check_user(u, "audit log user");
    }

    // Without the header the reason is null.
    owner.api.kick(&g.id, &other.id).await.ok(204);
    let kick = newest(&owner.api, &g.id, action::MEMBER_KICK).await;
    assert_eq!(kick["target_id"], other.id.as_str());
    assert!(kick["reason"].is_null(), "{kick}");

    // Unban, with a reason longer than Discord's 512 characters: kept to 512.
    let long = "r".repeat(600);
    with_reason(
        &owner.api,
        "DELETE",
        &format!("/guilds/{}/bans/{}", g.id, member.id),
        None,
        &long,
    )
    .await
    .ok(204);
    let unban = newest(&owner.api, &g.id, action::MEMBER_BAN_REMOVE).await;
    assert_eq!(unban["target_id"], member.id.as_str());
    assert_eq!(unban["reason"].as_str().unwrap().chars().count(), 512);

    let all = entries(&owner.api, &g.id, "").await;
    let kinds: Vec<i64> = all
        .iter()
        .map(|e| e["action_type"].as_i64().unwrap())
        .collect();
    // Newest first; the invites made by `world()` are older.
    assert_eq!(
        &kinds[..3],
        &[
            action::MEMBER_BAN_REMOVE,
            action::MEMBER_KICK,
            action::MEMBER_BAN_ADD
        ]
    );
    assert!(kinds.contains(&action::INVITE_CREATE), "{kinds:?}");
}

async fn member_channel_role_and_message_actions(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let r = "X-Audit-Log-Reason";

    // Guild update.
    owner
        .api
        .req_h(
            "PATCH",
            &format!("/guilds/{}", g.id),
            Some(&json!({"name": "Renamed"})),
            &[(r, "rebrand")],
        )
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::GUILD_UPDATE).await;
    assert_eq!(e["target_id"], g.id.as_str());
    assert_eq!(change(&e, "name"), (json!("World"), json!("Renamed")));
    assert_eq!(e["reason"], "rebrand");

    // Role create / update / delete, and member role changes.
    let role = owner
        .api
        .req_h(
            "POST",
            &format!("/guilds/{}/roles", g.id),
            Some(&json!({"name": "mods"})),
            &[(r, "need mods")],
        )
        .await
        .ok(200);
    let role_id = sid(&role);
    let e = newest(&owner.api, &g.id, action::ROLE_CREATE).await;
    assert_eq!(e["target_id"], role_id.as_str());
    assert_eq!(change(&e, "name"), (Value::Null, json!("mods")));
    assert_eq!(e["reason"], "need mods");
    owner
        .api
        .patch_role(&g.id, &role_id, &json!({"name": "moderators"}))
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::ROLE_UPDATE).await;
    assert_eq!(change(&e, "name"), (json!("mods"), json!("moderators")));
    owner
        .api
        .req_h(
            "PUT",
            &format!("/guilds/{}/members/{}/roles/{}", g.id, member.id, role_id),
            None,
            &[(r, "promoted")],
        )
        .await
        .ok(204);
    let e = newest(&owner.api, &g.id, action::MEMBER_ROLE_UPDATE).await;
    assert_eq!(e["target_id"], member.id.as_str());
    assert_eq!(e["reason"], "promoted");
    assert_eq!(
        change(&e, "$add").1,
        json!([{"id": role_id, "name": "moderators"}])
    );

    // Member nick and timeout.
    let until = iso_from_now(3600);
    owner
        .api
        .req_h(
            "PATCH",
            &format!("/guilds/{}/members/{}", g.id, member.id),
            Some(&json!({"nick": "Nicky", "communication_disabled_until": until})),
            &[(r, "calm down")],
        )
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::MEMBER_UPDATE).await;
    assert_eq!(e["target_id"], member.id.as_str());
    assert_eq!(change(&e, "nick"), (Value::Null, json!("Nicky")));
    assert!(
        change(&e, "communication_disabled_until").1.is_string(),
        "{e}"
    );
    assert_eq!(e["reason"], "calm down");
    // Lifting the timeout: the old value goes, no new one.
    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": null}),
        )
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::MEMBER_UPDATE).await;
    let (old, new) = change(&e, "communication_disabled_until");
    assert!(old.is_string() && new.is_null(), "{e}");
    assert!(e["reason"].is_null(), "{e}");

    owner.api.delete_role(&g.id, &role_id).await.ok(204);
    let e = newest(&owner.api, &g.id, action::ROLE_DELETE).await;
    assert_eq!(e["target_id"], role_id.as_str());
    assert_eq!(change(&e, "name"), (json!("moderators"), Value::Null));

    // Channel create / update / overwrites / delete.
    let c = owner
        .api
        .req_h(
            "POST",
            &format!("/guilds/{}/channels", g.id),
            Some(&json!({"name": "logs"})),
            &[(r, "for logs")],
        )
        .await
        .ok(201);
    let cid = sid(&c);
    let e = newest(&owner.api, &g.id, action::CHANNEL_CREATE).await;
    assert_eq!(e["target_id"], cid.as_str());
    assert_eq!(change(&e, "name").1, json!("logs"));
    assert_eq!(e["reason"], "for logs");
    owner
        .api
        .patch_channel(&cid, &json!({"topic": "all the logs"}))
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::CHANNEL_UPDATE).await;
    assert_eq!(change(&e, "topic"), (Value::Null, json!("all the logs")));
    owner
        .api
        .put_overwrite(
            &cid,
            &member.id,
            &ow3(&member.id, 1, 0, perm::ADD_REACTIONS),
        )
        .await
        .ok(204);
    let e = newest(&owner.api, &g.id, action::CHANNEL_OVERWRITE_CREATE).await;
    assert_eq!(e["target_id"], cid.as_str());
    assert_eq!(e["options"]["id"], member.id.as_str());
    assert_eq!(e["options"]["type"], "1");
    assert_eq!(change(&e, "deny").1, json!(perm::ADD_REACTIONS.to_string()));
    owner.api.delete_overwrite(&cid, &member.id).await.ok(204);
    let e = newest(&owner.api, &g.id, action::CHANNEL_OVERWRITE_DELETE).await;
    assert_eq!(e["options"]["id"], member.id.as_str());

    // Messages: the author's own delete is not logged; a moderator's is.
    let own = member.api.say(&g.general, "mine").await;
    member
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, sid(&own)))
        .await
        .ok(204);
    assert!(
        entries(
            &owner.api,
            &g.id,
            &format!("action_type={}", action::MESSAGE_DELETE)
        )
        .await
        .is_empty(),
        "the author's own delete is not logged"
    );
    let theirs = member.api.say(&g.general, "delete me").await;
    let pinned = member.api.say(&g.general, "pin me").await;
    with_reason(
        &owner.api,
        "PUT",
        &format!("/channels/{}/messages/pins/{}", g.general, sid(&pinned)),
        None,
        "important",
    )
    .await
    .ok(204);
    let e = newest(&owner.api, &g.id, action::MESSAGE_PIN).await;
    assert_eq!(e["target_id"], member.id.as_str());
    assert_eq!(e["options"]["channel_id"], g.general.as_str());
    assert_eq!(e["options"]["message_id"], sid(&pinned).as_str());
    assert_eq!(e["reason"], "important");
    owner
        .api
        .delete(&format!(
            "/channels/{}/messages/pins/{}",
            g.general,
            sid(&pinned)
        ))
        .await
        .ok(204);
    newest(&owner.api, &g.id, action::MESSAGE_UNPIN).await;
    with_reason(
        &owner.api,
        "DELETE",
        &format!("/channels/{}/messages/{}", g.general, sid(&theirs)),
        None,
        "off topic",
    )
    .await
    .ok(204);
    let e = newest(&owner.api, &g.id, action::MESSAGE_DELETE).await;
    assert_eq!(e["target_id"], member.id.as_str());
    assert_eq!(e["options"]["channel_id"], g.general.as_str());
    assert_eq!(e["options"]["count"], "1");
    assert_eq!(e["reason"], "off topic");
    let a = member.api.say(&g.general, "a").await;
    let b = member.api.say(&g.general, "b").await;
    owner
        .api
        .post(
            &format!("/channels/{}/messages/bulk-delete", g.general),
            &json!({"messages": [sid(&a), sid(&b)]}),
        )
        .await
        .ok(204);
    let e = newest(&owner.api, &g.id, action::MESSAGE_BULK_DELETE).await;
    assert_eq!(e["target_id"], g.general.as_str());
    assert_eq!(e["options"]["count"], "2");

    owner.api.delete_channel(&cid).await.ok(200);
    let e = newest(&owner.api, &g.id, action::CHANNEL_DELETE).await;
    assert_eq!(e["target_id"], cid.as_str());
    assert_eq!(change(&e, "name").0, json!("logs"));
    for e in entries(&owner.api, &g.id, "limit=100").await {
        check_entry(&e, "entry");
        assert_eq!(e["user_id"], owner.id.as_str(), "{e}");
    }
}

async fn webhooks_are_logged_and_listed(srv: &Server) {
    let (owner, g, _member) = srv.world().await;
    let hook = with_reason(
        &owner.api,
        "POST",
        &format!("/channels/{}/webhooks", g.general),
        Some(&json!({"name": "hooky"})),
        "alerts",
    )
    .await
    .ok(200);
    let hid = sid(&hook);
    let page = audit_log(
        &owner.api,
        &g.id,
        &format!("action_type={}", action::WEBHOOK_CREATE),
    )
    .await
    .ok(200);
    let e = &page["audit_log_entries"][0];
    assert_eq!(e["target_id"], hid.as_str());
    assert_eq!(e["reason"], "alerts");
    assert_eq!(change(e, "name").1, json!("hooky"));
    let hooks = page["webhooks"].as_array().unwrap();
    assert_eq!(hooks.len(), 1, "{page}");
    assert_eq!(hooks[0]["id"], hid.as_str());
    assert!(
        hooks[0].get("token").is_none(),
        "no token in the log: {page}"
    );

    owner
        .api
        .patch(&format!("/webhooks/{hid}"), &json!({"name": "hooked"}))
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::WEBHOOK_UPDATE).await;
    assert_eq!(change(&e, "name"), (json!("hooky"), json!("hooked")));
    owner.api.delete(&format!("/webhooks/{hid}")).await.ok(204);
    let page = audit_log(
        &owner.api,
        &g.id,
        &format!("action_type={}", action::WEBHOOK_DELETE),
    )
    .await
    .ok(200);
    assert_eq!(page["audit_log_entries"][0]["target_id"], hid.as_str());
    assert!(
        page["webhooks"].as_array().unwrap().is_empty(),
        "a deleted webhook is not listed: {page}"
    );
}

async fn emojis_are_logged(srv: &Server) {
    use base64::Engine;
    let (owner, g, _member) = srv.world().await;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&[0u8; 32]);
    let image = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    let emoji = with_reason(
        &owner.api,
        "POST",
        &format!("/guilds/{}/emojis", g.id),
        Some(&json!({ "name": "blob", "image": image })),
        "new emoji",
    )
    .await
    .ok(201);
    let eid = sid(&emoji);
    let e = newest(&owner.api, &g.id, action::EMOJI_CREATE).await;
    assert_eq!(e["target_id"], eid.as_str());
    assert_eq!(change(&e, "name"), (Value::Null, json!("blob")));
    assert_eq!(e["reason"], "new emoji");
    owner
        .api
        .patch(
            &format!("/guilds/{}/emojis/{eid}", g.id),
            &json!({ "name": "blobby" }),
        )
        .await
        .ok(200);
    let e = newest(&owner.api, &g.id, action::EMOJI_UPDATE).await;
    assert_eq!(change(&e, "name"), (json!("blob"), json!("blobby")));
    owner
        .api
        .delete(&format!("/guilds/{}/emojis/{eid}", g.id))
        .await
        .ok(204);
    let e = newest(&owner.api, &g.id, action::EMOJI_DELETE).await;
    assert_eq!(e["target_id"], eid.as_str());
    assert_eq!(change(&e, "name"), (json!("blobby"), Value::Null));
}

async fn viewing_needs_view_audit_log(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    audit_log(&member.api, &g.id, "").await.err(403, 50013);
    audit_log(&outsider.api, &g.id, "").await.err(404, 10004);
    audit_log(&owner.api, &bogus_id(), "").await.err(404, 10004);
    let role = srv.role(&owner, &g, "auditor", VIEW_AUDIT_LOG).await;
    srv.give3(&owner, &g, &member.id, &sid(&role)).await;
    let seen = entries(&member.api, &g.id, "").await;
    assert!(
        seen.iter()
            .any(|e| e["action_type"] == action::MEMBER_ROLE_UPDATE
                && e["target_id"] == member.id.as_str()),
        "{seen:?}"
    );
}

async fn filters_and_pagination(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let role = srv
        .role(
            &owner,
            &g,
            "channel-makers",
            1 << 4, /* MANAGE_CHANNELS */
        )
        .await;
    srv.give3(&owner, &g, &member.id, &sid(&role)).await;
    for name in ["a", "b", "c"] {
        member
            .api
            .create_channel(&g.id, &json!({ "name": name }))
            .await
            .ok(201);
    }
    for name in ["d", "e"] {
        owner
            .api
            .create_channel(&g.id, &json!({ "name": name }))
            .await
            .ok(201);
    }
    let creates = format!("action_type={}", action::CHANNEL_CREATE);
    let names = |list: &[Value]| -> Vec<String> {
        list.iter()
            .map(|e| change(e, "name").1.as_str().unwrap().to_string())
            .collect()
    };
    let all = entries(&owner.api, &g.id, &creates).await;
    assert_eq!(names(&all), ["e", "d", "c", "b", "a"]);
    let by_member = entries(
        &owner.api,
        &g.id,
        &format!("{creates}&user_id={}", member.id),
    )
    .await;
    assert_eq!(names(&by_member), ["c", "b", "a"]);
    // The user filter alone: the member made three channels and nothing else.
    let everything_by_member = entries(&owner.api, &g.id, &format!("user_id={}", member.id)).await;
    assert_eq!(everything_by_member.len(), 3, "{everything_by_member:?}");
    // target_id too.
    let d_channel = all[1]["target_id"].as_str().unwrap();
    let one = entries(&owner.api, &g.id, &format!("target_id={d_channel}")).await;
    assert_eq!(names(&one), ["d"]);

    // Pages of two, newest first, with `before`.
    let page1 = entries(&owner.api, &g.id, &format!("{creates}&limit=2")).await;
    assert_eq!(names(&page1), ["e", "d"]);
    let page2 = entries(
        &owner.api,
        &g.id,
        &format!("{creates}&limit=2&before={}", sid(&page1[1])),
    )
    .await;
    assert_eq!(names(&page2), ["c", "b"]);
    let page3 = entries(
        &owner.api,
        &g.id,
        &format!("{creates}&limit=2&before={}", sid(&page2[1])),
    )
    .await;
    assert_eq!(names(&page3), ["a"]);
    // `after` gives the entries just above it (oldest of them), still newest first.
    let after = entries(
        &owner.api,
        &g.id,
        &format!("{creates}&limit=2&after={}", sid(&page3[0])),
    )
    .await;
    assert_eq!(names(&after), ["c", "b"]);
    let rest = entries(
        &owner.api,
        &g.id,
        &format!("{creates}&after={}", sid(&after[0])),
    )
    .await;
    assert_eq!(names(&rest), ["e", "d"]);
    // Default limit 50: more than 50 entries come back as 50.
    for i in 0..48 {
        owner
            .api
            .patch_guild(&g.id, &json!({ "name": format!("Name {i}") }))
            .await
            .ok(200);
    }
    let total = entries(&owner.api, &g.id, "limit=100").await.len();
    assert!(total > 50, "{total}");
    assert_eq!(entries(&owner.api, &g.id, "").await.len(), 50);
}

async fn limit_and_query_validation(srv: &Server) {
    let (owner, g, _member) = srv.world().await;
    for bad in [
        "limit=0",
        "limit=101",
        "limit=abc",
        "before=nope",
        "user_id=x",
        "action_type=-1",
    ] {
        let r = audit_log(&owner.api, &g.id, bad).await;
        r.err(400, 50035);
    }
    assert_eq!(
        audit_log(&owner.api, &g.id, "limit=0")
            .await
            .form_error("limit"),
        "NUMBER_TYPE_MAX"
    );
    audit_log(&owner.api, &g.id, "limit=1").await.ok(200);
    audit_log(&owner.api, &g.id, "limit=100").await.ok(200);
}

async fn failed_actions_leave_no_entry(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let before = entries(&owner.api, &g.id, "limit=100").await.len();
    let stranger = srv.user("stranger").await;
    // Kick of someone who is not a member: 10007, no entry.
    with_reason(
        &owner.api,
        "DELETE",
        &format!("/guilds/{}/members/{}", g.id, stranger.id),
        None,
        "bye",
    )
    .await
    .err(404, 10007);
    // Ban without BAN_MEMBERS: 50013, no entry.
    member
        .api
        .ban_with_reason(&g.id, &owner.id, &json!({}), "coup")
        .await
        .err(403, 50013);
    // Unban of someone not banned: 10026.
    owner.api.unban(&g.id, &stranger.id).await.err(404, 10026);
    // A role edit refused by validation.
    owner
        .api
        .create_role(&g.id, &json!({ "name": "" }))
        .await
        .err(400, 50035);
    // Deleting another's message without MANAGE_MESSAGES.
    let m = owner.api.say(&g.general, "keep").await;
    member
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, sid(&m)))
        .await
        .err(403, 50013);
    let after = entries(&owner.api, &g.id, "limit=100").await;
    assert_eq!(after.len(), before, "{after:?}");
    assert!(after
        .iter()
        .all(|e| e["reason"] != "bye" && e["reason"] != "coup"));
}

async fn entry_create_event_reaches_moderators_only(srv: &Server) {
    let (owner, g, member) = srv.world().await;
    let auditor = srv.joined_user(&owner, &g, "auditor").await;
    let plain = srv.joined_user(&owner, &g, "plain").await;
    let role = srv.role(&owner, &g, "auditors", VIEW_AUDIT_LOG).await;
    srv.give3(&owner, &g, &auditor.id, &sid(&role)).await;
    let mut ogw = srv.gw(&owner.token, intents::ALL3).await;
    let mut agw = srv.gw(&auditor.token, intents::GUILD_MODERATION).await;
    let mut no_intent = srv.gw(&owner.token, intents::GUILDS).await;
    let mut pgw = srv.gw(&plain.token, intents::ALL3).await;

    owner
        .api
        .ban_with_reason(&g.id, &member.id, &json!({}), "rules")
        .await
        .ok(204);
    for gw in [&mut ogw, &mut agw] {
        let d = gw
            .expect_dispatch_where("GUILD_AUDIT_LOG_ENTRY_CREATE", EVENT_TIMEOUT, |d| {
                d["action_type"] == action::MEMBER_BAN_ADD
            })
            .await;
        assert_eq!(d["guild_id"], g.id.as_str(), "{d}");
        assert_eq!(d["target_id"], member.id.as_str(), "{d}");
        assert_eq!(d["user_id"], owner.id.as_str(), "{d}");
        assert_eq!(d["reason"], "rules", "{d}");
        assert_snowflake(&d["id"], "event id");
    }
    // The same entry is in the log.
    let logged = newest(&owner.api, &g.id, action::MEMBER_BAN_ADD).await;
    assert_eq!(logged["reason"], "rules");
    // A role created with a reason: another entry, another event.
    owner
        .api
        .req_h(
            "POST",
            &format!("/guilds/{}/roles", g.id),
            Some(&json!({ "name": "new" })),
            &[("X-Audit-Log-Reason", "why not")],
        )
        .await
        .ok(200);
    let d = agw
        .expect_dispatch_where("GUILD_AUDIT_LOG_ENTRY_CREATE", EVENT_TIMEOUT, |d| {
            d["action_type"] == action::ROLE_CREATE
        })
        .await;
    assert_eq!(d["reason"], "why not", "{d}");
    // Without the GUILD_MODERATION intent, or without VIEW_AUDIT_LOG: nothing.
    no_intent
        .expect_no_dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE", QUIET)
        .await;
    pgw.expect_no_dispatch("GUILD_AUDIT_LOG_ENTRY_CREATE", QUIET)
        .await;
}
