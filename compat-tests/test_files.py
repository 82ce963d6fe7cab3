"""discord.py and discord.js each upload a file, read the bytes back from its URL (discord.py
with `attachment.read()`), add a file by editing and then remove them all; REST and the CDN
route show the same bytes."""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import subprocess

import aiohttp
import pytest

from harness import BOT_PERMISSIONS, HERE, PYTHON, Rest

ATTACH_FILES = 1 << 15
# What both bots send.
PAYLOAD = bytes(range(256)) * 64 + b"accord files compat"


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_files(server, workdir, library):
    channel_id, token, user = asyncio.run(setup(server))
    if library == "discord.py":
        argv = [PYTHON, "-u", str(HERE / "bots" / "files_bot.py"), server.base, token, channel_id]
    else:
        node = shutil.which("node")
        assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
        argv = [node, str(HERE / "js" / "files.js"), server.base, token, channel_id]
    with open(workdir / "files.stderr.log", "wb") as stderr:
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, timeout=60)
    out = run.stdout.decode()
    assert run.returncode == 0 and "DONE" in out, out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}
    message_id, attachment_id, filename, size, content_type, sent_sha = lines["SENT"]
    expected = hashlib.sha256(PAYLOAD).hexdigest()
    assert sent_sha == expected, lines
    assert filename == "payload.bin" and int(size) == len(PAYLOAD), lines
    assert content_type == "application/octet-stream", lines
    assert lines["READ"] == [expected], lines
    assert lines["EDITED"] == ["2", hashlib.sha256(b"second file\n").hexdigest()], lines
    assert lines["CLEARED"] == ["0"], lines

    # REST: the message lists no attachments now, and the removed file's URL is gone.
    message, gone = asyncio.run(read(server, user, channel_id, message_id, attachment_id, filename))
    assert message["attachments"] == [], message
    assert gone == 404


async def setup(server) -> tuple[str, str, str]:
    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        user = (
            await rest.call("POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"})
        )["token"]
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Files"})
        channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
        general = next(c["id"] for c in channels if c["name"] == "general")
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "Files"})
        token = (await rest.call("POST", f"/applications/{app['id']}/bot/reset", token=user))["token"]
        permissions = BOT_PERMISSIONS | ATTACH_FILES
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app['id']}&scope=bot&permissions={permissions}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(permissions), "authorize": True},
        )
        return general, token, user


async def read(server, user: str, channel_id: str, message_id: str, attachment_id: str, filename: str):
    async with aiohttp.ClientSession() as session:
        message = await Rest(session, server.api).call("GET", f"/channels/{channel_id}/messages/{message_id}", token=user)
        async with session.get(f"{server.base}/attachments/{channel_id}/{attachment_id}/{filename}") as response:
            return message, response.status
