"""discord.py meets our 429s: it reads the body, `Via` and `Retry-After`, waits, and succeeds,
instead of raising (it treats a 429 without `Via` as a Cloudflare ban)."""

from __future__ import annotations

import asyncio
import subprocess
import time

import aiohttp

from harness import BOT_PERMISSIONS, HERE, PYTHON, Rest, Server, accord_binary

COUNT = 12


def test_discordpy_waits_out_a_global_429(workdir):
    server = Server(
        binary=accord_binary(),
        data_dir=workdir / "data",
        log_path=workdir / "server.log",
        args=["--rate-limit-global", "4", "--rate-limit-route", "0"],
    )
    server.start()
    try:
        channel_id, token = asyncio.run(setup(server))
        time.sleep(1.1)  # the set-up's own requests are out of the window
        started = time.monotonic()
        with open(workdir / "burst.stderr.log", "wb") as stderr:
            run = subprocess.run(
                [PYTHON, "-u", str(HERE / "bots" / "burst_bot.py"), server.base, token, channel_id, str(COUNT)],
                stdout=subprocess.PIPE,
                stderr=stderr,
                timeout=60,
            )
        elapsed = time.monotonic() - started
        out = run.stdout.decode()
        assert run.returncode == 0, out
        sent = out.split("SENT", 1)[1].split()
        assert len(sent) == COUNT == len(set(sent)), out
        log = (workdir / "burst.stderr.log").read_text(errors="replace")
        assert "responded with 429" in log and "Global rate limit has been hit" in log, "no 429 was met"
        # 4 requests a second: 13 requests (login + fetch + 12 sends… minus the first window) take > 2 s.
        assert elapsed > 2.0, elapsed
        stored = asyncio.run(history(server, token, channel_id))
        assert sorted(sent) == sorted(m["id"] for m in stored if m["content"].startswith("burst"))
    finally:
        server.stop()


async def setup(server: Server) -> tuple[str, str]:
    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        user = (
            await rest.call("POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"})
        )["token"]
        await asyncio.sleep(1.1)
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Burst"})
        channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
        general = next(c["id"] for c in channels if c["name"] == "general")
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "Burst"})
        await asyncio.sleep(1.1)
        token = (await rest.call("POST", f"/applications/{app['id']}/bot/reset", token=user))["token"]
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app['id']}&scope=bot&permissions={BOT_PERMISSIONS}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(BOT_PERMISSIONS), "authorize": True},
        )
        return general, token


async def history(server: Server, token: str, channel_id: str) -> list[dict]:
    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        return await rest.call("GET", f"/channels/{channel_id}/messages?limit=50", token=f"Bot {token}")
