"""An unmodified discord.py bot exchanging direct messages with a user: it DMs the user
(`user.send`), then waits for the user's DM back.

Usage: dm_bot.py BASE_URL BOT_TOKEN USER_ID

stdout: `SENT <channel_id> <message_id>` once its DM is sent, `RECEIVED <channel_id> <content>`
(spaces as `_`) when the user's DM arrives, then `DONE`; or `ERROR <text>`. Library logs go to
stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback

import discord
import discord.gateway
import discord.http
import yarl


def say(*parts: object) -> None:
    print(*parts, flush=True)


async def main() -> int:
    base, token, user_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(base.replace("http", "ws", 1) + "/")
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    # No MESSAGE_CONTENT: Discord shows bots the content of their DMs regardless.
    client = discord.Client(intents=discord.Intents(guilds=True, dm_messages=True))
    finished = asyncio.Event()
    failure: list[str] = []

    @client.event
    async def on_ready() -> None:
        try:
            user = await client.fetch_user(user_id)
            sent = await user.send("hello from discord.py")
            say("SENT", sent.channel.id, sent.id)
        except Exception as e:
            traceback.print_exc()
            failure.append(f"{type(e).__name__}: {e}")
            finished.set()

    @client.event
    async def on_message(message: discord.Message) -> None:
        if message.author.id != user_id:
            return
        if not isinstance(message.channel, discord.DMChannel) or message.guild is not None:
            failure.append(f"the user's message arrived outside a DM: {message.channel!r}")
        else:
            say("RECEIVED", message.channel.id, message.content.replace(" ", "_"))
        finished.set()

    runner = asyncio.create_task(client.start(token))
    try:
        done, _ = await asyncio.wait(
            [runner, asyncio.create_task(finished.wait())], return_when=asyncio.FIRST_COMPLETED
        )
        if runner in done:
            runner.result()
            failure.append("the client stopped")
        if failure:
            say("ERROR", failure[0].replace("\n", " "))
            return 1
        say("DONE")
        return 0
    except Exception as e:
        traceback.print_exc()
        say("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "))
        return 1
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
