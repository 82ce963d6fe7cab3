//! Issue 3 (/work/contract3.md): PATCH/DELETE /guilds/{id}/roles/{rid}, PATCH /guilds/{id}/roles
//! (positions), the role hierarchy on them, GUILD_ROLE_UPDATE / GUILD_ROLE_DELETE, and a deleted
//! role vanishing from members and channel overwrites (CHANNEL_UPDATE).
mod common;
use common::*;
use serde_json::{json, Value};

fn role_in<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap_or_else(|| panic!("roles array expected, got {list}"))
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("role {id} not in {list}"))
}

fn pos(list: &Value, id: &str) -> i64 {
    role_in(list, id)["position"].as_i64().unwrap()
}

#[tokio::test]
async fn patch_role_updates_fields_and_dispatches() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let r = srv.role(&owner, &g, "Helpers", perm::SEND_MESSAGES).await;
    let rid = sid(&r);
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    let body = json!({
        "name": "Moderators",
        "permissions": (perm::KICK_MEMBERS | perm::SEND_MESSAGES).to_string(),
        "color": 0x00ff00,
        "hoist": true,
        "mentionable": true,
        "unknown_field": 1,
    });
    let up = owner.api.patch_role(&g.id, &rid, &body).await.ok(200);
    check_role(&up, "PATCH role");
    assert_eq!(up["id"], rid.as_str());
    assert_eq!(up["name"], "Moderators");
    assert_eq!(
        perm_str(&up["permissions"], "patched"),
        perm::KICK_MEMBERS | perm::SEND_MESSAGES
    );
    assert_eq!(up["color"], 0x00ff00);
    assert_eq!(up["colors"]["primary_color"], 0x00ff00);
    assert_eq!(up["hoist"], true);
    assert_eq!(up["mentionable"], true);
    assert_eq!(up["position"], r["position"], "PATCH role must not move it");
    assert_eq!(up["managed"], false);

    // GUILD_ROLE_UPDATE {guild_id, role} to every member's session
    for (who, gw) in [("owner", &mut ogw), ("member", &mut mgw)] {
        let d = gw
            .expect_dispatch_where("GUILD_ROLE_UPDATE", EVENT_TIMEOUT, |d| {
                d["role"]["id"] == rid.as_str()
            })
            .await;
        assert_eq!(d["guild_id"], g.id.as_str(), "{who}: {d}");
        check_role(&d["role"], &format!("{who} GUILD_ROLE_UPDATE.role"));
        assert_eq!(d["role"]["name"], "Moderators", "{who}: {d}");
        assert_eq!(
            d["role"]["permissions"],
            (perm::KICK_MEMBERS | perm::SEND_MESSAGES).to_string()
        );
    }

    // persisted
    let listed = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(role_in(&listed, &rid), &up);

    // partial update: only the given fields change; permissions may be an integer; colors
    let up2 = owner
        .api
        .patch_role(
            &g.id,
            &rid,
            &json!({"permissions": perm::VIEW_CHANNEL, "colors": {"primary_color": 255}}),
        )
        .await
        .ok(200);
    assert_eq!(up2["name"], "Moderators");
    assert_eq!(up2["hoist"], true);
    assert_eq!(
        perm_str(&up2["permissions"], "int perms"),
        perm::VIEW_CHANNEL
    );
    assert_eq!(up2["colors"]["primary_color"], 255);
    assert_eq!(up2["color"], 255);
    let up3 = owner
        .api
        .v9()
        .patch_role(&g.id, &rid, &json!({"name": "Mods v9"}))
        .await
        .ok(200);
    assert_eq!(up3["name"], "Mods v9");
    assert_eq!(
        perm_str(&up3["permissions"], "unchanged"),
        perm::VIEW_CHANNEL
    );
}

#[tokio::test]
async fn patch_everyone_role() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let new_perms = perm::EVERYONE_DEFAULT & !perm::CREATE_INSTANT_INVITE;
    let up = owner
        .api
        .patch_role(&g.id, &g.id, &json!({"permissions": new_perms.to_string()}))
        .await
        .ok(200);
    check_role(&up, "@everyone");
    assert_eq!(up["id"], g.id.as_str());
    assert_eq!(up["name"], "@everyone");
    assert_eq!(up["position"], 0);
    assert_eq!(perm_str(&up["permissions"], "@everyone"), new_perms);
    // takes effect: the plain member lost CREATE_INSTANT_INVITE
    member
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .err(403, 50013);
    // its name cannot change (refused, or ignored)
    let r = owner
        .api
        .patch_role(&g.id, &g.id, &json!({"name": "everybody"}))
        .await;
    assert!(
        r.status == 200 || r.status == 400,
        "renaming @everyone: 200 (ignored) or 400 expected, got {} {}",
        r.status,
        r.text
    );
    let listed = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(role_in(&listed, &g.id)["name"], "@everyone");
    assert_eq!(role_in(&listed, &g.id)["position"], 0);
}

#[tokio::test]
async fn patch_role_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let r = srv.role(&owner, &g, "Keep", perm::SEND_MESSAGES).await;
    let rid = sid(&r);
    let body = json!({"name": "changed"});

    member
        .api
        .patch_role(&g.id, &rid, &body)
        .await
        .err(403, 50013);
    owner
        .api
        .patch_role(&g.id, &bogus_id(), &body)
        .await
        .err(404, 10011);
    let bogus_guild = bogus_id();
    let want = outsider.api.patch_role(&bogus_guild, &rid, &body).await;
    want.err(404, 10004);
    let got = outsider.api.patch_role(&g.id, &rid, &body).await;
    assert_same_answer(&got, &want, "outsider PATCH role");
    srv.api()
        .patch_role(&g.id, &rid, &body)
        .await
        .unauthorized();

    let code = owner
        .api
        .patch_role(&g.id, &rid, &json!({"name": "n".repeat(101)}))
        .await
        .form_error("name");
    assert!(
        code == "BASE_TYPE_MAX_LENGTH" || code == "BASE_TYPE_BAD_LENGTH",
        "role name over 100: {code}"
    );
    owner
        .api
        .patch_role(&g.id, &rid, &json!({"permissions": "lots"}))
        .await
        .form_error("permissions");
    owner
        .api
        .raw(
            "PATCH",
            &format!("/guilds/{}/roles/{rid}", g.id),
            Some(b"{\"name\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    // nothing changed
    let listed = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(role_in(&listed, &rid), &r);
}

#[tokio::test]
async fn patch_role_respects_hierarchy_and_held_bits() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let ranked = srv
        .ranked_roles(
            &owner,
            &g,
            &[
                ("low", perm::SEND_MESSAGES),
                ("mid", perm::MANAGE_ROLES),
                ("high", perm::MANAGE_ROLES),
            ],
        )
        .await;
    let (low, mid, high) = (sid(&ranked[0]), sid(&ranked[1]), sid(&ranked[2]));
    srv.give3(&owner, &g, &moderator.id, &mid).await;

    // below own highest: allowed, with bits it holds (MANAGE_ROLES from mid, the rest from @everyone)
    let ok = moderator
        .api
        .patch_role(
            &g.id,
            &low,
            &json!({"name": "low2", "permissions": (perm::MANAGE_ROLES | perm::VIEW_CHANNEL | perm::SEND_MESSAGES).to_string()}),
        )
        .await
        .ok(200);
    assert_eq!(ok["name"], "low2");
    // equal to / above own highest role: refused
    moderator
        .api
        .patch_role(&g.id, &mid, &json!({"name": "mine now"}))
        .await
        .err(403, 50013);
    moderator
        .api
        .patch_role(&g.id, &high, &json!({"name": "mine now"}))
        .await
        .err(403, 50013);
    // granting bits it does not hold: refused
    for bits in [perm::ADMINISTRATOR, perm::MANAGE_GUILD, perm::KICK_MEMBERS] {
        moderator
            .api
            .patch_role(&g.id, &low, &json!({"permissions": bits.to_string()}))
            .await
            .err(403, 50013);
    }
    // nothing of that stuck
    let listed = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(role_in(&listed, &mid)["name"], "mid");
    assert_eq!(role_in(&listed, &high)["name"], "high");
    assert_eq!(
        perm_str(&role_in(&listed, &low)["permissions"], "low"),
        perm::MANAGE_ROLES | perm::VIEW_CHANNEL | perm::SEND_MESSAGES
    );
    // the owner is above everyone
    owner
        .api
        .patch_role(
            &g.id,
            &high,
            &json!({"permissions": perm::ADMINISTRATOR.to_string()}),
        )
        .await
        .ok(200);
    // ADMINISTRATOR holders may grant anything below their highest role
    let admin = srv.joined_user(&owner, &g, "admin").await;
    srv.give3(&owner, &g, &admin.id, &high).await;
    admin
        .api
        .patch_role(
            &g.id,
            &low,
            &json!({"permissions": perm::MANAGE_GUILD.to_string()}),
        )
        .await
        .ok(200);
    admin
        .api
        .patch_role(&g.id, &high, &json!({"name": "own top"}))
        .await
        .err(403, 50013);
}

#[tokio::test]
async fn delete_role_removes_it_from_members_and_overwrites() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let doomed = srv.role(&owner, &g, "doomed", perm::KICK_MEMBERS).await;
    let keep = srv.role(&owner, &g, "keep", 0).await;
    let (rid, kid) = (sid(&doomed), sid(&keep));
    srv.give3(&owner, &g, &member.id, &rid).await;
    srv.give3(&owner, &g, &member.id, &kid).await;
    let c = srv
        .channel3(
            &owner,
            &g,
            json!({"name": "with-overwrite", "permission_overwrites": [
                ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
                ow3(&rid, 0, perm::VIEW_CHANNEL, 0),
                ow3(&kid, 0, 0, perm::SEND_MESSAGES),
            ]}),
        )
        .await;
    let cid = sid(&c);
    member.api.channel(&cid).await.ok(200);
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    owner.api.delete_role(&g.id, &rid).await.ok(204);

    for (who, gw) in [("owner", &mut ogw), ("member", &mut mgw)] {
        let d = gw
            .expect_dispatch_where("GUILD_ROLE_DELETE", EVENT_TIMEOUT, |d| {
                d["role_id"] == rid.as_str()
            })
            .await;
        assert_eq!(d["guild_id"], g.id.as_str(), "{who} GUILD_ROLE_DELETE: {d}");
    }
    // the channel that had an overwrite for it: CHANNEL_UPDATE without that overwrite
    let cu = ogw
        .expect_dispatch_where("CHANNEL_UPDATE", EVENT_TIMEOUT, |d| d["id"] == cid.as_str())
        .await;
    check_channel_gw(&cu, "CHANNEL_UPDATE after role delete");
    assert_eq!(
        overwrite_set(&cu),
        overwrite_set_of(&[
            ow3(&g.id, 0, 0, perm::VIEW_CHANNEL),
            ow3(&kid, 0, 0, perm::SEND_MESSAGES)
        ]),
        "{cu}"
    );

    // gone from the role list, the member and the channel
    let roles = owner.api.roles(&g.id).await.ok(200);
    assert!(!ids(&roles).contains(&rid), "{roles}");
    let m = owner.api.member(&g.id, &member.id).await.ok(200);
    assert_eq!(member_role_ids(&m), vec![kid.clone()], "{m}");
    let ch = owner.api.channel(&cid).await.ok(200);
    assert_eq!(overwrite_set(&ch), overwrite_set(&cu));
    // and its permissions with it: the member no longer sees the channel nor may kick
    member.api.channel(&cid).await.err(403, 50001);
    let listed = member.api.my_guilds().await.ok(200);
    assert_eq!(
        perm_str(&listed[0]["permissions"], "after delete") & perm::KICK_MEMBERS,
        0
    );

    // a second delete: unknown role
    owner.api.delete_role(&g.id, &rid).await.err(404, 10011);
    owner
        .api
        .add_role(&g.id, &member.id, &rid)
        .await
        .err(404, 10011);
}

#[tokio::test]
async fn delete_role_failures_and_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let plain = srv.joined_user(&owner, &g, "plain").await;
    let outsider = srv.user("outsider").await;
    let ranked = srv
        .ranked_roles(
            &owner,
            &g,
            &[
                ("low", 0),
                ("mid", perm::MANAGE_ROLES),
                ("high", perm::MANAGE_ROLES),
            ],
        )
        .await;
    let (low, mid, high) = (sid(&ranked[0]), sid(&ranked[1]), sid(&ranked[2]));
    srv.give3(&owner, &g, &moderator.id, &mid).await;

    plain.api.delete_role(&g.id, &low).await.err(403, 50013);
    moderator.api.delete_role(&g.id, &mid).await.err(403, 50013);
    moderator
        .api
        .delete_role(&g.id, &high)
        .await
        .err(403, 50013);
    // @everyone cannot be deleted
    owner.api.delete_role(&g.id, &g.id).await.err(400, 50028);
    moderator
        .api
        .delete_role(&g.id, &g.id)
        .await
        .err_any(400, &[50028]);
    // a managed (bot) role cannot be deleted
    let bot = srv.bot(&owner, "Robo").await;
    srv.authorize(&owner, &bot, &g, perm::SEND_MESSAGES).await;
    let roles = owner.api.roles(&g.id).await.ok(200);
    let managed = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["managed"] == true)
        .unwrap_or_else(|| panic!("no managed role in {roles}"))
        .clone();
    let r = owner.api.delete_role(&g.id, &sid(&managed)).await;
    assert_error_in(&r, &[(400, 50028), (403, 50013)], "deleting a managed role");
    owner
        .api
        .delete_role(&g.id, &bogus_id())
        .await
        .err(404, 10011);
    let bogus_guild = bogus_id();
    let want = outsider.api.delete_role(&bogus_guild, &low).await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.delete_role(&g.id, &low).await,
        &want,
        "outsider DELETE role",
    );
    srv.api().delete_role(&g.id, &low).await.unauthorized();
    // nothing was deleted
    let after = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(ids(&after).len(), ids(&roles).len(), "{after}");
    // below own highest: allowed
    moderator.api.delete_role(&g.id, &low).await.ok(204);
    let after = owner.api.roles(&g.id).await.ok(200);
    assert!(!ids(&after).contains(&low));
}

#[tokio::test]
async fn role_positions_reorder() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let ranked = srv
        .ranked_roles(&owner, &g, &[("r1", 0), ("r2", 0), ("r3", 0)])
        .await;
    let (r1, r2, r3) = (sid(&ranked[0]), sid(&ranked[1]), sid(&ranked[2]));
    let top = ranked[2]["position"].as_i64().unwrap();
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    // move the lowest to the top
    let all = owner
        .api
        .patch_role_positions(&g.id, &json!([{"id": r1, "position": top}]))
        .await
        .ok(200);
    let arr = all.as_array().expect("array of roles");
    assert_eq!(arr.len(), 4, "all roles are returned: {all}");
    for (i, r) in arr.iter().enumerate() {
        check_role(r, &format!("positions[{i}]"));
    }
    assert_eq!(pos(&all, &g.id), 0, "@everyone stays at 0");
    assert_eq!(
        pos(&all, &r1),
        top,
        "the moved role has the requested position: {all}"
    );
    // GET agrees
    let listed = owner.api.roles(&g.id).await.ok(200);
    for id in [&r1, &r2, &r3] {
        assert_eq!(pos(&listed, id), pos(&all, id));
    }
    // GUILD_ROLE_UPDATE for the moved role
    let d = mgw
        .expect_dispatch_where("GUILD_ROLE_UPDATE", EVENT_TIMEOUT, |d| {
            d["role"]["id"] == r1.as_str()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    assert_eq!(d["role"]["position"].as_i64(), Some(top));

    // the way discord.py moves a role: every role of the affected range with its new slot
    let slots: Vec<i64> = ranked
        .iter()
        .map(|r| r["position"].as_i64().unwrap())
        .collect();
    let all = owner
        .api
        .patch_role_positions(
            &g.id,
            &json!([
                {"id": r2, "position": slots[0]},
                {"id": r3, "position": slots[1]},
                {"id": r1, "position": slots[2]},
            ]),
        )
        .await
        .ok(200);
    assert_eq!(
        (pos(&all, &r2), pos(&all, &r3), pos(&all, &r1)),
        (slots[0], slots[1], slots[2]),
        "{all}"
    );
    let mut positions: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["position"].as_i64().unwrap())
        .collect();
    positions.sort();
    positions.dedup();
    assert_eq!(positions.len(), 4, "positions distinct again: {all}");
    // GUILD_ROLE_UPDATE for every role whose position changed
    for id in [&r1, &r2, &r3] {
        let (before, after) = (pos(&listed, id), pos(&all, id));
        if before != after {
            mgw.expect_dispatch_where("GUILD_ROLE_UPDATE", EVENT_TIMEOUT, |d| {
                d["role"]["id"] == id.as_str() && d["role"]["position"].as_i64() == Some(after)
            })
            .await;
        }
    }
    let listed = owner.api.roles(&g.id).await.ok(200);

    // a full reorder (ids as integers too, as some libraries send them)
    let p = |id: &str| pos(&listed, id);
    let slots = {
        let mut s = vec![p(&r1), p(&r2), p(&r3)];
        s.sort();
        s
    };
    let all = owner
        .api
        .patch_role_positions(
            &g.id,
            &json!([
                {"id": r3.parse::<u64>().unwrap(), "position": slots[0]},
                {"id": r2, "position": slots[1]},
                {"id": r1, "position": slots[2]},
            ]),
        )
        .await
        .ok(200);
    assert!(
        pos(&all, &r3) < pos(&all, &r2) && pos(&all, &r2) < pos(&all, &r1),
        "r3 < r2 < r1 expected: {all}"
    );
    assert_eq!(pos(&all, &g.id), 0);
}

#[tokio::test]
async fn role_positions_failures_and_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let plain = srv.joined_user(&owner, &g, "plain").await;
    let outsider = srv.user("outsider").await;
    let ranked = srv
        .ranked_roles(
            &owner,
            &g,
            &[("a", 0), ("b", 0), ("mid", perm::MANAGE_ROLES), ("high", 0)],
        )
        .await;
    let (a, b, mid, high) = (
        sid(&ranked[0]),
        sid(&ranked[1]),
        sid(&ranked[2]),
        sid(&ranked[3]),
    );
    let pa = ranked[0]["position"].as_i64().unwrap();
    let pb = ranked[1]["position"].as_i64().unwrap();
    let pmid = ranked[2]["position"].as_i64().unwrap();
    let phigh = ranked[3]["position"].as_i64().unwrap();
    srv.give3(&owner, &g, &moderator.id, &mid).await;

    plain
        .api
        .patch_role_positions(&g.id, &json!([{"id": a, "position": pb}]))
        .await
        .err(403, 50013);
    // moving a role to/above own highest
    moderator
        .api
        .patch_role_positions(&g.id, &json!([{"id": a, "position": phigh}]))
        .await
        .err(403, 50013);
    // moving a role at/above own highest
    moderator
        .api
        .patch_role_positions(&g.id, &json!([{"id": high, "position": pa}]))
        .await
        .err(403, 50013);
    moderator
        .api
        .patch_role_positions(&g.id, &json!([{"id": mid, "position": pa}]))
        .await
        .err(403, 50013);
    // malformed bodies
    owner
        .api
        .patch_role_positions(&g.id, &json!({"id": a, "position": 1}))
        .await
        .err(400, 50035);
    let r = owner
        .api
        .patch_role_positions(&g.id, &json!([{"id": bogus_id(), "position": 1}]))
        .await;
    assert_error_in(
        &r,
        &[(404, 10011), (400, 50035)],
        "unknown role in positions",
    );
    let bogus_guild = bogus_id();
    let body = json!([{"id": a, "position": pb}]);
    let want = outsider.api.patch_role_positions(&bogus_guild, &body).await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.patch_role_positions(&g.id, &body).await,
        &want,
        "outsider PATCH roles",
    );
    srv.api()
        .patch_role_positions(&g.id, &body)
        .await
        .unauthorized();
    // nothing moved
    let listed = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(
        (
            pos(&listed, &a),
            pos(&listed, &b),
            pos(&listed, &mid),
            pos(&listed, &high)
        ),
        (pa, pb, pmid, phigh)
    );
    // swapping two roles below its own highest: allowed
    let all = moderator
        .api
        .patch_role_positions(
            &g.id,
            &json!([{"id": a, "position": pb}, {"id": b, "position": pa}]),
        )
        .await
        .ok(200);
    assert!(pos(&all, &a) > pos(&all, &b), "{all}");
    assert!(pos(&all, &a) < pos(&all, &mid) && pos(&all, &mid) < pos(&all, &high));
}
