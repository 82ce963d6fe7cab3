"""twilight 0.18.0 (Rust: twilight-gateway with zstd-stream, twilight-http, twilight-model),
unmodified, against a fresh accord server.

The bot is `rust-bots/src/bin/twilight_ping.rs`; it is built by the same session fixture as the
serenity bot (`test_serenity.build_rust_bots`; cargo does nothing the second time).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from harness import run_flow
from test_serenity import build_rust_bots


@pytest.fixture(scope="session")
def rust_bots() -> Path:
    return build_rust_bots()


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def test_zstd_stream_as_twilight_asks(server):
    """Twilight built with its `zstd` feature always connects to
    `{proxy_url}/?v=10&encoding=json&compress=zstd-stream` (twilight-gateway shard.rs
    COMPRESSION_FEATURES) and decompresses every BINARY frame. Check that the server answers that
    exact URL with a zstd stream (BINARY frames, the first one opening a zstd frame), so the
    twilight test below passes only through the library's zstd decoder."""

    async def probe() -> tuple[aiohttp.WSMsgType, bytes]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            url = f"ws://127.0.0.1:{server.port}/?v=10&encoding=json&compress=zstd-stream"
            async with session.ws_connect(url, autoping=True) as ws:
                msg = await asyncio.wait_for(ws.receive(), 5)
                return msg.type, msg.data if isinstance(msg.data, bytes) else str(msg.data).encode()

    kind, data = asyncio.run(probe())
    assert kind == aiohttp.WSMsgType.BINARY, f"HELLO on a zstd-stream connection came as {kind}: {data[:200]!r}"
    assert data.startswith(ZSTD_MAGIC), f"first BINARY frame does not open a zstd frame: {data[:16].hex()}"


def test_twilight_ping_pong_channel_role(rust_bots, server, workdir):
    """A twilight bot (HTTP client proxied to the server over plain http; shard with
    proxy_url ws://… and compress=zstd-stream) logs in, answers "!ping" with a reply
    (`create_message(..).reply(id)`), creates a channel and a role, gives itself the role;
    the user's gateway session sees the reply."""
    binary = rust_bots / "twilight_ping"
    assert binary.exists(), f"{binary} is missing after the build"
    result = run_flow(
        server,
        workdir,
        tag="twilight",
        bot_argv=lambda base, gateway, token: [str(binary), base, token, "twilight"],
        bot_env={"RUST_BACKTRACE": "1"},
    )
    assert result.reply["content"] == "pong"
