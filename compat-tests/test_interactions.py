"""discord.py (`app_commands`, `tree.sync(guild=...)`) and discord.js (`guild.commands.create`)
each register a guild slash command with an option; a user invokes it through
`POST /interactions` (plain HTTP and a raw gateway session, as Discord's client does); the bot
answers (discord.py at once, discord.js deferred then edited); the user's session sees the
answer; the user clicks the answer's button and the bot updates the message."""

from __future__ import annotations

import asyncio
import os
import shutil

import aiohttp
import pytest

from harness import BOT_PERMISSIONS, HERE, PYTHON, TEST_TIMEOUT, BotProcess, Rest, UserGateway

USE_APPLICATION_COMMANDS = 1 << 31


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_slash_command_and_button(server, workdir, library):
    asyncio.run(asyncio.wait_for(flow(server, workdir, library), TEST_TIMEOUT))


async def flow(server, workdir, library: str) -> None:
    log_file = open(workdir / "flow.log", "a", encoding="utf-8")

    def log(line: str) -> None:
        log_file.write(line + "\n")
        log_file.flush()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        rest = Rest(session, server.api)
        user = (
            await rest.call("POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"})
        )["token"]
        me = await rest.call("GET", "/users/@me", token=user)
        guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Slash"})
        channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
        general = next(c["id"] for c in channels if c["name"] == "general")
        app = await rest.call("POST", "/applications", token=user, json_body={"name": "Slash"})
        app_id = app["id"]
        token = (await rest.call("POST", f"/applications/{app_id}/bot/reset", token=user))["token"]
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app_id}&scope=bot&permissions={BOT_PERMISSIONS}",
            token=user,
            json_body={"guild_id": guild["id"], "permissions": str(BOT_PERMISSIONS), "authorize": True},
        )
        gateway_url = (await rest.call("GET", "/gateway"))["url"]
        user_gw = UserGateway(session, gateway_url, user, log)
        await user_gw.connect()

        if library == "discord.py":
            argv = [PYTHON, "-u", str(HERE / "bots" / "slash_bot.py"), server.base, gateway_url, token, guild["id"]]
        else:
            node = shutil.which("node")
            assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
            argv = [node, str(HERE / "js" / "slash.js"), server.base, token, guild["id"]]
        bot = BotProcess(argv, workdir / "bot.stdout.log", workdir / "bot.stderr.log", dict(os.environ), HERE)
        await bot.start()
        try:
            (command_id,) = await bot.wait_line("SYNCED", 30)
            commands = await rest.call("GET", f"/applications/{app_id}/guilds/{guild['id']}/commands", token=user)
            command = next(c for c in commands if c["id"] == command_id)
            assert command["name"] == "echo" and command["options"][0]["name"] == "text", command
            assert command["options"][0]["type"] == 3 and command["options"][0]["required"] is True, command

            # The user runs /echo text:hello, as Discord's client does.
            await rest.call(
                "POST",
                "/interactions",
                token=user,
                json_body={
                    "type": 2,
                    "application_id": app_id,
                    "guild_id": guild["id"],
                    "channel_id": general,
                    "session_id": user_gw.ready["session_id"],
                    "nonce": "1001",
                    "data": {
                        "id": command_id,
                        "name": "echo",
                        "type": 1,
                        "version": command["version"],
                        "options": [{"type": 3, "name": "text", "value": "hello"}],
                    },
                },
                expect=(204,),
            )
            interaction_id, invoker, permissions = await bot.wait_line("INVOKED", 15)
            assert invoker == me["id"], (invoker, me)
            assert int(permissions) & USE_APPLICATION_COMMANDS, permissions

            def is_answer(d: dict) -> bool:
                m = d["d"]
                return (
                    d["t"] in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
                    and m.get("content") == "echo: hello"
                    and m.get("author", {}).get("id") == app_id
                )

            answer = (await user_gw.wait_for(is_answer, 15, "the bot's answer"))["d"]
            assert answer["type"] == 20, answer
            assert answer["interaction_metadata"]["id"] == interaction_id, answer
            assert answer["interaction_metadata"]["user"]["id"] == me["id"], answer
            assert answer["application_id"] == app_id and answer["webhook_id"] == app_id, answer
            assert not answer["flags"] & (1 << 7), "still loading"
            button = answer["components"][0]["components"][0]
            assert button["custom_id"] == "bump", answer

            # The user clicks the button; the bot updates the message.
            await rest.call(
                "POST",
                "/interactions",
                token=user,
                json_body={
                    "type": 3,
                    "application_id": app_id,
                    "guild_id": guild["id"],
                    "channel_id": general,
                    "message_id": answer["id"],
                    "session_id": user_gw.ready["session_id"],
                    "nonce": "1002",
                    "data": {"component_type": 2, "custom_id": "bump"},
                },
                expect=(204,),
            )
            (clicked,) = await bot.wait_line("CLICKED", 15)
            assert clicked == answer["id"], (clicked, answer["id"])
            update = await user_gw.wait_for(
                lambda d: d["t"] == "MESSAGE_UPDATE" and d["d"]["id"] == answer["id"] and d["d"]["content"] == "bumped",
                15,
                "the bumped message",
            )
            assert update["d"]["components"] == [], update
            stored = await rest.call("GET", f"/channels/{general}/messages/{answer['id']}", token=user)
            assert stored["content"] == "bumped" and stored["interaction_metadata"]["id"] == interaction_id, stored
        finally:
            await bot.stop()
            await user_gw.close()
            log_file.close()
