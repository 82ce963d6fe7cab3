//! Results: one JSON document (the `--out` file) and a table printed from it, plus the list of
//! correctness problems that make a `--smoke` run fail. Metric names follow issue 6
//! (M1 memory per session, M2 deliveries/s, M3 delivery latency, M4 REST create, M5 identify).

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::gateway::{Outcome, ReadyStats};
use crate::load::{Posting, Tracker};
use crate::setup::{UserEntry, World};
use crate::{Plan, Result};

/// Everything the run produced, borrowed for building the report.
pub struct Report<'a> {
    pub plan: &'a Plan,
    pub world: &'a World,
    pub users: &'a [UserEntry],
    pub ready: &'a ReadyStats,
    pub posting: &'a Posting,
    pub tracker: &'a Tracker,
    pub outcomes: &'a [Outcome],
    /// server VmRSS KiB: before IDENTIFY, after READY, after the load
    pub rss: [Option<u64>; 3],
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// p50/p90/p99/p99.9/max in milliseconds.
fn summary(h: &Histogram<u64>) -> Value {
    if h.is_empty() {
        return json!({"count": 0});
    }
    json!({
        "count": h.len(),
        "p50_ms": ms(h.value_at_quantile(0.5)),
        "p90_ms": ms(h.value_at_quantile(0.9)),
        "p99_ms": ms(h.value_at_quantile(0.99)),
        "p999_ms": ms(h.value_at_quantile(0.999)),
        "max_ms": ms(h.max()),
        "mean_ms": h.mean() / 1000.0,
    })
}

impl Report<'_> {
    /// The JSON result document.
    pub fn build(&self) -> Result<Value> {
        let plan = self.plan;
        let args = &plan.args;
        let hidden = if args.baseline {
            0
        } else {
            self.users.iter().filter(|u| u.hidden).count()
        };

        // M3: first and last recipient per message; loss by counting.
        let mut first = crate::hist()?;
        let mut last = crate::hist()?;
        let viewers = self.posting.viewers as u64;
        let (mut lost, mut incomplete, mut undelivered, mut unacked_delivered) = (0u64, 0, 0, 0);
        for m in self.tracker.messages() {
            if m.deliveries > 0 && m.sched > 0 {
                first.saturating_record(m.first.saturating_sub(m.sched));
                last.saturating_record(m.last.saturating_sub(m.sched));
            }
            if m.posted {
                let got = u64::from(m.deliveries);
                if got < viewers {
                    lost += viewers - got;
                    incomplete += 1;
                }
                if got == 0 && viewers > 0 {
                    undelivered += 1;
                }
            } else if m.deliveries > 0 {
                unacked_delivered += 1;
            }
        }
        let all = self.tracker.all_deliveries()?;
        let deliveries = self
            .tracker
            .viewer_deliveries
            .load(std::sync::atomic::Ordering::Relaxed);
        let phase_end = self
            .tracker
            .last_delivery_us()
            .max(self.posting.last_response_us);
        let phase_secs = phase_end.saturating_sub(self.posting.t0_us) as f64 / 1e6;
        let post_secs = self
            .posting
            .last_response_us
            .saturating_sub(self.posting.t0_us) as f64
            / 1e6;

        let sum = |f: fn(&Outcome) -> u64| self.outcomes.iter().map(f).sum::<u64>();
        let ended_early: Vec<&str> = self
            .outcomes
            .iter()
            .zip(&self.ready.live)
            .filter(|(_, live)| **live)
            .filter_map(|(o, _)| o.error.as_deref())
            .collect();

        let ready_secs = self.ready.elapsed.as_secs_f64();
        let [rss_before, rss_ready, rss_after] = self.rss;
        let per_session_kib = match (rss_before, rss_ready) {
            (Some(b), Some(r)) if self.ready.ok > 0 => {
                Some((r as f64 - b as f64) / self.ready.ok as f64)
            }
            _ => None,
        };
        Ok(json!({
            "label": args.label,
            "target": if args.baseline { "naive_baseline" } else { "accord" },
            "base": args.base,
            "gateway_url": args.gateway_url,
            "zlib": args.zlib,
            "run_id": plan.run_id,
            "sessions": plan.sessions,
            "hidden_sessions": hidden,
            "source_ips": args.source_ips,
            "setup": self.world.setup,
            "identify": {
                "ready": self.ready.ok,
                "failed": self.ready.failed,
                "errors": self.ready.errors,
                "secs": ready_secs,
                "sessions_per_sec": self.ready.ok as f64 / ready_secs.max(1e-9),
                "to_ready": summary(&self.ready.to_ready),
                "to_guild_create": summary(&self.ready.to_guilds),
            },
            "server_rss_kib": {
                "before_identify": rss_before,
                "after_ready": rss_ready,
                "after_load": rss_after,
                "per_session_kib": per_session_kib,
            },
            "load": {
                "rate": plan.rate,
                "duration_secs": plan.duration,
                "posters": args.posters,
                "message_bytes": args.message_bytes,
                "planned": self.posting.planned,
                "posted_ok": self.posting.ok,
                "post_errors": self.posting.errors,
                "first_post_errors": self.posting.first_errors,
                "achieved_rate": self.posting.ok as f64 / post_secs.max(1e-9),
                "max_send_lag_ms": ms(self.posting.max_send_lag_us),
                "rest_create": summary(&self.posting.rest),
                "rest_service": summary(&self.posting.rest_service),
                "viewers": self.posting.viewers,
                "deliveries": deliveries,
                "phase_secs": phase_secs,
                "deliveries_per_sec": deliveries as f64 / phase_secs.max(1e-9),
                "drained": self.posting.drained,
            },
            "latency": {
                "first_recipient": summary(&first),
                "last_recipient": summary(&last),
                "every_delivery": summary(&all),
            },
            "loss": {
                "expected_deliveries": self.posting.ok as u64 * viewers,
                "missing_deliveries": lost,
                "incomplete_messages": incomplete,
                "undelivered_messages": undelivered,
                "delivered_without_2xx": unacked_delivered,
                "duplicates": sum(|o| o.duplicates),
                "hidden_deliveries": sum(|o| o.leaks),
                "seq_gaps": sum(|o| o.seq_gaps),
                "sessions_not_ready": self.ready.failed,
                "sessions_ended_early": ended_early.len(),
                "session_errors": ended_early.iter().take(5).collect::<Vec<_>>(),
                "reconnects_requested": sum(|o| o.reconnects_requested),
                "heartbeats": sum(|o| o.heartbeats),
                "heartbeat_acks": sum(|o| o.acks),
                "missed_acks": sum(|o| o.missed_acks),
                "foreign_messages": self.tracker.foreign.load(std::sync::atomic::Ordering::Relaxed),
            },
        }))
    }
}

fn f(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.0}"),
        Some(x) => format!("{x:.2}"),
        None if v.is_null() => "-".into(),
        None => v.to_string(),
    }
}

fn lat(v: &Value) -> String {
    if v["count"] == 0 {
        return "-".into();
    }
    format!(
        "p50 {} / p99 {} / p99.9 {} / max {} ms",
        f(&v["p50_ms"]),
        f(&v["p99_ms"]),
        f(&v["p999_ms"]),
        f(&v["max_ms"])
    )
}

/// Prints the result as an aligned table on stdout.
pub fn print_table(r: &Value) {
    let rows: Vec<(&str, String)> = vec![
        (
            "scenario",
            format!(
                "{} → {}",
                r["label"].as_str().unwrap_or(""),
                r["target"].as_str().unwrap_or("")
            ),
        ),
        (
            "sessions (hidden)",
            format!("{} ({})", r["sessions"], r["hidden_sessions"]),
        ),
        (
            "zlib / source ips",
            format!("{} / {}", r["zlib"], r["source_ips"]),
        ),
        ("set-up total s", f(&r["setup"]["total_secs"])),
        ("  register users/s", f(&r["setup"]["register"]["per_sec"])),
        (
            "identify: ready / failed",
            format!("{} / {}", r["identify"]["ready"], r["identify"]["failed"]),
        ),
        ("M5 sessions READY/s", f(&r["identify"]["sessions_per_sec"])),
        ("M5 time to READY", lat(&r["identify"]["to_ready"])),
        (
            "    to GUILD_CREATE",
            lat(&r["identify"]["to_guild_create"]),
        ),
        (
            "M1 server RSS KiB/session",
            f(&r["server_rss_kib"]["per_session_kib"]),
        ),
        (
            "   RSS before/ready/after KiB",
            format!(
                "{} / {} / {}",
                f(&r["server_rss_kib"]["before_identify"]),
                f(&r["server_rss_kib"]["after_ready"]),
                f(&r["server_rss_kib"]["after_load"])
            ),
        ),
        (
            "M4 posted ok / planned",
            format!("{} / {}", r["load"]["posted_ok"], r["load"]["planned"]),
        ),
        ("M4 achieved msg/s", f(&r["load"]["achieved_rate"])),
        (
            "M4 REST create (from schedule)",
            lat(&r["load"]["rest_create"]),
        ),
        ("   REST service time", lat(&r["load"]["rest_service"])),
        ("   max send lag ms", f(&r["load"]["max_send_lag_ms"])),
        ("M2 deliveries/s", f(&r["load"]["deliveries_per_sec"])),
        (
            "   deliveries / viewers",
            format!("{} / {}", r["load"]["deliveries"], r["load"]["viewers"]),
        ),
        ("M3 first recipient", lat(&r["latency"]["first_recipient"])),
        ("M3 last recipient", lat(&r["latency"]["last_recipient"])),
        ("   every delivery", lat(&r["latency"]["every_delivery"])),
        (
            "missing deliveries (by deadline)",
            f(&r["loss"]["missing_deliveries"]),
        ),
        (
            "loss: hidden got / dups / seq gaps",
            format!(
                "{} / {} / {}",
                r["loss"]["hidden_deliveries"], r["loss"]["duplicates"], r["loss"]["seq_gaps"]
            ),
        ),
        (
            "sessions ended early / op7",
            format!(
                "{} / {}",
                r["loss"]["sessions_ended_early"], r["loss"]["reconnects_requested"]
            ),
        ),
        (
            "heartbeats / acks / missed",
            format!(
                "{} / {} / {}",
                r["loss"]["heartbeats"], r["loss"]["heartbeat_acks"], r["loss"]["missed_acks"]
            ),
        ),
    ];
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    println!("{}", "-".repeat(width + 40));
    for (k, v) in rows {
        println!("{k:<width$}  {v}");
    }
    println!("{}", "-".repeat(width + 40));
}

/// Correctness problems (no timing judgements): what makes `--smoke` exit 1.
pub fn problems(r: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let loss = &r["loss"];
    if n(&r["identify"]["failed"]) > 0 {
        p.push(format!(
            "{} sessions never got READY: {}",
            r["identify"]["failed"], r["identify"]["errors"]
        ));
    }
    if n(&r["load"]["posted_ok"]) == 0 {
        p.push("no message was posted successfully".into());
    }
    if n(&r["load"]["post_errors"]) > 0 {
        p.push(format!(
            "{} posts failed: {}",
            r["load"]["post_errors"], r["load"]["first_post_errors"]
        ));
    }
    for (key, what) in [
        (
            "missing_deliveries",
            "expected deliveries not received by the drain deadline (late or lost)",
        ),
        ("hidden_deliveries", "deliveries to hidden members"),
        ("duplicates", "duplicate deliveries"),
        ("seq_gaps", "gateway sequence gaps"),
        ("sessions_ended_early", "sessions ended early"),
        ("missed_acks", "heartbeats without ACK"),
    ] {
        if n(&loss[key]) > 0 {
            p.push(format!("{} {what}", loss[key]));
        }
    }
    if n(&loss["sessions_ended_early"]) > 0 {
        p.push(format!("session errors: {}", loss["session_errors"]));
    }
    p
}
