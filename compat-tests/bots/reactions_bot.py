"""An unmodified discord.py client reacting to a message over REST: add unicode and custom
reactions, read them back on the message, list who reacted, remove its own and someone else's
reaction, clear one emoji, clear all.

Usage: reactions_bot.py BASE_URL BOT_TOKEN GUILD_ID CHANNEL_ID MESSAGE_ID EMOJI_ID OTHER_USER_ID

stdout: one line per step (`REACTIONS <name>:<count>:<me> ...`, `USERS <ids>`, `AFTER ...`,
`CLEARED_EMOJI ...`, `CLEARED_ALL ...`), then `DONE`, or `ERROR <text>`. Library logs go to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback

import discord
import discord.http


def say(*parts: object) -> None:
    print(*parts, flush=True)


def summary(message: discord.Message) -> list[str]:
    return [f"{getattr(r.emoji, 'name', r.emoji)}:{r.count}:{r.me}" for r in message.reactions]


async def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    guild_id, channel_id, message_id, emoji_id, other_id = (int(a) for a in sys.argv[3:8])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        guild = await client.fetch_guild(guild_id)
        custom = await guild.fetch_emoji(emoji_id)
        channel = await client.fetch_channel(channel_id)
        message = await channel.fetch_message(message_id)
        for emoji in ("👍", "🎉", custom):
            await message.add_reaction(emoji)
        message = await channel.fetch_message(message_id)
        say("REACTIONS", *summary(message))
        thumbs = next(r for r in message.reactions if r.emoji == "👍")
        say("USERS", *[u.id async for u in thumbs.users()])

        await message.remove_reaction("🎉", client.user)
        await message.remove_reaction("👍", discord.Object(id=other_id))
        message = await channel.fetch_message(message_id)
        say("AFTER", *summary(message))
        await message.clear_reaction(custom)
        message = await channel.fetch_message(message_id)
        say("CLEARED_EMOJI", *summary(message))
        await message.clear_reactions()
        message = await channel.fetch_message(message_id)
        say("CLEARED_ALL", *summary(message))
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
