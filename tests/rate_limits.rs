//! REST rate limits as bot libraries read them: `X-RateLimit-*` headers on every answer, a
//! per-route window keyed by the top-level resource, a global window per caller, and 429s with
//! Discord's body, `Retry-After`, `Via` and `X-RateLimit-Scope`.
mod common;

use std::time::Duration;

use common::*;
use serde_json::json;

fn limits(args: &[&str]) -> StartOpts {
    StartOpts {
        args: args.iter().map(|s| s.to_string()).collect(),
        ..StartOpts::default()
    }
}

fn header<'a>(resp: &'a Resp, name: &str) -> &'a str {
    resp.headers
        .get(name)
        .unwrap_or_else(|| {
            panic!(
                "{}: no {name} header; headers {:?}",
                resp.what, resp.headers
            )
        })
        .to_str()
        .unwrap()
}

fn secs(resp: &Resp, name: &str) -> f64 {
    header(resp, name).parse().unwrap()
}

#[tokio::test]
async fn a_route_window_counts_down_then_answers_429_until_it_resets() {
    let srv = Server::start_with(limits(&[
        "--rate-limit-route",
        "2",
        "--rate-limit-route-window-ms",
        "1500",
        "--rate-limit-global",
        "0",
    ]))
    .await;
    let (owner, g, _) = srv.world().await;
    let other = owner
        .api
        .create_channel(&g.id, &json!({"name": "other", "type": 0}))
        .await
        .ok(201);
    let other = other["id"].as_str().unwrap();

    let first = owner.api.send(&g.general, &json!({"content": "1"})).await;
    assert_eq!(first.status, 200);
    assert_eq!(header(&first, "x-ratelimit-limit"), "2");
    assert_eq!(header(&first, "x-ratelimit-remaining"), "1");
    let reset_after = secs(&first, "x-ratelimit-reset-after");
    assert!(reset_after > 0.0 && reset_after <= 1.5, "{reset_after}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let reset = secs(&first, "x-ratelimit-reset");
    assert!(
        (reset - now).abs() < 3.0,
        "reset {reset} is an epoch time near {now}"
    );
    let bucket = header(&first, "x-ratelimit-bucket").to_owned();

    let second = owner.api.send(&g.general, &json!({"content": "2"})).await;
    assert_eq!(header(&second, "x-ratelimit-remaining"), "0");
    assert_eq!(header(&second, "x-ratelimit-bucket"), bucket);

    let refused = owner.api.send(&g.general, &json!({"content": "3"})).await;
    assert_eq!(refused.status, 429);
    refused.assert_json_content_type();
    assert_eq!(refused.body["message"], "You are being rate limited.");
    assert_eq!(refused.body["global"], false);
    let retry_after = refused.body["retry_after"].as_f64().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 1.5, "{retry_after}");
    assert!(header(&refused, "retry-after").parse::<u64>().unwrap() >= 1);
    assert!(!header(&refused, "via").is_empty());
    assert_eq!(header(&refused, "x-ratelimit-scope"), "user");
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert!(refused.headers.get("x-ratelimit-global").is_none());

    // The refused message was not created.
    let history = owner.api.messages(&g.general, "").await.ok(200);
    assert_eq!(history.as_array().unwrap().len(), 2);

    // Another channel is another window of the same bucket.
    let elsewhere = owner.api.send(other, &json!({"content": "x"})).await;
    assert_eq!(elsewhere.status, 200);
    assert_eq!(header(&elsewhere, "x-ratelimit-bucket"), bucket);
    assert_eq!(header(&elsewhere, "x-ratelimit-remaining"), "1");
    // A GET on the same channel is another bucket.
    let read = owner.api.messages(&g.general, "").await;
    assert_eq!(read.status, 200);
    assert_ne!(header(&read, "x-ratelimit-bucket"), bucket);

    tokio::time::sleep(Duration::from_secs_f64(retry_after + 0.05)).await;
    owner
        .api
        .send(&g.general, &json!({"content": "after"}))
        .await
        .ok(200);
}

#[tokio::test]
async fn the_global_limit_is_per_caller() {
    let srv = Server::start_with(limits(&[
        "--rate-limit-global",
        "3",
        "--rate-limit-route",
        "0",
    ]))
    .await;
    let alice = srv.user("alice").await;
    let bob = srv.user("bob").await;
    // Registration (no token) counted for the address, not for alice.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        alice.api.me().await.ok(200);
    }
    let refused = alice.api.me().await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.body["global"], true);
    assert_eq!(header(&refused, "x-ratelimit-global"), "true");
    assert_eq!(header(&refused, "x-ratelimit-scope"), "global");
    assert!(!header(&refused, "via").is_empty());
    assert!(refused.body["retry_after"].as_f64().unwrap() <= 1.0);
    bob.api.me().await.ok(200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    alice.api.me().await.ok(200);
}

#[tokio::test]
async fn defaults_put_headers_on_answers_and_zero_turns_limits_off() {
    let srv = Server::start_with(limits(&["--rate-limit-route", "5"])).await;
    let (owner, g, _) = srv.world().await;
    let got = owner.api.guild(&g.id).await;
    assert_eq!(got.status, 200);
    assert_eq!(header(&got, "x-ratelimit-limit"), "5");
    // Errors carry them too.
    let missing = owner.api.guild("1").await;
    assert_eq!(missing.status, 404);
    assert_eq!(header(&missing, "x-ratelimit-limit"), "5");

    let off = Server::start().await;
    let (owner, g, _) = off.world().await;
    for n in 0..30 {
        let r = owner
            .api
            .send(&g.general, &json!({"content": n.to_string()}))
            .await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("x-ratelimit-limit").is_none());
    }
}
