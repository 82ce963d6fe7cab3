//! What an event costs on the Redis bus compared with the in-process bus, measured in one run:
//! envelopes shaped like a MESSAGE_CREATE (~400-byte content, ~900-byte `d`) go from a
//! publishing node to a subscribed node (for Redis: two `RedisBus` instances, so every event
//! crosses Redis as MessagePack; for local: one `LocalBus`).
//!
//! - throughput: `--count` envelopes published back to back; events/s until the last arrives;
//! - latency: `--rate` envelopes/s for `--seconds`, publish→receive p50/p99/p99.9 (each envelope
//!   carries its scheduled publish time, so a stalled publisher shows up as latency).
//!
//!   cargo run --release --example bus_bench -- --redis-url redis://127.0.0.1:6379
use std::sync::Arc;
use std::time::{Duration, Instant};

use accord::bus::{Audience, Bus, Delivery, Envelope, LocalBus, RedisBus, Topic};
use accord::model::Snowflake;
use clap::Parser;
use hdrhistogram::Histogram;

#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Envelopes for the throughput run.
    #[arg(long, default_value_t = 100_000)]
    count: u64,
    /// Envelopes per second for the latency run.
    #[arg(long, default_value_t = 5_000)]
    rate: u64,
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

const GUILD: Snowflake = Snowflake(1_000_000);

/// A MESSAGE_CREATE-sized envelope whose `d` starts with its scheduled time (µs since `start`).
fn envelope(at_micros: u64) -> Envelope {
    let content = "x".repeat(400);
    let data = format!(
        r#"{{"t":{at_micros},"id":"1","channel_id":"2","guild_id":"{}","content":"{content}","author":{{"id":"3","username":"poster","discriminator":"0","global_name":null,"avatar":null,"bot":false}},"timestamp":"2026-11-28T00:00:00.000000+00:00","edited_timestamp":null,"tts":false,"mention_everyone":false,"mentions":[],"mention_roles":[],"attachments":[],"embeds":[],"pinned":false,"type":0,"flags":0,"components":[]}}"#,
        GUILD.0
    );
    Envelope {
        topic: Topic::Guild(GUILD),
        event: "MESSAGE_CREATE".into(),
        data,
        audience: Audience::Channel(Snowflake(2)),
        subject_user: None,
    }
}

fn scheduled_micros(envelope: &Envelope) -> Option<u64> {
    let rest = envelope.data.strip_prefix(r#"{"t":"#)?;
    rest[..rest.find(',')?].parse().ok()
}

/// Publisher and subscriber of one kind of bus.
async fn pair(kind: &str, url: &str) -> (Arc<dyn Bus>, Arc<dyn Bus>) {
    if kind == "local" {
        let bus: Arc<dyn Bus> = Arc::new(LocalBus::new(65_536));
        return (Arc::clone(&bus), bus);
    }
    let prefix = format!("busbench{}", rand::random::<u32>());
    let publisher: Arc<dyn Bus> = RedisBus::connect(url, &prefix)
        .await
        .expect("Redis for the publishing node");
    let subscriber: Arc<dyn Bus> = RedisBus::connect(url, &prefix)
        .await
        .expect("Redis for the subscribing node");
    (publisher, subscriber)
}

struct Outcome {
    events_per_sec: f64,
    latency: Histogram<u64>,
    received: u64,
    expected: u64,
}

async fn measure(kind: &str, args: &Args) -> Outcome {
    let (publisher, subscriber) = pair(kind, &args.redis_url).await;
    let mut events = subscriber.subscribe();
    subscriber.watch(vec![Topic::Guild(GUILD)]).await;

    // Throughput: as fast as the subscriber keeps up, with at most `WINDOW` envelopes in
    // flight (no queue on the way may overflow).
    const WINDOW: u64 = 8_192;
    let started = Instant::now();
    let total = args.count;
    let arrived = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = Arc::clone(&arrived);
    let receiver = tokio::spawn(async move {
        let mut got = 0u64;
        while got < total {
            match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                Ok(Ok(Delivery::Event(_))) => {
                    got += 1;
                    counter.store(got, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(Ok(Delivery::Gap)) | Ok(Err(_)) => {}
                Err(_) => break,
            }
        }
        (got, events)
    });
    let template = envelope(0);
    for n in 0..total {
        while n - arrived.load(std::sync::atomic::Ordering::Relaxed) >= WINDOW {
            tokio::task::yield_now().await;
        }
        publisher.publish(template.clone());
    }
    let (got, mut events) = receiver.await.expect("receiver");
    let events_per_sec = got as f64 / started.elapsed().as_secs_f64();
    assert_eq!(got, total, "{kind}: the throughput run lost envelopes");

    // Latency at a fixed open-loop rate.
    let expected = args.rate * args.seconds;
    let start = Instant::now();
    let collector = tokio::spawn(async move {
        let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
        let mut received = 0;
        while received < expected {
            match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
                Ok(Ok(Delivery::Event(envelope))) => {
                    if let Some(at) = scheduled_micros(&envelope) {
                        let now = start.elapsed().as_micros() as u64;
                        latency.saturating_record(now.saturating_sub(at).max(1));
                        received += 1;
                    }
                }
                Ok(Ok(Delivery::Gap)) | Ok(Err(_)) => {}
                Err(_) => break,
            }
        }
        (latency, received)
    });
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    for n in 0..expected {
        let at = interval * n as u32;
        let wait = at.saturating_sub(start.elapsed());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        publisher.publish(envelope(at.as_micros() as u64));
    }
    let (latency, received) = collector.await.expect("collector");
    Outcome {
        events_per_sec,
        latency,
        received,
        expected,
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    println!(
        "{:<6} {:>14} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "bus", "events/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs", "received"
    );
    let mut results = Vec::new();
    for kind in ["local", "redis"] {
        let outcome = measure(kind, &args).await;
        let l = &outcome.latency;
        println!(
            "{:<6} {:>14.0} {:>10} {:>10} {:>10} {:>10} {:>12}",
            kind,
            outcome.events_per_sec,
            l.value_at_quantile(0.5),
            l.value_at_quantile(0.99),
            l.value_at_quantile(0.999),
            l.max(),
            format!("{}/{}", outcome.received, outcome.expected)
        );
        results.push(outcome);
    }
    let (local, redis) = (&results[0], &results[1]);
    println!(
        "redis/local: throughput {:.2}, p99 latency {:.1}x ({} envelopes/s for {} s in the latency run)",
        redis.events_per_sec / local.events_per_sec,
        redis.latency.value_at_quantile(0.99) as f64
            / local.latency.value_at_quantile(0.99).max(1) as f64,
        args.rate,
        args.seconds
    );
}
