//! `loadgen summary --dir DIR`: the suite's table and charts from the JSON documents one
//! `scripts/bench.sh` run leaves in DIR (one per loadgen run, recognised by their `target`,
//! `kind`, `zlib` and `sessions`, not by file name). Prints M1–M5 for accord and the naive
//! baseline side by side with accord/baseline ratios and issue 6's targets, writes the same
//! table as `summary.md`, and draws the SVG charts next to them (and into `--docs-dir`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use serde_json::Value;

use crate::chart::{self, Chart, Series};
use crate::Result;

/// `loadgen summary` arguments.
#[derive(Parser, Debug)]
#[command(
    name = "loadgen summary",
    about = "M1–M5 table and charts from a bench.sh run"
)]
pub struct SummaryArgs {
    /// directory with the run's JSON results; the table and charts are written there too
    #[arg(long)]
    pub dir: PathBuf,
    /// also copy summary.md and the charts here (e.g. docs/bench)
    #[arg(long)]
    pub docs_dir: Option<PathBuf>,
    /// exit 1 when a document reports a correctness problem (the smoke run's check)
    #[arg(long)]
    pub strict: bool,
}

struct Docs(Vec<(PathBuf, Value)>);

impl Docs {
    fn load(dir: &Path) -> Result<Docs> {
        let mut docs = Vec::new();
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        for path in entries {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                if v["kind"].is_string() && v["target"].is_string() {
                    docs.push((path, v));
                }
            }
        }
        Ok(Docs(docs))
    }

    fn find(&self, target: &str, kind: &str, zlib: bool, sessions: Option<u64>) -> Option<&Value> {
        self.0.iter().map(|(_, v)| v).find(|v| {
            v["target"] == target
                && v["kind"] == kind
                && v["zlib"].as_bool().unwrap_or(false) == zlib
                && sessions.is_none_or(|n| v["sessions"].as_u64() == Some(n))
        })
    }

    /// Session counts of the ramp runs, ascending.
    fn ns(&self) -> Vec<u64> {
        let set: BTreeSet<u64> = self
            .0
            .iter()
            .filter(|(_, v)| v["kind"] == "ramp")
            .filter_map(|(_, v)| v["sessions"].as_u64())
            .collect();
        set.into_iter().collect()
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn fmt(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x.abs() >= 1000.0 => {
            let s = format!("{:.0}", x);
            // thin grouping for readability: 123 456
            let bytes: Vec<char> = s.chars().collect();
            let mut out = String::new();
            for (i, ch) in bytes.iter().enumerate() {
                if i > 0 && (bytes.len() - i).is_multiple_of(3) && bytes[i - 1].is_ascii_digit() {
                    out.push(' ');
                }
                out.push(*ch);
            }
            out
        }
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}"),
        Some(x) => format!("{x:.1}"),
    }
}

fn triple(v: &Value) -> String {
    if v.is_null() || v["count"] == 0 {
        return "-".into();
    }
    format!(
        "{} / {} / {}",
        fmt(num(&v["p50_ms"])),
        fmt(num(&v["p99_ms"])),
        fmt(num(&v["p999_ms"]))
    )
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "-".into(),
    }
}

/// One table row: metric, accord, baseline, ratio, target.
type Row = [String; 5];

fn row(metric: String, a: String, b: String, r: String, target: &str) -> Row {
    [metric, a, b, r, target.to_string()]
}

/// Sums the session-check counters `fields` (kept under `loss` in older documents) over every
/// document of `target`, joined with " / "; `identify_failed` adds the failed IDENTIFYs last.
fn check_sums(docs: &Docs, target: &str, fields: &[&str], identify_failed: bool) -> String {
    let mut sums = vec![0u64; fields.len() + usize::from(identify_failed)];
    for (_, d) in docs.0.iter().filter(|(_, d)| d["target"] == target) {
        let checks = if d["session_checks"].is_null() {
            &d["loss"]
        } else {
            &d["session_checks"]
        };
        let counts = fields
            .iter()
            .map(|field| &checks[*field])
            .chain(identify_failed.then(|| &d["identify"]["failed"]));
        for (sum, count) in sums.iter_mut().zip(counts) {
            *sum += count.as_u64().unwrap_or(0);
        }
    }
    sums.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn rows(docs: &Docs) -> Vec<Row> {
    let mut out = Vec::new();
    let ns = docs.ns();
    let top = ns.last().copied();
    for &n in &ns {
        let (a, b) = (
            docs.find("accord", "ramp", false, Some(n)),
            docs.find("naive_baseline", "ramp", false, Some(n)),
        );
        let m1 = |d: Option<&Value>| d.and_then(|d| num(&d["server_rss_kib"]["per_session_kib"]));
        out.push(row(
            format!("M1 RSS KiB per idle session, N={n}"),
            fmt(m1(a)),
            fmt(m1(b)),
            ratio(m1(a), m1(b)),
            if Some(n) == top { "≤ 4 KiB" } else { "" },
        ));
        let z = docs.find("accord", "fixed", true, Some(n));
        if z.is_some() {
            out.push(row(
                format!("M1 RSS KiB per idle session, N={n}, zlib-stream"),
                fmt(m1(z)),
                "-".into(),
                "-".into(),
                if Some(n) == top { "≤ 4 KiB" } else { "" },
            ));
        }
    }
    for &n in &ns {
        let (a, b) = (
            docs.find("accord", "ramp", false, Some(n)),
            docs.find("naive_baseline", "ramp", false, Some(n)),
        );
        let m2 = |d: Option<&Value>| d.and_then(|d| num(&d["m2"]["max_deliveries_per_sec"]));
        let at = |d: Option<&Value>| d.and_then(|d| num(&d["m2"]["at_rate"]));
        out.push(row(
            format!("M2 max deliveries/s, N={n} (half hidden)"),
            format!("{} @ {} msg/s", fmt(m2(a)), fmt(at(a))),
            format!("{} @ {} msg/s", fmt(m2(b)), fmt(at(b))),
            ratio(m2(a), m2(b)),
            if Some(n) == top {
                "≥ 100 000 and ≥ 1.5×"
            } else {
                ""
            },
        ));
    }
    for &n in &ns {
        let (a, b) = (
            docs.find("accord", "ramp", false, Some(n)),
            docs.find("naive_baseline", "ramp", false, Some(n)),
        );
        for (key, pct) in [("at_50", "50 %"), ("at_80", "80 %")] {
            for (who, label) in [("first_recipient", "first"), ("last_recipient", "last")] {
                let get = |d: Option<&Value>| d.map(|d| d["m3"][key]["latency"][who].clone());
                let p99 = |d: Option<&Value>| get(d).and_then(|v| num(&v["p99_ms"]));
                out.push(row(
                    format!("M3 {label} recipient p50/p99/p99.9 ms, {pct} of M2, N={n}"),
                    get(a).map_or("-".into(), |v| triple(&v)),
                    get(b).map_or("-".into(), |v| triple(&v)),
                    ratio(p99(a), p99(b)),
                    if Some(n) == top && label == "last" {
                        "p99 ≤ 250 ms"
                    } else {
                        ""
                    },
                ));
            }
        }
    }
    let m4 = docs.find("accord", "rest-search", false, None);
    let m4b = docs.find("naive_baseline", "rest-search", false, None);
    let m4_rate = |d: Option<&Value>| d.and_then(|d| num(&d["m4"]["max_rate"]));
    let m4_at = |d: Option<&Value>| -> String {
        let Some(d) = d else { return "-".into() };
        let best = num(&d["m4"]["max_rate"]);
        d["m4"]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| num(&s["load"]["rate"]) == best && best.is_some())
            .map_or("-".into(), |s| {
                format!(
                    "{} / {}",
                    fmt(num(&s["load"]["rest_create"]["p50_ms"])),
                    fmt(num(&s["load"]["rest_create"]["p99_ms"]))
                )
            })
    };
    if m4.is_some() || m4b.is_some() {
        let limit = m4
            .or(m4b)
            .and_then(|d| num(&d["m4"]["p99_limit_ms"]))
            .unwrap_or(50.0);
        out.push(row(
            format!("M4 REST create msg/s with p99 ≤ {limit} ms (embedded store)"),
            fmt(m4_rate(m4)),
            fmt(m4_rate(m4b)),
            ratio(m4_rate(m4), m4_rate(m4b)),
            "≥ 5 000",
        ));
        out.push(row(
            "M4 REST p50 / p99 ms at that rate".into(),
            m4_at(m4),
            m4_at(m4b),
            "-".into(),
            "",
        ));
    }
    for &n in &ns {
        let (a, b) = (
            docs.find("accord", "ramp", false, Some(n)),
            docs.find("naive_baseline", "ramp", false, Some(n)),
        );
        let rps = |d: Option<&Value>| d.and_then(|d| num(&d["identify"]["sessions_per_sec"]));
        let p99 = |d: Option<&Value>| d.and_then(|d| num(&d["identify"]["to_ready"]["p99_ms"]));
        let big = Some(n) == top;
        out.push(row(
            format!("M5 sessions READY/s, N={n}"),
            fmt(rps(a)),
            fmt(rps(b)),
            ratio(rps(a), rps(b)),
            if big { "≥ 5 000" } else { "" },
        ));
        out.push(row(
            format!("M5 p99 time to READY ms, N={n}"),
            fmt(p99(a)),
            fmt(p99(b)),
            ratio(p99(a), p99(b)),
            "",
        ));
        let z = docs.find("accord", "fixed", true, Some(n));
        if z.is_some() {
            out.push(row(
                format!("M5 READY/s; p99 ms, N={n}, zlib-stream"),
                format!("{}; {}", fmt(rps(z)), fmt(p99(z))),
                "-".into(),
                "-".into(),
                "",
            ));
        }
    }
    // Correctness over every document of each target.
    const CHECKS: &[&str] = &[
        "seq_gaps",
        "duplicates",
        "hidden_deliveries",
        "sessions_ended_early",
    ];
    let checks = |target: &str| check_sums(docs, target, CHECKS, true);
    // M1 is measured with heartbeats running: show that they were, and were answered.
    const BEATS: &[&str] = &["heartbeats", "heartbeat_acks", "missed_acks"];
    let beats = |target: &str| check_sums(docs, target, BEATS, false);
    out.push(row(
        "heartbeats sent / ACKed / missed ACKs".into(),
        beats("accord"),
        beats("naive_baseline"),
        "-".into(),
        "missed 0",
    ));
    out.push(row(
        "seq gaps / dups / leaks / ended early / not READY".into(),
        checks("accord"),
        checks("naive_baseline"),
        "-".into(),
        "all 0",
    ));
    // Connections closed as too slow (4000) during an overloaded ramp step, and resumed: not
    // a failure (the server protects itself, the client resumes), but worth seeing.
    const RESUMES: &[&str] = &["resumes", "reidentified"];
    let resumes = |target: &str| check_sums(docs, target, RESUMES, false);
    out.push(row(
        "sessions resumed after 4000 / identified anew".into(),
        resumes("accord"),
        resumes("naive_baseline"),
        "-".into(),
        "",
    ));
    out
}

fn text_table(rows: &[Row]) -> String {
    let header: Row = [
        "metric".into(),
        "accord".into(),
        "baseline".into(),
        "accord/baseline".into(),
        "target (issue 6)".into(),
    ];
    let all: Vec<&Row> = std::iter::once(&header).chain(rows).collect();
    let widths: Vec<usize> = (0..5)
        .map(|i| all.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for (k, r) in all.iter().enumerate() {
        for i in 0..5 {
            let pad = widths[i] - r[i].chars().count();
            if i == 0 {
                s.push_str(&r[i]);
                s.push_str(&" ".repeat(pad));
            } else {
                s.push_str("  ");
                s.push_str(&" ".repeat(pad));
                s.push_str(&r[i]);
            }
        }
        s.push('\n');
        if k == 0 {
            s.push_str(&"-".repeat(widths.iter().sum::<usize>() + 8));
            s.push('\n');
        }
    }
    s
}

fn markdown_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| metric | accord | baseline | accord/baseline | target (issue 6) |\n|---|---|---|---|---|\n",
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r[0], r[1], r[2], r[3], r[4]
        ));
    }
    s
}

fn name(target: &str) -> &'static str {
    if target == "accord" {
        "accord"
    } else {
        "baseline"
    }
}

/// Draws the charts; returns the files written.
fn charts(docs: &Docs, dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let ns = docs.ns();
    let targets = ["accord", "naive_baseline"];

    // M2: maximum deliveries/s against N.
    let series: Vec<Series> = targets
        .iter()
        .map(|t| Series {
            name: name(t).into(),
            points: ns
                .iter()
                .filter_map(|&n| {
                    let d = docs.find(t, "ramp", false, Some(n))?;
                    Some((n as f64, num(&d["m2"]["max_deliveries_per_sec"])?))
                })
                .collect(),
        })
        .collect();
    let path = dir.join("m2-deliveries-vs-n.svg");
    chart::draw(
        &path,
        &Chart {
            title: "M2: maximum deliveries/s (half the sessions cannot view the channel)",
            x_desc: "sessions N",
            y_desc: "deliveries/s",
            log_x: true,
            log_y: false,
            reference: None,
            lines: true,
        },
        &series,
    )?;
    written.push(path);

    // M3: last-recipient latency percentiles against N, at 80 % of each server's maximum.
    for (key, pct) in [("at_50", "50"), ("at_80", "80")] {
        let mut series = Vec::new();
        for t in targets {
            for (q, qname) in [("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9")] {
                series.push(Series {
                    name: format!("{} {qname}", name(t)),
                    points: ns
                        .iter()
                        .filter_map(|&n| {
                            let d = docs.find(t, "ramp", false, Some(n))?;
                            Some((
                                n as f64,
                                num(&d["m3"][key]["latency"]["last_recipient"][q])?,
                            ))
                        })
                        .collect(),
                });
            }
        }
        let path = dir.join(format!("m3-latency-vs-n-{pct}.svg"));
        let title = format!("M3: latency to the last recipient at {pct} % of each M2 maximum");
        chart::draw(
            &path,
            &Chart {
                title: &title,
                x_desc: "sessions N",
                y_desc: "ms (log)",
                log_x: true,
                log_y: true,
                reference: Some((250.0, "target p99 250 ms (N = 10 000)".into())),
                lines: true,
            },
            &series,
        )?;
        written.push(path);
    }

    // The ramps: last-recipient p99 against the achieved deliveries/s.
    let mut series = Vec::new();
    for t in targets {
        for &n in &ns {
            let Some(d) = docs.find(t, "ramp", false, Some(n)) else {
                continue;
            };
            let mut steps: Vec<&Value> = d["ramp"].as_array().into_iter().flatten().collect();
            for key in ["at_50", "at_80"] {
                if !d["m3"][key].is_null() {
                    steps.push(&d["m3"][key]);
                }
            }
            let mut points: Vec<(f64, f64)> = steps
                .iter()
                .filter_map(|s| {
                    Some((
                        num(&s["load"]["deliveries_per_sec"])?,
                        num(&s["latency"]["last_recipient"]["p99_ms"])?,
                    ))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            series.push(Series {
                name: format!("{} N={n}", name(t)),
                points,
            });
        }
    }
    let path = dir.join("ramp-latency-vs-rate.svg");
    chart::draw(
        &path,
        &Chart {
            title: "M2/M3: last-recipient p99 against deliveries/s (ramp and M3 steps)",
            x_desc: "deliveries/s",
            y_desc: "p99 ms (log)",
            log_x: false,
            log_y: true,
            reference: None,
            lines: false,
        },
        &series,
    )?;
    written.push(path);

    // M4: REST create latency against the offered rate.
    if let Some(d) = docs.find("accord", "rest-search", false, None) {
        let mut steps: Vec<&Value> = d["m4"]["steps"].as_array().into_iter().flatten().collect();
        steps.sort_by(|a, b| {
            num(&a["load"]["rate"])
                .unwrap_or(0.0)
                .total_cmp(&num(&b["load"]["rate"]).unwrap_or(0.0))
        });
        let series: Vec<Series> = [("p50_ms", "p50"), ("p99_ms", "p99"), ("p999_ms", "p99.9")]
            .iter()
            .map(|(q, qname)| Series {
                name: format!("accord REST create {qname}"),
                points: steps
                    .iter()
                    .filter_map(|s| {
                        Some((
                            num(&s["load"]["rate"])?,
                            num(&s["load"]["rest_create"][*q])?,
                        ))
                    })
                    .collect(),
            })
            .collect();
        let limit = num(&d["m4"]["p99_limit_ms"]).unwrap_or(50.0);
        let path = dir.join("m4-rest-latency-vs-rate.svg");
        chart::draw(
            &path,
            &Chart {
                title: "M4: REST message create (embedded store), latency from the schedule",
                x_desc: "offered msg/s",
                y_desc: "ms (log)",
                log_x: false,
                log_y: true,
                reference: Some((limit, format!("p99 limit {limit} ms"))),
                lines: true,
            },
            &series,
        )?;
        written.push(path);
    }
    Ok(written)
}

/// Prints the table, writes summary.md and the charts; with `--strict`, fails on problems.
pub fn run(args: &SummaryArgs) -> Result<()> {
    let docs = Docs::load(&args.dir)?;
    if docs.0.is_empty() {
        return Err(format!("no result documents in {}", args.dir.display()).into());
    }
    let rows = rows(&docs);
    print!("{}", text_table(&rows));
    let mut md = markdown_table(&rows);
    md.push_str("\nRuns:\n\n");
    for (path, d) in &docs.0 {
        md.push_str(&format!(
            "- `{}`: {} {} N={}{}\n",
            path.file_name().map_or("?".into(), |f| f.to_string_lossy()),
            d["target"].as_str().unwrap_or("?"),
            d["kind"].as_str().unwrap_or("?"),
            d["sessions"],
            if d["zlib"] == true {
                " zlib-stream"
            } else {
                ""
            }
        ));
    }
    std::fs::write(args.dir.join("summary.md"), &md)?;
    let written = charts(&docs, &args.dir)?;
    if let Some(docs_dir) = &args.docs_dir {
        std::fs::create_dir_all(docs_dir)?;
        std::fs::write(docs_dir.join("summary.md"), &md)?;
        for path in &written {
            if let Some(file) = path.file_name() {
                std::fs::copy(path, docs_dir.join(file))?;
            }
        }
    }
    eprintln!(
        "summary: summary.md and {} chart(s) in {}{}",
        written.len(),
        args.dir.display(),
        args.docs_dir
            .as_ref()
            .map_or(String::new(), |d| format!(" (copied to {})", d.display()))
    );
    let mut problems = Vec::new();
    for (path, d) in &docs.0 {
        for p in crate::report::problems(d) {
            problems.push(format!("{}: {p}", path.display()));
        }
    }
    for p in &problems {
        eprintln!("PROBLEM: {p}");
    }
    if args.strict && !problems.is_empty() {
        return Err(format!("{} problem(s) in the results", problems.len()).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ramp(target: &str, n: u64, max: f64, kib: f64) -> Value {
        json!({
            "target": target, "kind": "ramp", "zlib": false, "sessions": n,
            "server_rss_kib": {"per_session_kib": kib},
            "identify": {"sessions_per_sec": 1000.0, "to_ready": {"p99_ms": 10.0}, "failed": 0},
            "session_checks": {"seq_gaps": 0, "duplicates": 0, "hidden_deliveries": 0,
                               "heartbeats": 5, "heartbeat_acks": 5, "missed_acks": 0},
            "ramp": [{"load": {"rate": 1.0, "deliveries_per_sec": max},
                      "latency": {"last_recipient": {"p99_ms": 5.0}}, "loss": {}}],
            "m2": {"max_deliveries_per_sec": max, "at_rate": 10.0, "stopped": "saturated"},
            "m3": {"at_50": {"load": {"posted_ok": 1, "post_errors": 0, "deliveries_per_sec": max / 2.0},
                             "latency": {"last_recipient": {"count": 1, "p50_ms": 1.0, "p99_ms": 2.0, "p999_ms": 3.0}},
                             "loss": {"missing_deliveries": 0}}},
        })
    }

    #[test]
    fn rows_pair_the_servers_by_n_with_ratios() {
        let docs = Docs(vec![
            (
                PathBuf::from("a.json"),
                ramp("accord", 1000, 30_000.0, 10.0),
            ),
            (
                PathBuf::from("b.json"),
                ramp("naive_baseline", 1000, 20_000.0, 40.0),
            ),
        ]);
        let rows = rows(&docs);
        let m2 = rows.iter().find(|r| r[0].starts_with("M2")).unwrap();
        assert_eq!(m2[1], "30 000 @ 10.0 msg/s");
        assert_eq!(m2[3], "1.50×");
        let m1 = rows.iter().find(|r| r[0].starts_with("M1")).unwrap();
        assert_eq!(m1[3], "0.25×");
        let m3 = rows
            .iter()
            .find(|r| r[0].starts_with("M3 last recipient") && r[0].contains("50 %"))
            .unwrap();
        assert_eq!(m3[1], "1.0 / 2.0 / 3.0");
        let beats = rows
            .iter()
            .find(|r| r[0].starts_with("heartbeats"))
            .unwrap();
        assert_eq!(beats[1], "5 / 5 / 0");
        // Only the N that has runs, no M4 rows without an M4 document.
        assert!(!rows.iter().any(|r| r[0].starts_with("M4")));

        let dir = std::env::temp_dir().join(format!("loadgen-summary-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let written = charts(&docs, &dir).unwrap();
        assert_eq!(written.len(), 4);
        assert!(written.iter().all(|p| p.exists()));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn problems_spare_overloaded_ramp_steps_but_not_leaks_or_m3_losses() {
        let mut doc = ramp("accord", 10, 100.0, 1.0);
        doc["ramp"][0]["loss"] = json!({"missing_deliveries": 50});
        assert!(crate::report::problems(&doc).is_empty());
        doc["ramp"][0]["loss"]["hidden_deliveries"] = json!(1);
        assert_eq!(crate::report::problems(&doc).len(), 1);
        doc["ramp"][0]["loss"]["hidden_deliveries"] = json!(0);
        doc["m3"]["at_50"]["loss"]["missing_deliveries"] = json!(3);
        assert_eq!(crate::report::problems(&doc).len(), 1);
    }
}
