//! Issue 3 (/work/contract3.md): PUT/DELETE /channels/{id}/permissions/{overwrite_id},
//! PATCH/DELETE /channels/{id}, categories, parent_id, lock_permissions, category sync
//! propagation, detaching children on category delete; CHANNEL_UPDATE / CHANNEL_DELETE and their
//! VIEW_CHANNEL-filtered delivery.
mod common;
use common::perm3 as perm;
use common::*;
use serde_json::{json, Value};

async fn category(srv: &Server, owner: &User, g: &Guild, name: &str, ows: Vec<Value>) -> String {
    let c = srv
        .channel3(
            owner,
            g,
            json!({"name": name, "type": 4, "permission_overwrites": ows}),
        )
        .await;
    assert_eq!(c["type"], 4, "{c}");
    sid(&c)
}

async fn text_in(
    srv: &Server,
    owner: &User,
    g: &Guild,
    name: &str,
    parent: Option<&str>,
    ows: Vec<Value>,
) -> String {
    let mut body = json!({"name": name, "permission_overwrites": ows});
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    sid(&srv.channel3(owner, g, body).await)
}

// ------------------------------------------------------------------------------------------
// overwrites
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn put_overwrite_role_and_member() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let r = srv.role(&owner, &g, "r", 0).await;
    let rid = sid(&r);
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;

    // role overwrite; no `id` in the body
    owner
        .api
        .put_overwrite(
            &g.general,
            &rid,
            &json!({"type": 0, "allow": perm::VIEW_CHANNEL.to_string(), "deny": perm::SEND_MESSAGES.to_string()}),
        )
        .await
        .ok(204);
    let cu = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
            d["id"] == g.general.as_str()
        })
        .await;
    check_channel_gw(&cu, "CHANNEL_UPDATE");
    assert_eq!(
        overwrite_set(&cu),
        overwrite_set_of(&[ow3(&rid, 0, perm::VIEW_CHANNEL, perm::SEND_MESSAGES)])
    );
    let ch = owner.api.channel(&g.general).await.ok(200);
    check_channel(&ch, "GET after PUT");
    assert_eq!(overwrite_set(&ch), overwrite_set(&cu));

    // PUT again replaces it; allow/deny default to "0"; integers accepted
    owner
        .api
        .put_overwrite(
            &g.general,
            &rid,
            &json!({"type": 0, "deny": perm::ADD_REACTIONS}),
        )
        .await
        .ok(204);
    // member overwrite
    owner
        .api
        .put_overwrite(
            &g.general,
            &member.id,
            &json!({"type": 1, "allow": perm::SEND_TTS_MESSAGES.to_string()}),
        )
        .await
        .ok(204);
    let ch = owner.api.channel(&g.general).await.ok(200);
    assert_eq!(
        overwrite_set(&ch),
        overwrite_set_of(&[
            ow3(&rid, 0, 0, perm::ADD_REACTIONS),
            ow3(&member.id, 1, perm::SEND_TTS_MESSAGES, 0),
        ]),
        "{ch}"
    );
    // @everyone overwrite (id == guild id) on v9 too
    owner
        .api
        .v9()
        .put_overwrite(
            &g.general,
            &g.id,
            &json!({"type": 0, "deny": perm::SEND_MESSAGES.to_string()}),
        )
        .await
        .ok(204);
    member
        .api
        .send(
            &g.general,
            &json!({"content": "muted by @everyone overwrite"}),
        )
        .await
        .err(403, 50013);
}

#[tokio::test]
async fn put_overwrite_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let ok_body = json!({"type": 0, "allow": perm::VIEW_CHANNEL.to_string()});

    owner
        .api
        .put_overwrite(&g.general, &g.id, &json!({"allow": "1024"}))
        .await
        .form_error("type");
    owner
        .api
        .put_overwrite(&g.general, &g.id, &json!({"type": 7}))
        .await
        .form_error("type");
    owner
        .api
        .put_overwrite(&g.general, &g.id, &json!({"type": 0, "allow": "lots"}))
        .await
        .form_error("allow");
    owner
        .api
        .raw(
            "PUT",
            &format!("/channels/{}/permissions/{}", g.general, g.id),
            Some(b"{\"type\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    owner
        .api
        .put_overwrite(&g.general, &bogus_id(), &ok_body)
        .await
        .err(404, 10011);
    let outsider_id = outsider.id.clone();
    owner
        .api
        .put_overwrite(
            &g.general,
            &outsider_id,
            &json!({"type": 1, "allow": "1024"}),
        )
        .await
        .err(404, 10007);
    // needs MANAGE_ROLES
    member
        .api
        .put_overwrite(&g.general, &g.id, &ok_body)
        .await
        .err(403, 50013);
    // non-member: the unknown-channel answer
    let bogus_channel = bogus_id();
    let want = outsider
        .api
        .put_overwrite(&bogus_channel, &g.id, &ok_body)
        .await;
    want.err(404, 10003);
    assert_same_answer(
        &outsider
            .api
            .put_overwrite(&g.general, &g.id, &ok_body)
            .await,
        &want,
        "outsider PUT overwrite",
    );
    owner
        .api
        .put_overwrite(&bogus_id(), &g.id, &ok_body)
        .await
        .err(404, 10003);
    srv.api()
        .put_overwrite(&g.general, &g.id, &ok_body)
        .await
        .unauthorized();
    // nothing stuck
    let ch = owner.api.channel(&g.general).await.ok(200);
    assert_eq!(ch["permission_overwrites"], json!([]), "{ch}");
}

#[tokio::test]
async fn put_overwrite_only_bits_held_and_manage_roles_in_channel() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let mods = srv.role(&owner, &g, "mods", perm::MANAGE_ROLES).await;
    srv.give3(&owner, &g, &moderator.id, &sid(&mods)).await;
    let plain = srv.role(&owner, &g, "plain", 0).await;
    let pid = sid(&plain);

    // bits it holds (MANAGE_ROLES from its role, VIEW/SEND from @everyone): fine, allow and deny
    moderator
        .api
        .put_overwrite(
            &g.general,
            &pid,
            &json!({"type": 0, "allow": (perm::VIEW_CHANNEL | perm::SEND_MESSAGES).to_string(), "deny": perm::ADD_REACTIONS.to_string()}),
        )
        .await
        .ok(204);
    // bits it lacks: refused, in allow and in deny
    for body in [
        json!({"type": 0, "allow": perm::MANAGE_WEBHOOKS.to_string()}),
        json!({"type": 0, "deny": perm::MANAGE_CHANNELS.to_string()}),
        json!({"type": 0, "allow": perm::MANAGE_MESSAGES.to_string()}),
    ] {
        moderator
            .api
            .put_overwrite(&g.general, &pid, &body)
            .await
            .err(403, 50013);
    }
    let ch = owner.api.channel(&g.general).await.ok(200);
    assert_eq!(
        overwrite_set(&ch),
        overwrite_set_of(&[ow3(
            &pid,
            0,
            perm::VIEW_CHANNEL | perm::SEND_MESSAGES,
            perm::ADD_REACTIONS
        )]),
        "refused PUTs changed nothing: {ch}"
    );

    // MANAGE_ROLES is needed in that channel: an overwrite denying it there blocks the moderator
    let guarded = text_in(
        &srv,
        &owner,
        &g,
        "guarded",
        None,
        vec![ow3(&moderator.id, 1, 0, perm::MANAGE_ROLES)],
    )
    .await;
    moderator.api.channel(&guarded).await.ok(200);
    moderator
        .api
        .put_overwrite(&guarded, &pid, &json!({"type": 0, "allow": "1024"}))
        .await
        .err(403, 50013);
    moderator
        .api
        .delete_overwrite(&guarded, &moderator.id)
        .await
        .err(403, 50013);
    // a channel it cannot see: 50001
    let hidden = text_in(
        &srv,
        &owner,
        &g,
        "hidden",
        None,
        vec![ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)],
    )
    .await;
    moderator
        .api
        .put_overwrite(&hidden, &pid, &json!({"type": 0, "allow": "2048"}))
        .await
        .err(403, 50001);
    moderator
        .api
        .delete_overwrite(&hidden, &g.id)
        .await
        .err(403, 50001);
}

#[tokio::test]
async fn delete_overwrite() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let c = text_in(
        &srv,
        &owner,
        &g,
        "ow",
        None,
        vec![
            ow3(&g.id, 0, 0, perm::SEND_MESSAGES),
            ow3(&member.id, 1, perm::ADD_REACTIONS, 0),
        ],
    )
    .await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;

    member.api.delete_overwrite(&c, &g.id).await.err(403, 50013);
    let bogus_channel = bogus_id();
    let want = outsider.api.delete_overwrite(&bogus_channel, &g.id).await;
    want.err(404, 10003);
    assert_same_answer(
        &outsider.api.delete_overwrite(&c, &g.id).await,
        &want,
        "outsider DELETE overwrite",
    );
    srv.api().delete_overwrite(&c, &g.id).await.unauthorized();

    owner.api.delete_overwrite(&c, &g.id).await.ok(204);
    let cu = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == c.as_str())
        .await;
    assert_eq!(
        overwrite_set(&cu),
        overwrite_set_of(&[ow3(&member.id, 1, perm::ADD_REACTIONS, 0)])
    );
    let ch = owner.api.channel(&c).await.ok(200);
    assert_eq!(overwrite_set(&ch), overwrite_set(&cu));
    member.api.say(&c, "the deny is gone").await;
    // a missing overwrite: 204 as well
    owner.api.delete_overwrite(&c, &g.id).await.ok(204);
    owner.api.delete_overwrite(&c, &bogus_id()).await.ok(204);
    owner.api.delete_overwrite(&c, &member.id).await.ok(204);
    let ch = owner.api.channel(&c).await.ok(200);
    assert_eq!(ch["permission_overwrites"], json!([]));
}

// ------------------------------------------------------------------------------------------
// PATCH /channels/{id}
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_channel_fields() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;
    let body = json!({
        "name": "renamed",
        "topic": "a topic",
        "nsfw": true,
        "rate_limit_per_user": 10,
        "position": 3,
        "unknown": true,
    });
    let c = owner.api.patch_channel(&g.general, &body).await.ok(200);
    check_channel(&c, "PATCH channel");
    assert_eq!(c["id"], g.general.as_str());
    assert_eq!(c["name"], "renamed");
    assert_eq!(c["topic"], "a topic");
    assert_eq!(c["nsfw"], true);
    assert_eq!(c["rate_limit_per_user"], 10);
    assert_eq!(c["position"], 3);
    assert_eq!(c["type"], 0);
    let d = mgw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
            d["id"] == g.general.as_str()
        })
        .await;
    check_channel_gw(&d, "CHANNEL_UPDATE");
    assert_eq!(d["name"], "renamed");
    assert_eq!(d["topic"], "a topic");
    assert_eq!(owner.api.channel(&g.general).await.ok(200), c);
    // partial: only the given field changes; topic null clears
    let c2 = owner
        .api
        .v9()
        .patch_channel(&g.general, &json!({"topic": null}))
        .await
        .ok(200);
    assert_eq!(c2["name"], "renamed");
    assert!(c2["topic"].is_null(), "{c2}");
    assert_eq!(c2["nsfw"], true);

    // validation
    let code = owner
        .api
        .patch_channel(&g.general, &json!({"name": ""}))
        .await
        .form_error("name");
    assert!(code.starts_with("BASE_TYPE"), "{code}");
    owner
        .api
        .patch_channel(&g.general, &json!({"name": "n".repeat(101)}))
        .await
        .form_error("name");
    owner
        .api
        .patch_channel(&g.general, &json!({"topic": "t".repeat(1025)}))
        .await
        .form_error("topic");
    owner
        .api
        .patch_channel(&g.general, &json!({"rate_limit_per_user": 21601}))
        .await
        .form_error("rate_limit_per_user");
    owner
        .api
        .raw(
            "PATCH",
            &format!("/channels/{}", g.general),
            Some(b"{\"name\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    assert_eq!(owner.api.channel(&g.general).await.ok(200), c2);
}

#[tokio::test]
async fn patch_channel_permissions_needed() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let chman = srv.joined_user(&owner, &g, "chman").await;
    let channel_managers = srv
        .role(&owner, &g, "channels", perm::MANAGE_CHANNELS)
        .await;
    srv.give3(&owner, &g, &chman.id, &sid(&channel_managers))
        .await;
    let new_ows = json!({"permission_overwrites": [ow3(&g.id, 0, 0, perm::SEND_MESSAGES)]});

    member
        .api
        .patch_channel(&g.general, &json!({"name": "nope"}))
        .await
        .err(403, 50013);
    // MANAGE_CHANNELS suffices for plain fields...
    let c = chman
        .api
        .patch_channel(&g.general, &json!({"name": "by-chman"}))
        .await
        .ok(200);
    assert_eq!(c["name"], "by-chman");
    // ...but changing overwrites also needs MANAGE_ROLES
    chman
        .api
        .patch_channel(&g.general, &new_ows)
        .await
        .err(403, 50013);
    assert_eq!(
        owner.api.channel(&g.general).await.ok(200)["permission_overwrites"],
        json!([])
    );
    let both = srv.joined_user(&owner, &g, "both").await;
    let r = srv
        .role(
            &owner,
            &g,
            "both",
            perm::MANAGE_CHANNELS | perm::MANAGE_ROLES,
        )
        .await;
    srv.give3(&owner, &g, &both.id, &sid(&r)).await;
    let c = both.api.patch_channel(&g.general, &new_ows).await.ok(200);
    assert_eq!(
        overwrite_set(&c),
        overwrite_set_of(&[ow3(&g.id, 0, 0, perm::SEND_MESSAGES)])
    );

    // hidden channel: 50001 even with MANAGE_CHANNELS
    let hidden = text_in(
        &srv,
        &owner,
        &g,
        "hidden",
        None,
        vec![ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)],
    )
    .await;
    chman
        .api
        .patch_channel(&hidden, &json!({"name": "found"}))
        .await
        .err(403, 50001);
    member
        .api
        .patch_channel(&hidden, &json!({"name": "found"}))
        .await
        .err(403, 50001);
    // non-member / unknown
    let bogus_channel = bogus_id();
    let want = outsider
        .api
        .patch_channel(&bogus_channel, &json!({"name": "x"}))
        .await;
    want.err(404, 10003);
    assert_same_answer(
        &outsider
            .api
            .patch_channel(&g.general, &json!({"name": "x"}))
            .await,
        &want,
        "outsider PATCH channel",
    );
    owner
        .api
        .patch_channel(&bogus_id(), &json!({"name": "x"}))
        .await
        .err(404, 10003);
    srv.api()
        .patch_channel(&g.general, &json!({"name": "x"}))
        .await
        .unauthorized();
}

#[tokio::test]
async fn patch_parent_id_move_and_detach() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let cat = category(&srv, &owner, &g, "Cat", vec![]).await;
    let other = text_in(&srv, &owner, &g, "other", None, vec![]).await;

    let c = owner
        .api
        .patch_channel(&g.general, &json!({"parent_id": cat}))
        .await
        .ok(200);
    assert_eq!(c["parent_id"], cat.as_str());
    let c = owner
        .api
        .patch_channel(&g.general, &json!({"name": "still-in-cat"}))
        .await
        .ok(200);
    assert_eq!(c["parent_id"], cat.as_str(), "absent parent_id leaves it");
    let c = owner
        .api
        .patch_channel(&g.general, &json!({"parent_id": null}))
        .await
        .ok(200);
    assert!(c["parent_id"].is_null(), "null detaches: {c}");
    // the parent must be a category of this guild
    owner
        .api
        .patch_channel(&g.general, &json!({"parent_id": other}))
        .await
        .form_error("parent_id");
    owner
        .api
        .patch_channel(&g.general, &json!({"parent_id": bogus_id()}))
        .await
        .form_error("parent_id");
    let elsewhere = srv.guild(&owner, "Elsewhere").await;
    let foreign_cat = category(&srv, &owner, &elsewhere, "Foreign", vec![]).await;
    owner
        .api
        .patch_channel(&g.general, &json!({"parent_id": foreign_cat}))
        .await
        .form_error("parent_id");
    assert!(owner.api.channel(&g.general).await.ok(200)["parent_id"].is_null());
}

#[tokio::test]
async fn lock_permissions_copies_category_overwrites() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let insider = srv.joined_user(&owner, &g, "insider").await;
    let staff = srv.role(&owner, &g, "staff", 0).await;
    let sid_staff = sid(&staff);
    srv.give3(&owner, &g, &insider.id, &sid_staff).await;
    let cat_ows = vec![
        ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
        ow3(&sid_staff, 0, perm::VIEW_CHANNEL, 0),
    ];
    let cat = category(&srv, &owner, &g, "Staff", cat_ows.clone()).await;
    let own_ows = vec![ow3(&member.id, 1, perm::ADD_REACTIONS, 0)];
    let t = text_in(&srv, &owner, &g, "to-lock", None, own_ows.clone()).await;
    let u = text_in(&srv, &owner, &g, "no-lock", None, own_ows.clone()).await;
    member.api.channel(&t).await.ok(200);
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;

    let c = owner
        .api
        .patch_channel(&t, &json!({"parent_id": cat, "lock_permissions": true}))
        .await
        .ok(200);
    assert_eq!(c["parent_id"], cat.as_str());
    assert_eq!(
        overwrite_set(&c),
        overwrite_set_of(&cat_ows),
        "lock_permissions copies the category's overwrites: {c}"
    );
    let d = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == t.as_str())
        .await;
    assert_eq!(overwrite_set(&d), overwrite_set_of(&cat_ows));
    // and they apply at once
    member.api.channel(&t).await.err(403, 50001);
    insider.api.channel(&t).await.ok(200);

    // without lock_permissions the moved channel keeps its own overwrites
    let c = owner
        .api
        .patch_channel(&u, &json!({"parent_id": cat}))
        .await
        .ok(200);
    assert_eq!(c["parent_id"], cat.as_str());
    assert_eq!(overwrite_set(&c), overwrite_set_of(&own_ows));
    member.api.channel(&u).await.ok(200);
}

async fn sync_fixture(
    srv: &Server,
    owner: &User,
    g: &Guild,
) -> (String, String, String, String, Vec<Value>, Vec<Value>) {
    // category with O; A in sync (same overwrites), B out of sync, E empty in an empty category
    let o = vec![ow3(&g.id, 0, 0, perm::SEND_MESSAGES)];
    let b_ows = vec![ow3(&g.id, 0, 0, perm::ADD_REACTIONS)];
    let cat = category(srv, owner, g, "Cat", o.clone()).await;
    let a = text_in(srv, owner, g, "synced", Some(&cat), o.clone()).await;
    let b = text_in(srv, owner, g, "unsynced", Some(&cat), b_ows.clone()).await;
    let outside = text_in(srv, owner, g, "outside", None, o.clone()).await;
    (cat, a, b, outside, o, b_ows)
}

#[tokio::test]
async fn category_patch_propagates_to_synced_children() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (cat, a, b, outside, o, b_ows) = sync_fixture(&srv, &owner, &g).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    member.api.channel(&a).await.ok(200);

    let new_o = vec![ow3(&g.id, 0, 0, perm::VIEW_CHANNEL | perm::SEND_MESSAGES)];
    let c = owner
        .api
        .patch_channel(&cat, &json!({"permission_overwrites": new_o}))
        .await
        .ok(200);
    assert_eq!(overwrite_set(&c), overwrite_set_of(&new_o));
    // CHANNEL_UPDATE for the category and the synced child
    ogw.expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == cat.as_str())
        .await;
    let d = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == a.as_str())
        .await;
    assert_eq!(overwrite_set(&d), overwrite_set_of(&new_o), "{d}");
    // the synced child follows, the unsynced one and the channel outside do not
    assert_eq!(
        overwrite_set(&owner.api.channel(&a).await.ok(200)),
        overwrite_set_of(&new_o)
    );
    assert_eq!(
        overwrite_set(&owner.api.channel(&b).await.ok(200)),
        overwrite_set_of(&b_ows)
    );
    assert_eq!(
        overwrite_set(&owner.api.channel(&outside).await.ok(200)),
        overwrite_set_of(&o)
    );
    ogw.expect_no_dispatch_where("CHANNEL_UPDATE", QUIET, |d| {
        d["id"] == b.as_str() || d["id"] == outside.as_str()
    })
    .await;
    // effective immediately
    member.api.channel(&a).await.err(403, 50001);
    member.api.channel(&b).await.ok(200);

    // a child edited on its own leaves the sync; the next category edit no longer touches it
    owner
        .api
        .patch_channel(
            &a,
            &json!({"permission_overwrites": [ow3(&member.id, 1, perm::VIEW_CHANNEL, 0)]}),
        )
        .await
        .ok(200);
    owner
        .api
        .patch_channel(&cat, &json!({"permission_overwrites": o}))
        .await
        .ok(200);
    assert_eq!(
        overwrite_set(&owner.api.channel(&a).await.ok(200)),
        overwrite_set_of(&[ow3(&member.id, 1, perm::VIEW_CHANNEL, 0)])
    );
}

#[tokio::test]
async fn category_empty_overwrites_sync_too() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    // empty category, empty child: in sync
    let cat = category(&srv, &owner, &g, "Empty", vec![]).await;
    let child = text_in(&srv, &owner, &g, "child", Some(&cat), vec![]).await;
    let hide = vec![ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)];
    owner
        .api
        .patch_channel(&cat, &json!({"permission_overwrites": hide}))
        .await
        .ok(200);
    assert_eq!(
        overwrite_set(&owner.api.channel(&child).await.ok(200)),
        overwrite_set_of(&hide)
    );
    member.api.channel(&child).await.err(403, 50001);
}

/// Contract3: "Editing a category's overwrites also applies them to every child that was in sync"
/// — the overwrite routes edit the category's overwrites too.
#[tokio::test]
async fn category_overwrite_put_delete_propagates_to_synced_children() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (cat, a, b, _outside, _o, b_ows) = sync_fixture(&srv, &owner, &g).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;

    owner
        .api
        .put_overwrite(
            &cat,
            &member.id,
            &json!({"type": 1, "deny": perm::VIEW_CHANNEL.to_string()}),
        )
        .await
        .ok(204);
    let want = overwrite_set(&owner.api.channel(&cat).await.ok(200));
    assert_eq!(want.len(), 2, "{want:?}");
    let d = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == a.as_str())
        .await;
    assert_eq!(overwrite_set(&d), want);
    assert_eq!(overwrite_set(&owner.api.channel(&a).await.ok(200)), want);
    assert_eq!(
        overwrite_set(&owner.api.channel(&b).await.ok(200)),
        overwrite_set_of(&b_ows)
    );
    member.api.channel(&a).await.err(403, 50001);
    member.api.channel(&b).await.ok(200);

    owner.api.delete_overwrite(&cat, &member.id).await.ok(204);
    let want = overwrite_set(&owner.api.channel(&cat).await.ok(200));
    assert_eq!(overwrite_set(&owner.api.channel(&a).await.ok(200)), want);
    member.api.channel(&a).await.ok(200);
}

// ------------------------------------------------------------------------------------------
// DELETE /channels/{id}
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn delete_channel() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let c = srv
        .channel3(&owner, &g, json!({"name": "doomed", "topic": "bye"}))
        .await;
    let cid = sid(&c);
    owner.api.say(&cid, "last words").await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    member.api.delete_channel(&cid).await.err(403, 50013);
    let bogus_channel = bogus_id();
    let want = outsider.api.delete_channel(&bogus_channel).await;
    want.err(404, 10003);
    assert_same_answer(
        &outsider.api.delete_channel(&cid).await,
        &want,
        "outsider DELETE channel",
    );
    srv.api().delete_channel(&cid).await.unauthorized();
    owner.api.channel(&cid).await.ok(200);

    let gone = owner.api.delete_channel(&cid).await.ok(200);
    check_channel_gw(&gone, "DELETE channel response");
    assert_eq!(gone["id"], cid.as_str());
    assert_eq!(gone["name"], "doomed");
    for (who, gw) in [("owner", &mut ogw), ("member", &mut mgw)] {
        let d = gw
            .expect_dispatch_where("CHANNEL_DELETE", EVENT_TIMEOUT, |d| d["id"] == cid.as_str())
            .await;
        assert_eq!(d["guild_id"], g.id.as_str(), "{who}: {d}");
        assert_eq!(d["type"], 0, "{who}: {d}");
    }
    owner.api.channel(&cid).await.err(404, 10003);
    owner.api.messages(&cid, "").await.err(404, 10003);
    owner
        .api
        .send(&cid, &json!({"content": "anyone?"}))
        .await
        .err(404, 10003);
    owner.api.delete_channel(&cid).await.err(404, 10003);
    let list = owner.api.channels(&g.id).await.ok(200);
    assert!(!ids(&list).contains(&cid), "{list}");
}

#[tokio::test]
async fn delete_channel_permissions() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let chman = srv.joined_user(&owner, &g, "chman").await;
    let r = srv
        .role(&owner, &g, "channels", perm::MANAGE_CHANNELS)
        .await;
    srv.give3(&owner, &g, &chman.id, &sid(&r)).await;
    let hidden = text_in(
        &srv,
        &owner,
        &g,
        "hidden",
        None,
        vec![ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)],
    )
    .await;
    let open = text_in(&srv, &owner, &g, "open", None, vec![]).await;
    chman.api.delete_channel(&hidden).await.err(403, 50001);
    member.api.delete_channel(&hidden).await.err(403, 50001);
    member.api.delete_channel(&open).await.err(403, 50013);
    // a channel-level deny of MANAGE_CHANNELS
    let guarded = text_in(
        &srv,
        &owner,
        &g,
        "guarded",
        None,
        vec![ow3(&chman.id, 1, 0, perm::MANAGE_CHANNELS)],
    )
    .await;
    chman.api.delete_channel(&guarded).await.err(403, 50013);
    chman.api.delete_channel(&open).await.ok(200);
    owner.api.channel(&hidden).await.ok(200);
    owner.api.channel(&guarded).await.ok(200);
}

#[tokio::test]
async fn delete_category_detaches_children() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let cat = category(&srv, &owner, &g, "Doomed", vec![]).await;
    let a = text_in(&srv, &owner, &g, "a", Some(&cat), vec![]).await;
    let b = text_in(&srv, &owner, &g, "b", Some(&cat), vec![]).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    let gone = owner.api.delete_channel(&cat).await.ok(200);
    assert_eq!(gone["id"], cat.as_str());
    assert_eq!(gone["type"], 4);
    mgw.expect_dispatch_where("CHANNEL_DELETE", EVENT_TIMEOUT, |d| d["id"] == cat.as_str())
        .await;
    for child in [&a, &b] {
        let d = mgw
            .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
                d["id"] == child.as_str()
            })
            .await;
        assert!(d["parent_id"].is_null(), "child detached: {d}");
        let c = owner.api.channel(child).await.ok(200);
        assert!(c["parent_id"].is_null(), "{c}");
    }
    owner.api.channel(&cat).await.err(404, 10003);
    // children still work
    member.api.say(&a, "still here").await;
}

// ------------------------------------------------------------------------------------------
// delivery of channel events follows VIEW_CHANNEL
// ------------------------------------------------------------------------------------------

/// Channel events reach every member with GUILDS, hidden channels included: GUILD_CREATE lists
/// every channel, so withholding updates would leave caches stale (the differential test
/// against discord.py caught exactly that). Messages in the hidden channel stay hidden.
#[tokio::test]
async fn channel_events_reach_every_member_but_messages_only_viewers() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let viewer = srv.joined_user(&owner, &g, "viewer").await;
    let viewers = srv.role(&owner, &g, "viewers", 0).await;
    let vid = sid(&viewers);
    srv.give3(&owner, &g, &viewer.id, &vid).await;
    let mut pgw = srv.gw(&plain.token, intents::DEFAULT).await;
    let mut vgw = srv.gw(&viewer.token, intents::DEFAULT).await;

    let hidden = text_in(
        &srv,
        &owner,
        &g,
        "hidden",
        None,
        vec![
            ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow3(&vid, 0, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;
    vgw.expect_dispatch_where("CHANNEL_CREATE", EVENT_TIMEOUT, |d| {
        d["id"] == hidden.as_str()
    })
    .await;
    owner
        .api
        .patch_channel(&hidden, &json!({"topic": "secret topic"}))
        .await
        .ok(200);
    vgw.expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
        d["id"] == hidden.as_str()
    })
    .await;
    owner
        .api
        .put_overwrite(&hidden, &viewer.id, &json!({"type": 1, "allow": "2048"}))
        .await
        .ok(204);
    vgw.expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
        d["id"] == hidden.as_str() && d["permission_overwrites"].as_array().unwrap().len() == 3
    })
    .await;
    owner.api.delete_channel(&hidden).await.ok(200);
    vgw.expect_dispatch_where("CHANNEL_DELETE", EVENT_TIMEOUT, |d| {
        d["id"] == hidden.as_str()
    })
    .await;
    // the plain member cannot see the channel but its cache follows it all the same
    for t in ["CHANNEL_CREATE", "CHANNEL_UPDATE", "CHANNEL_DELETE"] {
        pgw.expect_dispatch_where(t, EVENT_TIMEOUT, |d| d["id"] == hidden.as_str())
            .await;
    }
    // ... while messages in a hidden channel reach only its viewers
    let secret = text_in(
        &srv,
        &owner,
        &g,
        "secret",
        None,
        vec![
            ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow3(&vid, 0, perm::VIEW_CHANNEL, 0),
        ],
    )
    .await;
    let m = owner.api.say(&secret, "viewers only").await;
    vgw.expect_msg(&m).await;
    pgw.expect_no_msg(&m).await;
    // sanity: it does get events of channels it can see
    owner
        .api
        .patch_channel(&g.general, &json!({"topic": "public"}))
        .await
        .ok(200);
    pgw.expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| {
        d["id"] == g.general.as_str()
    })
    .await;
}
