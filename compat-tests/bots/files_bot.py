"""An unmodified discord.py client uploading files: `channel.send(file=discord.File(...))`,
reading the bytes back with `attachment.read()`, then editing the message to add a file and to
remove them all.

Usage: files_bot.py BASE_URL BOT_TOKEN CHANNEL_ID

stdout: `SENT <message id> <attachment id> <filename> <size> <content type> <sha256>`,
`READ <sha256>`, `EDITED <attachment count> <sha256 of the new file>`, `CLEARED <count>`, then
`DONE`, or `ERROR <text>`. Library logs go to stderr.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import sys
import traceback

import discord
import discord.http

# The same bytes the discord.js bot sends (every byte value, then a marker).
PAYLOAD = bytes(range(256)) * 64 + b"accord files compat"
EXTRA = b"second file\n"


def say(*parts: object) -> None:
    print(*parts, flush=True)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def main() -> int:
    base, token, channel_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    client = discord.Client(intents=discord.Intents.none())
    try:
        await client.login(token)
        channel = await client.fetch_channel(channel_id)
        sent = await channel.send(
            "a file from discord.py",
            file=discord.File(io.BytesIO(PAYLOAD), filename="payload.bin", description="compat bytes"),
        )
        attachment = sent.attachments[0]
        say("SENT", sent.id, attachment.id, attachment.filename, attachment.size, attachment.content_type, sha(PAYLOAD))
        data = await attachment.read()
        say("READ", sha(data))

        edited = await sent.edit(attachments=[attachment, discord.File(io.BytesIO(EXTRA), filename="extra.txt")])
        extra = next(a for a in edited.attachments if a.filename == "extra.txt")
        say("EDITED", len(edited.attachments), sha(await extra.read()))
        cleared = await edited.edit(attachments=[])
        say("CLEARED", len(cleared.attachments))
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
