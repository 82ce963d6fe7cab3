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
//! `--baseline` skips the set-up and treats every session as a viewer, for `naive_baseline`.
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

mod gateway;
mod load;
mod report;
mod setup;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;

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
    /// messages per second, all posters together (default 200; 20 with --smoke)
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

async fn run(plan: Plan) -> Result<bool> {
    let args = &plan.args;
    wait_for_server(&args.base, Duration::from_secs_f64(args.wait_server)).await?;

    let world = if args.baseline {
        setup::World::baseline(args.session_offset + plan.sessions)
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
    let users = world
        .users
        .get(args.session_offset..args.session_offset + plan.sessions)
        .ok_or("the state has fewer users than --session-offset + --sessions")?;

    let tracker = Arc::new(load::Tracker::new(
        plan.run_id.clone(),
        world.target_channel.clone(),
        plan.messages,
    )?);
    let rss_before = args.server_pid.and_then(rss_kib);
    let gw = gateway::GwConfig::new(args)?;
    let sessions = gateway::start(&gw, users, &tracker, args.connect_concurrency).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_ready = args.server_pid.and_then(rss_kib);
    eprintln!(
        "gateway: {}/{} sessions ready in {:.2} s",
        sessions.ready.ok,
        plan.sessions,
        sessions.ready.elapsed.as_secs_f64()
    );

    let viewers = users
        .iter()
        .zip(&sessions.ready.live)
        .filter(|(u, live)| **live && (args.baseline || !u.hidden))
        .count();
    let posting = load::run(&plan, &world, &tracker, viewers).await?;
    let (ready, outcomes) = sessions.stop().await;
    let rss_after = args.server_pid.and_then(rss_kib);

    let result = report::Report {
        plan: &plan,
        world: &world,
        users,
        ready: &ready,
        posting: &posting,
        tracker: &tracker,
        outcomes: &outcomes,
        rss: [rss_before, rss_ready, rss_after],
    }
    .build()?;
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

fn main() {
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
