"""discord.js 14.28.1, unmodified, against a fresh accord server."""

from __future__ import annotations

import shutil

import pytest

from harness import HERE, run_flow

JS_DIR = HERE / "js"
NODE = shutil.which("node")


def test_discordjs_ping_pong_channel_role(server, workdir):
    """A discord.js bot logs in, answers "!ping" with a reply, creates a channel and a role,
    gives itself the role; the user's gateway session sees the reply."""
    if NODE is None:
        pytest.fail("node is not installed (compat-tests/run.sh expects Node.js >= 18 with npm)")
    if not (JS_DIR / "node_modules" / "discord.js").is_dir():
        pytest.fail("discord.js is not installed: run `bash compat-tests/run.sh` (it runs npm ci in compat-tests/js)")
    result = run_flow(
        server,
        workdir,
        tag="js",
        # discord.js finds the gateway itself through GET /api/v10/gateway/bot.
        bot_argv=lambda base, gateway, token: [NODE, str(JS_DIR / "ping_bot.js"), base, token, "js"],
    )
    assert result.reply["content"] == "pong"
