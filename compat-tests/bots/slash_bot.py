"""An unmodified discord.py bot with one guild slash command: `tree.sync(guild=...)` registers
`/echo text:<str>`; the command answers at once with the text and a button; the button edits
the message.

Usage: slash_bot.py BASE_URL GATEWAY_URL BOT_TOKEN GUILD_ID

stdout: `SYNCED <command_id>`, `INVOKED <interaction_id>`, `CLICKED <message_id>`, or
`ERROR <text>`. Library logs go to stderr.
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
from discord import app_commands


def say(*parts: object) -> None:
    print(*parts, flush=True)


class Bump(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Bump", custom_id="bump")
    async def bump(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        try:
            await interaction.response.edit_message(content="bumped", view=None)
            say("CLICKED", interaction.message.id if interaction.message else "?")
        except Exception as e:
            traceback.print_exc()
            say("ERROR", f"button: {type(e).__name__}: {e}".replace("\n", " "))


async def main() -> int:
    base, gateway, token, guild_id = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    discord.http.Route.BASE = f"{base}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)
    discord.utils.setup_logging(level=logging.DEBUG, handler=logging.StreamHandler(sys.stderr))
    client = discord.Client(intents=discord.Intents.default())
    tree = app_commands.CommandTree(client)
    guild = discord.Object(id=guild_id)

    @tree.command(name="echo", description="Says it back", guild=guild)
    @app_commands.describe(text="what to say")
    async def echo(interaction: discord.Interaction, text: str) -> None:
        try:
            say("INVOKED", interaction.id, interaction.user.id, interaction.permissions.value)
            await interaction.response.send_message(f"echo: {text}", view=Bump())
        except Exception as e:
            traceback.print_exc()
            say("ERROR", f"echo: {type(e).__name__}: {e}".replace("\n", " "))

    @client.event
    async def on_ready() -> None:
        try:
            synced = await tree.sync(guild=guild)
            say("SYNCED", *(c.id for c in synced))
        except Exception as e:
            traceback.print_exc()
            say("ERROR", f"sync: {type(e).__name__}: {e}".replace("\n", " "))

    try:
        await client.start(token)
        return 0
    except Exception as e:
        traceback.print_exc()
        say("ERROR", f"{type(e).__name__}: {e}".replace("\n", " "))
        return 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
