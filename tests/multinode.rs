//! Several nodes behaving as one: three server processes on one MongoDB-wire database and one
//! Redis. Writes made through any node reach sessions on every node, permission changes made on
//! one node change deliveries on the others, and the cluster survives losing Redis or a node.
//!
//! Needs `ACCORD_TEST_MONGODB_URI` and `ACCORD_TEST_REDIS_URL` (scripts/test-all.sh sets both).
mod common;

use std::time::Duration;

use common::cluster::{Backends, PrivateRedis};
use common::*;
use serde_json::{json, Value};

/// The same user seen through another node.
fn via(node: &Server, user: &User) -> User {
    node.reauth(user)
}

/// Owner on node `a` creates a guild; `member` joins it through node `b`.
async fn guild_across(a: &Server, b: &Server) -> (User, Guild, User) {
    let owner = a.user("owner").await;
    let g = a.guild(&owner, "Cluster").await;
    let member = b.user("member").await;
    b.join(&via(b, &owner), &g, &member).await;
    (owner, g, member)
}

#[tokio::test]
async fn a_message_posted_on_one_node_reaches_sessions_on_the_others() {
    let cluster = Backends::fresh();
    let nodes = cluster.start_nodes(3).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let (owner, g, member) = guild_across(a, b).await;

    let mut member_on_b = b.gw(&member.token, intents::DEFAULT).await;
    let mut owner_on_c = c.gw(&owner.token, intents::DEFAULT).await;
    // READY on B and C lists the guild created through A: one store behind every node.
    assert!(member_on_b.guild_create(&g.id).is_object());

    let hello = owner.api.say(&g.general, "hello from A").await;
    member_on_b.expect_msg(&hello).await;
    owner_on_c.expect_msg(&hello).await;

    let reply = via(b, &member).api.say(&g.general, "reply from B").await;
    owner_on_c.expect_msg(&reply).await;
    member_on_b.expect_msg(&reply).await;

    // Ids made on different nodes never collide and carry their node's worker id.
    let worker = |m: &Value| (m["id"].as_str().unwrap().parse::<u64>().unwrap() >> 17) & 0x1f;
    assert_eq!(worker(&hello), 1);
    assert_eq!(worker(&reply), 2);
    // Every node reads the same history.
    for node in &nodes {
        let history = via(node, &owner)
            .api
            .messages(&g.general, "limit=10")
            .await
            .ok(200);
        let ids: Vec<&Value> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|m| &m["id"])
            .collect();
        assert_eq!(ids, vec![&reply["id"], &hello["id"]]);
    }
}

#[tokio::test]
async fn a_role_change_on_one_node_changes_who_receives_on_the_others() {
    let cluster = Backends::fresh();
    let nodes = cluster.start_nodes(3).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let (owner, g, member) = guild_across(a, b).await;

    // A private channel: @everyone may not view it; a role grants it.
    let everyone = g.id.clone();
    let secret = owner
        .api
        .create_channel(
            &g.id,
            &json!({"name": "secret", "type": 0, "permission_overwrites": [
                {"id": everyone, "type": 0, "deny": perm::VIEW_CHANNEL.to_string(), "allow": "0"}
            ]}),
        )
        .await
        .ok(201);
    let secret = secret["id"].as_str().unwrap().to_owned();
    let role = a.role(&owner, &g, "insider", 0).await;
    let role_id = role["id"].as_str().unwrap().to_owned();
    owner
        .api
        .put_overwrite(
            &secret,
            &role_id,
            &json!({"type": 0, "allow": perm::VIEW_CHANNEL.to_string(), "deny": "0"}),
        )
        .await
        .ok(204);

    let mut member_on_a = a.gw(&member.token, intents::DEFAULT).await;
    let mut member_on_b = b.gw(&member.token, intents::DEFAULT).await;

    let before = owner.api.say(&secret, "not for you yet").await;
    member_on_a.expect_no_msg(&before).await;
    member_on_b.expect_no_msg(&before).await;

    // The role is given through node C.
    via(c, &owner)
        .api
        .add_role(&g.id, &member.id, &role_id)
        .await
        .ok(204);
    member_on_a
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == &json!(role_id))
        })
        .await;
    let after = owner.api.say(&secret, "now you may read this").await;
    member_on_a.expect_msg(&after).await;
    member_on_b.expect_msg(&after).await;

    // And taken away again through node C: the next message reaches neither session.
    via(c, &owner)
        .api
        .remove_role(&g.id, &member.id, &role_id)
        .await
        .ok(204);
    member_on_b
        .expect_dispatch_where("GUILD_MEMBER_UPDATE", EVENT_TIMEOUT, |d| {
            d["roles"].as_array().unwrap().is_empty()
        })
        .await;
    let gone = owner.api.say(&secret, "gone again").await;
    member_on_a.expect_no_msg(&gone).await;
    member_on_b.expect_no_msg(&gone).await;

    // A channel overwrite changed through C has the same effect on A and B.
    via(c, &owner)
        .api
        .put_overwrite(
            &secret,
            &member.id,
            &json!({"type": 1, "allow": perm::VIEW_CHANNEL.to_string(), "deny": "0"}),
        )
        .await
        .ok(204);
    member_on_b
        .expect_dispatch("CHANNEL_UPDATE", EVENT_TIMEOUT)
        .await;
    let direct = owner.api.say(&secret, "by member overwrite").await;
    member_on_a.expect_msg(&direct).await;
    member_on_b.expect_msg(&direct).await;
}

#[tokio::test]
async fn clients_of_a_killed_node_identify_on_another_and_rest_keeps_working() {
    let cluster = Backends::fresh();
    let mut nodes = cluster.start_nodes(2).await;
    let (owner, g, member) = guild_across(&nodes[0], &nodes[1]).await;

    let mut on_b = nodes[1].gw(&member.token, intents::DEFAULT).await;
    let session_id = on_b.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = on_b.last_seq();
    let first = owner.api.say(&g.general, "before the crash").await;
    on_b.expect_msg(&first).await;

    nodes[1].kill_hard();
    // The client's socket ends; it tries to resume on the surviving node, which cannot know the
    // session (it lived in the dead node's memory): op 9, so the client identifies afresh.
    let mut retry = Gw::open(&format!("{}/?v=10&encoding=json", nodes[0].ws_url())).await;
    retry
        .send(json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": seq}}))
        .await;
    let invalid = retry.expect_op(9, EVENT_TIMEOUT).await;
    assert_eq!(invalid["d"], json!(false));
    let mut on_a = nodes[0].gw(&member.token, intents::DEFAULT).await;
    assert!(on_a.guild_create(&g.id).is_object());

    // REST through the survivor sees everything, including what was written through B.
    let member_on_a = via(&nodes[0], &member);
    let history = member_on_a
        .api
        .messages(&g.general, "limit=5")
        .await
        .ok(200);
    assert_eq!(history[0]["id"], first["id"]);
    let next = member_on_a.api.say(&g.general, "after the crash").await;
    on_a.expect_msg(&next).await;
}

/// Redis goes away mid-run and comes back: no node crashes, sessions are told to reconnect,
/// and every acknowledged message was delivered or is readable through REST.
#[tokio::test]
async fn a_redis_outage_makes_sessions_resume_and_loses_no_acknowledged_message() {
    let mut redis = PrivateRedis::start();
    let cluster = Backends {
        redis_url: redis.url(),
        ..Backends::fresh()
    };
    let nodes = cluster.start_nodes(2).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let (owner, g, member) = guild_across(a, b).await;
    let mut on_b = b.gw(&member.token, intents::DEFAULT).await;
    let session_id = on_b.ready_d()["session_id"].as_str().unwrap().to_owned();

    const TOTAL: usize = 60;
    let poster = {
        let api = owner.api.clone();
        let channel = g.general.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..TOTAL {
                let m = api.say(&channel, &format!("m{n}")).await;
                acked.push(m["id"].as_str().unwrap().to_owned());
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            acked
        })
    };

    let mut received = Vec::new();
    assert!(
        read_messages(&mut on_b, &mut received, 10, EVENT_TIMEOUT * 4)
            .await
            .is_none()
    );
    assert!(received.len() >= 10, "messages flowed before the outage");
    // Kept until the end: dropping it stops the Redis.
    let restarted = tokio::task::spawn_blocking(move || {
        redis.restart(Duration::from_millis(700));
        redis
    });

    // The node tells its session to reconnect; the client resumes on the same node.
    let reconnect = read_messages(&mut on_b, &mut received, usize::MAX, EVENT_TIMEOUT * 4)
        .await
        .expect("op 7 after the Redis restart");
    assert_eq!(reconnect["d"], Value::Null);
    let mut seq = on_b.last_seq();
    let mut resumed = Gw::open(&format!("{}/?v=10&encoding=json", b.ws_url())).await;
    resumed
        .send(json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": seq}}))
        .await;
    resumed.expect_dispatch("RESUMED", EVENT_TIMEOUT * 2).await;
    // A second op 7 may follow when the subscription is back; resume again if so.
    loop {
        let done = read_messages(&mut resumed, &mut received, TOTAL, EVENT_TIMEOUT)
            .await
            .is_none();
        if done {
            break;
        }
        seq = resumed.last_seq().max(seq);
        resumed = Gw::open(&format!("{}/?v=10&encoding=json", b.ws_url())).await;
        resumed
            .send(json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": seq}}))
            .await;
        resumed.expect_dispatch("RESUMED", EVENT_TIMEOUT * 2).await;
    }

    let acked = poster.await.unwrap();
    assert_eq!(acked.len(), TOTAL);
    let _redis = restarted.await.unwrap();
    // Both nodes are alive and serve the whole history.
    for node in &nodes {
        let api = via(node, &owner).api;
        let history = api.messages(&g.general, "limit=100").await.ok(200);
        let stored: Vec<&str> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        for id in &acked {
            assert!(
                stored.contains(&id.as_str()),
                "acknowledged message {id} is neither stored nor delivered"
            );
        }
    }
    // After recovery, delivery through Redis works again from the other node.
    let after = owner.api.say(&g.general, "after the outage").await;
    resumed.expect_msg(&after).await;
    let mut distinct = received.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        received.len(),
        "a message was delivered twice"
    );
    assert!(received.iter().all(|id| acked.contains(id)));
}

/// Collects MESSAGE_CREATE ids until `want` of them are in or nothing arrives for `idle`
/// (None), or an op 7 asks the client to reconnect (Some(op 7)). A connection that ends fails
/// the test.
async fn read_messages(
    gw: &mut Gw,
    into: &mut Vec<String>,
    want: usize,
    idle: Duration,
) -> Option<Value> {
    while into.len() < want {
        match gw.next_frame(idle).await {
            Some(Frame::Json(v)) if v["op"] == 7 => return Some(v),
            Some(Frame::Json(v)) if v["t"] == "MESSAGE_CREATE" => {
                into.push(v["d"]["id"].as_str().unwrap().to_owned())
            }
            Some(Frame::Json(_)) => {}
            None => return None,
            other => panic!("connection ended after {} messages: {other:?}", into.len()),
        }
    }
    None
}

/// With the Redis bus, rate-limit windows live in Redis: a caller's quota is the same whichever
/// node it talks to.
#[tokio::test]
async fn rate_limits_hold_across_nodes() {
    let cluster = Backends::fresh();
    let mut nodes = Vec::new();
    for id in 1..=2 {
        let mut opts = cluster.node_opts(id);
        opts.args.extend(
            [
                "--rate-limit-route",
                "2",
                "--rate-limit-route-window-ms",
                "3000",
            ]
            .map(String::from),
        );
        nodes.push(Server::start_with(opts).await);
    }
    let (owner, g, _) = guild_across(&nodes[0], &nodes[1]).await;
    let on_b = via(&nodes[1], &owner);
    owner.api.say(&g.general, "one").await;
    let second = on_b.api.send(&g.general, &json!({"content": "two"})).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.headers["x-ratelimit-remaining"], "0");
    let third = owner
        .api
        .send(&g.general, &json!({"content": "three"}))
        .await;
    assert_eq!(third.status, 429);
    assert_eq!(third.body["global"], false);
    let history = on_b.api.messages(&g.general, "").await.ok(200);
    assert_eq!(history.as_array().unwrap().len(), 2);
}

// --- interactions ---
/// An interaction invoked on one node reaches the bot's session on another, is answered
/// through a third, and its follow-ups and edits work through any node (interactions live in
/// the shared store).
#[tokio::test]
async fn an_interaction_is_invoked_answered_and_followed_up_across_nodes() {
    let cluster = Backends::fresh();
    let nodes = cluster.start_nodes(3).await;
    let (a, b, c) = (&nodes[0], &nodes[1], &nodes[2]);
    let (owner, g, member) = guild_across(a, b).await;
    let bot = a.bot(&owner, "crossbot").await;
    a.authorize(&owner, &bot, &g, perm::VIEW_CHANNEL | perm::SEND_MESSAGES)
        .await;
    let mut bot_on_a = a.gw(&bot.token, intents::DEFAULT).await;
    let mut member_on_c = c.gw(&member.token, intents::DEFAULT).await;
    let command = bot
        .api
        .post(
            &format!("/applications/{}/guilds/{}/commands", bot.id, g.id),
            &json!({ "name": "hello", "description": "says hello" }),
        )
        .await
        .ok(201);

    via(b, &member)
        .api
        .post(
            "/interactions",
            &json!({
                "type": 2, "application_id": bot.id, "guild_id": g.id, "channel_id": g.general,
                "data": { "id": command["id"], "name": "hello", "type": 1 },
            }),
        )
        .await
        .ok(204);
    let i = bot_on_a
        .expect_dispatch("INTERACTION_CREATE", EVENT_TIMEOUT)
        .await;
    let token = i["token"].as_str().unwrap();
    c.api()
        .post(
            &format!("/interactions/{}/{token}/callback", sid(&i)),
            &json!({ "type": 4, "data": { "content": "hello from C" } }),
        )
        .await
        .ok(204);
    let answer = member_on_c
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["content"] == "hello from C"
        })
        .await;
    // Answered once, cluster-wide.
    a.api()
        .post(
            &format!("/interactions/{}/{token}/callback", sid(&i)),
            &json!({ "type": 4, "data": { "content": "again" } }),
        )
        .await
        .err(400, 40060);
    let hook = format!("/webhooks/{}/{token}", bot.id);
    b.api()
        .post(&hook, &json!({ "content": "follow-up from B" }))
        .await
        .ok(200);
    member_on_c
        .expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| {
            d["content"] == "follow-up from B"
        })
        .await;
    let edited = a
        .api()
        .patch(
            &format!("{hook}/messages/@original"),
            &json!({ "content": "edited on A" }),
        )
        .await
        .ok(200);
    assert_eq!(edited["id"], answer["id"]);
    member_on_c
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| d["id"] == answer["id"])
        .await;
}
