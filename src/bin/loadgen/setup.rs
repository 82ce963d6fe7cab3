//! Set-up through the public REST API: users, one guild with 10 text channels, members joined
//! through an invite, and a role denied VIEW_CHANNEL on the target channel for the hidden
//! fraction. Kept in a JSON state file so a large set-up (argon2 on every register) is paid once
//! per server data dir.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt, TryStreamExt};
use hdrhistogram::Histogram;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{Plan, Result};

/// VIEW_CHANNEL: the bit the hidden role is denied on the target channel.
const VIEW_CHANNEL: u64 = 1 << 10;
const PASSWORD: &str = "loadgen password";
const STATE_VERSION: u32 = 2;

/// One account the harness can open a session for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UserEntry {
    pub id: String,
    pub token: String,
    /// in the role denied VIEW_CHANNEL on the target channel
    pub hidden: bool,
}

/// What the load phase needs from the set-up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct World {
    pub guild_id: String,
    pub target_channel: String,
    /// the guild's 10 text channels (the first is the target; M4 posts in the second)
    #[serde(default)]
    pub channels: Vec<String>,
    /// the poster's `Authorization` value (the guild owner: it sees every channel)
    pub poster_token: String,
    pub users: Vec<UserEntry>,
    /// seconds per set-up step, when this run did the set-up (empty when reused)
    #[serde(default)]
    pub setup: Value,
}

/// The state file: the world plus what it must match to be reused.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    version: u32,
    base: String,
    server_data_dir: Option<String>,
    hidden_fraction: f64,
    channel_ids: Vec<String>,
    hidden_role_id: String,
    world: World,
}

impl World {
    /// The naive baseline accepts any token and has no guild: a token starting `hidden-` makes
    /// a session it does not send the channel's messages to (its naive permission check), so
    /// the same `fraction` of sessions is hidden as on accord.
    pub fn baseline(users: usize, fraction: f64) -> World {
        World {
            guild_id: "0".into(),
            target_channel: "1".into(),
            channels: vec!["1".into(), "2".into()],
            poster_token: "baseline-poster".into(),
            users: (0..users)
                .map(|i| {
                    let hidden = is_hidden(i, fraction);
                    UserEntry {
                        id: i.to_string(),
                        token: format!("{}baseline-{i}", if hidden { "hidden-" } else { "" }),
                        hidden,
                    }
                })
                .collect(),
            setup: Value::Null,
        }
    }
}

/// Minimal REST client: JSON in, JSON out, non-2xx is an error carrying the body.
#[derive(Clone)]
pub struct Rest {
    http: reqwest::Client,
    api: String,
}

impl Rest {
    /// A pooled keep-alive client for `base` (`http://host:port`).
    pub fn new(base: &str) -> Result<Rest> {
        Ok(Rest {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(1024)
                .build()?,
            api: format!("{}/api/v10", base.trim_end_matches('/')),
        })
    }

    /// Sends one request; returns the parsed body (Null when empty).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        auth: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.api));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            return Err(format!(
                "{method} {path}: {status}: {}",
                String::from_utf8_lossy(&bytes)
            )
            .into());
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}

fn str_field(v: &Value, key: &str) -> Result<String> {
    v[key]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no string `{key}` in {v}").into())
}

/// Whether user `i` is hidden: spreads exactly `fraction` of any prefix (±1) evenly, so every
/// slice of users taken by a process has about the same share.
fn is_hidden(i: usize, fraction: f64) -> bool {
    ((i + 1) as f64 * fraction).floor() > (i as f64 * fraction).floor()
}

/// Reuses the state file if it matches this server and plan, else runs the set-up (and writes
/// the state file when one is named).
pub async fn prepare(plan: &Plan) -> Result<World> {
    let args = &plan.args;
    let wanted = args.session_offset + plan.sessions;
    let needed = match args.users {
        Some(users) if users < wanted && !args.setup_only => {
            return Err(
                format!("--users {users} < --session-offset + --sessions ({wanted})").into(),
            )
        }
        Some(users) => users,
        None => wanted,
    };
    let rest = Rest::new(&args.base)?;
    let data_dir = args
        .server_data_dir
        .as_ref()
        .map(|p| p.display().to_string());
    if let Some(path) = &args.state {
        if path.exists() {
            match reusable(
                path,
                &rest,
                &args.base,
                &data_dir,
                args.hidden_fraction,
                needed,
            )
            .await
            {
                Ok(mut world) => {
                    world.setup["reused_from_state"] = Value::Bool(true);
                    eprintln!(
                        "set-up: reusing {} ({} users)",
                        path.display(),
                        world.users.len()
                    );
                    return Ok(world);
                }
                Err(why) => eprintln!("set-up: not reusing {}: {why}", path.display()),
            }
        }
    }
    let (world, state_extra) = create(
        &rest,
        needed,
        args.hidden_fraction,
        args.register_concurrency,
        args.setup_concurrency,
    )
    .await?;
    if let Some(path) = &args.state {
        let state = State {
            version: STATE_VERSION,
            base: args.base.clone(),
            server_data_dir: data_dir,
            hidden_fraction: args.hidden_fraction,
            channel_ids: state_extra.0,
            hidden_role_id: state_extra.1,
            world: world.clone(),
        };
        std::fs::write(path, serde_json::to_vec(&state)?)?;
    }
    Ok(world)
}

async fn reusable(
    path: &Path,
    rest: &Rest,
    base: &str,
    data_dir: &Option<String>,
    fraction: f64,
    needed: usize,
) -> Result<World> {
    let state: State = serde_json::from_slice(&std::fs::read(path)?)?;
    if state.version != STATE_VERSION {
        return Err("other state version".into());
    }
    if &state.server_data_dir != data_dir || (data_dir.is_none() && state.base != base) {
        return Err("made for another server (data dir / base URL differ)".into());
    }
    if state.hidden_fraction != fraction {
        return Err("made with another --hidden-fraction".into());
    }
    if state.world.users.len() < needed {
        return Err(format!("has {} users, {needed} needed", state.world.users.len()).into());
    }
    // Tokens are signed with the data dir's secret: one call proves the state still fits.
    rest.call(
        Method::GET,
        &format!("/guilds/{}", state.world.guild_id),
        Some(&state.world.poster_token),
        None,
    )
    .await
    .map_err(|e| format!("the server does not know it: {e}"))?;
    Ok(state.world)
}

/// Runs `f` over `0..n` with `concurrency` in flight, returning results in order and the
/// per-call latency histogram (µs).
async fn concurrently<F, Fut, T>(
    n: usize,
    concurrency: usize,
    f: F,
) -> Result<(Vec<T>, Histogram<u64>, Duration)>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut results: Vec<(usize, T, u64)> = stream::iter(0..n)
        .map(|i| {
            let fut = f(i);
            async move {
                let t = Instant::now();
                let v = fut.await?;
                Ok::<_, crate::Error>((i, v, t.elapsed().as_micros() as u64))
            }
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect()
        .await?;
    let elapsed = started.elapsed();
    let mut hist = crate::hist()?;
    results.sort_by_key(|r| r.0);
    for r in &results {
        hist.saturating_record(r.2);
    }
    Ok((results.into_iter().map(|r| r.1).collect(), hist, elapsed))
}

fn step_json(name: &str, n: usize, hist: &Histogram<u64>, took: Duration) -> Value {
    let secs = took.as_secs_f64();
    eprintln!(
        "set-up: {name}: {n} in {secs:.2} s ({:.0}/s, p50 {:.1} ms, p99 {:.1} ms)",
        n as f64 / secs.max(1e-9),
        hist.value_at_quantile(0.5) as f64 / 1000.0,
        hist.value_at_quantile(0.99) as f64 / 1000.0
    );
    json!({
        "count": n,
        "secs": secs,
        "per_sec": n as f64 / secs.max(1e-9),
        "p50_ms": hist.value_at_quantile(0.5) as f64 / 1000.0,
        "p99_ms": hist.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// Registers a user and returns (id, token).
async fn register(rest: &Rest, username: String) -> Result<(String, String)> {
    let body = rest
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(&json!({"username": username, "password": PASSWORD})),
        )
        .await?;
    Ok((str_field(&body, "user_id")?, str_field(&body, "token")?))
}

type Extra = (Vec<String>, String);

async fn create(
    rest: &Rest,
    users: usize,
    fraction: f64,
    register_concurrency: usize,
    concurrency: usize,
) -> Result<(World, Extra)> {
    let started = Instant::now();
    let tag = {
        use rand::distributions::{Alphanumeric, DistString};
        Alphanumeric.sample_string(&mut rand::thread_rng(), 6)
    };
    let (_, owner_token) = register(rest, format!("lg{tag}owner")).await?;
    let owner = Some(owner_token.as_str());
    let guild = rest
        .call(
            Method::POST,
            "/guilds",
            owner,
            Some(&json!({"name": "loadgen"})),
        )
        .await?;
    let guild_id = str_field(&guild, "id")?;
    let mut channel_ids = Vec::new();
    for i in 0..10 {
        let c = rest
            .call(
                Method::POST,
                &format!("/guilds/{guild_id}/channels"),
                owner,
                Some(&json!({"name": format!("bench-{i}"), "type": 0})),
            )
            .await?;
        channel_ids.push(str_field(&c, "id")?);
    }
    let target = channel_ids[0].clone();
    let role = rest
        .call(
            Method::POST,
            &format!("/guilds/{guild_id}/roles"),
            owner,
            Some(&json!({"name": "hidden", "permissions": "0"})),
        )
        .await?;
    let role_id = str_field(&role, "id")?;
    rest.call(
        Method::PUT,
        &format!("/channels/{target}/permissions/{role_id}"),
        owner,
        Some(&json!({"type": 0, "allow": "0", "deny": VIEW_CHANNEL.to_string()})),
    )
    .await?;
    let invite = rest
        .call(
            Method::POST,
            &format!("/channels/{target}/invites"),
            owner,
            Some(&json!({"max_age": 0, "max_uses": 0})),
        )
        .await?;
    let code = str_field(&invite, "code")?;
    let basics = started.elapsed();

    let (accounts, reg_hist, reg_took) = concurrently(users, register_concurrency, |i| {
        register(rest, format!("lg{tag}u{i}"))
    })
    .await?;
    let (_, join_hist, join_took) = concurrently(users, concurrency, |i| {
        let token = accounts[i].1.clone();
        let path = format!("/invites/{code}");
        async move {
            rest.call(Method::POST, &path, Some(&token), Some(&json!({})))
                .await
        }
    })
    .await?;
    let hidden: Vec<usize> = (0..users).filter(|&i| is_hidden(i, fraction)).collect();
    let (_, role_hist, role_took) = concurrently(hidden.len(), concurrency, |k| {
        let path = format!(
            "/guilds/{guild_id}/members/{}/roles/{role_id}",
            accounts[hidden[k]].0
        );
        async move { rest.call(Method::PUT, &path, owner, None).await }
    })
    .await?;
    let total = started.elapsed();
    eprintln!(
        "set-up: guild, 10 channels, role, overwrite, invite in {:.2} s",
        basics.as_secs_f64()
    );
    let setup = json!({
        "users": users,
        "basics_secs": basics.as_secs_f64(),
        "register": step_json("register (argon2 on the server)", users, &reg_hist, reg_took),
        "join": step_json("join via invite", users, &join_hist, join_took),
        "hide": step_json("add hidden role", hidden.len(), &role_hist, role_took),
        "total_secs": total.as_secs_f64(),
    });
    eprintln!("set-up: total {:.2} s", total.as_secs_f64());
    let world = World {
        guild_id,
        target_channel: target,
        channels: channel_ids.clone(),
        poster_token: owner_token,
        users: accounts
            .into_iter()
            .enumerate()
            .map(|(i, (id, token))| UserEntry {
                id,
                token,
                hidden: is_hidden(i, fraction),
            })
            .collect(),
        setup,
    };
    Ok((world, (channel_ids, role_id)))
}

#[cfg(test)]
mod tests {
    use super::is_hidden;

    #[test]
    fn hidden_share_is_exact_and_spread() {
        let hidden = (0..1000).filter(|&i| is_hidden(i, 0.5)).count();
        assert_eq!(hidden, 500);
        let first_hundred = (0..100).filter(|&i| is_hidden(i, 0.25)).count();
        assert_eq!(first_hundred, 25);
        assert!((0..100).all(|i| !is_hidden(i, 0.0)));
        assert!((0..100).all(|i| is_hidden(i, 1.0)));
    }
}
