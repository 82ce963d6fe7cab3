use clap::Parser;
use tracing_subscriber::EnvFilter;

fn main() {
    let config = accord::config::Config::parse();
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    if let Err(err) = accord::serve(config) {
        tracing::error!(%err, "accord stopped");
        std::process::exit(1);
    }
}
