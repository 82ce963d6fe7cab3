//! The `Bus` contract, checked unchanged against every implementation (the local bus, and the
//! Redis bus with one node publishing and another one subscribing), plus the Redis bus's
//! multi-node and fault behaviour: topic filtering, unwatch, no duplicates, prefix isolation,
//! killed connections and a restarted Redis.
//!
//! Needs `ACCORD_TEST_REDIS_URL` (source scripts/redis-service.sh, or run scripts/test-all.sh);
//! the restart test runs a private `redis-server` (ACCORD_TEST_REDIS_SERVER_BIN, else
//! /usr/bin/redis-server). Each test uses a fresh random channel prefix.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::bus::{Audience, Bus, Delivery, Envelope, LocalBus, RedisBus, Topic};
use accord::model::Snowflake;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::broadcast::Receiver;
use tokio::time::timeout;

use common::cluster::{redis_url, PrivateRedis};

/// Longest wait for something that must arrive.
const WAIT: Duration = Duration::from_secs(15);

const G1: Topic = Topic::Guild(Snowflake(1));
const G2: Topic = Topic::Guild(Snowflake(2));
const G3: Topic = Topic::Guild(Snowflake(3));
const U7: Topic = Topic::User(Snowflake(7));

fn fresh_prefix() -> String {
    format!("test{:016x}", rand::random::<u64>())
}

async fn node(url: &str, prefix: &str) -> Arc<RedisBus> {
    RedisBus::connect(url, prefix)
        .await
        .unwrap_or_else(|err| panic!("cannot connect the Redis bus to {url}: {err}"))
}

/// A publishing and a subscribing node; the same bus for the local implementation.
struct Nodes {
    publisher: Arc<dyn Bus>,
    subscriber: Arc<dyn Bus>,
}

async fn local_nodes() -> Nodes {
    let bus = Arc::new(LocalBus::new(65_536));
    Nodes {
        publisher: bus.clone(),
        subscriber: bus,
    }
}

async fn redis_nodes() -> Nodes {
    let (url, prefix) = (redis_url(), fresh_prefix());
    Nodes {
        publisher: node(&url, &prefix).await,
        subscriber: node(&url, &prefix).await,
    }
}

fn envelope(topic: Topic, event: &str, data: &str) -> Envelope {
    Envelope {
        topic,
        event: event.into(),
        data: data.into(),
        audience: Audience::Everyone,
        subject_user: None,
    }
}

async fn next(rx: &mut Receiver<Delivery>) -> Delivery {
    match timeout(WAIT, rx.recv()).await {
        Ok(Ok(delivery)) => delivery,
        Ok(Err(err)) => panic!("the bus stream failed: {err}"),
        Err(_) => panic!("nothing arrived within {WAIT:?}"),
    }
}

async fn next_event(rx: &mut Receiver<Delivery>) -> Arc<Envelope> {
    match next(rx).await {
        Delivery::Event(envelope) => envelope,
        Delivery::Gap => panic!("unexpected Gap"),
    }
}

async fn next_gap(rx: &mut Receiver<Delivery>) {
    match next(rx).await {
        Delivery::Gap => {}
        Delivery::Event(envelope) => panic!("expected a Gap, got {envelope:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The conformance suite: each check runs against every implementation.

/// Every field, every Audience variant, both topic kinds, unicode and escapes, in publish order.
async fn events_arrive_in_order_and_intact(nodes: Nodes) {
    let mut rx = nodes.subscriber.subscribe();
    nodes.subscriber.watch(vec![G1, U7]).await;
    let sent = vec![
        Envelope {
            topic: G1,
            event: "MESSAGE_CREATE".into(),
            data: r#"{"content":"héllo wörld 🌍 \"quoted\" \\ \n 日本語"}"#.into(),
            audience: Audience::Channel(Snowflake(1_234_567_890_123_456_789)),
            subject_user: None,
        },
        Envelope {
            topic: U7,
            event: "GUILD_CREATE".into(),
            data: r#"{"id":"1"}"#.into(),
            audience: Audience::Everyone,
            subject_user: Some(Snowflake(7)),
        },
        Envelope {
            topic: G1,
            event: "GUILD_MEMBER_UPDATE".into(),
            data: String::new(),
            audience: Audience::AnyGuildPermission(u64::MAX),
            subject_user: Some(Snowflake(u64::MAX)),
        },
        Envelope {
            topic: G1,
            event: "TYPING_START".into(),
            data: "x".repeat(200_000),
            audience: Audience::AnyGuildPermission(1 << 3),
            subject_user: None,
        },
    ];
    for envelope in &sent {
        nodes.publisher.publish(envelope.clone());
    }
    for expected in &sent {
        assert_eq!(&*next_event(&mut rx).await, expected);
    }
}

async fn many_events_arrive_complete_and_ordered(nodes: Nodes) {
    const COUNT: usize = 10_000;
    let mut rx = nodes.subscriber.subscribe();
    nodes.subscriber.watch(vec![G1]).await;
    let started = Instant::now();
    for n in 0..COUNT {
        nodes
            .publisher
            .publish(envelope(G1, "MESSAGE_CREATE", &format!("{{\"n\":{n}}}")));
    }
    for n in 0..COUNT {
        let got = next_event(&mut rx).await;
        assert_eq!(got.data, format!("{{\"n\":{n}}}"), "event {n} out of order");
    }
    eprintln!("{COUNT} events in {:?}", started.elapsed());
}

async fn every_subscriber_gets_everything(nodes: Nodes) {
    let mut first = nodes.subscriber.subscribe();
    let mut second = nodes.subscriber.subscribe();
    nodes.subscriber.watch(vec![G1, U7]).await;
    for n in 0..100 {
        let topic = if n % 2 == 0 { G1 } else { U7 };
        nodes
            .publisher
            .publish(envelope(topic, "MESSAGE_CREATE", &n.to_string()));
    }
    for rx in [&mut first, &mut second] {
        for n in 0..100 {
            assert_eq!(next_event(rx).await.data, n.to_string());
        }
    }
}

/// The publishing node sees its own events exactly once: after them comes the next event
/// published by the other node once it had received them, with nothing in between.
async fn own_events_arrive_exactly_once(nodes: Nodes) {
    let mut own = nodes.publisher.subscribe();
    let mut other = nodes.subscriber.subscribe();
    nodes.publisher.watch(vec![G1]).await;
    nodes.subscriber.watch(vec![G1]).await;
    for n in 0..3 {
        nodes
            .publisher
            .publish(envelope(G1, "MESSAGE_CREATE", &n.to_string()));
    }
    for n in 0..3 {
        assert_eq!(next_event(&mut other).await.data, n.to_string());
    }
    nodes
        .subscriber
        .publish(envelope(G1, "MESSAGE_CREATE", "marker"));
    for n in 0..3 {
        assert_eq!(next_event(&mut own).await.data, n.to_string());
    }
    assert_eq!(next_event(&mut own).await.data, "marker");
    assert!(matches!(own.try_recv(), Err(TryRecvError::Empty)));
}

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod local_bus {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::local_nodes().await).await;
                }
            )*
        }
        mod redis_bus {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::redis_nodes().await).await;
                }
            )*
        }
    };
}

conformance!(
    events_arrive_in_order_and_intact,
    many_events_arrive_complete_and_ordered,
    every_subscriber_gets_everything,
    own_events_arrive_exactly_once,
);

// ---------------------------------------------------------------------------------------------
// Redis: several nodes.

/// Node B gets node A's events only for the topics B watches: an event on an unwatched topic,
/// published first, never comes before the watched one.
#[tokio::test]
async fn redis_node_receives_only_watched_topics() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    b.watch(vec![G1]).await;
    a.publish(envelope(G2, "MESSAGE_CREATE", "unwatched guild"));
    a.publish(envelope(U7, "MESSAGE_CREATE", "unwatched user"));
    a.publish(envelope(G1, "MESSAGE_CREATE", "watched"));
    let got = next_event(&mut rx).await;
    assert_eq!((got.topic, got.data.as_str()), (G1, "watched"));
}

#[tokio::test]
async fn redis_unwatch_stops_delivery() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    b.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "before"));
    assert_eq!(next_event(&mut rx).await.data, "before");

    b.unwatch(vec![G1]);
    // Commands apply in order: once this watch returns, the unsubscribe happened.
    b.watch(vec![G3]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "after unwatch"));
    a.publish(envelope(G3, "MESSAGE_CREATE", "still watched"));
    assert_eq!(next_event(&mut rx).await.data, "still watched");

    // Watching again works.
    b.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "watched again"));
    assert_eq!(next_event(&mut rx).await.data, "watched again");
}

/// `watch` returns only once Redis confirmed every subscription: an event published on
/// another node right after it returns arrives, even for the last of many topics.
#[tokio::test]
async fn redis_events_published_right_after_watch_arrive() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    for round in 0..5u64 {
        let topics: Vec<Topic> = (0..2000)
            .map(|n| Topic::User(Snowflake(round * 10_000 + n)))
            .collect();
        let (first, last) = (topics[0], topics[topics.len() - 1]);
        b.watch(topics).await;
        a.publish(envelope(last, "MESSAGE_CREATE", "last"));
        a.publish(envelope(first, "MESSAGE_CREATE", "first"));
        assert_eq!(next_event(&mut rx).await.data, "last", "round {round}");
        assert_eq!(next_event(&mut rx).await.data, "first", "round {round}");
    }
}

/// A third node sees each event once too, whoever published it.
#[tokio::test]
async fn redis_three_nodes_each_event_once() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b, c) = (
        node(&url, &prefix).await,
        node(&url, &prefix).await,
        node(&url, &prefix).await,
    );
    let mut rx = c.subscribe();
    c.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "from a"));
    assert_eq!(next_event(&mut rx).await.data, "from a");
    b.publish(envelope(G1, "MESSAGE_CREATE", "from b"));
    assert_eq!(next_event(&mut rx).await.data, "from b");
    c.publish(envelope(G1, "MESSAGE_CREATE", "from c"));
    assert_eq!(next_event(&mut rx).await.data, "from c");
    a.publish(envelope(G1, "MESSAGE_CREATE", "from a again"));
    assert_eq!(next_event(&mut rx).await.data, "from a again");
}

/// Another prefix never sees the events: its next event is one published on its own prefix
/// after the first prefix's event had gone through Redis.
#[tokio::test]
async fn redis_prefixes_are_isolated() {
    let url = redis_url();
    let (one, two) = (fresh_prefix(), fresh_prefix());
    let (a, b) = (node(&url, &one).await, node(&url, &one).await);
    let (c, d) = (node(&url, &two).await, node(&url, &two).await);
    let mut b_rx = b.subscribe();
    let mut c_rx = c.subscribe();
    b.watch(vec![G1]).await;
    c.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "prefix one"));
    assert_eq!(next_event(&mut b_rx).await.data, "prefix one");
    d.publish(envelope(G1, "MESSAGE_CREATE", "prefix two"));
    assert_eq!(next_event(&mut c_rx).await.data, "prefix two");
}

// ---------------------------------------------------------------------------------------------
// Redis: faults.

/// Kills the connection(s) named `name` (and only those, so parallel tests are unaffected).
async fn kill_client(url: &str, name: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut admin = client.get_multiplexed_async_connection().await.unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut admin)
        .await
        .unwrap();
    let ids: Vec<String> = list
        .lines()
        .filter(|line| line.split(' ').any(|field| field == format!("name={name}")))
        .filter_map(|line| line.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_owned)
        .collect();
    assert_eq!(ids.len(), 1, "expected one connection named {name}: {list}");
    let killed: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&ids[0])
        .query_async(&mut admin)
        .await
        .unwrap();
    assert_eq!(killed, 1);
}

/// The subscriber connection dies: Gap at once, Gap again once resubscribed by itself, then
/// events on every watched topic flow again.
#[tokio::test]
async fn redis_killed_subscriber_connection_gaps_and_resubscribes() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    b.watch(vec![G1, U7]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "before"));
    assert_eq!(next_event(&mut rx).await.data, "before");

    kill_client(&url, &b.subscriber_client_name()).await;
    next_gap(&mut rx).await;
    next_gap(&mut rx).await;

    a.publish(envelope(G1, "MESSAGE_CREATE", "guild after"));
    a.publish(envelope(U7, "MESSAGE_CREATE", "user after"));
    assert_eq!(next_event(&mut rx).await.data, "guild after");
    assert_eq!(next_event(&mut rx).await.data, "user after");
    // The reconnected connection has its name again (so operators can find it).
    kill_client(&url, &b.subscriber_client_name()).await;
    next_gap(&mut rx).await;
}

/// A's publisher connection dies: the batch sent on it is lost, so B hears of a gap (through
/// the gaps channel); A's later events reach B again.
#[tokio::test]
async fn redis_killed_publisher_connection_is_announced_as_a_gap() {
    let (url, prefix) = (redis_url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    let mut a_rx = a.subscribe();
    b.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "before"));
    assert_eq!(next_event(&mut rx).await.data, "before");

    kill_client(&url, &a.publisher_client_name()).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "lost"));
    next_gap(&mut rx).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "after"));
    assert_eq!(next_event(&mut rx).await.data, "after");

    // A's own sessions got both events locally, and no Gap from its own marker.
    assert_eq!(next_event(&mut a_rx).await.data, "before");
    assert_eq!(next_event(&mut a_rx).await.data, "lost");
    assert_eq!(next_event(&mut a_rx).await.data, "after");
    assert!(matches!(a_rx.try_recv(), Err(TryRecvError::Empty)));
}

/// Redis goes away and comes back: B reports a Gap, reconnects with the same subscriptions by
/// itself, and A's events (after A's own gap marker) reach it again.
#[tokio::test]
async fn redis_restarted_server_gaps_then_recovers_with_same_subscriptions() {
    let mut server = PrivateRedis::start();
    let (url, prefix) = (server.url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    b.watch(vec![G1, U7]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "before"));
    assert_eq!(next_event(&mut rx).await.data, "before");

    server.stop();
    next_gap(&mut rx).await;
    // Published while Redis is down: delivered locally on A, lost for B.
    a.publish(envelope(G1, "MESSAGE_CREATE", "during outage"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.spawn();

    // B announces its resubscription with a second Gap; A's gap marker may add another.
    next_gap(&mut rx).await;
    let mut gaps = 2;
    let deadline = Instant::now() + WAIT;
    let mut probe = 0;
    let first = loop {
        assert!(
            Instant::now() < deadline,
            "no event reached B after the restart"
        );
        probe += 1;
        a.publish(envelope(G1, "MESSAGE_CREATE", &format!("probe {probe}")));
        match timeout(Duration::from_millis(300), rx.recv()).await {
            Ok(Ok(Delivery::Gap)) => gaps += 1,
            Ok(Ok(Delivery::Event(envelope))) => break envelope,
            Ok(Err(err)) => panic!("the bus stream failed: {err}"),
            Err(_) => {}
        }
    };
    assert!(first.data.starts_with("probe "), "got {first:?}");
    assert!(gaps >= 2);
    // The user topic is subscribed again as well.
    a.publish(envelope(U7, "MESSAGE_CREATE", "user after restart"));
    loop {
        match next(&mut rx).await {
            Delivery::Event(envelope) if envelope.data.starts_with("probe ") => {}
            Delivery::Event(envelope) => {
                assert_eq!(envelope.data, "user after restart");
                break;
            }
            Delivery::Gap => {}
        }
    }
}

/// `watch` during an outage does not hang: it returns within the bounded wait, and a Gap
/// follows once the subscription exists, after which the topic's events arrive.
#[tokio::test]
async fn redis_watch_during_outage_is_bounded_and_followed_by_a_gap() {
    let mut server = PrivateRedis::start();
    let (url, prefix) = (server.url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    server.stop();
    next_gap(&mut rx).await;

    let started = Instant::now();
    b.watch(vec![G2]).await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(7),
        "watch returned after {waited:?}"
    );

    server.spawn();
    next_gap(&mut rx).await;
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline, "G2 events never reached B");
        a.publish(envelope(G2, "MESSAGE_CREATE", "after"));
        match timeout(Duration::from_millis(300), rx.recv()).await {
            Ok(Ok(Delivery::Event(envelope))) => {
                assert_eq!(envelope.topic, G2);
                break;
            }
            Ok(Ok(Delivery::Gap)) | Err(_) => {}
            Ok(Err(err)) => panic!("the bus stream failed: {err}"),
        }
    }
}

/// A Redis that stops answering without closing the connection is noticed by the subscriber's
/// heartbeat (Gap), and the node recovers once it answers again.
#[tokio::test]
async fn redis_unresponsive_server_is_noticed_and_recovered_from() {
    let server = PrivateRedis::start();
    let (url, prefix) = (server.url(), fresh_prefix());
    let (a, b) = (node(&url, &prefix).await, node(&url, &prefix).await);
    let mut rx = b.subscribe();
    b.watch(vec![G1]).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "before"));
    assert_eq!(next_event(&mut rx).await.data, "before");

    server.signal("-STOP");
    let frozen = Instant::now();
    next_gap(&mut rx).await;
    eprintln!("silent connection noticed after {:?}", frozen.elapsed());
    server.signal("-CONT");
    next_gap(&mut rx).await;
    a.publish(envelope(G1, "MESSAGE_CREATE", "after"));
    assert_eq!(next_event(&mut rx).await.data, "after");
}
