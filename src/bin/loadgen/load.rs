//! The load phase: open-loop posters and the tracker every session reports deliveries to.
//!
//! A message's content starts with `lg <run> <index> <scheduled µs> ` (padded to the requested
//! size), so a recipient knows which message it got and when it was MEANT to be sent: latency is
//! measured from the schedule, not from when a possibly delayed request left (coordinated
//! omission), and other runs' messages are ignored.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::setup::World;
use crate::{unix_us, Plan, Result};

/// Latency histogram shards: deliveries from many sessions record concurrently.
const SHARDS: usize = 16;
/// Requests a poster may have in flight before it waits (keeps fds bounded if the server stalls;
/// latency is still measured from the schedule).
const MAX_IN_FLIGHT: usize = 2048;

/// What a delivery was.
pub enum Delivery {
    Counted,
    Duplicate,
    /// a hidden member got a message of the target channel
    Leak,
    /// not one of this run's messages
    Foreign,
}

/// Per-message delivery facts shared by all sessions.
pub struct Tracker {
    run: String,
    channel: String,
    /// scheduled send time per message (µs since epoch; 0 = none seen)
    sched: Vec<AtomicU64>,
    first: Vec<AtomicU64>,
    last: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
    /// per message: the POST was answered 2xx
    posted: Vec<AtomicBool>,
    pub viewer_deliveries: AtomicU64,
    pub hidden_deliveries: AtomicU64,
    pub foreign: AtomicU64,
    /// smallest scheduled time seen in a delivery (receive-only runs start their clock there)
    min_sched: AtomicU64,
    /// receive − schedule of every delivery, µs
    all: Vec<Mutex<Histogram<u64>>>,
}

impl Tracker {
    /// A tracker for `messages` messages of run `run` in channel `channel`.
    pub fn new(run: String, channel: String, messages: usize) -> Result<Tracker> {
        let atomics = |v: u64| (0..messages).map(|_| AtomicU64::new(v)).collect::<Vec<_>>();
        let mut all = Vec::with_capacity(SHARDS);
        for _ in 0..SHARDS {
            all.push(Mutex::new(crate::hist()?));
        }
        Ok(Tracker {
            run,
            channel,
            sched: atomics(0),
            first: atomics(u64::MAX),
            last: atomics(0),
            count: (0..messages).map(|_| AtomicU32::new(0)).collect(),
            posted: (0..messages).map(|_| AtomicBool::new(false)).collect(),
            viewer_deliveries: AtomicU64::new(0),
            hidden_deliveries: AtomicU64::new(0),
            foreign: AtomicU64::new(0),
            min_sched: AtomicU64::new(u64::MAX),
            all,
        })
    }

    /// Messages this run posts.
    pub fn capacity(&self) -> usize {
        self.count.len()
    }

    /// The target channel's id.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// Records one MESSAGE_CREATE received at `now_us` by a session (`seen` is its bitset).
    pub fn deliver(
        &self,
        content: &str,
        same_channel: bool,
        viewer: bool,
        seen: &mut [u64],
        now_us: u64,
    ) -> Delivery {
        let Some((index, sched)) = self.parse(content) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return Delivery::Foreign;
        };
        if !same_channel || index >= self.capacity() {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return Delivery::Foreign;
        }
        if !viewer {
            self.hidden_deliveries.fetch_add(1, Ordering::Relaxed);
            return Delivery::Leak;
        }
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if seen[word] & bit != 0 {
            return Delivery::Duplicate;
        }
        seen[word] |= bit;
        self.sched[index].store(sched, Ordering::Relaxed);
        self.min_sched.fetch_min(sched, Ordering::Relaxed);
        self.count[index].fetch_add(1, Ordering::Relaxed);
        self.first[index].fetch_min(now_us, Ordering::Relaxed);
        self.last[index].fetch_max(now_us, Ordering::Relaxed);
        self.viewer_deliveries.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = self.all[(now_us as usize) % SHARDS].lock() {
            h.saturating_record(now_us.saturating_sub(sched));
        }
        Delivery::Counted
    }

    fn parse(&self, content: &str) -> Option<(usize, u64)> {
        let mut parts = content.strip_prefix("lg ")?.splitn(4, ' ');
        if parts.next()? != self.run {
            return None;
        }
        let index = parts.next()?.parse().ok()?;
        let sched = parts.next()?.parse().ok()?;
        Some((index, sched))
    }

    /// Deliveries of the messages whose POST succeeded.
    fn delivered_posted(&self) -> u64 {
        self.count
            .iter()
            .zip(&self.posted)
            .filter(|(_, p)| p.load(Ordering::Relaxed))
            .map(|(c, _)| u64::from(c.load(Ordering::Relaxed)))
            .sum()
    }

    /// Per-message view once the run is over.
    pub fn messages(&self) -> Vec<MessageFacts> {
        (0..self.capacity())
            .map(|i| MessageFacts {
                posted: self.posted[i].load(Ordering::Relaxed),
                deliveries: self.count[i].load(Ordering::Relaxed),
                sched: self.sched[i].load(Ordering::Relaxed),
                first: self.first[i].load(Ordering::Relaxed),
                last: self.last[i].load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Every delivery's latency, merged.
    pub fn all_deliveries(&self) -> Result<Histogram<u64>> {
        let mut merged = crate::hist()?;
        for shard in &self.all {
            if let Ok(h) = shard.lock() {
                merged.add(&*h)?;
            }
        }
        Ok(merged)
    }

    /// Latest delivery time seen, µs since epoch.
    pub fn last_delivery_us(&self) -> u64 {
        self.last
            .iter()
            .map(|l| l.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0)
    }
}

/// One message after the run.
pub struct MessageFacts {
    pub posted: bool,
    pub deliveries: u32,
    pub sched: u64,
    pub first: u64,
    pub last: u64,
}

/// What the posters did.
pub struct Posting {
    pub planned: usize,
    pub ok: usize,
    pub errors: usize,
    pub first_errors: Vec<String>,
    /// schedule → response, µs (what a client waiting on the send sees, CO-corrected)
    pub rest: Histogram<u64>,
    /// request start → response, µs (the server's service time)
    pub rest_service: Histogram<u64>,
    /// worst delay between a message's schedule and its request leaving, µs
    pub max_send_lag_us: u64,
    pub t0_us: u64,
    pub last_response_us: u64,
    /// viewers the run expects each message to reach
    pub viewers: usize,
    /// all expected deliveries arrived before the drain timeout
    pub drained: bool,
}

/// The content of message `index`: tag, schedule, padding to `bytes`.
fn content(run: &str, index: usize, sched_us: u64, bytes: usize) -> String {
    let mut c = format!("lg {run} {index} {sched_us} ");
    while c.len() < bytes {
        c.push(char::from(b'a' + (c.len() % 26) as u8));
    }
    c
}

/// Posts the run's messages open-loop (or, with `--posters 0`, waits for another process's),
/// then waits for the deliveries to drain.
pub async fn run(
    plan: &Plan,
    world: &World,
    tracker: &Arc<Tracker>,
    viewers: usize,
) -> Result<Posting> {
    let args = &plan.args;
    let mut posting = Posting {
        planned: plan.messages,
        ok: 0,
        errors: 0,
        first_errors: Vec::new(),
        rest: crate::hist()?,
        rest_service: crate::hist()?,
        max_send_lag_us: 0,
        t0_us: 0,
        last_response_us: 0,
        viewers,
        drained: false,
    };
    let drain = Duration::from_secs_f64(args.drain);
    if args.posters == 0 {
        let wait_until = unix_us() + (args.wait_start * 1e6) as u64;
        eprintln!("load: receive-only, waiting for run {}", plan.run_id);
        while tracker.min_sched.load(Ordering::Relaxed) == u64::MAX {
            if unix_us() > wait_until {
                return Err("no message of this run arrived (is the poster running?)".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for p in &tracker.posted {
            p.store(true, Ordering::Relaxed);
        }
        posting.ok = plan.messages;
        posting.t0_us = tracker.min_sched.load(Ordering::Relaxed);
        posting.last_response_us = posting.t0_us + (plan.duration * 1e6) as u64;
    } else {
        post_all(plan, world, tracker, &mut posting).await?;
    }
    let expected = posting.ok as u64 * viewers as u64;
    let deadline = posting.last_response_us.max(unix_us()) + drain.as_micros() as u64;
    loop {
        if tracker.delivered_posted() >= expected {
            posting.drained = true;
            break;
        }
        if unix_us() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(posting)
}

struct Shared {
    rest: Mutex<(Histogram<u64>, Histogram<u64>)>,
    ok: AtomicUsize,
    errors: Mutex<(usize, Vec<String>)>,
    max_lag: AtomicU64,
    last_response: AtomicU64,
}

async fn post_all(
    plan: &Plan,
    world: &World,
    tracker: &Arc<Tracker>,
    posting: &mut Posting,
) -> Result<()> {
    let args = &plan.args;
    let shared = Arc::new(Shared {
        rest: Mutex::new((crate::hist()?, crate::hist()?)),
        ok: AtomicUsize::new(0),
        errors: Mutex::new((0, Vec::new())),
        max_lag: AtomicU64::new(0),
        last_response: AtomicU64::new(0),
    });
    let t0_us = unix_us() + 300_000;
    posting.t0_us = t0_us;
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        args.base.trim_end_matches('/'),
        world.target_channel
    );
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    eprintln!(
        "load: {} messages at {} msg/s over {} s, {} poster(s)",
        plan.messages, plan.rate, plan.duration, args.posters
    );
    let mut posters = JoinSet::new();
    for p in 0..args.posters {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()?;
        let (url, token, run) = (url.clone(), world.poster_token.clone(), plan.run_id.clone());
        let (shared, tracker, in_flight) = (shared.clone(), tracker.clone(), in_flight.clone());
        let (total, step, rate, bytes) =
            (plan.messages, args.posters, plan.rate, args.message_bytes);
        posters.spawn(async move {
            let mut requests = JoinSet::new();
            for i in (p..total).step_by(step) {
                let sched = t0_us + (i as f64 * 1e6 / rate) as u64;
                let now = unix_us();
                if sched > now {
                    tokio::time::sleep(Duration::from_micros(sched - now)).await;
                }
                let Ok(permit) = in_flight.clone().acquire_owned().await else {
                    break;
                };
                let started = unix_us();
                shared
                    .max_lag
                    .fetch_max(started.saturating_sub(sched), Ordering::Relaxed);
                let body = json!({"content": content(&run, i, sched, bytes), "nonce": i});
                let req = client
                    .post(&url)
                    .header("authorization", &token)
                    .json(&body);
                let (shared, tracker) = (shared.clone(), tracker.clone());
                requests.spawn(async move {
                    let result = req.send().await;
                    let done = unix_us();
                    drop(permit);
                    let error = match result {
                        Ok(r) if r.status().is_success() => None,
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            Some(format!("{status}: {text}"))
                        }
                        Err(e) => Some(e.to_string()),
                    };
                    match error {
                        None => {
                            tracker.posted[i].store(true, Ordering::Relaxed);
                            shared.ok.fetch_add(1, Ordering::Relaxed);
                            shared.last_response.fetch_max(done, Ordering::Relaxed);
                            if let Ok(mut h) = shared.rest.lock() {
                                h.0.saturating_record(done.saturating_sub(sched));
                                h.1.saturating_record(done.saturating_sub(started));
                            }
                        }
                        Some(e) => {
                            if let Ok(mut errs) = shared.errors.lock() {
                                errs.0 += 1;
                                if errs.1.len() < 5 {
                                    errs.1.push(e);
                                }
                            }
                        }
                    }
                });
                while requests.try_join_next().is_some() {}
            }
            while requests.join_next().await.is_some() {}
        });
    }
    while posters.join_next().await.is_some() {}
    posting.ok = shared.ok.load(Ordering::Relaxed);
    posting.max_send_lag_us = shared.max_lag.load(Ordering::Relaxed);
    posting.last_response_us = shared.last_response.load(Ordering::Relaxed);
    if let Ok(h) = shared.rest.lock() {
        posting.rest = h.0.clone();
        posting.rest_service = h.1.clone();
    }
    if let Ok(errs) = shared.errors.lock() {
        posting.errors = errs.0;
        posting.first_errors = errs.1.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_round_trips_and_counts_once() {
        let t = Tracker::new("run1".into(), "42".into(), 10).unwrap();
        let c = content("run1", 7, 1_000, 400);
        assert_eq!(c.len(), 400);
        let mut seen = vec![0u64; 1];
        assert!(matches!(
            t.deliver(&c, true, true, &mut seen, 1_500),
            Delivery::Counted
        ));
        assert!(matches!(
            t.deliver(&c, true, true, &mut seen, 1_600),
            Delivery::Duplicate
        ));
        assert!(matches!(
            t.deliver(&c, true, false, &mut [0], 1_600),
            Delivery::Leak
        ));
        let other = content("run2", 7, 1_000, 400);
        assert!(matches!(
            t.deliver(&other, true, true, &mut [0], 1_600),
            Delivery::Foreign
        ));
        let m = &t.messages()[7];
        assert_eq!(
            (m.deliveries, m.sched, m.first, m.last),
            (1, 1_000, 1_500, 1_500)
        );
        assert_eq!(t.all_deliveries().unwrap().len(), 1);
    }
}
