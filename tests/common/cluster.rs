//! Several server processes acting as one deployment: one MongoDB-wire database (SecantusDB, from
//! `scripts/mongo-service.sh`) and one Redis (from `scripts/redis-service.sh`), each test with a
//! fresh database name and channel prefix so tests run side by side on the same services.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Server, StartOpts};

/// The MongoDB-wire server the test command started.
pub fn mongo_uri() -> String {
    std::env::var("ACCORD_TEST_MONGODB_URI").unwrap_or_else(|_| {
        panic!("ACCORD_TEST_MONGODB_URI is not set: source scripts/mongo-service.sh (or run scripts/test-all.sh)")
    })
}

/// The Redis the test command uses.
pub fn redis_url() -> String {
    std::env::var("ACCORD_TEST_REDIS_URL").unwrap_or_else(|_| {
        panic!("ACCORD_TEST_REDIS_URL is not set: source scripts/redis-service.sh (or run scripts/test-all.sh)")
    })
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Where the nodes of one cluster keep their state and exchange events.
#[derive(Clone)]
pub struct Backends {
    pub mongo_uri: String,
    pub database: String,
    pub redis_url: String,
    pub prefix: String,
}

impl Backends {
    /// A fresh database and prefix on the test services.
    pub fn fresh() -> Backends {
        Backends {
            mongo_uri: mongo_uri(),
            database: unique("accord"),
            redis_url: redis_url(),
            prefix: unique("accord"),
        }
    }

    /// Start options for node `node_id` of this cluster.
    pub fn node_opts(&self, node_id: u8) -> StartOpts {
        StartOpts {
            args: [
                "--store",
                "mongodb",
                "--mongodb-uri",
                &self.mongo_uri,
                "--mongodb-database",
                &self.database,
                "--bus",
                "redis",
                "--redis-url",
                &self.redis_url,
                "--redis-prefix",
                &self.prefix,
                "--node-id",
                &node_id.to_string(),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            ..StartOpts::default()
        }
    }

    /// Starts `n` nodes (node ids 1..=n).
    pub async fn start_nodes(&self, n: u8) -> Vec<Server> {
        let mut nodes = Vec::new();
        for id in 1..=n {
            nodes.push(Server::start_with(self.node_opts(id)).await);
        }
        nodes
    }
}

/// A Redis server of the test's own, so it can be stopped, frozen and started again mid-test.
pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
}

impl PrivateRedis {
    /// A fresh redis-server (no persistence) on a free port.
    pub fn start() -> PrivateRedis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = PrivateRedis { port, child: None };
        redis.spawn();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits until it accepts connections.
    pub fn spawn(&mut self) {
        let bin = std::env::var("ACCORD_TEST_REDIS_SERVER_BIN")
            .unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(&bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {bin}: {e}; set ACCORD_TEST_REDIS_SERVER_BIN \
                     (source scripts/redis-service.sh, or run scripts/test-all.sh)"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "private redis did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server (every connection drops) and starts it again on the same port.
    pub fn restart(&mut self, down_for: Duration) {
        self.stop();
        std::thread::sleep(down_for);
        self.spawn();
    }

    /// Freezes (`-STOP`) or thaws (`-CONT`) the server: connections stay open, nothing answers.
    pub fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("server running");
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {signal} failed");
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
