//! Issue 3 (/work/contract3.md): PATCH /guilds/{id} (MANAGE_GUILD, owner_id transfer, GUILD_UPDATE),
//! DELETE /guilds/{id} (owner only, GUILD_DELETE to every member), and the visibility rule on
//! every guild and channel route: a non-member gets exactly the unknown-id answer (404 10004 /
//! 10003), a member who cannot VIEW_CHANNEL gets 403 50001, a member who can see but not act
//! gets 403 50013.
mod common;
use common::perm3 as perm;
use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn patch_guild() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;
    let body = json!({
        "name": "Renamed",
        "description": "a description",
        "afk_timeout": 300,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "preferred_locale": "de",
        "system_channel_id": g.general,
        "icon": null,
        "unknown_field": 5,
    });
    let up = owner.api.patch_guild(&g.id, &body).await.ok(200);
    check_guild(&up, "PATCH guild");
    assert_eq!(up["id"], g.id.as_str());
    assert_eq!(up["name"], "Renamed");
    assert_eq!(up["description"], "a description");
    assert_eq!(up["afk_timeout"], 300);
    assert_eq!(up["verification_level"], 1);
    assert_eq!(up["default_message_notifications"], 1);
    assert_eq!(up["explicit_content_filter"], 2);
    assert_eq!(up["preferred_locale"], "de");
    assert_eq!(up["system_channel_id"], g.general.as_str());
    assert_eq!(up["owner_id"], owner.id.as_str());
    let d = mgw
        .expect_dispatch_where("GUILD_UPDATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
        .await;
    check_guild(&d, "GUILD_UPDATE");
    assert_eq!(d["name"], "Renamed");
    assert_eq!(d["description"], "a description");
    let got = member.api.guild(&g.id).await.ok(200);
    assert_eq!(got["name"], "Renamed");
    assert_eq!(got["afk_timeout"], 300);
    assert_eq!(got["preferred_locale"], "de");
    // partial: untouched fields stay; v9 path too
    let up = owner
        .api
        .v9()
        .patch_guild(&g.id, &json!({"name": "Again"}))
        .await
        .ok(200);
    assert_eq!(up["name"], "Again");
    assert_eq!(up["description"], "a description");
    assert_eq!(up["verification_level"], 1);
    // the guild list follows
    assert_eq!(member.api.my_guilds().await.ok(200)[0]["name"], "Again");
}

#[tokio::test]
async fn patch_guild_permissions_and_failures() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let manager = srv.joined_user(&owner, &g, "manager").await;
    let r = srv.role(&owner, &g, "managers", perm::MANAGE_GUILD).await;
    srv.give3(&owner, &g, &manager.id, &sid(&r)).await;

    member
        .api
        .patch_guild(&g.id, &json!({"name": "Nope"}))
        .await
        .err(403, 50013);
    let up = manager
        .api
        .patch_guild(&g.id, &json!({"name": "By Manager"}))
        .await
        .ok(200);
    assert_eq!(up["name"], "By Manager");
    let bogus_guild = bogus_id();
    let want = outsider
        .api
        .patch_guild(&bogus_guild, &json!({"name": "x"}))
        .await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.patch_guild(&g.id, &json!({"name": "x"})).await,
        &want,
        "outsider PATCH guild",
    );
    srv.api()
        .patch_guild(&g.id, &json!({"name": "x"}))
        .await
        .unauthorized();
    owner
        .api
        .raw(
            "PATCH",
            &format!("/guilds/{}", g.id),
            Some(b"{\"name\"".to_vec()),
            "application/json",
        )
        .await
        .err(400, 50109);
    // name: 2..=100 characters
    for bad in ["a".to_string(), "n".repeat(101)] {
        let code = owner
            .api
            .patch_guild(&g.id, &json!({"name": bad}))
            .await
            .form_error("name");
        assert!(code.starts_with("BASE_TYPE"), "{code}");
    }
    assert_eq!(owner.api.guild(&g.id).await.ok(200)["name"], "By Manager");
}

/// Discord's documented value sets for guild settings.
#[tokio::test]
async fn patch_guild_validation() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Valid").await;
    owner
        .api
        .patch_guild(&g.id, &json!({"afk_timeout": 61}))
        .await
        .form_error("afk_timeout");
    owner
        .api
        .patch_guild(&g.id, &json!({"verification_level": 9}))
        .await
        .form_error("verification_level");
    owner
        .api
        .patch_guild(&g.id, &json!({"explicit_content_filter": 9}))
        .await
        .form_error("explicit_content_filter");
    owner
        .api
        .patch_guild(&g.id, &json!({"default_message_notifications": 5}))
        .await
        .form_error("default_message_notifications");
    owner
        .api
        .patch_guild(&g.id, &json!({"system_channel_id": bogus_id()}))
        .await
        .form_error("system_channel_id");
    let got = owner.api.guild(&g.id).await.ok(200);
    assert_eq!(got["verification_level"], 0);
    assert_ne!(got["afk_timeout"], 61);
}

#[tokio::test]
async fn transfer_ownership() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let manager = srv.joined_user(&owner, &g, "manager").await;
    let r = srv.role(&owner, &g, "managers", perm::MANAGE_GUILD).await;
    srv.give3(&owner, &g, &manager.id, &sid(&r)).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    // only the owner may hand the guild over
    manager
        .api
        .patch_guild(&g.id, &json!({"owner_id": manager.id}))
        .await
        .err(403, 50013);
    assert_eq!(
        owner.api.guild(&g.id).await.ok(200)["owner_id"],
        owner.id.as_str()
    );

    let up = owner
        .api
        .patch_guild(&g.id, &json!({"owner_id": member.id}))
        .await
        .ok(200);
    assert_eq!(up["owner_id"], member.id.as_str());
    mgw.expect_dispatch_where("GUILD_UPDATE", EVENT_TIMEOUT, |d| {
        d["owner_id"] == member.id.as_str()
    })
    .await;
    // the new owner holds everything, the old one is a plain member
    let mine = member.api.my_guilds().await.ok(200);
    assert_eq!(mine[0]["owner"], true, "{mine}");
    assert_eq!(perm_str(&mine[0]["permissions"], "new owner"), perm::ALL);
    owner.api.delete_guild(&g.id).await.err(403, 50013);
    owner
        .api
        .patch_guild(&g.id, &json!({"name": "mine?"}))
        .await
        .err(403, 50013);
    member
        .api
        .leave_guild(&g.id)
        .await
        .err_any(400, &[0, 50055]);
    owner.api.leave_guild(&g.id).await.ok(204);
    member.api.delete_guild(&g.id).await.ok(204);
}

#[tokio::test]
async fn delete_guild() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let admin = srv.joined_user(&owner, &g, "admin").await;
    let r = srv.role(&owner, &g, "admins", perm::ADMINISTRATOR).await;
    srv.give3(&owner, &g, &admin.id, &sid(&r)).await;
    let code = srv.invite_code(&owner, &g.general).await;
    let mut ogw = srv.gw(&owner.token, intents::DEFAULT).await;
    let mut mgw = srv.gw(&member.token, intents::DEFAULT).await;

    // owner only
    member.api.delete_guild(&g.id).await.err(403, 50013);
    admin.api.delete_guild(&g.id).await.err(403, 50013);
    let bogus_guild = bogus_id();
    let want = outsider.api.delete_guild(&bogus_guild).await;
    want.err(404, 10004);
    assert_same_answer(
        &outsider.api.delete_guild(&g.id).await,
        &want,
        "outsider DELETE guild",
    );
    srv.api().delete_guild(&g.id).await.unauthorized();
    owner.api.guild(&g.id).await.ok(200);

    owner.api.delete_guild(&g.id).await.ok(204);
    for (who, gw) in [("owner", &mut ogw), ("member", &mut mgw)] {
        let d = gw
            .expect_dispatch_where("GUILD_DELETE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
            .await;
        assert_ne!(d["unavailable"], true, "{who}: {d}");
    }
    for u in [&owner, &member, &admin] {
        u.api.guild(&g.id).await.err(404, 10004);
        u.api.channel(&g.general).await.err(404, 10003);
        assert_eq!(u.api.my_guilds().await.ok(200), json!([]), "{}", u.username);
    }
    owner.api.delete_guild(&g.id).await.err(404, 10004);
    owner.api.roles(&g.id).await.err(404, 10004);
    // its invites die with it
    srv.api().invite(&code).await.err(404, 10006);
    outsider.api.join(&code).await.err(404, 10006);
}

// ------------------------------------------------------------------------------------------
// the visibility rule
// ------------------------------------------------------------------------------------------

/// (method, path with {g} {c} {r} {m} {u} {msg} placeholders, body, which id is the "unknown" one)
fn guild_routes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/guilds/{g}", None),
        ("PATCH", "/guilds/{g}", Some(json!({"name": "Hijacked"}))),
        ("DELETE", "/guilds/{g}", None),
        ("GET", "/guilds/{g}/channels", None),
        (
            "POST",
            "/guilds/{g}/channels",
            Some(json!({"name": "intruder"})),
        ),
        ("GET", "/guilds/{g}/roles", None),
        (
            "POST",
            "/guilds/{g}/roles",
            Some(json!({"name": "intruder"})),
        ),
        (
            "PATCH",
            "/guilds/{g}/roles",
            Some(json!([{"id": "{r}", "position": 1}])),
        ),
        ("PATCH", "/guilds/{g}/roles/{r}", Some(json!({"name": "x"}))),
        ("DELETE", "/guilds/{g}/roles/{r}", None),
        ("GET", "/guilds/{g}/members", None),
        ("GET", "/guilds/{g}/members/{m}", None),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"nick": "x"})),
        ),
        (
            "PATCH",
            "/guilds/{g}/members/@me",
            Some(json!({"nick": "x"})),
        ),
        ("DELETE", "/guilds/{g}/members/{m}", None),
        ("PUT", "/guilds/{g}/members/{m}/roles/{r}", None),
        ("DELETE", "/guilds/{g}/members/{m}/roles/{r}", None),
        ("GET", "/guilds/{g}/bans", None),
        ("GET", "/guilds/{g}/bans/{u}", None),
        ("PUT", "/guilds/{g}/bans/{m}", Some(json!({}))),
        ("DELETE", "/guilds/{g}/bans/{u}", None),
        ("DELETE", "/users/@me/guilds/{g}", None),
    ]
}

fn channel_routes() -> Vec<(&'static str, &'static str, Option<Value>)> {
    vec![
        ("GET", "/channels/{c}", None),
        ("PATCH", "/channels/{c}", Some(json!({"name": "hijacked"}))),
        ("DELETE", "/channels/{c}", None),
        (
            "PUT",
            "/channels/{c}/permissions/{g}",
            Some(json!({"type": 0, "allow": "0", "deny": "0"})),
        ),
        ("DELETE", "/channels/{c}/permissions/{g}", None),
        ("GET", "/channels/{c}/messages", None),
        (
            "POST",
            "/channels/{c}/messages",
            Some(json!({"content": "hi"})),
        ),
        ("GET", "/channels/{c}/messages/{msg}", None),
        ("POST", "/channels/{c}/invites", Some(json!({}))),
    ]
}

struct Ids {
    g: String,
    c: String,
    r: String,
    m: String,
    u: String,
    msg: String,
}

fn fill(s: &str, ids: &Ids) -> String {
    s.replace("{g}", &ids.g)
        .replace("{c}", &ids.c)
        .replace("{r}", &ids.r)
        .replace("{m}", &ids.m)
        .replace("{u}", &ids.u)
        .replace("{msg}", &ids.msg)
}

fn fill_body(b: &Option<Value>, ids: &Ids) -> Option<Value> {
    b.as_ref()
        .map(|v| serde_json::from_str(&fill(&v.to_string(), ids)).unwrap())
}

/// Sends every route as `who` with the real ids and with the guild (or channel) id swapped for
/// an unknown one; the two answers must be identical 404s.
async fn assert_outsider_answers(who: &User, real: &Ids, label: &str) {
    let fake_g = Ids {
        g: bogus_id(),
        ..clone_ids(real)
    };
    for (method, path, body) in guild_routes() {
        let got = who
            .api
            .req(method, &fill(path, real), fill_body(&body, real).as_ref())
            .await;
        let want = who
            .api
            .req(
                method,
                &fill(path, &fake_g),
                fill_body(&body, &fake_g).as_ref(),
            )
            .await;
        want.err(404, 10004);
        assert_same_answer(&got, &want, &format!("{label}: {method} {path}"));
    }
    let fake_c = Ids {
        c: bogus_id(),
        ..clone_ids(real)
    };
    for (method, path, body) in channel_routes() {
        let got = who
            .api
            .req(method, &fill(path, real), fill_body(&body, real).as_ref())
            .await;
        let want = who
            .api
            .req(
                method,
                &fill(path, &fake_c),
                fill_body(&body, &fake_c).as_ref(),
            )
            .await;
        want.err(404, 10003);
        assert_same_answer(&got, &want, &format!("{label}: {method} {path}"));
    }
}

fn clone_ids(i: &Ids) -> Ids {
    Ids {
        g: i.g.clone(),
        c: i.c.clone(),
        r: i.r.clone(),
        m: i.m.clone(),
        u: i.u.clone(),
        msg: i.msg.clone(),
    }
}

#[tokio::test]
async fn non_members_get_the_unknown_id_answer_everywhere() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let outsider = srv.user("outsider").await;
    let leaver = srv.joined_user(&owner, &g, "leaver").await;
    let banned_user = srv.user("banned").await;
    let role = srv.role(&owner, &g, "r", 0).await;
    let msg = owner.api.say(&g.general, "members only").await;
    owner
        .api
        .ban(&g.id, &banned_user.id, &json!({}))
        .await
        .ok(204);
    let ids = Ids {
        g: g.id.clone(),
        c: g.general.clone(),
        r: sid(&role),
        m: member.id.clone(),
        u: banned_user.id.clone(),
        msg: sid(&msg),
    };
    assert_outsider_answers(&outsider, &ids, "never a member").await;
    leaver.api.leave_guild(&g.id).await.ok(204);
    assert_outsider_answers(&leaver, &ids, "former member").await;
    assert_outsider_answers(&banned_user, &ids, "banned user").await;
    // a bot that was never authorized into the guild is an outsider too
    let bot = srv.bot(&owner, "Stranger").await;
    let bot_user = User {
        id: bot.id.clone(),
        username: "Stranger".into(),
        token: bot.token.clone(),
        api: bot.api.clone(),
    };
    assert_outsider_answers(&bot_user, &ids, "unauthorized bot").await;

    // nothing was changed by any of it
    let g_now = owner.api.guild(&g.id).await.ok(200);
    assert_eq!(g_now["name"], "World");
    owner.api.member(&g.id, &member.id).await.ok(200);
    owner.api.channel(&g.general).await.ok(200);
    assert_eq!(
        owner.api.channel(&g.general).await.ok(200)["name"],
        "general"
    );
    let roles = owner.api.roles(&g.id).await.ok(200);
    assert!(ids_of(&roles).contains(&sid(&role)));
    assert_eq!(roles.as_array().unwrap().len(), 2, "{roles}");
    assert_eq!(
        owner
            .api
            .channels(&g.id)
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        owner
            .api
            .messages(&g.general, "")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(owner.api.member(&g.id, &member.id).await.ok(200)["nick"].is_null());
    owner.api.get_ban(&g.id, &banned_user.id).await.ok(200);
}

fn ids_of(v: &Value) -> Vec<String> {
    ids(v)
}

#[tokio::test]
async fn hidden_channel_is_missing_access_on_every_channel_route() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    // a member who could do everything in the channel, except see it
    let mighty = srv.joined_user(&owner, &g, "mighty").await;
    let r = srv
        .role(
            &owner,
            &g,
            "mighty",
            perm::MANAGE_CHANNELS | perm::MANAGE_ROLES | perm::MANAGE_MESSAGES,
        )
        .await;
    srv.give3(&owner, &g, &mighty.id, &sid(&r)).await;
    let hidden = srv
        .channel3(
            &owner,
            &g,
            json!({"name": "hidden", "permission_overwrites": [ow3(&g.id, 0, 0, perm::VIEW_CHANNEL)]}),
        )
        .await;
    let msg = owner.api.say(&sid(&hidden), "hidden message").await;
    let ids = Ids {
        g: g.id.clone(),
        c: sid(&hidden),
        r: sid(&r),
        m: member.id.clone(),
        u: member.id.clone(),
        msg: sid(&msg),
    };
    for who in [&member, &mighty] {
        for (method, path, body) in channel_routes() {
            let resp = who
                .api
                .req(method, &fill(path, &ids), fill_body(&body, &ids).as_ref())
                .await;
            if resp.status != 403 || resp.body["code"] != 50001 {
                panic!(
                    "{}: {method} {path} on a channel it cannot view: expected 403 50001, got {} {}",
                    who.username, resp.status, resp.text
                );
            }
        }
        // an unknown message in the hidden channel: still 50001 (no leak of what exists)
        who.api.message(&ids.c, &bogus_id()).await.err(403, 50001);
    }
    // still intact
    let c = owner.api.channel(&ids.c).await.ok(200);
    assert_eq!(c["name"], "hidden");
    assert_eq!(overwrite_set(&c).len(), 1);
    owner.api.message(&ids.c, &ids.msg).await.ok(200);
}

#[tokio::test]
async fn visible_but_not_allowed_is_missing_permissions() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let victim = srv.joined_user(&owner, &g, "victim").await;
    let banned_user = srv.user("banned").await;
    owner
        .api
        .ban(&g.id, &banned_user.id, &json!({}))
        .await
        .ok(204);
    let role = srv.role(&owner, &g, "r", 0).await;
    // a channel the member sees but where it may neither write nor invite
    let ro = srv
        .channel3(
            &owner,
            &g,
            json!({"name": "read-only", "permission_overwrites": [
                ow3(&g.id, 0, 0, perm::SEND_MESSAGES | perm::CREATE_INSTANT_INVITE)
            ]}),
        )
        .await;
    let ids = Ids {
        g: g.id.clone(),
        c: sid(&ro),
        r: sid(&role),
        m: victim.id.clone(),
        u: banned_user.id.clone(),
        msg: bogus_id(),
    };
    let cases: Vec<(&str, &str, Option<Value>)> = vec![
        ("PATCH", "/guilds/{g}", Some(json!({"name": "Hijacked"}))),
        ("DELETE", "/guilds/{g}", None),
        (
            "POST",
            "/guilds/{g}/channels",
            Some(json!({"name": "intruder"})),
        ),
        (
            "POST",
            "/guilds/{g}/roles",
            Some(json!({"name": "intruder"})),
        ),
        (
            "PATCH",
            "/guilds/{g}/roles",
            Some(json!([{"id": "{r}", "position": 1}])),
        ),
        ("PATCH", "/guilds/{g}/roles/{r}", Some(json!({"name": "x"}))),
        ("DELETE", "/guilds/{g}/roles/{r}", None),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"nick": "x"})),
        ),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"roles": ["{r}"]})),
        ),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"mute": true})),
        ),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"deaf": true})),
        ),
        (
            "PATCH",
            "/guilds/{g}/members/{m}",
            Some(json!({"communication_disabled_until": iso_from_now(600)})),
        ),
        ("DELETE", "/guilds/{g}/members/{m}", None),
        ("PUT", "/guilds/{g}/members/{m}/roles/{r}", None),
        ("DELETE", "/guilds/{g}/members/{m}/roles/{r}", None),
        ("GET", "/guilds/{g}/bans", None),
        ("GET", "/guilds/{g}/bans/{u}", None),
        ("PUT", "/guilds/{g}/bans/{m}", Some(json!({}))),
        ("DELETE", "/guilds/{g}/bans/{u}", None),
        ("PATCH", "/channels/{c}", Some(json!({"name": "hijacked"}))),
        ("DELETE", "/channels/{c}", None),
        (
            "PUT",
            "/channels/{c}/permissions/{g}",
            Some(json!({"type": 0, "allow": "0", "deny": "0"})),
        ),
        ("DELETE", "/channels/{c}/permissions/{g}", None),
        (
            "POST",
            "/channels/{c}/messages",
            Some(json!({"content": "hi"})),
        ),
        ("POST", "/channels/{c}/invites", Some(json!({}))),
    ];
    for (method, path, body) in cases {
        let resp = member
            .api
            .req(method, &fill(path, &ids), fill_body(&body, &ids).as_ref())
            .await;
        if resp.status != 403 || resp.body["code"] != 50013 {
            panic!(
                "{method} {path} (visible, not allowed): expected 403 50013, got {} {}",
                resp.status, resp.text
            );
        }
        resp.assert_json_content_type();
    }
    // what it may do there
    member.api.channel(&ids.c).await.ok(200);
    member.api.messages(&ids.c, "").await.ok(200);
    member.api.guild(&g.id).await.ok(200);
    member.api.roles(&g.id).await.ok(200);
    member.api.members(&g.id, "limit=10").await.ok(200);
    // and nothing changed
    let c = owner.api.channel(&ids.c).await.ok(200);
    assert_eq!(c["name"], "read-only");
    assert_eq!(overwrite_set(&c).len(), 1);
    let v = owner.api.member(&g.id, &victim.id).await.ok(200);
    assert!(
        v["nick"].is_null() && v["roles"] == json!([]) && v["mute"] == false,
        "{v}"
    );
    assert_eq!(owner.api.guild(&g.id).await.ok(200)["name"], "World");
}
