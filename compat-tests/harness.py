"""Shared machinery for accord's compatibility tests.

Everything here talks to a freshly started `accord` server over real HTTP and
WebSocket connections: a tiny REST helper, a raw user gateway client (aiohttp),
a bot subprocess wrapper, and the common "!ping" flow that both the discord.py
and the discord.js tests run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import aiohttp

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent

# Discord permission bits (https://discord.com/developers/docs/topics/permissions).
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_ROLES = 1 << 28
BOT_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | MANAGE_CHANNELS | MANAGE_ROLES

# Gateway intents.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15

# Message type of a reply.
MESSAGE_TYPE_REPLY = 19

# Budget for a whole test (the flow wraps everything in asyncio.wait_for).
TEST_TIMEOUT = float(os.environ.get("ACCORD_COMPAT_TIMEOUT", "60"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accord_binary() -> Path:
    env = os.environ.get("ACCORD_BIN")
    if env:
        return Path(env).resolve()
    return REPO_ROOT / "target" / "debug" / "accord"


def tail(path: Path, limit: int = 60_000) -> str:
    """The last `limit` characters of a log file (or a note that it is missing)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return f"<{path} does not exist>"
    text = data.decode("utf-8", "replace")
    if len(text) > limit:
        text = f"... [{len(text) - limit} characters cut] ...\n" + text[-limit:]
    return text or "<empty>"


# --------------------------------------------------------------------------- server


class ServerError(Exception):
    pass


@dataclass
class Server:
    """One `accord` process on a free port with its own temporary data directory."""

    binary: Path
    data_dir: Path
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: Optional[subprocess.Popen] = None
    # Extra command-line arguments (e.g. the store and bus of a multi-node cluster).
    args: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.base}/api/v10"

    def start(self, timeout: float = 20.0) -> None:
        if not self.binary.exists():
            raise ServerError(
                f"server binary {self.binary} not found: run `cargo build` in {REPO_ROOT} or set ACCORD_BIN"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info,accord=debug")
        env.setdefault("RUST_BACKTRACE", "1")
        env.setdefault("NO_COLOR", "1")  # plain log lines in failure reports
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--data-dir",
                str(self.data_dir),
                *self.args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(self.data_dir),
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"server exited with code {self.proc.returncode} before it answered")
            try:
                with urllib.request.urlopen(f"{self.api}/gateway", timeout=2) as resp:
                    body = resp.read()
                    if resp.status == 200:
                        url = json.loads(body).get("url")
                        if not url:
                            raise ServerError(f"GET /api/v10/gateway answered without url: {body!r}")
                        return
                    last = f"status {resp.status}"
            except urllib.error.HTTPError as e:
                last = f"HTTP {e.code}"
            except (urllib.error.URLError, ConnectionError, OSError) as e:
                last = repr(e)
            time.sleep(0.1)
        raise ServerError(f"server did not answer GET /api/v10/gateway within {timeout}s ({last})")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()


# --------------------------------------------------------------------------- REST


class RestError(AssertionError):
    pass


class Rest:
    """Minimal REST client: every call checks the status and shows the body when it is wrong."""

    def __init__(self, session: aiohttp.ClientSession, api: str):
        self.session = session
        self.api = api

    async def call(
        self,
        method: str,
        path: str,
        *,
        token: Optional[str] = None,
        json_body: Any = None,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> Any:
        headers = {}
        if token is not None:
            headers["Authorization"] = token
        url = self.api + path
        async with self.session.request(method, url, json=json_body, headers=headers) as resp:
            raw = await resp.read()
            ctype = resp.headers.get("Content-Type")
            if resp.status not in expect:
                raise RestError(
                    f"{method} {path} body={json.dumps(json_body)} -> {resp.status} "
                    f"(expected {expect}); Content-Type={ctype!r}; body={raw[:2000]!r}"
                )
            if resp.status == 204 or not raw:
                return None
            if ctype != "application/json":
                raise RestError(
                    f"{method} {path} -> {resp.status} with Content-Type {ctype!r}, "
                    f"expected exactly 'application/json' (discord.py http.py:113 json_or_text); body={raw[:500]!r}"
                )
            return json.loads(raw)


# --------------------------------------------------------------------------- user gateway


class UserGateway:
    """A raw gateway session for a user: HELLO, heartbeats, IDENTIFY, then collect dispatches."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        log: Callable[[str], None],
        intents: int = INTENT_GUILDS | INTENT_GUILD_MESSAGES | INTENT_MESSAGE_CONTENT,
    ):
        self.intents = intents
        self.session = session
        self.url = url
        self.token = token
        self.log = log
        self.ws: Optional[aiohttp.ClientWebSocketResponse] = None
        self.dispatches: list[dict] = []
        self.ready: Optional[dict] = None
        self.closed: Optional[str] = None
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task] = []
        self.seq: Optional[int] = None
        self._closing = False

    async def connect(self, timeout: float = 10.0) -> dict:
        sep = "&" if "?" in self.url else "?"
        url = f"{self.url}{sep}v=10&encoding=json"
        self.log(f"user gateway: connecting to {url}")
        self.ws = await self.session.ws_connect(url, heartbeat=None, autoping=True, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        hello = await asyncio.wait_for(self.ws.receive_json(), timeout)
        self.log(f"user gateway: <- {json.dumps(hello)[:300]}")
        assert hello.get("op") == 10, f"first gateway frame is not HELLO (op 10): {hello}"
        interval = hello["d"]["heartbeat_interval"]
        self._tasks.append(asyncio.create_task(self._reader()))
        self._tasks.append(asyncio.create_task(self._heartbeat(interval / 1000.0)))
        await self.ws.send_json(
            {
                "op": 2,
                "d": {
                    "token": self.token,
                    "properties": {"os": "linux", "browser": "accord-compat-tests", "device": "accord-compat-tests"},
                    "intents": self.intents,
                },
            }
        )
        await self.wait_for(lambda d: d["t"] == "READY", timeout, "READY")
        return self.ready

    async def _heartbeat(self, interval: float) -> None:
        try:
            while True:
                await self.ws.send_json({"op": 1, "d": self.seq})
                await asyncio.sleep(interval)
        except (asyncio.CancelledError, ConnectionError, RuntimeError):
            pass

    async def _reader(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    payload = json.loads(msg.data)
                elif msg.type == aiohttp.WSMsgType.BINARY:
                    self.log(f"user gateway: unexpected binary frame ({len(msg.data)} bytes)")
                    continue
                else:
                    continue
                op = payload.get("op")
                if payload.get("s") is not None:
                    self.seq = payload["s"]
                if op == 0:
                    self.log(f"user gateway: <- dispatch {payload.get('t')} {json.dumps(payload.get('d'))[:2000]}")
                    async with self._changed:
                        if payload.get("t") == "READY":
                            self.ready = payload["d"]
                        self.dispatches.append(payload)
                        self._changed.notify_all()
                elif op != 11:
                    self.log(f"user gateway: <- op {op}: {json.dumps(payload)[:300]}")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # pragma: no cover - diagnostic only
            self.log(f"user gateway: reader error {e!r}")
        finally:
            code = self.ws.close_code if self.ws else None
            self.closed = "closed by the test" if self._closing else f"closed by the server, code {code}"
            self.log(f"user gateway: {self.closed}")
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, pred: Callable[[dict], bool], timeout: float, what: str) -> dict:
        async def waiter() -> dict:
            async with self._changed:
                while True:
                    for d in self.dispatches:
                        if pred(d):
                            return d
                    if self.closed:
                        raise AssertionError(f"user gateway {self.closed} while waiting for {what}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            seen = [d.get("t") for d in self.dispatches]
            raise AssertionError(f"user gateway: no {what} within {timeout}s; dispatches seen: {seen}") from None

    async def close(self) -> None:
        self._closing = True
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        if self.ws is not None and not self.ws.closed:
            await self.ws.close()


# --------------------------------------------------------------------------- bot process


class BotProcess:
    """A bot library running in its own process. It speaks a tiny line protocol on stdout:

    READY <bot_user_id>            the library reported that it is ready
    REPLIED <message_id>           message.reply("pong") returned
    DONE <channel_id> <role_id>    channel created, role created and added to itself
    ERROR <text>                   something raised (traceback on stderr)
    """

    def __init__(self, argv: list[str], stdout_log: Path, stderr_log: Path, env: dict[str, str], cwd: Path):
        self.argv = argv
        self.stdout_log = stdout_log
        self.stderr_log = stderr_log
        self.env = env
        self.cwd = cwd
        self.proc: Optional[asyncio.subprocess.Process] = None
        self.lines: list[str] = []
        self._changed = asyncio.Condition()
        self._reader_task: Optional[asyncio.Task] = None
        self.exited: Optional[int] = None

    async def start(self) -> None:
        self._stderr = open(self.stderr_log, "wb")
        self._stdout = open(self.stdout_log, "w", encoding="utf-8")
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._stderr,
            env=self.env,
            cwd=str(self.cwd),
            start_new_session=True,
        )
        self._reader_task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc and self.proc.stdout
        while True:
            raw = await self.proc.stdout.readline()
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self._stdout.write(line + "\n")
            self._stdout.flush()
            async with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        rc = await self.proc.wait()
        async with self._changed:
            self.exited = rc
            self._changed.notify_all()

    async def wait_line(self, prefix: str, timeout: float) -> list[str]:
        """Wait for a stdout line starting with `prefix`; fail at once on ERROR or exit."""

        async def waiter() -> list[str]:
            async with self._changed:
                while True:
                    for line in self.lines:
                        if line.startswith(prefix + " ") or line == prefix:
                            return line.split()[1:]
                        if line.startswith("ERROR"):
                            raise AssertionError(f"bot reported: {line}")
                    if self.exited is not None:
                        raise AssertionError(f"bot exited with code {self.exited} before printing {prefix}")
                    await self._changed.wait()

        try:
            return await asyncio.wait_for(waiter(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"bot did not print {prefix} within {timeout}s; stdout so far: {self.lines}") from None

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except asyncio.TimeoutError:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                await asyncio.wait_for(self.proc.wait(), 5)
        if self._reader_task is not None:
            try:
                await asyncio.wait_for(self._reader_task, 5)
            except (asyncio.TimeoutError, Exception):
                self._reader_task.cancel()
        self._stdout.close()
        self._stderr.close()


# --------------------------------------------------------------------------- the flow


@dataclass
class FlowResult:
    guild_id: str
    general_id: str
    ping_id: str
    bot_id: str
    reply: dict
    channel: dict
    role: dict
    bot_member: dict
    gateway_reply: dict


async def ping_flow(
    server: Server,
    workdir: Path,
    *,
    tag: str,
    bot_argv: Callable[[str, str, str], list[str]],
    bot_env: Optional[dict[str, str]] = None,
    log: Callable[[str], None] = print,
) -> FlowResult:
    """Register a user, set up a guild and a bot, let the bot answer "!ping", check everything.

    `bot_argv(base_url, gateway_url, bot_token)` gives the command line that runs the bot.
    The bot must create a channel named f"{tag}-created" and a role named f"{tag}-role".
    """
    channel_name = f"{tag}-created"
    role_name = f"{tag}-role"

    timeout = aiohttp.ClientTimeout(total=15)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        rest = Rest(session, server.api)

        # 1. A user registers.
        reg = await rest.call(
            "POST",
            "/auth/register",
            json_body={"username": f"alice_{tag}", "password": "correct horse battery", "email": f"alice_{tag}@example.test"},
            expect=(201,),
        )
        user_token = reg["token"]
        user_id = str(reg["user_id"])
        log(f"registered user {user_id}")
        me = await rest.call("GET", "/users/@me", token=user_token, expect=(200,))
        assert str(me["id"]) == user_id, f"/users/@me id {me['id']} != registered user_id {user_id}"

        # 2. The user creates a guild; it comes with a "general" text channel.
        guild = await rest.call("POST", "/guilds", token=user_token, json_body={"name": f"Compat {tag}"}, expect=(201,))
        guild_id = guild["id"]
        channels = await rest.call("GET", f"/guilds/{guild_id}/channels", token=user_token, expect=(200,))
        general = next((c for c in channels if c.get("name") == "general" and c.get("type") == 0), None)
        assert general is not None, f"no text channel 'general' in new guild: {channels}"
        general_id = general["id"]
        log(f"guild {guild_id}, general channel {general_id}")

        # 3. An application with a bot; the bot token comes from a reset.
        app = await rest.call(
            "POST", "/applications", token=user_token, json_body={"name": f"PingBot {tag}"}, expect=(200, 201)
        )
        app_id = app["id"]
        bot_id = str(app.get("bot", {}).get("id", app_id))
        assert bot_id == app_id, f"application id {app_id} != its bot user id {bot_id}"
        reset = await rest.call("POST", f"/applications/{app_id}/bot/reset", token=user_token, expect=(200,))
        bot_token = reset["token"]
        log(f"application {app_id} with bot token")

        # 4. The user authorizes the bot into the guild with the permissions it needs.
        await rest.call(
            "POST",
            f"/oauth2/authorize?client_id={app_id}&scope=bot&permissions={BOT_PERMISSIONS}",
            token=user_token,
            json_body={"guild_id": guild_id, "permissions": str(BOT_PERMISSIONS), "authorize": True},
            expect=(200,),
        )
        bot_member = await rest.call("GET", f"/guilds/{guild_id}/members/{bot_id}", token=user_token, expect=(200,))
        log(f"bot member after authorize: {json.dumps(bot_member)}")

        # 5. The user's own gateway session.
        gw_info = await rest.call("GET", "/gateway", expect=(200,))
        gateway_url = gw_info["url"]
        user_gw = UserGateway(session, gateway_url, user_token, log)
        bot: Optional[BotProcess] = None
        try:
            ready = await user_gw.connect(timeout=10)
            assert str(ready["user"]["id"]) == user_id, f"READY user {ready['user']} is not {user_id}"
            await user_gw.wait_for(
                lambda d: d["t"] == "GUILD_CREATE" and str(d["d"].get("id")) == guild_id, 10, f"GUILD_CREATE {guild_id}"
            )

            # 6. The bot process logs in.
            env = dict(os.environ)
            env.update(bot_env or {})
            bot = BotProcess(
                bot_argv(server.base, gateway_url, bot_token),
                workdir / f"bot-{tag}.stdout.log",
                workdir / f"bot-{tag}.stderr.log",
                env,
                HERE,
            )
            await bot.start()
            ready_args = await bot.wait_line("READY", timeout=30)
            assert ready_args and ready_args[0] == bot_id, f"bot READY line names {ready_args}, expected bot id {bot_id}"
            log(f"bot ready as {ready_args}")

            # 7. The user posts "!ping" over REST.
            ping = await rest.call(
                "POST", f"/channels/{general_id}/messages", token=user_token, json_body={"content": "!ping"}, expect=(200,)
            )
            ping_id = ping["id"]
            log(f"posted !ping {ping_id}")

            # 8. The bot replies, creates a channel and a role and gives itself the role.
            replied = await bot.wait_line("REPLIED", timeout=15)
            done = await bot.wait_line("DONE", timeout=15)
            log(f"bot replied {replied}, done {done}")

            # 9. The user's gateway saw the reply.
            gateway_reply = await user_gw.wait_for(
                lambda d: d["t"] == "MESSAGE_CREATE" and str(d["d"].get("author", {}).get("id")) == bot_id,
                10,
                "MESSAGE_CREATE from the bot",
            )
            # 9b. A forced reconnect with a message in the gap: the bot is frozen (SIGSTOP), the
            # server asks every session to reconnect (op 7 on SIGUSR1) and drops the socket, a
            # "!ping" is posted while the bot's session is detached, then the bot is thawed. It
            # must RESUME, get the ping from the replay, and answer it exactly once.
            assert server.proc is not None and bot.proc is not None
            os.kill(bot.proc.pid, signal.SIGSTOP)
            try:
                server.proc.send_signal(signal.SIGUSR1)
                await asyncio.sleep(0.5)  # op 7 sent, socket closed, session detached
                ping2 = await rest.call(
                    "POST", f"/channels/{general_id}/messages", token=user_token, json_body={"content": "!ping"}, expect=(200,)
                )
            finally:
                os.kill(bot.proc.pid, signal.SIGCONT)
            again = await bot.wait_line("AGAIN", timeout=30)
            log(f"after the forced reconnect the bot replied {again} to {ping2['id']}")
            resumed = await wait_for_log(server, r"session resumed.*replayed=[1-9]", timeout=10)
            assert resumed, "the bot did not RESUME with the missed ping replayed (server log)"
        finally:
            if bot is not None:
                await bot.stop()
            await user_gw.close()

        # 10. Assertions through REST (as the guild owner).
        messages = await rest.call("GET", f"/channels/{general_id}/messages?limit=50", token=user_token, expect=(200,))
        bot_messages = [m for m in messages if str(m.get("author", {}).get("id")) == bot_id]
        replies = [m for m in bot_messages if str((m.get("message_reference") or {}).get("message_id")) == ping_id]
        assert len(replies) == 1, f"expected exactly one reply to !ping {ping_id} in #general, got {bot_messages}"
        reply = replies[0]
        second = [m for m in bot_messages if str((m.get("message_reference") or {}).get("message_id")) == ping2["id"]]
        assert len(second) == 1, f"expected exactly one reply to the !ping posted during the reconnect, got {bot_messages}"
        assert second[0]["id"] == again[0] and second[0]["content"] == "pong", second
        assert len(bot_messages) == 2, f"the bot answered something twice: {bot_messages}"
        assert reply["content"] == "pong", reply
        assert reply["type"] == MESSAGE_TYPE_REPLY, f"reply type {reply['type']} != 19: {reply}"
        assert str((reply.get("message_reference") or {}).get("message_id")) == ping_id, f"reply does not reference !ping {ping_id}: {reply}"
        assert reply["author"].get("bot") is True, f"reply author is not flagged bot: {reply['author']}"
        assert str(reply.get("guild_id")) == guild_id or reply.get("guild_id") is None
        assert replied and replied[0] == reply["id"], f"bot said it sent {replied}, REST shows {reply['id']}"

        got = await rest.call("GET", f"/channels/{general_id}/messages/{reply['id']}", token=user_token, expect=(200,))
        assert got["id"] == reply["id"] and got["content"] == "pong"

        gw_msg = gateway_reply["d"]
        assert gw_msg["id"] == reply["id"], f"gateway MESSAGE_CREATE {gw_msg['id']} is not the REST reply {reply['id']}"
        assert gw_msg["content"] == "pong", gw_msg
        assert gw_msg["type"] == MESSAGE_TYPE_REPLY, gw_msg
        assert str(gw_msg.get("channel_id")) == general_id, gw_msg
        assert str((gw_msg.get("message_reference") or {}).get("message_id")) == ping_id, gw_msg
        assert str(gw_msg.get("guild_id")) == guild_id, f"gateway MESSAGE_CREATE lacks guild_id {guild_id}: {gw_msg}"

        channels = await rest.call("GET", f"/guilds/{guild_id}/channels", token=user_token, expect=(200,))
        created = [c for c in channels if c.get("name") == channel_name]
        assert len(created) == 1, f"channel {channel_name!r} not found exactly once in {channels}"
        channel = created[0]
        assert channel["id"] == done[0], f"bot created channel {done[0]}, REST shows {channel['id']}"
        assert channel["type"] == 0, channel
        one = await rest.call("GET", f"/channels/{channel['id']}", token=user_token, expect=(200,))
        assert one["id"] == channel["id"] and str(one.get("guild_id")) == guild_id, one

        roles = await rest.call("GET", f"/guilds/{guild_id}/roles", token=user_token, expect=(200,))
        made = [r for r in roles if r.get("name") == role_name]
        assert len(made) == 1, f"role {role_name!r} not found exactly once in {roles}"
        role = made[0]
        assert role["id"] == done[1], f"bot created role {done[1]}, REST shows {role['id']}"

        bot_member = await rest.call("GET", f"/guilds/{guild_id}/members/{bot_id}", token=user_token, expect=(200,))
        assert role["id"] in [str(r) for r in bot_member["roles"]], f"bot member lacks role {role['id']}: {bot_member}"
        assert bot_member["user"]["id"] == bot_id and bot_member["user"].get("bot") is True, bot_member

        # The bot token is good for REST too (sanity: the same token the library used).
        bot_me = await rest.call("GET", "/users/@me", token=f"Bot {bot_token}", expect=(200,))
        assert bot_me["id"] == bot_id and bot_me.get("bot") is True, bot_me

        return FlowResult(guild_id, general_id, ping_id, bot_id, reply, channel, role, bot_member, gateway_reply)


async def wait_for_log(server: Server, pattern: str, timeout: float) -> bool:
    """Whether a line of the server's log matches `pattern` (a regex) within `timeout` s."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        text = ANSI_ESCAPE.sub("", server.log_path.read_text(errors="replace"))
        if re.search(pattern, text):
            return True
        await asyncio.sleep(0.1)
    return False


# The server colours its log when it thinks it writes to a terminal.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def run_flow(server: Server, workdir: Path, **kwargs: Any) -> FlowResult:
    """Run `ping_flow` under the per-test timeout (no test may hang)."""
    log_path = workdir / "flow.log"
    logf = open(log_path, "a", encoding="utf-8")

    def log(line: str) -> None:
        logf.write(f"{time.strftime('%H:%M:%S')} {line}\n")
        logf.flush()

    async def main() -> FlowResult:
        try:
            return await asyncio.wait_for(ping_flow(server, workdir, log=log, **kwargs), TEST_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"test exceeded {TEST_TIMEOUT}s") from None

    try:
        return asyncio.run(main())
    finally:
        logf.close()


PYTHON = sys.executable
