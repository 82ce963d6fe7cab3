//! Load generator for accord (issue 6): drives a REAL server over loopback through its public
//! protocols only — REST for set-up and posting, gateway WebSockets for receiving — so the figures
//! include everything a client would see (HTTP parsing, the store, fan-out, framing, compression).
//!
//! Phases:
//! 1. **Set-up** (`setup.rs`): registers users concurrently, one owner makes a guild with 10 text
//!    channels, everybody joins through an invite, and `--hidden-fraction` of the members get a
//!    role denied VIEW_CHANNEL on the target channel. The result can be kept in `--state` and
//!    reused while the server keeps its data dir (argon2 makes registration the slow part).
//! 2. **Gateway** (`gateway.rs`): N sessions IDENTIFY (spread over 127.0.0.1..127.0.0.k) and
//!    wait for READY and their GUILD_CREATE, heartbeating at the HELLO interval.
//! 3. **Load** (`load.rs`): posters send messages at a fixed open-loop rate; each message carries
//!    its scheduled send time, so latency = receive − schedule (no coordinated omission).
//!    Every delivery is checked: gateway `s` contiguous per session, every viewer gets every
//!    message once, no hidden member gets any.
//! 4. **Report** (`report.rs`): a table on stdout and a JSON file (`--out`).
//!
//! Modes (what `scripts/bench.sh` combines into the M1–M5 suite):
//! - default: one fixed-rate step (`--rate`, `--duration`);
//! - `--ramp` (`suite.rs`): after READY, a rate ramp finds the maximum deliveries/s (M2), then
//!   one step at 50 % and one at 80 % of it measure latency (M3);
//! - `--rest-search` (`suite.rs`): no sessions; the highest REST create rate whose p99 stays
//!   within `--m4-p99-ms` (M4);
//! - `loadgen summary --dir DIR` (`summary.rs`): reads the JSON results of a suite run, prints
//!   the M1–M5 table for accord and the baseline with ratios, and draws the SVG charts.
//!
//! `--baseline` skips the set-up for `naive_baseline`: any token works, and the hidden share of
//! sessions gets tokens the baseline does not send the channel's messages to.
//!
//! Above 19 000 sessions (the fd limit is 20 000 per process) use several processes sharing one
//! state file and run id:
//! ```text
//! loadgen --setup-only --users 40000 --state s.json --server-data-dir D
//! loadgen --state s.json --server-data-dir D --sessions 19000 --session-offset 0     --posters 0 --run-id R --rate X --duration T &
//! loadgen --state s.json --server-data-dir D --sessions 19000 --session-offset 19000 --posters 0 --run-id R --rate X --duration T &
//! # once both print "receive-only, waiting":
//! loadgen --state s.json --server-data-dir D --sessions 2000  --session-offset 38000 --run-id R --rate X --duration T
//! ```
//! Each process reports its own sessions (first/last recipient are per process).

mod chart;
mod gateway;
mod load;
mod report;
mod setup;
mod suite;
mod summary;
mod ws;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use serde_json::{json, Value};

/// The harness's error: any failure is reported with its message and ends the run.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// Result with the harness's error.
pub type Result<T> = std::result::Result<T, Error>;

/// Sockets one process may hold: the fd limit here is 20 000, and the process needs some for
/// HTTP and itself. Above this, run several processes (`--session-offset`, `--posters 0`).
pub const MAX_SESSIONS_PER_PROCESS: usize = 19_000;

/// Command line (every scenario of `scripts/bench.sh` is a combination of these).
#[derive(Parser, Debug, Clone)]
#[command(
    name = "loadgen",
    about = "Drives a real accord server (or naive_baseline) over loopback and measures fan-out"
)]
pub struct Args {
    /// REST base URL of the server (set-up and posting go here)
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub base: String,
    /// gateway URL for the sessions (default: the base URL as ws://); another node's URL
    /// measures "post on node A, receive on node B"
    #[arg(long)]
    pub gateway_url: Option<String>,
    /// gateway sessions opened by this process (default 1000; 10 with --smoke)
    #[arg(long)]
    pub sessions: Option<usize>,
    /// users the set-up creates (default: session-offset + sessions); lets several processes
    /// share one state file, each with its own --session-offset
    #[arg(long)]
    pub users: Option<usize>,
    /// first user of the state file this process connects (multi-process runs)
    #[arg(long, default_value_t = 0)]
    pub session_offset: usize,
    /// fraction of members put in a role denied VIEW_CHANNEL on the target channel
    #[arg(long, default_value_t = 0.5)]
    pub hidden_fraction: f64,
    /// messages per second, all posters together (default 200; 20 with --smoke); with --ramp
    /// the first step's rate (default: --ramp-start-deliveries / viewers)
    #[arg(long)]
    pub rate: Option<f64>,
    /// seconds of posting (default 10; 3 with --smoke)
    #[arg(long)]
    pub duration: Option<f64>,
    /// independent posters (own HTTP client each), sharing the rate; 0 = receive only (another
    /// process posts with the same --run-id, --rate and --duration)
    #[arg(long, default_value_t = 1)]
    pub posters: usize,
    /// spread sessions over source addresses 127.0.0.1..127.0.0.k (k ≤ 254)
    #[arg(long, default_value_t = 1)]
    pub source_ips: u8,
    /// gateway transport compression `compress=zlib-stream` (inflated with flate2)
    #[arg(long)]
    pub zlib: bool,
    /// tiny defaults, and exit 1 if the run shows a harness or delivery failure (for CI; no
    /// timing assertions)
    #[arg(long)]
    pub smoke: bool,
    /// target is naive_baseline: no set-up (any token works), every session is a viewer
    #[arg(long)]
    pub baseline: bool,
    /// JSON file with the set-up's ids and tokens; reused when it matches the server
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// the server's data dir, recorded in the state file so a state is reused only with it
    #[arg(long)]
    pub server_data_dir: Option<PathBuf>,
    /// server process id: VmRSS is read before and after IDENTIFY (M1 = delta / sessions)
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// write the results as JSON here
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// name of the scenario in the table and JSON
    #[arg(long, default_value = "fanout")]
    pub label: String,
    /// REST requests in flight during set-up (joins, role grants)
    #[arg(long, default_value_t = 64)]
    pub setup_concurrency: usize,
    /// registrations in flight: each costs the server an argon2 hash (19 MiB, CPU-bound), so
    /// more than a few per core only queues them and inflates the server's memory
    #[arg(long, default_value_t = 8)]
    pub register_concurrency: usize,
    /// gateway connections being opened/identified at once
    #[arg(long, default_value_t = 200)]
    pub connect_concurrency: usize,
    /// seconds a session may take from connect to READY + GUILD_CREATE
    #[arg(long, default_value_t = 120.0)]
    pub ready_timeout: f64,
    /// seconds to wait after the last post for outstanding deliveries
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// message content size in bytes
    #[arg(long, default_value_t = 400)]
    pub message_bytes: usize,
    /// stop after the set-up (writes --state)
    #[arg(long)]
    pub setup_only: bool,
    /// tag carried by this run's messages (default random); processes of one run share it
    #[arg(long)]
    pub run_id: Option<String>,
    /// receive-only processes wait this long for the run's first message
    #[arg(long, default_value_t = 120.0)]
    pub wait_start: f64,
    /// seconds to wait for the server to answer GET /api/v10/gateway
    #[arg(long, default_value_t = 30.0)]
    pub wait_server: f64,
    /// seconds the sessions stay idle (heartbeating) after the last READY before the server's
    /// RSS is read for M1
    #[arg(long, default_value_t = 2.0)]
    pub idle_secs: f64,
    /// skip the warm-up session (the poster identifies once, and leaves, before the RSS
    /// baseline is taken, so loading the guild is not counted per session)
    #[arg(long)]
    pub no_warmup: bool,
    /// M2/M3: after READY, ramp the rate up to the maximum deliveries/s, then measure latency
    /// at 50 % and 80 % of it (instead of one fixed-rate step)
    #[arg(long)]
    pub ramp: bool,
    /// ramp: first step's offered deliveries/s (rate = this / viewers), unless --rate is given
    #[arg(long, default_value_t = 10_000.0)]
    pub ramp_start_deliveries: f64,
    /// ramp: seconds of posting per step
    #[arg(long, default_value_t = 3.0)]
    pub ramp_step_secs: f64,
    /// ramp: rate multiplier between steps
    #[arg(long, default_value_t = 1.6)]
    pub ramp_factor: f64,
    /// ramp: at most this many steps
    #[arg(long, default_value_t = 8)]
    pub ramp_max_steps: usize,
    /// ramp: no new step starts past this many seconds (after two steps)
    #[arg(long, default_value_t = 60.0)]
    pub ramp_budget_secs: f64,
    /// ramp: stop once the last-recipient p99 of a step exceeds this
    #[arg(long, default_value_t = 2_000.0)]
    pub ramp_max_p99_ms: f64,
    /// M3: seconds of posting at 50 % and at 80 % of the M2 maximum
    #[arg(long, default_value_t = 8.0)]
    pub m3_secs: f64,
    /// M4: search the highest REST create rate with p99 within --m4-p99-ms (no sessions)
    #[arg(long)]
    pub rest_search: bool,
    /// M4: first step's rate, msg/s
    #[arg(long, default_value_t = 500.0)]
    pub m4_start_rate: f64,
    /// M4: rate multiplier while steps stay within the limit
    #[arg(long, default_value_t = 1.6)]
    pub m4_factor: f64,
    /// M4: seconds of posting per step
    #[arg(long, default_value_t = 3.0)]
    pub m4_step_secs: f64,
    /// M4: the p99 limit (from the schedule), ms
    #[arg(long, default_value_t = 50.0)]
    pub m4_p99_ms: f64,
    /// M4: at most this many steps
    #[arg(long, default_value_t = 8)]
    pub m4_max_steps: usize,
    /// M4: no new step starts past this many seconds (after two steps)
    #[arg(long, default_value_t = 60.0)]
    pub m4_budget_secs: f64,
    /// M4: members posting (each its own token; posters take them in turn)
    #[arg(long, default_value_t = 16)]
    pub m4_authors: usize,
}

/// Arguments with the smoke/normal defaults applied.
pub struct Plan {
    pub args: Args,
    pub sessions: usize,
    pub rate: f64,
    pub duration: f64,
    pub run_id: String,
    /// messages the run posts: floor(rate × duration)
    pub messages: usize,
}

/// Microseconds since the Unix epoch: the clock messages carry, comparable across processes.
pub fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Worker threads for the load generator's runtimes: one per core, whatever
/// TOKIO_WORKER_THREADS says (scripts/bench.sh sets that for the servers only).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// A latency histogram in µs from 1 µs to one hour, 3 significant figures. Bounded on purpose:
/// values are recorded saturating, and an auto-resizing histogram would clamp to its current top.
pub fn hist() -> Result<hdrhistogram::Histogram<u64>> {
    Ok(hdrhistogram::Histogram::new_with_bounds(
        1,
        3_600_000_000,
        3,
    )?)
}

/// VmRSS of a process in KiB, from /proc (None if unreadable).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The soft limit on open files of this process (None if unreadable).
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn plan(args: Args) -> Result<Plan> {
    let (d_sessions, d_rate, d_duration) = if args.smoke {
        (10, 20.0, 3.0)
    } else {
        (1000, 200.0, 10.0)
    };
    let sessions = args.sessions.unwrap_or(d_sessions);
    let rate = args.rate.unwrap_or(d_rate);
    let duration = args.duration.unwrap_or(d_duration);
    if sessions > MAX_SESSIONS_PER_PROCESS {
        return Err(format!(
            "--sessions {sessions} is above {MAX_SESSIONS_PER_PROCESS} per process (fd limit); run \
             several processes: one with --setup-only --users <total>, then each with \
             --session-offset and --posters 0, and one poster"
        )
        .into());
    }
    if let Some(limit) = open_files_limit() {
        if sessions + 256 > limit {
            return Err(format!(
                "{sessions} sessions need more open files than the limit {limit}: raise it \
                 (ulimit -n) or use fewer sessions per process"
            )
            .into());
        }
    }
    if !(rate > 0.0 && duration > 0.0) {
        return Err("--rate and --duration must be positive".into());
    }
    if !(0.0..=1.0).contains(&args.hidden_fraction) {
        return Err("--hidden-fraction must be within 0..=1".into());
    }
    if args.source_ips == 0 || args.source_ips > 254 {
        return Err("--source-ips must be within 1..=254".into());
    }
    if args.message_bytes < 64 || args.message_bytes > 2000 {
        return Err("--message-bytes must be within 64..=2000".into());
    }
    let run_id = match &args.run_id {
        Some(id) if id.chars().all(|c| c.is_ascii_alphanumeric()) && !id.is_empty() => id.clone(),
        Some(_) => return Err("--run-id must be ASCII letters and digits".into()),
        None => {
            use rand::distributions::{Alphanumeric, DistString};
            Alphanumeric.sample_string(&mut rand::thread_rng(), 8)
        }
    };
    let messages = (rate * duration).floor() as usize;
    Ok(Plan {
        args,
        sessions,
        rate,
        duration,
        run_id,
        messages,
    })
}

/// Polls `GET /api/v10/gateway` until the server answers 200.
async fn wait_for_server(base: &str, within: Duration) -> Result<()> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()?;
    let url = format!("{}/api/v10/gateway", base.trim_end_matches('/'));
    let deadline = Instant::now() + within;
    loop {
        if let Ok(r) = http.get(&url).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(format!("no 200 from {url} within {within:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The step plan of fan-out steps (the poster posts in the target channel).
fn fanout_step(plan: &Plan, world: &setup::World) -> load::StepPlan {
    let args = &plan.args;
    load::StepPlan {
        rate: plan.rate,
        duration: plan.duration,
        tokens: vec![world.poster_token.clone()],
        posters: args.posters,
        channel: world.target_channel.clone(),
        base: args.base.clone(),
        message_bytes: args.message_bytes,
        drain: Duration::from_secs_f64(args.drain),
        wait_start: Duration::from_secs_f64(args.wait_start),
    }
}

/// The fields every result document starts with.
fn header(plan: &Plan, world: &setup::World, kind: &str, users: &[setup::UserEntry]) -> Value {
    let args = &plan.args;
    json!({
        "label": args.label,
        "kind": kind,
        "target": if args.baseline { "naive_baseline" } else { "accord" },
        "base": args.base,
        "gateway_url": args.gateway_url,
        "zlib": args.zlib,
        "run_id": plan.run_id,
        "sessions": users.len(),
        "hidden_sessions": users.iter().filter(|u| u.hidden).count(),
        "source_ips": args.source_ips,
        "message_bytes": args.message_bytes,
        "setup": world.setup,
    })
}

async fn run(plan: Plan) -> Result<bool> {
    let args = &plan.args;
    wait_for_server(&args.base, Duration::from_secs_f64(args.wait_server)).await?;

    let world = if args.baseline {
        setup::World::baseline(args.session_offset + plan.sessions, args.hidden_fraction)
    } else {
        setup::prepare(&plan).await?
    };
    if args.setup_only {
        println!(
            "set-up done: {} users in guild {}",
            world.users.len(),
            world.guild_id
        );
        return Ok(true);
    }
    let result = if args.rest_search {
        // M4: many members post in a channel nobody is connected to (pure REST + store).
        let tokens: Vec<String> = world
            .users
            .iter()
            .filter(|u| !u.hidden)
            .take(args.m4_authors.max(1))
            .map(|u| u.token.clone())
            .collect();
        let base = load::StepPlan {
            tokens: if tokens.is_empty() {
                vec![world.poster_token.clone()]
            } else {
                tokens
            },
            posters: args.posters.max(1),
            channel: world
                .channels
                .get(1)
                .unwrap_or(&world.target_channel)
                .clone(),
            ..fanout_step(&plan, &world)
        };
        let m4 = suite::rest_search(args, &plan.run_id, &base).await?;
        report::merge(header(&plan, &world, "rest-search", &[]), m4)
    } else {
        fanout(&plan, &world).await?
    };
    report::print_table(&result);
    if let Some(out) = &args.out {
        std::fs::write(out, serde_json::to_vec_pretty(&result)?)?;
    }
    let problems = report::problems(&result);
    for p in &problems {
        eprintln!("PROBLEM: {p}");
    }
    Ok(problems.is_empty())
}

/// Sessions connect (M5), idle (M1), then one fixed step or the ramp (M2, M3).
async fn fanout(plan: &Plan, world: &setup::World) -> Result<Value> {
    let args = &plan.args;
    let users = world
        .users
        .get(args.session_offset..args.session_offset + plan.sessions)
        .ok_or("the state has fewer users than --session-offset + --sessions")?;
    let first_step = if args.ramp {
        load::Step::new(String::new(), 0)?
    } else {
        load::Step::new(plan.run_id.clone(), plan.messages)?
    };
    let tracker = Arc::new(load::Tracker::new(world.target_channel.clone(), first_step));
    let gw = gateway::GwConfig::new(args)?;
    if !args.no_warmup {
        // The guild's state is loaded by its first session: not a per-session cost.
        let poster = setup::UserEntry {
            id: "poster".into(),
            token: world.poster_token.clone(),
            hidden: false,
        };
        let warm = gateway::start(&gw, std::slice::from_ref(&poster), &tracker, 1).await?;
        if warm.ready.ok != 1 {
            return Err(format!("warm-up session failed: {:?}", warm.ready.errors).into());
        }
        warm.stop().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let rss_before = args.server_pid.and_then(rss_kib);
    let sessions = gateway::start(&gw, users, &tracker, args.connect_concurrency).await?;
    eprintln!(
        "gateway: {}/{} sessions ready in {:.2} s; idle {} s",
        sessions.ready.ok,
        plan.sessions,
        sessions.ready.elapsed.as_secs_f64(),
        args.idle_secs
    );
    tokio::time::sleep(Duration::from_secs_f64(args.idle_secs)).await;
    let rss_ready = args.server_pid.and_then(rss_kib);

    let viewers = users
        .iter()
        .zip(&sessions.ready.live)
        .filter(|(u, live)| **live && !u.hidden)
        .count();
    let step_plan = fanout_step(plan, world);
    let load_part = if args.ramp {
        Some(suite::ramp(args, &plan.run_id, &step_plan, &tracker, viewers).await?)
    } else {
        None
    };
    let fixed = if args.ramp {
        None
    } else {
        let step = tracker.current();
        let posting = load::run(&step_plan, &step, viewers).await?;
        Some(report::step_json(&step_plan, &step, &posting)?)
    };
    let (ready, outcomes) = sessions.stop().await;
    let rss_after = args.server_pid.and_then(rss_kib);
    let sessions_part = report::sessions_json(
        plan.sessions,
        &ready,
        &outcomes,
        [rss_before, rss_ready, rss_after],
        tracker.foreign.load(std::sync::atomic::Ordering::Relaxed),
    );
    Ok(match (load_part, fixed) {
        (Some(ramp), _) => report::merge(
            report::merge(header(plan, world, "ramp", users), sessions_part),
            ramp,
        ),
        (None, Some(step)) => {
            report::fixed_json(header(plan, world, "fixed", users), sessions_part, step)
        }
        (None, None) => return Err("nothing ran".into()),
    })
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some("summary") {
        let args = summary::SummaryArgs::parse_from(std::env::args().skip(1));
        if let Err(e) = summary::run(&args) {
            eprintln!("loadgen summary: {e}");
            std::process::exit(1);
        }
        return;
    }
    let args = Args::parse();
    let plan = match plan(args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(2);
        }
    };
    let strict = plan.args.smoke;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores())
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("loadgen: tokio runtime: {e}");
            std::process::exit(2);
        }
    };
    match runtime.block_on(run(plan)) {
        Ok(true) => {}
        Ok(false) if strict => {
            eprintln!("loadgen: smoke run found problems (see above)");
            std::process::exit(1);
        }
        Ok(false) => eprintln!("loadgen: the run found problems (see above)"),
        Err(e) => {
            eprintln!("loadgen: {e}");
            std::process::exit(1);
        }
    }
}
