"""Differential test of accord's permission engine against discord.py 2.7.1 (issue 3).

At least 1 000 random guilds are built through accord's REST API (random roles and permission
bitfields incl. ADMINISTRATOR, categories, text/voice/announcement/stage/forum/media channels
with random overwrites for @everyone, roles and members, members joined by invite, role
assignments and, once the route exists, timed-out members). Unmodified discord.py bots then
receive every guild through accord's gateway (READY, GUILD_CREATE, GUILD_MEMBERS_CHUNK), and
`channel.permissions_for(member).value` for every (member, channel) pair is compared with
accord's own engine (examples/permissions_oracle.rs, fed the objects from accord's REST API).

Where discord.py deviates from Discord's documented algorithm the comparison follows the
documentation (differential/perms.py `compare`, differential/README.md D1-D5), never silently:
each pair records which deviation rule applied, and the summary counts them.

Knobs: ACCORD_DIFF_SEED (default random, printed), ACCORD_DIFF_GUILDS (default 1000),
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
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import aiohttp

from differential import perms as P
from differential.generate import Api, GuildRecord, build_guild, create_bots, probe_caps, register_pool
from harness import HERE, PYTHON, REPO_ROOT, BotProcess, Server

GUILDS = int(os.environ.get("ACCORD_DIFF_GUILDS", "1000"))
SEED = int(os.environ.get("ACCORD_DIFF_SEED") or random.SystemRandom().randrange(1 << 32))
BUDGET = float(os.environ.get("ACCORD_DIFF_TIMEOUT", "290"))
POOL_USERS = 8
# discord.py sends at most 110 gateway frames per minute per connection (IDENTIFY + one op 8
# per guild at start-up): 90 guilds per bot keeps every bot's chunking inside one window.
GUILDS_PER_BOT = 90
CONCURRENT_GUILDS = 12
SHOW = 25  # mismatches spelled out in the failure message (all of them go to mismatches.log)


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


def parse_time(value: Optional[str]) -> Optional[dt.datetime]:
    if value is None:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def payload_differences(rest: dict, dpy: dict) -> list[str]:
    """What discord.py parsed from our gateway vs what our REST API serves for the same guild.
    Any difference means a gateway payload lacks or misstates something the library needs."""
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
        if sorted(map(str, m["roles"])) != sorted(d["roles"]):
            out.append(f"member {uid} roles: REST {sorted(m['roles'])} vs discord.py {sorted(d['roles'])}")
        if parse_time(m.get("communication_disabled_until")) != parse_time(d["communication_disabled_until"]):
            out.append(
                f"member {uid} communication_disabled_until: REST {m.get('communication_disabled_until')!r}"
                f" vs discord.py {d['communication_disabled_until']!r}"
            )
    rest_channels = {str(c["id"]): c for c in rest["channels"]}
    if set(rest_channels) != set(dpy["channels"]):
        out.append(f"channel ids: REST {sorted(rest_channels)} vs discord.py {sorted(dpy['channels'])}")
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
        if c["type"] != d["type"]:
            out.append(f"channel {cid} type: REST {c['type']} vs discord.py {d['type']} ({d['class']})")
        ow_rest = sorted((str(o["id"]), int(o["type"]), int(o["allow"]), int(o["deny"])) for o in c["permission_overwrites"])
        ow_dpy = sorted((o["id"], int(o["type"]), int(o["allow"]), int(o["deny"])) for o in d["overwrites"])
        if ow_rest != ow_dpy:
            out.append(f"channel {cid} overwrites: REST {ow_rest} vs discord.py {ow_dpy}")
    if not dpy.get("chunked"):
        out.append("discord.py did not mark the guild chunked (GUILD_MEMBERS_CHUNK incomplete?)")
    return out


def test_permissions_match_discordpy(server: Server, workdir: Path):
    oracle = oracle_binary()  # built before the clock starts
    logf = open(workdir / "differential.log", "a", encoding="utf-8")
    started = time.monotonic()

    def log(line: str) -> None:
        logf.write(f"{time.monotonic() - started:7.1f}s {line}\n")
        logf.flush()

    log(f"seed {SEED}, {GUILDS} guilds, oracle {oracle}")
    try:
        result = asyncio.run(asyncio.wait_for(differential(server, workdir, oracle, log), BUDGET))
    except asyncio.TimeoutError:
        raise AssertionError(f"differential test exceeded {BUDGET}s (seed {SEED}); see differential.log") from None
    finally:
        logf.close()
    failures, summary = result
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
        done = 0

        async def one(i: int) -> GuildRecord:
            nonlocal done
            async with sem:
                rec = await build_guild(api, i, f"{SEED}:{i}", pool, bots[i // GUILDS_PER_BOT], caps)
            done += 1
            if done % 100 == 0:
                log(f"built {done} guilds, {api.requests} requests")
            return rec

        records = await asyncio.gather(*(one(i) for i in range(GUILDS)))
        build_requests = api.requests
        build_secs = time.monotonic() - t0
        log(f"built {len(records)} guilds with {build_requests} requests in {build_secs:.1f}s")

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
        try:
            counts = await bot.wait_line("DONE", timeout=180)
        finally:
            await bot.stop()
        dpy_secs = time.monotonic() - t0
        log(f"discord.py: {counts[0]} guilds, {counts[1]} pairs in {dpy_secs:.1f}s")
        meta: dict[str, Any] = {}
        dumped: dict[str, dict] = {}
        for line in dump_path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if "meta" in rec:
                meta = rec["meta"]
            else:
                dumped[rec["guild_id"]] = rec
        assert int(meta["voice"]) == P.DPY_VOICE, (
            f"discord.py's Permissions.voice() is {meta['voice']}, differential/perms.py assumes {P.DPY_VOICE}"
        )
        assert int(meta["all"]) == P.ALL, f"discord.py's Permissions.all() is {meta['all']}, documented {P.ALL}"

        # 4. The same objects through our REST API.
        t0 = time.monotonic()
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

        rest_all = await asyncio.gather(*(fetch(r) for r in records))
        log(f"fetched {len(rest_all)} guilds over REST in {time.monotonic() - t0:.1f}s")

    # 5. Payload consistency, then our values for every pair.
    payload_issues: list[str] = []
    inputs: list[str] = []
    keys: list[tuple[GuildRecord, dict, dict, dict]] = []
    for rec, rest in zip(records, rest_all):
        dpy = dumped.get(rec.guild_id)
        if dpy is None:
            payload_issues.append(f"guild #{rec.index} {rec.guild_id} (seed {rec.seed}): discord.py bot {rec.bot.id} never received it")
            continue
        for diff in payload_differences(rest, dpy):
            payload_issues.append(f"guild #{rec.index} {rec.guild_id} (seed {rec.seed}): {diff}")
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
    ours_out = run_oracle(oracle, inputs)
    log(f"oracle: {len(inputs)} pairs in {time.monotonic() - t0:.1f}s")

    # 6. Compare.
    stats: Counter = Counter()
    mismatches: list[str] = []
    signatures: Counter = Counter()
    for (rec, rest, ch, m), ours_line in zip(keys, ours_out):
        uid = str(m["user"]["id"])
        cid = str(ch["id"])
        raw = dumped[rec.guild_id]["permissions"].get(cid, {}).get(uid)
        if raw is None:
            payload_issues.append(f"guild #{rec.index} {rec.guild_id}: discord.py has no value for member {uid} in channel {cid}")
            continue
        if ours_line.startswith("ERR"):
            mismatches.append(f"oracle error for guild {rec.guild_id} channel {cid} member {uid}: {ours_line}")
            continue
        dpy_value, ours = int(raw), int(ours_line)
        verdict = P.compare(int(ch["type"]), dpy_value, ours)
        dmember = dumped[rec.guild_id]["members"].get(uid, {})
        is_owner = uid == str(rest["guild"]["owner_id"])
        role_perm = {str(r["id"]): int(r["permissions"]) for r in rest["guild"]["roles"]}
        base = role_perm.get(rec.guild_id, 0)
        for rid in m["roles"]:
            base |= role_perm.get(str(rid), 0)
        is_admin = bool(base & P.ADMINISTRATOR)
        stats["pairs"] += 1
        stats[f"channel type {ch['type']}"] += 1
        stats["owner pairs"] += is_owner
        stats["administrator (role) pairs"] += is_admin and not is_owner
        stats["timed-out member pairs"] += bool(dmember.get("timed_out"))
        stats["timed-out non-admin pairs"] += bool(dmember.get("timed_out")) and not is_admin and not is_owner
        stats["pairs with VIEW_CHANNEL (discord.py)"] += bool(dpy_value & P.VIEW_CHANNEL)
        stats["ADMINISTRATOR via overwrite allow"] += any(
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
        if len({str(o["id"]) for o in ch["permission_overwrites"]}) < len(ch["permission_overwrites"]):
            flags.append("channel-serves-duplicate-overwrites")
        if is_admin:
            flags.append("admin-by-role")
        if dmember.get("timed_out"):
            flags.append(f"timed out until {m.get('communication_disabled_until')}")
        signatures[(f"type {ch['type']}", " ".join(f for f in flags if not f.startswith("timed")) + (" timed-out" if dmember.get("timed_out") else ""), diff)] += 1
        mismatches.append(
            f"guild #{rec.index} {rec.guild_id} (seed {rec.seed!r}), channel {cid} type {ch['type']} "
            f"({dumped[rec.guild_id]['channels'].get(cid, {}).get('class')}), member {uid} [{', '.join(flags)}]\n"
            f"    discord.py={dpy_value} ours={ours}; compared bits: documented={verdict.expected} ours={verdict.ours}\n"
            f"    differing: {diff}\n"
            f"    rules applied: {'; '.join(verdict.deviations) or 'none (full comparison)'}\n"
            f"    @everyone={','.join(P.names(role_perm.get(rec.guild_id, 0)))}\n"
            f"    member roles: " + "; ".join(f"{rid}={','.join(P.names(role_perm.get(str(rid), 0))) or '-'}" for rid in m["roles"]) + "\n"
            f"    overwrites: {P.overwrite_summary(ch['permission_overwrites'])}"
        )

    summary_lines = [
        f"permission differential: seed {SEED}, {len(records)} guilds, {stats['pairs']} (member, channel) pairs, "
        f"{build_requests} REST requests to build them ({build_secs:.0f}s), discord.py {dpy_secs:.0f}s; "
        f"optional routes: {caps.describe()}",
    ]
    summary_lines += [f"  {k}: {v}" for k, v in sorted(stats.items())]
    summary = "\n".join(summary_lines)
    (workdir / "summary.log").write_text(summary + "\n")
    (workdir / "mismatches.log").write_text("\n".join(mismatches) + "\n")
    (workdir / "payload.log").write_text("\n".join(payload_issues) + "\n")
    log(summary)

    failures = []
    if payload_issues:
        failures.append(
            f"{len(payload_issues)} gateway payload differences (discord.py's objects vs our REST objects; server bugs):\n  "
            + "\n  ".join(payload_issues[:SHOW])
        )
    if mismatches:
        sig = "\n  ".join(f"{n:5d} x {t} | {who} | {diff}" for (t, who, diff), n in signatures.most_common(20))
        failures.append(
            f"{len(mismatches)} permission mismatches (discord.py/documented vs ours); by kind:\n  {sig}\n"
            f"first {min(SHOW, len(mismatches))}:\n" + "\n".join(mismatches[:SHOW])
        )
    # The generator must keep exercising the interesting cases.
    for key in ("owner pairs", "administrator (role) pairs", "pairs with VIEW_CHANNEL (discord.py)", "channel type 4", "channel type 2"):
        if stats[key] == 0:
            failures.append(f"coverage: no {key}")
    if caps.patch_member and stats["timed-out non-admin pairs"] == 0:
        failures.append("coverage: no timed-out (non-admin) member although PATCH /guilds/{id}/members/{uid} exists")
    if len(records) < GUILDS:
        failures.append(f"only {len(records)} guilds were built")
    return "\n\n".join(failures), summary
