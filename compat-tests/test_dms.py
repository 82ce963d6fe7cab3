"""Direct messages with unmodified discord.py and discord.js bots: each bot DMs a user (the
user's gateway session receives CHANNEL_CREATE, then the message, without guild fields), and
each receives the user's DM back in the same channel."""

from __future__ import annotations

import asyncio
import os
import shutil
import time

import aiohttp
import pytest

from harness import (
    BOT_PERMISSIONS,
    HERE,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    PYTHON,
    TEST_TIMEOUT,
    BotProcess,
    Rest,
    UserGateway,
)

INTENT_DIRECT_MESSAGES = 1 << 12


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_bot_and_user_exchange_dms(server, workdir, library):
    if library == "discord.py":
        argv = [PYTHON, "-u", str(HERE / "bots" / "dm_bot.py")]
        greeting = "hello from discord.py"
    else:
        node = shutil.which("node")
        assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
        argv = [node, str(HERE / "js" / "dm.js")]
        greeting = "hello from discord.js"
    logf = open(workdir / "flow.log", "a", encoding="utf-8")

    def log(line: str) -> None:
        logf.write(f"{time.strftime('%H:%M:%S')} {line}\n")
        logf.flush()

    try:
        asyncio.run(asyncio.wait_for(flow(server, workdir, argv, greeting, log), TEST_TIMEOUT))
    finally:
        logf.close()


async def flow(server, workdir, argv: list[str], greeting: str, log) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        rest = Rest(session, server.api)
        reg = await rest.call(
            "POST", "/auth/register", json_body={"username": "dmuser", "password": "correct horse battery"}
        )
        user, user_id = reg["token"], str(reg["user_id"])
        # The bot may only message users it shares a guild with.
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "DMs"})
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "DmBot"})
        bot_id = app["id"]
        token = (await rest.call("POST", f"/applications/{bot_id}/bot/reset", token=user))["token"]
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={bot_id}&scope=bot&permissions={BOT_PERMISSIONS}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(BOT_PERMISSIONS), "authorize": True},
        )

        gateway_url = (await rest.call("GET", "/gateway"))["url"]
        user_gw = UserGateway(
            session, gateway_url, user, log, intents=INTENT_GUILDS | INTENT_DIRECT_MESSAGES | INTENT_MESSAGE_CONTENT
        )
        bot = BotProcess(
            argv + [server.base, token, user_id],
            workdir / "bot.stdout.log",
            workdir / "bot.stderr.log",
            dict(os.environ),
            HERE,
        )
        try:
            await user_gw.connect()
            await bot.start()
            channel_id, message_id = await bot.wait_line("SENT", timeout=30)

            # The user's session learns of the DM, then gets the bot's message.
            created = await user_gw.wait_for(
                lambda p: p["t"] == "CHANNEL_CREATE" and p["d"]["id"] == channel_id, 10, "CHANNEL_CREATE of the DM"
            )
            dm = created["d"]
            assert dm["type"] == 1 and "guild_id" not in dm, dm
            assert [r["id"] for r in dm["recipients"]] == [bot_id], dm
            got = await user_gw.wait_for(
                lambda p: p["t"] == "MESSAGE_CREATE" and p["d"]["id"] == message_id, 10, "the bot's DM"
            )
            message = got["d"]
            assert message["content"] == greeting and message["channel_id"] == channel_id, message
            assert message["author"]["id"] == bot_id and message["author"]["bot"] is True, message
            assert "guild_id" not in message and "member" not in message, message
            order = [p["t"] for p in user_gw.dispatches if p["d"].get("id") in (channel_id, message_id)]
            assert order.index("CHANNEL_CREATE") < order.index("MESSAGE_CREATE"), order

            # The user opens the same DM from its side and answers.
            mine = await rest.call("POST", "/users/@me/channels", token=user, json_body={"recipient_id": bot_id})
            assert mine["id"] == channel_id, mine
            listed = await rest.call("GET", "/users/@me/channels", token=user)
            assert [c["id"] for c in listed] == [channel_id], listed
            await rest.call("POST", f"/channels/{channel_id}/messages", token=user, json_body={"content": "hello bot"})
            received_channel, content = await bot.wait_line("RECEIVED", timeout=15)
            assert received_channel == channel_id and content == "hello_bot", (received_channel, content)
            await bot.wait_line("DONE", timeout=10)

            history = await rest.call("GET", f"/channels/{channel_id}/messages", token=user)
            assert [m["content"] for m in history] == ["hello bot", greeting], history
        finally:
            await bot.stop()
            await user_gw.close()
