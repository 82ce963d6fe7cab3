//! The permission engine as seen through REST and dispatch: channel overwrites (@everyone, role,
//! member), implicit VIEW_CHANNEL, ADMINISTRATOR/owner bypass, role hierarchy, managed bot roles.
mod common;
use common::*;
use serde_json::{json, Value};

fn ow(id: &str, kind: u8, allow: u64, deny: u64) -> Value {
    json!({"id": id, "type": kind, "allow": allow.to_string(), "deny": deny.to_string()})
}

async fn channel_with(owner: &User, g: &Guild, name: &str, overwrites: Vec<Value>) -> String {
    let c = owner
        .api
        .create_channel(
            &g.id,
            &json!({"name": name, "permission_overwrites": overwrites}),
        )
        .await
        .ok(201);
    c["id"].as_str().unwrap().to_string()
}

async fn give_role(owner: &User, g: &Guild, user: &User, role: &Value) {
    owner
        .api
        .add_role(&g.id, &user.id, role["id"].as_str().unwrap())
        .await
        .ok(204);
}

#[tokio::test]
async fn hidden_channel_for_everyone_visible_for_role() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let viewer = srv.user("viewer").await;
    srv.join(&owner, &g, &viewer).await;
    let viewers = srv.role(&owner, &g, "viewers", 0).await;
    give_role(&owner, &g, &viewer, &viewers).await;
    let secret = channel_with(
        &owner,
        &g,
        "secret",
        vec![
            ow(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow(viewers["id"].as_str().unwrap(), 0, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;

    // HTTP: the plain member cannot see it
    plain.api.channel(&secret).await.err(403, 50001);
    plain.api.messages(&secret, "").await.err(403, 50001);
    plain
        .api
        .send(&secret, &json!({"content": "let me in"}))
        .await
        .err_any(403, &[50001, 50013]);
    let m = owner.api.say(&secret, "psst").await;
    plain
        .api
        .message(&secret, m["id"].as_str().unwrap())
        .await
        .err(403, 50001);
    // ...the role holder can
    viewer.api.channel(&secret).await.ok(200);
    assert_eq!(
        ids(&viewer.api.messages(&secret, "").await.ok(200)),
        vec![m["id"].as_str().unwrap().to_string()]
    );
    viewer.api.say(&secret, "hello from viewer").await;
    // the owner always can
    owner.api.channel(&secret).await.ok(200);

    // gateway: MESSAGE_CREATE only to those who can view
    let mut pgw = srv.gw(&plain.token, intents::DEFAULT).await;
    let mut vgw = srv.gw(&viewer.token, intents::DEFAULT).await;
    let hidden = owner.api.say(&secret, "for viewers only").await;
    let d = vgw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == hidden["id"])
        .await;
    assert_eq!(d["channel_id"], secret.as_str());
    let by_viewer = viewer.api.say(&secret, "viewer again").await;
    vgw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
        d["id"] == by_viewer["id"]
    })
    .await;
    pgw.expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| {
        d["channel_id"] == secret.as_str()
    })
    .await;
    // sanity: the plain member's session does get general
    let open = owner.api.say(&g.general, "for everyone").await;
    pgw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == open["id"])
        .await;
}

#[tokio::test]
async fn send_messages_denied_is_50013() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let speaker = srv.user("speaker").await;
    srv.join(&owner, &g, &speaker).await;
    let speakers = srv.role(&owner, &g, "speakers", 0).await;
    give_role(&owner, &g, &speaker, &speakers).await;
    let readonly = channel_with(
        &owner,
        &g,
        "readonly",
        vec![
            ow(&g.id, 0, 0, perm::SEND_MESSAGES),
            ow(speakers["id"].as_str().unwrap(), 0, perm::SEND_MESSAGES, 0),
        ],
    )
    .await;

    // can read, cannot write
    plain.api.channel(&readonly).await.ok(200);
    plain.api.messages(&readonly, "").await.ok(200);
    plain
        .api
        .send(&readonly, &json!({"content": "hi"}))
        .await
        .err(403, 50013);
    // role allow beats @everyone deny; owner bypasses
    speaker.api.say(&readonly, "I may speak").await;
    owner.api.say(&readonly, "owner speaks").await;
    assert_eq!(
        plain
            .api
            .messages(&readonly, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // a member overwrite allowing SEND_MESSAGES for the plain member
    let personal = channel_with(
        &owner,
        &g,
        "personal",
        vec![
            ow(&g.id, 0, 0, perm::SEND_MESSAGES),
            ow(&plain.id, 1, perm::SEND_MESSAGES, 0),
        ],
    )
    .await;
    plain.api.say(&personal, "my own overwrite").await;
    speaker
        .api
        .send(&personal, &json!({"content": "nope"}))
        .await
        .err(403, 50013);
}

#[tokio::test]
async fn overwrite_precedence() {
    let srv = Server::start().await;
    let (owner, g, user) = srv.world().await;
    let allow_role = srv.role(&owner, &g, "allow", 0).await;
    let deny_role = srv.role(&owner, &g, "deny", 0).await;
    give_role(&owner, &g, &user, &allow_role).await;
    give_role(&owner, &g, &user, &deny_role).await;
    let allow_id = allow_role["id"].as_str().unwrap();
    let deny_id = deny_role["id"].as_str().unwrap();

    // role overwrites: allow wins over deny regardless of role order
    let c1 = channel_with(
        &owner,
        &g,
        "roles-mixed",
        vec![
            ow(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow(deny_id, 0, 0, perm::VIEW_CHANNEL),
            ow(allow_id, 0, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;
    user.api.channel(&c1).await.ok(200);

    // member overwrite deny beats role allow
    let c2 = channel_with(
        &owner,
        &g,
        "member-deny",
        vec![
            ow(allow_id, 0, perm::VIEW_CHANNEL, 0),
            ow(&user.id, 1, 0, perm::VIEW_CHANNEL),
        ],
    )
    .await;
    user.api.channel(&c2).await.err(403, 50001);

    // role deny beats @everyone allow
    let c3 = channel_with(
        &owner,
        &g,
        "role-deny",
        vec![
            ow(&g.id, 0, perm::VIEW_CHANNEL, 0),
            ow(deny_id, 0, 0, perm::VIEW_CHANNEL),
        ],
    )
    .await;
    user.api.channel(&c3).await.err(403, 50001);

    // member overwrite allow beats @everyone deny
    let c4 = channel_with(
        &owner,
        &g,
        "member-allow",
        vec![
            ow(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow(&user.id, 1, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;
    user.api.channel(&c4).await.ok(200);
    user.api.say(&c4, "visible via member overwrite").await;
}

#[tokio::test]
async fn administrator_and_owner_bypass_overwrites() {
    let srv = Server::start().await;
    let (owner, g, admin) = srv.world().await;
    let admins = srv.role(&owner, &g, "admins", perm::ADMINISTRATOR).await;
    give_role(&owner, &g, &admin, &admins).await;
    let locked = channel_with(
        &owner,
        &g,
        "locked",
        vec![
            ow(&g.id, 0, 0, perm::VIEW_CHANNEL | perm::SEND_MESSAGES),
            ow(&admin.id, 1, 0, perm::VIEW_CHANNEL | perm::SEND_MESSAGES),
            ow(&owner.id, 1, 0, perm::VIEW_CHANNEL | perm::SEND_MESSAGES),
        ],
    )
    .await;
    admin.api.channel(&locked).await.ok(200);
    admin.api.say(&locked, "admin was here").await;
    owner.api.channel(&locked).await.ok(200);
    owner.api.say(&locked, "owner was here").await;
    // ADMINISTRATOR implies every guild permission
    admin
        .api
        .create_channel(&g.id, &json!({"name": "admin-made"}))
        .await
        .ok(201);
    srv.role(&admin, &g, "made by admin", perm::KICK_MEMBERS)
        .await;
    let listed = admin.api.my_guilds().await.ok(200);
    let p = perm_str(&listed[0]["permissions"], "admin guild permissions");
    assert_eq!(p & perm::ADMINISTRATOR, perm::ADMINISTRATOR);
}

#[tokio::test]
async fn manage_roles_respects_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let victim = srv.user("victim").await;
    srv.join(&owner, &g, &victim).await;

    // three roles, all carrying MANAGE_ROLES; order them by the positions the server assigned
    for name in ["r1", "r2", "r3"] {
        srv.role(&owner, &g, name, perm::MANAGE_ROLES).await;
    }
    let roles = owner.api.roles(&g.id).await.ok(200);
    let mut ours: Vec<Value> = roles
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["id"] != g.id.as_str())
        .cloned()
        .collect();
    ours.sort_by_key(|r| r["position"].as_i64().unwrap());
    let (low, mid, high) = (&ours[0], &ours[1], &ours[2]);
    let id = |r: &Value| r["id"].as_str().unwrap().to_string();
    give_role(&owner, &g, &moderator, mid).await;

    // below own highest role: allowed
    moderator
        .api
        .add_role(&g.id, &victim.id, &id(low))
        .await
        .ok(204);
    moderator
        .api
        .remove_role(&g.id, &victim.id, &id(low))
        .await
        .ok(204);
    // equal to or above own highest role: refused
    moderator
        .api
        .add_role(&g.id, &victim.id, &id(mid))
        .await
        .err(403, 50013);
    moderator
        .api
        .add_role(&g.id, &victim.id, &id(high))
        .await
        .err(403, 50013);
    moderator
        .api
        .add_role(&g.id, &moderator.id, &id(high))
        .await
        .err(403, 50013);
    owner
        .api
        .add_role(&g.id, &victim.id, &id(high))
        .await
        .ok(204);
    moderator
        .api
        .remove_role(&g.id, &victim.id, &id(high))
        .await
        .err(403, 50013);
    let v = owner.api.member(&g.id, &victim.id).await.ok(200);
    assert_eq!(
        v["roles"],
        json!([id(high)]),
        "refused requests changed nothing"
    );

    // may only grant permission bits it holds
    moderator
        .api
        .create_role(
            &g.id,
            &json!({"name": "too strong", "permissions": perm::ADMINISTRATOR.to_string()}),
        )
        .await
        .err(403, 50013);
    moderator
        .api
        .create_role(
            &g.id,
            &json!({"name": "too strong", "permissions": perm::MANAGE_GUILD.to_string()}),
        )
        .await
        .err(403, 50013);
    let ok = moderator
        .api
        .create_role(&g.id, &json!({"name": "fine", "permissions": (perm::MANAGE_ROLES | perm::SEND_MESSAGES).to_string()}))
        .await
        .ok(200);
    assert_eq!(
        perm_str(&ok["permissions"], "fine"),
        perm::MANAGE_ROLES | perm::SEND_MESSAGES
    );
}

#[tokio::test]
async fn bot_permissions_come_from_managed_role() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let weak = srv.bot(&owner, "Weak").await;
    let strong = srv.bot(&owner, "Strong").await;
    srv.authorize(&owner, &weak, &g, 0).await;
    srv.authorize(
        &owner,
        &strong,
        &g,
        perm::MANAGE_CHANNELS | perm::MANAGE_ROLES,
    )
    .await;

    // both can post through @everyone
    weak.api.say(&g.general, "weak").await;
    strong.api.say(&g.general, "strong").await;
    weak.api
        .create_channel(&g.id, &json!({"name": "bot-made"}))
        .await
        .err(403, 50013);
    weak.api
        .create_role(&g.id, &json!({"name": "bot role"}))
        .await
        .err(403, 50013);
    let c = strong
        .api
        .create_channel(&g.id, &json!({"name": "bot-made"}))
        .await
        .ok(201);
    assert_eq!(c["guild_id"], g.id.as_str());
    let r = strong
        .api
        .create_role(&g.id, &json!({"name": "bot role"}))
        .await
        .ok(200);
    // the bot can give itself a role below its managed role
    strong
        .api
        .add_role(&g.id, &strong.id, r["id"].as_str().unwrap())
        .await
        .ok(204);
    let me = strong.api.member(&g.id, &strong.id).await.ok(200);
    assert!(me["roles"].as_array().unwrap().contains(&r["id"]), "{me}");

    // a hidden channel hides it from bots too
    let hidden = channel_with(
        &owner,
        &g,
        "hidden",
        vec![ow(&g.id, 0, 0, perm::VIEW_CHANNEL)],
    )
    .await;
    weak.api.channel(&hidden).await.err(403, 50001);
    let mut wgw = srv.gw(&weak.token, intents::DEFAULT).await;
    owner.api.say(&hidden, "not for bots").await;
    wgw.expect_no_dispatch("MESSAGE_CREATE", QUIET).await;
}

#[tokio::test]
async fn users_me_guilds_permissions_reflect_roles() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let role = srv.role(&owner, &g, "kickers", perm::KICK_MEMBERS).await;
    give_role(&owner, &g, &member, &role).await;
    let list = member.api.my_guilds().await.ok(200);
    assert_eq!(
        perm_str(&list[0]["permissions"], "member permissions"),
        perm::EVERYONE_DEFAULT | perm::KICK_MEMBERS
    );
}

#[tokio::test]
async fn permission_changes_apply_immediately() {
    let srv = Server::start().await;
    let (owner, g, user) = srv.world().await;
    let viewers = srv.role(&owner, &g, "viewers", 0).await;
    let rid = viewers["id"].as_str().unwrap().to_string();
    let mut ugw = srv.gw(&user.token, intents::DEFAULT).await;
    // a hidden channel created after the session started
    let secret = channel_with(
        &owner,
        &g,
        "secret",
        vec![
            ow(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow(&rid, 0, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;
    let m1 = owner.api.say(&secret, "before the role").await;
    user.api.channel(&secret).await.err(403, 50001);
    ugw.expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| d["id"] == m1["id"])
        .await;

    // granting the role opens the channel, over HTTP and on the live session
    owner.api.add_role(&g.id, &user.id, &rid).await.ok(204);
    user.api.channel(&secret).await.ok(200);
    let m2 = owner.api.say(&secret, "after the role").await;
    ugw.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == m2["id"])
        .await;

    // and removing it closes it again
    owner.api.remove_role(&g.id, &user.id, &rid).await.ok(204);
    user.api.channel(&secret).await.err(403, 50001);
    user.api
        .send(&secret, &json!({"content": "still here?"}))
        .await
        .err_any(403, &[50001, 50013]);
    let m3 = owner.api.say(&secret, "role removed").await;
    ugw.expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| d["id"] == m3["id"])
        .await;
}

#[tokio::test]
async fn no_read_message_history_lists_nothing() {
    let srv = Server::start().await;
    let (owner, g, user) = srv.world().await;
    let c = channel_with(
        &owner,
        &g,
        "no-history",
        vec![ow(&g.id, 0, 0, perm::READ_MESSAGE_HISTORY)],
    )
    .await;
    owner.api.say(&c, "old news").await;
    user.api.channel(&c).await.ok(200);
    assert_eq!(
        user.api.messages(&c, "").await.ok(200),
        json!([]),
        "without READ_MESSAGE_HISTORY the history is empty (Discord docs)"
    );
    assert_eq!(
        owner
            .api
            .messages(&c, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // posting still works
    user.api.say(&c, "I can still talk").await;
}
