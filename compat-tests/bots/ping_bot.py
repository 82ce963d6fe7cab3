"""An unmodified discord.py bot, pointed at an accord server.

Usage: ping_bot.py BASE_URL GATEWAY_URL BOT_TOKEN TAG

Line protocol on stdout (read by compat-tests/harness.py):
  READY <bot_user_id>
  REPLIED <reply_message_id>
  DONE <created_channel_id> <created_role_id>
  AGAIN <reply_message_id>       (every later "!ping": replied "pong" again)
  ERROR <text>
Library logs (DEBUG, with every request and gateway event) go to stderr.
"""

from __future__ import annotations

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


def main() -> int:
    base, gateway_url, token, tag = sys.argv[1:5]

    # Point the library at our server (discord/http.py Route.BASE, discord/gateway.py DEFAULT_GATEWAY).
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)

    level = getattr(logging, os.environ.get("ACCORD_COMPAT_BOT_LOG", "DEBUG").upper(), logging.DEBUG)
    discord.utils.setup_logging(
        level=level,
        handler=logging.StreamHandler(sys.stderr),
        formatter=logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"),
    )

    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.Client(intents=intents)
    state = {"ready": False, "handled": False}

    @client.event
    async def on_ready() -> None:
        if state["ready"]:
            return
        state["ready"] = True
        names = [g.name for g in client.guilds]
        print(f"discord.py {discord.__version__} ready as {client.user} in guilds {names}", file=sys.stderr, flush=True)
        say("READY", client.user.id)

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.bot or message.content != "!ping":
            return
        if state["handled"]:
            # Later pings (e.g. after a forced reconnect) only get the reply.
            try:
                again = await message.reply("pong")
                say("AGAIN", again.id)
            except Exception as e:
                traceback.print_exc()
                say("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "))
            return
        state["handled"] = True
        try:
            reply = await message.reply("pong")
            say("REPLIED", reply.id)

            guild = message.guild
            if guild is None:
                raise RuntimeError(f"message {message.id} has no guild (the library took it for a DM)")
            channel = await guild.create_text_channel(f"{tag}-created")
            role = await guild.create_role(name=f"{tag}-role")
            me = guild.me
            if me is None:
                me = await guild.fetch_member(client.user.id)
            await me.add_roles(role)
            say("DONE", channel.id, role.id)
        except Exception as e:  # report, keep running so the test can read the logs
            traceback.print_exc()
            say("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "))

    try:
        client.run(token, log_handler=None)
    except Exception as e:
        traceback.print_exc()
        say("ERROR", f"client.run raised {type(e).__name__}: {e}".replace("\n", " "))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
