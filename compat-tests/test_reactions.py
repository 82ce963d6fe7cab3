"""discord.py and discord.js each add unicode and custom reactions, read them on the message,
list who reacted, remove their own and someone else's, clear one emoji and clear all against
accord; REST shows the results."""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
import urllib.parse

import aiohttp
import pytest

from harness import BOT_PERMISSIONS, HERE, PYTHON, Rest

ADD_REACTIONS = 1 << 6
MANAGE_MESSAGES = 1 << 13
PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(32)).decode()


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_reactions(server, workdir, library):
    ids = asyncio.run(setup(server))
    args = [server.base, ids["token"], ids["guild"], ids["channel"], ids["message"], ids["emoji"], ids["owner"]]
    if library == "discord.py":
        argv = [PYTHON, "-u", str(HERE / "bots" / "reactions_bot.py"), *args]
    else:
        node = shutil.which("node")
        assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
        argv = [node, str(HERE / "js" / "reactions.js"), *args]
    with open(workdir / "reactions.stderr.log", "wb") as stderr:
        run = subprocess.run(argv, stdout=subprocess.PIPE, stderr=stderr, timeout=60)
    out = run.stdout.decode()
    assert run.returncode == 0 and "DONE" in out, out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}
    # The owner reacted 👍 first; the bot added 👍, 🎉 and the custom emoji.
    assert lines["REACTIONS"] == ["👍:2:True", "🎉:1:True", "party_blob:1:True"], lines
    # The server answers by ascending id; discord.py yields each page reversed, so compare sets.
    assert sorted(lines["USERS"], key=int) == sorted([ids["owner"], ids["bot"]], key=int), lines
    # The bot took its 🎉 back and removed the owner's 👍.
    assert lines["AFTER"] == ["👍:1:True", "party_blob:1:True"], lines
    assert lines["CLEARED_EMOJI"] == ["👍:1:True"], lines
    assert lines["CLEARED_ALL"] == [], lines
    if library == "discord.js":
        # It follows the gateway with GUILD_MESSAGE_REACTIONS and parses every reaction event.
        assert lines["EVENTS"] == ["add=3", "remove=2", "remove_emoji=1", "remove_all=1"], lines

    stored = asyncio.run(read(server, ids))
    assert "reactions" not in stored, stored


async def setup(server) -> dict[str, str]:
    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        registered = await rest.call(
            "POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"}
        )
        user = registered["token"]
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Reactions"})
        channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
        general = next(c["id"] for c in channels if c["name"] == "general")
        emoji = await rest.call(
            "POST", f"/guilds/{guild['id']}/emojis", token=user, json_body={"name": "party_blob", "image": PNG}
        )
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "Reactor"})
        token = (await rest.call("POST", f"/applications/{app['id']}/bot/reset", token=user))["token"]
        permissions = BOT_PERMISSIONS | ADD_REACTIONS | MANAGE_MESSAGES
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app['id']}&scope=bot&permissions={permissions}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(permissions), "authorize": True},
        )
        message = await rest.call(
            "POST", f"/channels/{general}/messages", token=user, json_body={"content": "react to me"}
        )
        thumbs = urllib.parse.quote("👍")
        await rest.call("PUT", f"/channels/{general}/messages/{message['id']}/reactions/{thumbs}/@me", token=user)
        return {
            "token": token,
            "guild": guild["id"],
            "channel": general,
            "message": message["id"],
            "emoji": emoji["id"],
            "owner": registered["user_id"],
            "bot": app["id"],
            "user": user,
        }


async def read(server, ids: dict[str, str]) -> dict:
    async with aiohttp.ClientSession() as session:
        return await Rest(session, server.api).call(
            "GET", f"/channels/{ids['channel']}/messages/{ids['message']}", token=ids["user"]
        )
