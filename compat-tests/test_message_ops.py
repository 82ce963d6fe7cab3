"""discord.py and discord.js each edit, suppress embeds, pin, list pins, unpin, delete and
bulk-delete messages against accord, and REST shows the results."""

from __future__ import annotations

import asyncio
import shutil
import subprocess

import aiohttp
import pytest

from harness import BOT_PERMISSIONS, HERE, PYTHON, Rest

MANAGE_MESSAGES = 1 << 13
PIN_MESSAGES = 1 << 51


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_message_operations(server, workdir, library):
    channel_id, token, user = asyncio.run(setup(server))
    if library == "discord.py":
        argv = [PYTHON, "-u", str(HERE / "bots" / "message_ops_bot.py"), server.base, token, channel_id]
    else:
        node = shutil.which("node")
        assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
        argv = [node, str(HERE / "js" / "message_ops.js"), server.base, token, channel_id]
    with open(workdir / "message-ops.stderr.log", "wb") as stderr:
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, timeout=60)
    out = run.stdout.decode()
    assert run.returncode == 0 and "DONE" in out, out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}
    first, content, edited_at = lines["EDITED"]
    assert content == "second_draft" and edited_at == "True", lines
    embed_id, suppressed = lines["SUPPRESSED"]
    assert suppressed == "True", lines
    assert lines["PINNED"] == [embed_id, first], lines  # most recently pinned first
    assert lines["AFTER_UNPIN"] == [first], lines
    assert lines["DELETED"] == [first], lines
    assert len(lines["BULK_DELETED"]) == 3, lines

    stored = asyncio.run(read(server, user, channel_id))
    ids = [m["id"] for m in stored]
    assert ids == [embed_id], f"only the suppressed message should remain: {stored}"
    assert stored[0]["flags"] & 4 and not stored[0]["pinned"], stored[0]


async def setup(server) -> tuple[str, str, str]:
    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        user = (
            await rest.call("POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"})
        )["token"]
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Ops"})
        channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
        general = next(c["id"] for c in channels if c["name"] == "general")
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "Ops"})
        token = (await rest.call("POST", f"/applications/{app['id']}/bot/reset", token=user))["token"]
        permissions = BOT_PERMISSIONS | MANAGE_MESSAGES | PIN_MESSAGES
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app['id']}&scope=bot&permissions={permissions}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(permissions), "authorize": True},
        )
        return general, token, user


async def read(server, user: str, channel_id: str) -> list[dict]:
    async with aiohttp.ClientSession() as session:
        return await Rest(session, server.api).call("GET", f"/channels/{channel_id}/messages", token=user)
