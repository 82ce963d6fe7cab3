"""discord.py 2.7.1, unmodified, against a fresh accord server."""

from __future__ import annotations

from harness import HERE, PYTHON, run_flow


def test_discordpy_ping_pong_channel_role(server, workdir):
    """A discord.py bot logs in, answers "!ping" with a reply, creates a channel and a role,
    gives itself the role; the user's gateway session sees the reply."""
    result = run_flow(
        server,
        workdir,
        tag="py",
        bot_argv=lambda base, gateway, token: [PYTHON, "-u", str(HERE / "bots" / "ping_bot.py"), base, gateway, token, "py"],
    )
    assert result.reply["content"] == "pong"
