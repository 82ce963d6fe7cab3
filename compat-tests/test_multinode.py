"""Three accord nodes on one MongoDB-wire database and one Redis, driven by an unmodified
discord.py bot: a user posts through node A, the bot (connected to node B) receives and
replies, a user session on node C sees the reply; a role given through node C decides whether
the bot (on B) and another user (on A) receive the next message in a private channel.

Needs ACCORD_TEST_MONGODB_URI and ACCORD_TEST_REDIS_URL (scripts/test-all.sh starts both)."""

from __future__ import annotations

import asyncio
import os
import uuid

import aiohttp
import pytest

from harness import (
    BOT_PERMISSIONS,
    HERE,
    PYTHON,
    TEST_TIMEOUT,
    VIEW_CHANNEL,
    BotProcess,
    Rest,
    Server,
    UserGateway,
    accord_binary,
)


def services() -> tuple[str, str]:
    try:
        return os.environ["ACCORD_TEST_MONGODB_URI"], os.environ["ACCORD_TEST_REDIS_URL"]
    except KeyError as missing:
        raise AssertionError(
            f"{missing} is not set: source scripts/mongo-service.sh and scripts/redis-service.sh (or run scripts/test-all.sh)"
        ) from None


@pytest.fixture
def cluster(workdir):
    mongo, redis = services()
    name = f"compat_{uuid.uuid4().hex[:12]}"
    nodes = []
    try:
        for node_id, label in enumerate("abc", start=1):
            args = ["--store", "mongodb", "--mongodb-uri", mongo, "--mongodb-database", name]
            args += ["--bus", "redis", "--redis-url", redis, "--redis-prefix", name, "--node-id", str(node_id)]
            # One address makes every request here; the limits are tested elsewhere.
            args += ["--rate-limit-global", "0", "--rate-limit-route", "0"]
            node = Server(
                binary=accord_binary(),
                data_dir=workdir / f"data-{label}",
                log_path=workdir / f"server-{label}.log",
                args=args,
            )
            nodes.append(node)
            node.start()
        yield nodes
    finally:
        for node in nodes:
            node.stop()


def test_discordpy_bot_across_three_nodes(cluster, workdir):
    asyncio.run(asyncio.wait_for(flow(cluster, workdir), TEST_TIMEOUT))


async def flow(nodes: list[Server], workdir) -> None:
    a, b, c = nodes
    log_file = open(workdir / "flow.log", "a", encoding="utf-8")

    def log(line: str) -> None:
        log_file.write(line + "\n")
        log_file.flush()

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        rest_a, rest_b, rest_c = (Rest(session, n.api) for n in nodes)
        reg = await rest_a.call(
            "POST", "/auth/register", json_body={"username": "alice", "password": "correct horse battery"}, expect=(201,)
        )
        alice = reg["token"]
        guild = await rest_a.call("POST", "/guilds", token=alice, json_body={"name": "Cluster"}, expect=(201,))
        guild_id = guild["id"]
        channels = await rest_a.call("GET", f"/guilds/{guild_id}/channels", token=alice, expect=(200,))
        general = next(ch["id"] for ch in channels if ch["name"] == "general")
        app = await rest_b.call("POST", "/applications", token=alice, json_body={"name": "Pinger"}, expect=(200, 201))
        bot_id = app["id"]
        bot_token = (await rest_b.call("POST", f"/applications/{bot_id}/bot/reset", token=alice, expect=(200,)))["token"]
        await rest_c.call(
            "POST",
            f"/oauth2/authorize?client_id={bot_id}&scope=bot&permissions={BOT_PERMISSIONS}",
            token=alice,
            json_body={"guild_id": guild_id, "permissions": str(BOT_PERMISSIONS), "authorize": True},
            expect=(200,),
        )
        # Bob joins through node C and keeps a session on node A.
        bob = (
            await rest_c.call(
                "POST", "/auth/register", json_body={"username": "bob", "password": "correct horse battery"}, expect=(201,)
            )
        )["token"]
        invite = await rest_a.call("POST", f"/channels/{general}/invites", token=alice, json_body={}, expect=(200,))
        await rest_c.call("POST", f"/invites/{invite['code']}", token=bob, json_body={}, expect=(200,))

        gateway_of = {}
        for node, rest in zip(nodes, (rest_a, rest_b, rest_c)):
            gateway_of[node.port] = (await rest.call("GET", "/gateway", expect=(200,)))["url"]
        alice_on_c = UserGateway(session, gateway_of[c.port], alice, log)
        bob_on_a = UserGateway(session, gateway_of[a.port], bob, log)
        bot = BotProcess(
            [PYTHON, "-u", str(HERE / "bots" / "ping_bot.py"), b.base, gateway_of[b.port], bot_token, "cluster"],
            workdir / "bot.stdout.log",
            workdir / "bot.stderr.log",
            dict(os.environ),
            HERE,
        )
        try:
            await alice_on_c.connect()
            await bob_on_a.connect()
            await bot.start()
            assert (await bot.wait_line("READY", timeout=30)) == [bot_id]

            # 1. A user posts through node A; the bot on node B answers; node C delivers the reply.
            ping = await rest_a.call(
                "POST", f"/channels/{general}/messages", token=alice, json_body={"content": "!ping"}, expect=(200,)
            )
            replied = await bot.wait_line("REPLIED", timeout=15)
            await bot.wait_line("DONE", timeout=15)
            reply = await alice_on_c.wait_for(
                lambda d: d["t"] == "MESSAGE_CREATE" and d["d"]["id"] == replied[0], 10, "the bot's reply on node C"
            )
            assert reply["d"]["content"] == "pong"
            assert reply["d"]["message_reference"]["message_id"] == ping["id"]
            assert reply["d"]["author"]["id"] == bot_id

            # 2. A private channel: neither the bot (node B) nor bob (node A) may see it.
            secret = await rest_a.call(
                "POST",
                f"/guilds/{guild_id}/channels",
                token=alice,
                json_body={
                    "name": "secret",
                    "permission_overwrites": [{"id": guild_id, "type": 0, "deny": str(VIEW_CHANNEL), "allow": "0"}],
                },
                expect=(201,),
            )
            hidden = await rest_a.call(
                "POST", f"/channels/{secret['id']}/messages", token=alice, json_body={"content": "!ping"}, expect=(200,)
            )
            await asyncio.sleep(2)
            assert not [line for line in bot.lines if line.startswith("AGAIN")], "the bot saw a channel it may not view"
            assert not [d for d in bob_on_a.dispatches if d["t"] == "MESSAGE_CREATE" and d["d"]["id"] == hidden["id"]]

            # 3. Through node C: a role that may view the channel, given to the bot and to bob.
            role = await rest_c.call(
                "POST", f"/guilds/{guild_id}/roles", token=alice, json_body={"name": "insiders"}, expect=(200,)
            )
            await rest_c.call(
                "PUT",
                f"/channels/{secret['id']}/permissions/{role['id']}",
                token=alice,
                json_body={"type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"},
                expect=(204,),
            )
            bob_id = bob_on_a.ready["user"]["id"]
            for member in (bot_id, bob_id):
                await rest_c.call(
                    "PUT", f"/guilds/{guild_id}/members/{member}/roles/{role['id']}", token=alice, expect=(204,)
                )
            await bob_on_a.wait_for(
                lambda d: d["t"] == "GUILD_MEMBER_UPDATE" and role["id"] in d["d"]["roles"], 10, "bob's new role"
            )
            visible = await rest_a.call(
                "POST", f"/channels/{secret['id']}/messages", token=alice, json_body={"content": "!ping"}, expect=(200,)
            )
            again = await bot.wait_line("AGAIN", timeout=15)
            await bob_on_a.wait_for(
                lambda d: d["t"] == "MESSAGE_CREATE" and d["d"]["id"] == visible["id"], 10, "the private message on node A"
            )
            answer = await rest_c.call("GET", f"/channels/{secret['id']}/messages/{again[0]}", token=alice, expect=(200,))
            assert answer["message_reference"]["message_id"] == visible["id"]
            # The bot answered only the ping it could see.
            history = await rest_b.call("GET", f"/channels/{secret['id']}/messages", token=alice, expect=(200,))
            answered = [m["message_reference"]["message_id"] for m in history if m["author"]["id"] == bot_id]
            assert answered == [visible["id"]], answered
        finally:
            await bot.stop()
            await alice_on_c.close()
            await bob_on_a.close()
            log_file.close()
