//! POST /channels/{id}/invites, GET /invites/{code}, POST /invites/{code} (+ its dispatches).
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn create_invite_shape() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Invite Land").await;

    let inv = owner
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .ok(200);
    check_invite(&inv, "POST invites {}");
    assert_eq!(inv["guild"]["id"], g.id.as_str());
    assert_eq!(inv["guild"]["name"], "Invite Land");
    assert_eq!(inv["channel"]["id"], g.general.as_str());
    assert_eq!(inv["channel"]["name"], "general");
    assert_eq!(inv["channel"]["type"], 0);
    assert_eq!(inv["inviter"]["id"], owner.id.as_str());
    assert_eq!(inv["uses"], 0);
    assert_eq!(inv["max_uses"], 0);
    assert_eq!(inv["max_age"], 86400, "Discord's default max_age");
    assert_eq!(inv["temporary"], false);
    assert!(
        inv["expires_at"].is_string(),
        "an invite with max_age > 0 expires: {inv}"
    );

    let inv = owner
        .api
        .create_invite(
            &g.general,
            &json!({"max_age": 0, "max_uses": 5, "temporary": false, "unique": true}),
        )
        .await
        .ok(200);
    check_invite(&inv, "POST invites custom");
    assert_eq!(inv["max_age"], 0);
    assert_eq!(inv["max_uses"], 5);
    assert!(
        inv["expires_at"].is_null(),
        "max_age 0 never expires: {inv}"
    );
    // two unique invites have different codes
    let other = owner
        .api
        .create_invite(&g.general, &json!({"unique": true}))
        .await
        .ok(200);
    assert_ne!(other["code"], inv["code"]);
}

#[tokio::test]
async fn create_invite_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    outsider
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .err(404, 10003);
    owner
        .api
        .create_invite(&bogus_id(), &json!({}))
        .await
        .err(404, 10003);
    srv.api()
        .create_invite(&g.general, &json!({}))
        .await
        .unauthorized();
    owner
        .api
        .create_invite(&g.general, &json!({"max_age": 604801}))
        .await
        .form_error("max_age");
    owner
        .api
        .create_invite(&g.general, &json!({"max_uses": 101}))
        .await
        .form_error("max_uses");

    // @everyone denied CREATE_INSTANT_INVITE in a channel
    let c = owner
        .api
        .create_channel(
            &g.id,
            &json!({"name": "no-invites", "permission_overwrites": [
                {"id": g.id, "type": 0, "allow": "0", "deny": perm::CREATE_INSTANT_INVITE.to_string()}]}),
        )
        .await
        .ok(201);
    let cid = c["id"].as_str().unwrap();
    member
        .api
        .create_invite(cid, &json!({}))
        .await
        .err(403, 50013);
    owner.api.create_invite(cid, &json!({})).await.ok(200);
    // the member can still invite in general
    member
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .ok(200);
}

#[tokio::test]
async fn get_invite_needs_no_auth() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Public").await;
    let inv = owner
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .ok(200);
    let code = inv["code"].as_str().unwrap();
    let got = srv.api().invite(code).await.ok(200);
    assert_eq!(got["code"], code);
    assert_eq!(got["type"], 0);
    assert_eq!(got["guild"]["id"], g.id.as_str());
    assert_eq!(got["channel"]["id"], g.general.as_str());
    let got = owner.api.invite(code).await.ok(200);
    check_invite(&got, "GET /invites/{code}");
    srv.api().invite("doesnotexist").await.err(404, 10006);
}

#[tokio::test]
async fn join_via_invite() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Club").await;
    let joiner = srv.user("joiner").await;
    joiner.api.guild(&g.id).await.err(404, 10004);

    let inv = owner
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .ok(200);
    let code = inv["code"].as_str().unwrap();
    let joined = joiner.api.join(code).await.ok(200);
    assert_eq!(joined["code"], code);
    assert_eq!(joined["guild"]["id"], g.id.as_str());

    joiner.api.guild(&g.id).await.ok(200);
    let m = owner.api.member(&g.id, &joiner.id).await.ok(200);
    check_member(&m, "joined member");
    assert_eq!(
        ids(&joiner.api.my_guilds().await.ok(200)),
        vec![g.id.clone()]
    );
    let got = owner.api.invite(code).await.ok(200);
    assert_eq!(got["uses"], 1, "uses counts the join: {got}");

    // joining again is harmless
    joiner.api.join(code).await.ok(200);
    let all = owner.api.members(&g.id, "limit=100").await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
}

#[tokio::test]
async fn join_failures() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Club").await;
    let bot = srv.bot(&owner, "Joiner").await;
    let inv = owner
        .api
        .create_invite(&g.general, &json!({}))
        .await
        .ok(200);
    let code = inv["code"].as_str().unwrap();

    bot.api.join(code).await.err(403, 20001);
    srv.api().join(code).await.unauthorized();
    let u = srv.user("someone").await;
    u.api.join("doesnotexist").await.err(404, 10006);
    owner.api.member(&g.id, &bot.id).await.err(404, 10007);
    owner.api.member(&g.id, &u.id).await.err(404, 10007);
}

#[tokio::test]
async fn max_uses_exhausts_invite() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Club").await;
    let a = srv.user("first").await;
    let b = srv.user("second").await;
    let inv = owner
        .api
        .create_invite(&g.general, &json!({"max_uses": 1}))
        .await
        .ok(200);
    let code = inv["code"].as_str().unwrap();
    a.api.join(code).await.ok(200);
    b.api.join(code).await.err(404, 10006);
    owner.api.member(&g.id, &b.id).await.err(404, 10007);
}

#[tokio::test]
async fn join_dispatches_member_add_and_guild_create() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Club").await;
    let joiner = srv.user("joiner").await;
    let mut owner_gw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut joiner_gw = srv.gw(&joiner.token, intents::DEFAULT).await;
    let mut joiner_gw2 = srv.gw(&joiner.token, intents::DEFAULT).await;
    assert!(joiner_gw.guilds.is_empty());

    srv.join(&owner, &g, &joiner).await;

    let add = owner_gw
        .expect_dispatch_where("GUILD_MEMBER_ADD", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == joiner.id.as_str()
        })
        .await;
    check_member(&add, "GUILD_MEMBER_ADD");
    assert_eq!(add["guild_id"], g.id.as_str());

    let gc = joiner_gw
        .expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    check_guild_create(&gc, "GUILD_CREATE on join");
    // every session of the joiner gets it
    joiner_gw2
        .expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    assert!(
        gc["channels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == g.general.as_str()),
        "joined guild's channels must include general"
    );
    // and the joiner's session now gets the guild's messages
    let msg = owner.api.say(&g.general, "welcome").await;
    let d = joiner_gw
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == msg["id"])
        .await;
    assert_eq!(d["content"], "welcome");
}
