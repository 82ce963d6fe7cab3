//! POST /guilds, GET /guilds/{id}, GET/POST /guilds/{id}/channels, GET /channels/{id}.
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn create_guild_shape() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = owner
        .api
        .create_guild(&json!({"name": "My Guild", "region": "ignored"}))
        .await
        .ok(201);
    check_guild(&g, "POST /guilds");
    let gid = g["id"].as_str().unwrap();
    assert_eq!(g["name"], "My Guild");
    assert_eq!(g["owner_id"], owner.id.as_str());
    let everyone = g["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == gid)
        .expect("@everyone")
        .clone();
    assert_eq!(everyone["name"], "@everyone");
    assert_eq!(everyone["position"], 0);
    assert_eq!(everyone["managed"], false);
    assert_eq!(everyone["permissions"], perm::EVERYONE_DEFAULT.to_string());

    let chans = owner.api.channels(gid).await.ok(200);
    let general: Vec<_> = chans
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "general")
        .collect();
    assert_eq!(general.len(), 1, "one general channel: {chans}");
    check_channel(general[0], "general");
    assert_eq!(general[0]["type"], 0);
    assert_eq!(general[0]["guild_id"], gid);

    let got = owner.api.guild(gid).await.ok(200);
    check_guild(&got, "GET /guilds/{id}");
    assert_eq!(got["id"], gid);
    assert_eq!(got["name"], "My Guild");
    assert_eq!(got["owner_id"], owner.id.as_str());
}

#[tokio::test]
async fn create_guild_failures() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    owner
        .api
        .create_guild(&json!({}))
        .await
        .form_error_code("name", "BASE_TYPE_REQUIRED");
    owner
        .api
        .raw(
            "POST",
            "/guilds",
            Some(b"{name:".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    srv.api()
        .create_guild(&json!({"name": "x"}))
        .await
        .unauthorized();
    srv.api_as("Bot bad.token.here")
        .create_guild(&json!({"name": "x"}))
        .await
        .unauthorized();
}

#[tokio::test]
async fn get_guild_access() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    owner.api.guild(&g.id).await.ok(200);
    let got = member.api.guild(&g.id).await.ok(200);
    check_guild(&got, "member GET /guilds/{id}");
    assert_eq!(
        member.api.v9().guild(&g.id).await.ok(200)["id"],
        g.id.as_str()
    );
    outsider.api.guild(&g.id).await.err(404, 10004);
    owner.api.guild(&bogus_id()).await.err(404, 10004);
    srv.api().guild(&g.id).await.unauthorized();
}

#[tokio::test]
async fn list_channels_access() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    for u in [&owner, &member] {
        let chans = u.api.channels(&g.id).await.ok(200);
        for (i, c) in chans.as_array().expect("array").iter().enumerate() {
            check_channel(c, &format!("channels[{i}]"));
            assert_eq!(c["guild_id"], g.id.as_str());
        }
        assert!(ids(&chans).contains(&g.general));
    }
    outsider.api.channels(&g.id).await.err(404, 10004);
    owner.api.channels(&bogus_id()).await.err(404, 10004);
    srv.api().channels(&g.id).await.unauthorized();
}

#[tokio::test]
async fn create_channel_defaults_to_text() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let c = owner
        .api
        .create_channel(&g.id, &json!({"name": "chat"}))
        .await
        .ok(201);
    check_channel(&c, "POST /guilds/{id}/channels");
    assert_eq!(c["type"], 0);
    assert_eq!(c["name"], "chat");
    assert_eq!(c["guild_id"], g.id.as_str());
    assert_eq!(c["nsfw"], false);
    let cid = c["id"].as_str().unwrap();
    assert!(ids(&owner.api.channels(&g.id).await.ok(200)).contains(&cid.to_string()));
    let got = owner.api.channel(cid).await.ok(200);
    check_channel(&got, "GET /channels/{id}");
    assert_eq!(got["id"], cid);
    assert_eq!(got["name"], "chat");
    assert_eq!(got["guild_id"], g.id.as_str());
}

#[tokio::test]
async fn create_channel_with_all_fields() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    let cat = owner
        .api
        .create_channel(&g.id, &json!({"name": "Category", "type": 4}))
        .await
        .ok(201);
    assert_eq!(cat["type"], 4);
    let cat_id: u64 = cat["id"].as_str().unwrap().parse().unwrap();
    let gid_int: u64 = g.id.parse().unwrap();

    // ids given as integers, permissions as string and as integer
    let c = owner
        .api
        .create_channel(
            &g.id,
            &json!({
                "name": "rules",
                "type": 0,
                "topic": "read me",
                "parent_id": cat_id,
                "position": 3,
                "nsfw": true,
                "permission_overwrites": [
                    {"id": gid_int, "type": 0, "allow": "0", "deny": perm::SEND_MESSAGES.to_string()},
                    {"id": owner.id, "type": 1, "allow": perm::SEND_MESSAGES, "deny": 0}
                ]
            }),
        )
        .await
        .ok(201);
    check_channel(&c, "full channel");
    assert_eq!(c["topic"], "read me");
    assert_eq!(c["parent_id"], cat_id.to_string());
    assert_eq!(c["nsfw"], true);
    let ows = c["permission_overwrites"].as_array().unwrap();
    assert_eq!(ows.len(), 2, "{c}");
    let everyone = ows
        .iter()
        .find(|o| o["id"] == g.id.as_str())
        .expect("@everyone overwrite");
    assert_eq!(everyone["type"], 0);
    assert_eq!(everyone["allow"], "0");
    assert_eq!(everyone["deny"], perm::SEND_MESSAGES.to_string());
    let mine = ows
        .iter()
        .find(|o| o["id"] == owner.id.as_str())
        .expect("member overwrite");
    assert_eq!(mine["type"], 1);
    assert_eq!(mine["allow"], perm::SEND_MESSAGES.to_string());
    assert_eq!(mine["deny"], "0");

    let got = owner.api.channel(c["id"].as_str().unwrap()).await.ok(200);
    assert_eq!(got["permission_overwrites"].as_array().unwrap().len(), 2);
    assert_eq!(got["parent_id"], cat_id.to_string());

    let voice = owner
        .api
        .create_channel(&g.id, &json!({"name": "Voice", "type": 2}))
        .await
        .ok(201);
    assert_eq!(voice["type"], 2);
}

#[tokio::test]
async fn create_channel_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    member
        .api
        .create_channel(&g.id, &json!({"name": "nope"}))
        .await
        .err(403, 50013);
    outsider
        .api
        .create_channel(&g.id, &json!({"name": "nope"}))
        .await
        .err(404, 10004);
    owner
        .api
        .create_channel(&bogus_id(), &json!({"name": "nope"}))
        .await
        .err(404, 10004);
    srv.api()
        .create_channel(&g.id, &json!({"name": "nope"}))
        .await
        .unauthorized();
    owner
        .api
        .create_channel(&g.id, &json!({"type": 0}))
        .await
        .form_error_code("name", "BASE_TYPE_REQUIRED");
    owner
        .api
        .create_channel(&g.id, &json!({"name": "n".repeat(101)}))
        .await
        .form_error_code("name", "BASE_TYPE_BAD_LENGTH");
    owner
        .api
        .raw(
            "POST",
            &format!("/guilds/{}/channels", g.id),
            Some(b"[".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    // none of the refused requests created a channel
    let names: Vec<_> = owner
        .api
        .channels(&g.id)
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert!(!names.contains(&json!("nope")), "{names:?}");

    // a role with MANAGE_CHANNELS makes it work
    let role = srv
        .role(&owner, &g, "channel admins", perm::MANAGE_CHANNELS)
        .await;
    owner
        .api
        .add_role(&g.id, &member.id, role["id"].as_str().unwrap())
        .await
        .ok(204);
    member
        .api
        .create_channel(&g.id, &json!({"name": "yes"}))
        .await
        .ok(201);
}

#[tokio::test]
async fn get_channel_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let c = member.api.channel(&g.general).await.ok(200);
    check_channel(&c, "member GET /channels/{id}");
    outsider.api.channel(&g.general).await.err(404, 10003);
    owner.api.channel(&bogus_id()).await.err(404, 10003);
    srv.api().channel(&g.general).await.unauthorized();
}

#[tokio::test]
async fn malformed_ids_are_client_errors() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;
    for path in [
        "/guilds/abc".to_string(),
        "/channels/abc".to_string(),
        "/channels/99999999999999999999999999".to_string(),
        format!("/guilds/{}/members/-1", g.id),
        format!("/channels/{}/messages/xyz", g.general),
    ] {
        let r = owner.api.get(&path).await;
        assert!(
            matches!(r.status, 400 | 404),
            "{path}: expected 400/404, got {} {}",
            r.status,
            r.text
        );
        r.assert_json_content_type();
        assert!(
            r.body["code"].is_i64(),
            "{path}: Discord error body expected: {}",
            r.text
        );
    }
    owner
        .api
        .create_channel(
            &g.id,
            &json!({"name": "child", "parent_id": "not-a-snowflake"}),
        )
        .await
        .form_error("parent_id");
    // the server is still healthy
    owner.api.guild(&g.id).await.ok(200);
}

#[tokio::test]
async fn unknown_route_without_auth_is_404() {
    let srv = Server::start().await;
    let r = srv.api().get("/definitely/not/a/route").await;
    r.err(404, 0);
    assert_eq!(r.body["message"], "404: Not Found");
}
