//! Issue 3 "Done when": a permission change takes effect at once, for REST (the very next request)
//! and for deliveries (the very next MESSAGE_CREATE reaches / does not reach the affected member's
//! live gateway session) — in both directions (grant, then revoke), for every kind of change:
//! role permission edit, overwrite PUT/DELETE (and PATCH), role added/removed/deleted, category
//! sync, timeout, and membership (kick, ban, leave).
mod common;
use common::perm3 as perm;
use common::*;
use serde_json::json;

/// The probe: right after a change, the owner posts in `channel` (its delivery is decided now),
/// then the member's next REST request is checked, then the delivery.
async fn expect_visible(owner: &User, member: &User, gw: &mut Gw, channel: &str, step: &str) {
    let m = owner.api.say(channel, &format!("visible: {step}")).await;
    let r = member.api.channel(channel).await;
    assert_eq!(
        r.status, 200,
        "{step}: REST must see the channel now: {}",
        r.text
    );
    let list = member.api.messages(channel, "limit=1").await.ok(200);
    assert_eq!(list[0]["id"], m["id"], "{step}: history readable at once");
    let d = gw.expect_msg(&m).await;
    assert_eq!(d["channel_id"], channel, "{step}");
}

async fn expect_hidden(owner: &User, member: &User, gw: &mut Gw, channel: &str, step: &str) {
    let m = owner.api.say(channel, &format!("hidden: {step}")).await;
    let r = member.api.channel(channel).await;
    assert!(
        r.status == 403 && r.body["code"] == 50001,
        "{step}: REST must refuse with 403 50001 at once, got {} {}",
        r.status,
        r.text
    );
    member.api.messages(channel, "").await.err(403, 50001);
    gw.expect_no_msg(&m).await;
}

/// Member may post in `channel` (REST) and its message reaches the owner's session.
async fn expect_can_send(member: &User, owner_gw: &mut Gw, channel: &str, step: &str) {
    let r = member
        .api
        .send(channel, &json!({"content": format!("may send: {step}")}))
        .await;
    assert_eq!(
        r.status, 200,
        "{step}: sending must work at once: {}",
        r.text
    );
    owner_gw.expect_msg(&r.body).await;
}

async fn expect_cannot_send(member: &User, channel: &str, step: &str) {
    let r = member
        .api
        .send(
            channel,
            &json!({"content": format!("may not send: {step}")}),
        )
        .await;
    assert!(
        r.status == 403 && r.body["code"] == 50013,
        "{step}: sending must be refused with 403 50013 at once, got {} {}",
        r.status,
        r.text
    );
}

async fn hidden_channel(srv: &Server, owner: &User, g: &Guild, name: &str) -> String {
    sid(&srv
        .channel3(
            owner,
            g,
            json!({"name": name, "permission_overwrites": [ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)]}),
        )
        .await)
}

#[tokio::test]
async fn role_permission_edit_applies_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let r = srv.role(&owner, &g, "r", 0).await;
    let rid = sid(&r);
    srv.give3(&owner, &g, &member.id, &rid).await;
    let c = hidden_channel(&srv, &owner, &g, "admins-only").await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    expect_hidden(&owner, &member, &mut gw, &c, "initial").await;

    // grant ADMINISTRATOR through the member's role: overwrites no longer apply
    owner
        .api
        .patch_role(
            &g.id,
            &rid,
            &json!({"permissions": perm::ADMINISTRATOR.to_string()}),
        )
        .await
        .ok(200);
    expect_visible(&owner, &member, &mut gw, &c, "role edited to ADMINISTRATOR").await;
    member
        .api
        .create_channel(&g.id, &json!({"name": "admin-made"}))
        .await
        .ok(201);
    // revoke
    owner
        .api
        .patch_role(&g.id, &rid, &json!({"permissions": "0"}))
        .await
        .ok(200);
    expect_hidden(&owner, &member, &mut gw, &c, "role edited back to 0").await;
    member
        .api
        .create_channel(&g.id, &json!({"name": "not any more"}))
        .await
        .err(403, 50013);

    // @everyone's own permissions: VIEW_CHANNEL off, then on
    owner
        .api
        .patch_role(
            &g.id,
            &g.id,
            &json!({"permissions": (perm::EVERYONE_DEFAULT & !perm::VIEW_CHANNEL).to_string()}),
        )
        .await
        .ok(200);
    expect_hidden(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "@everyone lost VIEW_CHANNEL",
    )
    .await;
    owner
        .api
        .patch_role(
            &g.id,
            &g.id,
            &json!({"permissions": perm::EVERYONE_DEFAULT.to_string()}),
        )
        .await
        .ok(200);
    expect_visible(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "@everyone VIEW_CHANNEL back",
    )
    .await;

    // SEND_MESSAGES off, then on (the channel stays visible, and delivered, throughout)
    owner
        .api
        .patch_role(
            &g.id,
            &g.id,
            &json!({"permissions": (perm::EVERYONE_DEFAULT & !perm::SEND_MESSAGES).to_string()}),
        )
        .await
        .ok(200);
    expect_cannot_send(&member, &g.general, "@everyone lost SEND_MESSAGES").await;
    expect_visible(&owner, &member, &mut gw, &g.general, "still reading").await;
    owner
        .api
        .patch_role(
            &g.id,
            &g.id,
            &json!({"permissions": perm::EVERYONE_DEFAULT.to_string()}),
        )
        .await
        .ok(200);
    expect_can_send(
        &member,
        &mut ogw,
        &g.general,
        "@everyone SEND_MESSAGES back",
    )
    .await;
}

#[tokio::test]
async fn overwrite_put_and_delete_apply_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let r = srv.role(&owner, &g, "r", 0).await;
    let rid = sid(&r);
    srv.give3(&owner, &g, &member.id, &rid).await;
    let c = hidden_channel(&srv, &owner, &g, "secret").await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    expect_hidden(&owner, &member, &mut gw, &c, "initial").await;

    // member overwrite
    owner
        .api
        .put_overwrite(
            &c,
            &member.id,
            &json!({"type": 1, "allow": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    expect_visible(&owner, &member, &mut gw, &c, "member overwrite PUT").await;
    owner.api.delete_overwrite(&c, &member.id).await.ok(204);
    expect_hidden(&owner, &member, &mut gw, &c, "member overwrite DELETE").await;

    // role overwrite
    owner
        .api
        .put_overwrite(
            &c,
            &rid,
            &json!({"type": 0, "allow": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    expect_visible(&owner, &member, &mut gw, &c, "role overwrite PUT").await;
    // replaced by a PUT that denies instead
    owner
        .api
        .put_overwrite(
            &c,
            &rid,
            &json!({"type": 0, "deny": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    expect_hidden(
        &owner,
        &member,
        &mut gw,
        &c,
        "role overwrite re-PUT as deny",
    )
    .await;
    owner
        .api
        .put_overwrite(
            &c,
            &rid,
            &json!({"type": 0, "allow": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    expect_visible(&owner, &member, &mut gw, &c, "role overwrite allow again").await;
    owner.api.delete_overwrite(&c, &rid).await.ok(204);
    expect_hidden(&owner, &member, &mut gw, &c, "role overwrite DELETE").await;

    // @everyone overwrite on a visible channel: deny, then remove
    owner
        .api
        .put_overwrite(
            &g.general,
            &g.id,
            &json!({"type": 0, "deny": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    expect_hidden(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "@everyone overwrite deny",
    )
    .await;
    owner.api.delete_overwrite(&g.general, &g.id).await.ok(204);
    expect_visible(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "@everyone overwrite removed",
    )
    .await;

    // SEND_MESSAGES through an overwrite
    owner
        .api
        .put_overwrite(
            &g.general,
            &member.id,
            &json!({"type": 1, "deny": perm::SEND_MESSAGES.to_string()}),
        )
        .await
        .ok(204);
    expect_cannot_send(&member, &g.general, "member overwrite denies SEND").await;
    owner
        .api
        .delete_overwrite(&g.general, &member.id)
        .await
        .ok(204);
    expect_can_send(&member, &mut ogw, &g.general, "deny removed").await;

    // the same through PATCH /channels/{id} permission_overwrites
    owner
        .api
        .patch_channel(
            &c,
            &json!({"permission_overwrites": [
                ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
                ow3(&member.id, 1, perm::VIEW_CHANNEL, 0)
            ]}),
        )
        .await
        .ok(200);
    expect_visible(&owner, &member, &mut gw, &c, "PATCH overwrites grant").await;
    owner
        .api
        .patch_channel(
            &c,
            &json!({"permission_overwrites": [ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)]}),
        )
        .await
        .ok(200);
    expect_hidden(&owner, &member, &mut gw, &c, "PATCH overwrites revoke").await;
}

#[tokio::test]
async fn role_added_removed_and_deleted_apply_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    // viewers below mods
    let ranked = srv
        .ranked_roles(&owner, &g, &[("viewers", 0), ("mods", perm::MANAGE_ROLES)])
        .await;
    let rid = sid(&ranked[0]);
    let mods = ranked[1].clone();
    let c = sid(&srv
        .channel3(
            &owner,
            &g,
            json!({"name": "viewers", "permission_overwrites": [
                ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
                ow3(&rid, 0, perm::VIEW_CHANNEL, 0),
            ]}),
        )
        .await);
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    expect_hidden(&owner, &member, &mut gw, &c, "initial").await;

    // PATCH member roles
    owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": [rid]}))
        .await
        .ok(200);
    expect_visible(&owner, &member, &mut gw, &c, "roles set by PATCH member").await;
    owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": []}))
        .await
        .ok(200);
    expect_hidden(
        &owner,
        &member,
        &mut gw,
        &c,
        "roles cleared by PATCH member",
    )
    .await;

    // PUT / DELETE member role
    owner.api.add_role(&g.id, &member.id, &rid).await.ok(204);
    expect_visible(&owner, &member, &mut gw, &c, "PUT member role").await;
    owner.api.remove_role(&g.id, &member.id, &rid).await.ok(204);
    expect_hidden(&owner, &member, &mut gw, &c, "DELETE member role").await;

    // a role granted by a moderator (not the owner) works the same
    let moderator = srv.joined_user(&owner, &g, "moderator").await;
    srv.give3(&owner, &g, &moderator.id, &sid(&mods)).await;
    moderator
        .api
        .add_role(&g.id, &member.id, &rid)
        .await
        .ok(204);
    expect_visible(&owner, &member, &mut gw, &c, "PUT member role by moderator").await;

    // deleting the role takes the access with it
    owner.api.delete_role(&g.id, &rid).await.ok(204);
    expect_hidden(&owner, &member, &mut gw, &c, "role deleted").await;
}

#[tokio::test]
async fn category_sync_and_lock_apply_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let cat = sid(&srv
        .channel3(&owner, &g, json!({"name": "Cat", "type": 4}))
        .await);
    let child = sid(&srv
        .channel3(&owner, &g, json!({"name": "child", "parent_id": cat}))
        .await);
    let loose = sid(&srv.channel3(&owner, &g, json!({"name": "loose"})).await);
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    expect_visible(&owner, &member, &mut gw, &child, "initial").await;

    let hide = json!({"permission_overwrites": [ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)]});
    owner.api.patch_channel(&cat, &hide).await.ok(200);
    expect_hidden(
        &owner,
        &member,
        &mut gw,
        &child,
        "category hidden, child in sync",
    )
    .await;
    owner
        .api
        .patch_channel(&cat, &json!({"permission_overwrites": []}))
        .await
        .ok(200);
    expect_visible(&owner, &member, &mut gw, &child, "category shown again").await;

    // moving a channel into the hidden category with lock_permissions
    owner.api.patch_channel(&cat, &hide).await.ok(200);
    expect_visible(
        &owner,
        &member,
        &mut gw,
        &loose,
        "loose channel before the move",
    )
    .await;
    owner
        .api
        .patch_channel(&loose, &json!({"parent_id": cat, "lock_permissions": true}))
        .await
        .ok(200);
    expect_hidden(&owner, &member, &mut gw, &loose, "moved and locked").await;
}

#[tokio::test]
async fn timeout_applies_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    // even an explicit member overwrite allowing SEND does not survive a timeout
    owner
        .api
        .put_overwrite(
            &g.general,
            &member.id,
            &json!({"type": 1, "allow": perm::SEND_MESSAGES.to_string()}),
        )
        .await
        .ok(204);
    expect_can_send(&member, &mut ogw, &g.general, "before the timeout").await;

    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": iso_from_now(3600)}),
        )
        .await
        .ok(200);
    expect_cannot_send(&member, &g.general, "timed out").await;
    // reading and deliveries go on (VIEW_CHANNEL and READ_MESSAGE_HISTORY are kept)
    expect_visible(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "timed out, still reading",
    )
    .await;

    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": null}),
        )
        .await
        .ok(200);
    expect_can_send(&member, &mut ogw, &g.general, "timeout lifted").await;

    // a timeout that simply runs out: no other change needed
    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": iso_from_now(3)}),
        )
        .await
        .ok(200);
    expect_cannot_send(&member, &g.general, "short timeout").await;
    tokio::time::sleep(std::time::Duration::from_millis(4500)).await;
    expect_can_send(&member, &mut ogw, &g.general, "short timeout expired").await;
}

#[tokio::test]
async fn membership_changes_apply_at_once() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let code = srv.invite_code(&owner, &g.general).await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    expect_visible(&owner, &member, &mut gw, &g.general, "member").await;

    // kick
    owner.api.kick(&g.id, &member.id).await.ok(204);
    let m = owner.api.say(&g.general, "after the kick").await;
    member.api.channel(&g.general).await.err(404, 10003);
    member.api.guild(&g.id).await.err(404, 10004);
    gw.expect_no_msg(&m).await;
    member.api.join(&code).await.ok(200);
    expect_visible(&owner, &member, &mut gw, &g.general, "rejoined after kick").await;

    // ban
    owner.api.ban(&g.id, &member.id, &json!({})).await.ok(204);
    let m = owner.api.say(&g.general, "after the ban").await;
    member.api.channel(&g.general).await.err(404, 10003);
    gw.expect_no_msg(&m).await;
    member.api.join(&code).await.err(403, 40007);
    owner.api.unban(&g.id, &member.id).await.ok(204);
    member.api.join(&code).await.ok(200);
    expect_visible(&owner, &member, &mut gw, &g.general, "rejoined after unban").await;

    // leave
    member.api.leave_guild(&g.id).await.ok(204);
    let m = owner.api.say(&g.general, "after leaving").await;
    member.api.channel(&g.general).await.err(404, 10003);
    gw.expect_no_msg(&m).await;
    member.api.join(&code).await.ok(200);
    expect_visible(
        &owner,
        &member,
        &mut gw,
        &g.general,
        "rejoined after leaving",
    )
    .await;
}

/// A session opened before the change and one opened after it agree (no per-session cache).
#[tokio::test]
async fn old_and_new_sessions_agree() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let c = hidden_channel(&srv, &owner, &g, "secret").await;
    let mut old = srv.gw(&member.token, intents::DEFAULT).await;
    owner
        .api
        .put_overwrite(
            &c,
            &member.id,
            &json!({"type": 1, "allow": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    let mut new = srv.gw(&member.token, intents::DEFAULT).await;
    let m = owner.api.say(&c, "both").await;
    old.expect_msg(&m).await;
    new.expect_msg(&m).await;
    owner.api.delete_overwrite(&c, &member.id).await.ok(204);
    let m = owner.api.say(&c, "neither").await;
    old.expect_no_msg(&m).await;
    new.expect_no_msg(&m).await;
}

/// Timed-out members lose their permissions "unless owner/ADMINISTRATOR": granting ADMINISTRATOR
/// to a timed-out member restores everything at once, taking it away re-applies the timeout.
#[tokio::test]
async fn timed_out_member_given_administrator_is_exempt() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let admins = srv.role(&owner, &g, "admins", perm::ADMINISTRATOR).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": iso_from_now(3600)}),
        )
        .await
        .ok(200);
    expect_cannot_send(&member, &g.general, "timed out").await;
    srv.give3(&owner, &g, &member.id, &sid(&admins)).await;
    expect_can_send(&member, &mut ogw, &g.general, "timed out but ADMINISTRATOR").await;
    owner
        .api
        .remove_role(&g.id, &member.id, &sid(&admins))
        .await
        .ok(204);
    expect_cannot_send(
        &member,
        &g.general,
        "ADMINISTRATOR removed, timeout applies again",
    )
    .await;
}

/// Membership is checked per event for guild-scoped dispatches too: a removed member's live
/// session gets no further GUILD_UPDATE / GUILD_ROLE_CREATE / GUILD_MEMBER_ADD, until it rejoins.
#[tokio::test]
async fn guild_events_stop_at_once_after_removal() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let code = srv.invite_code(&owner, &g.general).await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;

    owner.api.kick(&g.id, &member.id).await.ok(204);
    gw.expect_dispatch_where("GUILD_DELETE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    owner
        .api
        .patch_guild(&g.id, &json!({"name": "Renamed after kick"}))
        .await
        .ok(200);
    srv.role(&owner, &g, "after kick", 0).await;
    srv.joined_user(&owner, &g, "newcomer").await;
    owner
        .api
        .patch_channel(&g.general, &json!({"topic": "after kick"}))
        .await
        .ok(200);
    for t in [
        "GUILD_UPDATE",
        "GUILD_ROLE_CREATE",
        "GUILD_MEMBER_ADD",
        "CHANNEL_UPDATE",
    ] {
        gw.expect_no_dispatch_where(t, QUIET / 2, |d| {
            d["id"] == g.id.as_str() || d["guild_id"] == g.id.as_str()
        })
        .await;
    }
    // back in: events flow again, starting with the GUILD_CREATE
    member.api.join(&code).await.ok(200);
    gw.expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    owner
        .api
        .patch_guild(&g.id, &json!({"name": "Welcome back"}))
        .await
        .ok(200);
    gw.expect_dispatch_where("GUILD_UPDATE", EVENT_TIMEOUT, |d| {
        d["name"] == "Welcome back"
    })
    .await;
}
