//! Issue 3 (/work/contract3.md): PATCH /guilds/{id}/members/{uid} (nick, roles, timeout, mute,
//! deaf) and /members/@me, kick, leave, bans (list/get/put/delete), a banned user cannot rejoin
//! (403 40007); GUILD_MEMBER_UPDATE / GUILD_MEMBER_REMOVE / GUILD_DELETE / GUILD_BAN_ADD /
//! GUILD_BAN_REMOVE; the member hierarchy (target strictly below the caller; never the owner).
mod common;
use common::intents3 as intents;
use common::perm3 as perm;
use common::*;
use serde_json::{json, Value};

/// `name` joins `g` and gets a fresh role with `permissions` (returns user, role id).
async fn member_with(
    srv: &Server,
    owner: &User,
    g: &Guild,
    name: &str,
    permissions: u64,
) -> (User, String) {
    let u = srv.joined_user(owner, g, name).await;
    let r = srv
        .role(owner, g, &format!("{name}-role"), permissions)
        .await;
    srv.give3(owner, g, &u.id, &sid(&r)).await;
    (u, sid(&r))
}

fn nick_of(m: &Value) -> Value {
    m["nick"].clone()
}

// ------------------------------------------------------------------------------------------
// nick
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_member_nick() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::GUILDS).await;

    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": "Nicky"}))
        .await
        .ok(200);
    check_member(&m, "PATCH member");
    assert_eq!(m["user"]["id"], member.id.as_str());
    assert_eq!(m["nick"], "Nicky");
    let d = ogw
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str(), "{d}");
    assert_eq!(d["nick"], "Nicky", "{d}");
    assert!(d["roles"].is_array(), "{d}");
    check_user(&d["user"], "GUILD_MEMBER_UPDATE.user");
    // the target itself gets it even without GUILD_MEMBERS (gateway.md)
    mgw.expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
        d["user"]["id"] == member.id.as_str() && d["nick"] == "Nicky"
    })
    .await;
    assert_eq!(
        nick_of(&owner.api.member(&g.id, &member.id).await.ok(200)),
        "Nicky"
    );
    // null resets
    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": null}))
        .await
        .ok(200);
    assert!(m["nick"].is_null(), "{m}");
    // validation: at most 32 characters
    let code = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": "n".repeat(33)}))
        .await
        .form_error("nick");
    assert!(code.starts_with("BASE_TYPE"), "{code}");
    owner
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": "n".repeat(32)}))
        .await
        .ok(200);
}

#[tokio::test]
async fn nick_permissions_and_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let (nicker, nrole) = member_with(&srv, &owner, &g, "nicker", perm::MANAGE_NICKNAMES).await;
    let peer = srv.joined_user(&owner, &g, "peer").await;
    srv.give3(&owner, &g, &peer.id, &nrole).await;

    // no MANAGE_NICKNAMES: someone else's nick is refused
    plain
        .api
        .patch_member(&g.id, &peer.id, &json!({"nick": "x"}))
        .await
        .err(403, 50013);
    // with it: a member below, yes; an equal member or the owner, no
    nicker
        .api
        .patch_member(&g.id, &plain.id, &json!({"nick": "renamed"}))
        .await
        .ok(200);
    nicker
        .api
        .patch_member(&g.id, &peer.id, &json!({"nick": "x"}))
        .await
        .err(403, 50013);
    nicker
        .api
        .patch_member(&g.id, &owner.id, &json!({"nick": "x"}))
        .await
        .err(403, 50013);
    assert!(nick_of(&owner.api.member(&g.id, &peer.id).await.ok(200)).is_null());
    assert!(nick_of(&owner.api.member(&g.id, &owner.id).await.ok(200)).is_null());
    // own nick through /members/{own id}: CHANGE_NICKNAME (in @everyone by default)
    let m = plain
        .api
        .patch_member(&g.id, &plain.id, &json!({"nick": "me myself"}))
        .await
        .ok(200);
    assert_eq!(m["nick"], "me myself");
    // the owner can rename anyone
    owner
        .api
        .patch_member(&g.id, &peer.id, &json!({"nick": "by owner"}))
        .await
        .ok(200);
}

#[tokio::test]
async fn patch_my_member_nick() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;

    let m = member
        .api
        .patch_my_member(&g.id, &json!({"nick": "Me"}))
        .await
        .ok(200);
    check_member(&m, "PATCH @me");
    assert_eq!(m["nick"], "Me");
    assert_eq!(m["user"]["id"], member.id.as_str());
    ogw.expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
        d["user"]["id"] == member.id.as_str() && d["nick"] == "Me"
    })
    .await;
    member
        .api
        .patch_my_member(&g.id, &json!({"nick": "n".repeat(33)}))
        .await
        .form_error("nick");
    // without CHANGE_NICKNAME
    owner
        .api
        .patch_role(
            &g.id,
            &g.id,
            &json!({"permissions": (perm::EVERYONE_DEFAULT & !perm::CHANGE_NICKNAME).to_string()}),
        )
        .await
        .ok(200);
    member
        .api
        .patch_my_member(&g.id, &json!({"nick": "Still me"}))
        .await
        .err(403, 50013);
    member
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": "Still me"}))
        .await
        .err(403, 50013);
    assert_eq!(
        nick_of(&owner.api.member(&g.id, &member.id).await.ok(200)),
        "Me"
    );
    // the owner always can
    let m = owner
        .api
        .patch_my_member(&g.id, &json!({"nick": "Boss"}))
        .await
        .ok(200);
    assert_eq!(m["nick"], "Boss");
    // non-member: unknown guild
    let bogus_guild = bogus_id();
    let want = outsider
        .api
        .patch_my_member(&bogus_guild, &json!({"nick": "x"}))
        .await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider
            .api
            .patch_my_member(&g.id, &json!({"nick": "x"}))
            .await,
        &want,
        "outsider PATCH @me",
    );
    srv.api()
        .patch_my_member(&g.id, &json!({"nick": "x"}))
        .await
        .unauthorized();
}

// ------------------------------------------------------------------------------------------
// roles
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn patch_member_roles() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let r1 = sid(&srv.role(&owner, &g, "r1", 0).await);
    let r2 = sid(&srv.role(&owner, &g, "r2", 0).await);
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut sorted = vec![r1.clone(), r2.clone()];
    sorted.sort();

    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": [r1, r2]}))
        .await
        .ok(200);
    check_member(&m, "PATCH roles");
    assert_eq!(member_role_ids(&m), sorted);
    let d = ogw
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(member_role_ids(&d), sorted, "{d}");
    assert_eq!(d["guild_id"], g.id.as_str());
    // replaces the list
    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": [r2]}))
        .await
        .ok(200);
    assert_eq!(member_role_ids(&m), vec![r2.clone()]);
    assert_eq!(
        member_role_ids(&owner.api.member(&g.id, &member.id).await.ok(200)),
        vec![r2.clone()]
    );
    // a body without roles leaves them alone
    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"nick": "n"}))
        .await
        .ok(200);
    assert_eq!(member_role_ids(&m), vec![r2.clone()]);
    // empty list clears
    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": []}))
        .await
        .ok(200);
    assert_eq!(m["roles"], json!([]));
    // an unknown role id is refused and changes nothing
    let r = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": [r1, bogus_id()]}))
        .await;
    assert_error_in(&r, &[(400, 50035), (404, 10011)], "unknown role in roles");
    assert_eq!(
        owner.api.member(&g.id, &member.id).await.ok(200)["roles"],
        json!([])
    );
}

#[tokio::test]
async fn patch_member_roles_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, moderator) = srv.world().await;
    let target = srv.joined_user(&owner, &g, "target").await;
    let ranked = srv
        .ranked_roles(
            &owner,
            &g,
            &[("low", 0), ("mid", perm::MANAGE_ROLES), ("high", 0)],
        )
        .await;
    let (low, mid, high) = (sid(&ranked[0]), sid(&ranked[1]), sid(&ranked[2]));
    srv.give3(&owner, &g, &moderator.id, &mid).await;

    // no MANAGE_ROLES
    target
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": [low]}))
        .await
        .err(403, 50013);
    // below own highest: fine
    let m = moderator
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": [low]}))
        .await
        .ok(200);
    assert_eq!(member_role_ids(&m), vec![low.clone()]);
    // adding a role at or above own highest: refused
    for bad in [&mid, &high] {
        moderator
            .api
            .patch_member(&g.id, &target.id, &json!({"roles": [low, bad]}))
            .await
            .err(403, 50013);
    }
    moderator
        .api
        .patch_member(&g.id, &moderator.id, &json!({"roles": [mid, high]}))
        .await
        .err(403, 50013);
    // removing a role at or above own highest: refused (even while adding an allowed one)
    owner
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": [low, high]}))
        .await
        .ok(200);
    moderator
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": [low]}))
        .await
        .err(403, 50013);
    moderator
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": []}))
        .await
        .err(403, 50013);
    let mut want = vec![low.clone(), high.clone()];
    want.sort();
    assert_eq!(
        member_role_ids(&owner.api.member(&g.id, &target.id).await.ok(200)),
        want,
        "refused requests changed nothing"
    );
    // keeping a high role while changing the low ones is fine (only added/removed roles count)
    let m = moderator
        .api
        .patch_member(&g.id, &target.id, &json!({"roles": [high]}))
        .await
        .ok(200);
    assert_eq!(member_role_ids(&m), vec![high.clone()]);
}

// ------------------------------------------------------------------------------------------
// timeout, mute, deaf
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn timeout_member() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (timer, _) = member_with(&srv, &owner, &g, "timer", perm::MODERATE_MEMBERS).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    member.api.say(&g.general, "before").await;

    let until = iso_from_now(3600);
    let m = timer
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": until}),
        )
        .await
        .ok(200);
    check_member(&m, "timeout");
    let got = iso_ms(
        &m["communication_disabled_until"],
        "communication_disabled_until",
    );
    let want = iso_ms(&json!(until), "requested");
    assert!(
        (got - want).abs() < 2000,
        "stored {got} vs requested {want}: {m}"
    );
    let d = ogw
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str() && !d["communication_disabled_until"].is_null()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    assert!(
        !owner.api.member(&g.id, &member.id).await.ok(200)["communication_disabled_until"]
            .is_null()
    );

    // timed out: only VIEW_CHANNEL and READ_MESSAGE_HISTORY remain
    member
        .api
        .send(&g.general, &json!({"content": "let me talk"}))
        .await
        .err(403, 50013);
    member.api.channel(&g.general).await.ok(200);
    assert_eq!(
        member
            .api
            .messages(&g.general, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    member
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .err(403, 50013);
    member
        .api
        .patch_my_member(&g.id, &json!({"nick": "quiet"}))
        .await
        .err(403, 50013);

    // lifted with null
    let m = timer
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": null}),
        )
        .await
        .ok(200);
    assert!(m["communication_disabled_until"].is_null(), "{m}");
    member.api.say(&g.general, "free again").await;
}

#[tokio::test]
async fn timeout_limits_and_targets() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (timer, trole) = member_with(&srv, &owner, &g, "timer", perm::MODERATE_MEMBERS).await;
    let peer = srv.joined_user(&owner, &g, "peer").await;
    srv.give3(&owner, &g, &peer.id, &trole).await;
    let (admin, _) = member_with(&srv, &owner, &g, "admin", perm::ADMINISTRATOR).await;
    let body = |secs: i64| json!({"communication_disabled_until": iso_from_now(secs)});

    // at most 28 days ahead
    owner
        .api
        .patch_member(&g.id, &member.id, &body(28 * 86400 + 3600))
        .await
        .form_error("communication_disabled_until");
    owner
        .api
        .patch_member(
            &g.id,
            &member.id,
            &json!({"communication_disabled_until": "soon"}),
        )
        .await
        .form_error("communication_disabled_until");
    assert!(
        owner.api.member(&g.id, &member.id).await.ok(200)["communication_disabled_until"].is_null()
    );
    owner
        .api
        .patch_member(&g.id, &member.id, &body(27 * 86400))
        .await
        .ok(200);
    // MODERATE_MEMBERS needed
    member
        .api
        .patch_member(&g.id, &peer.id, &body(60))
        .await
        .err(403, 50013);
    // never on the owner, never on ADMINISTRATOR members (not even by the owner)
    timer
        .api
        .patch_member(&g.id, &owner.id, &body(60))
        .await
        .err(403, 50013);
    owner
        .api
        .patch_member(&g.id, &admin.id, &body(60))
        .await
        .err(403, 50013);
    // hierarchy: not on an equal member
    timer
        .api
        .patch_member(&g.id, &peer.id, &body(60))
        .await
        .err(403, 50013);
    for u in [&owner, &admin, &peer] {
        assert!(
            owner.api.member(&g.id, &u.id).await.ok(200)["communication_disabled_until"].is_null(),
            "{} must not be timed out",
            u.username
        );
    }
    // owner and admins keep everything even with a stored timeout (none could be set; sanity)
    admin.api.say(&g.general, "admin talks").await;
}

#[tokio::test]
async fn mute_and_deaf() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (muter, _) = member_with(&srv, &owner, &g, "muter", perm::MUTE_MEMBERS).await;
    let (deafener, _) = member_with(&srv, &owner, &g, "deafener", perm::DEAFEN_MEMBERS).await;

    member
        .api
        .patch_member(&g.id, &muter.id, &json!({"mute": true}))
        .await
        .err(403, 50013);
    let m = muter
        .api
        .patch_member(&g.id, &member.id, &json!({"mute": true}))
        .await
        .ok(200);
    assert_eq!(m["mute"], true);
    assert_eq!(m["deaf"], false);
    muter
        .api
        .patch_member(&g.id, &member.id, &json!({"deaf": true}))
        .await
        .err(403, 50013);
    // one forbidden field refuses the whole request
    muter
        .api
        .patch_member(&g.id, &member.id, &json!({"mute": false, "deaf": true}))
        .await
        .err(403, 50013);
    let m = deafener
        .api
        .patch_member(&g.id, &member.id, &json!({"deaf": true}))
        .await
        .ok(200);
    assert_eq!(m["deaf"], true);
    assert_eq!(m["mute"], true);
    deafener
        .api
        .patch_member(&g.id, &member.id, &json!({"mute": false}))
        .await
        .err(403, 50013);
    let m = owner
        .api
        .patch_member(&g.id, &member.id, &json!({"mute": false, "deaf": false}))
        .await
        .ok(200);
    assert_eq!(
        (m["mute"].clone(), m["deaf"].clone()),
        (json!(false), json!(false))
    );
    let stored = owner.api.member(&g.id, &member.id).await.ok(200);
    assert_eq!(stored["mute"], false);
}

#[tokio::test]
async fn patch_member_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let body = json!({"nick": "x"});
    owner
        .api
        .patch_member(&g.id, &outsider.id, &body)
        .await
        .err(404, 10007);
    let r = owner.api.patch_member(&g.id, &bogus_id(), &body).await;
    assert_error_in(&r, &[(404, 10007), (404, 10013)], "unknown user");
    let bogus_guild = bogus_id();
    let want = outsider
        .api
        .patch_member(&bogus_guild, &member.id, &body)
        .await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.patch_member(&g.id, &member.id, &body).await,
        &want,
        "outsider PATCH member",
    );
    srv.api()
        .patch_member(&g.id, &member.id, &body)
        .await
        .unauthorized();
    owner
        .api
        .raw(
            "PATCH",
            &format!("/guilds/{}/members/{}", g.id, member.id),
            Some(b"{\"nick\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    owner
        .api
        .patch_member(&g.id, &member.id, &json!({"roles": "r"}))
        .await
        .form_error("roles");
}

// ------------------------------------------------------------------------------------------
// kick / leave
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn kick_member() {
    let srv = Server::start().await;
    let (owner, g, victim) = srv.world().await;
    let bystander = srv.joined_user(&owner, &g, "bystander").await;
    let code = srv.invite_code(&owner, &g.general).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut bgw = srv.gw(&bystander.token, intents::DEFAULT).await;
    let mut vgw = srv.gw(&victim.token, intents::DEFAULT).await;

    owner.api.kick(&g.id, &victim.id).await.ok(204);
    for (who, gw) in [("owner", &mut ogw), ("bystander", &mut bgw)] {
        let d = gw
            .expect_dispatch_where("GUILD_MEMBER_REMOVE", EVENT_TIMEOUT, |d| {
                d["user"]["id"] == victim.id.as_str()
            })
            .await;
        assert_eq!(d["guild_id"], g.id.as_str(), "{who}: {d}");
        check_user(&d["user"], "GUILD_MEMBER_REMOVE.user");
    }
    let d = vgw
        .expect_dispatch_where("GUILD_DELETE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    assert_ne!(
        d["unavailable"], true,
        "a removal is a GUILD_DELETE without unavailable: {d}"
    );
    // the kicked user is an outsider now
    victim.api.guild(&g.id).await.err(404, 10004);
    victim.api.channel(&g.general).await.err(404, 10003);
    assert_eq!(victim.api.my_guilds().await.ok(200), json!([]));
    owner.api.member(&g.id, &victim.id).await.err(404, 10007);
    let list = owner.api.members(&g.id, "limit=100").await.ok(200);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
    owner.api.kick(&g.id, &victim.id).await.err(404, 10007);
    // a kick is no ban: the user may come back
    victim.api.join(&code).await.ok(200);
    victim.api.guild(&g.id).await.ok(200);
}

#[tokio::test]
async fn kick_failures_and_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let (kicker, krole) = member_with(&srv, &owner, &g, "kicker", perm::KICK_MEMBERS).await;
    let peer = srv.joined_user(&owner, &g, "peer").await;
    srv.give3(&owner, &g, &peer.id, &krole).await;

    plain.api.kick(&g.id, &peer.id).await.err(403, 50013);
    kicker.api.kick(&g.id, &owner.id).await.err(403, 50013);
    kicker.api.kick(&g.id, &peer.id).await.err(403, 50013);
    // ADMINISTRATOR does not put anyone above the owner
    let (admin, _) = member_with(&srv, &owner, &g, "admin", perm::ADMINISTRATOR).await;
    admin.api.kick(&g.id, &owner.id).await.err(403, 50013);
    kicker.api.kick(&g.id, &outsider.id).await.err(404, 10007);
    let bogus_guild = bogus_id();
    let want = outsider.api.kick(&bogus_guild, &plain.id).await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.kick(&g.id, &plain.id).await,
        &want,
        "outsider kick",
    );
    srv.api().kick(&g.id, &plain.id).await.unauthorized();
    let list = owner.api.members(&g.id, "limit=100").await.ok(200);
    assert_eq!(
        list.as_array().unwrap().len(),
        5,
        "nobody was kicked: {list}"
    );
    kicker.api.kick(&g.id, &plain.id).await.ok(204);
    owner.api.member(&g.id, &plain.id).await.err(404, 10007);
}

#[tokio::test]
async fn leave_guild() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    member.api.leave_guild(&g.id).await.ok(204);
    let d = ogw
        .expect_dispatch_where("GUILD_MEMBER_REMOVE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    let d = mgw
        .expect_dispatch_where("GUILD_DELETE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    assert_ne!(d["unavailable"], true, "{d}");
    member.api.guild(&g.id).await.err(404, 10004);
    assert_eq!(member.api.my_guilds().await.ok(200), json!([]));
    owner.api.member(&g.id, &member.id).await.err(404, 10007);
    // leaving again: no longer a member, i.e. unknown guild
    member.api.leave_guild(&g.id).await.err(404, 10004);
    member.api.leave_guild(&bogus_id()).await.err(404, 10004);
    // the owner cannot leave its own guild
    let r = owner.api.leave_guild(&g.id).await;
    assert_error_in(&r, &[(400, 0), (400, 50055)], "owner leaving");
    owner.api.guild(&g.id).await.ok(200);
    srv.api().leave_guild(&g.id).await.unauthorized();
}

// ------------------------------------------------------------------------------------------
// bans
// ------------------------------------------------------------------------------------------

#[tokio::test]
async fn bans_lifecycle() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let code = srv.invite_code(&owner, &g.general).await;
    let stranger = srv.user("stranger").await;
    let mut ogw = srv.gw(&owner.token, intents::ALL3).await;
    let mut mgw = srv.gw(&member.token, intents::ALL3).await;

    owner
        .api
        .ban_with_reason(&g.id, &member.id, &json!({}), "spam and eggs")
        .await
        .ok(204);
    let d = ogw
        .expect_dispatch_where("GUILD_BAN_ADD", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str(), "{d}");
    check_user(&d["user"], "GUILD_BAN_ADD.user");
    ogw.expect_dispatch_where("GUILD_MEMBER_REMOVE", EVENT_TIMEOUT, |d| {
        d["user"]["id"] == member.id.as_str()
    })
    .await;
    mgw.expect_dispatch_where("GUILD_DELETE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    owner.api.member(&g.id, &member.id).await.err(404, 10007);
    member.api.guild(&g.id).await.err(404, 10004);

    // listed with the reason
    let list = owner.api.bans(&g.id, "").await.ok(200);
    let arr = list.as_array().expect("bans array");
    assert_eq!(arr.len(), 1, "{list}");
    assert_eq!(arr[0]["reason"], "spam and eggs");
    check_user(&arr[0]["user"], "ban.user");
    assert_eq!(arr[0]["user"]["id"], member.id.as_str());
    let one = owner.api.get_ban(&g.id, &member.id).await.ok(200);
    assert_eq!(one, arr[0]);

    // a banned user cannot come back through an invite
    member.api.join(&code).await.err(403, 40007);
    owner.api.member(&g.id, &member.id).await.err(404, 10007);
    member.api.guild(&g.id).await.err(404, 10004);

    // banning a user who is not a member works too; no header = null reason
    owner.api.ban(&g.id, &stranger.id, &json!({})).await.ok(204);
    let b = owner.api.get_ban(&g.id, &stranger.id).await.ok(200);
    assert!(b["reason"].is_null(), "{b}");
    assert_eq!(b["user"]["id"], stranger.id.as_str());
    stranger.api.join(&code).await.err(403, 40007);
    assert_eq!(
        owner
            .api
            .bans(&g.id, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // unban
    owner.api.unban(&g.id, &member.id).await.ok(204);
    let d = ogw
        .expect_dispatch_where("GUILD_BAN_REMOVE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(d["guild_id"], g.id.as_str());
    owner.api.get_ban(&g.id, &member.id).await.err(404, 10026);
    owner.api.unban(&g.id, &member.id).await.err(404, 10026);
    member.api.join(&code).await.ok(200);
    member.api.guild(&g.id).await.ok(200);
}

#[tokio::test]
async fn ban_failures_and_hierarchy() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let (banner, brole) = member_with(&srv, &owner, &g, "banner", perm::BAN_MEMBERS).await;
    let peer = srv.joined_user(&owner, &g, "peer").await;
    srv.give3(&owner, &g, &peer.id, &brole).await;
    owner.api.ban(&g.id, &outsider.id, &json!({})).await.ok(204);

    // BAN_MEMBERS needed on every ban route
    plain.api.bans(&g.id, "").await.err(403, 50013);
    plain.api.get_ban(&g.id, &outsider.id).await.err(403, 50013);
    plain
        .api
        .ban(&g.id, &peer.id, &json!({}))
        .await
        .err(403, 50013);
    plain.api.unban(&g.id, &outsider.id).await.err(403, 50013);
    // hierarchy: not the owner, not an equal member
    banner
        .api
        .ban(&g.id, &owner.id, &json!({}))
        .await
        .err(403, 50013);
    banner
        .api
        .ban(&g.id, &peer.id, &json!({}))
        .await
        .err(403, 50013);
    // validation
    owner
        .api
        .ban(&g.id, &plain.id, &json!({"delete_message_seconds": 604801}))
        .await
        .form_error("delete_message_seconds");
    owner
        .api
        .ban(&g.id, &plain.id, &json!({"delete_message_seconds": -1}))
        .await
        .form_error("delete_message_seconds");
    // unknown bans
    let stranger = srv.user("stranger").await;
    banner
        .api
        .get_ban(&g.id, &stranger.id)
        .await
        .err(404, 10026);
    banner.api.unban(&g.id, &stranger.id).await.err(404, 10026);
    // non-members: the unknown-guild answer on all four routes
    let bogus_guild = bogus_id();
    let cases: Vec<(Resp, Resp, &str)> = vec![
        (
            stranger.api.bans(&g.id, "").await,
            stranger.api.bans(&bogus_guild, "").await,
            "GET bans",
        ),
        (
            stranger.api.get_ban(&g.id, &outsider.id).await,
            stranger.api.get_ban(&bogus_guild, &outsider.id).await,
            "GET ban",
        ),
        (
            stranger.api.ban(&g.id, &plain.id, &json!({})).await,
            stranger.api.ban(&bogus_guild, &plain.id, &json!({})).await,
            "PUT ban",
        ),
        (
            stranger.api.unban(&g.id, &outsider.id).await,
            stranger.api.unban(&bogus_guild, &outsider.id).await,
            "DELETE ban",
        ),
    ];
    for (got, want, what) in &cases {
        want.err(404, 10004);
        assert_same_answer(got, want, what);
    }
    srv.api().bans(&g.id, "").await.unauthorized();
    srv.api()
        .ban(&g.id, &plain.id, &json!({}))
        .await
        .unauthorized();
    // nothing happened
    for u in [&owner, &plain, &peer, &banner] {
        owner.api.member(&g.id, &u.id).await.ok(200);
    }
    assert_eq!(
        owner
            .api
            .bans(&g.id, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // allowed: a member below
    banner
        .api
        .ban(&g.id, &plain.id, &json!({"delete_message_seconds": 3600}))
        .await
        .ok(204);
    banner.api.get_ban(&g.id, &plain.id).await.ok(200);
    banner.api.unban(&g.id, &outsider.id).await.ok(204);
}

#[tokio::test]
async fn bans_list_paging() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Bans").await;
    let mut banned: Vec<String> = vec![];
    for name in ["b1", "b2", "b3"] {
        let u = srv.user(name).await;
        owner.api.ban(&g.id, &u.id, &json!({})).await.ok(204);
        banned.push(u.id);
    }
    banned.sort_by_key(|s| s.parse::<u64>().unwrap());
    let user_ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b["user"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = owner.api.bans(&g.id, "").await.ok(200);
    let mut got = user_ids(&all);
    got.sort_by_key(|s| s.parse::<u64>().unwrap());
    assert_eq!(got, banned);
    assert_eq!(
        owner
            .api
            .bans(&g.id, "limit=2")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let after = owner
        .api
        .bans(&g.id, &format!("after={}", banned[0]))
        .await
        .ok(200);
    let mut a = user_ids(&after);
    a.sort();
    let mut want = vec![banned[1].clone(), banned[2].clone()];
    want.sort();
    assert_eq!(a, want, "after={}", banned[0]);
    let before = owner
        .api
        .bans(&g.id, &format!("before={}", banned[2]))
        .await
        .ok(200);
    let mut b = user_ids(&before);
    b.sort();
    let mut want = vec![banned[0].clone(), banned[1].clone()];
    want.sort();
    assert_eq!(b, want, "before={}", banned[2]);
    owner.api.bans(&g.id, "limit=0").await.err(400, 50035);
    owner.api.bans(&g.id, "limit=1001").await.err(400, 50035);
    owner.api.bans(&g.id, "limit=1000").await.ok(200);
}

/// gateway.md: GUILD_BAN_ADD/REMOVE need the GUILD_MODERATION intent and go only to members
/// with BAN_MEMBERS or VIEW_AUDIT_LOG. (Discord's documented gating; contract3 names the events.)
#[tokio::test]
async fn ban_events_are_gated_by_intent_and_permission() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let victim = srv.joined_user(&owner, &g, "victim").await;
    let mut plain_gw = srv.gw(&plain.token, intents::ALL3).await;
    let mut owner_no_mod = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut owner_mod = srv.gw(&owner.token, intents::ALL3).await;
    owner.api.ban(&g.id, &victim.id, &json!({})).await.ok(204);
    owner_mod
        .expect_dispatch_where("GUILD_BAN_ADD", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == victim.id.as_str()
        })
        .await;
    owner_no_mod
        .expect_no_dispatch("GUILD_BAN_ADD", QUIET)
        .await;
    plain_gw.expect_no_dispatch("GUILD_BAN_ADD", QUIET).await;
    // but everyone with GUILD_MEMBERS sees the member leave
    plain_gw
        .expect_dispatch_where("GUILD_MEMBER_REMOVE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == victim.id.as_str()
        })
        .await;
}

/// Discord: `delete_message_seconds` deletes the banned user's messages of that period.
#[tokio::test]
async fn ban_delete_message_seconds_deletes_recent_messages() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let spam = member.api.say(&g.general, "spam").await;
    let kept = owner.api.say(&g.general, "owner's message").await;
    owner
        .api
        .ban(&g.id, &member.id, &json!({"delete_message_seconds": 3600}))
        .await
        .ok(204);
    owner
        .api
        .message(&g.general, &sid(&spam))
        .await
        .err(404, 10008);
    owner.api.message(&g.general, &sid(&kept)).await.ok(200);
    // without it, messages stay
    let other = srv.joined_user(&owner, &g, "other").await;
    let m = other.api.say(&g.general, "stays").await;
    owner.api.ban(&g.id, &other.id, &json!({})).await.ok(204);
    owner.api.message(&g.general, &sid(&m)).await.ok(200);
}

/// A bot moderates through its managed role: its position is what the hierarchy compares.
#[tokio::test]
async fn bot_moderates_through_its_managed_role() {
    let srv = Server::start().await;
    let (owner, g, plain) = srv.world().await;
    let second = srv.joined_user(&owner, &g, "second").await;
    let third = srv.joined_user(&owner, &g, "third").await;
    let bot = srv.bot(&owner, "Modbot").await;
    srv.authorize(
        &owner,
        &bot,
        &g,
        perm::KICK_MEMBERS | perm::BAN_MEMBERS | perm::MODERATE_MEMBERS | perm::MANAGE_NICKNAMES,
    )
    .await;
    bot.api
        .patch_member(&g.id, &plain.id, &json!({"nick": "named by bot"}))
        .await
        .ok(200);
    bot.api
        .patch_member(
            &g.id,
            &third.id,
            &json!({"communication_disabled_until": iso_from_now(600)}),
        )
        .await
        .ok(200);
    bot.api.kick(&g.id, &plain.id).await.ok(204);
    bot.api.ban(&g.id, &second.id, &json!({})).await.ok(204);
    bot.api.get_ban(&g.id, &second.id).await.ok(200);
    // never the owner
    bot.api.kick(&g.id, &owner.id).await.err(403, 50013);
    bot.api
        .ban(&g.id, &owner.id, &json!({}))
        .await
        .err(403, 50013);
    bot.api
        .patch_member(&g.id, &owner.id, &json!({"nick": "x"}))
        .await
        .err(403, 50013);
    // a bot without those permissions can do none of it
    let weak = srv.bot(&owner, "Weakbot").await;
    srv.authorize(&owner, &weak, &g, 0).await;
    weak.api.kick(&g.id, &third.id).await.err(403, 50013);
    weak.api
        .ban(&g.id, &third.id, &json!({}))
        .await
        .err(403, 50013);
    weak.api.bans(&g.id, "").await.err(403, 50013);
}
