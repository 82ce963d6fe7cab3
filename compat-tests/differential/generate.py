"""Random guilds for the permission differential test, built through accord's REST API.

Every decision about guild number `i` comes from `random.Random(f"{seed}:{i}")` (plus the list
of optional routes the server offers, probed once and printed), so a failing guild can be
rebuilt from the seed printed by the test. Ids differ from run to run; the shapes do not.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp

from .perms import (
    ADMINISTRATOR,
    ALL,
    CONNECT,
    DEFAULT_EVERYONE,
    READ_MESSAGE_HISTORY,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)

PASSWORD = "differential horse battery"

# Channel types generated (weights): text and voice mostly, categories separately.
CHANNEL_TYPES = [(0, 40), (2, 30), (5, 8), (13, 8), (15, 8), (16, 6)]
# Share of overwrite lists that name one target twice (ACCORD_DIFF_DUPLICATE_P; 0 disables).
DUPLICATE_P = float(os.environ.get("ACCORD_DIFF_DUPLICATE_P", "0.03"))


class RestFailure(AssertionError):
    pass


class Api:
    """A tiny REST client that counts requests and shows the body of any unexpected answer."""

    def __init__(self, session: aiohttp.ClientSession, api: str):
        self.session = session
        self.api = api
        self.requests = 0

    async def raw(self, method: str, path: str, token: Optional[str] = None, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": token} if token else {}
        self.requests += 1
        async with self.session.request(method, self.api + path, json=body, headers=headers) as resp:
            data = await resp.read()
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                parsed = data[:500]
            return resp.status, parsed

    async def call(self, method: str, path: str, token: Optional[str] = None, body: Any = None,
                   expect: tuple[int, ...] = (200, 201, 204)) -> Any:
        status, parsed = await self.raw(method, path, token, body)
        if status not in expect:
            raise RestFailure(f"{method} {path} body={json.dumps(body)} -> {status} (expected {expect}): {parsed}")
        return parsed


@dataclass
class User:
    name: str
    id: str
    token: str


@dataclass
class Bot:
    id: str
    token: str


@dataclass
class Caps:
    """Optional routes (issue 3 contract) that the server may not offer yet."""

    put_overwrite: bool = False   # PUT /channels/{id}/permissions/{overwrite_id}
    patch_member: bool = False    # PATCH /guilds/{id}/members/{uid} (timeouts, roles)
    patch_role: bool = False      # PATCH /guilds/{id}/roles/{rid} (@everyone permissions)
    patch_channel: bool = False   # PATCH /channels/{id} (overwrites, lock_permissions, category sync)
    delete_role: bool = False     # DELETE /guilds/{id}/roles/{rid}
    kick: bool = False            # DELETE /guilds/{id}/members/{uid}
    patch_guild: bool = False     # PATCH /guilds/{id} (the live round's sentinel rename)
    role_positions: bool = False  # PATCH /guilds/{id}/roles (positions)

    def describe(self) -> str:
        return ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in self.__dict__.items())


@dataclass
class GuildRecord:
    index: int
    seed: str
    guild_id: str
    owner: User
    bot: Bot
    timed_out: list[str] = field(default_factory=list)   # user ids given a timeout


def route_missing(status: int, body: Any) -> bool:
    """An unknown route answers 404 code 0 or 405 (axum's method fallback)."""
    return status == 405 or (status == 404 and isinstance(body, dict) and body.get("code") == 0)


async def probe_caps(api: Api, owner: User) -> Caps:
    guild = await api.call("POST", "/guilds", owner.token, {"name": "route probe"}, expect=(201,))
    gid = guild["id"]
    channels = await api.call("GET", f"/guilds/{gid}/channels", owner.token, expect=(200,))
    cid = channels[0]["id"]
    caps = Caps()
    st, body = await api.raw("PUT", f"/channels/{cid}/permissions/{gid}", owner.token, {"type": 0, "allow": "0", "deny": "0"})
    caps.put_overwrite = not route_missing(st, body)
    st, body = await api.raw("PATCH", f"/guilds/{gid}/members/{owner.id}", owner.token, {})
    caps.patch_member = not route_missing(st, body)
    st, body = await api.raw("PATCH", f"/guilds/{gid}/roles/{gid}", owner.token, {})
    caps.patch_role = not route_missing(st, body)
    st, body = await api.raw("PATCH", f"/channels/{cid}", owner.token, {})
    caps.patch_channel = not route_missing(st, body)
    st, body = await api.raw("DELETE", f"/guilds/{gid}/roles/1", owner.token)
    caps.delete_role = not route_missing(st, body)
    st, body = await api.raw("DELETE", f"/guilds/{gid}/members/1", owner.token)
    caps.kick = not route_missing(st, body)
    st, body = await api.raw("PATCH", f"/guilds/{gid}", owner.token, {})
    caps.patch_guild = not route_missing(st, body)
    st, body = await api.raw("PATCH", f"/guilds/{gid}/roles", owner.token, [])
    caps.role_positions = not route_missing(st, body)
    return caps


# --------------------------------------------------------------------------- random bitfields


def sparse(rng: random.Random, p: float) -> int:
    out = 0
    bit = 1
    while bit <= ALL:
        if bit & ALL and rng.random() < p:
            out |= bit
        bit <<= 1
    return out


def role_permissions(rng: random.Random, admin_p: float = 0.08) -> int:
    r = rng.random()
    if r < 0.12:
        p = 0
    elif r < 0.45:
        p = sparse(rng, rng.choice([0.05, 0.15, 0.3]))
    elif r < 0.7:
        p = sparse(rng, 0.6)
    else:
        p = DEFAULT_EVERYONE ^ sparse(rng, 0.08)
    for key in (VIEW_CHANNEL, SEND_MESSAGES, CONNECT):
        if rng.random() < 0.25:
            p ^= key
    p &= ALL & ~ADMINISTRATOR
    if rng.random() < admin_p:
        p |= ADMINISTRATOR
    return p


def everyone_permissions(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.35:
        return DEFAULT_EVERYONE
    return role_permissions(rng, admin_p=0.03)


def overwrite_bits(rng: random.Random) -> tuple[int, int]:
    allow = sparse(rng, rng.choice([0.0, 0.05, 0.15, 0.3]))
    deny = sparse(rng, rng.choice([0.0, 0.05, 0.15, 0.3]))
    for key in (VIEW_CHANNEL, SEND_MESSAGES, CONNECT, READ_MESSAGE_HISTORY):
        r = rng.random()
        if r < 0.3:
            allow |= key
            deny &= ~key
        elif r < 0.6:
            deny |= key
            allow &= ~key
    if rng.random() < 0.85:
        deny &= ~allow  # usually disjoint; sometimes a bit is both allowed and denied
    allow &= ~ADMINISTRATOR
    deny &= ~ADMINISTRATOR
    # ADMINISTRATOR in an overwrite means nothing to Discord's algorithm (it is read from the
    # base permissions only), but the API accepts it: make sure nobody treats it as admin.
    if rng.random() < 0.08:
        allow |= ADMINISTRATOR
    elif rng.random() < 0.05:
        deny |= ADMINISTRATOR
    return allow, deny


def pick_channel_type(rng: random.Random) -> int:
    total = sum(w for _, w in CHANNEL_TYPES)
    x = rng.uniform(0, total)
    for t, w in CHANNEL_TYPES:
        x -= w
        if x <= 0:
            return t
    return 0


# --------------------------------------------------------------------------- set-up


async def register_pool(api: Api, count: int) -> list[User]:
    async def one(i: int) -> User:
        name = f"perm_user_{i}"
        reg = await api.call("POST", "/auth/register", None,
                             {"username": name, "password": PASSWORD, "email": f"{name}@example.test"}, expect=(201,))
        return User(name, str(reg["user_id"]), reg["token"])

    # One after the other: ids then sort like the pool, so a seed replays the same choices.
    return [await one(i) for i in range(count)]


async def create_bots(api: Api, owner: User, count: int) -> list[Bot]:
    async def one(i: int) -> Bot:
        app = await api.call("POST", "/applications", owner.token, {"name": f"PermBot {i}"}, expect=(200, 201))
        reset = await api.call("POST", f"/applications/{app['id']}/bot/reset", owner.token, expect=(200,))
        return Bot(str(app["id"]), reset["token"])

    return [await one(i) for i in range(count)]


def random_overwrite_list(rng: random.Random, guild_id: str, role_ids: list[str], member_ids: list[str]) -> list[dict]:
    """Overwrites for @everyone (60 %), each role (35 %) and each member (25 %), in random order."""
    out = []
    if rng.random() < 0.6:
        out.append((guild_id, 0))
    for rid in role_ids:
        if rng.random() < 0.35:
            out.append((rid, 0))
    for uid in member_ids:
        if rng.random() < 0.25:
            out.append((uid, 1))
    if out and rng.random() < DUPLICATE_P:
        # The same target twice in one request. Discord keeps one overwrite per target
        # (the last); a server that stores both serves an ambiguous channel.
        out.append(rng.choice(out))
    rng.shuffle(out)  # @everyone is not always first: order must not matter
    result = []
    for oid, kind in out:
        allow, deny = overwrite_bits(rng)
        result.append({"id": oid, "type": kind, "allow": str(allow), "deny": str(deny)})
    return result


def future_timestamp(rng: random.Random) -> str:
    at = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=rng.randint(3600, 20 * 86400))
    return at.isoformat()


async def build_guild(api: Api, index: int, seed: str, pool: list[User], bot: Bot, caps: Caps) -> GuildRecord:
    rng = random.Random(seed)
    owner = pool[rng.randrange(len(pool))]
    guild = await api.call("POST", "/guilds", owner.token, {"name": f"perm diff {index}"}, expect=(201,))
    gid = guild["id"]
    channels = await api.call("GET", f"/guilds/{gid}/channels", owner.token, expect=(200,))
    general = next(c for c in channels if c["type"] == 0)

    # @everyone's permissions (once PATCH /guilds/{id}/roles/{rid} exists).
    everyone = DEFAULT_EVERYONE
    if caps.patch_role and rng.random() < 0.7:
        everyone = everyone_permissions(rng)
        await api.call("PATCH", f"/guilds/{gid}/roles/{gid}", owner.token, {"permissions": str(everyone)}, expect=(200,))

    # Roles.
    role_ids: list[str] = []
    role_perms: dict[str, int] = {}
    for r in range(rng.randint(0, 8)):
        perms = role_permissions(rng)
        role = await api.call("POST", f"/guilds/{gid}/roles", owner.token,
                              {"name": f"role {r}", "permissions": str(perms)}, expect=(200, 201))
        role_ids.append(role["id"])
        role_perms[role["id"]] = perms

    # Random positions (they must not matter to the computation).
    if caps.role_positions and len(role_ids) > 1 and rng.random() < 0.3:
        order = role_ids[:]
        rng.shuffle(order)
        await api.call("PATCH", f"/guilds/{gid}/roles", owner.token,
                       [{"id": rid, "position": pos + 1} for pos, rid in enumerate(order)], expect=(200,))

    # The bot joins with a random (often empty) permission set on its managed role.
    bot_perms = 0 if rng.random() < 0.4 else role_permissions(rng, admin_p=0.05)
    await api.call("POST", f"/oauth2/authorize?client_id={bot.id}&scope=bot&permissions={bot_perms}", owner.token,
                   {"guild_id": gid, "permissions": str(bot_perms), "authorize": True}, expect=(200,))

    # Members join by invite.
    others = [u for u in pool if u is not owner]
    joiners = rng.sample(others, rng.randint(0, min(6, len(others))))
    if joiners:
        invite = await api.call("POST", f"/channels/{general['id']}/invites", owner.token, {"max_age": 0}, expect=(200,))
        await asyncio.gather(*(api.call("POST", f"/invites/{invite['code']}", u.token, expect=(200,)) for u in joiners))
    member_ids = [owner.id] + [u.id for u in joiners] + [bot.id]
    record = GuildRecord(index, seed, gid, owner, bot)

    # A timeout, before roles are handed out (so a timed-out member may become an
    # administrator afterwards, which exempts it). Never on the owner or on admins (403).
    if caps.patch_member and rng.random() < 0.45:
        candidates = [u.id for u in joiners]
        if not bot_perms & ADMINISTRATOR:
            candidates.append(bot.id)
        if candidates and not everyone & ADMINISTRATOR:
            target = rng.choice(candidates)
            await api.call("PATCH", f"/guilds/{gid}/members/{target}", owner.token,
                           {"communication_disabled_until": future_timestamp(rng)}, expect=(200,))
            record.timed_out.append(target)

    # Roles for members (the owner and the bot included).
    if role_ids:
        for uid in member_ids:
            p = rng.choice([0.0, 0.2, 0.4, 0.7])
            mine = [rid for rid in role_ids if rng.random() < p]
            if not mine:
                continue
            if caps.patch_member and rng.random() < 0.5:
                current = await api.call("GET", f"/guilds/{gid}/members/{uid}", owner.token, expect=(200,))
                roles = sorted(set(current["roles"]) | set(mine))
                await api.call("PATCH", f"/guilds/{gid}/members/{uid}", owner.token, {"roles": roles}, expect=(200,))
            else:
                for rid in mine:
                    await api.call("PUT", f"/guilds/{gid}/members/{uid}/roles/{rid}", owner.token, expect=(204,))

    # Overwrite targets: @everyone, the roles (the bot's managed role too), the members.
    members_now = await api.call("GET", f"/guilds/{gid}/members?limit=1000", owner.token, expect=(200,))
    bot_member = next(m for m in members_now if m["user"]["id"] == bot.id)
    managed = [rid for rid in bot_member["roles"] if rid not in role_perms]

    def random_overwrites() -> list[dict]:
        return random_overwrite_list(rng, gid, role_ids + managed, member_ids)

    async def put_overwrites(channel_id: str, overwrites: list[dict]) -> None:
        for o in overwrites:
            await api.call("PUT", f"/channels/{channel_id}/permissions/{o['id']}", owner.token,
                           {"type": o["type"], "allow": o["allow"], "deny": o["deny"]}, expect=(204,))

    categories: list[str] = []
    for c in range(rng.randint(0, 2)):
        ch = await api.call("POST", f"/guilds/{gid}/channels", owner.token,
                            {"name": f"category-{c}", "type": 4, "permission_overwrites": random_overwrites()},
                            expect=(200, 201))
        categories.append(ch["id"])
    created = [general["id"]]
    for c in range(rng.randint(1, 5)):
        body: dict[str, Any] = {"name": f"chan-{c}", "type": pick_channel_type(rng)}
        if categories and rng.random() < 0.6:
            body["parent_id"] = rng.choice(categories)
        overwrites = random_overwrites()
        later: list[dict] = []
        if caps.put_overwrite and overwrites and rng.random() < 0.3:
            cut = rng.randint(0, len(overwrites))
            overwrites, later = overwrites[:cut], overwrites[cut:]
        body["permission_overwrites"] = overwrites
        ch = await api.call("POST", f"/guilds/{gid}/channels", owner.token, body, expect=(200, 201))
        created.append(ch["id"])
        await put_overwrites(ch["id"], later)
        r = rng.random()
        if caps.patch_channel and body.get("parent_id") and r < 0.25:
            # Synced with its category (copies the category's overwrites).
            await api.call("PATCH", f"/channels/{ch['id']}", owner.token, {"lock_permissions": True}, expect=(200,))
        elif caps.patch_channel and r < 0.4:
            await api.call("PATCH", f"/channels/{ch['id']}", owner.token,
                           {"permission_overwrites": random_overwrites()}, expect=(200,))
    # #general gets overwrites too once they can be set after creation.
    if caps.put_overwrite and rng.random() < 0.5:
        await put_overwrites(general["id"], random_overwrites())
    # A category edited after its children: synced children follow it.
    if caps.patch_channel:
        for cat in categories:
            if rng.random() < 0.3:
                await api.call("PATCH", f"/channels/{cat}", owner.token,
                               {"permission_overwrites": random_overwrites()}, expect=(200,))
    # Churn: an overwrite removed, a role deleted (it leaves members and overwrites), a kick
    # (the member's overwrites stay, as on Discord).
    if caps.put_overwrite and rng.random() < 0.2:
        target_channel = rng.choice(created)
        current = await api.call("GET", f"/channels/{target_channel}", owner.token, expect=(200,))
        if current["permission_overwrites"]:
            o = rng.choice(current["permission_overwrites"])
            await api.call("DELETE", f"/channels/{target_channel}/permissions/{o['id']}", owner.token, expect=(204,))
    if caps.delete_role and role_ids and rng.random() < 0.15:
        await api.call("DELETE", f"/guilds/{gid}/roles/{rng.choice(role_ids)}", owner.token, expect=(204,))
    if caps.kick and joiners and rng.random() < 0.1:
        await api.call("DELETE", f"/guilds/{gid}/members/{rng.choice(joiners).id}", owner.token, expect=(204,))
    return record


# --------------------------------------------------------------------------- live changes

LIVE_OPS = [
    "role_permissions", "overwrite_put", "overwrite_delete", "channel_overwrites", "member_role_add",
    "member_role_remove", "timeout", "role_delete", "kick", "channel_create", "channel_delete",
]


async def mutate_guild(api: Api, rec: GuildRecord, seed: str, caps: Caps) -> list[str]:
    """1-4 random changes to a built guild while the bots are connected; returns what was done
    (for failure reports). Decisions come from `random.Random(seed)` and the guild's state."""
    rng = random.Random(seed)
    tok = rec.owner.token
    gid = rec.guild_id
    guild, channels, members = await asyncio.gather(
        api.call("GET", f"/guilds/{gid}", tok, expect=(200,)),
        api.call("GET", f"/guilds/{gid}/channels", tok, expect=(200,)),
        api.call("GET", f"/guilds/{gid}/members?limit=1000", tok, expect=(200,)),
    )
    roles = {r["id"]: r for r in guild["roles"]}
    plain_roles = [rid for rid, r in roles.items() if rid != gid and not r.get("managed")]
    all_roles = [rid for rid in roles if rid != gid]
    by_id = {m["user"]["id"]: m for m in members}
    owner_id = str(guild["owner_id"])

    def is_admin(uid: str) -> bool:
        m = by_id[uid]
        p = int(roles[gid]["permissions"])
        for rid in m["roles"]:
            if rid in roles:
                p |= int(roles[rid]["permissions"])
        return bool(p & ADMINISTRATOR)

    done: list[str] = []
    ops = [op for op in LIVE_OPS if _op_available(op, caps)]
    for _ in range(rng.randint(1, 4)):
        op = rng.choice(ops)
        if op == "role_permissions":
            rid = rng.choice([gid] + plain_roles)
            perms = everyone_permissions(rng) if rid == gid else role_permissions(rng)
            await api.call("PATCH", f"/guilds/{gid}/roles/{rid}", tok, {"permissions": str(perms)}, expect=(200,))
            roles[rid]["permissions"] = str(perms)
            done.append(f"PATCH role {rid} permissions={perms}")
        elif op == "overwrite_put":
            ch = rng.choice(channels)
            target = rng.choice([(gid, 0)] + [(r, 0) for r in all_roles] + [(u, 1) for u in by_id])
            allow, deny = overwrite_bits(rng)
            await api.call("PUT", f"/channels/{ch['id']}/permissions/{target[0]}", tok,
                           {"type": target[1], "allow": str(allow), "deny": str(deny)}, expect=(204,))
            done.append(f"PUT overwrite {target} on channel {ch['id']} allow={allow} deny={deny}")
        elif op == "overwrite_delete":
            ch = rng.choice(channels)
            if ch["permission_overwrites"]:
                o = rng.choice(ch["permission_overwrites"])
                await api.call("DELETE", f"/channels/{ch['id']}/permissions/{o['id']}", tok, expect=(204,))
                done.append(f"DELETE overwrite {o['id']} on channel {ch['id']}")
        elif op == "channel_overwrites":
            ch = rng.choice(channels)
            ows = random_overwrite_list(rng, gid, all_roles, list(by_id))
            await api.call("PATCH", f"/channels/{ch['id']}", tok, {"permission_overwrites": ows}, expect=(200,))
            done.append(f"PATCH channel {ch['id']} (type {ch['type']}) overwrites")
        elif op in ("member_role_add", "member_role_remove") and plain_roles:
            uid = rng.choice(list(by_id))
            rid = rng.choice(plain_roles)
            method = "PUT" if op == "member_role_add" else "DELETE"
            await api.call(method, f"/guilds/{gid}/members/{uid}/roles/{rid}", tok, expect=(204,))
            done.append(f"{method} role {rid} of member {uid}")
        elif op == "timeout":
            candidates = [u for u in by_id if u != owner_id and not is_admin(u)]
            if candidates:
                uid = rng.choice(candidates)
                until = None if by_id[uid].get("communication_disabled_until") and rng.random() < 0.5 else future_timestamp(rng)
                await api.call("PATCH", f"/guilds/{gid}/members/{uid}", tok,
                               {"communication_disabled_until": until}, expect=(200,))
                done.append(f"timeout of {uid} -> {until}")
        elif op == "role_delete" and plain_roles:
            rid = rng.choice(plain_roles)
            await api.call("DELETE", f"/guilds/{gid}/roles/{rid}", tok, expect=(204,))
            plain_roles.remove(rid)
            all_roles.remove(rid)
            done.append(f"DELETE role {rid}")
        elif op == "kick":
            candidates = [u for u in by_id if u not in (owner_id, rec.bot.id)]
            if candidates:
                uid = rng.choice(candidates)
                await api.call("DELETE", f"/guilds/{gid}/members/{uid}", tok, expect=(204,))
                del by_id[uid]
                done.append(f"kick {uid}")
        elif op == "channel_create":
            body: dict[str, Any] = {"name": "live", "type": pick_channel_type(rng),
                                    "permission_overwrites": random_overwrite_list(rng, gid, all_roles, list(by_id))}
            ch = await api.call("POST", f"/guilds/{gid}/channels", tok, body, expect=(200, 201))
            channels.append(ch)
            done.append(f"POST channel {ch['id']} type {ch['type']}")
        elif op == "channel_delete":
            deletable = [c for c in channels if c["type"] != 0 or c["name"] != "general"]
            if deletable:
                ch = rng.choice(deletable)
                await api.call("DELETE", f"/channels/{ch['id']}", tok, expect=(200,))
                channels.remove(ch)
                done.append(f"DELETE channel {ch['id']} (type {ch['type']})")
    return done


def _op_available(op: str, caps: Caps) -> bool:
    return {
        "role_permissions": caps.patch_role,
        "overwrite_put": caps.put_overwrite,
        "overwrite_delete": caps.put_overwrite,
        "channel_overwrites": caps.patch_channel,
        "timeout": caps.patch_member,
        "role_delete": caps.delete_role,
        "kick": caps.kick,
        "channel_delete": caps.patch_channel,
    }.get(op, True)
