//! Shared harness for the integration tests: starts the real `accord` binary on a free port with a
//! fresh data directory, talks to it over real HTTP (reqwest) and WebSocket (tokio-tungstenite),
//! and checks responses against the contract (/work/contract.md) and the field lists real bot
//! libraries need (shared/reference/bot-libraries.md).
//!
//! Every await is bounded: HTTP requests by the client timeout, gateway reads by explicit
//! timeouts, server start-up by `START_TIMEOUT`.
#![allow(dead_code)]
// tungstenite's error type is large; the harness only ever panics on it.
#![allow(clippy::result_large_err)]

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

pub const START_TIMEOUT: Duration = Duration::from_secs(15);
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default wait for an event that should arrive.
pub const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to watch for an event that must NOT arrive.
pub const QUIET: Duration = Duration::from_millis(1500);

// ---------------------------------------------------------------------------------------------
// Permission bits and intents (shared/reference/discord/permissions.md, gateway.md)
// ---------------------------------------------------------------------------------------------
pub mod cluster;

pub mod perm {
    pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
    pub const KICK_MEMBERS: u64 = 1 << 1;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const SEND_TTS_MESSAGES: u64 = 1 << 12;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MANAGE_ROLES: u64 = 1 << 28;
    /// OR of every documented bit.
    pub const ALL: u64 = 8866461766385663;
    /// Default @everyone permissions of a new guild (contract).
    pub const EVERYONE_DEFAULT: u64 = 1071698660929;
}

pub mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
    pub const DEFAULT: u64 = GUILDS | GUILD_MEMBERS | GUILD_MESSAGES | MESSAGE_CONTENT;
}

pub const DISCORD_EPOCH_MS: u64 = 1420070400000;
pub const PASSWORD: &str = "correct horse battery";

// ---------------------------------------------------------------------------------------------
// Server process
// ---------------------------------------------------------------------------------------------

pub struct Server {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    http: reqwest::Client,
    opts: StartOpts,
}

/// How to start the binary (defaults: `--listen` and `--data-dir` flags, nothing else).
#[derive(Clone, Default)]
pub struct StartOpts {
    /// extra command-line arguments (e.g. `--node-id 7`)
    pub args: Vec<String>,
    /// extra environment variables
    pub env: Vec<(String, String)>,
    /// pass listen address and data dir as ACCORD_LISTEN / ACCORD_DATA_DIR instead of flags
    pub config_by_env: bool,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("reqwest client")
}

impl Server {
    /// Starts the binary on a free port with a fresh data directory and waits until it answers.
    pub async fn start() -> Server {
        Server::start_with(StartOpts::default()).await
    }

    pub async fn start_with(opts: StartOpts) -> Server {
        let dir = tempfile::Builder::new()
            .prefix("accord-test-")
            .tempdir()
            .expect("tempdir");
        let mut srv = Server {
            child: None,
            port: 0,
            dir,
            http: http_client(),
            opts,
        };
        // The port is released before the server binds it; retry with a new one if it was taken.
        let mut last_err = String::new();
        for _ in 0..3 {
            srv.port = free_port();
            match srv.spawn_and_wait().await {
                Ok(()) => return srv,
                Err(e) => last_err = e,
            }
        }
        panic!(
            "server did not start: {last_err}\n--- server log ---\n{}",
            srv.log_tail(80)
        );
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// Last `n` lines of the server's stderr/stdout (all runs on this data dir).
    pub fn log_tail(&self, n: usize) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(self.log_path()) {
            let len = f.metadata().map(|m| m.len()).unwrap_or(0);
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
            let _ = f.read_to_string(&mut s);
        }
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    async fn spawn_and_wait(&mut self) -> Result<(), String> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_accord"));
        cmd.env_remove("ACCORD_LISTEN")
            .env_remove("ACCORD_PUBLIC_URL")
            .env_remove("ACCORD_DATA_DIR")
            .env_remove("ACCORD_NODE_ID");
        // Tests post in bursts from one address; tests/rate_limits.rs turns limits on by flag.
        cmd.env("ACCORD_RATE_LIMIT_GLOBAL", "0")
            .env("ACCORD_RATE_LIMIT_ROUTE", "0");
        let listen = format!("127.0.0.1:{}", self.port);
        if self.opts.config_by_env {
            cmd.env("ACCORD_LISTEN", &listen)
                .env("ACCORD_DATA_DIR", self.data_dir());
        } else {
            cmd.arg("--listen")
                .arg(&listen)
                .arg("--data-dir")
                .arg(self.data_dir());
        }
        cmd.args(&self.opts.args);
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2));
        let child = cmd.spawn().map_err(|e| format!("spawn accord: {e}"))?;
        self.child = Some(child);

        let deadline = Instant::now() + START_TIMEOUT;
        let url = format!("{}/api/v10/gateway", self.base());
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .unwrap()
                .try_wait()
                .map_err(|e| e.to_string())?
            {
                self.child = None;
                return Err(format!("server exited during start-up: {status}"));
            }
            let probe = self
                .http
                .get(&url)
                .timeout(Duration::from_millis(500))
                .send()
                .await;
            if let Ok(r) = probe {
                if r.status().as_u16() == 200 {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                self.kill_hard();
                return Err(format!("no 200 from {url} within {START_TIMEOUT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL (std's `Child::kill` sends SIGKILL on Unix) and reap.
    pub fn kill_hard(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; waits (bounded) for the process to exit and returns whether it exited in time.
    pub async fn terminate(&mut self, within: Duration) -> bool {
        let Some(mut c) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(_)) = c.try_wait() {
                return true;
            }
            if Instant::now() > deadline {
                let _ = c.kill();
                let _ = c.wait();
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts the binary again on the same data directory (same port; a new one if that fails).
    pub async fn restart(&mut self) {
        self.kill_hard();
        if self.spawn_and_wait().await.is_ok() {
            return;
        }
        for _ in 0..3 {
            self.port = free_port();
            if self.spawn_and_wait().await.is_ok() {
                return;
            }
        }
        panic!(
            "server did not restart\n--- server log ---\n{}",
            self.log_tail(80)
        );
    }

    /// Unauthenticated API client.
    pub fn api(&self) -> Api {
        Api {
            http: self.http.clone(),
            base: self.base(),
            version: "v10",
            auth: None,
        }
    }

    /// API client sending `Authorization: <auth>` verbatim.
    pub fn api_as(&self, auth: &str) -> Api {
        self.api().with_auth(auth)
    }

    // ----- fixtures -----

    /// Registers a user (201) and returns it with a ready API client.
    pub async fn user(&self, username: &str) -> User {
        let email = format!("{username}@example.test");
        let r = self
            .api()
            .register(&json!({"username": username, "password": PASSWORD, "email": email}))
            .await;
        let b = r.ok(201);
        let token = str_field(&b, "token").to_string();
        let id = str_field(&b, "user_id").to_string();
        assert_snowflake(&b["user_id"], "register.user_id");
        User {
            id,
            username: username.to_string(),
            api: self.api_as(&token),
            token,
        }
    }

    /// Rebuilds a user's client (e.g. after a restart on a new port).
    pub fn reauth(&self, u: &User) -> User {
        User {
            api: self.api_as(&u.token),
            ..u.clone()
        }
    }

    /// Creates a guild owned by `owner` (201) and finds its `general` channel.
    pub async fn guild(&self, owner: &User, name: &str) -> Guild {
        let g = owner.api.create_guild(&json!({"name": name})).await.ok(201);
        let id = str_field(&g, "id").to_string();
        let chans = owner.api.channels(&id).await.ok(200);
        let general = chans
            .as_array()
            .expect("channels array")
            .iter()
            .find(|c| c["name"] == "general" && c["type"] == 0)
            .unwrap_or_else(|| panic!("no general text channel in {chans}"));
        Guild {
            id,
            general: str_field(general, "id").to_string(),
            body: g,
        }
    }

    /// `inviter` creates an invite to `guild.general`, `joiner` accepts it (200).
    pub async fn join(&self, inviter: &User, guild: &Guild, joiner: &User) {
        let inv = inviter
            .api
            .create_invite(&guild.general, &json!({}))
            .await
            .ok(200);
        let code = str_field(&inv, "code").to_string();
        joiner.api.join(&code).await.ok(200);
    }

    /// owner + guild + one plain member.
    pub async fn world(&self) -> (User, Guild, User) {
        let owner = self.user("owner").await;
        let g = self.guild(&owner, "World").await;
        let member = self.user("member").await;
        self.join(&owner, &g, &member).await;
        (owner, g, member)
    }

    /// Creates an application (201) and its bot token (200) as `owner`.
    pub async fn bot(&self, owner: &User, name: &str) -> Bot {
        let app = owner.api.create_app(&json!({"name": name})).await.ok(201);
        let id = str_field(&app, "id").to_string();
        let t = owner.api.reset_bot(&id).await.ok(200);
        let token = str_field(&t, "token").to_string();
        Bot {
            id,
            token: token.clone(),
            api: self.api_as(&format!("Bot {token}")),
            app,
        }
    }

    /// `by` authorizes `bot` into `guild` with `permissions` (200).
    pub async fn authorize(&self, by: &User, bot: &Bot, guild: &Guild, permissions: u64) -> Value {
        by.api
            .authorize(&bot.id, permissions, &guild.id)
            .await
            .ok(200)
    }

    /// Creates a role as `by` and returns its body (200).
    pub async fn role(&self, by: &User, guild: &Guild, name: &str, permissions: u64) -> Value {
        by.api
            .create_role(
                &guild.id,
                &json!({"name": name, "permissions": permissions.to_string()}),
            )
            .await
            .ok(200)
    }

    /// Opens a gateway connection and identifies with `token` (READY + GUILD_CREATEs collected).
    pub async fn gw(&self, token: &str, intents: u64) -> Gw {
        let mut gw = Gw::open(&format!("{}/?v=10&encoding=json", self.ws_url())).await;
        gw.identify(token, intents).await;
        gw
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "--- accord log (port {}) ---\n{}\n--- end ---",
                self.port,
                self.log_tail(60)
            );
        }
        self.kill_hard();
    }
}

#[derive(Clone)]
pub struct User {
    pub id: String,
    pub username: String,
    pub token: String,
    pub api: Api,
}

pub struct Guild {
    pub id: String,
    /// id of the `general` text channel
    pub general: String,
    /// POST /guilds response body
    pub body: Value,
}

pub struct Bot {
    /// application id == bot user id
    pub id: String,
    /// raw token (without "Bot ")
    pub token: String,
    pub api: Api,
    pub app: Value,
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    version: &'static str,
    auth: Option<String>,
}

/// A response: status, parsed JSON (Null when empty / not JSON), exact Content-Type.
#[derive(Debug)]
pub struct Resp {
    pub what: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    fn fail(&self, msg: &str) -> ! {
        panic!(
            "{}: {msg}\n  got status {} content-type {:?}\n  body: {}",
            self.what, self.status, self.content_type, self.text
        )
    }

    pub fn assert_json_content_type(&self) {
        if self.content_type.as_deref() != Some("application/json") {
            self.fail("Content-Type must be exactly `application/json`");
        }
        if self.body.is_null() {
            self.fail("body is not JSON");
        }
    }

    /// Asserts `status` (and exact JSON Content-Type unless 204) and returns the body.
    pub fn ok(self, status: u16) -> Value {
        if self.status != status {
            self.fail(&format!("expected status {status}"));
        }
        if status == 204 {
            if !self.text.is_empty() {
                self.fail("204 must have an empty body");
            }
        } else {
            self.assert_json_content_type();
        }
        self.body
    }

    /// Asserts a Discord error body `{code, message}` with this status and code.
    pub fn err(&self, status: u16, code: i64) -> &Value {
        if self.status != status {
            self.fail(&format!("expected status {status} code {code}"));
        }
        self.assert_json_content_type();
        if self.body["code"].as_i64() != Some(code) {
            self.fail(&format!("expected error code {code}"));
        }
        if !self.body["message"].is_string() {
            self.fail("error body lacks a string `message`");
        }
        &self.body
    }

    /// Like `err` but accepts any of `codes` (where the contract leaves the choice open).
    pub fn err_any(&self, status: u16, codes: &[i64]) -> &Value {
        if self.status != status {
            self.fail(&format!(
                "expected status {status} with a code in {codes:?}"
            ));
        }
        self.assert_json_content_type();
        match self.body["code"].as_i64() {
            Some(c) if codes.contains(&c) => {}
            _ => self.fail(&format!("expected error code in {codes:?}")),
        }
        &self.body
    }

    /// 401 exactly `{"code":0,"message":"401: Unauthorized"}`.
    pub fn unauthorized(&self) {
        self.err(401, 0);
        if self.body["message"] != "401: Unauthorized" {
            self.fail("expected message `401: Unauthorized`");
        }
    }

    /// 400 50035 "Invalid Form Body"; returns `errors.<path>._errors[0].code` (path dotted).
    pub fn form_error(&self, path: &str) -> String {
        self.err(400, 50035);
        if self.body["message"] != "Invalid Form Body" {
            self.fail("50035 message must be `Invalid Form Body`");
        }
        let mut node = &self.body["errors"];
        if !node.is_object() {
            self.fail("50035 without an `errors` object");
        }
        for seg in path.split('.').filter(|s| !s.is_empty()) {
            node = &node[seg];
            if node.is_null() {
                self.fail(&format!("no errors.{path} in the error tree"));
            }
        }
        let leaf = &node["_errors"][0];
        match (leaf["code"].as_str(), leaf["message"].as_str()) {
            (Some(c), Some(_)) => c.to_string(),
            _ => self.fail(&format!(
                "errors.{path}._errors[0] must be {{code: str, message: str}}"
            )),
        }
    }

    /// `form_error(path)` must equal `code`.
    pub fn form_error_code(&self, path: &str, code: &str) {
        let got = self.form_error(path);
        if got != code {
            self.fail(&format!(
                "errors.{path}._errors[0].code: expected {code}, got {got}"
            ));
        }
    }
}

impl Api {
    pub fn with_auth(&self, auth: &str) -> Api {
        Api {
            auth: Some(auth.to_string()),
            ..self.clone()
        }
    }
    pub fn without_auth(&self) -> Api {
        Api {
            auth: None,
            ..self.clone()
        }
    }
    /// Same client on `/api/v9`.
    pub fn v9(&self) -> Api {
        Api {
            version: "v9",
            ..self.clone()
        }
    }

    /// `path` is relative to `/api/<version>`.
    pub async fn req(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
        self.raw(method, path, bytes, "application/json").await
    }

    pub async fn raw(&self, method: &str, path: &str, body: Option<Vec<u8>>, ctype: &str) -> Resp {
        let url = format!("{}/api/{}{}", self.base, self.version, path);
        self.send_url(method, &url, body, ctype).await
    }

    /// Request to an absolute path on the server (no `/api/vN` prefix added).
    pub async fn raw_abs(&self, method: &str, abs_path: &str) -> Resp {
        let url = format!("{}{}", self.base, abs_path);
        self.send_url(method, &url, None, "application/json").await
    }

    async fn send_url(&self, method: &str, url: &str, body: Option<Vec<u8>>, ctype: &str) -> Resp {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, url);
        if let Some(a) = &self.auth {
            rb = rb.header("Authorization", a);
        }
        if let Some(b) = body {
            rb = rb.header("Content-Type", ctype).body(b);
        }
        let what = format!("{method} {url}");
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("<non-ascii>").to_string());
        let headers = r.headers().clone();
        let text = r
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            what,
            status,
            content_type,
            text,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.req("POST", path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.req("PATCH", path, Some(body)).await
    }
    pub async fn put(&self, path: &str) -> Resp {
        self.req("PUT", path, None).await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.req("DELETE", path, None).await
    }

    // ----- identity -----
    pub async fn register(&self, body: &Value) -> Resp {
        self.post("/auth/register", body).await
    }
    pub async fn login(&self, body: &Value) -> Resp {
        self.post("/auth/login", body).await
    }
    pub async fn me(&self) -> Resp {
        self.get("/users/@me").await
    }
    pub async fn patch_me(&self, body: &Value) -> Resp {
        self.patch("/users/@me", body).await
    }
    pub async fn user(&self, id: &str) -> Resp {
        self.get(&format!("/users/{id}")).await
    }
    pub async fn my_guilds(&self) -> Resp {
        self.get("/users/@me/guilds").await
    }

    // ----- applications -----
    pub async fn create_app(&self, body: &Value) -> Resp {
        self.post("/applications", body).await
    }
    pub async fn reset_bot(&self, app_id: &str) -> Resp {
        self.post(&format!("/applications/{app_id}/bot/reset"), &json!({}))
            .await
    }
    pub async fn oauth_app_me(&self) -> Resp {
        self.get("/oauth2/applications/@me").await
    }
    pub async fn app_me(&self) -> Resp {
        self.get("/applications/@me").await
    }
    pub async fn authorize(&self, client_id: &str, permissions: u64, guild_id: &str) -> Resp {
        self.post(
            &format!("/oauth2/authorize?client_id={client_id}&scope=bot&permissions={permissions}"),
            &json!({"guild_id": guild_id, "permissions": permissions.to_string(), "authorize": true}),
        )
        .await
    }

    // ----- guilds / channels -----
    pub async fn create_guild(&self, body: &Value) -> Resp {
        self.post("/guilds", body).await
    }
    pub async fn guild(&self, id: &str) -> Resp {
        self.get(&format!("/guilds/{id}")).await
    }
    pub async fn channels(&self, guild_id: &str) -> Resp {
        self.get(&format!("/guilds/{guild_id}/channels")).await
    }
    pub async fn create_channel(&self, guild_id: &str, body: &Value) -> Resp {
        self.post(&format!("/guilds/{guild_id}/channels"), body)
            .await
    }
    pub async fn channel(&self, id: &str) -> Resp {
        self.get(&format!("/channels/{id}")).await
    }

    // ----- roles / members -----
    pub async fn roles(&self, guild_id: &str) -> Resp {
        self.get(&format!("/guilds/{guild_id}/roles")).await
    }
    pub async fn create_role(&self, guild_id: &str, body: &Value) -> Resp {
        self.post(&format!("/guilds/{guild_id}/roles"), body).await
    }
    /// `query` without the leading `?` ("" for none).
    pub async fn members(&self, guild_id: &str, query: &str) -> Resp {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        self.get(&format!("/guilds/{guild_id}/members{q}")).await
    }
    pub async fn member(&self, guild_id: &str, user_id: &str) -> Resp {
        self.get(&format!("/guilds/{guild_id}/members/{user_id}"))
            .await
    }
    pub async fn add_role(&self, guild_id: &str, user_id: &str, role_id: &str) -> Resp {
        self.put(&format!(
            "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
        ))
        .await
    }
    pub async fn remove_role(&self, guild_id: &str, user_id: &str, role_id: &str) -> Resp {
        self.delete(&format!(
            "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"
        ))
        .await
    }

    // ----- invites -----
    pub async fn create_invite(&self, channel_id: &str, body: &Value) -> Resp {
        self.post(&format!("/channels/{channel_id}/invites"), body)
            .await
    }
    pub async fn invite(&self, code: &str) -> Resp {
        self.get(&format!("/invites/{code}")).await
    }
    pub async fn join(&self, code: &str) -> Resp {
        self.post(&format!("/invites/{code}"), &json!({})).await
    }

    // ----- messages -----
    pub async fn send(&self, channel_id: &str, body: &Value) -> Resp {
        self.post(&format!("/channels/{channel_id}/messages"), body)
            .await
    }
    /// Sends `{"content": content}` and returns the message (asserting 200).
    pub async fn say(&self, channel_id: &str, content: &str) -> Value {
        self.send(channel_id, &json!({"content": content}))
            .await
            .ok(200)
    }
    /// `query` without the leading `?` ("" for none).
    pub async fn messages(&self, channel_id: &str, query: &str) -> Resp {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        self.get(&format!("/channels/{channel_id}/messages{q}"))
            .await
    }
    pub async fn message(&self, channel_id: &str, message_id: &str) -> Resp {
        self.get(&format!("/channels/{channel_id}/messages/{message_id}"))
            .await
    }

    // ----- gateway discovery -----
    pub async fn gateway(&self) -> Resp {
        self.get("/gateway").await
    }
    pub async fn gateway_bot(&self) -> Resp {
        self.get("/gateway/bot").await
    }
}

// ---------------------------------------------------------------------------------------------
// Shape checks
// ---------------------------------------------------------------------------------------------

pub fn str_field<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("`{k}` must be a string in {v}"))
}

/// Every key must be present (null allowed).
pub fn assert_keys(v: &Value, keys: &[&str], ctx: &str) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{ctx}: expected an object, got {v}"));
    let missing: Vec<&&str> = keys.iter().filter(|k| !obj.contains_key(**k)).collect();
    assert!(missing.is_empty(), "{ctx}: missing keys {missing:?} in {v}");
}

/// A snowflake: a decimal string whose timestamp part is within a day of now (epoch 2015).
pub fn assert_snowflake(v: &Value, ctx: &str) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: snowflake must be a string, got {v}"));
    let n: u64 = s
        .parse()
        .unwrap_or_else(|_| panic!("{ctx}: snowflake {s:?} is not a decimal u64"));
    let ts = (n >> 22) + DISCORD_EPOCH_MS;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        ts + 86_400_000 > now && ts < now + 60_000,
        "{ctx}: snowflake {s} has timestamp {ts} ms, not near now ({now}); epoch must be {DISCORD_EPOCH_MS}"
    );
    n
}

pub fn assert_snowflake_opt(v: &Value, ctx: &str) {
    if !v.is_null() {
        assert_snowflake(v, ctx);
    }
}

/// Decimal permission string.
pub fn perm_str(v: &Value, ctx: &str) -> u64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: permissions must be a string, got {v}"));
    s.parse()
        .unwrap_or_else(|_| panic!("{ctx}: permissions {s:?} is not a decimal integer"))
}

pub fn assert_timestamp(v: &Value, ctx: &str) {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: timestamp must be a string, got {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{ctx}: {s:?} is not ISO8601/RFC3339: {e}"));
}

fn assert_bool(v: &Value, k: &str, ctx: &str) {
    assert!(v[k].is_boolean(), "{ctx}: `{k}` must be a bool in {v}");
}
fn assert_int(v: &Value, k: &str, ctx: &str) {
    assert!(
        v[k].is_i64() || v[k].is_u64(),
        "{ctx}: `{k}` must be an integer in {v}"
    );
}
fn assert_array(v: &Value, k: &str, ctx: &str) -> Vec<Value> {
    v[k].as_array()
        .unwrap_or_else(|| panic!("{ctx}: `{k}` must be an array in {v}"))
        .clone()
}

/// Partial user (message author, member.user, READY user).
pub fn check_user(u: &Value, ctx: &str) {
    assert_keys(
        u,
        &["id", "username", "discriminator", "global_name", "avatar"],
        ctx,
    );
    assert_snowflake(&u["id"], &format!("{ctx}.id"));
    assert!(u["username"].is_string(), "{ctx}.username must be a string");
    assert_eq!(u["discriminator"], "0", "{ctx}.discriminator must be \"0\"");
    if let Some(b) = u.get("bot") {
        assert!(b.is_boolean(), "{ctx}.bot must be a bool");
    }
}

/// GET /users/@me (private user).
pub fn check_me(u: &Value, ctx: &str) {
    check_user(u, ctx);
    assert_keys(
        u,
        &[
            "bot",
            "system",
            "mfa_enabled",
            "locale",
            "verified",
            "email",
            "flags",
            "premium_type",
            "public_flags",
        ],
        ctx,
    );
    assert_bool(u, "bot", ctx);
    assert_bool(u, "mfa_enabled", ctx);
    assert_int(u, "flags", ctx);
    assert_int(u, "public_flags", ctx);
}

pub fn check_role(r: &Value, ctx: &str) {
    assert_keys(
        r,
        &[
            "id",
            "name",
            "color",
            "colors",
            "hoist",
            "icon",
            "unicode_emoji",
            "position",
            "permissions",
            "managed",
            "mentionable",
            "flags",
        ],
        ctx,
    );
    assert_snowflake(&r["id"], &format!("{ctx}.id"));
    assert!(r["name"].is_string(), "{ctx}.name");
    assert_int(r, "color", ctx);
    assert_keys(
        &r["colors"],
        &["primary_color", "secondary_color", "tertiary_color"],
        &format!("{ctx}.colors"),
    );
    assert!(
        r["colors"]["primary_color"].is_i64(),
        "{ctx}.colors.primary_color must be an int"
    );
    assert_bool(r, "hoist", ctx);
    assert_int(r, "position", ctx);
    perm_str(&r["permissions"], &format!("{ctx}.permissions"));
    assert_bool(r, "managed", ctx);
    assert_bool(r, "mentionable", ctx);
    assert_int(r, "flags", ctx);
}

pub fn check_member(m: &Value, ctx: &str) {
    assert_keys(
        m,
        &[
            "user",
            "nick",
            "avatar",
            "roles",
            "joined_at",
            "premium_since",
            "deaf",
            "mute",
            "flags",
            "pending",
            "communication_disabled_until",
        ],
        ctx,
    );
    check_user(&m["user"], &format!("{ctx}.user"));
    for (i, r) in assert_array(m, "roles", ctx).iter().enumerate() {
        assert_snowflake(r, &format!("{ctx}.roles[{i}]"));
    }
    assert_timestamp(&m["joined_at"], &format!("{ctx}.joined_at"));
    assert_bool(m, "deaf", ctx);
    assert_bool(m, "mute", ctx);
    assert_int(m, "flags", ctx);
}

/// Channel as in REST responses (contract field list, `guild_id` required).
pub fn check_channel(c: &Value, ctx: &str) {
    check_channel_gw(c, ctx);
    assert_keys(
        c,
        &[
            "guild_id",
            "parent_id",
            "topic",
            "nsfw",
            "last_message_id",
            "rate_limit_per_user",
            "flags",
        ],
        ctx,
    );
    assert_snowflake(&c["guild_id"], &format!("{ctx}.guild_id"));
    assert_snowflake_opt(&c["parent_id"], &format!("{ctx}.parent_id"));
    assert_bool(c, "nsfw", ctx);
}

/// Channel inside GUILD_CREATE (libraries need id, type, name, position, overwrites).
pub fn check_channel_gw(c: &Value, ctx: &str) {
    assert_keys(
        c,
        &["id", "type", "name", "position", "permission_overwrites"],
        ctx,
    );
    assert_snowflake(&c["id"], &format!("{ctx}.id"));
    assert_int(c, "type", ctx);
    assert!(c["name"].is_string(), "{ctx}.name");
    assert_int(c, "position", ctx);
    for (i, o) in assert_array(c, "permission_overwrites", ctx)
        .iter()
        .enumerate()
    {
        let octx = format!("{ctx}.permission_overwrites[{i}]");
        assert_keys(o, &["id", "type", "allow", "deny"], &octx);
        assert_snowflake(&o["id"], &format!("{octx}.id"));
        assert_int(o, "type", &octx);
        perm_str(&o["allow"], &format!("{octx}.allow"));
        perm_str(&o["deny"], &format!("{octx}.deny"));
    }
}

pub const GUILD_KEYS: &[&str] = &[
    "id",
    "name",
    "icon",
    "owner_id",
    "afk_timeout",
    "verification_level",
    "default_message_notifications",
    "explicit_content_filter",
    "roles",
    "emojis",
    "features",
    "mfa_level",
    "system_channel_flags",
    "premium_tier",
    "preferred_locale",
    "nsfw_level",
    "stickers",
    "premium_progress_bar_enabled",
];

pub fn check_guild(g: &Value, ctx: &str) {
    assert_keys(g, GUILD_KEYS, ctx);
    let id = g["id"].clone();
    assert_snowflake(&id, &format!("{ctx}.id"));
    assert_snowflake(&g["owner_id"], &format!("{ctx}.owner_id"));
    let roles = assert_array(g, "roles", ctx);
    for (i, r) in roles.iter().enumerate() {
        check_role(r, &format!("{ctx}.roles[{i}]"));
    }
    assert!(
        roles.iter().any(|r| r["id"] == id),
        "{ctx}: no @everyone role with id == guild id in {g}"
    );
    assert_array(g, "emojis", ctx);
    assert_array(g, "features", ctx);
    assert_array(g, "stickers", ctx);
    for k in [
        "afk_timeout",
        "verification_level",
        "default_message_notifications",
        "explicit_content_filter",
        "mfa_level",
        "system_channel_flags",
        "premium_tier",
        "nsfw_level",
    ] {
        assert_int(g, k, ctx);
    }
    assert_bool(g, "premium_progress_bar_enabled", ctx);
}

/// GUILD_CREATE `d`.
pub fn check_guild_create(g: &Value, ctx: &str) {
    check_guild(g, ctx);
    assert_keys(
        g,
        &[
            "joined_at",
            "large",
            "member_count",
            "voice_states",
            "members",
            "channels",
            "threads",
            "presences",
            "stage_instances",
            "guild_scheduled_events",
        ],
        ctx,
    );
    assert_timestamp(&g["joined_at"], &format!("{ctx}.joined_at"));
    assert_bool(g, "large", ctx);
    assert_int(g, "member_count", ctx);
    for k in [
        "voice_states",
        "threads",
        "presences",
        "stage_instances",
        "guild_scheduled_events",
    ] {
        assert_array(g, k, ctx);
    }
    for (i, m) in assert_array(g, "members", ctx).iter().enumerate() {
        check_member(m, &format!("{ctx}.members[{i}]"));
    }
    for (i, c) in assert_array(g, "channels", ctx).iter().enumerate() {
        check_channel_gw(c, &format!("{ctx}.channels[{i}]"));
    }
}

pub fn check_message(m: &Value, ctx: &str) {
    assert_keys(
        m,
        &[
            "id",
            "type",
            "channel_id",
            "guild_id",
            "author",
            "member",
            "content",
            "timestamp",
            "edited_timestamp",
            "tts",
            "mention_everyone",
            "mentions",
            "mention_roles",
            "attachments",
            "embeds",
            "pinned",
            "flags",
            "components",
        ],
        ctx,
    );
    assert_snowflake(&m["id"], &format!("{ctx}.id"));
    assert_int(m, "type", ctx);
    assert_snowflake(&m["channel_id"], &format!("{ctx}.channel_id"));
    assert_snowflake(&m["guild_id"], &format!("{ctx}.guild_id"));
    check_user(&m["author"], &format!("{ctx}.author"));
    let mem = &m["member"];
    assert_keys(
        mem,
        &["roles", "joined_at", "deaf", "mute", "flags", "nick"],
        &format!("{ctx}.member"),
    );
    assert!(mem["roles"].is_array(), "{ctx}.member.roles");
    assert_timestamp(&mem["joined_at"], &format!("{ctx}.member.joined_at"));
    assert!(m["content"].is_string(), "{ctx}.content");
    assert_timestamp(&m["timestamp"], &format!("{ctx}.timestamp"));
    assert!(
        m["edited_timestamp"].is_null(),
        "{ctx}.edited_timestamp must be null for a new message"
    );
    assert_bool(m, "tts", ctx);
    assert_bool(m, "mention_everyone", ctx);
    for k in [
        "mentions",
        "mention_roles",
        "attachments",
        "embeds",
        "components",
    ] {
        assert_array(m, k, ctx);
    }
    assert_bool(m, "pinned", ctx);
    assert_int(m, "flags", ctx);
}

pub fn check_application(a: &Value, ctx: &str) {
    assert_keys(
        a,
        &[
            "id",
            "name",
            "icon",
            "description",
            "bot_public",
            "bot_require_code_grant",
            "owner",
            "verify_key",
            "flags",
            "team",
            "bot",
        ],
        ctx,
    );
    assert_snowflake(&a["id"], &format!("{ctx}.id"));
    assert!(a["name"].is_string(), "{ctx}.name");
    assert!(
        a["description"].is_string(),
        "{ctx}.description must be a string"
    );
    assert_bool(a, "bot_public", ctx);
    assert_bool(a, "bot_require_code_grant", ctx);
    assert_keys(
        &a["owner"],
        &["id", "username", "discriminator", "avatar"],
        &format!("{ctx}.owner"),
    );
    assert_snowflake(&a["owner"]["id"], &format!("{ctx}.owner.id"));
    assert!(
        a["verify_key"].is_string(),
        "{ctx}.verify_key must be a string"
    );
    assert_int(a, "flags", ctx);
    assert!(a["team"].is_null(), "{ctx}.team must be null");
    check_user(&a["bot"], &format!("{ctx}.bot"));
    assert_eq!(a["bot"]["bot"], true, "{ctx}.bot.bot must be true");
    assert_eq!(
        a["bot"]["id"], a["id"],
        "{ctx}: application id must equal its bot user id"
    );
}

pub fn check_invite(i: &Value, ctx: &str) {
    assert_keys(
        i,
        &[
            "code",
            "type",
            "guild",
            "channel",
            "inviter",
            "uses",
            "max_uses",
            "max_age",
            "temporary",
            "created_at",
            "expires_at",
        ],
        ctx,
    );
    assert!(
        i["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{ctx}.code"
    );
    assert_eq!(i["type"], 0, "{ctx}.type");
    assert_keys(
        &i["guild"],
        &["id", "name", "icon"],
        &format!("{ctx}.guild"),
    );
    assert_snowflake(&i["guild"]["id"], &format!("{ctx}.guild.id"));
    assert_keys(
        &i["channel"],
        &["id", "name", "type"],
        &format!("{ctx}.channel"),
    );
    assert_snowflake(&i["channel"]["id"], &format!("{ctx}.channel.id"));
    check_user(&i["inviter"], &format!("{ctx}.inviter"));
    for k in ["uses", "max_uses", "max_age"] {
        assert_int(i, k, ctx);
    }
    assert_bool(i, "temporary", ctx);
    assert_timestamp(&i["created_at"], &format!("{ctx}.created_at"));
    if !i["expires_at"].is_null() {
        assert_timestamp(&i["expires_at"], &format!("{ctx}.expires_at"));
    }
}

/// Ids of an array of objects.
pub fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|x| {
            x["id"]
                .as_str()
                .unwrap_or_else(|| panic!("id must be a string in {x}"))
                .to_string()
        })
        .collect()
}

/// A snowflake-shaped id that exists nowhere (current timestamp, odd worker/increment bits).
pub fn bogus_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    (((now - DISCORD_EPOCH_MS - 1000) << 22) | 0x3ffff7).to_string()
}

// ---------------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------------

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Close(Option<u16>),
    /// the connection ended without a close frame (or with a transport error)
    Ended(String),
}

pub struct Gw {
    ws: Ws,
    pub hello: Value,
    /// READY frame (whole payload, `d` inside)
    pub ready: Value,
    /// GUILD_CREATE `d`s received right after READY, in order
    pub guilds: Vec<Value>,
    backlog: VecDeque<Value>,
    last_seq: i64,
    closed: bool,
}

impl Gw {
    /// Connects and reads HELLO (asserted).
    pub async fn open(url: &str) -> Gw {
        let (ws, _) = tokio::time::timeout(EVENT_TIMEOUT, tokio_tungstenite::connect_async(url))
            .await
            .unwrap_or_else(|_| panic!("ws connect {url}: timeout"))
            .unwrap_or_else(|e| panic!("ws connect {url}: {e}"));
        let mut gw = Gw {
            ws,
            hello: Value::Null,
            ready: Value::Null,
            guilds: vec![],
            backlog: VecDeque::new(),
            last_seq: 0,
            closed: false,
        };
        match gw.next_frame(EVENT_TIMEOUT).await {
            Some(Frame::Json(v)) => {
                assert_eq!(v["op"], 10, "first frame must be HELLO: {v}");
                assert!(
                    v["d"]["heartbeat_interval"].is_u64(),
                    "HELLO heartbeat_interval: {v}"
                );
                gw.hello = v;
            }
            other => panic!("expected HELLO, got {other:?}"),
        }
        gw
    }

    pub async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    pub async fn send_text(&mut self, s: &str) {
        tokio::time::timeout(
            EVENT_TIMEOUT,
            self.ws.send(Message::Text(s.to_string().into())),
        )
        .await
        .expect("ws send timeout")
        .expect("ws send");
    }

    pub async fn heartbeat(&mut self) {
        let d = if self.last_seq > 0 {
            json!(self.last_seq)
        } else {
            Value::Null
        };
        self.send(json!({"op": 1, "d": d})).await;
    }

    /// Next text/close frame; None on timeout. Dispatch `s` is checked to be increasing.
    pub async fn next_frame(&mut self, timeout: Duration) -> Option<Frame> {
        if self.closed {
            return Some(Frame::Ended("already closed".into()));
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return None,
                Ok(m) => m,
            };
            match msg {
                None => {
                    self.closed = true;
                    return Some(Frame::Ended("stream ended".into()));
                }
                Some(Err(e)) => {
                    self.closed = true;
                    return Some(Frame::Ended(e.to_string()));
                }
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str())
                        .unwrap_or_else(|e| panic!("gateway sent non-JSON text {t:?}: {e}"));
                    assert_keys(&v, &["op", "d"], "gateway payload");
                    if v["op"] == 0 {
                        let s = v["s"]
                            .as_i64()
                            .unwrap_or_else(|| panic!("dispatch without integer s: {v}"));
                        assert!(
                            s > self.last_seq,
                            "dispatch s {s} not above previous {}: {v}",
                            self.last_seq
                        );
                        self.last_seq = s;
                        assert!(v["t"].is_string(), "dispatch without t: {v}");
                    }
                    return Some(Frame::Json(v));
                }
                Some(Ok(Message::Binary(b))) => {
                    panic!(
                        "unexpected binary frame ({} bytes); no compression was requested",
                        b.len()
                    )
                }
                Some(Ok(Message::Close(cf))) => {
                    self.closed = true;
                    return Some(Frame::Close(cf.map(|f| u16::from(f.code))));
                }
                Some(Ok(_)) => continue, // ping/pong
            }
        }
    }

    /// Sends IDENTIFY and collects READY and one GUILD_CREATE per READY guild.
    pub async fn identify(&mut self, token: &str, intents: u64) {
        self.identify_with(json!({
            "token": token,
            "properties": {"os": "linux", "browser": "accord-tests", "device": "accord-tests"},
            "intents": intents,
            "large_threshold": 250,
        }))
        .await;
    }

    pub async fn identify_with(&mut self, d: Value) {
        // GUILD_CREATE is a GUILDS-intent event: only wait for it when that intent was asked for
        let wants_guilds = d["intents"]
            .as_u64()
            .is_none_or(|i| i & intents::GUILDS != 0);
        self.send(json!({"op": 2, "d": d})).await;
        let deadline = tokio::time::Instant::now() + EVENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                None => panic!("no READY within {EVENT_TIMEOUT:?}"),
                Some(Frame::Json(v)) if v["op"] == 11 => continue,
                Some(Frame::Json(v)) => {
                    assert_eq!(v["op"], 0, "expected READY dispatch, got {v}");
                    assert_eq!(v["t"], "READY", "first dispatch must be READY, got {v}");
                    self.ready = v;
                    break;
                }
                Some(other) => panic!("expected READY, got {other:?}"),
            }
        }
        let guild_ids: Vec<String> = self.ready["d"]["guilds"]
            .as_array()
            .unwrap_or_else(|| panic!("READY.guilds must be an array: {}", self.ready))
            .iter()
            .map(|g| str_field(g, "id").to_string())
            .collect();
        if !wants_guilds {
            return;
        }
        for gid in guild_ids {
            let d = self
                .expect_dispatch_where("GUILD_CREATE", EVENT_TIMEOUT, |d| d["id"] == gid)
                .await;
            self.guilds.push(d);
        }
    }

    /// READY `d`.
    pub fn ready_d(&self) -> &Value {
        &self.ready["d"]
    }

    pub fn guild_create(&self, guild_id: &str) -> &Value {
        self.guilds
            .iter()
            .find(|g| g["id"] == guild_id)
            .unwrap_or_else(|| panic!("no GUILD_CREATE for {guild_id}"))
    }

    /// Next non-dispatch payload with this op (dispatches seen meanwhile go to the backlog).
    pub async fn expect_op(&mut self, op: i64, timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                None => panic!("no op {op} within {timeout:?}"),
                Some(Frame::Json(v)) if v["op"] == op => return v,
                Some(Frame::Json(v)) if v["op"] == 0 => self.backlog.push_back(v),
                Some(Frame::Json(v)) if v["op"] == 11 => continue,
                Some(other) => panic!("waiting for op {op}, got {other:?}"),
            }
        }
    }

    pub async fn expect_dispatch(&mut self, t: &str, timeout: Duration) -> Value {
        self.expect_dispatch_where(t, timeout, |_| true).await
    }

    /// First dispatch `t` whose `d` matches (backlog first); returns `d`. Others are kept.
    pub async fn expect_dispatch_where(
        &mut self,
        t: &str,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        if let Some(i) = self
            .backlog
            .iter()
            .position(|v| v["t"] == t && pred(&v["d"]))
        {
            return self.backlog.remove(i).unwrap()["d"].clone();
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                None => panic!(
                    "no matching {t} dispatch within {timeout:?}; other dispatches seen: {:?}",
                    self.backlog
                        .iter()
                        .map(|v| v["t"].clone())
                        .collect::<Vec<_>>()
                ),
                Some(Frame::Json(v)) if v["op"] == 0 => {
                    if v["t"] == t && pred(&v["d"]) {
                        return v["d"].clone();
                    }
                    self.backlog.push_back(v);
                }
                Some(Frame::Json(v)) if v["op"] == 11 => continue,
                Some(Frame::Json(v)) => panic!("waiting for {t}, got unexpected payload {v}"),
                Some(other) => panic!("waiting for {t}, connection closed: {other:?}"),
            }
        }
    }

    pub async fn expect_no_dispatch(&mut self, t: &str, wait: Duration) {
        self.expect_no_dispatch_where(t, wait, |_| true).await
    }

    /// Watches for `wait`; fails if a matching dispatch arrives (or is in the backlog).
    pub async fn expect_no_dispatch_where(
        &mut self,
        t: &str,
        wait: Duration,
        pred: impl Fn(&Value) -> bool,
    ) {
        if let Some(v) = self.backlog.iter().find(|v| v["t"] == t && pred(&v["d"])) {
            panic!("unexpected {t} dispatch: {v}");
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.next_frame(left).await {
                None => return,
                Some(Frame::Json(v)) if v["op"] == 0 => {
                    if v["t"] == t && pred(&v["d"]) {
                        panic!("unexpected {t} dispatch: {v}");
                    }
                    self.backlog.push_back(v);
                }
                Some(Frame::Json(_)) => continue,
                Some(other) => panic!("connection closed while watching for {t}: {other:?}"),
            }
        }
    }

    /// The server must close the connection with `code` (payloads before it are ignored).
    pub async fn expect_close(&mut self, code: u16, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_frame(left).await {
                None => panic!("no close {code} within {timeout:?}"),
                Some(Frame::Json(_)) => continue,
                Some(Frame::Close(got)) => {
                    assert_eq!(got, Some(code), "expected close code {code}, got {got:?}");
                    return;
                }
                Some(Frame::Ended(e)) => {
                    panic!("expected close {code}; connection ended without a close frame: {e}")
                }
            }
        }
    }
}

// =============================================================================================
// Issue 3 (/work/contract3.md) helpers — APPENDED section, used by roles_manage.rs,
// channels_manage.rs, members_moderation.rs, guild_manage.rs and permission_changes.rs.
// Nothing above this line is changed by it.
// =============================================================================================

/// More permission bits (permissions.md) next to `perm::*`.
pub mod perm3 {
    #[allow(unused_imports)]
    pub use super::perm::*;
    pub const BAN_MEMBERS: u64 = 1 << 2;
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const VIEW_AUDIT_LOG: u64 = 1 << 7;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const MUTE_MEMBERS: u64 = 1 << 22;
    pub const DEAFEN_MEMBERS: u64 = 1 << 23;
    pub const CHANGE_NICKNAME: u64 = 1 << 26;
    pub const MANAGE_NICKNAMES: u64 = 1 << 27;
    pub const MANAGE_WEBHOOKS: u64 = 1 << 29;
    pub const MODERATE_MEMBERS: u64 = 1 << 40;
}

/// More intents (gateway.md) next to `intents::*`.
pub mod intents3 {
    #[allow(unused_imports)]
    pub use super::intents::*;
    pub const GUILD_MODERATION: u64 = 1 << 2;
    /// DEFAULT + GUILD_MODERATION (ban events).
    pub const ALL3: u64 = DEFAULT | GUILD_MODERATION;
}

/// A permission overwrite body `{id, type, allow, deny}` (allow/deny as decimal strings).
pub fn ow3(id: &str, kind: u8, allow: u64, deny: u64) -> Value {
    json!({"id": id, "type": kind, "allow": allow.to_string(), "deny": deny.to_string()})
}

/// `v["id"]` as an owned string (panics when absent).
pub fn sid(v: &Value) -> String {
    str_field(v, "id").to_string()
}

/// ISO8601 timestamp `secs` seconds from now (negative = in the past).
pub fn iso_from_now(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an ISO8601 timestamp to unix milliseconds.
pub fn iso_ms(v: &Value, ctx: &str) -> i64 {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("{ctx}: timestamp must be a string, got {v}"));
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap_or_else(|e| panic!("{ctx}: {s:?} is not ISO8601: {e}"))
        .timestamp_millis()
}

/// Role ids of a member object.
pub fn member_role_ids(m: &Value) -> Vec<String> {
    let mut v: Vec<String> = m["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("member.roles must be an array in {m}"))
        .iter()
        .map(|r| r.as_str().expect("role id string").to_string())
        .collect();
    v.sort();
    v
}

/// Overwrites of a channel object as a sorted list of (id, type, allow, deny).
pub fn overwrite_set(c: &Value) -> Vec<(String, i64, u64, u64)> {
    let mut v: Vec<(String, i64, u64, u64)> = c["permission_overwrites"]
        .as_array()
        .unwrap_or_else(|| panic!("permission_overwrites must be an array in {c}"))
        .iter()
        .map(|o| {
            (
                str_field(o, "id").to_string(),
                o["type"].as_i64().expect("overwrite type int"),
                perm_str(&o["allow"], "overwrite.allow"),
                perm_str(&o["deny"], "overwrite.deny"),
            )
        })
        .collect();
    v.sort();
    v
}

/// The same set for a list of `ow3` bodies.
pub fn overwrite_set_of(list: &[Value]) -> Vec<(String, i64, u64, u64)> {
    overwrite_set(&json!({ "permission_overwrites": list }))
}

/// Status and exact JSON body of `got` must equal `want` (the "unknown id" answer).
pub fn assert_same_answer(got: &Resp, want: &Resp, ctx: &str) {
    assert!(
        want.status == 404,
        "{ctx}: reference answer {} must be a 404, got {} {}",
        want.what,
        want.status,
        want.text
    );
    assert_eq!(
        (got.status, &got.body),
        (want.status, &want.body),
        "{ctx}: a non-member must get exactly the unknown-id answer\n  got  {} -> {} {}\n  want {} -> {} {}",
        got.what,
        got.status,
        got.text,
        want.what,
        want.status,
        want.text
    );
    got.assert_json_content_type();
}

/// Either of several (status, code) answers (where the contract leaves the choice open).
pub fn assert_error_in(r: &Resp, allowed: &[(u16, i64)], ctx: &str) {
    let code = r.body["code"].as_i64();
    assert!(
        allowed
            .iter()
            .any(|(s, c)| *s == r.status && Some(*c) == code),
        "{ctx}: {} expected one of {allowed:?}, got {} {}",
        r.what,
        r.status,
        r.text
    );
    r.assert_json_content_type();
}

impl Server {
    /// Registers `name` and joins it to `g` through an invite made by `inviter`.
    pub async fn joined_user(&self, inviter: &User, g: &Guild, name: &str) -> User {
        let u = self.user(name).await;
        self.join(inviter, g, &u).await;
        u
    }

    /// Creates a channel as `by` (201) with extra body fields merged into `{name}`.
    pub async fn channel3(&self, by: &User, g: &Guild, body: Value) -> Value {
        by.api.create_channel(&g.id, &body).await.ok(201)
    }

    /// `by` adds role `role_id` to `user` (204).
    pub async fn give3(&self, by: &User, g: &Guild, user_id: &str, role_id: &str) {
        by.api.add_role(&g.id, user_id, role_id).await.ok(204);
    }

    /// Whether a newly created role is placed below the existing ones (Discord: position 1,
    /// others move up) rather than on top. Probed in a scratch guild of a scratch user, so the
    /// calling test's users and guilds are untouched.
    pub async fn new_roles_go_below(&self) -> bool {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let probe = self.user(&format!("rank-probe-{nanos}")).await;
        let scratch = probe
            .api
            .create_guild(&json!({"name": "rank probe"}))
            .await
            .ok(201);
        let gid = str_field(&scratch, "id").to_string();
        let a = probe
            .api
            .create_role(&gid, &json!({"name": "first"}))
            .await
            .ok(200);
        let b = probe
            .api
            .create_role(&gid, &json!({"name": "second"}))
            .await
            .ok(200);
        let roles = probe.api.roles(&gid).await.ok(200);
        let pos = |r: &Value| {
            roles
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == r["id"])
                .unwrap_or_else(|| panic!("role {} not listed in {roles}", r["id"]))["position"]
                .as_i64()
                .unwrap()
        };
        let (pa, pb) = (pos(&a), pos(&b));
        assert_ne!(pa, pb, "two new roles got the same position: {roles}");
        pb < pa
    }

    /// Roles created by the owner with these names/permissions so that their positions ascend in
    /// the order of `specs` (whatever side new roles are inserted on); returned in that order.
    pub async fn ranked_roles(&self, owner: &User, g: &Guild, specs: &[(&str, u64)]) -> Vec<Value> {
        let below = self.new_roles_go_below().await;
        let order: Vec<&(&str, u64)> = if below {
            specs.iter().rev().collect()
        } else {
            specs.iter().collect()
        };
        for (name, p) in order {
            self.role(owner, g, name, *p).await;
        }
        let all = owner.api.roles(&g.id).await.ok(200);
        let mut ours: Vec<Value> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| specs.iter().any(|(n, _)| r["name"] == *n))
            .cloned()
            .collect();
        ours.sort_by_key(|r| r["position"].as_i64().unwrap());
        assert_eq!(ours.len(), specs.len(), "roles created: {all}");
        let names: Vec<&str> = ours.iter().map(|r| r["name"].as_str().unwrap()).collect();
        let want: Vec<&str> = specs.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names, want,
            "roles must ascend in creation-derived order (distinct positions): {all}"
        );
        ours
    }

    /// An invite code to `channel` made by `by`.
    pub async fn invite_code(&self, by: &User, channel: &str) -> String {
        let inv = by.api.create_invite(channel, &json!({})).await.ok(200);
        str_field(&inv, "code").to_string()
    }
}

impl Api {
    /// Like `req` with extra request headers.
    pub async fn req_h(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}/api/{}{}", self.base, self.version, path);
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, &url);
        if let Some(a) = &self.auth {
            rb = rb.header("Authorization", a);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(b).unwrap());
        }
        let what = format!("{method} {url}");
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: request failed: {e}"));
        let status = r.status().as_u16();
        let content_type = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("<non-ascii>").to_string());
        let headers = r.headers().clone();
        let text = r
            .text()
            .await
            .unwrap_or_else(|e| panic!("{what}: reading body: {e}"));
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            what,
            status,
            content_type,
            text,
            body,
            headers,
        }
    }

    // ----- roles -----
    pub async fn patch_role(&self, guild_id: &str, role_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/guilds/{guild_id}/roles/{role_id}"), body)
            .await
    }
    pub async fn delete_role(&self, guild_id: &str, role_id: &str) -> Resp {
        self.delete(&format!("/guilds/{guild_id}/roles/{role_id}"))
            .await
    }
    /// PATCH /guilds/{id}/roles with `[{id, position}]`.
    pub async fn patch_role_positions(&self, guild_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/guilds/{guild_id}/roles"), body).await
    }

    // ----- channels -----
    pub async fn put_overwrite(&self, channel_id: &str, overwrite_id: &str, body: &Value) -> Resp {
        self.req(
            "PUT",
            &format!("/channels/{channel_id}/permissions/{overwrite_id}"),
            Some(body),
        )
        .await
    }
    pub async fn delete_overwrite(&self, channel_id: &str, overwrite_id: &str) -> Resp {
        self.delete(&format!(
            "/channels/{channel_id}/permissions/{overwrite_id}"
        ))
        .await
    }
    pub async fn patch_channel(&self, channel_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/channels/{channel_id}"), body).await
    }
    pub async fn delete_channel(&self, channel_id: &str) -> Resp {
        self.delete(&format!("/channels/{channel_id}")).await
    }

    // ----- members -----
    pub async fn patch_member(&self, guild_id: &str, user_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/guilds/{guild_id}/members/{user_id}"), body)
            .await
    }
    pub async fn patch_my_member(&self, guild_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/guilds/{guild_id}/members/@me"), body)
            .await
    }
    pub async fn kick(&self, guild_id: &str, user_id: &str) -> Resp {
        self.delete(&format!("/guilds/{guild_id}/members/{user_id}"))
            .await
    }
    pub async fn leave_guild(&self, guild_id: &str) -> Resp {
        self.delete(&format!("/users/@me/guilds/{guild_id}")).await
    }

    // ----- bans -----
    /// `query` without the leading `?` ("" for none).
    pub async fn bans(&self, guild_id: &str, query: &str) -> Resp {
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        self.get(&format!("/guilds/{guild_id}/bans{q}")).await
    }
    pub async fn get_ban(&self, guild_id: &str, user_id: &str) -> Resp {
        self.get(&format!("/guilds/{guild_id}/bans/{user_id}"))
            .await
    }
    pub async fn ban(&self, guild_id: &str, user_id: &str, body: &Value) -> Resp {
        self.req(
            "PUT",
            &format!("/guilds/{guild_id}/bans/{user_id}"),
            Some(body),
        )
        .await
    }
    pub async fn ban_with_reason(
        &self,
        guild_id: &str,
        user_id: &str,
        body: &Value,
        reason: &str,
    ) -> Resp {
        self.req_h(
            "PUT",
            &format!("/guilds/{guild_id}/bans/{user_id}"),
            Some(body),
            &[("X-Audit-Log-Reason", reason)],
        )
        .await
    }
    pub async fn unban(&self, guild_id: &str, user_id: &str) -> Resp {
        self.delete(&format!("/guilds/{guild_id}/bans/{user_id}"))
            .await
    }

    // ----- guild -----
    pub async fn patch_guild(&self, guild_id: &str, body: &Value) -> Resp {
        self.patch(&format!("/guilds/{guild_id}"), body).await
    }
    pub async fn delete_guild(&self, guild_id: &str) -> Resp {
        self.delete(&format!("/guilds/{guild_id}")).await
    }
}

impl Gw {
    /// The MESSAGE_CREATE for message `m` must arrive (within EVENT_TIMEOUT).
    pub async fn expect_msg(&mut self, m: &Value) -> Value {
        let id = m["id"].clone();
        self.expect_dispatch_where("MESSAGE_CREATE", EVENT_TIMEOUT, |d| d["id"] == id)
            .await
    }

    /// The MESSAGE_CREATE for message `m` must not arrive (watched for QUIET).
    pub async fn expect_no_msg(&mut self, m: &Value) {
        let id = m["id"].clone();
        self.expect_no_dispatch_where("MESSAGE_CREATE", QUIET, |d| d["id"] == id)
            .await
    }
}

// ---------------------------------------------------------------------------------------------
// Resume helpers (gateway issue)
// ---------------------------------------------------------------------------------------------

impl Gw {
    /// The last dispatch `s` this connection received.
    pub fn last_seq(&self) -> i64 {
        self.last_seq
    }

    /// Closes the WebSocket cleanly with `code` (1000/1001 end the session on the server).
    pub async fn close_with(&mut self, code: u16) {
        use tokio_tungstenite::tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: "test".into(),
        };
        let _ =
            tokio::time::timeout(EVENT_TIMEOUT, self.ws.send(Message::Close(Some(frame)))).await;
        self.closed = true;
    }

    /// Drops the TCP connection without a close frame (a network failure).
    pub fn kill(self) {
        drop(self);
    }
}
