#!/usr/bin/env bash
# Runs every test of the project on a fresh machine with no set-up beforehand:
#   1. formatting and lints (cargo fmt --check, cargo clippy -D warnings),
#   2. the services the scale-out tests need: a Redis (127.0.0.1:6379 if it answers, else one
#      started here) and a MongoDB-wire server (SecantusDB from PyPI, in a local venv, started
#      here as a separate process and stopped on exit),
#   3. Rust unit and integration tests (real server processes over HTTP and WebSocket; the
#      store and bus conformance suites and the multi-node tests use the services above),
#   4. a tiny run of the benchmark harness (scripts/bench.sh --smoke),
#   5. compat-tests: unmodified discord.py, discord.js, serenity and twilight bots against
#      fresh servers (compat-tests/run.sh installs them itself, pinned), one of them against
#      three nodes sharing MongoDB and Redis.
# Exits non-zero if anything fails.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "test services (Redis, SecantusDB)"
source scripts/redis-service.sh
source scripts/mongo-service.sh

step "cargo test (unit + integration)"
cargo test --quiet 2>&1 | tee /tmp/accord-cargo-test.log
rust_summary="$(grep -E '^test result:' /tmp/accord-cargo-test.log | awk '{p+=$4; f+=$6} END {print p" passed, "f" failed"}')"

step "benchmark smoke run (the load generator and the naive baseline work; no timing checks)"
bash scripts/bench.sh --smoke --profile debug

step "compat-tests (discord.py 2.7.1, discord.js 14.28.1, serenity 0.12.5, twilight 0.18.0, permissions differential)"
ACCORD_BIN="$ROOT/target/debug/accord" bash compat-tests/run.sh

step "summary"
echo "rust: $rust_summary"
