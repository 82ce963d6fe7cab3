//! POST /auth/register, POST /auth/login, GET/PATCH /users/@me, GET /users/{id},
//! GET /users/@me/guilds, plus the cross-cutting conventions (401 body, unknown route, /api/v9,
//! malformed JSON, unknown fields).
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn register_returns_token_and_user_id() {
    let srv = Server::start().await;
    let r = srv
        .api()
        .register(
            &json!({"username": "alice", "password": PASSWORD, "email": "alice@example.test"}),
        )
        .await;
    let b = r.ok(201);
    assert!(
        b["token"].as_str().is_some_and(|t| !t.is_empty()),
        "token: {b}"
    );
    assert_snowflake(&b["user_id"], "user_id");
    // The token works as a raw Authorization header.
    let me = srv.api_as(b["token"].as_str().unwrap()).me().await.ok(200);
    assert_eq!(me["id"], b["user_id"]);
    assert_eq!(me["username"], "alice");
}

#[tokio::test]
async fn register_without_email_and_with_unknown_fields() {
    let srv = Server::start().await;
    let b = srv
        .api()
        .register(&json!({"username": "bob", "password": PASSWORD, "date_of_birth": "2000-01-01", "x": [1]}))
        .await
        .ok(201);
    assert_snowflake(&b["user_id"], "user_id");
}

#[tokio::test]
async fn register_validation_errors() {
    let srv = Server::start().await;
    let api = srv.api();
    api.register(&json!({"password": PASSWORD}))
        .await
        .form_error_code("username", "BASE_TYPE_REQUIRED");
    api.register(&json!({"username": "carol"}))
        .await
        .form_error_code("password", "BASE_TYPE_REQUIRED");
    api.register(&json!({"username": "c", "password": PASSWORD}))
        .await
        .form_error_code("username", "BASE_TYPE_BAD_LENGTH");
    api.register(&json!({"username": "x".repeat(33), "password": PASSWORD}))
        .await
        .form_error_code("username", "BASE_TYPE_BAD_LENGTH");
    // too-short password: some error at errors.password
    api.register(&json!({"username": "carol", "password": "short"}))
        .await
        .form_error("password");
    // boundaries are accepted
    api.register(&json!({"username": "cc", "password": "12345678"}))
        .await
        .ok(201);
    api.register(&json!({"username": "y".repeat(32), "password": PASSWORD}))
        .await
        .ok(201);
}

#[tokio::test]
async fn register_duplicate_username() {
    let srv = Server::start().await;
    srv.user("dave").await;
    srv.api()
        .register(&json!({"username": "dave", "password": PASSWORD}))
        .await
        .form_error_code("username", "USERNAME_ALREADY_TAKEN");
}

#[tokio::test]
async fn malformed_json_is_50109() {
    let srv = Server::start().await;
    let r = srv
        .api()
        .raw(
            "POST",
            "/auth/register",
            Some(b"{\"username\": \"eve\",".to_vec()),
            "application/json",
        )
        .await;
    r.err(400, 50109);
    let u = srv.user("eve").await;
    let r = u
        .api
        .raw(
            "PATCH",
            "/users/@me",
            Some(b"not json".to_vec()),
            "application/json",
        )
        .await;
    r.err(400, 50109);
}

#[tokio::test]
async fn login_by_username_and_email() {
    let srv = Server::start().await;
    let u = srv.user("frank").await;
    for login in ["frank", "frank@example.test"] {
        let b = srv
            .api()
            .login(&json!({"login": login, "password": PASSWORD}))
            .await
            .ok(200);
        assert_eq!(b["user_id"], u.id.as_str(), "login {login}");
        let token = b["token"].as_str().expect("token");
        assert_eq!(srv.api_as(token).me().await.ok(200)["id"], u.id.as_str());
    }
}

#[tokio::test]
async fn login_failures() {
    let srv = Server::start().await;
    srv.user("grace").await;
    let r = srv
        .api()
        .login(&json!({"login": "grace", "password": "wrong password"}))
        .await;
    r.form_error_code("login", "INVALID_LOGIN");
    r.form_error_code("password", "INVALID_LOGIN");
    let r = srv
        .api()
        .login(&json!({"login": "nobody", "password": PASSWORD}))
        .await;
    r.form_error_code("login", "INVALID_LOGIN");
    srv.api()
        .login(&json!({"password": PASSWORD}))
        .await
        .form_error_code("login", "BASE_TYPE_REQUIRED");
}

#[tokio::test]
async fn users_me_shape() {
    let srv = Server::start().await;
    let u = srv.user("heidi").await;
    let me = u.api.me().await.ok(200);
    check_me(&me, "GET /users/@me");
    assert_eq!(me["id"], u.id.as_str());
    assert_eq!(me["username"], "heidi");
    assert_eq!(me["bot"], false);
    assert_eq!(me["email"], "heidi@example.test");
    // also under /api/v9
    assert_eq!(u.api.v9().me().await.ok(200)["id"], u.id.as_str());
}

#[tokio::test]
async fn bad_or_missing_token_is_401() {
    let srv = Server::start().await;
    let u = srv.user("ivan").await;
    srv.api().me().await.unauthorized();
    srv.api_as("garbage").me().await.unauthorized();
    srv.api_as("Bot garbage").me().await.unauthorized();
    srv.api_as("Bot MTIzNDU2Nzg5MDEyMzQ1Njc4.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb")
        .me()
        .await
        .unauthorized();
    // a JWT with a flipped signature
    let mut chars: Vec<char> = u.token.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let t: String = chars.into_iter().collect();
    srv.api_as(&t).me().await.unauthorized();
    // 401 on other authenticated routes too
    srv.api().my_guilds().await.unauthorized();
    srv.api().user(&u.id).await.unauthorized();
    srv.api()
        .create_guild(&json!({"name": "x"}))
        .await
        .unauthorized();
}

#[tokio::test]
async fn patch_users_me() {
    let srv = Server::start().await;
    let u = srv.user("judy").await;
    srv.user("taken").await;
    let b = u
        .api
        .patch_me(&json!({"global_name": "Judy J"}))
        .await
        .ok(200);
    check_me(&b, "PATCH /users/@me");
    assert_eq!(b["global_name"], "Judy J");
    let b = u.api.patch_me(&json!({"username": "judy2"})).await.ok(200);
    assert_eq!(b["username"], "judy2");
    let me = u.api.me().await.ok(200);
    assert_eq!(me["username"], "judy2");
    assert_eq!(me["global_name"], "Judy J");
    // login with the new username works
    srv.api()
        .login(&json!({"login": "judy2", "password": PASSWORD}))
        .await
        .ok(200);

    u.api
        .patch_me(&json!({"username": "taken"}))
        .await
        .form_error_code("username", "USERNAME_ALREADY_TAKEN");
    u.api
        .patch_me(&json!({"username": "z".repeat(33)}))
        .await
        .form_error_code("username", "BASE_TYPE_BAD_LENGTH");
    srv.api()
        .patch_me(&json!({"global_name": "x"}))
        .await
        .unauthorized();
}

#[tokio::test]
async fn get_user_by_id() {
    let srv = Server::start().await;
    let a = srv.user("kate").await;
    let b = srv.user("leo").await;
    let u = a.api.user(&b.id).await.ok(200);
    check_user(&u, "GET /users/{id}");
    assert_eq!(u["id"], b.id.as_str());
    assert_eq!(u["username"], "leo");
    assert!(
        u.get("email").is_none(),
        "public user must not carry email: {u}"
    );
    a.api.user(&bogus_id()).await.err(404, 10013);
}

#[tokio::test]
async fn my_guilds_lists_partial_guilds() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    assert_eq!(outsider.api.my_guilds().await.ok(200), json!([]));

    let list = owner.api.my_guilds().await.ok(200);
    assert_eq!(ids(&list), vec![g.id.clone()]);
    let e = &list[0];
    assert_keys(
        e,
        &["id", "name", "icon", "owner", "permissions", "features"],
        "owner's guild",
    );
    assert_eq!(e["name"], "World");
    assert_eq!(e["owner"], true);
    let p = perm_str(&e["permissions"], "owner permissions");
    assert_eq!(
        p & perm::ADMINISTRATOR,
        perm::ADMINISTRATOR,
        "owner must have all permissions"
    );

    let list = member.api.my_guilds().await.ok(200);
    assert_eq!(ids(&list), vec![g.id.clone()]);
    assert_eq!(list[0]["owner"], false);
    assert_eq!(
        perm_str(&list[0]["permissions"], "member permissions"),
        perm::EVERYONE_DEFAULT
    );
}

#[tokio::test]
async fn unknown_route_is_404_code_0() {
    let srv = Server::start().await;
    let u = srv.user("mallory").await;
    let r = u.api.get("/this/route/does/not/exist").await;
    r.err(404, 0);
    assert_eq!(r.body["message"], "404: Not Found");
}
