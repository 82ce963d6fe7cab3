"""serenity 0.12.5 (Rust), unmodified, against a fresh accord server.

The bot (`rust-bots/src/bin/serenity_ping.rs`) is built once per pytest session by the
`rust_bots` fixture below (`cargo build --manifest-path compat-tests/rust-bots/Cargo.toml`;
the cold build is not part of the per-test timeout).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness import HERE, REPO_ROOT, run_flow

RUST_BOTS = HERE / "rust-bots"
# Cold build of both bots (serenity + twilight and their dependencies) on 2 cores: a few
# minutes; the limit only guards against a hung cargo.
BUILD_TIMEOUT = float(os.environ.get("ACCORD_RUST_BOTS_BUILD_TIMEOUT", "2400"))


def build_rust_bots() -> Path:
    """`cargo build` the compat bots (debug: faster overall than release here) and return the
    folder holding `serenity_ping` and `twilight_ping`. ACCORD_RUST_BOTS_DIR (a folder with both
    binaries; relative to the repository root) skips the build."""
    prebuilt = os.environ.get("ACCORD_RUST_BOTS_DIR")
    if prebuilt:
        path = Path(prebuilt)
        return (path if path.is_absolute() else REPO_ROOT / path).resolve()
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is not installed: the serenity and twilight compat bots are built with it")
    log_path = RUST_BOTS / "target" / "compat-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.run(
                [cargo, "build", "--locked", "--manifest-path", str(RUST_BOTS / "Cargo.toml")],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"cargo build of compat-tests/rust-bots exceeded {BUILD_TIMEOUT}s; log: {log_path}")
    text = log_path.read_text("utf-8", "replace")
    if proc.returncode != 0:
        pytest.fail(f"cargo build of compat-tests/rust-bots failed ({proc.returncode}):\n{text[-6000:]}")
    print(f"[compat-tests] rust bots built in {time.monotonic() - started:.0f}s")
    return RUST_BOTS / "target" / "debug"


@pytest.fixture(scope="session")
def rust_bots() -> Path:
    return build_rust_bots()


def test_serenity_ping_pong_channel_role(rust_bots, server, workdir):
    """A serenity bot (HttpBuilder proxy = the server, rate limiter disabled; gateway URL from
    GET /api/v10/gateway) logs in, answers "!ping" with `Message::reply("pong")`, creates a
    channel and a role, gives itself the role; the user's gateway session sees the reply."""
    binary = rust_bots / "serenity_ping"
    assert binary.exists(), f"{binary} is missing after the build"
    result = run_flow(
        server,
        workdir,
        tag="serenity",
        bot_argv=lambda base, gateway, token: [str(binary), base, token, "serenity"],
        bot_env={"RUST_BACKTRACE": "1"},
    )
    assert result.reply["content"] == "pong"
