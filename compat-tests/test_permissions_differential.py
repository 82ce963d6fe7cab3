"""Differential test of accord's permission engine against discord.py 2.7.1 (issue 3).

At least 1 000 random guilds are built through accord's REST API (random roles and permission
bitfields incl. ADMINISTRATOR, categories, text/voice/announcement/stage/forum/media channels
with random overwrites for @everyone, roles and members, members joined by invite, role
assignments, timed-out members). Unmodified discord.py bots then receive every guild through
accord's gateway (READY, GUILD_CREATE, GUILD_MEMBERS_CHUNK), and
`channel.permissions_for(member).value` for every (member, channel) pair is compared with
accord's own engine (examples/permissions_oracle.rs, fed the objects from accord's REST API).

Round 2 ("live"): with the bots still connected, a share of the guilds is changed over REST
(role permissions, overwrites, member roles, timeouts, role deletion, kicks, channels created
and deleted); the library's cache, now built from our dispatches, is compared again.

Where discord.py deviates from Discord's documented algorithm the comparison follows the
documentation (differential/perms.py `compare`, differential/README.md D1-D5), never silently:
each pair records which deviation rule applied, and the summary counts them.

Knobs: ACCORD_DIFF_SEED (default random, printed), ACCORD_DIFF_GUILDS (default 1000),
ACCORD_DIFF_LIVE (share of guilds changed in round 2, default 0.3; 0 skips the round),
ACCORD_DIFF_DUPLICATE_P (share of overwrite lists naming a target twice, default 0.03),
ACCORD_DIFF_TIMEOUT (seconds, default 290), ACCORD_PERM_ORACLE (a prebuilt oracle binary;
default: `cargo build --example permissions_oracle` in the repository).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import random
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import aiohttp

from differential import perms as P
from differential.generate import Api, GuildRecord, build_guild, create_bots, mutate_guild, probe_caps, register_pool
from harness import HERE, PYTHON, REPO_ROOT, BotProcess, Server

GUILDS = int(os.environ.get("ACCORD_DIFF_GUILDS", "1000"))
SEED = int(os.environ.get("ACCORD_DIFF_SEED") or random.SystemRandom().randrange(1 << 32))
LIVE_SHARE = float(os.environ.get("ACCORD_DIFF_LIVE", "0.3"))
BUDGET = float(os.environ.get("ACCORD_DIFF_TIMEOUT", "290"))
POOL_USERS = 8
# discord.py sends at most 110 gateway frames per minute per connection (IDENTIFY + one op 8
# per guild at start-up): 90 guilds per bot keeps every bot's chunking inside one window.
GUILDS_PER_BOT = 90
CONCURRENT_GUILDS = 12
SHOW = 25  # items spelled out in the failure message (all of them go to the *.log files)
# Discord's change log (discord-api-docs PR #8454, 2026-07) announces that bots will receive
# channels they cannot view "obfuscated": name "___hidden___", flag CHANNEL_OBFUSCATED (1 << 17),
# overwrites replaced by one @everyone VIEW_CHANNEL deny. accord does not do this today; if it
# ever does, such channels are checked for "the bot really cannot view it" and their pairs are
# skipped (their overwrites are not the real ones).
OBFUSCATED_NAME = "___hidden___"


# --------------------------------------------------------------------------- our side


def oracle_binary() -> Path:
    """Our side: examples/permissions_oracle.rs, built from the repository under test."""
    env = os.environ.get("ACCORD_PERM_ORACLE")
    if env:
        path = Path(env).resolve()
    else:
        proc = subprocess.run(
            ["cargo", "build", "--example", "permissions_oracle"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
        )
        if proc.returncode != 0:
            raise AssertionError(f"cargo build --example permissions_oracle failed:\n{proc.stderr[-6000:]}")
        target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
        if not target.is_absolute():
            target = REPO_ROOT / target
        path = target / "debug" / "examples" / "permissions_oracle"
    if not path.exists():
        raise AssertionError(f"permissions oracle {path} does not exist")
    return path


def run_oracle(oracle: Path, lines: list[str]) -> list[str]:
    proc = subprocess.run(
        [str(oracle)], input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120,
    )
    if proc.returncode != 0:
        raise AssertionError(f"oracle exited with {proc.returncode}: {proc.stderr[-3000:]}")
    out = proc.stdout.splitlines()
    if len(out) != len(lines):
        raise AssertionError(f"oracle answered {len(out)} lines for {len(lines)} inputs: {proc.stderr[-3000:]}")
    return out


# --------------------------------------------------------------------------- comparison


def parse_time(value: Optional[str]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def payload_differences(rest: dict, dpy: dict, annotate=lambda cid, deleted=False, count=True: "") -> list[str]:
    """What discord.py parsed from our gateway vs what our REST API serves for the same guild.
    Any difference means a gateway payload (or a missing dispatch) left the library with
    objects that differ from ours."""
    out = []
    g = rest["guild"]
    if str(g["owner_id"]) != dpy["owner_id"]:
        out.append(f"owner_id: REST {g['owner_id']} vs gateway/discord.py {dpy['owner_id']}")
    rest_roles = {str(r["id"]): str(int(r["permissions"])) for r in g["roles"]}
    if rest_roles != dpy["roles"]:
        out.append(f"roles (id -> permissions): REST {rest_roles} vs discord.py {dpy['roles']}")
    rest_members = {str(m["user"]["id"]): m for m in rest["members"]}
    if set(rest_members) != set(dpy["members"]):
        out.append(f"member ids: REST {sorted(rest_members)} vs discord.py {sorted(dpy['members'])}")
    for uid, m in rest_members.items():
        d = dpy["members"].get(uid)
        if d is None:
            continue
        # discord.py keeps a deleted role's id in its members' role lists (GUILD_ROLE_DELETE only
        # drops the role from the guild); such an id is inert (get_role() is None and the role's
        # overwrites go with it), so ids of roles the library no longer has are not compared.
        dpy_roles = sorted(r for r in d["roles"] if r in dpy["roles"])
        if sorted(map(str, m["roles"])) != dpy_roles:
            out.append(f"member {uid} roles: REST {sorted(m['roles'])} vs discord.py {sorted(d['roles'])}")
        if parse_time(m.get("communication_disabled_until")) != parse_time(d["communication_disabled_until"]):
            out.append(
                f"member {uid} communication_disabled_until: REST {m.get('communication_disabled_until')!r}"
                f" vs discord.py {d['communication_disabled_until']!r}"
            )
    rest_channels = {str(c["id"]): c for c in rest["channels"]}
    if set(rest_channels) != set(dpy["channels"]):
        only_rest = sorted(set(rest_channels) - set(dpy["channels"]))
        only_dpy = sorted(set(dpy["channels"]) - set(rest_channels))
        out.append(
            f"channel ids: only in REST {[c + annotate(c) for c in only_rest]}, "
            f"only in discord.py {[c + annotate(c, True) for c in only_dpy]}"
        )
    for cid, c in rest_channels.items():
        targets = Counter(str(o["id"]) for o in c["permission_overwrites"])
        repeated = {t: n for t, n in targets.items() if n > 1}
        if repeated:
            out.append(
                f"channel {cid} serves several overwrites for one target {repeated} (Discord keeps one per id; "
                f"libraries then disagree: discord.py ORs repeated role overwrites and takes the first member one): "
                f"{c['permission_overwrites']}"
            )
        d = dpy["channels"].get(cid)
        if d is None:
            continue
        if d.get("name") == OBFUSCATED_NAME:
            # Discord's 2026 "channel obfuscation" (see OBFUSCATED_NAME): a channel the bot cannot
            # view arrives with its overwrites replaced; only legitimate if the bot cannot view it.
            if "bot can view it now" in annotate(cid, count=False):
                out.append(f"channel {cid} reached discord.py obfuscated although the bot can view it")
            continue
        if c["type"] != d["type"]:
            out.append(f"channel {cid} type: REST {c['type']} vs discord.py {d['type']} ({d['class']})")
        ow_rest = sorted((str(o["id"]), int(o["type"]), int(o["allow"]), int(o["deny"])) for o in c["permission_overwrites"])
        ow_dpy = sorted((o["id"], int(o["type"]), int(o["allow"]), int(o["deny"])) for o in d["overwrites"])
        if ow_rest != ow_dpy:
            out.append(f"channel {cid}{annotate(cid)} overwrites: REST {ow_rest} vs discord.py {ow_dpy}")
    if not dpy.get("chunked"):
        out.append("discord.py did not mark the guild chunked (GUILD_MEMBERS_CHUNK incomplete?)")
    return out


@dataclass
class Outcome:
    label: str
    payload: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    signatures: Counter = field(default_factory=Counter)
    stats: Counter = field(default_factory=Counter)


def evaluate(label: str, records: list[GuildRecord], rest_all: list[dict], dumped: dict[str, dict],
             oracle: Path, log, notes: Optional[dict[str, list[str]]] = None,
             before: Optional[dict[str, dict]] = None) -> Outcome:
    """Payload check and pair comparison for `records` (REST state `rest_all`, discord.py's
    state `dumped`). `notes` (guild id -> text) is added to that guild's reports; `before` is
    discord.py's dump of the previous round (to say whether the bot could see a channel)."""
    res = Outcome(label)
    notes = notes or {}
    inputs: list[str] = []
    keys: list[tuple[GuildRecord, dict, dict, dict]] = []
    for rec, rest in zip(records, rest_all):
        roles = [{"id": r["id"], "permissions": r["permissions"]} for r in rest["guild"]["roles"]]
        for ch in rest["channels"]:
            for m in rest["members"]:
                inputs.append(json.dumps({
                    "guild_id": rec.guild_id,
                    "owner_id": rest["guild"]["owner_id"],
                    "roles": roles,
                    "channel": {"type": ch["type"], "permission_overwrites": ch["permission_overwrites"]},
                    "member": {
                        "user_id": m["user"]["id"],
                        "roles": m["roles"],
                        "communication_disabled_until": m.get("communication_disabled_until"),
                    },
                }))
                keys.append((rec, rest, ch, m))
    t0 = time.monotonic()
    ours_out = run_oracle(oracle, inputs) if inputs else []
    log(f"{label}: oracle computed {len(inputs)} pairs in {time.monotonic() - t0:.1f}s")
    ours_by_key = {
        (rec.guild_id, str(ch["id"]), str(m["user"]["id"])): line
        for (rec, _, ch, m), line in zip(keys, ours_out)
    }

    for rec, rest in zip(records, rest_all):
        dpy = dumped.get(rec.guild_id)
        extra = f" [changes: {'; '.join(notes[rec.guild_id])}]" if rec.guild_id in notes else ""
        if dpy is None:
            res.payload.append(f"guild #{rec.index} {rec.guild_id} (seed {rec.seed}): discord.py bot {rec.bot.id} does not have it{extra}")
            continue

        def annotate(cid: str, deleted: bool = False, count: bool = True, rec: GuildRecord = rec) -> str:
            # Can the bot (whose cache this is) see the channel now (our engine, REST state),
            # and could it before this round (discord.py's own value from the earlier dump)?
            line = ours_by_key.get((rec.guild_id, cid, rec.bot.id), "")
            now = line.isdigit() and bool(int(line) & P.VIEW_CHANNEL)
            was: Optional[bool] = None
            if before is not None:
                raw = before.get(rec.guild_id, {}).get("permissions", {}).get(cid, {}).get(rec.bot.id)
                was = None if raw is None else bool(int(raw) & P.VIEW_CHANNEL)
            then = "" if was is None else (", could before" if was else ", could not before either")
            if deleted:
                kind = "deleted channel still cached" + (then.replace(", could", "; bot could"))
            else:
                kind = "bot can view it now" if now else "bot cannot view it now" + then
            if count:
                res.stats[f"payload difference on a channel: {kind}"] += 1
            return f" ({kind})"

        for diff in payload_differences(rest, dpy, annotate):
            res.payload.append(f"guild #{rec.index} {rec.guild_id} (seed {rec.seed}): {diff}{extra}")

    stats = res.stats
    for (rec, rest, ch, m), ours_line in zip(keys, ours_out):
        uid = str(m["user"]["id"])
        cid = str(ch["id"])
        dguild = dumped[rec.guild_id]
        raw = dguild["permissions"].get(cid, {}).get(uid)
        if raw is None:
            continue  # the payload check reported the missing channel or member
        if dguild["channels"].get(cid, {}).get("name") == OBFUSCATED_NAME:
            stats["pairs skipped: channel obfuscated for the bot"] += 1
            continue
        if ours_line.startswith("ERR"):
            res.mismatches.append(f"oracle error for guild {rec.guild_id} channel {cid} member {uid}: {ours_line}")
            continue
        dpy_value, ours = int(raw), int(ours_line)
        verdict = P.compare(int(ch["type"]), dpy_value, ours)
        dmember = dguild["members"].get(uid, {})
        is_owner = uid == str(rest["guild"]["owner_id"])
        role_perm = {str(r["id"]): int(r["permissions"]) for r in rest["guild"]["roles"]}
        base = role_perm.get(rec.guild_id, 0)
        for rid in m["roles"]:
            base |= role_perm.get(str(rid), 0)
        is_admin = bool(base & P.ADMINISTRATOR)
        timed_out = bool(dmember.get("timed_out"))
        stats["pairs"] += 1
        stats[f"channel type {ch['type']}"] += 1
        stats["owner pairs"] += is_owner
        stats["administrator (role) pairs"] += is_admin and not is_owner
        stats["timed-out member pairs"] += timed_out
        stats["timed-out non-admin pairs"] += timed_out and not is_admin and not is_owner
        stats["pairs with VIEW_CHANNEL (discord.py)"] += bool(dpy_value & P.VIEW_CHANNEL)
        stats["pairs in a channel with an overwrite allowing ADMINISTRATOR"] += any(
            int(o["allow"]) & P.ADMINISTRATOR for o in ch["permission_overwrites"]
        )
        for d in verdict.deviations:
            tag = d.split(":")[0]
            stats[f"rule {tag}: applied"] += 1
            if verdict.equal and dpy_value != ours:
                # discord.py's raw value differs from ours; the pair is equal only under the
                # documented rule (README.md): counted so the rules never hide anything silently.
                stats[f"rule {tag}: raw values differ, equal under the rule"] += 1
        if verdict.equal and dpy_value == ours:
            stats["raw values identical"] += 1
        if verdict.equal:
            continue
        diff = P.describe_diff(verdict.expected, verdict.ours)
        who = "owner" if is_owner else ("bot" if dmember.get("bot") else "member")
        flags = [who]
        if is_admin:
            flags.append("admin-by-role")
        if timed_out:
            flags.append("timed-out")
        if len({str(o["id"]) for o in ch["permission_overwrites"]}) < len(ch["permission_overwrites"]):
            flags.append("channel-serves-duplicate-overwrites")
        dch = dguild["channels"].get(cid, {})
        stale = sorted((o["id"], int(o["type"]), int(o["allow"]), int(o["deny"])) for o in dch.get("overwrites", [])) != sorted(
            (str(o["id"]), int(o["type"]), int(o["allow"]), int(o["deny"])) for o in ch["permission_overwrites"])
        if stale:
            flags.append("discord.py-has-other-overwrites")
        causes = [f for f in flags if f in ("channel-serves-duplicate-overwrites", "discord.py-has-other-overwrites")]
        cause = " + ".join(causes) or "objects agree: engine vs library rule"
        context = " ".join(f for f in flags if f not in causes)
        res.signatures[(cause, f"type {ch['type']} {context}")] += 1
        extra = f"\n    changes in this round: {'; '.join(notes[rec.guild_id])}" if rec.guild_id in notes else ""
        res.mismatches.append(
            f"guild #{rec.index} {rec.guild_id} (seed {rec.seed!r}), channel {cid} type {ch['type']} "
            f"({dch.get('class')}), member {uid} [{', '.join(flags)}"
            f"{'; timed out until ' + str(m.get('communication_disabled_until')) if timed_out else ''}]\n"
            f"    discord.py={dpy_value} ours={ours}; compared bits: documented={verdict.expected} ours={verdict.ours}\n"
            f"    differing: {diff}\n"
            f"    rules applied: {'; '.join(verdict.deviations) or 'none (full comparison)'}\n"
            f"    @everyone={','.join(P.names(role_perm.get(rec.guild_id, 0)))}\n"
            f"    member roles: " + "; ".join(f"{rid}={','.join(P.names(role_perm.get(str(rid), 0))) or '-'}" for rid in m["roles"]) + "\n"
            f"    overwrites (REST): {P.overwrite_summary(ch['permission_overwrites'])}"
            + (f"\n    overwrites (discord.py): {P.overwrite_summary(dch.get('overwrites'))}" if stale else "")
            + extra
        )
    return res


def failure_text(res: Outcome) -> list[str]:
    out = []
    if res.payload:
        kinds: Counter = Counter()
        for p in res.payload:
            if "serves several overwrites" in p:
                kinds["a channel serves several overwrites for one target"] += 1
            elif "overwrites: REST" in p or "channel ids:" in p:
                what = "overwrites differ" if "overwrites: REST" in p else "channel set differs"
                found = re.findall(r"\((bot [^)]*|deleted channel still cached[^)]*)\)", p)
                kinds[f"{what}: {', '.join(sorted(set(found))) or 'unannotated'}"] += 1
            else:
                kinds[p.split(": ", 1)[1].split(":")[0][:80]] += 1
        grouped = "\n  ".join(f"{n:5d} x {k}" for k, n in kinds.most_common())
        out.append(
            f"[{res.label}] {len(res.payload)} gateway payload differences (discord.py's objects vs our REST objects; "
            f"server bugs); by kind:\n  {grouped}\nfirst {min(SHOW, len(res.payload))}:\n  "
            + "\n  ".join(p[:700] for p in res.payload[:SHOW])
        )
    if res.mismatches:
        by_cause: Counter = Counter()
        for (cause, _), n in res.signatures.items():
            by_cause[cause] += n
        sig = "\n  ".join(f"{n:5d} x {cause}" for cause, n in by_cause.most_common())
        detail = "\n  ".join(f"{n:5d} x {cause} | {ctx}" for (cause, ctx), n in res.signatures.most_common(15))
        out.append(
            f"[{res.label}] {len(res.mismatches)} permission mismatches (discord.py/documented vs ours); by cause:\n  {sig}\n"
            f"by cause and pair (channel type, member kind):\n  {detail}\n"
            f"first {min(SHOW, len(res.mismatches))}:\n" + "\n".join(res.mismatches[:SHOW])
        )
    return out


def write_logs(workdir: Path, res: Outcome) -> None:
    tag = res.label.replace(" ", "-")
    (workdir / f"{tag}-mismatches.log").write_text("\n".join(res.mismatches) + "\n")
    (workdir / f"{tag}-payload.log").write_text("\n".join(res.payload) + "\n")


def read_dump(path: Path) -> tuple[dict, dict[str, dict]]:
    meta: dict[str, Any] = {}
    dumped: dict[str, dict] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if "meta" in rec:
            meta = rec["meta"]
        else:
            dumped[rec["guild_id"]] = rec
    return meta, dumped


# --------------------------------------------------------------------------- the test


def test_permissions_match_discordpy(unlimited_server: Server, workdir: Path):
    server = unlimited_server
    oracle = oracle_binary()  # built before the clock starts
    logf = open(workdir / "differential.log", "a", encoding="utf-8")
    started = time.monotonic()

    def log(line: str) -> None:
        logf.write(f"{time.monotonic() - started:7.1f}s {line}\n")
        logf.flush()

    log(f"seed {SEED}, {GUILDS} guilds, oracle {oracle}")
    try:
        failures, summary = asyncio.run(asyncio.wait_for(differential(server, workdir, oracle, log), BUDGET))
    except asyncio.TimeoutError:
        raise AssertionError(f"differential test exceeded {BUDGET}s (seed {SEED}); see differential.log") from None
    finally:
        logf.close()
    print(summary)
    assert not failures, f"seed {SEED} (rerun with ACCORD_DIFF_SEED={SEED})\n" + failures + "\n" + summary


async def differential(server: Server, workdir: Path, oracle: Path, log) -> tuple[str, str]:
    timeout = aiohttp.ClientTimeout(total=60)
    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        api = Api(session, server.api)

        # 1. Users, bots, the optional routes on offer.
        pool = await register_pool(api, POOL_USERS)
        caps = await probe_caps(api, pool[0])
        n_bots = max(1, math.ceil(GUILDS / GUILDS_PER_BOT))
        bots = await create_bots(api, pool[0], n_bots)
        log(f"{len(pool)} users, {len(bots)} bots; optional routes: {caps.describe()}")

        # 2. The guilds.
        t0 = time.monotonic()
        sem = asyncio.Semaphore(CONCURRENT_GUILDS)
        built = 0

        async def one(i: int) -> GuildRecord:
            nonlocal built
            async with sem:
                rec = await build_guild(api, i, f"{SEED}:{i}", pool, bots[i // GUILDS_PER_BOT], caps)
            built += 1
            if built % 100 == 0:
                log(f"built {built} guilds, {api.requests} requests")
            return rec

        records = await asyncio.gather(*(one(i) for i in range(GUILDS)))
        build_requests = api.requests
        build_secs = time.monotonic() - t0
        log(f"built {len(records)} guilds with {build_requests} requests in {build_secs:.1f}s")

        fetch_sem = asyncio.Semaphore(24)

        async def fetch(rec: GuildRecord) -> dict:
            async with fetch_sem:
                tok = rec.owner.token
                guild, channels, members = await asyncio.gather(
                    api.call("GET", f"/guilds/{rec.guild_id}", tok, expect=(200,)),
                    api.call("GET", f"/guilds/{rec.guild_id}/channels", tok, expect=(200,)),
                    api.call("GET", f"/guilds/{rec.guild_id}/members?limit=1000", tok, expect=(200,)),
                )
                return {"guild": guild, "channels": channels, "members": members}

        # 3. discord.py receives everything through our gateway and computes permissions_for.
        gateway_url = (await api.call("GET", "/gateway", expect=(200,)))["url"]
        tokens_path = workdir / "bot-tokens.json"
        tokens_path.write_text(json.dumps([b.token for b in bots]))
        dump_path = workdir / "discordpy-dump.jsonl"
        t0 = time.monotonic()
        bot = BotProcess(
            [PYTHON, "-u", str(HERE / "differential" / "dpy_dump.py"), server.base, gateway_url, str(tokens_path), str(dump_path)],
            workdir / "discordpy.stdout.log",
            workdir / "discordpy.stderr.log",
            dict(os.environ),
            HERE,
        )
        await bot.start()
        outcomes: list[Outcome] = []
        live_notes: dict[str, list[str]] = {}
        try:
            counts = await bot.wait_line("DONE", timeout=180)
            dpy_secs = time.monotonic() - t0
            log(f"discord.py: {counts[0]} guilds, {counts[1]} pairs in {dpy_secs:.1f}s")
            meta, dumped = read_dump(dump_path)
            assert int(meta["voice"]) == P.DPY_VOICE, (
                f"discord.py's Permissions.voice() is {meta['voice']}, differential/perms.py assumes {P.DPY_VOICE}"
            )
            assert int(meta["all"]) == P.ALL, f"discord.py's Permissions.all() is {meta['all']}, documented {P.ALL}"

            # 4. The same objects through our REST API; compare.
            t0 = time.monotonic()
            rest_all = await asyncio.gather(*(fetch(r) for r in records))
            log(f"fetched {len(rest_all)} guilds over REST in {time.monotonic() - t0:.1f}s")
            outcomes.append(evaluate("start-up", records, rest_all, dumped, oracle, log))

            # 5. Live round: changes while the bots are connected, compared again.
            live = [r for r in records if random.Random(f"{SEED}:{r.index}:live?").random() < LIVE_SHARE]
            if live:
                t0 = time.monotonic()
                before = api.requests

                async def change(rec: GuildRecord) -> None:
                    async with sem:
                        live_notes[rec.guild_id] = await mutate_guild(api, rec, f"{SEED}:{rec.index}:live", caps)

                await asyncio.gather(*(change(r) for r in live))
                # Each bot's sentinel guild is renamed last: when discord.py shows the new
                # name, every earlier dispatch on that connection has been handled.
                sentinels: dict[str, list[str]] = {}
                if caps.patch_guild:
                    for b in bots:
                        rec = next(r for r in records if r.bot is b)
                        name = f"sentinel {SEED} {rec.index}"
                        await api.call("PATCH", f"/guilds/{rec.guild_id}", rec.owner.token, {"name": name}, expect=(200,))
                        sentinels[b.id] = [rec.guild_id, name]
                else:
                    await asyncio.sleep(3)
                log(f"live round: {len(live)} guilds changed with {api.requests - before} requests "
                    f"in {time.monotonic() - t0:.1f}s")
                live_path = workdir / "discordpy-dump-live.jsonl"
                control = Path(f"{dump_path}.go2")
                tmp = control.with_suffix(".tmp")
                tmp.write_text(json.dumps({"out": str(live_path), "sentinels": sentinels}))
                os.replace(tmp, control)
                await bot.wait_line("DONE2", timeout=60)
                _, dumped_live = read_dump(live_path)
                rest_live = await asyncio.gather(*(fetch(r) for r in live))
                outcomes.append(evaluate("live", live, rest_live, dumped_live, oracle, log, live_notes, before=dumped))
        finally:
            await bot.stop()

    summary_lines = [
        f"permission differential: seed {SEED}, {len(records)} guilds ({len(live_notes)} changed live), "
        f"{build_requests} REST requests to build them ({build_secs:.0f}s), discord.py start-up {dpy_secs:.0f}s; "
        f"optional routes: {caps.describe()}",
    ]
    for res in outcomes:
        write_logs(workdir, res)
        summary_lines.append(
            f" {res.label}: {res.stats['pairs']} (member, channel) pairs, {len(res.mismatches)} mismatches, "
            f"{len(res.payload)} payload differences"
        )
        summary_lines += [f"  {k}: {v}" for k, v in sorted(res.stats.items())]
    summary = "\n".join(summary_lines)
    (workdir / "summary.log").write_text(summary + "\n")
    log(summary)

    failures: list[str] = []
    for res in outcomes:
        failures += failure_text(res)
    # The generator must keep exercising the interesting cases.
    start = outcomes[0].stats
    for key in ("owner pairs", "administrator (role) pairs", "pairs with VIEW_CHANNEL (discord.py)", "channel type 4", "channel type 2"):
        if start[key] == 0:
            failures.append(f"coverage: no {key}")
    if caps.patch_member and start["timed-out non-admin pairs"] == 0:
        failures.append("coverage: no timed-out (non-admin) member although PATCH /guilds/{id}/members/{uid} exists")
    if len(records) < GUILDS:
        failures.append(f"only {len(records)} guilds were built")
    return "\n\n".join(failures), summary
