//! Discord's REST rate limits: a global limit per caller (bot, user, or IP without a token) and
//! a limit per route bucket and top-level resource (`channels/{id}`, `guilds/{id}`,
//! `webhooks/{id}/{token}`). Every answer carries the `X-RateLimit-*` headers bot libraries
//! read to pace themselves; an exceeded limit answers 429 with the body and headers they expect
//! (discord.py refuses a 429 without `Via`, discord.js and twilight read `Retry-After` and
//! `X-RateLimit-Scope`).
//!
//! Windows are fixed and kept in this node's memory.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
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

/// Who is asking: a hash of the Authorization header, or the peer address without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct CallerKey(u64);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RouteKey {
    caller: CallerKey,
    bucket: u64,
    /// The top-level resource (`channel`, `guild`, `webhook` + token) the limit is keyed by.
    major: String,
}

/// The state of every window on this node.
pub struct RateLimiter {
    config: RateLimitConfig,
    hasher: std::collections::hash_map::RandomState,
    windows: Mutex<Windows>,
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

/// What the `X-RateLimit-*` headers describe.
#[derive(Debug, Clone, Copy)]
struct BucketState {
    bucket: u64,
    limit: u32,
    remaining: u32,
    reset_after: Duration,
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            hasher: std::collections::hash_map::RandomState::new(),
            windows: Mutex::new(Windows {
                global: HashMap::new(),
                routes: HashMap::new(),
                swept_at: Instant::now(),
            }),
        }
    }

    fn caller_key(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> CallerKey {
        let mut hasher = self.hasher.build_hasher();
        match headers.get(axum::http::header::AUTHORIZATION) {
            Some(token) => token.as_bytes().hash(&mut hasher),
            None => peer.map(|p| p.ip()).hash(&mut hasher),
        }
        CallerKey(hasher.finish())
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
                return Verdict::Limited {
                    retry_after,
                    global: true,
                    bucket: None,
                };
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
        match window.admit(now, limit, config.route_window) {
            Ok(remaining) => Verdict::Admitted(Some(BucketState {
                bucket,
                limit,
                remaining,
                reset_after: window.resets_at - now,
            })),
            Err(retry_after) => Verdict::Limited {
                retry_after,
                global: false,
                bucket: Some(BucketState {
                    bucket,
                    limit,
                    remaining: 0,
                    reset_after: retry_after,
                }),
            },
        }
    }
}

/// The route's bucket (method + route template, without ids: routes that differ only in their
/// resource share a bucket id) and the top-level resource the window is keyed by.
fn route_of(method: &Method, template: &str, path: &str) -> (u64, String) {
    let template = strip_version(template);
    let path = strip_version(path);
    // A stable hash, so every node names a bucket the same way.
    let digest = {
        use sha2::{Digest, Sha256};
        let mut sha = Sha256::new();
        sha.update(method.as_str().as_bytes());
        sha.update(b" ");
        sha.update(template.as_bytes());
        sha.finalize()
    };
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    let bucket = u64::from_be_bytes(id);

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
    let caller = limiter.caller_key(request.headers(), peer);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|matched| route_of(request.method(), matched.as_str(), request.uri().path()));
    match limiter.check(caller, route, Instant::now()) {
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
