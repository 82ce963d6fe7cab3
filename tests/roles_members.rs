//! GET/POST /guilds/{id}/roles, GET /guilds/{id}/members, GET /guilds/{id}/members/{uid},
//! PUT/DELETE /guilds/{id}/members/{uid}/roles/{rid}.
mod common;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn list_roles() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    for u in [&owner, &member] {
        let roles = u.api.roles(&g.id).await.ok(200);
        let arr = roles.as_array().expect("array");
        for (i, r) in arr.iter().enumerate() {
            check_role(r, &format!("roles[{i}]"));
        }
        let everyone = arr
            .iter()
            .find(|r| r["id"] == g.id.as_str())
            .expect("@everyone role");
        assert_eq!(everyone["name"], "@everyone");
        assert_eq!(everyone["position"], 0);
        assert_eq!(everyone["permissions"], perm::EVERYONE_DEFAULT.to_string());
    }
    outsider.api.roles(&g.id).await.err(404, 10004);
    owner.api.roles(&bogus_id()).await.err(404, 10004);
    srv.api().roles(&g.id).await.unauthorized();
}

#[tokio::test]
async fn create_role_defaults_and_fields() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Guild G").await;

    let r = owner.api.create_role(&g.id, &json!({})).await.ok(200);
    check_role(&r, "default role");
    assert_eq!(r["name"], "new role");
    assert_eq!(r["managed"], false);
    assert_eq!(r["hoist"], false);
    assert_eq!(r["mentionable"], false);
    assert!(
        r["position"].as_i64().unwrap() > 0,
        "a new role sits above @everyone: {r}"
    );

    let r = owner
        .api
        .create_role(
            &g.id,
            &json!({"name": "Mods", "permissions": (perm::MANAGE_ROLES | perm::KICK_MEMBERS).to_string(),
                    "color": 0xff0000, "hoist": true, "mentionable": true, "bogus": 1}),
        )
        .await
        .ok(200);
    check_role(&r, "Mods");
    assert_eq!(r["name"], "Mods");
    assert_eq!(
        perm_str(&r["permissions"], "Mods"),
        perm::MANAGE_ROLES | perm::KICK_MEMBERS
    );
    assert_eq!(r["color"], 0xff0000);
    assert_eq!(r["colors"]["primary_color"], 0xff0000);
    assert_eq!(r["hoist"], true);
    assert_eq!(r["mentionable"], true);

    // permissions as an integer, color via colors.primary_color (discord.js)
    let r = owner
        .api
        .create_role(&g.id, &json!({"name": "Blue", "permissions": perm::SEND_MESSAGES, "colors": {"primary_color": 255}}))
        .await
        .ok(200);
    assert_eq!(perm_str(&r["permissions"], "Blue"), perm::SEND_MESSAGES);
    assert_eq!(r["colors"]["primary_color"], 255);
    assert_eq!(r["color"], 255);

    let roles = owner.api.roles(&g.id).await.ok(200);
    assert_eq!(roles.as_array().unwrap().len(), 4, "{roles}");
    let positions: Vec<i64> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["position"].as_i64().unwrap())
        .collect();
    let mut dedup = positions.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        dedup.len(),
        positions.len(),
        "role positions must be distinct: {positions:?}"
    );
}

#[tokio::test]
async fn create_role_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    member
        .api
        .create_role(&g.id, &json!({"name": "x"}))
        .await
        .err(403, 50013);
    outsider
        .api
        .create_role(&g.id, &json!({"name": "x"}))
        .await
        .err(404, 10004);
    owner
        .api
        .create_role(&bogus_id(), &json!({"name": "x"}))
        .await
        .err(404, 10004);
    srv.api()
        .create_role(&g.id, &json!({"name": "x"}))
        .await
        .unauthorized();
    let code = owner
        .api
        .create_role(&g.id, &json!({"name": "r".repeat(101)}))
        .await
        .form_error("name");
    assert!(
        code == "BASE_TYPE_MAX_LENGTH" || code == "BASE_TYPE_BAD_LENGTH",
        "role name over 100 chars: length error expected, got {code}"
    );
    owner
        .api
        .create_role(&g.id, &json!({"permissions": "lots"}))
        .await
        .form_error("permissions");
    owner
        .api
        .raw(
            "POST",
            &format!("/guilds/{}/roles", g.id),
            Some(b"{\"name\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    // nothing was created
    assert_eq!(
        owner
            .api
            .roles(&g.id)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn list_members_paging() {
    let srv = Server::start().await;
    let (owner, g, m1) = srv.world().await;
    let m2 = srv.user("member2").await;
    srv.join(&owner, &g, &m2).await;
    let outsider = srv.user("outsider").await;

    let one = owner.api.members(&g.id, "").await.ok(200);
    assert_eq!(
        one.as_array().unwrap().len(),
        1,
        "default limit is 1: {one}"
    );

    let all = m1.api.members(&g.id, "limit=1000").await.ok(200);
    let arr = all.as_array().unwrap();
    assert_eq!(arr.len(), 3, "{all}");
    for (i, m) in arr.iter().enumerate() {
        check_member(m, &format!("members[{i}]"));
    }
    let mut user_ids: Vec<u64> = arr
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let listed = user_ids.clone();
    user_ids.sort();
    assert_eq!(listed, user_ids, "members are listed by ascending user id");
    let expected: std::collections::BTreeSet<String> = [&owner.id, &m1.id, &m2.id]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let got: std::collections::BTreeSet<String> = listed.iter().map(|i| i.to_string()).collect();
    assert_eq!(got, expected);
    assert_eq!(one[0]["user"]["id"], listed[0].to_string());

    let after = owner
        .api
        .members(&g.id, &format!("limit=1000&after={}", listed[0]))
        .await
        .ok(200);
    let after_ids: Vec<String> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        after_ids,
        vec![listed[1].to_string(), listed[2].to_string()]
    );
    let page = owner
        .api
        .members(&g.id, &format!("limit=1&after={}", listed[1]))
        .await
        .ok(200);
    assert_eq!(page[0]["user"]["id"], listed[2].to_string());

    owner.api.members(&g.id, "limit=0").await.err(400, 50035);
    owner.api.members(&g.id, "limit=1001").await.err(400, 50035);
    outsider
        .api
        .members(&g.id, "limit=10")
        .await
        .err(404, 10004);
    owner.api.members(&bogus_id(), "").await.err(404, 10004);
    srv.api().members(&g.id, "").await.unauthorized();
}

#[tokio::test]
async fn get_member() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let m = owner.api.member(&g.id, &member.id).await.ok(200);
    check_member(&m, "GET member");
    assert_eq!(m["user"]["id"], member.id.as_str());
    assert_eq!(m["user"]["username"], "member");
    assert_eq!(
        m["roles"],
        json!([]),
        "@everyone is never listed in member.roles"
    );
    assert_eq!(m["deaf"], false);
    assert_eq!(m["mute"], false);
    // members see each other
    member.api.member(&g.id, &owner.id).await.ok(200);

    owner.api.member(&g.id, &outsider.id).await.err(404, 10007);
    owner
        .api
        .member(&g.id, &bogus_id())
        .await
        .err_any(404, &[10007, 10013]);
    outsider.api.member(&g.id, &owner.id).await.err(404, 10004);
    owner
        .api
        .member(&bogus_id(), &owner.id)
        .await
        .err(404, 10004);
    srv.api().member(&g.id, &owner.id).await.unauthorized();
}

fn role_ids(member: &Value) -> Vec<String> {
    member["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn add_and_remove_member_role() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let role = srv.role(&owner, &g, "Friends", 0).await;
    let rid = role["id"].as_str().unwrap();

    owner.api.add_role(&g.id, &member.id, rid).await.ok(204);
    assert_eq!(
        role_ids(&owner.api.member(&g.id, &member.id).await.ok(200)),
        vec![rid.to_string()]
    );
    // idempotent
    owner.api.add_role(&g.id, &member.id, rid).await.ok(204);
    assert_eq!(
        role_ids(&owner.api.member(&g.id, &member.id).await.ok(200)),
        vec![rid.to_string()]
    );
    // shows in the member list too
    let all = owner.api.members(&g.id, "limit=10").await.ok(200);
    let listed = all
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == member.id.as_str())
        .unwrap()
        .clone();
    assert_eq!(role_ids(&listed), vec![rid.to_string()]);

    owner.api.remove_role(&g.id, &member.id, rid).await.ok(204);
    assert!(role_ids(&owner.api.member(&g.id, &member.id).await.ok(200)).is_empty());
    // owner can give itself a role
    owner.api.add_role(&g.id, &owner.id, rid).await.ok(204);
}

#[tokio::test]
async fn member_role_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let role = srv.role(&owner, &g, "Friends", 0).await;
    let rid = role["id"].as_str().unwrap();

    owner
        .api
        .add_role(&g.id, &member.id, &bogus_id())
        .await
        .err(404, 10011);
    owner
        .api
        .remove_role(&g.id, &member.id, &bogus_id())
        .await
        .err(404, 10011);
    owner
        .api
        .add_role(&g.id, &outsider.id, rid)
        .await
        .err(404, 10007);
    owner
        .api
        .remove_role(&g.id, &outsider.id, rid)
        .await
        .err(404, 10007);
    member
        .api
        .add_role(&g.id, &member.id, rid)
        .await
        .err(403, 50013);
    member
        .api
        .remove_role(&g.id, &member.id, rid)
        .await
        .err(403, 50013);
    outsider
        .api
        .add_role(&g.id, &member.id, rid)
        .await
        .err(404, 10004);
    owner
        .api
        .add_role(&bogus_id(), &member.id, rid)
        .await
        .err(404, 10004);
    srv.api()
        .add_role(&g.id, &member.id, rid)
        .await
        .unauthorized();
    srv.api()
        .remove_role(&g.id, &member.id, rid)
        .await
        .unauthorized();
    assert!(role_ids(&owner.api.member(&g.id, &member.id).await.ok(200)).is_empty());
}
