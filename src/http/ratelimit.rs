//! Discord's REST rate limits: a global limit per caller (bot, user, or IP without a token) and
//! a limit per route bucket and top-level resource (`channels/{id}`, `guilds/{id}`,
//! `webhooks/{id}/{token}`). Every answer carries the `X-RateLimit-*` headers bot libraries
//! read to pace themselves; an exceeded limit answers 429 with the body and headers they expect
//! (discord.py refuses a 429 without `Via`, discord.js and twilight read `Retry-After` and
//! `X-RateLimit-Scope`).
//!
//! Windows are fixed. They live in this node's memory, or in Redis when the node runs with the
//! Redis bus, so that several nodes enforce one limit per caller (a node that cannot reach
//! Redis falls back to its own windows rather than refusing or admitting everything).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::AppState;

/// How often windows nobody uses any more are swept out.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The limits a node enforces; a limit of 0 turns that kind of limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    /// Requests per second per caller across all routes (Discord: 50).
    pub global_per_second: u32,
    /// Requests per route bucket and top-level resource per `route_window`.
    pub route_limit: u32,
    pub route_window: Duration,
}

impl RateLimitConfig {
    /// No limits at all (benchmarks, tests that post in bursts).
    pub const OFF: RateLimitConfig = RateLimitConfig {
        global_per_second: 0,
        route_limit: 0,
        route_window: Duration::from_secs(1),
    };
}

/// A fixed window: how many requests it admitted and when it ends.
#[derive(Debug, Clone, Copy)]
struct Window {
    resets_at: Instant,
    used: u32,
}

impl Window {
    /// Counts one request if the window has room; else says how long until it resets.
    fn admit(&mut self, now: Instant, limit: u32, length: Duration) -> Result<u32, Duration> {
        if now >= self.resets_at {
            *self = Window {
                resets_at: now + length,
                used: 0,
            };
        }
        if self.used >= limit {
            return Err(self.resets_at - now);
        }
        self.used += 1;
        Ok(limit - self.used)
    }
}

/// Who is asking: a hash of the Authorization header, or of the peer address without one. The
/// hash is the same on every node (the Redis windows are keyed by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CallerKey(u64);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RouteKey {
    caller: CallerKey,
    bucket: u64,
    /// The top-level resource (`channel`, `guild`, `webhook` + token) the limit is keyed by.
    major: String,
}

/// The windows: this node's, and the cluster's when Redis holds them.
pub struct RateLimiter {
    config: RateLimitConfig,
    windows: Mutex<Windows>,
    shared: Option<SharedWindows>,
}

/// Windows kept in Redis, one key per window, counted and expired by one script call.
struct SharedWindows {
    redis: redis::aio::ConnectionManager,
    prefix: String,
    script: redis::Script,
    /// While Redis is failing, requests use this node's windows without waiting for it.
    unavailable_until: Mutex<Option<Instant>>,
}

/// How long a request may wait for Redis's answer before this node's windows decide.
const SHARED_CHECK_TIMEOUT: Duration = Duration::from_millis(250);
/// How long after a Redis failure this node's windows decide on their own.
const SHARED_RETRY_AFTER: Duration = Duration::from_secs(1);

/// KEYS: the global window, the route window ("" when none). ARGV: global limit and length
/// (ms), route limit and length. Returns {global admitted, global ms left, route admitted,
/// route remaining, route ms left}; a refused global request does not count on the route.
const WINDOWS_SCRIPT: &str = r"
local function admit(key, limit, ms)
  if key == '' or limit == 0 then return {1, 0, 0} end
  local used = redis.call('INCR', key)
  local left = redis.call('PTTL', key)
  if left < 0 then redis.call('PEXPIRE', key, ms); left = ms end
  if used > limit then return {0, 0, left} end
  return {1, limit - used, left}
end
local g = admit(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if g[1] == 0 then return {0, g[3], 0, 0, 0} end
local r = admit(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
return {1, g[3], r[1], r[2], r[3]}
";

impl SharedWindows {
    fn available(&self) -> bool {
        let until = self
            .unavailable_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        until.is_none_or(|until| Instant::now() >= until)
    }

    fn failed(&self, err: &str) {
        tracing::warn!(
            err,
            "rate limits: Redis unavailable, using this node's windows for a while"
        );
        let mut until = self
            .unavailable_until
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *until = Some(Instant::now() + SHARED_RETRY_AFTER);
    }

    async fn check(
        &self,
        config: RateLimitConfig,
        caller: CallerKey,
        route: Option<(u64, String)>,
    ) -> redis::RedisResult<Verdict> {
        let global_key = if config.global_per_second > 0 {
            format!("{}:rl:g:{:016x}", self.prefix, caller.0)
        } else {
            String::new()
        };
        let route = route.filter(|_| config.route_limit > 0);
        let route_key = match &route {
            Some((bucket, major)) => {
                format!(
                    "{}:rl:r:{:016x}:{bucket:016x}:{major}",
                    self.prefix, caller.0
                )
            }
            None => String::new(),
        };
        let mut redis = self.redis.clone();
        let (global_ok, global_left, route_ok, remaining, route_left): (i64, u64, i64, u32, u64) =
            self.script
                .key(global_key)
                .key(route_key)
                .arg(config.global_per_second)
                .arg(1000)
                .arg(config.route_limit)
                .arg(config.route_window.as_millis() as u64)
                .invoke_async(&mut redis)
                .await?;
        if global_ok == 0 {
            return Ok(Verdict::global(Duration::from_millis(global_left)));
        }
        let Some((bucket, _)) = route else {
            return Ok(Verdict::Admitted(None));
        };
        let state = BucketState {
            bucket,
            limit: config.route_limit,
            remaining,
            reset_after: Duration::from_millis(route_left),
        };
        Ok(Verdict::of_route(state, route_ok != 0))
    }
}

struct Windows {
    global: HashMap<CallerKey, Window>,
    routes: HashMap<RouteKey, Window>,
    swept_at: Instant,
}

/// What a request was told.
enum Verdict {
    Admitted(Option<BucketState>),
    Limited {
        retry_after: Duration,
        global: bool,
        bucket: Option<BucketState>,
    },
}

impl Verdict {
    /// The caller's global window is full.
    fn global(retry_after: Duration) -> Verdict {
        Verdict::Limited {
            retry_after,
            global: true,
            bucket: None,
        }
    }

    /// A route window's answer: admitted, or refused until the window resets.
    fn of_route(state: BucketState, admitted: bool) -> Verdict {
        if admitted {
            Verdict::Admitted(Some(state))
        } else {
            Verdict::Limited {
                retry_after: state.reset_after,
                global: false,
                bucket: Some(state),
            }
        }
    }
}

/// What the `X-RateLimit-*` headers describe.
#[derive(Debug, Clone, Copy)]
struct BucketState {
    bucket: u64,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
}

impl RateLimiter {
    /// Windows in this node's memory (a single node).
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            windows: Mutex::new(Windows {
                global: HashMap::new(),
                routes: HashMap::new(),
                swept_at: Instant::now(),
            }),
            shared: None,
        }
    }

    /// Windows in Redis under `<prefix>:rl:`, shared by every node using that Redis.
    pub async fn with_redis(
        config: RateLimitConfig,
        url: &str,
        prefix: &str,
    ) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let redis = redis::aio::ConnectionManager::new(client).await?;
        Ok(RateLimiter {
            shared: Some(SharedWindows {
                redis,
                prefix: prefix.to_owned(),
                script: redis::Script::new(WINDOWS_SCRIPT),
                unavailable_until: Mutex::new(None),
            }),
            ..RateLimiter::new(config)
        })
    }

    fn caller_key(headers: &HeaderMap, peer: Option<SocketAddr>) -> CallerKey {
        CallerKey(match headers.get(axum::http::header::AUTHORIZATION) {
            Some(token) => stable_hash(&[token.as_bytes()]),
            None => stable_hash(&[peer
                .map(|p| p.ip().to_string())
                .unwrap_or_default()
                .as_bytes()]),
        })
    }

    /// The cluster's windows when there are any (falling back to this node's on a Redis
    /// failure), else this node's.
    async fn check_anywhere(&self, caller: CallerKey, route: Option<(u64, String)>) -> Verdict {
        if let Some(shared) = self.shared.as_ref().filter(|s| s.available()) {
            let check = shared.check(self.config, caller, route.clone());
            match tokio::time::timeout(SHARED_CHECK_TIMEOUT, check).await {
                Ok(Ok(verdict)) => return verdict,
                Ok(Err(err)) => shared.failed(&err.to_string()),
                Err(_) => shared.failed("no answer in time"),
            }
        }
        self.check(caller, route, Instant::now())
    }

    /// Counts the request against the caller's global window, then against its route window.
    /// Every request counts toward the global limit, refused ones included (as at Discord).
    fn check(&self, caller: CallerKey, route: Option<(u64, String)>, now: Instant) -> Verdict {
        let config = self.config;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if now.duration_since(windows.swept_at) >= SWEEP_EVERY {
            windows.global.retain(|_, w| w.resets_at > now);
            windows.routes.retain(|_, w| w.resets_at > now);
            windows.swept_at = now;
        }
        let fresh = Window {
            resets_at: now,
            used: 0,
        };
        if config.global_per_second > 0 {
            let window = windows.global.entry(caller).or_insert(fresh);
            if let Err(retry_after) =
                window.admit(now, config.global_per_second, Duration::from_secs(1))
            {
                return Verdict::global(retry_after);
            }
        }
        let Some((bucket, major)) = route.filter(|_| config.route_limit > 0) else {
            return Verdict::Admitted(None);
        };
        let key = RouteKey {
            caller,
            bucket,
            major,
        };
        let window = windows.routes.entry(key).or_insert(fresh);
        let limit = config.route_limit;
        let admitted = window.admit(now, limit, config.route_window);
        let state = BucketState {
            bucket,
            limit,
            remaining: admitted.unwrap_or(0),
            reset_after: window.resets_at - now,
        };
        Verdict::of_route(state, admitted.is_ok())
    }
}

/// The route's bucket (method + route template, without ids: routes that differ only in their
/// resource share a bucket id) and the top-level resource the window is keyed by.
fn route_of(method: &Method, template: &str, path: &str) -> (u64, String) {
    let template = strip_version(template);
    let path = strip_version(path);
    let bucket = stable_hash(&[method.as_str().as_bytes(), b" ", template.as_bytes()]);

    let mut actual = path.trim_start_matches('/').split('/');
    let mut pattern = template.trim_start_matches('/').split('/');
    let major = match (pattern.next(), actual.next()) {
        (Some(resource @ ("channels" | "guilds" | "webhooks")), Some(_)) => {
            let id = actual.next().unwrap_or_default();
            match (resource, pattern.nth(1), actual.next()) {
                ("webhooks", Some(token), Some(value)) if token.starts_with('{') => {
                    format!("{resource}/{id}/{value}")
                }
                _ => format!("{resource}/{id}"),
            }
        }
        _ => String::new(),
    };
    (bucket, major)
}

/// The first 8 bytes of SHA-256: the same on every node and every run.
fn stable_hash(parts: &[&[u8]]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut sha = Sha256::new();
    for part in parts {
        sha.update(part);
    }
    let digest = sha.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

fn strip_version(path: &str) -> &str {
    path.strip_prefix("/api/v10")
        .or_else(|| path.strip_prefix("/api/v9"))
        .unwrap_or(path)
}

fn seconds(duration: Duration) -> String {
    format!("{:.3}", duration.as_secs_f64())
}

fn header(value: impl AsRef<str>) -> HeaderValue {
    HeaderValue::from_str(value.as_ref()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn bucket_headers(headers: &mut HeaderMap, state: &BucketState) {
    let reset_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + state.reset_after;
    let pairs = [
        ("x-ratelimit-limit", state.limit.to_string()),
        ("x-ratelimit-remaining", state.remaining.to_string()),
        ("x-ratelimit-reset", seconds(reset_at)),
        ("x-ratelimit-reset-after", seconds(state.reset_after)),
        ("x-ratelimit-bucket", format!("{:016x}", state.bucket)),
    ];
    for (name, value) in pairs {
        headers.insert(HeaderName::from_static(name), header(value));
    }
}

/// The 429 answer: Discord's body and the headers every library reads.
fn too_many_requests(retry_after: Duration, global: bool, bucket: Option<BucketState>) -> Response {
    let message = "You are being rate limited.";
    let body = json!({
        "message": message,
        "retry_after": (retry_after.as_secs_f64() * 1000.0).ceil() / 1000.0,
        "global": global,
    });
    let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    let headers = response.headers_mut();
    if let Some(state) = bucket {
        bucket_headers(headers, &state);
    }
    let retry_secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
    headers.insert("retry-after", header(retry_secs.to_string()));
    headers.insert("via", HeaderValue::from_static("1.1 accord"));
    headers.insert(
        "x-ratelimit-scope",
        HeaderValue::from_static(if global { "global" } else { "user" }),
    );
    if global {
        headers.insert("x-ratelimit-global", HeaderValue::from_static("true"));
    }
    response
}

/// The middleware: refuses with 429 or runs the handler and adds the bucket's headers.
pub async fn enforce(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limiter = &state.rate_limiter;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let caller = RateLimiter::caller_key(request.headers(), peer);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| route_of(request.method(), matched.as_str(), request.uri().path()));
    match limiter.check_anywhere(caller, route).await {
        Verdict::Limited {
            retry_after,
            global,
            bucket,
        } => too_many_requests(retry_after, global, bucket),
        Verdict::Admitted(bucket) => {
            let mut response = next.run(request).await;
            if let Some(state) = bucket {
                bucket_headers(response.headers_mut(), &state);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_admits_its_limit_then_refuses_until_it_resets() {
        let start = Instant::now();
        let mut window = Window {
            resets_at: start,
            used: 0,
        };
        let length = Duration::from_secs(2);
        assert_eq!(window.admit(start, 2, length), Ok(1));
        assert_eq!(window.admit(start, 2, length), Ok(0));
        assert_eq!(
            window.admit(start + Duration::from_millis(500), 2, length),
            Err(Duration::from_millis(1500))
        );
        assert_eq!(window.admit(start + length, 2, length), Ok(1));
    }

    #[test]
    fn buckets_ignore_ids_and_major_parameters_key_the_windows() {
        let (a, major_a) = route_of(
            &Method::POST,
            "/api/v10/channels/{id}/messages",
            "/api/v10/channels/1/messages",
        );
        let (b, major_b) = route_of(
            &Method::POST,
            "/api/v9/channels/{id}/messages",
            "/api/v9/channels/2/messages",
        );
        let (c, _) = route_of(
            &Method::GET,
            "/api/v10/channels/{id}/messages",
            "/api/v10/channels/1/messages",
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(major_a, "channels/1");
        assert_eq!(major_b, "channels/2");
        let (_, hook) = route_of(&Method::POST, "/webhooks/{id}/{token}", "/webhooks/5/abc");
        assert_eq!(hook, "webhooks/5/abc");
        let (_, none) = route_of(&Method::GET, "/api/v10/users/@me", "/api/v10/users/@me");
        assert_eq!(none, "");
    }

    #[test]
    fn the_global_limit_is_per_caller_and_refuses_before_the_route() {
        let limiter = RateLimiter::new(RateLimitConfig {
            global_per_second: 3,
            route_limit: 2,
            route_window: Duration::from_secs(5),
        });
        let now = Instant::now();
        let (alice, bob) = (CallerKey(1), CallerKey(2));
        let route = || Some((7, "channels/1".to_owned()));
        assert!(
            matches!(limiter.check(alice, route(), now), Verdict::Admitted(Some(s)) if s.remaining == 1)
        );
        assert!(
            matches!(limiter.check(alice, route(), now), Verdict::Admitted(Some(s)) if s.remaining == 0)
        );
        assert!(matches!(
            limiter.check(alice, route(), now),
            Verdict::Limited { global: false, .. }
        ));
        assert!(matches!(
            limiter.check(alice, None, now),
            Verdict::Limited { global: true, .. }
        ));
        // Another caller, and another channel, have windows of their own.
        assert!(matches!(
            limiter.check(bob, route(), now),
            Verdict::Admitted(Some(_))
        ));
        assert!(matches!(
            limiter.check(bob, Some((7, "channels/2".into())), now),
            Verdict::Admitted(Some(s)) if s.remaining == 1
        ));
    }

    #[test]
    fn zero_limits_turn_limiting_off() {
        let limiter = RateLimiter::new(RateLimitConfig::OFF);
        for _ in 0..1000 {
            assert!(matches!(
                limiter.check(CallerKey(1), Some((1, String::new())), Instant::now()),
                Verdict::Admitted(None)
            ));
        }
    }
}
