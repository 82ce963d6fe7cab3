"""The discord.py side of the permission differential test: unmodified discord.py 2.7.1 bots
log in to an accord server, receive their guilds through the gateway (READY, GUILD_CREATE, and
GUILD_MEMBERS_CHUNK answers to the library's own op 8 requests at start-up), and write
`channel.permissions_for(member).value` for every (member, channel) pair in every guild, plus
the objects exactly as the library parsed them (for diagnostics and payload checks).

Usage: dpy_dump.py BASE_URL GATEWAY_URL TOKENS_JSON OUT_JSONL

The process keeps running (bots connected) after the first dump; the test stops it.

TOKENS_JSON is a JSON list of bot tokens. One discord.Client per token, all in this process.
Several bots are used because discord.py rate-limits its own gateway sends to 110 per minute
(discord/gateway.py GatewayRatelimiter): one chunk request per guild means one bot can chunk
about 100 guilds at start-up without waiting a minute per 110 guilds.

Line protocol on stdout (read by the test through harness.BotProcess):
  READY <bot_user_id>           one per client, when the library dispatched on_ready
  DONE <guilds> <pairs>         everything was written to OUT_JSONL
  DONE<k> <guilds> <pairs>      round k (see below) was written
  ERROR <text>
Library logs go to stderr.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import traceback

import discord
import discord.gateway
import discord.http
import yarl


def say(*parts: object) -> None:
    print(*parts, flush=True)


def overwrites_of(channel: discord.abc.GuildChannel) -> list[dict]:
    # `_overwrites` is what permissions_for reads (after the library's @everyone swap).
    return [
        {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
        for o in channel._overwrites
    ]


def dump_guild(guild: discord.Guild) -> dict:
    members = {}
    for m in guild.members:
        members[str(m.id)] = {
            "roles": [str(r) for r in m._roles],
            "communication_disabled_until": m.timed_out_until.isoformat() if m.timed_out_until else None,
            "timed_out": m.is_timed_out(),
            "bot": m.bot,
        }
    channels = {}
    perms = {}
    for ch in guild.channels:
        channels[str(ch.id)] = {
            "type": ch.type.value,
            "class": type(ch).__name__,
            "name": ch.name,
            "parent_id": str(ch.category_id) if ch.category_id else None,
            "overwrites": overwrites_of(ch),
        }
        perms[str(ch.id)] = {str(m.id): str(ch.permissions_for(m).value) for m in guild.members}
    return {
        "guild_id": str(guild.id),
        "owner_id": str(guild.owner_id),
        "member_count": guild.member_count,
        "chunked": guild.chunked,
        "roles": {str(r.id): str(r.permissions.value) for r in guild.roles},
        "members": members,
        "channels": channels,
        "permissions": perms,
    }


async def run(base: str, gateway_url: str, tokens: list[str], out_path: str) -> int:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    clients: list[discord.Client] = []
    ready_events: list[asyncio.Event] = []
    for _ in tokens:
        client = discord.Client(intents=intents, chunk_guilds_at_startup=True)
        event = asyncio.Event()

        def make_on_ready(c: discord.Client, e: asyncio.Event):
            async def on_ready() -> None:
                if not e.is_set():
                    say("READY", c.user.id)
                    e.set()

            return on_ready

        client.event(make_on_ready(client, event))  # registers as on_ready by its name
        clients.append(client)
        ready_events.append(event)

    tasks = [asyncio.create_task(c.start(t)) for c, t in zip(clients, tokens)]
    all_ready = asyncio.ensure_future(asyncio.gather(*(e.wait() for e in ready_events)))
    while not all_ready.done():
        await asyncio.wait([*tasks, all_ready], return_when=asyncio.FIRST_COMPLETED)
        for t in tasks:
            if t.done():  # a client stopped before every client was ready
                exc = t.exception()
                raise exc if exc is not None else RuntimeError("a client stopped before it was ready")

    say("DONE", *write_dump(clients, out_path))

    # Later rounds: the test changes guilds over REST while the bots stay connected, so the
    # library's cache is what our dispatches (GUILD_ROLE_*, CHANNEL_*, GUILD_MEMBER_*) made of
    # it. Round k starts when OUT_JSONL.go<k> appears: {"out": path, "sentinels": {bot_id:
    # [guild_id, name]}}. The test renamed each bot's sentinel guild last; once every client
    # shows the new name, every earlier event on its connection has been processed.
    k = 2
    while True:
        control = f"{out_path}.go{k}"
        while not os.path.exists(control):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)  # the writer renames the file into place; be safe anyway
        with open(control, encoding="utf-8") as f:
            request = json.load(f)
        deadline = asyncio.get_running_loop().time() + 30
        for c in clients:
            gid, name = request["sentinels"].get(str(c.user.id), (None, None))
            if gid is None:
                continue
            while True:
                g = c.get_guild(int(gid))
                if g is not None and g.name == name:
                    break
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"bot {c.user.id} never saw GUILD_UPDATE renaming guild {gid} to {name!r}")
                await asyncio.sleep(0.05)
        say(f"DONE{k}", *write_dump(clients, request["out"]))
        k += 1


def write_dump(clients: list[discord.Client], out_path: str) -> tuple[int, int]:
    guilds = 0
    pairs = 0
    with open(out_path, "w", encoding="utf-8") as out:
        meta = {
            "meta": {
                "discord.py": discord.__version__,
                "voice": str(discord.Permissions.voice().value),
                "all": str(discord.Permissions.all().value),
                "all_channel": str(discord.Permissions.all_channel().value),
                "bots": [str(c.user.id) for c in clients],
            }
        }
        out.write(json.dumps(meta) + "\n")
        for c in clients:
            for g in c.guilds:
                rec = dump_guild(g)
                rec["bot_id"] = str(c.user.id)
                guilds += 1
                pairs += sum(len(v) for v in rec["permissions"].values())
                out.write(json.dumps(rec) + "\n")
    return guilds, pairs


def main() -> int:
    base, gateway_url, tokens_path, out_path = sys.argv[1:5]
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    level = getattr(logging, os.environ.get("ACCORD_COMPAT_BOT_LOG", "INFO").upper(), logging.INFO)
    discord.utils.setup_logging(
        level=level,
        handler=logging.StreamHandler(sys.stderr),
        formatter=logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"),
    )
    with open(tokens_path, encoding="utf-8") as f:
        tokens = json.load(f)
    try:
        return asyncio.run(run(base, gateway_url, tokens, out_path))
    except Exception as e:
        traceback.print_exc()
        say("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "))
        return 1


if __name__ == "__main__":
    sys.exit(main())
