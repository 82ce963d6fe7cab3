"""An unmodified discord.py client that sends a burst of messages faster than the server's
global limit allows, so it meets 429s; it must wait `retry_after` and get every message out.

Usage: burst_bot.py BASE_URL BOT_TOKEN CHANNEL_ID COUNT

stdout: SENT <id> <id> ...   (after every send succeeded), or ERROR <text>
Library logs (its rate-limit warnings included) go to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback

import discord
import discord.http


async def main() -> int:
    base, token, channel_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        channel = await client.fetch_channel(channel_id)
        # Concurrent sends: the library's own pacing cannot see the global limit coming.
        sent = await asyncio.gather(*(channel.send(f"burst {n}") for n in range(count)))
        print("SENT", *(m.id for m in sent), flush=True)
        return 0
    except Exception as e:
        traceback.print_exc()
        print("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "), flush=True)
        return 1
    finally:
        await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
