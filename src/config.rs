//! Start-up configuration: flags, each with an environment variable, defaulting to a single
//! node on 127.0.0.1:8080 with the embedded store in `./data` and the in-process bus.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "accord",
    version,
    about = "A chat server compatible with Discord's API v10 and gateway"
)]
pub struct Config {
    /// Address to listen on for HTTP and WebSocket.
    #[arg(long, env = "ACCORD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// How clients reach this node (scheme://host:port); the gateway URL is derived from it
    /// (http→ws, https→wss). Defaults to http://<listen>.
    #[arg(long, env = "ACCORD_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Directory of the embedded database.
    #[arg(long, env = "ACCORD_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Where data lives: `embedded` (one node, SQLite in the data directory) or `mongodb`
    /// (several nodes sharing one database).
    #[arg(long, env = "ACCORD_STORE", value_enum, default_value_t = StoreKind::Embedded)]
    pub store: StoreKind,

    /// MongoDB connection string, used with `--store mongodb` (transactions need a replica set
    /// or a server that advertises itself as one).
    #[arg(
        long,
        env = "ACCORD_MONGODB_URI",
        default_value = "mongodb://127.0.0.1:27017"
    )]
    pub mongodb_uri: String,

    /// MongoDB database name, used with `--store mongodb`; nodes of one cluster share it.
    #[arg(long, env = "ACCORD_MONGODB_DATABASE", default_value = "accord")]
    pub mongodb_database: String,

    /// This node's id (0–31): the worker id inside every snowflake it makes.
    #[arg(long, env = "ACCORD_NODE_ID", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..32))]
    pub node_id: u8,

    /// Seconds a gateway session stays resumable after its connection drops.
    #[arg(long, env = "ACCORD_RESUME_WINDOW_SECS", default_value_t = 180)]
    pub resume_window_secs: u64,

    /// Gateway heartbeat interval announced in HELLO, in milliseconds (Discord uses 41250).
    #[arg(long, env = "ACCORD_HEARTBEAT_INTERVAL_MS", default_value_t = 41_250)]
    pub heartbeat_interval_ms: u64,

    /// Seconds a new gateway connection may take to IDENTIFY or RESUME.
    #[arg(long, env = "ACCORD_IDENTIFY_TIMEOUT_SECS", default_value_t = 45)]
    pub identify_timeout_secs: u64,

    /// Most guilds one bot gateway session may carry before sharding is required (close 4011;
    /// Discord: 2500).
    #[arg(long, env = "ACCORD_GUILDS_PER_SHARD", default_value_t = 2500)]
    pub guilds_per_shard: usize,

    /// REST requests per second per bot, user or IP across all routes (Discord: 50); 0 = off.
    #[arg(long, env = "ACCORD_RATE_LIMIT_GLOBAL", default_value_t = 50)]
    pub rate_limit_global: u32,

    /// REST requests per route bucket and channel/guild/webhook per window; 0 = off.
    #[arg(long, env = "ACCORD_RATE_LIMIT_ROUTE", default_value_t = 5)]
    pub rate_limit_route: u32,

    /// Length of a route bucket's window, in milliseconds.
    #[arg(
        long,
        env = "ACCORD_RATE_LIMIT_ROUTE_WINDOW_MS",
        default_value_t = 1000
    )]
    pub rate_limit_route_window_ms: u64,

    /// Largest file one upload may carry, in bytes (Discord: 10 MiB); a larger one is refused
    /// with 413 / 40005.
    #[arg(long, env = "ACCORD_MAX_UPLOAD_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: u64,

    /// Log filter (tracing's EnvFilter syntax), e.g. `info` or `accord=debug`.
    #[arg(long, env = "ACCORD_LOG", default_value = "info")]
    pub log: String,

    /// Emit logs as JSON lines instead of text.
    #[arg(long, env = "ACCORD_LOG_JSON", default_value_t = false)]
    pub log_json: bool,

    /// Event bus: `local` (one node) or `redis` (nodes sharing one Redis see each other's events).
    #[arg(long, env = "ACCORD_BUS", value_enum, default_value_t = BusKind::Local)]
    pub bus: BusKind,

    /// Redis used by `--bus redis`.
    #[arg(
        long,
        env = "ACCORD_REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    pub redis_url: String,

    /// Start of every Redis channel name (`<prefix>:`), so clusters and tests sharing a Redis
    /// stay apart.
    #[arg(long, env = "ACCORD_REDIS_PREFIX", default_value = "accord")]
    pub redis_prefix: String,

    /// How long an interaction token takes follow-ups and edits (Discord: 15 minutes).
    #[arg(long, env = "ACCORD_INTERACTION_TOKEN_SECS", default_value_t = 900)]
    pub interaction_token_secs: u64,
}

/// Which event bus a node uses; nodes of one cluster need a shared one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BusKind {
    /// In-process: a single node.
    Local,
    /// Redis pub/sub: several nodes.
    Redis,
}

/// Which `Store` implementation a node runs on: the embedded one for a single node, MongoDB
/// when several nodes must share data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// SQLite in the data directory: nothing else to run.
    Embedded,
    /// A MongoDB database shared by every node of a cluster.
    Mongodb,
}

impl Config {
    /// The public HTTP base URL, without a trailing slash.
    pub fn http_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The REST rate limits this node enforces.
    pub fn rate_limits(&self) -> crate::http::ratelimit::RateLimitConfig {
        crate::http::ratelimit::RateLimitConfig {
            global_per_second: self.rate_limit_global,
            route_limit: self.rate_limit_route,
            route_window: std::time::Duration::from_millis(self.rate_limit_route_window_ms.max(1)),
        }
    }

    /// The gateway URL announced to clients.
    pub fn gateway_url(&self) -> String {
        let http = self.http_url();
        if let Some(rest) = http.strip_prefix("https://") {
            format!("wss://{rest}")
        } else if let Some(rest) = http.strip_prefix("http://") {
            format!("ws://{rest}")
        } else {
            http
        }
    }
}
