//! Gateway sessions outlive their sockets: RESUME replays exactly what was missed, in order,
//! then RESUMED; sessions that ended or seqs out of reach get op 9 `d:false`; a connection
//! whose session was resumed elsewhere is closed; a graceful shutdown tells clients to
//! reconnect (op 7).
mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Opens a fresh connection and sends RESUME.
async fn resume(srv: &Server, token: &str, session_id: &str, seq: i64) -> Gw {
    let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", srv.ws_url())).await;
    gw.send(json!({"op": 6, "d": {"token": token, "session_id": session_id, "seq": seq}}))
        .await;
    gw
}

/// Reads frames until `done` says stop; returns every dispatch (whole payloads) seen.
async fn dispatches_until(
    gw: &mut Gw,
    within: Duration,
    mut done: impl FnMut(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    let mut seen = Vec::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match gw.next_frame(left).await {
            Some(Frame::Json(v)) if v["op"] == 0 => seen.push(v),
            Some(Frame::Json(_)) => {}
            other => panic!(
                "connection ended or timed out after {} dispatches: {other:?}",
                seen.len()
            ),
        }
    }
    seen
}

fn message_ids(dispatches: &[Value]) -> Vec<String> {
    dispatches
        .iter()
        .filter(|v| v["t"] == "MESSAGE_CREATE")
        .map(|v| v["d"]["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The loss test: the socket dies (no close frame) while messages keep being posted; the
/// client resumes; the dispatches it saw are gapless and every acknowledged message arrived
/// exactly once, in order.
#[tokio::test]
async fn resume_after_a_killed_socket_loses_nothing() {
    const TOTAL: usize = 60;
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut first = srv.gw(&member.token, intents::DEFAULT).await;
    let session_id = first.ready_d()["session_id"].as_str().unwrap().to_owned();

    let poster = {
        let api = owner.api.clone();
        let channel = g.general.clone();
        tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..TOTAL {
                let m = api.say(&channel, &format!("m{n}")).await;
                acked.push(m["id"].as_str().unwrap().to_owned());
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
            acked
        })
    };

    let before = dispatches_until(&mut first, Duration::from_secs(20), |seen| {
        message_ids(seen).len() >= 15
    })
    .await;
    let last_seen = first.last_seq();
    first.kill();
    tokio::time::sleep(Duration::from_millis(300)).await; // messages keep coming meanwhile

    let mut second = resume(&srv, &member.token, &session_id, last_seen).await;
    let after = dispatches_until(&mut second, Duration::from_secs(30), |seen| {
        message_ids(&before).len() + message_ids(seen).len() >= TOTAL
    })
    .await;
    let acked = poster.await.unwrap();

    // Gapless: the resumed stream continues right after the last seq seen.
    let mut expected = last_seen;
    for v in &after {
        expected += 1;
        assert_eq!(
            v["s"], expected,
            "gap or reorder in the resumed stream: {v}"
        );
    }
    assert!(
        after.iter().any(|v| v["t"] == "RESUMED"),
        "no RESUMED dispatch after the replay"
    );
    let mut delivered = message_ids(&before);
    delivered.extend(message_ids(&after));
    assert_eq!(
        delivered, acked,
        "every acknowledged message exactly once, in order"
    );
}

#[tokio::test]
async fn resume_of_an_unknown_or_foreign_session_is_invalid() {
    let srv = Server::start().await;
    let (owner, _g, member) = srv.world().await;
    let gw = srv.gw(&member.token, intents::DEFAULT).await;
    let session_id = gw.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = gw.last_seq();
    gw.kill();

    let mut unknown = resume(&srv, &member.token, "0123456789abcdef", 1).await;
    assert_eq!(unknown.expect_op(9, EVENT_TIMEOUT).await["d"], false);

    // Another user's token cannot take the session over.
    let mut foreign = resume(&srv, &owner.token, &session_id, seq).await;
    assert_eq!(foreign.expect_op(9, EVENT_TIMEOUT).await["d"], false);

    // A seq the session never sent.
    let mut future = resume(&srv, &member.token, &session_id, seq + 50).await;
    assert_eq!(future.expect_op(9, EVENT_TIMEOUT).await["d"], false);

    // A bad token is an authentication failure.
    let mut bad = resume(&srv, "not-a-token", &session_id, seq).await;
    bad.expect_close(4004, EVENT_TIMEOUT).await;

    // The rightful owner still resumes.
    let mut good = resume(&srv, &member.token, &session_id, seq).await;
    let d = good.expect_dispatch("RESUMED", EVENT_TIMEOUT).await;
    assert!(d.is_object());
}

#[tokio::test]
async fn closing_with_1000_ends_the_session_other_codes_keep_it() {
    let srv = Server::start().await;
    let (_owner, _g, member) = srv.world().await;

    let mut ended = srv.gw(&member.token, intents::DEFAULT).await;
    let ended_id = ended.ready_d()["session_id"].as_str().unwrap().to_owned();
    let ended_seq = ended.last_seq();
    ended.close_with(1000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut again = resume(&srv, &member.token, &ended_id, ended_seq).await;
    assert_eq!(again.expect_op(9, EVENT_TIMEOUT).await["d"], false);

    let mut kept = srv.gw(&member.token, intents::DEFAULT).await;
    let kept_id = kept.ready_d()["session_id"].as_str().unwrap().to_owned();
    let kept_seq = kept.last_seq();
    kept.close_with(4000).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut resumed = resume(&srv, &member.token, &kept_id, kept_seq).await;
    let d = resumed.expect_dispatch("RESUMED", EVENT_TIMEOUT).await;
    assert!(d.is_object());
}

#[tokio::test]
async fn a_resumed_session_keeps_receiving_events() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let gw = srv.gw(&member.token, intents::DEFAULT).await;
    let session_id = gw.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = gw.last_seq();
    gw.kill();
    let mut resumed = resume(&srv, &member.token, &session_id, seq).await;
    resumed.expect_dispatch("RESUMED", EVENT_TIMEOUT).await;
    let m = owner.api.say(&g.general, "after resume").await;
    resumed.expect_msg(&m).await;
    // Identify or resume again on the same connection: already authenticated.
    resumed
        .send(json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": 1}}))
        .await;
    resumed.expect_close(4005, EVENT_TIMEOUT).await;
}

/// A session has one connection: resuming it while its old socket is still open closes the
/// old one (4000, resumable) instead of leaving it open and silent.
#[tokio::test]
async fn resuming_elsewhere_closes_the_connection_still_attached() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut old = srv.gw(&member.token, intents::DEFAULT).await;
    let session_id = old.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = old.last_seq();
    let mut new = resume(&srv, &member.token, &session_id, seq).await;
    new.expect_dispatch("RESUMED", EVENT_TIMEOUT).await;
    old.expect_close(4000, EVENT_TIMEOUT).await;
    let m = owner.api.say(&g.general, "to the resumed connection").await;
    new.expect_msg(&m).await;
}

#[tokio::test]
async fn graceful_shutdown_asks_clients_to_reconnect() {
    let mut srv = Server::start().await;
    let (_owner, _g, member) = srv.world().await;
    let mut gw = srv.gw(&member.token, intents::DEFAULT).await;
    assert!(
        srv.terminate(Duration::from_secs(10)).await,
        "server did not exit on SIGTERM"
    );
    let reconnect = gw.expect_op(7, EVENT_TIMEOUT).await;
    assert_eq!(reconnect["d"], Value::Null);
}

#[tokio::test]
async fn sessions_expire_after_the_resume_window() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--resume-window-secs".into(), "1".into()],
        ..StartOpts::default()
    })
    .await;
    let (_owner, _g, member) = srv.world().await;
    let gw = srv.gw(&member.token, intents::DEFAULT).await;
    let session_id = gw.ready_d()["session_id"].as_str().unwrap().to_owned();
    let seq = gw.last_seq();
    gw.kill();
    // The expiry sweep runs every 5 s; after the 1 s window plus a sweep the session is gone.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let mut late = resume(&srv, &member.token, &session_id, seq).await;
    assert_eq!(late.expect_op(9, EVENT_TIMEOUT).await["d"], false);
}
