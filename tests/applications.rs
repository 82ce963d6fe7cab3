//! POST /applications, POST /applications/{id}/bot/reset, GET /oauth2/applications/@me,
//! GET /applications/@me, POST /oauth2/authorize.
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn create_application_shape() {
    let srv = Server::start().await;
    let owner = srv.user("appowner").await;
    let app = owner
        .api
        .create_app(&json!({"name": "Pinger", "unknown_field": 1}))
        .await
        .ok(201);
    check_application(&app, "POST /applications");
    assert_eq!(app["name"], "Pinger");
    assert_eq!(app["owner"]["id"], owner.id.as_str());
    assert_eq!(app["owner"]["username"], "appowner");
    assert_eq!(app["bot"]["username"], "Pinger");
    // the bot user is a real user
    let bot_user = owner.api.user(app["id"].as_str().unwrap()).await.ok(200);
    assert_eq!(bot_user["bot"], true);
}

#[tokio::test]
async fn create_application_failures() {
    let srv = Server::start().await;
    let owner = srv.user("appowner").await;
    owner
        .api
        .create_app(&json!({}))
        .await
        .form_error_code("name", "BASE_TYPE_REQUIRED");
    srv.api()
        .create_app(&json!({"name": "x"}))
        .await
        .unauthorized();
    let bot = srv.bot(&owner, "Bot1").await;
    bot.api
        .create_app(&json!({"name": "x"}))
        .await
        .err(403, 20001);
}

#[tokio::test]
async fn bot_token_authenticates_and_reset_invalidates() {
    let srv = Server::start().await;
    let owner = srv.user("appowner").await;
    let bot = srv.bot(&owner, "Resetter").await;

    let me = bot.api.me().await.ok(200);
    check_me(&me, "bot GET /users/@me");
    assert_eq!(me["id"], bot.id.as_str());
    assert_eq!(me["bot"], true);

    for (route, r) in [
        ("/oauth2/applications/@me", bot.api.oauth_app_me().await),
        ("/applications/@me", bot.api.app_me().await),
    ] {
        let a = r.ok(200);
        check_application(&a, route);
        assert_eq!(a["id"], bot.id.as_str(), "{route}");
        assert_eq!(a["name"], "Resetter", "{route}");
        assert_eq!(a["owner"]["id"], owner.id.as_str(), "{route}");
    }

    // a second reset invalidates the first token
    let t2 = owner.api.reset_bot(&bot.id).await.ok(200);
    let t2 = t2["token"].as_str().expect("token").to_string();
    assert_ne!(t2, bot.token);
    bot.api.me().await.unauthorized();
    bot.api.oauth_app_me().await.unauthorized();
    let me = srv.api_as(&format!("Bot {t2}")).me().await.ok(200);
    assert_eq!(me["id"], bot.id.as_str());
}

#[tokio::test]
async fn bot_reset_failures() {
    let srv = Server::start().await;
    let owner = srv.user("appowner").await;
    let other = srv.user("other").await;
    let bot = srv.bot(&owner, "Mine").await;
    let r = other.api.reset_bot(&bot.id).await;
    assert!(
        matches!(r.status, 403 | 404),
        "non-owner reset must be refused with 403/404, got {} {}",
        r.status,
        r.text
    );
    r.assert_json_content_type();
    // the refused reset did not invalidate the token
    bot.api.me().await.ok(200);
    owner.api.reset_bot(&bogus_id()).await.err(404, 10002);
    srv.api().reset_bot(&bot.id).await.unauthorized();
    // a bot cannot reset tokens (contract: owner's user token)
    bot.api
        .reset_bot(&bot.id)
        .await
        .err_any(403, &[20001, 50013, 50001, 20012]);
}

#[tokio::test]
async fn oauth2_authorize_adds_bot_with_managed_role() {
    let srv = Server::start().await;
    let owner = srv.user("guildowner").await;
    let g = srv.guild(&owner, "Bots Welcome").await;
    let bot = srv.bot(&owner, "Helper").await;
    let perms = perm::VIEW_CHANNEL | perm::SEND_MESSAGES | perm::MANAGE_ROLES;

    let r = owner.api.authorize(&bot.id, perms, &g.id).await.ok(200);
    assert!(
        r["location"].is_string(),
        "authorize answer must carry location: {r}"
    );

    let m = owner.api.member(&g.id, &bot.id).await.ok(200);
    check_member(&m, "bot member");
    assert_eq!(m["user"]["id"], bot.id.as_str());
    assert_eq!(m["user"]["bot"], true);
    let roles = owner.api.roles(&g.id).await.ok(200);
    let managed: Vec<_> = roles
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["managed"] == true)
        .cloned()
        .collect();
    assert_eq!(
        managed.len(),
        1,
        "exactly one managed role expected: {roles}"
    );
    let role = &managed[0];
    check_role(role, "managed role");
    assert_eq!(role["name"], "Helper");
    assert_eq!(role["tags"]["bot_id"], bot.id.as_str());
    assert_eq!(perm_str(&role["permissions"], "managed role"), perms);
    assert!(
        m["roles"].as_array().unwrap().contains(&role["id"]),
        "bot member must carry its managed role: {m}"
    );

    // the bot now sees the guild
    let list = bot.api.my_guilds().await.ok(200);
    assert_eq!(ids(&list), vec![g.id.clone()]);
    bot.api.guild(&g.id).await.ok(200);
    let all = owner.api.members(&g.id, "limit=1000").await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn oauth2_authorize_with_manage_guild_role() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&member, "MemberBot").await;
    // without MANAGE_GUILD: refused
    member
        .api
        .authorize(&bot.id, 0, &g.id)
        .await
        .err(403, 50013);
    let role = srv.role(&owner, &g, "managers", perm::MANAGE_GUILD).await;
    owner
        .api
        .add_role(&g.id, &member.id, role["id"].as_str().unwrap())
        .await
        .ok(204);
    // guild_id as an integer (ids may come as ints)
    let gid: u64 = g.id.parse().unwrap();
    member
        .api
        .post(
            &format!(
                "/oauth2/authorize?client_id={}&scope=bot&permissions=0",
                bot.id
            ),
            &json!({"guild_id": gid, "permissions": 0, "authorize": true}),
        )
        .await
        .ok(200);
    owner.api.member(&g.id, &bot.id).await.ok(200);
}

#[tokio::test]
async fn oauth2_authorize_failures() {
    let srv = Server::start().await;
    let owner = srv.user("guildowner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let outsider = srv.user("outsider").await;
    let bot = srv.bot(&owner, "Nope").await;

    outsider
        .api
        .authorize(&bot.id, 0, &g.id)
        .await
        .err(404, 10004);
    owner
        .api
        .authorize(&bogus_id(), 0, &g.id)
        .await
        .err(404, 10002);
    owner
        .api
        .authorize(&bot.id, 0, &bogus_id())
        .await
        .err(404, 10004);
    srv.api().authorize(&bot.id, 0, &g.id).await.unauthorized();
    bot.api.authorize(&bot.id, 0, &g.id).await.err(403, 20001);
    let r = owner
        .api
        .post(
            &format!(
                "/oauth2/authorize?client_id={}&scope=bot&permissions=0",
                bot.id
            ),
            &json!({"authorize": true}),
        )
        .await;
    r.err(400, 50035);
    // nothing of the above made the bot a member
    owner.api.member(&g.id, &bot.id).await.err(404, 10007);
}

#[tokio::test]
async fn bot_token_needs_bot_prefix_on_rest() {
    let srv = Server::start().await;
    let owner = srv.user("appowner").await;
    let bot = srv.bot(&owner, "Prefixed").await;
    srv.api_as(&bot.token).me().await.unauthorized();
    srv.api_as(&format!("Bearer {}", bot.token))
        .me()
        .await
        .unauthorized();
    srv.api().oauth_app_me().await.unauthorized();
    srv.api().app_me().await.unauthorized();
    bot.api.me().await.ok(200);
}
