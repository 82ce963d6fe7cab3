//! The load phase: open-loop posters and the tracker every session reports deliveries to.
//!
//! A message's content starts with `lg <tag> <index> <scheduled µs> ` (padded to the requested
//! size), so a recipient knows which message it got and when it was MEANT to be sent: latency is
//! measured from the schedule, not from when a possibly delayed request left (coordinated
//! omission), and other runs' (or earlier steps') messages are ignored.
//!
//! A run is one or more **steps** (a fixed-rate run is one step; the rate ramp and the M3
//! points are several on the same sessions). Each step has its own tag and counters; the
//! [`Tracker`] points the sessions at the current one.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::{unix_us, Result};

/// Latency histogram shards: deliveries from many sessions record concurrently.
const SHARDS: usize = 16;
/// Requests a poster may have in flight before it waits (keeps fds bounded if the server stalls;
/// latency is still measured from the schedule).
const MAX_IN_FLIGHT: usize = 2048;

/// The posters' runtime, apart from the sessions'. On the sessions' runtime a poster's timer
/// and its HTTP responses were queued behind thousands of runnable reader tasks under fan-out
/// (posts started up to 100 ms after their scheduled time), and latency counted from the
/// schedule charged that delay to the server. One worker per core, as M4's posting rates need.
static POSTING: LazyLock<Option<tokio::runtime::Runtime>> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::cores())
        .thread_name("loadgen-post")
        .enable_all()
        .build()
        .ok()
});

/// What a delivery was.
pub enum Delivery {
    Counted,
    Duplicate,
    /// a hidden member got a message of the target channel
    Leak,
    /// not one of the current step's messages
    Foreign,
}

/// The sessions' view of the run: which step is current, plus run-wide counters.
pub struct Tracker {
    channel: String,
    current: RwLock<Arc<Step>>,
    /// bumped after `current` changes: sessions compare it to their cached step's instead of
    /// taking the lock on every delivery (tens of thousands of deliveries/s on two cores)
    generation: AtomicU64,
    /// MESSAGE_CREATEs that were not the current step's (other runs, late ones of earlier steps)
    pub foreign: AtomicU64,
    /// latest MESSAGE_CREATE of any step, µs since epoch (to wait for quiet between steps)
    pub last_message_us: AtomicU64,
}

/// What one session keeps between deliveries: the step it counts for and which of that step's
/// messages it already got (a bitset, to catch duplicates).
#[derive(Default)]
pub struct SessionView {
    generation: u64,
    step: Option<Arc<Step>>,
    seen: Vec<u64>,
}

/// Per-message delivery facts of one step, shared by all sessions.
pub struct Step {
    tag: String,
    sched: Vec<AtomicU64>,
    first: Vec<AtomicU64>,
    last: Vec<AtomicU64>,
    count: Vec<AtomicU32>,
    /// per message: the POST was answered 2xx
    posted: Vec<AtomicBool>,
    pub viewer_deliveries: AtomicU64,
    pub hidden_deliveries: AtomicU64,
    /// smallest scheduled time seen in a delivery (receive-only runs start their clock there)
    min_sched: AtomicU64,
    /// receive − schedule of every delivery, µs
    all: Vec<Mutex<Histogram<u64>>>,
}

impl Step {
    /// A step of `messages` messages tagged `tag` (ASCII letters and digits).
    pub fn new(tag: String, messages: usize) -> Result<Step> {
        let atomics = |v: u64| (0..messages).map(|_| AtomicU64::new(v)).collect::<Vec<_>>();
        let mut all = Vec::with_capacity(SHARDS);
        for _ in 0..SHARDS {
            all.push(Mutex::new(crate::hist()?));
        }
        Ok(Step {
            tag,
            sched: atomics(0),
            first: atomics(u64::MAX),
            last: atomics(0),
            count: (0..messages).map(|_| AtomicU32::new(0)).collect(),
            posted: (0..messages).map(|_| AtomicBool::new(false)).collect(),
            viewer_deliveries: AtomicU64::new(0),
            hidden_deliveries: AtomicU64::new(0),
            min_sched: AtomicU64::new(u64::MAX),
            all,
        })
    }

    /// Messages this step posts.
    pub fn capacity(&self) -> usize {
        self.count.len()
    }

    /// The tag this step's messages carry.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    fn parse(&self, content: &str) -> Option<(usize, u64)> {
        let mut parts = content.strip_prefix("lg ")?.splitn(4, ' ');
        if parts.next()? != self.tag {
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

    /// Per-message view once the step is over.
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

impl Tracker {
    /// A tracker for channel `channel` whose first step is `step`.
    pub fn new(channel: String, step: Step) -> Tracker {
        Tracker {
            channel,
            current: RwLock::new(Arc::new(step)),
            generation: AtomicU64::new(1),
            foreign: AtomicU64::new(0),
            last_message_us: AtomicU64::new(0),
        }
    }

    /// The target channel's id.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The step deliveries are counted for now.
    pub fn current(&self) -> Arc<Step> {
        match self.current.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Makes `step` the current one (sessions reset their duplicate check on their next message).
    pub fn begin(&self, step: Step) -> Arc<Step> {
        let step = Arc::new(step);
        match self.current.write() {
            Ok(mut s) => *s = step.clone(),
            Err(poisoned) => *poisoned.into_inner() = step.clone(),
        }
        self.generation.fetch_add(1, Ordering::Release);
        step
    }

    /// The current step as `view` caches it, refreshed when the tracker moved on; the bitset
    /// of seen messages is reset when the step is another one.
    fn refresh(&self, view: &mut SessionView) {
        let generation = self.generation.load(Ordering::Acquire);
        if view.generation != generation || view.step.is_none() {
            let current = self.current();
            view.generation = generation;
            if !view.step.as_ref().is_some_and(|s| Arc::ptr_eq(s, &current)) {
                view.seen = vec![0; current.capacity() / 64 + 1];
            }
            view.step = Some(current);
        }
    }

    /// Records one MESSAGE_CREATE received at `now_us` by the session whose view is `view`.
    pub fn deliver(
        &self,
        content: &str,
        same_channel: bool,
        viewer: bool,
        view: &mut SessionView,
        now_us: u64,
    ) -> Delivery {
        // Millisecond precision is plenty for "quiet for 300 ms", and most deliveries then
        // only read the shared word.
        if now_us > self.last_message_us.load(Ordering::Relaxed) + 1_000 {
            self.last_message_us.fetch_max(now_us, Ordering::Relaxed);
        }
        self.refresh(view);
        let SessionView { step, seen, .. } = view;
        let Some(step) = step.as_deref() else {
            return Delivery::Foreign;
        };
        let Some((index, sched)) = step.parse(content) else {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return Delivery::Foreign;
        };
        if !same_channel || index >= step.capacity() {
            self.foreign.fetch_add(1, Ordering::Relaxed);
            return Delivery::Foreign;
        }
        if !viewer {
            step.hidden_deliveries.fetch_add(1, Ordering::Relaxed);
            return Delivery::Leak;
        }
        let (word, bit) = (index / 64, 1u64 << (index % 64));
        if seen[word] & bit != 0 {
            return Delivery::Duplicate;
        }
        seen[word] |= bit;
        // Loads before stores: every recipient of a message touches these words, and a line
        // only read stays shared between the cores.
        if step.sched[index].load(Ordering::Relaxed) != sched {
            step.sched[index].store(sched, Ordering::Relaxed);
        }
        if sched < step.min_sched.load(Ordering::Relaxed) {
            step.min_sched.fetch_min(sched, Ordering::Relaxed);
        }
        step.count[index].fetch_add(1, Ordering::Relaxed);
        if now_us < step.first[index].load(Ordering::Relaxed) {
            step.first[index].fetch_min(now_us, Ordering::Relaxed);
        }
        step.last[index].fetch_max(now_us, Ordering::Relaxed);
        step.viewer_deliveries.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut h) = step.all[(now_us as usize) % SHARDS].lock() {
            h.saturating_record(now_us.saturating_sub(sched));
        }
        Delivery::Counted
    }

    /// Waits until no MESSAGE_CREATE arrived for `quiet` (at most `within`): late deliveries of
    /// an overloaded step must not land in the next one's time window.
    pub async fn wait_quiet(&self, quiet: Duration, within: Duration) -> bool {
        let deadline = unix_us() + within.as_micros() as u64;
        loop {
            let now = unix_us();
            let last = self.last_message_us.load(Ordering::Relaxed);
            if now.saturating_sub(last) >= quiet.as_micros() as u64 {
                return true;
            }
            if now > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One message after the step.
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
    /// viewers the step expects each message to reach
    pub viewers: usize,
    /// all expected deliveries arrived before the drain timeout
    pub drained: bool,
    /// µs from the last response to the last expected delivery (or the drain deadline)
    pub drain_us: u64,
}

/// How one step posts.
#[derive(Clone)]
pub struct StepPlan {
    /// messages per second, all posters together
    pub rate: f64,
    pub duration: f64,
    /// `Authorization` values; poster k uses `tokens[k % len]`
    pub tokens: Vec<String>,
    /// independent posters (own HTTP client each); 0 = receive only
    pub posters: usize,
    pub channel: String,
    pub base: String,
    pub message_bytes: usize,
    /// how long to wait for deliveries after the last response
    pub drain: Duration,
    /// receive-only: how long to wait for the first message
    pub wait_start: Duration,
}

impl StepPlan {
    /// Messages the step posts: floor(rate × duration), at least one.
    pub fn messages(&self) -> usize {
        ((self.rate * self.duration).floor() as usize).max(1)
    }
}

/// The content of message `index`: tag, schedule, padding to `bytes`.
fn content(tag: &str, index: usize, sched_us: u64, bytes: usize) -> String {
    let mut c = format!("lg {tag} {index} {sched_us} ");
    while c.len() < bytes {
        c.push(char::from(b'a' + (c.len() % 26) as u8));
    }
    c
}

/// Posts the step's messages open-loop (or, with 0 posters, waits for another process's),
/// then waits for the deliveries to drain.
pub async fn run(plan: &StepPlan, step: &Arc<Step>, viewers: usize) -> Result<Posting> {
    let messages = step.capacity();
    let mut posting = Posting {
        planned: messages,
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
        drain_us: 0,
    };
    if plan.posters == 0 {
        let wait_until = unix_us() + plan.wait_start.as_micros() as u64;
        eprintln!("load: receive-only, waiting for run {}", step.tag);
        while step.min_sched.load(Ordering::Relaxed) == u64::MAX {
            if unix_us() > wait_until {
                return Err("no message of this run arrived (is the poster running?)".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        for p in &step.posted {
            p.store(true, Ordering::Relaxed);
        }
        posting.ok = messages;
        posting.t0_us = step.min_sched.load(Ordering::Relaxed);
        posting.last_response_us = posting.t0_us + (plan.duration * 1e6) as u64;
    } else {
        post_all(plan, step, &mut posting).await?;
    }
    let expected = posting.ok as u64 * viewers as u64;
    let from = posting.last_response_us.max(unix_us());
    let deadline = from + plan.drain.as_micros() as u64;
    loop {
        if step.delivered_posted() >= expected {
            posting.drained = true;
            break;
        }
        if unix_us() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    posting.drain_us = if posting.drained && expected > 0 {
        step.last_delivery_us()
            .saturating_sub(posting.last_response_us)
    } else if posting.drained {
        0
    } else {
        unix_us().saturating_sub(posting.last_response_us)
    };
    Ok(posting)
}

struct Shared {
    rest: Mutex<(Histogram<u64>, Histogram<u64>)>,
    ok: AtomicUsize,
    errors: Mutex<(usize, Vec<String>)>,
    max_lag: AtomicU64,
    last_response: AtomicU64,
}

async fn post_all(plan: &StepPlan, step: &Arc<Step>, posting: &mut Posting) -> Result<()> {
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
        plan.base.trim_end_matches('/'),
        plan.channel
    );
    if plan.tokens.is_empty() {
        return Err("no poster token".into());
    }
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let total = step.capacity();
    eprintln!(
        "load: step {}: {} messages at {:.1} msg/s over {:.1} s, {} poster(s)",
        step.tag, total, plan.rate, plan.duration, plan.posters
    );
    let posting_runtime = POSTING
        .as_ref()
        .ok_or("cannot start the posters' runtime")?
        .handle();
    let mut posters = JoinSet::new();
    for p in 0..plan.posters {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()?;
        let token = plan.tokens[p % plan.tokens.len()].clone();
        let (url, tag) = (url.clone(), step.tag.clone());
        let (shared, step, in_flight) = (shared.clone(), step.clone(), in_flight.clone());
        let (stride, rate, bytes) = (plan.posters, plan.rate, plan.message_bytes);
        let poster = async move {
            let mut requests = JoinSet::new();
            for i in (p..total).step_by(stride) {
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
                let body = json!({"content": content(&tag, i, sched, bytes), "nonce": i});
                let req = client
                    .post(&url)
                    .header("authorization", &token)
                    .json(&body);
                let (shared, step) = (shared.clone(), step.clone());
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
                            step.posted[i].store(true, Ordering::Relaxed);
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
        };
        posters.spawn_on(poster, posting_runtime);
    }
    while posters.join_next().await.is_some() {}
    posting.ok = shared.ok.load(Ordering::Relaxed);
    posting.max_send_lag_us = shared.max_lag.load(Ordering::Relaxed);
    posting.last_response_us = shared.last_response.load(Ordering::Relaxed).max(t0_us);
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
    fn content_round_trips_and_counts_once_per_step() {
        let t = Tracker::new("42".into(), Step::new("run1".into(), 10).unwrap());
        let c = content("run1", 7, 1_000, 400);
        assert_eq!(c.len(), 400);
        let mut seen = SessionView::default();
        assert!(matches!(
            t.deliver(&c, true, true, &mut seen, 1_500),
            Delivery::Counted
        ));
        assert!(matches!(
            t.deliver(&c, true, true, &mut seen, 1_600),
            Delivery::Duplicate
        ));
        assert!(matches!(
            t.deliver(&c, true, false, &mut SessionView::default(), 1_600),
            Delivery::Leak
        ));
        let other = content("run2", 7, 1_000, 400);
        assert!(matches!(
            t.deliver(&other, true, true, &mut SessionView::default(), 1_600),
            Delivery::Foreign
        ));
        let first = t.current();
        let m = &first.messages()[7];
        assert_eq!(
            (m.deliveries, m.sched, m.first, m.last),
            (1, 1_000, 1_500, 1_500)
        );
        assert_eq!(first.all_deliveries().unwrap().len(), 1);

        // A new step: the old tag is foreign, the same index counts again for the new tag.
        let second = t.begin(Step::new("run1x1".into(), 200).unwrap());
        assert!(matches!(
            t.deliver(&c, true, true, &mut seen, 1_700),
            Delivery::Foreign
        ));
        let c2 = content("run1x1", 7, 2_000, 400);
        assert!(matches!(
            t.deliver(&c2, true, true, &mut seen, 2_100),
            Delivery::Counted
        ));
        assert!(seen.step.as_ref().is_some_and(|s| Arc::ptr_eq(s, &second)));
        assert_eq!(second.messages()[7].deliveries, 1);
        assert_eq!(first.messages()[7].deliveries, 1);
    }
}
