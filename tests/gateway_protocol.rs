//! Gateway protocol discipline and requests: close codes for oversized payloads, rate limits,
//! bad shards, versions and intents; server-requested heartbeats and timeouts; sharding;
//! op 8 member chunks; `/gateway/bot` accounting.
mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

async fn open(srv: &Server, query: &str) -> Gw {
    Gw::open(&format!("{}/?{query}", srv.ws_url())).await
}

fn identify_d(token: &str, intents: u64) -> Value {
    json!({"token": token, "intents": intents,
           "properties": {"os": "linux", "browser": "t", "device": "t"}})
}

#[tokio::test]
async fn protocol_violations_close_with_discords_codes() {
    let srv = Server::start().await;
    let (_owner, _g, member) = srv.world().await;

    let mut big = open(&srv, "v=10&encoding=json").await;
    big.send_text(&format!("{{\"op\":1,\"d\":\"{}\"}}", "x".repeat(5000)))
        .await;
    big.expect_close(4002, EVENT_TIMEOUT).await;

    let mut chatty = open(&srv, "v=10&encoding=json").await;
    for _ in 0..121 {
        chatty.send(json!({"op": 1, "d": null})).await;
    }
    chatty.expect_close(4008, EVENT_TIMEOUT).await;

    // An unsupported version is refused before HELLO.
    let (mut version, _) =
        tokio_tungstenite::connect_async(format!("{}/?v=3&encoding=json", srv.ws_url()))
            .await
            .unwrap();
    let first = tokio::time::timeout(EVENT_TIMEOUT, futures_util::StreamExt::next(&mut version))
        .await
        .expect("a frame")
        .expect("not ended")
        .expect("no error");
    match first {
        tokio_tungstenite::tungstenite::Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), 4012)
        }
        other => panic!("expected close 4012, got {other:?}"),
    }

    let mut intents_bad = open(&srv, "v=10").await;
    intents_bad
        .send(json!({"op": 2, "d": identify_d(&member.token, 1 << 40)}))
        .await;
    intents_bad.expect_close(4013, EVENT_TIMEOUT).await;

    for shard in [json!([2, 2]), json!([0, 0])] {
        let mut sharded = open(&srv, "v=10").await;
        let mut d = identify_d(&member.token, intents::DEFAULT);
        d["shard"] = shard;
        sharded.send(json!({"op": 2, "d": d})).await;
        sharded.expect_close(4010, EVENT_TIMEOUT).await;
    }
}

#[tokio::test]
async fn overdue_heartbeats_are_requested_then_the_socket_closes_resumably() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--heartbeat-interval-ms".into(), "800".into()],
        ..StartOpts::default()
    })
    .await;
    let (_owner, _g, member) = srv.world().await;
    let mut gw = open(&srv, "v=10&encoding=json").await;
    assert_eq!(gw.hello["d"]["heartbeat_interval"], 800);
    gw.identify(&member.token, intents::DEFAULT).await;
    let session_id = gw.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = gw.last_seq();

    // Silent client: the server asks for a heartbeat (op 1) ...
    gw.expect_op(1, Duration::from_secs(3)).await;
    // ... answering keeps the connection ...
    gw.heartbeat().await;
    gw.expect_op(11, EVENT_TIMEOUT).await;
    gw.expect_op(1, Duration::from_secs(3)).await;
    // ... staying silent closes it with a resumable code.
    gw.expect_close(4000, Duration::from_secs(3)).await;

    let mut resumed = open(&srv, "v=10&encoding=json").await;
    resumed
        .send(json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": seq}}))
        .await;
    resumed.expect_dispatch("RESUMED", EVENT_TIMEOUT).await;
}

#[tokio::test]
async fn connections_that_never_identify_are_closed() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--identify-timeout-secs".into(), "1".into()],
        ..StartOpts::default()
    })
    .await;
    let mut gw = open(&srv, "v=10&encoding=json").await;
    gw.heartbeat().await; // heartbeats alone do not count
    gw.expect_close(4009, Duration::from_secs(4)).await;
}

#[tokio::test]
async fn shards_split_guilds_and_joins_follow_the_shard() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "Sharded").await;
    let mut guilds = Vec::new();
    for n in 0..6 {
        let g = srv.guild(&owner, &format!("Guild {n}")).await;
        srv.authorize(&owner, &bot, &g, 0).await;
        guilds.push(g.id);
    }
    let shard_of = |id: &str| (id.parse::<u64>().unwrap() >> 22) % 2;

    let mut shards = Vec::new();
    for shard in 0..2u64 {
        let mut gw = open(&srv, "v=10&encoding=json").await;
        let mut d = identify_d(&bot.token, intents::GUILDS | intents::GUILD_MESSAGES);
        d["shard"] = json!([shard, 2]);
        gw.identify_with(d).await;
        assert_eq!(gw.ready_d()["shard"], json!([shard, 2]));
        let got: Vec<String> = gw.ready_d()["guilds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["id"].as_str().unwrap().to_owned())
            .collect();
        let want: Vec<String> = guilds
            .iter()
            .filter(|g| shard_of(g) == shard)
            .cloned()
            .collect();
        assert_eq!(got, want, "shard {shard} guilds");
        shards.push(gw);
    }

    // New guilds reach only the shard that carries them.
    for n in 0..4 {
        let g = srv.guild(&owner, &format!("Later {n}")).await;
        srv.authorize(&owner, &bot, &g, 0).await;
        let (mine, other) = if shard_of(&g.id) == 0 { (0, 1) } else { (1, 0) };
        shards[mine]
            .expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == g.id.as_str())
            .await;
        let m = owner.api.say(&g.general, "sharded hello").await;
        shards[mine].expect_msg(&m).await;
        shards[other]
            .expect_no_dispatch_where("GUILD_CREATE", QUIET / 3, |d| d["id"] == g.id.as_str())
            .await;
        shards[other].expect_no_msg(&m).await;
    }
}

#[tokio::test]
async fn member_requests_answer_in_chunks_and_full_lists_are_rate_limited() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let bot = srv.bot(&owner, "Chunker").await;
    srv.authorize(&owner, &bot, &g, 0).await;
    let mut gw = srv.gw(&bot.token, intents::DEFAULT).await;

    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "query": "", "limit": 0, "nonce": "all"}}))
        .await;
    let all = gw
        .expect_dispatch_where("GUILD_MEMBERS_CHUNK", EVENT_TIMEOUT, |d| {
            d["nonce"] == "all"
        })
        .await;
    assert_eq!(all["chunk_index"], 0);
    assert_eq!(all["chunk_count"], 1);
    assert_eq!(
        all["members"].as_array().unwrap().len(),
        3,
        "owner, member, bot: {all}"
    );

    // The same full list again within 30 s: RATE_LIMITED, no chunk.
    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "query": "", "limit": 0, "nonce": "again"}}))
        .await;
    let limited = gw.expect_dispatch("RATE_LIMITED", EVENT_TIMEOUT).await;
    assert_eq!(limited["opcode"], 8);
    assert!(limited["retry_after"].as_f64().unwrap() > 0.0);
    assert_eq!(limited["meta"]["guild_id"], g.id.as_str());
    assert_eq!(limited["meta"]["nonce"], "again");
    gw.expect_no_dispatch_where("GUILD_MEMBERS_CHUNK", QUIET / 3, |d| d["nonce"] == "again")
        .await;

    // By id, with the unknown ones reported; and by name prefix with a limit.
    let unknown = "1234567890123456789";
    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "user_ids": [member.id, unknown], "nonce": "ids", "presences": true}}))
        .await;
    let by_id = gw
        .expect_dispatch_where("GUILD_MEMBERS_CHUNK", EVENT_TIMEOUT, |d| {
            d["nonce"] == "ids"
        })
        .await;
    assert_eq!(by_id["members"].as_array().unwrap().len(), 1);
    assert_eq!(by_id["members"][0]["user"]["id"], member.id.as_str());
    assert_eq!(by_id["not_found"], json!([unknown]));
    assert_eq!(by_id["presences"], json!([]));
    gw.send(json!({"op": 8, "d": {"guild_id": g.id, "query": "mem", "limit": 1, "nonce": "q"}}))
        .await;
    let by_name = gw
        .expect_dispatch_where("GUILD_MEMBERS_CHUNK", EVENT_TIMEOUT, |d| d["nonce"] == "q")
        .await;
    assert_eq!(by_name["members"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn gateway_bot_counts_session_starts() {
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "Counted").await;
    let before = bot.api.get("/gateway/bot").await.ok(200);
    assert_eq!(before["shards"], 1);
    let total = before["session_start_limit"]["total"].as_u64().unwrap();
    assert_eq!(
        before["session_start_limit"]["remaining"].as_u64().unwrap(),
        total
    );
    for _ in 0..2 {
        let gw = srv.gw(&bot.token, intents::GUILDS).await;
        gw.kill();
    }
    let after = bot.api.get("/gateway/bot").await.ok(200);
    assert_eq!(
        after["session_start_limit"]["remaining"].as_u64().unwrap(),
        total - 2
    );
    assert!(
        after["session_start_limit"]["reset_after"]
            .as_u64()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn typing_presence_and_voice_state_reach_those_who_asked() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let voice = owner
        .api
        .create_channel(&g.id, &json!({"name": "voice", "type": 2}))
        .await
        .ok(201);
    let all = intents::DEFAULT | (1 << 7) | (1 << 8) | (1 << 11);
    let mut watcher = srv.gw(&owner.token, all).await;
    let mut deaf_to_it = srv.gw(&owner.token, intents::GUILDS).await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;

    member
        .api
        .req("POST", &format!("/channels/{}/typing", g.general), None)
        .await
        .ok(204);
    let typing = watcher.expect_dispatch("TYPING_START", EVENT_TIMEOUT).await;
    assert_eq!(typing["user_id"], member.id.as_str());
    assert_eq!(typing["channel_id"], g.general.as_str());
    assert!(typing["timestamp"].as_i64().unwrap() > 1_700_000_000);
    let outsider = srv.user("outsider").await;
    outsider
        .api
        .req("POST", &format!("/channels/{}/typing", g.general), None)
        .await
        .err(404, 10003);

    gw.send(json!({"op": 3, "d": {"since": null, "activities": [{"name": "tests", "type": 0}], "status": "dnd", "afk": false}}))
        .await;
    let presence = watcher
        .expect_dispatch("PRESENCE_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(presence["user"]["id"], member.id.as_str());
    assert_eq!(presence["status"], "dnd");
    assert_eq!(presence["activities"][0]["name"], "tests");

    let voice_id = voice["id"].as_str().unwrap();
    gw.send(json!({"op": 4, "d": {"guild_id": g.id, "channel_id": voice_id, "self_mute": true, "self_deaf": false}}))
        .await;
    let state = watcher
        .expect_dispatch("VOICE_STATE_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(state["channel_id"], voice_id);
    assert_eq!(state["user_id"], member.id.as_str());
    assert_eq!(state["self_mute"], true);
    assert_eq!(state["session_id"], gw.ready_d()["session_id"]);
    // A text channel is not joinable: ignored.
    gw.send(json!({"op": 4, "d": {"guild_id": g.id, "channel_id": g.general, "self_mute": false, "self_deaf": false}}))
        .await;
    watcher
        .expect_no_dispatch_where("VOICE_STATE_UPDATE", QUIET / 3, |d| {
            d["channel_id"] == g.general.as_str()
        })
        .await;

    for t in ["TYPING_START", "PRESENCE_UPDATE", "VOICE_STATE_UPDATE"] {
        deaf_to_it.expect_no_dispatch(t, QUIET / 3).await;
    }
}

#[tokio::test]
async fn privileged_intents_follow_the_application_flags() {
    const LIMITED: u64 = (1 << 13) | (1 << 15) | (1 << 19);
    let srv = Server::start().await;
    let owner = srv.user("owner").await;
    let stranger = srv.user("stranger").await;
    let bot = srv.bot(&owner, "Private").await;
    assert_eq!(
        bot.app["flags"].as_u64().unwrap() & LIMITED,
        LIMITED,
        "new apps may use them"
    );

    // The owner turns them off: privileged intents are refused with 4014, others work.
    let app = owner
        .api
        .patch(
            &format!("/applications/{}", bot.id),
            &json!({"flags": 0, "description": "quiet"}),
        )
        .await
        .ok(200);
    assert_eq!(app["flags"], 0);
    assert_eq!(app["description"], "quiet");
    for privileged in [1u64 << 1, 1 << 8, 1 << 15] {
        let mut gw = open(&srv, "v=10").await;
        gw.send(json!({"op": 2, "d": identify_d(&bot.token, intents::GUILDS | privileged)}))
            .await;
        gw.expect_close(4014, EVENT_TIMEOUT).await;
    }
    let plain = srv
        .gw(&bot.token, intents::GUILDS | intents::GUILD_MESSAGES)
        .await;
    assert_eq!(plain.ready_d()["application"]["flags"], 0);

    // The bot turns MESSAGE_CONTENT back on for itself.
    let app = bot
        .api
        .patch("/applications/@me", &json!({"flags": 1 << 19}))
        .await
        .ok(200);
    assert_eq!(app["flags"], 1 << 19);
    srv.gw(&bot.token, intents::GUILDS | intents::MESSAGE_CONTENT)
        .await;

    // Only the limited intent flags can change; strangers cannot edit.
    bot.api
        .patch(
            "/applications/@me",
            &json!({"flags": (1 << 19) | (1 << 23)}),
        )
        .await
        .err(400, 50035);
    stranger
        .api
        .patch(&format!("/applications/{}", bot.id), &json!({"flags": 0}))
        .await
        .err(404, 10002);
    // User sessions have no application: never restricted.
    srv.gw(&owner.token, intents::DEFAULT).await;
}

#[tokio::test]
async fn presences_show_in_guild_create_and_go_offline_with_the_last_session() {
    const PRESENCES: u64 = 1 << 8;
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&owner.token, intents::DEFAULT | PRESENCES).await;
    let mut member_gw = open(&srv, "v=10&encoding=json").await;
    let mut d = identify_d(&member.token, intents::DEFAULT);
    d["presence"] = json!({"since": null, "activities": [{"name": "chess", "type": 0}], "status": "idle", "afk": false});
    member_gw.identify_with(d).await;
    let announced = watcher
        .expect_dispatch_where("PRESENCE_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(announced["status"], "idle");

    // A new session with GUILD_PRESENCES sees it in GUILD_CREATE; one without does not.
    let with = srv.gw(&owner.token, intents::DEFAULT | PRESENCES).await;
    let presences = with.guild_create(&g.id)["presences"]
        .as_array()
        .unwrap()
        .clone();
    let mine = presences
        .iter()
        .find(|p| p["user"]["id"] == member.id.as_str())
        .unwrap_or_else(|| panic!("no presence of the member in {presences:?}"));
    assert_eq!(mine["status"], "idle");
    assert_eq!(mine["activities"][0]["name"], "chess");
    let without = srv.gw(&owner.token, intents::DEFAULT).await;
    assert_eq!(without.guild_create(&g.id)["presences"], json!([]));

    // Ending the member's only session (close 1000) makes it offline for the guild.
    member_gw.close_with(1000).await;
    let offline = watcher
        .expect_dispatch_where("PRESENCE_UPDATE", EVENT_TIMEOUT, |d| {
            d["user"]["id"] == member.id.as_str()
        })
        .await;
    assert_eq!(offline["status"], "offline");
    let later = srv.gw(&owner.token, intents::DEFAULT | PRESENCES).await;
    assert!(later.guild_create(&g.id)["presences"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["user"]["id"] != member.id.as_str()));
}

#[tokio::test]
async fn bots_with_too_many_guilds_for_one_session_must_shard() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--guilds-per-shard".into(), "2".into()],
        ..StartOpts::default()
    })
    .await;
    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "Big").await;
    let mut guild_ids = Vec::new();
    for n in 0..3 {
        let g = srv.guild(&owner, &format!("Guild {n}")).await;
        srv.authorize(&owner, &bot, &g, 0).await;
        guild_ids.push(g.id.parse::<u64>().unwrap());
    }
    let mut unsharded = open(&srv, "v=10").await;
    unsharded
        .send(json!({"op": 2, "d": identify_d(&bot.token, intents::GUILDS)}))
        .await;
    unsharded.expect_close(4011, EVENT_TIMEOUT).await;

    // With enough shards every session carries at most two guilds and all of them connect.
    let count = (2u64..64)
        .find(|n| (0..*n).all(|i| guild_ids.iter().filter(|g| (*g >> 22) % n == i).count() <= 2))
        .unwrap();
    let mut seen = 0;
    for shard in 0..count {
        let mut gw = open(&srv, "v=10").await;
        let mut d = identify_d(&bot.token, intents::GUILDS);
        d["shard"] = json!([shard, count]);
        gw.identify_with(d).await;
        seen += gw.ready_d()["guilds"].as_array().unwrap().len();
    }
    assert_eq!(seen, 3);
    // Users are never asked to shard.
    srv.gw(&owner.token, intents::DEFAULT).await;
}

/// Sends one raw HTTP/1.1 request and returns the response head (status line and headers).
async fn raw_head(srv: &Server, headers: &[&str]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = srv.base().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "GET /?v=10&encoding=json HTTP/1.1\r\nHost: {address}\r\n{}\r\n\r\n",
        headers.join("\r\n")
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = tokio::time::timeout(EVENT_TIMEOUT, stream.read(&mut byte))
            .await
            .expect("response head in time")
            .unwrap();
        assert_eq!(read, 1, "connection closed inside the head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap().to_ascii_lowercase()
}

/// The upgrade follows RFC 6455 §4.2: the accept key is derived from the client's key (the
/// RFC's own example), and a request that is not a version-13 WebSocket upgrade is Discord's
/// 404 rather than a gateway connection.
#[tokio::test]
async fn the_websocket_handshake_checks_the_request() {
    let srv = Server::start().await;
    let upgrade = [
        "Connection: keep-alive, Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ];
    let head = raw_head(&srv, &upgrade).await;
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="),
        "{head}"
    );
    let old_version = [
        upgrade[0],
        upgrade[1],
        "Sec-WebSocket-Version: 8",
        upgrade[3],
    ];
    let head = raw_head(&srv, &old_version).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    let no_key = [upgrade[0], upgrade[1], upgrade[2]];
    let head = raw_head(&srv, &no_key).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
}
