"""discord.py and discord.js each create a webhook, execute it (bot-side `webhook.send`, then
token-only: discord.py's `Webhook.from_url` with its own aiohttp session, discord.js's
`WebhookClient`), edit the token-sent message and delete the webhook; a user's gateway session
sees the messages arrive with `webhook_id`, and REST shows them."""

from __future__ import annotations

import asyncio
import shutil

import aiohttp
import pytest

from harness import BOT_PERMISSIONS, HERE, PYTHON, Rest, UserGateway

MANAGE_WEBHOOKS = 1 << 29


@pytest.mark.parametrize("library", ["discord.py", "discord.js"])
def test_webhooks(server, workdir, library):
    asyncio.run(flow(server, workdir, library))


async def flow(server, workdir, library: str) -> None:
    log_file = open(workdir / "flow.log", "w")

    def log(line: str) -> None:
        log_file.write(line + "\n")
        log_file.flush()

    async with aiohttp.ClientSession() as session:
        rest = Rest(session, server.api)
        channel_id, token, user, app_id = await setup(rest)
        gateway_url = (await rest.call("GET", "/gateway"))["url"]
        watcher = UserGateway(session, gateway_url, user, log)
        await watcher.connect(timeout=10)
        try:
            if library == "discord.py":
                argv = [PYTHON, "-u", str(HERE / "bots" / "webhook_bot.py"), server.base, token, channel_id]
            else:
                node = shutil.which("node")
                assert node, "node is not installed (compat-tests/run.sh expects Node.js >= 18)"
                argv = [node, str(HERE / "js" / "webhooks.js"), server.base, token, channel_id]
            with open(workdir / "webhook-bot.stderr.log", "wb") as stderr:
                proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=stderr)
                raw, _ = await asyncio.wait_for(proc.communicate(), 60)
            out = raw.decode()
            log("bot stdout:\n" + out)
            assert proc.returncode == 0 and "DONE" in out, out
            lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line}

            hook_id, has_token = lines["CREATED"]
            assert has_token == "True", lines
            sent_id, sent_webhook, sent_author = lines["SENT"]
            assert sent_webhook == hook_id, lines
            assert sent_author == ("py_hook" if library == "discord.py" else "js_hook"), lines
            second_id, second_author = lines["FROM_URL"]
            assert second_author == ("py_override" if library == "discord.py" else "js_override"), lines
            assert lines["FETCHED"][0] == hook_id, lines
            assert lines["EDITED"] == [second_id, "edited_by_token"], lines
            assert lines["DELETED"] == [hook_id], lines

            # The user's session saw both messages as the webhook's, and the edit.
            for message_id in (sent_id, second_id):
                event = await watcher.wait_for(
                    lambda d, m=message_id: d["t"] == "MESSAGE_CREATE" and d["d"]["id"] == m,
                    10,
                    f"MESSAGE_CREATE {message_id}",
                )
                assert event["d"]["webhook_id"] == hook_id, event
                assert event["d"]["author"]["id"] == hook_id, event
                assert event["d"]["author"]["discriminator"] == "0000", event
                assert "member" not in event["d"], event
            update = await watcher.wait_for(
                lambda d: d["t"] == "MESSAGE_UPDATE" and d["d"]["id"] == second_id, 10, "MESSAGE_UPDATE"
            )
            assert update["d"]["content"] == "edited by token", update

            stored = await rest.call("GET", f"/channels/{channel_id}/messages", token=user)
            by_id = {m["id"]: m for m in stored}
            assert by_id[sent_id]["webhook_id"] == hook_id, stored
            # The bot made the webhook, so its messages carry the bot's application.
            assert by_id[sent_id]["application_id"] == app_id, stored
            assert by_id[second_id]["content"] == "edited by token", stored
            assert by_id[second_id]["author"]["username"].endswith("override"), stored
            # Deleted through the library: gone from the channel's list.
            assert await rest.call("GET", f"/channels/{channel_id}/webhooks", token=user) == []
        finally:
            await watcher.close()
            log_file.close()


async def setup(rest: Rest) -> tuple[str, str, str, str]:
    user = (
        await rest.call("POST", "/auth/register", json_body={"username": "owner", "password": "correct horse battery"})
    )["token"]
    guild = await rest.call("POST", "/guilds", token=user, json_body={"name": "Hooks"})
    channels = await rest.call("GET", f"/guilds/{guild['id']}/channels", token=user)
    general = next(c["id"] for c in channels if c["name"] == "general")
    app = await rest.call("POST", "/applications", token=user, json_body={"name": "Hooks"})
    token = (await rest.call("POST", f"/applications/{app['id']}/bot/reset", token=user))["token"]
    permissions = BOT_PERMISSIONS | MANAGE_WEBHOOKS
    await rest.call(
        "POST",
        f"/oauth2/authorize?client_id={app['id']}&scope=bot&permissions={permissions}",
        token=user,
        json_body={"guild_id": guild["id"], "permissions": str(permissions), "authorize": True},
    )
    return general, token, user, app["id"]
