//! The multi-step scenarios of the benchmark suite, on sessions that are already connected:
//! - **M2 rate ramp**: the posting rate goes up step by step until deliveries/s stop growing,
//!   deliveries fall behind the drain deadline, or latency explodes; the maximum is the best
//!   step that delivered everything.
//! - **M3 points**: a longer step at 50 % and at 80 % of that maximum, for latency.
//! - **M4 REST search**: no sessions; short open-loop steps of message creates spread over many
//!   posters and connections, searching the highest rate whose p99 (from the schedule, so
//!   corrected for coordinated omission) stays within the limit.
//!
//! Every part is bounded in time (`--ramp-budget-secs`, `--m4-budget-secs`).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::load::{self, Step, StepPlan, Tracker};
use crate::report::step_json;
use crate::{Args, Result};

/// Deliveries/s of a step must beat the best so far by this factor, or the ramp has saturated.
const GROWTH: f64 = 1.05;
/// A step whose deliveries/s fall below this share of the offered rate has saturated the
/// server: the next (×1.6) step would only fill its queues, and a server that closes slow
/// connections (as ours does past 1024 queued dispatches) would end the very sessions the M3
/// steps still need.
const KEEP_UP: f64 = 0.9;

/// Runs one step on the current sessions and returns its JSON.
async fn step(tracker: &Tracker, tag: String, plan: &StepPlan, viewers: usize) -> Result<Value> {
    // Late deliveries of an overloaded step must not fall into this one's window.
    tracker
        .wait_quiet(Duration::from_millis(300), Duration::from_secs(30))
        .await;
    let step: Arc<Step> = tracker.begin(Step::new(tag, plan.messages())?);
    let posting = load::run(plan, &step, viewers).await?;
    step_json(plan, &step, &posting)
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// M2 (rate ramp) then M3 (50 % and 80 % of the M2 maximum): `{"ramp": [...], "m2": {...},
/// "m3": {"at_50": step, "at_80": step}}`.
pub async fn ramp(
    args: &Args,
    run_id: &str,
    base_plan: &StepPlan,
    tracker: &Tracker,
    viewers: usize,
) -> Result<Value> {
    if viewers == 0 {
        return Err("the ramp needs at least one viewer session".into());
    }
    let started = Instant::now();
    let budget = Duration::from_secs_f64(args.ramp_budget_secs);
    let mut rate = args
        .rate
        .unwrap_or((args.ramp_start_deliveries / viewers as f64).max(1.0));
    let mut steps = Vec::new();
    let mut best: Option<(f64, f64)> = None; // (deliveries/s, rate)
    let mut stopped = "max steps".to_string();
    let mut downs = 0;
    let step_time = args.ramp_step_secs + base_plan.drain.as_secs_f64();
    for k in 0..args.ramp_max_steps {
        if k >= 2 && started.elapsed().as_secs_f64() + step_time > budget.as_secs_f64() {
            stopped = "time budget".into();
            break;
        }
        let plan = StepPlan {
            rate,
            duration: args.ramp_step_secs,
            ..base_plan.clone()
        };
        let s = step(tracker, format!("{run_id}r{k}"), &plan, viewers).await?;
        let dps = num(&s["load"]["deliveries_per_sec"]);
        let complete = s["load"]["drained"] == true
            && s["load"]["post_errors"] == 0
            && s["loss"]["missing_deliveries"] == 0;
        let p99 = num(&s["latency"]["last_recipient"]["p99_ms"]);
        eprintln!(
            "ramp: {rate:.1} msg/s → {dps:.0} deliveries/s, last p99 {p99:.1} ms, complete {complete}"
        );
        steps.push(s);
        let over_latency = p99 > args.ramp_max_p99_ms;
        if best.is_none() && (!complete || over_latency) && downs < 3 {
            // Already past the limit at the first rate: start again lower, so the maximum
            // comes from a ramp with at least one step the server kept up with.
            downs += 1;
            rate /= args.ramp_factor * args.ramp_factor;
            continue;
        }
        if !complete {
            stopped = "overload: deliveries missing by the drain deadline or posts failed".into();
            break;
        }
        let previous = best.map_or(0.0, |b| b.0);
        if dps > previous {
            best = Some((dps, rate));
        }
        if previous > 0.0 && dps < previous * GROWTH {
            stopped = "saturated: deliveries/s stopped growing".into();
            break;
        }
        if over_latency {
            stopped = format!(
                "latency: last-recipient p99 above {} ms",
                args.ramp_max_p99_ms
            );
            break;
        }
        let offered = rate * viewers as f64;
        if dps < offered * KEEP_UP {
            stopped = format!(
                "saturated: deliveries/s below {:.0} % of the offered rate",
                KEEP_UP * 100.0
            );
            break;
        }
        rate *= args.ramp_factor;
    }
    let mut m3 = json!({});
    if let Some((max_dps, _)) = best {
        for (key, share) in [("at_50", 0.5), ("at_80", 0.8)] {
            let plan = StepPlan {
                rate: (share * max_dps / viewers as f64).max(0.1),
                duration: args.m3_secs,
                ..base_plan.clone()
            };
            let id = 100 + (share * 100.0) as u32;
            let s = step(tracker, format!("{run_id}m{id}"), &plan, viewers).await?;
            eprintln!(
                "M3 {key}: {:.1} msg/s, last recipient p99 {:.1} ms",
                plan.rate,
                num(&s["latency"]["last_recipient"]["p99_ms"])
            );
            m3[key] = s;
        }
    }
    Ok(json!({
        "ramp": steps,
        "m2": {
            "max_deliveries_per_sec": best.map(|b| b.0),
            "at_rate": best.map(|b| b.1),
            "viewers": viewers,
            "stopped": stopped,
            "secs": started.elapsed().as_secs_f64(),
        },
        "m3": m3,
        "foreign_messages": tracker.foreign.load(Ordering::Relaxed),
    }))
}

/// M4: the highest REST message-create rate whose p99 ≤ `--m4-p99-ms`, by a bounded search
/// (grow by `--m4-factor` while good, then bisect between the best good and the first bad).
pub async fn rest_search(args: &Args, run_id: &str, base_plan: &StepPlan) -> Result<Value> {
    let started = Instant::now();
    let mut rate = args.m4_start_rate;
    let mut good: Option<f64> = None;
    let mut bad: Option<f64> = None;
    let mut steps = Vec::new();
    let limit = args.m4_p99_ms;
    // An empty tracker: nobody listens, the step only posts.
    let tracker = Tracker::new(base_plan.channel.clone(), Step::new(String::new(), 0)?);
    let step_time = args.m4_step_secs + 1.0;
    for k in 0..args.m4_max_steps {
        if k >= 2 && started.elapsed().as_secs_f64() + step_time > args.m4_budget_secs {
            break;
        }
        let plan = StepPlan {
            rate,
            duration: args.m4_step_secs,
            ..base_plan.clone()
        };
        let s = step(&tracker, format!("{run_id}p{k}"), &plan, 0).await?;
        let p99 = num(&s["load"]["rest_create"]["p99_ms"]);
        let achieved = num(&s["load"]["achieved_rate"]);
        let ok = s["load"]["post_errors"] == 0
            && s["load"]["posted_ok"].as_u64().unwrap_or(0) > 0
            && p99 <= limit
            && achieved >= 0.9 * rate;
        eprintln!(
            "M4: {rate:.0} msg/s → achieved {achieved:.0}, p99 {p99:.1} ms: {}",
            if ok { "within" } else { "over" }
        );
        steps.push(s);
        if ok {
            good = Some(good.map_or(rate, |g: f64| g.max(rate)));
        } else {
            bad = Some(bad.map_or(rate, |b: f64| b.min(rate)));
        }
        rate = match (good, bad) {
            (Some(_), None) => rate * args.m4_factor,
            (None, Some(b)) => b / 2.0,
            (Some(g), Some(b)) => {
                if (b - g) / g < 0.1 {
                    break;
                }
                (g + b) / 2.0
            }
            (None, None) => rate,
        };
        // Let the store settle (WAL checkpoints) between steps.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(json!({
        "m4": {
            "max_rate": good,
            "first_bad_rate": bad,
            "p99_limit_ms": limit,
            "steps": steps,
            "posters": base_plan.posters,
            "authors": base_plan.tokens.len(),
            "secs": started.elapsed().as_secs_f64(),
        },
    }))
}
