//! Results: one JSON document per loadgen run (the `--out` file) and a table printed from it,
//! plus the list of correctness problems that make a `--smoke` run fail. Metric names follow
//! issue 6 (M1 memory per session, M2 deliveries/s, M3 delivery latency, M4 REST create,
//! M5 identify storm). `summary.rs` combines several documents into the suite's table.

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::gateway::{Outcome, ReadyStats};
use crate::load::{Posting, Step, StepPlan};
use crate::Result;

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// p50/p90/p99/p99.9/max in milliseconds.
pub fn summary(h: &Histogram<u64>) -> Value {
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

/// One step's figures: `load` (posting, M4 REST latency, M2 deliveries/s), `latency` (M3) and
/// `loss` (deliveries missing by the drain deadline, leaks to hidden members).
pub fn step_json(plan: &StepPlan, step: &Step, posting: &Posting) -> Result<Value> {
    let mut first = crate::hist()?;
    let mut last = crate::hist()?;
    let viewers = posting.viewers as u64;
    let (mut lost, mut incomplete, mut undelivered, mut unacked_delivered) = (0u64, 0, 0, 0);
    for m in step.messages() {
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
    let all = step.all_deliveries()?;
    let deliveries = step
        .viewer_deliveries
        .load(std::sync::atomic::Ordering::Relaxed);
    let phase_end = step.last_delivery_us().max(posting.last_response_us);
    let phase_secs = phase_end.saturating_sub(posting.t0_us) as f64 / 1e6;
    let post_secs = posting.last_response_us.saturating_sub(posting.t0_us) as f64 / 1e6;
    Ok(json!({
        "tag": step.tag(),
        "load": {
            "rate": plan.rate,
            "duration_secs": plan.duration,
            "posters": plan.posters,
            "message_bytes": plan.message_bytes,
            "planned": posting.planned,
            "posted_ok": posting.ok,
            "post_errors": posting.errors,
            "first_post_errors": posting.first_errors,
            "achieved_rate": posting.ok as f64 / post_secs.max(1e-9),
            "max_send_lag_ms": ms(posting.max_send_lag_us),
            "rest_create": summary(&posting.rest),
            "rest_service": summary(&posting.rest_service),
            "viewers": posting.viewers,
            "deliveries": deliveries,
            "phase_secs": phase_secs,
            "deliveries_per_sec": deliveries as f64 / phase_secs.max(1e-9),
            "drained": posting.drained,
            "drain_ms": ms(posting.drain_us),
        },
        "latency": {
            "first_recipient": summary(&first),
            "last_recipient": summary(&last),
            "every_delivery": summary(&all),
        },
        "loss": {
            "expected_deliveries": posting.ok as u64 * viewers,
            "missing_deliveries": lost,
            "incomplete_messages": incomplete,
            "undelivered_messages": undelivered,
            "delivered_without_2xx": unacked_delivered,
            "hidden_deliveries": step.hidden_deliveries.load(std::sync::atomic::Ordering::Relaxed),
        },
    }))
}

/// The sessions' part: `identify` (M5), `server_rss_kib` (M1) and the per-session checks
/// (sequence gaps, duplicates, leaks, heartbeats) over the whole run.
pub fn sessions_json(
    sessions: usize,
    ready: &ReadyStats,
    outcomes: &[Outcome],
    rss: [Option<u64>; 3],
    foreign: u64,
) -> Value {
    let sum = |f: fn(&Outcome) -> u64| outcomes.iter().map(f).sum::<u64>();
    let ended_early: Vec<&str> = outcomes
        .iter()
        .zip(&ready.live)
        .filter(|(_, live)| **live)
        .filter_map(|(o, _)| o.error.as_deref())
        .collect();
    let ready_secs = ready.elapsed.as_secs_f64();
    let [rss_before, rss_ready, rss_after] = rss;
    let per_session_kib = match (rss_before, rss_ready) {
        (Some(b), Some(r)) if ready.ok > 0 => Some((r as f64 - b as f64) / ready.ok as f64),
        _ => None,
    };
    json!({
        "identify": {
            "sessions": sessions,
            "ready": ready.ok,
            "failed": ready.failed,
            "errors": ready.errors,
            "secs": ready_secs,
            "sessions_per_sec": ready.ok as f64 / ready_secs.max(1e-9),
            "to_ready": summary(&ready.to_ready),
            "to_guild_create": summary(&ready.to_guilds),
        },
        "server_rss_kib": {
            "before_identify": rss_before,
            "after_ready": rss_ready,
            "after_load": rss_after,
            "per_session_kib": per_session_kib,
        },
        "session_checks": {
            "duplicates": sum(|o| o.duplicates),
            "hidden_deliveries": sum(|o| o.leaks),
            "seq_gaps": sum(|o| o.seq_gaps),
            "sessions_not_ready": ready.failed,
            "sessions_ended_early": ended_early.len(),
            "session_errors": ended_early.iter().take(5).collect::<Vec<_>>(),
            "reconnects_requested": sum(|o| o.reconnects_requested),
            "resumes": sum(|o| o.resumes),
            "reidentified": sum(|o| o.reidentified),
            "heartbeats": sum(|o| o.heartbeats),
            "heartbeat_acks": sum(|o| o.acks),
            "missed_acks": sum(|o| o.missed_acks),
            "foreign_messages": foreign,
        },
    })
}

/// Merges object `b` into object `a` (b wins).
pub fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a_obj), Value::Object(b_obj)) = (a.as_object_mut(), b) {
        for (k, v) in b_obj {
            a_obj.insert(k, v);
        }
    }
    a
}

/// The fixed-rate run's document (one step), in the shape `bench-bus.sh` reads: `loss` holds
/// the step's and the sessions' checks together.
pub fn fixed_json(header: Value, sessions: Value, step: Value) -> Value {
    let mut loss = Map::new();
    if let Some(o) = step["loss"].as_object() {
        loss.extend(o.clone());
    }
    if let Some(o) = sessions["session_checks"].as_object() {
        for (k, v) in o {
            if k == "hidden_deliveries" {
                continue; // the sessions' count and the step's are the same leaks
            }
            loss.insert(k.clone(), v.clone());
        }
    }
    let mut doc = merge(header, sessions);
    doc["load"] = step["load"].clone();
    doc["latency"] = step["latency"].clone();
    doc["loss"] = Value::Object(loss);
    doc
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
    if v["count"] == 0 || v.is_null() {
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

fn print_rows(rows: Vec<(String, String)>) {
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    println!("{}", "-".repeat(width + 40));
    for (k, v) in rows {
        println!("{k:<width$}  {v}");
    }
    println!("{}", "-".repeat(width + 40));
}

fn session_rows(r: &Value) -> Vec<(String, String)> {
    let c = &r["session_checks"];
    vec![
        (
            "identify: ready / failed".into(),
            format!("{} / {}", r["identify"]["ready"], r["identify"]["failed"]),
        ),
        (
            "M5 sessions READY/s".into(),
            f(&r["identify"]["sessions_per_sec"]),
        ),
        ("M5 time to READY".into(), lat(&r["identify"]["to_ready"])),
        (
            "    to GUILD_CREATE".into(),
            lat(&r["identify"]["to_guild_create"]),
        ),
        (
            "M1 server RSS KiB/session".into(),
            f(&r["server_rss_kib"]["per_session_kib"]),
        ),
        (
            "   RSS before/ready/after KiB".into(),
            format!(
                "{} / {} / {}",
                f(&r["server_rss_kib"]["before_identify"]),
                f(&r["server_rss_kib"]["after_ready"]),
                f(&r["server_rss_kib"]["after_load"])
            ),
        ),
        (
            "hidden got / dups / seq gaps".into(),
            format!(
                "{} / {} / {}",
                c["hidden_deliveries"], c["duplicates"], c["seq_gaps"]
            ),
        ),
        (
            "sessions ended early / op7 / resumed (after 4000) / re-identified".into(),
            format!(
                "{} / {} / {} / {}",
                c["sessions_ended_early"],
                c["reconnects_requested"],
                c["resumes"],
                c["reidentified"]
            ),
        ),
        (
            "heartbeats / acks / missed".into(),
            format!(
                "{} / {} / {}",
                c["heartbeats"], c["heartbeat_acks"], c["missed_acks"]
            ),
        ),
    ]
}

fn step_rows(prefix: &str, s: &Value) -> Vec<(String, String)> {
    vec![
        (
            format!("{prefix}rate msg/s (achieved)"),
            format!(
                "{} ({})",
                f(&s["load"]["rate"]),
                f(&s["load"]["achieved_rate"])
            ),
        ),
        (
            format!("{prefix}posted ok / planned / errors"),
            format!(
                "{} / {} / {}",
                s["load"]["posted_ok"], s["load"]["planned"], s["load"]["post_errors"]
            ),
        ),
        (
            format!("{prefix}REST create (from schedule)"),
            lat(&s["load"]["rest_create"]),
        ),
        (
            format!("{prefix}deliveries/s"),
            format!(
                "{} ({} × {} viewers)",
                f(&s["load"]["deliveries_per_sec"]),
                s["load"]["posted_ok"],
                s["load"]["viewers"]
            ),
        ),
        (
            format!("{prefix}first recipient"),
            lat(&s["latency"]["first_recipient"]),
        ),
        (
            format!("{prefix}last recipient"),
            lat(&s["latency"]["last_recipient"]),
        ),
        (
            format!("{prefix}missing (by deadline)"),
            f(&s["loss"]["missing_deliveries"]),
        ),
    ]
}

/// Prints a result document as an aligned table on stdout.
pub fn print_table(r: &Value) {
    let mut rows: Vec<(String, String)> = vec![
        (
            "scenario".into(),
            format!(
                "{} → {} ({})",
                r["label"].as_str().unwrap_or(""),
                r["target"].as_str().unwrap_or(""),
                r["kind"].as_str().unwrap_or("")
            ),
        ),
        (
            "sessions (hidden)".into(),
            format!("{} ({})", r["sessions"], r["hidden_sessions"]),
        ),
        (
            "zlib / source ips".into(),
            format!("{} / {}", r["zlib"], r["source_ips"]),
        ),
    ];
    match r["kind"].as_str() {
        Some("fixed") => {
            rows.extend(session_rows(r));
            rows.extend(step_rows("", r));
        }
        Some("ramp") => {
            rows.extend(session_rows(r));
            for (k, s) in r["ramp"].as_array().into_iter().flatten().enumerate() {
                rows.push((
                    format!("ramp {k}: rate → deliveries/s"),
                    format!(
                        "{} → {} (last p99 {} ms, missing {}, drain {} ms)",
                        f(&s["load"]["rate"]),
                        f(&s["load"]["deliveries_per_sec"]),
                        f(&s["latency"]["last_recipient"]["p99_ms"]),
                        f(&s["loss"]["missing_deliveries"]),
                        f(&s["load"]["drain_ms"]),
                    ),
                ));
            }
            rows.push((
                "M2 max deliveries/s".into(),
                format!(
                    "{} (at {} msg/s; stopped: {})",
                    f(&r["m2"]["max_deliveries_per_sec"]),
                    f(&r["m2"]["at_rate"]),
                    r["m2"]["stopped"].as_str().unwrap_or("-")
                ),
            ));
            for key in ["at_50", "at_80"] {
                let s = &r["m3"][key];
                if !s.is_null() {
                    rows.extend(step_rows(&format!("M3 {key}: "), s));
                }
            }
        }
        Some("rest-search") => {
            for (k, s) in r["m4"]["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                rows.push((
                    format!("M4 step {k}: rate → achieved"),
                    format!(
                        "{} → {} msg/s, REST p50 {} / p99 {} ms, errors {}",
                        f(&s["load"]["rate"]),
                        f(&s["load"]["achieved_rate"]),
                        f(&s["load"]["rest_create"]["p50_ms"]),
                        f(&s["load"]["rest_create"]["p99_ms"]),
                        s["load"]["post_errors"]
                    ),
                ));
            }
            rows.push((
                "M4 max msg/s with p99 ≤ limit".into(),
                format!(
                    "{} (limit {} ms)",
                    f(&r["m4"]["max_rate"]),
                    f(&r["m4"]["p99_limit_ms"])
                ),
            ));
        }
        _ => {}
    }
    print_rows(rows);
}

/// Correctness problems (no timing judgements): what makes `--smoke` exit 1.
pub fn problems(r: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    if !r["identify"].is_null() && n(&r["identify"]["failed"]) > 0 {
        p.push(format!(
            "{} sessions never got READY: {}",
            r["identify"]["failed"], r["identify"]["errors"]
        ));
    }
    let checks = &r["session_checks"];
    for (key, what) in [
        ("hidden_deliveries", "deliveries to hidden members"),
        ("duplicates", "duplicate deliveries"),
        ("seq_gaps", "gateway sequence gaps"),
        ("sessions_ended_early", "sessions ended early"),
        ("missed_acks", "heartbeats without ACK"),
    ] {
        if n(&checks[key]) > 0 {
            p.push(format!("{} {what}", checks[key]));
        }
    }
    if n(&checks["sessions_ended_early"]) > 0 {
        p.push(format!("session errors: {}", checks["session_errors"]));
    }
    // Steps that must be clean: the fixed run and the M3 points. Ramp steps may overload the
    // server on purpose (late deliveries, timed-out posts), but must never leak.
    let mut clean: Vec<(String, &Value)> = Vec::new();
    match r["kind"].as_str() {
        Some("fixed") => clean.push(("run".into(), r)),
        Some("ramp") => {
            for (k, s) in r["ramp"].as_array().into_iter().flatten().enumerate() {
                if n(&s["loss"]["hidden_deliveries"]) > 0 {
                    p.push(format!(
                        "ramp step {k}: {} deliveries to hidden members",
                        s["loss"]["hidden_deliveries"]
                    ));
                }
            }
            for key in ["at_50", "at_80"] {
                if !r["m3"][key].is_null() {
                    clean.push((format!("M3 {key}"), &r["m3"][key]));
                }
            }
            if r["m2"]["max_deliveries_per_sec"].is_null() {
                p.push("the ramp found no complete step".into());
            }
        }
        Some("rest-search") if r["m4"]["max_rate"].is_null() => {
            p.push("M4: no step posted without errors within the p99 limit".into());
        }
        _ => {}
    }
    for (name, s) in clean {
        if n(&s["load"]["posted_ok"]) == 0 {
            p.push(format!("{name}: no message was posted successfully"));
        }
        if n(&s["load"]["post_errors"]) > 0 {
            p.push(format!(
                "{name}: {} posts failed: {}",
                s["load"]["post_errors"], s["load"]["first_post_errors"]
            ));
        }
        for (key, what) in [
            (
                "missing_deliveries",
                "expected deliveries not received by the drain deadline (late or lost)",
            ),
            ("hidden_deliveries", "deliveries to hidden members"),
        ] {
            if n(&s["loss"][key]) > 0 {
                p.push(format!("{name}: {} {what}", s["loss"][key]));
            }
        }
    }
    p
}
