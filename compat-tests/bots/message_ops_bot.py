"""An unmodified discord.py client exercising message operations over REST: send, edit,
suppress embeds, pin, list pins, unpin, delete, bulk delete.

Usage: message_ops_bot.py BASE_URL BOT_TOKEN CHANNEL_ID

stdout: one line per step (`EDITED <id> <content>`, `PINNED <ids>`, ...), then `DONE`, or
`ERROR <text>`. Library logs go to stderr.
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


async def main() -> int:
    base, token, channel_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        channel = await client.fetch_channel(channel_id)
        first = await channel.send("first draft")
        edited = await first.edit(content="second draft")
        say("EDITED", edited.id, edited.content.replace(" ", "_"), edited.edited_at is not None)

        with_embed = await channel.send("with embed", embed=discord.Embed(title="t", description="d"))
        suppressed = await with_embed.edit(suppress=True)
        say("SUPPRESSED", suppressed.id, suppressed.flags.suppress_embeds)

        await first.pin(reason="compat test")
        await with_embed.pin()
        pins = [m async for m in channel.pins()]
        say("PINNED", *(m.id for m in pins))
        await with_embed.unpin()
        pins = [m async for m in channel.pins()]
        say("AFTER_UNPIN", *(m.id for m in pins))

        await first.delete()
        say("DELETED", first.id)
        batch = [await channel.send(f"bulk {n}") for n in range(3)]
        await channel.delete_messages(batch)
        say("BULK_DELETED", *(m.id for m in batch))
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
