"""An unmodified discord.py client using webhooks: `channel.create_webhook`, `webhook.send`
(wait=True), then the same webhook through `discord.Webhook.from_url` with its own aiohttp
session (token only, no bot token): send with a username override, fetch, edit the message,
and finally delete the webhook.

discord.py builds every webhook request from `discord.http.Route.BASE` (webhook/async_.py
imports `Route` from discord.http), so pointing `Route.BASE` at accord covers webhooks too.
`Webhook.from_url` only accepts discord.com URLs (a regex on the domain), so the URL handed to
it is the discord.com form of our webhook's id and token; the requests still go to Route.BASE.

Usage: webhook_bot.py BASE_URL BOT_TOKEN CHANNEL_ID

stdout: `CREATED <webhook_id> <has_token>`, `SENT <message_id> <webhook_id> <author_name>`,
`FROM_URL <message_id> <author_name>`, `FETCHED <webhook_id> <name>`, `EDITED <message_id>
<content>`, `DELETED <webhook_id>`, then `DONE`, or `ERROR <text>`. Library logs go to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback

import aiohttp
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
        hook = await channel.create_webhook(name="py hook", reason="compat test")
        say("CREATED", hook.id, hook.token is not None)
        sent = await hook.send("from discord.py webhook", wait=True)
        say("SENT", sent.id, sent.webhook_id, sent.author.name.replace(" ", "_"))

        async with aiohttp.ClientSession() as session:
            url = f"https://discord.com/api/webhooks/{hook.id}/{hook.token}"
            by_url = discord.Webhook.from_url(url, session=session)
            second = await by_url.send("from_url", username="py override", wait=True)
            say("FROM_URL", second.id, second.author.name.replace(" ", "_"))
            fetched = await by_url.fetch()
            say("FETCHED", fetched.id, fetched.name.replace(" ", "_"))
            edited = await by_url.edit_message(second.id, content="edited by token")
            say("EDITED", edited.id, edited.content.replace(" ", "_"))

        await hook.delete(reason="compat test")
        say("DELETED", hook.id)
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
