"""Permission bits, discord.py's known deviations from Discord's documented algorithm, and the
comparison rule of the differential test (see README.md in this folder).

Everything here is plain data and pure functions so it can be read and checked on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

# Discord's documented permission bits (shared/reference/discord/permissions.md; bit 47 is not
# a flag). Names as in Discord's docs.
BIT_NAMES: dict[int, str] = {
    0: "CREATE_INSTANT_INVITE",
    1: "KICK_MEMBERS",
    2: "BAN_MEMBERS",
    3: "ADMINISTRATOR",
    4: "MANAGE_CHANNELS",
    5: "MANAGE_GUILD",
    6: "ADD_REACTIONS",
    7: "VIEW_AUDIT_LOG",
    8: "PRIORITY_SPEAKER",
    9: "STREAM",
    10: "VIEW_CHANNEL",
    11: "SEND_MESSAGES",
    12: "SEND_TTS_MESSAGES",
    13: "MANAGE_MESSAGES",
    14: "EMBED_LINKS",
    15: "ATTACH_FILES",
    16: "READ_MESSAGE_HISTORY",
    17: "MENTION_EVERYONE",
    18: "USE_EXTERNAL_EMOJIS",
    19: "VIEW_GUILD_INSIGHTS",
    20: "CONNECT",
    21: "SPEAK",
    22: "MUTE_MEMBERS",
    23: "DEAFEN_MEMBERS",
    24: "MOVE_MEMBERS",
    25: "USE_VAD",
    26: "CHANGE_NICKNAME",
    27: "MANAGE_NICKNAMES",
    28: "MANAGE_ROLES",
    29: "MANAGE_WEBHOOKS",
    30: "MANAGE_GUILD_EXPRESSIONS",
    31: "USE_APPLICATION_COMMANDS",
    32: "REQUEST_TO_SPEAK",
    33: "MANAGE_EVENTS",
    34: "MANAGE_THREADS",
    35: "CREATE_PUBLIC_THREADS",
    36: "CREATE_PRIVATE_THREADS",
    37: "USE_EXTERNAL_STICKERS",
    38: "SEND_MESSAGES_IN_THREADS",
    39: "USE_EMBEDDED_ACTIVITIES",
    40: "MODERATE_MEMBERS",
    41: "VIEW_CREATOR_MONETIZATION_ANALYTICS",
    42: "USE_SOUNDBOARD",
    43: "CREATE_GUILD_EXPRESSIONS",
    44: "CREATE_EVENTS",
    45: "USE_EXTERNAL_SOUNDS",
    46: "SEND_VOICE_MESSAGES",
    48: "SET_VOICE_CHANNEL_STATUS",
    49: "SEND_POLLS",
    50: "USE_EXTERNAL_APPS",
    51: "PIN_MESSAGES",
    52: "BYPASS_SLOWMODE",
}
BITS = {name: 1 << bit for bit, name in BIT_NAMES.items()}
ALL = sum(BITS.values())
assert ALL == 8866461766385663, ALL  # the documented mask (permissions.md)

CREATE_INSTANT_INVITE = BITS["CREATE_INSTANT_INVITE"]
ADMINISTRATOR = BITS["ADMINISTRATOR"]
MANAGE_CHANNELS = BITS["MANAGE_CHANNELS"]
MANAGE_ROLES = BITS["MANAGE_ROLES"]
VIEW_CHANNEL = BITS["VIEW_CHANNEL"]
SEND_MESSAGES = BITS["SEND_MESSAGES"]
READ_MESSAGE_HISTORY = BITS["READ_MESSAGE_HISTORY"]
CONNECT = BITS["CONNECT"]
SEND_EXTRAS = BITS["MENTION_EVERYONE"] | BITS["SEND_TTS_MESSAGES"] | BITS["ATTACH_FILES"] | BITS["EMBED_LINKS"]
DEFAULT_EVERYONE = 1071698660929

# discord.py 2.7.1 `Permissions.voice()` (discord/permissions.py): PRIORITY_SPEAKER, STREAM,
# CONNECT, SPEAK, MUTE_MEMBERS, DEAFEN_MEMBERS, MOVE_MEMBERS, USE_VAD, USE_EMBEDDED_ACTIVITIES,
# USE_SOUNDBOARD, USE_EXTERNAL_SOUNDS, SET_VOICE_CHANNEL_STATUS. Checked against the installed
# library at test time (dpy_dump.py reports the library's own values).
DPY_VOICE = sum(
    BITS[n]
    for n in (
        "PRIORITY_SPEAKER", "STREAM", "CONNECT", "SPEAK", "MUTE_MEMBERS", "DEAFEN_MEMBERS",
        "MOVE_MEMBERS", "USE_VAD", "USE_EMBEDDED_ACTIVITIES", "USE_SOUNDBOARD",
        "USE_EXTERNAL_SOUNDS", "SET_VOICE_CHANNEL_STATUS",
    )
)

# Channel types (Discord): which implicit rules the docs give them.
TEXT_LIKE = {0, 5, 15, 16}  # GUILD_TEXT, GUILD_ANNOUNCEMENT, GUILD_FORUM, GUILD_MEDIA
VOICE_LIKE = {2, 13}        # GUILD_VOICE, GUILD_STAGE_VOICE
CATEGORY = 4


def names(value: int) -> list[str]:
    out = [BIT_NAMES.get(b, f"bit{b}") for b in range(64) if value >> b & 1]
    return out


@dataclass
class Verdict:
    """The outcome of comparing one (member, channel) pair."""

    equal: bool
    compared_mask: int       # bits that were compared
    expected: int            # Discord's documented value, derived from discord.py's (masked)
    ours: int                # our value (masked)
    deviations: list[str]    # which documented discord.py deviations applied


def compare(channel_type: int, dpy: int, ours: int) -> Verdict:
    """Compares discord.py's `permissions_for` value with ours for one pair, following
    Discord's documented algorithm wherever discord.py deviates from it (README.md, D1-D5).

    The rule: `expected` is discord.py's value with its deviations undone where the documented
    result is determined, and the bits masked where discord.py's choice cannot be undone or the
    docs leave the answer open. Every mask is named in `deviations`.
    """
    mask = ALL
    expected = dpy
    applied: list[str] = []

    if not dpy & VIEW_CHANNEL:
        # D2 (text/voice: discord.py clears only its `all_channel()` bits, keeping guild-wide bits
        # such as KICK_MEMBERS or MANAGE_EVENTS) and D5 (categories: discord.py applies no
        # implicit rule at all). Docs: "Denying VIEW_CHANNEL on a channel implicitly denies other
        # permissions on the channel" -> the member has nothing in that channel.
        expected = 0
        applied.append("D2/D5 no VIEW_CHANNEL: documented value is empty")
        return _verdict(mask, expected, ours, applied)

    if channel_type in TEXT_LIKE:
        # D1: discord.py strips Permissions.voice() from text-like channels (TextChannel and
        # ForumChannel.permissions_for); the docs define no such rule (USE_EMBEDDED_ACTIVITIES
        # is even documented for text channels). Its raw value is lost: mask those bits.
        mask &= ~DPY_VOICE
        applied.append("D1 text channel: discord.py strips voice bits (masked)")
    elif channel_type in VOICE_LIKE:
        if not dpy & SEND_MESSAGES:
            # D3: discord.py applies the SEND_MESSAGES rule (no MENTION_EVERYONE, SEND_TTS_MESSAGES,
            # ATTACH_FILES, EMBED_LINKS) to voice channels too; the docs and issue 3 state it for
            # text channels. Undecided by the docs for a voice channel's text chat: mask.
            mask &= ~SEND_EXTRAS
            applied.append("D3 voice channel without SEND_MESSAGES: send extras (masked)")
        if not dpy & CONNECT:
            # D4: docs: "For voice and stage channels, denying CONNECT also implicitly denies
            # other permissions such as MANAGE_CHANNEL" - which others is not documented.
            # discord.py drops voice() + MANAGE_CHANNELS + MANAGE_ROLES; we keep only
            # VIEW_CHANNEL, CREATE_INSTANT_INVITE and READ_MESSAGE_HISTORY. Compare what the docs
            # determine (MANAGE_CHANNELS denied) and what neither reading disputes (VIEW_CHANNEL,
            # CONNECT, the voice bits and MANAGE_ROLES denied, invite/history kept); mask the rest.
            mask &= (
                VIEW_CHANNEL | CONNECT | MANAGE_CHANNELS | MANAGE_ROLES | DPY_VOICE
                | CREATE_INSTANT_INVITE | READ_MESSAGE_HISTORY
            )
            applied.append("D4 voice channel without CONNECT: only CONNECT-dependent bits compared")
    return _verdict(mask, expected, ours, applied)


def _verdict(mask: int, expected: int, ours: int, applied: list[str]) -> Verdict:
    return Verdict(
        equal=(expected & mask) == (ours & mask),
        compared_mask=mask,
        expected=expected & mask,
        ours=ours & mask,
        deviations=applied,
    )


def describe_diff(expected: int, ours: int) -> str:
    only_dpy = expected & ~ours
    only_ours = ours & ~expected
    parts = []
    if only_dpy:
        parts.append("documented/discord.py only: " + ", ".join(names(only_dpy)))
    if only_ours:
        parts.append("ours only: " + ", ".join(names(only_ours)))
    return "; ".join(parts) or "no difference"


def overwrite_summary(overwrites: Optional[list[dict]]) -> str:
    rows = []
    for o in overwrites or []:
        kind = "role" if int(o.get("type", 0)) == 0 else "member"
        rows.append(
            f"{kind} {o['id']}: allow={','.join(names(int(o.get('allow', 0)))) or '-'} "
            f"deny={','.join(names(int(o.get('deny', 0)))) or '-'}"
        )
    return "; ".join(rows) or "none"
