//! Nothing acknowledged may be lost: SIGKILL right after a 200 and restart on the same data dir.
mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn message_guild_and_users_survive_sigkill() {
    let mut srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "Survivor").await;
    srv.authorize(&owner, &bot, &g, perm::SEND_MESSAGES).await;
    let role = srv.role(&owner, &g, "keeper", 0).await;
    let rid = role["id"].as_str().unwrap().to_string();
    owner.api.add_role(&g.id, &member.id, &rid).await.ok(204);
    let chan = owner
        .api
        .create_channel(&g.id, &json!({"name": "archive", "topic": "t"}))
        .await
        .ok(201);
    let cid = chan["id"].as_str().unwrap().to_string();

    let m = member
        .api
        .send(&g.general, &json!({"content": "do not lose me"}))
        .await
        .ok(200);
    let mid = m["id"].as_str().unwrap().to_string();
    srv.kill_hard(); // immediately after the 200
    srv.restart().await;

    // tokens (JWT and bot) stay valid: the signing secret is persisted
    let owner = srv.reauth(&owner);
    let member = srv.reauth(&member);
    let got = owner.api.message(&g.general, &mid).await.ok(200);
    check_message(&got, "message after restart");
    assert_eq!(got["content"], "do not lose me");
    assert_eq!(got["author"]["id"], member.id.as_str());
    assert_eq!(
        ids(&member.api.messages(&g.general, "").await.ok(200)),
        vec![mid.clone()]
    );

    let guild = owner.api.guild(&g.id).await.ok(200);
    check_guild(&guild, "guild after restart");
    assert_eq!(guild["name"], "World");
    assert_eq!(guild["owner_id"], owner.id.as_str());
    assert!(guild["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["id"] == rid.as_str()));
    assert!(ids(&owner.api.channels(&g.id).await.ok(200)).contains(&cid));
    assert_eq!(owner.api.channel(&cid).await.ok(200)["topic"], "t");

    for u in [&owner, &member] {
        let me = u.api.me().await.ok(200);
        assert_eq!(me["id"], u.id.as_str());
        let pub_user = owner.api.user(&u.id).await.ok(200);
        assert_eq!(pub_user["username"], u.username.as_str());
    }
    let mem = owner.api.member(&g.id, &member.id).await.ok(200);
    assert_eq!(mem["roles"], json!([rid]));
    assert_eq!(
        owner
            .api
            .members(&g.id, "limit=100")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // passwords survive
    srv.api()
        .login(&json!({"login": "member", "password": PASSWORD}))
        .await
        .ok(200);
    // the bot token survives
    let bot_api = srv.api_as(&format!("Bot {}", bot.token));
    assert_eq!(bot_api.me().await.ok(200)["id"], bot.id.as_str());

    // new ids keep increasing after the restart
    let m2 = member.api.say(&g.general, "after restart").await;
    let new_id: u64 = m2["id"].as_str().unwrap().parse().unwrap();
    let old_id: u64 = mid.parse().unwrap();
    assert!(
        new_id > old_id,
        "snowflakes must stay monotonic across restarts"
    );
    // and the gateway still works
    let gw = srv.gw(&owner.token, intents::DEFAULT).await;
    assert_eq!(gw.guilds.len(), 1);
    assert_eq!(gw.guilds[0]["id"], g.id.as_str());
}

#[tokio::test]
async fn burst_of_acknowledged_messages_survives_sigkill() {
    let mut srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Burst").await;
    let mut tasks = Vec::new();
    for i in 0..25 {
        let api = owner.api.clone();
        let ch = g.general.clone();
        tasks.push(tokio::spawn(async move {
            api.send(&ch, &json!({"content": format!("burst {i}")}))
                .await
                .ok(200)["id"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    let mut acked = Vec::new();
    for t in tasks {
        acked.push(t.await.expect("send task"));
    }
    srv.kill_hard();
    srv.restart().await;
    let owner = srv.reauth(&owner);
    let list = owner.api.messages(&g.general, "limit=100").await.ok(200);
    let mut got = ids(&list);
    got.sort();
    acked.sort();
    assert_eq!(
        got, acked,
        "every acknowledged message must survive SIGKILL"
    );
}

#[tokio::test]
async fn restart_twice_keeps_everything() {
    let mut srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Twice").await;
    let m1 = owner.api.say(&g.general, "one").await;
    srv.kill_hard();
    srv.restart().await;
    let owner = srv.reauth(&owner);
    let m2 = owner.api.say(&g.general, "two").await;
    srv.kill_hard();
    srv.restart().await;
    let owner = srv.reauth(&owner);
    let list = owner.api.messages(&g.general, "").await.ok(200);
    assert_eq!(
        ids(&list),
        vec![
            m2["id"].as_str().unwrap().to_string(),
            m1["id"].as_str().unwrap().to_string()
        ]
    );
    // a new user can register and the old username is still taken
    srv.api()
        .register(&json!({"username": "owner", "password": PASSWORD}))
        .await
        .form_error_code("username", "USERNAME_ALREADY_TAKEN");
}
