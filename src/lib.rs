//! accord: a chat server that speaks Discord's HTTP API v10 and gateway.
//!
//! Layers (dependencies point down): `http` and `gateway` → `service` → `store`, `bus`,
//! `permissions`; `model` is shared by all. See `docs/architecture.md`.

pub mod bus;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod model;
pub mod permissions;
pub mod service;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use config::Config;

/// Runs the server until SIGINT/SIGTERM on two runtimes: gateway connections on one, the rest
/// (HTTP, the bus, the fan-out, the store's callers) on the other.
///
/// Under fan-out thousands of connection tasks are runnable at once, each to write its batch,
/// and tokio's run queues are first in, first out: a REST request, a bus event or the fan-out
/// task sharing their runtime waited behind every queued write. With connections apart, an
/// event reaches every outlet as soon as it is published, and a connection still queued with
/// the previous one takes both in one write (docs/benchmarks.md: at 200 000 deliveries/s, one
/// worker each, REST p99 ~125 → ~90 ms and last-recipient p99 ~280 → ~210 ms). Each runtime
/// sizes itself as `#[tokio::main]` would: `TOKIO_WORKER_THREADS`, else one worker per core.
pub fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let connections = runtime("accord-gateway")?;
    let main = runtime("accord-main")?;
    let served = main.block_on(run(config, connections.handle().clone()));
    // The connections were told to reconnect during the graceful shutdown; what is left of
    // them ends with the process.
    connections.shutdown_timeout(Duration::from_secs(1));
    served
}

fn runtime(name: &str) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name(name)
        .enable_all()
        .build()
}

/// Opens the store, starts the gateway (its connections on `connections`) and serves HTTP
/// until SIGINT/SIGTERM.
async fn run(
    config: Config,
    connections: tokio::runtime::Handle,
) -> Result<(), Box<dyn std::error::Error>> {
    let store: Arc<dyn store::Store> = match config.store {
        config::StoreKind::Embedded => Arc::new(store::EmbeddedStore::open(&config.data_dir)?),
        config::StoreKind::Mongodb => Arc::new(
            store::MongoStore::connect(&config.mongodb_uri, &config.mongodb_database).await?,
        ),
    };
    let bus: Arc<dyn bus::Bus> = match config.bus {
        config::BusKind::Local => Arc::new(bus::LocalBus::new(65_536)),
        config::BusKind::Redis => bus::RedisBus::connect(&config.redis_url, &config.redis_prefix)
            .await
            .map_err(|err| format!("cannot connect the Redis bus (--redis-url): {err}"))?,
    };
    let urls = service::PublicUrls {
        http: config.http_url(),
        gateway: config.gateway_url(),
    };
    let mut service = service::Service::new(store, bus, config.node_id, urls)
        .await?
        .with_max_upload_bytes(config.max_upload_bytes);
    service.interaction_token_ttl_ms = config.interaction_token_secs.saturating_mul(1000);
    let service = Arc::new(service);
    let gateway_config = gateway::GatewayConfig {
        resume_window: Duration::from_secs(config.resume_window_secs),
        identify_timeout: Duration::from_secs(config.identify_timeout_secs),
        heartbeat_interval: Duration::from_millis(config.heartbeat_interval_ms.max(1)),
        guilds_per_shard: config.guilds_per_shard.max(1),
    };
    let gateway = gateway::Gateway::start(Arc::clone(&service), gateway_config, connections);
    let app = http::router(http::AppState {
        service,
        gateway: Arc::clone(&gateway),
        rate_limiter: Arc::new(rate_limiter(&config).await?),
    });

    spawn_reconnect_on_sigusr1(Arc::clone(&gateway));

    let listener = listen(config.listen)?;
    tracing::info!(
        listen = %config.listen,
        public_url = %config.http_url(),
        store = ?config.store,
        data_dir = %config.data_dir.display(),
        node_id = config.node_id,
        "accord is listening"
    );
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Tell every gateway client to reconnect and resume elsewhere, and give the
            // frames a moment to leave before the process exits.
            gateway.request_reconnect_all();
            tokio::time::sleep(Duration::from_millis(500)).await;
        })
        .await?;
    Ok(())
}

/// REST rate-limit windows: shared through Redis when the node uses the Redis bus (limits
/// then hold across the cluster), else in this node's memory.
async fn rate_limiter(
    config: &Config,
) -> Result<http::ratelimit::RateLimiter, Box<dyn std::error::Error>> {
    Ok(match config.bus {
        config::BusKind::Local => http::ratelimit::RateLimiter::new(config.rate_limits()),
        config::BusKind::Redis => http::ratelimit::RateLimiter::with_redis(
            config.rate_limits(),
            &config.redis_url,
            &config.redis_prefix,
        )
        .await
        .map_err(|err| format!("cannot connect to Redis for rate limits (--redis-url): {err}"))?,
    })
}

/// SIGUSR1 asks every connected gateway client to reconnect and resume (op 7), e.g. before
/// maintenance of a node behind a load balancer.
fn spawn_reconnect_on_sigusr1(gateway: Arc<gateway::Gateway>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut signals) = signal(SignalKind::user_defined1()) else {
            return;
        };
        while signals.recv().await.is_some() {
            tracing::info!("SIGUSR1: asking gateway clients to reconnect");
            gateway.request_reconnect_all();
        }
    });
    #[cfg(not(unix))]
    let _ = gateway;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Connections the kernel may hold for `accept` (capped by `net.core.somaxconn`). tokio's
/// default of 1024 overflowed during a storm of 1000 connections opened at once (M5): each
/// dropped handshake is retried by the client only after a second.
const LISTEN_BACKLOG: u32 = 4096;

/// The listening socket, as `TcpListener::bind` makes it but with [`LISTEN_BACKLOG`].
fn listen(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}
