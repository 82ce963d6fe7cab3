#!/usr/bin/env python3
"""Generates openapi/openapi.json and openapi/routes.txt.

Run from anywhere: `python3 openapi/generate.py`. Both outputs are rewritten next to this file;
edit this script, never the generated files. Schemas Discord also has are copied from Discord's
official spec (discord/discord-api-spec, `specs/openapi.json`), read from $DISCORD_SPEC or, by
default, /work/shared/reference/discord/spec/openapi.json.
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "openapi.json")
ROUTES_OUT = os.path.join(HERE, "routes.txt")
DISCORD_SPEC = os.environ.get("DISCORD_SPEC", "/work/shared/reference/discord/spec/openapi.json")
try:
    with open(DISCORD_SPEC) as f:
        DISCORD = json.load(f)
except OSError as err:
    sys.exit(f"cannot read Discord's spec ({err}); set DISCORD_SPEC to a copy of "
             "https://github.com/discord/discord-api-spec/blob/main/specs/openapi.json")
DS = DISCORD["components"]["schemas"]
DP = DISCORD["paths"]


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def nullable_ref(name):
    return {"oneOf": [{"type": "null"}, ref(name)]}


def discord_props(schema_name, fields):
    """Copy the listed properties verbatim from Discord's schema (order kept as given)."""
    props = DS[schema_name]["properties"]
    out = {}
    for f in fields:
        if f not in props:
            raise KeyError(f"{schema_name}.{f} not in Discord's spec")
        out[f] = copy.deepcopy(props[f])
    return out


def discord_body_props(path, method, fields):
    """Copy the listed properties of an inline request body schema of one of Discord's operations."""
    props = DP[path][method]["requestBody"]["content"]["application/json"]["schema"]["properties"]
    out = {}
    for f in fields:
        if f not in props:
            raise KeyError(f"{method.upper()} {path} body.{f} not in Discord's spec")
        out[f] = copy.deepcopy(props[f])
    return out


def obj(props, required=None, description=None):
    o = {"type": "object"}
    if description:
        o["description"] = description
    o["properties"] = props
    if required:
        missing = [r for r in required if r not in props]
        assert not missing, missing
        o["required"] = list(required)
    return o


schemas = {}

# ---------------------------------------------------------------- primitives (Discord)
schemas["SnowflakeType"] = copy.deepcopy(DS["SnowflakeType"])
schemas["Int53Type"] = copy.deepcopy(DS["Int53Type"])
schemas["UInt32Type"] = copy.deepcopy(DS["UInt32Type"])
schemas["SnowflakeInput"] = {
    "description": "A snowflake id in a request body: a decimal string or a JSON integer (both accepted).",
    "anyOf": [ref("SnowflakeType"), {"type": "integer", "minimum": 0}],
}
schemas["PermissionsInput"] = {
    "description": "A permission bit set in a request: a decimal string (as Discord returns it) or a JSON integer.",
    "anyOf": [{"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}, {"type": "integer", "minimum": 0}],
}
schemas["ChannelPermissionOverwrites"] = copy.deepcopy(DS["ChannelPermissionOverwrites"])
schemas["MessageReferenceType"] = copy.deepcopy(DS["MessageReferenceType"])

# ---------------------------------------------------------------- errors
schemas["FieldError"] = obj(
    {
        "code": {
            "type": "string",
            "description": "Symbolic validation error code, e.g. BASE_TYPE_REQUIRED, BASE_TYPE_MAX_LENGTH, "
            "BASE_TYPE_BAD_LENGTH, USERNAME_ALREADY_TAKEN, INVALID_LOGIN.",
        },
        "message": {"type": "string", "description": "Human-readable error message"},
    },
    ["code", "message"],
    "One validation error for a field (leaf of the `errors` tree).",
)
schemas["InnerErrors"] = {
    "type": "object",
    "properties": {
        "_errors": {
            "type": "array",
            "description": "The list of errors for this field",
            "items": ref("FieldError"),
        }
    },
    "additionalProperties": False,
    "required": ["_errors"],
}
schemas["ErrorDetails"] = copy.deepcopy(DS["ErrorDetails"])
schemas["ErrorResponse"] = obj(
    {
        "code": {"type": "integer", "description": "Discord internal error code (0 for plain HTTP errors)."},
        "message": {"type": "string", "description": "Human-readable error message"},
        "errors": ref("ErrorDetails"),
    },
    ["code", "message"],
    "Errors object returned by the API (Discord's body: code, message and, for 50035, a nested `errors` tree).",
)

# ---------------------------------------------------------------- auth (ours)
schemas["RegisterRequest"] = obj(
    {
        "username": {"type": "string", "minLength": 2, "maxLength": 32, "description": "unique username"},
        "password": {"type": "string", "minLength": 8},
        "email": {"type": ["string", "null"]},
    },
    ["username", "password"],
)
schemas["LoginRequest"] = obj(
    {
        "login": {"type": "string", "description": "username or email"},
        "password": {"type": "string"},
    },
    ["login", "password"],
)
schemas["UserTokenResponse"] = obj(
    {
        "token": {"type": "string", "description": "user token (JWT), sent raw in the Authorization header"},
        "user_id": ref("SnowflakeType"),
    },
    ["token", "user_id"],
)

# ---------------------------------------------------------------- users (Discord, trimmed)
USER_PII_FIELDS = ["id", "username", "discriminator", "global_name", "avatar", "bot", "system", "mfa_enabled",
                   "locale", "verified", "email", "flags", "premium_type", "public_flags"]
p = discord_props("UserPIIResponse", USER_PII_FIELDS)
p["discriminator"]["description"] = 'always "0" (no discriminators)'
p["locale"] = {"type": "string", "description": "the user's locale, e.g. en-US"}
p["premium_type"] = {"type": "integer", "format": "int32", "description": "0 (none)"}
schemas["UserPIIResponse"] = obj(p, USER_PII_FIELDS)

p = discord_props("UserResponse", ["id", "username", "discriminator", "global_name", "avatar", "bot", "system",
                                   "flags", "public_flags"])
schemas["UserResponse"] = obj(p, ["id", "username", "discriminator", "global_name", "avatar"],
                              "Public user (never carries email).")
schemas["ApplicationPatchRequest"] = obj({
    "description": {"type": "string", "maxLength": 400},
    "flags": {"type": "integer", "format": "int64", "description":
              "Application flags; only GATEWAY_PRESENCE_LIMITED (1<<13), GATEWAY_GUILD_MEMBERS_LIMITED (1<<15) "
              "and GATEWAY_MESSAGE_CONTENT_LIMITED (1<<19) may change. They gate the privileged intents "
              "(close 4014 without them); new applications start with all three."},
}, [])
schemas["CurrentUserPatchRequest"] = obj(
    {
        "username": {"type": "string", "minLength": 2, "maxLength": 32},
        "global_name": {"type": ["string", "null"]},
    },
    description="Differs from Discord's BotAccountPatchRequest: username is optional and global_name is accepted.",
)
p = discord_props("MyGuildResponse", ["id", "name", "icon", "owner", "permissions", "features"])
p["features"] = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
schemas["MyGuildResponse"] = obj(p, list(p))

# ---------------------------------------------------------------- applications
APP_FIELDS = ["id", "name", "icon", "description", "bot_public", "bot_require_code_grant", "owner", "verify_key",
              "flags", "team", "bot"]
p = discord_props("PrivateApplicationResponse", APP_FIELDS)
p["team"] = {"type": "null", "description": "always null (no teams)"}
p["id"]["description"] = "equals the id of the application's bot user"
schemas["PrivateApplicationResponse"] = obj(p, APP_FIELDS)
schemas["CreateApplicationRequest"] = obj({"name": {"type": "string"}}, ["name"])
schemas["ApplicationBotTokenResponse"] = obj(
    {"token": {"type": "string", "description": "bot token; send as `Authorization: Bot <token>`"}},
    ["token"],
)

# ---------------------------------------------------------------- oauth2 (ours)
schemas["OAuth2AuthorizeRequest"] = obj(
    {
        "guild_id": ref("SnowflakeInput"),
        "permissions": ref("PermissionsInput"),
        "authorize": {"type": "boolean", "const": True},
    },
    ["guild_id", "authorize"],
)
schemas["OAuth2AuthorizeResponse"] = obj({"location": {"type": "string"}}, ["location"])

# ---------------------------------------------------------------- roles (Discord)
schemas["GuildRoleColorsResponse"] = copy.deepcopy(DS["GuildRoleColorsResponse"])
schemas["GuildRoleTagsResponse"] = obj(discord_props("GuildRoleTagsResponse", ["bot_id"]))
ROLE_FIELDS = ["id", "name", "color", "colors", "hoist", "icon", "unicode_emoji", "position", "permissions",
               "managed", "mentionable", "flags", "tags"]
p = discord_props("GuildRoleResponse", ROLE_FIELDS)
schemas["GuildRoleResponse"] = obj(p, [f for f in ROLE_FIELDS if f != "tags"])
schemas["RoleColors"] = copy.deepcopy(DS["RoleColors"])
p = discord_props("CreateRoleRequest", ["name", "permissions", "color", "colors", "hoist", "mentionable"])
p["permissions"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")],
                    "description": "may only contain bits the caller holds"}
schemas["CreateRoleRequest"] = obj(p)
p = discord_props("UpdateRoleRequestPartial", ["name", "permissions", "color", "colors", "hoist", "mentionable"])
p["permissions"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")],
                    "description": "may only add bits the caller holds (bits the role already has may stay)"}
p["name"]["description"] = "the @everyone role (id = guild id) cannot be renamed"
schemas["UpdateRoleRequestPartial"] = obj(p, description="Absent fields stay as they are; `colors` wins over `color`.")
p = discord_props("UpdateRolePositionsRequest", ["id", "position"])
p["id"] = ref("SnowflakeInput")
p["position"]["minimum"] = 1
p["position"]["description"] = "new position; an entry without one is ignored. @everyone cannot be moved."
schemas["UpdateRolePositionsRequest"] = obj(p, ["id"])

# ---------------------------------------------------------------- guilds
GUILD_FIELDS = {"id", "name", "icon", "description", "splash", "discovery_splash", "features", "banner", "owner_id",
                "application_id", "afk_channel_id", "afk_timeout", "system_channel_id", "system_channel_flags",
                "verification_level", "roles", "default_message_notifications", "mfa_level",
                "explicit_content_filter", "max_members", "max_video_channel_users", "vanity_url_code",
                "premium_tier", "premium_subscription_count", "preferred_locale", "rules_channel_id",
                "safety_alerts_channel_id", "public_updates_channel_id", "premium_progress_bar_enabled",
                "nsfw_level", "emojis", "stickers"}
GUILD_FIELDS = [f for f in DS["GuildResponse"]["properties"] if f in GUILD_FIELDS]
p = discord_props("GuildResponse", GUILD_FIELDS)
for k in ["afk_timeout", "verification_level", "default_message_notifications", "explicit_content_filter",
          "mfa_level", "premium_tier", "nsfw_level"]:
    p[k] = {"type": "integer", "format": "int32"}
p["preferred_locale"] = {"type": "string"}
p["features"] = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
p["emojis"] = {"type": "array", "items": {"type": "object"}}
p["stickers"] = {"type": "array", "items": {"type": "object"}}
p["roles"]["description"] = "includes @everyone, whose id equals the guild id"
schemas["GuildResponse"] = obj(p, GUILD_FIELDS)
schemas["CreateGuildRequest"] = obj({"name": {"type": "string"}}, ["name"])
p = discord_props("GuildPatchRequestPartial", ["name", "description", "icon", "verification_level",
                                               "default_message_notifications", "explicit_content_filter",
                                               "preferred_locale", "afk_timeout", "system_channel_id"])
p["icon"] = {"type": ["string", "null"], "description": "stored as given (no image processing)"}
for k, hi in [("verification_level", 4), ("default_message_notifications", 1), ("explicit_content_filter", 2)]:
    p[k] = {"type": ["integer", "null"], "minimum": 0, "maximum": hi, "format": "int32"}
p["preferred_locale"] = {"type": ["string", "null"], "description": "e.g. en-US"}
p["afk_timeout"] = {"type": ["integer", "null"], "enum": [None, 60, 300, 900, 1800, 3600], "format": "int32"}
p["system_channel_id"] = {"oneOf": [{"type": "null"}, ref("SnowflakeInput")],
                          "description": "a channel of this guild; null unsets it"}
p["owner_id"] = {"allOf": [ref("SnowflakeInput")],
                 "description": "transfers ownership: owner only (else 403 code 50013); the new owner must be a member"}
schemas["GuildPatchRequestPartial"] = obj(p, description="Absent fields stay as they are; null clears the nullable "
                                          "ones. `owner_id` is not in Discord's schema (Discord accepts it).")

# ---------------------------------------------------------------- channels (Discord)
schemas["ChannelPermissionOverwriteResponse"] = copy.deepcopy(DS["ChannelPermissionOverwriteResponse"])
CHANNEL_FIELDS = ["id", "type", "guild_id", "name", "position", "parent_id", "topic", "nsfw",
                  "permission_overwrites", "last_message_id", "rate_limit_per_user", "flags"]
p = discord_props("GuildChannelResponse", CHANNEL_FIELDS)
p["type"] = {"type": "integer", "format": "int32", "description": "channel type (0 = GUILD_TEXT)"}
schemas["GuildChannelResponse"] = obj(p, CHANNEL_FIELDS)
p = discord_props("ChannelPermissionOverwriteRequest", ["id", "type", "allow", "deny"])
p["id"] = ref("SnowflakeInput")
p["allow"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")]}
p["deny"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")]}
p["type"] = ref("ChannelPermissionOverwrites")
p["allow"] = ref("PermissionsInput")
p["deny"] = ref("PermissionsInput")
schemas["ChannelPermissionOverwriteRequest"] = obj(p, ["id", "type"])
p = discord_props("CreateGuildChannelRequest", ["name", "type", "topic", "parent_id", "position", "nsfw",
                                                 "permission_overwrites"])
p["type"] = {"type": ["integer", "null"], "format": "int32", "default": 0}
p["parent_id"] = {"oneOf": [{"type": "null"}, ref("SnowflakeInput")]}
schemas["CreateGuildChannelRequest"] = obj(p, ["name"])
p = discord_props("UpdateGuildChannelRequestPartial", ["name", "position", "topic", "nsfw", "rate_limit_per_user",
                                                        "parent_id", "permission_overwrites"])
p["topic"]["maxLength"] = 1024
p["parent_id"] = {"oneOf": [{"type": "null"}, ref("SnowflakeInput")],
                  "description": "a category of the guild; null detaches the channel"}
p["permission_overwrites"]["description"] = ("replaces the channel's overwrites; needs MANAGE_ROLES and only bits "
                                             "the caller holds")
p["lock_permissions"] = {"type": ["boolean", "null"],
                         "description": "true: copy the parent category's overwrites (accord; Discord accepts it "
                         "on the channel-positions route)"}
schemas["UpdateGuildChannelRequestPartial"] = obj(p, description="Absent fields stay as they are.")
p = discord_body_props("/channels/{channel_id}/permissions/{overwrite_id}", "put", ["type", "allow", "deny"])
p["type"] = ref("ChannelPermissionOverwrites")
p["allow"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")], "default": "0"}
p["deny"] = {"oneOf": [{"type": "null"}, ref("PermissionsInput")], "default": "0"}
schemas["SetChannelPermissionOverwriteRequest"] = obj(
    p, ["type"], "Discord's (inline) body of set_channel_permission_overwrite; `type` is required here.")

# ---------------------------------------------------------------- members (Discord)
MEMBER_FIELDS = ["user", "nick", "avatar", "roles", "joined_at", "premium_since", "deaf", "mute", "flags",
                 "pending", "communication_disabled_until"]
p = discord_props("GuildMemberResponse", MEMBER_FIELDS)
schemas["GuildMemberResponse"] = obj(p, MEMBER_FIELDS)
p = discord_body_props("/guilds/{guild_id}/members/{user_id}", "patch",
                       ["nick", "roles", "mute", "deaf", "communication_disabled_until"])
p["nick"]["minLength"] = 1
p["nick"]["description"] = "MANAGE_NICKNAMES (own nickname: CHANGE_NICKNAME); null removes it"
p["roles"] = {"type": ["array", "null"], "items": ref("SnowflakeInput"),
              "description": "the member's complete role list (without @everyone). MANAGE_ROLES; every role added "
              "or removed must be below the caller's highest role and not managed"}
p["mute"]["description"] = "MUTE_MEMBERS"
p["deaf"]["description"] = "DEAFEN_MEMBERS"
p["communication_disabled_until"]["description"] = (
    "timeout end (ISO 8601), at most 28 days ahead; null ends it. MODERATE_MEMBERS; never on the owner or an "
    "ADMINISTRATOR member")
schemas["UpdateGuildMemberRequest"] = obj(
    p, description="Discord's (inline) body of update_guild_member; absent fields stay as they are.")
p = discord_body_props("/guilds/{guild_id}/members/@me", "patch", ["nick"])
p["nick"]["minLength"] = 1
p["nick"]["description"] = "CHANGE_NICKNAME (or MANAGE_NICKNAMES); null removes it"
schemas["UpdateMyGuildMemberRequest"] = obj(p, description="Discord's (inline) body of update_my_guild_member.")

# ---------------------------------------------------------------- bans (Discord)
schemas["GuildBanResponse"] = copy.deepcopy(DS["GuildBanResponse"])
schemas["BanUserFromGuildRequest"] = obj(discord_props("BanUserFromGuildRequest", ["delete_message_seconds"]))
schemas["BanUserFromGuildRequest"]["properties"]["delete_message_seconds"]["description"] = (
    "delete the user's messages of this many past seconds in the guild")

MSG_MEMBER_FIELDS = ["roles", "joined_at", "deaf", "mute", "flags", "nick"]
schemas["MessageMemberResponse"] = obj(
    discord_props("GuildMemberResponse", MSG_MEMBER_FIELDS), MSG_MEMBER_FIELDS,
    "The author's guild member (without `user`); not in Discord's REST MessageResponse, present in its "
    "MESSAGE_CREATE dispatch.")

# ---------------------------------------------------------------- invites (Discord)
p = discord_props("InviteGuildResponse", ["id", "name", "icon", "splash", "banner", "description", "features",
                                          "verification_level", "vanity_url_code", "nsfw_level", "nsfw",
                                          "premium_subscription_count"])
p["features"] = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
p["verification_level"] = {"type": ["integer", "null"], "format": "int32"}
p["nsfw_level"] = {"type": ["integer", "null"], "format": "int32"}
schemas["InviteGuildResponse"] = obj(p, ["id", "name", "icon"])
p = discord_props("InviteChannelResponse", ["id", "name", "type"])
p["type"] = {"type": "integer", "format": "int32"}
schemas["InviteChannelResponse"] = obj(p, ["id", "name", "type"])
INVITE_FIELDS = ["code", "type", "guild", "channel", "inviter", "uses", "max_uses", "max_age", "temporary",
                 "created_at", "expires_at"]
p = discord_props("GuildInviteResponse", INVITE_FIELDS)
p["type"] = {"type": "integer", "const": 0, "format": "int32", "description": "0 = GUILD"}
schemas["GuildInviteResponse"] = obj(p, INVITE_FIELDS)
p = discord_props("CreateGuildInviteRequest", ["max_age", "max_uses", "temporary", "unique"])
schemas["CreateGuildInviteRequest"] = obj(p)

# ---------------------------------------------------------------- messages
for n in ["RichEmbed", "RichEmbedAuthor", "RichEmbedField", "RichEmbedFooter", "RichEmbedImage",
          "RichEmbedProvider", "RichEmbedThumbnail", "RichEmbedVideo",
          "MessageEmbedAuthorResponse", "MessageEmbedFieldResponse", "MessageEmbedFooterResponse",
          "MessageEmbedImageResponse", "MessageEmbedProviderResponse", "MessageEmbedVideoResponse",
          "MessageReferenceResponse"]:
    schemas[n] = copy.deepcopy(DS[n])
s = copy.deepcopy(DS["MessageEmbedResponse"])
del s["properties"]["components"]
schemas["MessageEmbedResponse"] = s

p = discord_props("MessageReferenceRequest", ["message_id", "channel_id", "guild_id", "fail_if_not_exists"])
p["message_id"] = ref("SnowflakeInput")
p["channel_id"] = {"oneOf": [{"type": "null"}, ref("SnowflakeInput")]}
p["guild_id"] = {"oneOf": [{"type": "null"}, ref("SnowflakeInput")]}
schemas["MessageReferenceRequest"] = obj(p, ["message_id"])

schemas["AllowedMentionTypes"] = copy.deepcopy(DS["AllowedMentionTypes"])
schemas["MessageAllowedMentionsRequest"] = copy.deepcopy(DS["MessageAllowedMentionsRequest"])
p = discord_props("MessageCreateRequest", ["content", "nonce", "enforce_nonce", "tts", "message_reference",
                                           "embeds", "allowed_mentions"])
p["content"]["maxLength"] = 2000
schemas["MessageCreateRequest"] = obj(
    p, description="At least one of content or embeds must be non-empty (else 400, code 50006). "
    "Unknown fields are ignored.")

p = {
    "content": {"type": ["string", "null"], "maxLength": 2000},
    "embeds": {"type": ["array", "null"], "items": ref("RichEmbed"), "maxItems": 10},
    "flags": {"type": ["integer", "null"], "description": "only SUPPRESS_EMBEDS (1<<2) is kept"},
    "allowed_mentions": {"oneOf": [{"type": "null"}, ref("MessageAllowedMentionsRequest")]},
}
schemas["MessageEditRequest"] = obj(p, description="Absent fields stay as they are; null clears them.")
schemas["BulkDeleteMessagesRequest"] = obj(
    {"messages": {"type": "array", "items": ref("SnowflakeType"), "minItems": 2, "maxItems": 100,
                  "uniqueItems": True}}, ["messages"])

MSG_FIELDS = ["id", "type", "channel_id", "guild_id", "author", "member", "content", "timestamp",
              "edited_timestamp", "tts", "mention_everyone", "mentions", "mention_roles", "attachments", "embeds",
              "pinned", "nonce", "message_reference", "referenced_message", "flags", "components"]
MSG_OPTIONAL = {"nonce", "message_reference", "referenced_message"}
base = {}
for f in MSG_FIELDS:
    if f == "guild_id":
        base[f] = ref("SnowflakeType")
    elif f == "member":
        base[f] = ref("MessageMemberResponse")
    elif f == "type":
        base[f] = {"type": "integer", "format": "int32", "description": "0 = DEFAULT, 19 = REPLY"}
    elif f == "attachments":
        base[f] = {"type": "array", "items": {"type": "object"}, "description": "always empty (no uploads yet)"}
    elif f == "components":
        base[f] = {"type": "array", "items": {"type": "object"}}
    else:
        base.update(discord_props("MessageResponse", [f]))
basic = {k: v for k, v in base.items() if k != "referenced_message"}
schemas["BasicMessageResponse"] = obj(basic, [f for f in MSG_FIELDS if f in basic and f not in MSG_OPTIONAL])
schemas["MessageResponse"] = obj(base, [f for f in MSG_FIELDS if f not in MSG_OPTIONAL])

# ---------------------------------------------------------------- gateway (Discord)
for n in ["GatewayResponse", "GatewayBotResponse", "GatewayBotSessionStartLimitResponse"]:
    schemas[n] = copy.deepcopy(DS[n])
schemas["GatewayResponse"]["properties"]["url"]["description"] = "public URL with the ws:// (or wss://) scheme"
schemas["GatewayBotResponse"]["properties"]["shards"]["description"] = "always 1"

# ================================================================= responses / parameters
def err_resp(desc, examples):
    return {
        "description": desc,
        "content": {"application/json": {"schema": ref("ErrorResponse"), "examples": examples}},
    }


responses = {
    "BadRequest": err_resp("Invalid request (400)", {
        "invalid_form_body": {"value": {"code": 50035, "message": "Invalid Form Body", "errors": {
            "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH",
                                     "message": "Must be 2000 or fewer in length."}]}}}},
        "malformed_json": {"value": {"code": 50109, "message": "The request body contains invalid JSON."}},
        "empty_message": {"value": {"code": 50006, "message": "Cannot send an empty message"}},
        "invalid_role": {"value": {"code": 50028, "message": "Invalid Role"}},
        "invalid_guild": {"value": {"code": 50055, "message": "Invalid Guild"}},
    }),
    "Unauthorized": err_resp("Missing or invalid token (401)", {
        "unauthorized": {"value": {"code": 0, "message": "401: Unauthorized"}},
    }),
    "Forbidden": err_resp("Not allowed (403): 50001 missing access, 50013 missing permissions, "
                          "20001 bots cannot use this endpoint, 40007 user banned from the guild", {
        "missing_access": {"value": {"code": 50001, "message": "Missing Access"}},
        "missing_permissions": {"value": {"code": 50013, "message": "Missing Permissions"}},
        "bot_forbidden": {"value": {"code": 20001, "message": "Bots cannot use this endpoint"}},
        "banned": {"value": {"code": 40007, "message": "The user is banned from this guild."}},
    }),
    "NotFound": err_resp("Unknown resource (404): 10002 application, 10003 channel, 10004 guild, 10006 invite, "
                         "10007 member, 10008 message, 10011 role, 10013 user, 10026 ban. A guild or channel of a "
                         "guild the caller is not a member of is reported as unknown (10004 / 10003)", {
        "unknown_guild": {"value": {"code": 10004, "message": "Unknown Guild"}},
        "unknown_channel": {"value": {"code": 10003, "message": "Unknown Channel"}},
    }),
}

def path_param(name, desc, schema=None):
    return {"name": name, "in": "path", "required": True, "description": desc,
            "schema": schema or ref("SnowflakeType")}


def q(name, schema, desc=None, required=False):
    d = {"name": name, "in": "query", "schema": schema}
    if desc:
        d["description"] = desc
    if required:
        d["required"] = True
    return d


BOTH = [{"BotToken": []}, {"UserToken": []}]
BOT = [{"BotToken": []}]
USER = [{"UserToken": []}]
NONE = [{}]


def json_body(schema_name, required=True):
    return {"required": required, "content": {"application/json": {"schema": ref(schema_name)}}}


def ok(code, desc, schema):
    r = {"description": desc}
    if schema is not None:
        r["content"] = {"application/json": {"schema": schema}}
    return {str(code): r}


def op(op_id, summary, tag, security, success, errors, body=None, params=None, description=None):
    o = {"operationId": op_id, "summary": summary, "tags": [tag]}
    if description:
        o["description"] = description
    if params:
        o["parameters"] = params
    if body:
        o["requestBody"] = body
    o["security"] = security
    resps = dict(success)
    for code in errors:
        name = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound"}[code]
        resps[str(code)] = {"$ref": f"#/components/responses/{name}"}
    o["responses"] = resps
    return o


GUILD_ID = path_param("id", "guild id")
CHANNEL_ID = path_param("id", "channel id")
USER_ID = path_param("uid", "user id")
ROLE_ID = path_param("rid", "role id")
OVERWRITE_ID = path_param("oid", "overwrite target: a role id (type 0) or a user id (type 1)")
AUDIT_LOG_REASON = {"name": "X-Audit-Log-Reason", "in": "header", "required": False,
                    "description": "URL-encoded reason (up to 512 characters), stored as the ban's reason",
                    "schema": {"type": "string"}}

paths = {}
paths["/auth/register"] = {"post": op(
    "auth_register", "Register a user account", "auth", NONE,
    ok(201, "Account created", ref("UserTokenResponse")), [400], json_body("RegisterRequest"),
    description="Duplicate username: 400 code 50035 with errors.username._errors[0].code USERNAME_ALREADY_TAKEN.")}
paths["/auth/login"] = {"post": op(
    "auth_login", "Log in and obtain a user token", "auth", NONE,
    ok(200, "Logged in", ref("UserTokenResponse")), [400], json_body("LoginRequest"),
    description="Wrong login or password: 400 code 50035 with errors.login._errors[0].code and "
    "errors.password._errors[0].code INVALID_LOGIN.")}
paths["/users/@me"] = {
    "get": op("get_my_user", "Get the current user", "users", BOTH,
              ok(200, "The current user", ref("UserPIIResponse")), [401]),
    "patch": op("update_my_user", "Modify the current user", "users", BOTH,
                ok(200, "The updated user", ref("UserPIIResponse")), [400, 401],
                json_body("CurrentUserPatchRequest")),
}
paths["/users/@me/guilds"] = {"get": op(
    "list_my_guilds", "List the current user's guilds", "users", BOTH,
    ok(200, "Guilds the user is a member of", {"type": "array", "items": ref("MyGuildResponse")}), [401])}
paths["/users/@me/guilds/{id}"] = {
    "parameters": [GUILD_ID],
    "delete": op("leave_guild", "Leave a guild", "users", BOTH, ok(204, "Left the guild", None), [400, 401, 404],
                 description="The owner cannot leave: 400 code 50055. Not a member or unknown guild: 404 code 10004. "
                 "GUILD_MEMBER_REMOVE to the guild, GUILD_DELETE {id} to the caller's sessions."),
}
paths["/users/{id}"] = {
    "parameters": [path_param("id", "user id")],
    "get": op("get_user", "Get a user", "users", BOTH,
              ok(200, "The public user", ref("UserResponse")), [401, 404],
              description="Unknown user: 404 code 10013."),
}
paths["/applications"] = {"post": op(
    "create_application", "Create an application with its bot user", "applications", USER,
    ok(201, "The new application", ref("PrivateApplicationResponse")), [400, 401, 403],
    json_body("CreateApplicationRequest"),
    description="User tokens only; a bot token gets 403 code 20001. The application id equals its bot user's id.")}
paths["/applications/@me"] = {
    "get": op("get_my_application", "Get the bot's application", "applications", BOT,
              ok(200, "The application", ref("PrivateApplicationResponse")), [401]),
    "patch": op("update_my_application", "Modify the bot's application", "applications", BOT,
                ok(200, "The application", ref("PrivateApplicationResponse")), [400, 401],
                json_body("ApplicationPatchRequest")),
}
paths["/applications/{id}"] = {
    "parameters": [path_param("id", "application id")],
    "patch": op("update_application", "Modify an application (owner)", "applications", USER,
                ok(200, "The application", ref("PrivateApplicationResponse")), [400, 401, 403, 404],
                json_body("ApplicationPatchRequest"),
                description="Only the owner's user token; anyone else gets 404 code 10002."),
}
paths["/applications/{id}/bot/reset"] = {
    "parameters": [path_param("id", "application id")],
    "post": op("reset_application_bot_token", "Reset (issue) the bot token", "applications", USER,
               ok(200, "The new bot token", ref("ApplicationBotTokenResponse")), [401, 403, 404],
               description="Owner's user token only. A reset invalidates the previous token. "
               "Unknown application: 404 code 10002."),
}
paths["/oauth2/applications/@me"] = {"get": op(
    "get_my_oauth2_application", "Get the bot's application (OAuth2 route)", "oauth2", BOT,
    ok(200, "The application", ref("PrivateApplicationResponse")), [401])}
paths["/oauth2/authorize"] = {"post": op(
    "oauth2_authorize", "Authorize a bot into a guild", "oauth2", USER,
    ok(200, "Authorized", ref("OAuth2AuthorizeResponse")), [400, 401, 403, 404],
    json_body("OAuth2AuthorizeRequest"),
    params=[q("client_id", ref("SnowflakeType"), "application id", True),
            q("scope", {"type": "string"}, 'must contain "bot"', True),
            q("permissions", {"type": "string", "pattern": "^(0|[1-9][0-9]*)$"}, "permission bit set")],
    description="Caller needs MANAGE_GUILD in guild_id. The bot becomes a member with a managed role "
    "(name = application name, managed: true, tags.bot_id, permissions = the requested bits).")}
paths["/guilds"] = {"post": op(
    "create_guild", "Create a guild", "guilds", BOTH,
    ok(201, "The new guild", ref("GuildResponse")), [400, 401], json_body("CreateGuildRequest"),
    description="The caller becomes the owner; the @everyone role has id = guild id and permissions "
    "\"1071698660929\"; a text channel \"general\" (type 0) is created.")}
paths["/guilds/{id}"] = {
    "parameters": [GUILD_ID],
    "get": op("get_guild", "Get a guild", "guilds", BOTH, ok(200, "The guild", ref("GuildResponse")),
              [401, 404], description="Members only: for a non-member, as for an unknown guild, 404 code 10004."),
    "patch": op("update_guild", "Modify a guild", "guilds", BOTH, ok(200, "The updated guild", ref("GuildResponse")),
                [400, 401, 403, 404], json_body("GuildPatchRequestPartial"),
                description="Needs MANAGE_GUILD; transferring ownership (owner_id) is for the owner only. "
                "Fires GUILD_UPDATE (the guild object)."),
    "delete": op("delete_guild", "Delete a guild", "guilds", BOTH, ok(204, "Guild deleted", None), [401, 403, 404],
                 description="Owner only (else 403 code 50013). GUILD_DELETE {id} to every member's sessions. "
                 "Not in Discord's public spec."),
}
paths["/guilds/{id}/channels"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_channels", "List a guild's channels", "channels", BOTH,
              ok(200, "The channels", {"type": "array", "items": ref("GuildChannelResponse")}),
              [401, 403, 404]),
    "post": op("create_guild_channel", "Create a guild channel", "channels", BOTH,
               ok(201, "The new channel", ref("GuildChannelResponse")), [400, 401, 403, 404],
               json_body("CreateGuildChannelRequest"), description="Needs MANAGE_CHANNELS."),
}
paths["/channels/{id}"] = {
    "parameters": [CHANNEL_ID],
    "get": op("get_channel", "Get a channel", "channels", BOTH, ok(200, "The channel", ref("GuildChannelResponse")),
              [401, 403, 404],
              description="Needs VIEW_CHANNEL (else 403 code 50001); unknown channel, or one in a guild the "
              "caller is not a member of: 404 code 10003."),
    "patch": op("update_channel", "Modify a channel", "channels", BOTH,
                ok(200, "The updated channel", ref("GuildChannelResponse")), [400, 401, 403, 404],
                json_body("UpdateGuildChannelRequestPartial"),
                description="Needs MANAGE_CHANNELS, plus MANAGE_ROLES when the overwrites change (only bits the "
                "caller holds). Editing a category's overwrites also applies them to every child that was in sync "
                "with it. Fires CHANNEL_UPDATE per changed channel."),
    "delete": op("delete_channel", "Delete a channel", "channels", BOTH,
                 ok(200, "The deleted channel", ref("GuildChannelResponse")), [401, 403, 404],
                 description="Needs MANAGE_CHANNELS. Fires CHANNEL_DELETE; deleting a category detaches its "
                 "children (parent_id null, CHANNEL_UPDATE)."),
}
OVERWRITE_DESC = ("Needs MANAGE_ROLES as computed in the channel (\"Manage Permissions\"). Fires CHANNEL_UPDATE "
                  "(for a category, also for the children that were in sync with it).")
paths["/channels/{id}/permissions/{oid}"] = {
    "parameters": [CHANNEL_ID, OVERWRITE_ID],
    "put": op("set_channel_permission_overwrite", "Create or replace a permission overwrite", "channels", BOTH,
              ok(204, "Overwrite saved", None), [400, 401, 403, 404],
              json_body("SetChannelPermissionOverwriteRequest"),
              description=OVERWRITE_DESC + " allow and deny may only hold bits the caller has in the channel "
              "(else 403 code 50013). Unknown role (type 0): 404 code 10011; not a member (type 1): 404 code 10007."),
    "delete": op("delete_channel_permission_overwrite", "Delete a permission overwrite", "channels", BOTH,
                 ok(204, "Overwrite deleted (also when there was none)", None), [401, 403, 404],
                 description=OVERWRITE_DESC),
}
paths["/guilds/{id}/roles"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_roles", "List a guild's roles", "roles", BOTH,
              ok(200, "The roles", {"type": "array", "items": ref("GuildRoleResponse")}), [401, 403, 404]),
    "post": op("create_guild_role", "Create a role", "roles", BOTH,
               ok(200, "The new role", ref("GuildRoleResponse")), [400, 401, 403, 404],
               json_body("CreateRoleRequest", required=False),
               description="Needs MANAGE_ROLES; may only grant permission bits the caller holds."),
    "patch": op("bulk_update_guild_roles", "Reorder roles", "roles", BOTH,
                ok(200, "Every role of the guild, by position", {"type": "array", "items": ref("GuildRoleResponse")}),
                [400, 401, 403, 404],
                {"required": True, "content": {"application/json": {
                    "schema": {"type": "array", "items": ref("UpdateRolePositionsRequest")}}}},
                description="Needs MANAGE_ROLES; a role can only be moved if it is, and stays, below the caller's "
                "highest role (the owner may move any). Unknown role id: 400 code 50035. Fires GUILD_ROLE_UPDATE "
                "per moved role."),
}
paths["/guilds/{id}/roles/{rid}"] = {
    "parameters": [GUILD_ID, ROLE_ID],
    "patch": op("update_guild_role", "Modify a role", "roles", BOTH,
                ok(200, "The updated role", ref("GuildRoleResponse")), [400, 401, 403, 404],
                json_body("UpdateRoleRequestPartial"),
                description="Needs MANAGE_ROLES and the role strictly below the caller's highest role. Unknown "
                "role: 404 code 10011. Fires GUILD_ROLE_UPDATE {guild_id, role}."),
    "delete": op("delete_guild_role", "Delete a role", "roles", BOTH, ok(204, "Role deleted", None),
                 [400, 401, 403, 404],
                 description="Needs MANAGE_ROLES and the role strictly below the caller's highest role. @everyone: "
                 "400 code 50028; a managed role: 403 code 50013; unknown role: 404 code 10011. The role is removed "
                 "from every member and from channel overwrites (CHANNEL_UPDATE per such channel). Fires "
                 "GUILD_ROLE_DELETE {guild_id, role_id}."),
}
paths["/guilds/{id}/members"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_members", "List guild members", "members", BOTH,
              ok(200, "Members in ascending user id order",
                 {"type": "array", "items": ref("GuildMemberResponse")}), [400, 401, 403, 404],
              params=[q("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1}),
                      q("after", ref("SnowflakeType"), "return members with a user id greater than this")]),
}
paths["/guilds/{id}/members/{uid}"] = {
    "parameters": [GUILD_ID, path_param("uid", "user id")],
    "get": op("get_guild_member", "Get a guild member", "members", BOTH,
              ok(200, "The member", ref("GuildMemberResponse")), [401, 403, 404],
              description="Unknown member: 404 code 10007."),
    "patch": op("update_guild_member", "Modify a guild member", "members", BOTH,
                ok(200, "The updated member", ref("GuildMemberResponse")), [400, 401, 403, 404],
                json_body("UpdateGuildMemberRequest"),
                description="Each field needs its own permission (see the body schema); changing another member's "
                "nickname or timeout also needs the member's highest role strictly below the caller's, and nobody "
                "can act on the owner (403 code 50013). Unknown member: 404 code 10007. Fires GUILD_MEMBER_UPDATE."),
    "delete": op("delete_guild_member", "Kick a member", "members", BOTH, ok(204, "Member removed", None),
                 [401, 403, 404],
                 description="Needs KICK_MEMBERS and the member's highest role strictly below the caller's; the owner "
                 "cannot be kicked (403 code 50013). Unknown member: 404 code 10007. GUILD_MEMBER_REMOVE "
                 "{guild_id, user} to the guild, GUILD_DELETE {id} to the kicked user's sessions."),
}
paths["/guilds/{id}/members/@me"] = {
    "parameters": [GUILD_ID],
    "patch": op("update_my_guild_member", "Modify the current member", "members", BOTH,
                ok(200, "The updated member", ref("GuildMemberResponse")), [400, 401, 403, 404],
                json_body("UpdateMyGuildMemberRequest"),
                description="Needs CHANGE_NICKNAME (or MANAGE_NICKNAMES). Fires GUILD_MEMBER_UPDATE."),
}
BAN_DESC = "Needs BAN_MEMBERS."
paths["/guilds/{id}/bans"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_bans", "List bans", "bans", BOTH,
              ok(200, "The bans", {"type": "array", "items": ref("GuildBanResponse")}), [400, 401, 403, 404],
              params=[q("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 1000}),
                      q("before", ref("SnowflakeType"), "return bans of users with an id less than this"),
                      q("after", ref("SnowflakeType"), "return bans of users with an id greater than this")],
              description=BAN_DESC),
}
paths["/guilds/{id}/bans/{uid}"] = {
    "parameters": [GUILD_ID, USER_ID],
    "get": op("get_guild_ban", "Get a ban", "bans", BOTH, ok(200, "The ban", ref("GuildBanResponse")),
              [401, 403, 404], description=BAN_DESC + " Not banned: 404 code 10026."),
    "put": op("ban_user_from_guild", "Ban a user", "bans", BOTH, ok(204, "User banned", None), [400, 401, 403, 404],
              json_body("BanUserFromGuildRequest", required=False), params=[AUDIT_LOG_REASON],
              description=BAN_DESC + " Banning a member also needs its highest role strictly below the caller's; "
              "the owner cannot be banned (403 code 50013). Unknown user: 404 code 10013. A member is removed "
              "(GUILD_MEMBER_REMOVE to the guild, GUILD_DELETE to the user), the user's messages of the last "
              "delete_message_seconds are deleted (MESSAGE_DELETE_BULK per channel), and GUILD_BAN_ADD "
              "{guild_id, user} fires. A banned user accepting an invite gets 403 code 40007."),
    "delete": op("unban_user_from_guild", "Remove a ban", "bans", BOTH, ok(204, "Ban removed", None),
                 [401, 403, 404],
                 description=BAN_DESC + " Not banned: 404 code 10026. Fires GUILD_BAN_REMOVE {guild_id, user}."),
}
ROLE_DESC = ("Needs MANAGE_ROLES and the role below the caller's highest role. Unknown role: 404 code 10011; "
             "unknown member: 404 code 10007.")
paths["/guilds/{id}/members/{uid}/roles/{rid}"] = {
    "parameters": [GUILD_ID, path_param("uid", "user id"), path_param("rid", "role id")],
    "put": op("add_guild_member_role", "Add a role to a member", "members", BOTH,
              ok(204, "Role added", None), [401, 403, 404], description=ROLE_DESC),
    "delete": op("delete_guild_member_role", "Remove a role from a member", "members", BOTH,
                 ok(204, "Role removed", None), [401, 403, 404], description=ROLE_DESC),
}
paths["/channels/{id}/invites"] = {
    "parameters": [CHANNEL_ID],
    "post": op("create_channel_invite", "Create an invite", "invites", BOTH,
               ok(200, "The invite", ref("GuildInviteResponse")), [400, 401, 403, 404],
               json_body("CreateGuildInviteRequest", required=False), description="Needs CREATE_INSTANT_INVITE."),
}
paths["/invites/{code}"] = {
    "parameters": [path_param("code", "invite code", {"type": "string"})],
    "get": op("invite_resolve", "Resolve an invite", "invites", [{}, {"BotToken": []}, {"UserToken": []}],
              ok(200, "The invite", ref("GuildInviteResponse")), [404],
              description="No authentication needed. Unknown invite: 404 code 10006."),
    "post": op("invite_accept", "Accept an invite (join its guild)", "invites", USER,
               ok(200, "The invite", ref("GuildInviteResponse")), [401, 403, 404],
               description="User tokens only (bots: 403 code 20001); a user banned from the guild gets 403 code "
               "40007. The user becomes a member: GUILD_MEMBER_ADD to the guild, GUILD_CREATE to the joiner's "
               "gateway sessions."),
}
paths["/channels/{id}/messages"] = {
    "parameters": [CHANNEL_ID],
    "get": op("list_messages", "List messages", "messages", BOTH,
              ok(200, "Messages, newest first", {"type": "array", "items": ref("MessageResponse")}),
              [400, 401, 403, 404],
              params=[q("around", ref("SnowflakeType")), q("before", ref("SnowflakeType")),
                      q("after", ref("SnowflakeType")),
                      q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50})]),
    "post": op("create_message", "Send a message", "messages", BOTH,
               ok(200, "The message", ref("MessageResponse")), [400, 401, 403, 404],
               json_body("MessageCreateRequest"),
               description="Needs VIEW_CHANNEL and SEND_MESSAGES (403 code 50013). content over 2000 characters: "
               "400 code 50035 with errors.content._errors[0].code BASE_TYPE_MAX_LENGTH; nothing to send: 400 "
               "code 50006. A reply (message_reference) has type 19 and carries referenced_message."),
}
paths["/channels/{id}/messages/{mid}"] = {
    "parameters": [CHANNEL_ID, path_param("mid", "message id")],
    "get": op("get_message", "Get a message", "messages", BOTH, ok(200, "The message", ref("MessageResponse")),
              [401, 403, 404], description="Unknown message: 404 code 10008."),
    "patch": op("update_message", "Edit a message", "messages", BOTH, ok(200, "The message", ref("MessageResponse")),
                [400, 401, 403, 404], json_body("MessageEditRequest"),
                description="The author may change content, embeds and flags; another member with MANAGE_MESSAGES "
                "may only toggle SUPPRESS_EMBEDS (else 403 code 50005). Sets edited_timestamp; MESSAGE_UPDATE to "
                "the channel's viewers."),
    "delete": op("delete_message", "Delete a message", "messages", BOTH, ok(204, "Deleted", None),
                 [401, 403, 404], params=[AUDIT_LOG_REASON],
                 description="The author, or anyone with MANAGE_MESSAGES. MESSAGE_DELETE {id, channel_id, guild_id}."),
}
paths["/channels/{id}/messages/bulk-delete"] = {
    "parameters": [CHANNEL_ID],
    "post": op("bulk_delete_messages", "Delete several messages", "messages", BOTH, ok(204, "Deleted", None),
               [400, 401, 403, 404], json_body("BulkDeleteMessagesRequest"), params=[AUDIT_LOG_REASON],
               description="Needs MANAGE_MESSAGES. 2-100 distinct ids (else 400 code 50035); any id older than 14 "
               "days: 400 code 50034. Unknown ids are skipped; one MESSAGE_DELETE_BULK {ids, channel_id, guild_id}."),
}
schemas["PinnedMessageResponse"] = obj(
    {"pinned_at": {"type": "string", "format": "date-time"}, "message": ref("MessageResponse")},
    ["pinned_at", "message"])
schemas["PinnedMessagesResponse"] = obj(
    {"items": {"type": "array", "items": ref("PinnedMessageResponse")}, "has_more": {"type": "boolean"}},
    ["items", "has_more"])
PIN_DESC = ("Needs PIN_MESSAGES. Unknown message: 404 code 10008; a 51st pin: 400 code 30003. When the pin state "
            "changes: MESSAGE_UPDATE (pinned) and CHANNEL_PINS_UPDATE {guild_id, channel_id, last_pin_timestamp}.")
paths["/channels/{id}/messages/pins"] = {
    "parameters": [CHANNEL_ID],
    "get": op("list_pins", "List pinned messages", "messages", BOTH,
              ok(200, "Pins, most recently pinned first", ref("PinnedMessagesResponse")), [400, 401, 403, 404],
              params=[q("before", {"type": "string", "format": "date-time"}, "pins made before this time"),
                      q("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 50})],
              description="Empty without READ_MESSAGE_HISTORY."),
}
paths["/channels/{id}/messages/pins/{mid}"] = {
    "parameters": [CHANNEL_ID, path_param("mid", "message id")],
    "put": op("create_pin", "Pin a message", "messages", BOTH, ok(204, "Pinned", None), [400, 401, 403, 404],
              params=[AUDIT_LOG_REASON], description=PIN_DESC),
    "delete": op("delete_pin", "Unpin a message", "messages", BOTH, ok(204, "Unpinned", None), [401, 403, 404],
                 params=[AUDIT_LOG_REASON], description=PIN_DESC),
}
paths["/channels/{id}/pins"] = {
    "parameters": [CHANNEL_ID],
    "get": op("deprecated_list_pins", "List pinned messages (deprecated)", "messages", BOTH,
              ok(200, "The newest 50 pinned messages", {"type": "array", "items": ref("MessageResponse")}),
              [401, 403, 404], description="Deprecated by Discord; use /channels/{id}/messages/pins."),
}
paths["/channels/{id}/pins/{mid}"] = {
    "parameters": [CHANNEL_ID, path_param("mid", "message id")],
    "put": op("deprecated_create_pin", "Pin a message (deprecated)", "messages", BOTH, ok(204, "Pinned", None),
              [400, 401, 403, 404], params=[AUDIT_LOG_REASON], description=PIN_DESC),
    "delete": op("deprecated_delete_pin", "Unpin a message (deprecated)", "messages", BOTH,
                 ok(204, "Unpinned", None), [401, 403, 404], params=[AUDIT_LOG_REASON], description=PIN_DESC),
}
paths["/channels/{id}/typing"] = {
    "parameters": [CHANNEL_ID],
    "post": op("trigger_typing_indicator", "Show that the caller is typing", "messages", BOTH,
               ok(204, "Typing started", None), [401, 403, 404],
               description="Needs SEND_MESSAGES in the channel. TYPING_START {channel_id, guild_id, user_id, "
               "timestamp, member} to sessions that can view the channel and have GUILD_MESSAGE_TYPING."),
}
# --- webhooks ---
p = {
    "id": ref("SnowflakeType"),
    "type": {"type": "integer", "enum": [1], "format": "int32", "description": "1 = incoming"},
    "guild_id": ref("SnowflakeType"),
    "channel_id": ref("SnowflakeType"),
    "user": ref("UserResponse"),
    "name": {"type": "string"},
    "avatar": {"type": ["string", "null"]},
    "token": {"type": "string", "description": "68 characters; absent for another application's webhook"},
    "application_id": {"oneOf": [{"type": "null"}, ref("SnowflakeType")]},
    "url": {"type": "string", "format": "uri", "description": "{public URL}/api/webhooks/{id}/{token}, beside token"},
}
schemas["GuildIncomingWebhookResponse"] = obj(
    p, ["id", "type", "guild_id", "channel_id", "name", "avatar", "application_id"],
    description="`user` (the creator) only on authenticated routes; `token` and `url` unless another "
    "application created the webhook.")
WEBHOOK_NAME = {"type": "string", "minLength": 1, "maxLength": 80,
                "description": "may not contain \"clyde\" or \"discord\" (any case): 400 code 50035 "
                "USERNAME_INVALID_CONTAINS"}
WEBHOOK_AVATAR = {"type": ["string", "null"], "description": "data URI data:image/{png,jpeg,gif,webp};base64,..."}
schemas["WebhookCreateRequest"] = obj({"name": WEBHOOK_NAME, "avatar": WEBHOOK_AVATAR}, ["name"])
schemas["WebhookUpdateRequest"] = obj(
    {"name": WEBHOOK_NAME, "avatar": WEBHOOK_AVATAR,
     "channel_id": {"oneOf": [{"type": "null"}, ref("SnowflakeInput")],
                    "description": "another channel of the same guild (MANAGE_WEBHOOKS there too); ignored by the "
                    "token route"}},
    description="Absent fields stay; avatar null clears it.")
p = discord_props("MessageCreateRequest", ["content", "tts", "embeds", "allowed_mentions"])
p["content"]["maxLength"] = 2000
p["username"] = dict(WEBHOOK_NAME, description="overrides the webhook's name for this message")
p["avatar_url"] = {"type": "string", "format": "uri", "description": "overrides the avatar for this message"}
p["flags"] = {"type": ["integer", "null"], "description": "SUPPRESS_EMBEDS (1<<2), SUPPRESS_NOTIFICATIONS (1<<12)"}
p["components"] = {"type": ["array", "null"], "items": {"type": "object"}, "description": "accepted, not kept"}
p["attachments"] = {"type": ["array", "null"], "items": {"type": "object"}, "description": "accepted, not kept"}
p["thread_name"] = {"type": "string", "description": "no forum channels here: 400 code 220003"}
schemas["WebhookExecuteRequest"] = obj(
    p, description="Validated like a normal message (50006 when empty, 50035 per field). A webhook is not a "
    "member: it mentions @everyone, @here and roles unless allowed_mentions narrows that, and its messages "
    "carry webhook_id (and application_id for an application's webhook) and no member.")
for n in ["MessageResponse", "BasicMessageResponse"]:
    schemas[n]["properties"]["webhook_id"] = dict(ref("SnowflakeType"), description="the webhook that posted it")
    schemas[n]["properties"]["application_id"] = dict(
        ref("SnowflakeType"), description="the application whose webhook posted it")
WEBHOOK_ID = path_param("id", "webhook id")
WEBHOOK_TOKEN = path_param("token", "webhook token", {"type": "string"})
THREAD_ID = q("thread_id", ref("SnowflakeType"), "there are no threads: any id answers 404 code 10003")
TOKEN_DESC = ("No authentication. Unknown webhook: 404 code 10015; wrong token: 401 code 50027 "
              "\"Invalid Webhook Token\".")
MANAGE_DESC = ("Needs MANAGE_WEBHOOKS in the webhook's channel; a webhook of a guild the caller is not in: "
               "404 code 10015. Changes fire WEBHOOKS_UPDATE {guild_id, channel_id} (GUILD_WEBHOOKS, 1<<5) to "
               "the channel's viewers.")
WEBHOOK = ref("GuildIncomingWebhookResponse")
WEBHOOKS = {"type": "array", "items": WEBHOOK}
paths["/channels/{id}/webhooks"] = {
    "parameters": [CHANNEL_ID],
    "get": op("list_channel_webhooks", "List a channel's webhooks", "webhooks", BOTH,
              ok(200, "Webhooks, oldest first", WEBHOOKS), [401, 403, 404], description=MANAGE_DESC),
    "post": op("create_webhook", "Create a webhook", "webhooks", BOTH, ok(200, "The webhook", WEBHOOK),
               [400, 401, 403, 404], json_body("WebhookCreateRequest"), params=[AUDIT_LOG_REASON],
               description=MANAGE_DESC + " At most 15 per channel (400 code 30007); not in categories "
               "(400 code 50024)."),
}
paths["/guilds/{id}/webhooks"] = {
    "parameters": [GUILD_ID],
    "get": op("get_guild_webhooks", "List a guild's webhooks", "webhooks", BOTH,
              ok(200, "Webhooks, oldest first", WEBHOOKS), [401, 403, 404],
              description="Needs MANAGE_WEBHOOKS guild-wide."),
}
paths["/webhooks/{id}"] = {
    "parameters": [WEBHOOK_ID],
    "get": op("get_webhook", "Get a webhook", "webhooks", BOTH, ok(200, "The webhook", WEBHOOK),
              [401, 403, 404], description=MANAGE_DESC),
    "patch": op("update_webhook", "Edit or move a webhook", "webhooks", BOTH, ok(200, "The webhook", WEBHOOK),
                [400, 401, 403, 404], json_body("WebhookUpdateRequest"), params=[AUDIT_LOG_REASON],
                description=MANAGE_DESC + " Moving into a channel with 15 webhooks: 400 code 30007; into "
                "another guild: 404 code 10003."),
    "delete": op("delete_webhook", "Delete a webhook", "webhooks", BOTH, ok(204, "Deleted", None),
                 [401, 403, 404], params=[AUDIT_LOG_REASON], description=MANAGE_DESC),
}
paths["/webhooks/{id}/{token}"] = {
    "parameters": [WEBHOOK_ID, WEBHOOK_TOKEN],
    "get": op("get_webhook_by_token", "Get a webhook with its token", "webhooks", NONE,
              ok(200, "The webhook, without user", WEBHOOK), [401, 404], description=TOKEN_DESC),
    "patch": op("update_webhook_by_token", "Edit a webhook with its token", "webhooks", NONE,
                ok(200, "The webhook, without user", WEBHOOK), [400, 401, 404], json_body("WebhookUpdateRequest"),
                params=[AUDIT_LOG_REASON], description=TOKEN_DESC + " channel_id is ignored."),
    "delete": op("delete_webhook_by_token", "Delete a webhook with its token", "webhooks", NONE,
                 ok(204, "Deleted", None), [401, 404], params=[AUDIT_LOG_REASON], description=TOKEN_DESC),
    "post": op("execute_webhook", "Post a message as the webhook", "webhooks", NONE,
               {**ok(200, "With wait=true: the message", ref("MessageResponse")),
                **ok(204, "Without wait: posted", None)},
               [400, 401, 404], json_body("WebhookExecuteRequest"),
               params=[q("wait", {"type": "boolean"}, "answer with the message (true/1)"), THREAD_ID],
               description=TOKEN_DESC + " MESSAGE_CREATE to the channel's viewers; the author is "
               "{id: webhook id, username, avatar, discriminator: \"0000\", bot: true}."),
}
paths["/webhooks/{id}/{token}/messages/{mid}"] = {
    "parameters": [WEBHOOK_ID, WEBHOOK_TOKEN, path_param("mid", "message id")],
    "get": op("get_webhook_message", "Get a message the webhook posted", "webhooks", NONE,
              ok(200, "The message", ref("MessageResponse")), [400, 401, 404], params=[THREAD_ID],
              description=TOKEN_DESC + " Any other message: 404 code 10008."),
    "patch": op("update_webhook_message", "Edit a message the webhook posted", "webhooks", NONE,
                ok(200, "The message", ref("MessageResponse")), [400, 401, 404], json_body("MessageEditRequest"),
                params=[THREAD_ID], description=TOKEN_DESC + " Any other message: 404 code 10008. Mentions are "
                "parsed again; MESSAGE_UPDATE."),
    "delete": op("delete_webhook_message", "Delete a message the webhook posted", "webhooks", NONE,
                 ok(204, "Deleted", None), [400, 401, 404], params=[THREAD_ID],
                 description=TOKEN_DESC + " Any other message: 404 code 10008. MESSAGE_DELETE."),
}
# --- end webhooks ---
# --- reactions and emojis ---
for n in ["MessageReactionCountDetailsResponse", "MessageReactionEmojiResponse", "MessageReactionResponse",
          "EmojiResponse"]:
    schemas[n] = copy.deepcopy(DS[n])
schemas["MessageResponse"]["properties"]["reactions"] = {
    "type": "array", "items": ref("MessageReactionResponse"),
    "description": "absent when the message has none; `me` is filled for the caller in REST answers"}
schemas["EmojiCreateRequest"] = obj(
    discord_body_props("/guilds/{guild_id}/emojis", "post", ["name", "image", "roles"]), ["name", "image"],
    description="name: 2-32 letters, digits or underscores; image: a data URI "
    "(data:image/png|jpeg|gif|webp;base64,...) of at most 256 KiB whose bytes are that kind of image "
    "(else 400 code 50035 at image, IMAGE_INVALID or BINARY_TYPE_MAX_SIZE); a gif makes an animated emoji.")
schemas["EmojiUpdateRequest"] = obj(
    discord_body_props("/guilds/{guild_id}/emojis/{emoji_id}", "patch", ["name", "roles"]),
    description="Absent fields stay; roles null clears the restriction.")
EMOJI_PATH = path_param("emoji", "a URL-encoded unicode emoji, or a custom emoji as name:id (a:name:id for "
                        "animated ones); anything else, or a custom emoji that does not exist, is 400 code 10014",
                        {"type": "string"})
MESSAGE_ID = path_param("mid", "message id")
REACTION_EVENTS = ("Events (GUILD_MESSAGE_REACTIONS intent, to sessions that can view the channel): "
                   "MESSAGE_REACTION_ADD {user_id, channel_id, message_id, guild_id, member, emoji, "
                   "message_author_id, burst, burst_colors, type}, MESSAGE_REACTION_REMOVE {user_id, channel_id, "
                   "message_id, guild_id, emoji, burst, type}, MESSAGE_REACTION_REMOVE_ALL {channel_id, "
                   "message_id, guild_id}, MESSAGE_REACTION_REMOVE_EMOJI {channel_id, guild_id, message_id, emoji}; "
                   "only when something changed. Unknown message: 404 code 10008.")
paths["/channels/{id}/messages/{mid}/reactions"] = {
    "parameters": [CHANNEL_ID, MESSAGE_ID],
    "delete": op("delete_all_message_reactions", "Remove every reaction of a message", "reactions", BOTH,
                 ok(204, "Removed", None), [401, 403, 404],
                 description="Needs MANAGE_MESSAGES. " + REACTION_EVENTS),
}
paths["/channels/{id}/messages/{mid}/reactions/{emoji}"] = {
    "parameters": [CHANNEL_ID, MESSAGE_ID, EMOJI_PATH],
    "get": op("list_message_reactions_by_emoji", "List the users who reacted with an emoji", "reactions", BOTH,
              ok(200, "Users, by ascending id", {"type": "array", "items": ref("UserResponse")}),
              [400, 401, 403, 404],
              params=[q("after", ref("SnowflakeType"), "users with ids above this one"),
                      q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}),
                      q("type", {"type": "integer", "enum": [0, 1], "default": 0},
                        "0 normal, 1 burst (always empty: no super reactions here)")],
              description="Needs READ_MESSAGE_HISTORY. limit outside 1-100: 400 code 50035."),
    "delete": op("delete_all_message_reactions_by_emoji", "Remove every reaction with one emoji", "reactions",
                 BOTH, ok(204, "Removed", None), [400, 401, 403, 404],
                 description="Needs MANAGE_MESSAGES. " + REACTION_EVENTS),
}
paths["/channels/{id}/messages/{mid}/reactions/{emoji}/@me"] = {
    "parameters": [CHANNEL_ID, MESSAGE_ID, EMOJI_PATH],
    "put": op("add_my_message_reaction", "React to a message", "reactions", BOTH, ok(204, "Reacted", None),
              [400, 401, 403, 404],
              description="Needs READ_MESSAGE_HISTORY, and ADD_REACTIONS when nobody has reacted with the emoji "
              "yet. A custom emoji of another guild needs USE_EXTERNAL_EMOJIS and membership there; one restricted to "
              "roles needs one of them (else 400 code 10014). A 21st "
              "different emoji: 400 code 30010. Reacting twice changes nothing. " + REACTION_EVENTS),
    "delete": op("delete_my_message_reaction", "Remove one's own reaction", "reactions", BOTH,
                 ok(204, "Removed", None), [400, 401, 403, 404], description=REACTION_EVENTS),
}
paths["/channels/{id}/messages/{mid}/reactions/{emoji}/{uid}"] = {
    "parameters": [CHANNEL_ID, MESSAGE_ID, EMOJI_PATH, USER_ID],
    "delete": op("delete_user_message_reaction", "Remove a user's reaction", "reactions", BOTH,
                 ok(204, "Removed", None), [400, 401, 403, 404],
                 description="Needs MANAGE_MESSAGES unless the user is the caller. " + REACTION_EVENTS),
}
EMOJI_ID = path_param("eid", "emoji id")
EMOJI_DESC = ("Every change publishes GUILD_EMOJIS_UPDATE {guild_id, emojis} (GUILD_EXPRESSIONS intent); "
              "guild objects and GUILD_CREATE list the emojis. `user` (the creator) is filled for callers "
              "with MANAGE_GUILD_EXPRESSIONS or CREATE_GUILD_EXPRESSIONS. Unknown emoji: 404 code 10014.")
paths["/guilds/{id}/emojis"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_emojis", "List a guild's emojis", "emojis", BOTH,
              ok(200, "Emojis, oldest first", {"type": "array", "items": ref("EmojiResponse")}), [401, 404],
              description=EMOJI_DESC),
    "post": op("create_guild_emoji", "Upload an emoji", "emojis", BOTH, ok(201, "The emoji", ref("EmojiResponse")),
               [400, 401, 403, 404], json_body("EmojiCreateRequest"), params=[AUDIT_LOG_REASON],
               description="Needs CREATE_GUILD_EXPRESSIONS. 50 static and 50 animated per guild (400 code 30008 / "
               "30018). " + EMOJI_DESC),
}
paths["/guilds/{id}/emojis/{eid}"] = {
    "parameters": [GUILD_ID, EMOJI_ID],
    "get": op("get_guild_emoji", "Get an emoji", "emojis", BOTH, ok(200, "The emoji", ref("EmojiResponse")),
              [401, 404], description=EMOJI_DESC),
    "patch": op("update_guild_emoji", "Rename an emoji or restrict it to roles", "emojis", BOTH,
                ok(200, "The emoji", ref("EmojiResponse")), [400, 401, 403, 404], json_body("EmojiUpdateRequest"),
                params=[AUDIT_LOG_REASON],
                description="Needs MANAGE_GUILD_EXPRESSIONS, or CREATE_GUILD_EXPRESSIONS for one's own emoji. "
                + EMOJI_DESC),
    "delete": op("delete_guild_emoji", "Delete an emoji", "emojis", BOTH, ok(204, "Deleted", None),
                 [401, 403, 404], params=[AUDIT_LOG_REASON],
                 description="As for editing. Reactions with the emoji stay. " + EMOJI_DESC),
}
# --- end reactions and emojis ---
paths["/gateway"] = {"get": op(
    "get_gateway", "Get the gateway URL", "gateway", NONE, ok(200, "Gateway URL", ref("GatewayResponse")), [])}
paths["/gateway/bot"] = {"get": op(
    "get_bot_gateway", "Get the gateway URL with session limits", "gateway", BOT,
    ok(200, "Gateway URL and session start limits", ref("GatewayBotResponse")), [401])}

# --- files ---
# Attachments: multipart/form-data bodies on message create/edit, the attachment object, and
# the CDN-style route (outside /api, so described in INFO_DESC rather than in `paths`).
schemas["AttachmentResponse"] = obj(
    {**discord_props("AttachmentResponse", ["id", "filename", "description", "content_type", "size", "url",
                                            "proxy_url", "height", "width", "flags"])},
    ["id", "filename", "size", "url", "proxy_url"],
    description="url and proxy_url are <public url>/attachments/{channel_id}/{attachment_id}/{filename}; "
    "content_type is sniffed from the bytes (images) or guessed from the name; height/width for images.")
schemas["MessageAttachmentRequest"] = obj(
    discord_props("MessageAttachmentRequest", ["id", "filename", "description", "is_spoiler"]), ["id"],
    description="id: the n of a files[n] part (a new upload) or, on edit, an existing attachment's id to keep.")
for n in ["MessageResponse", "BasicMessageResponse"]:
    schemas[n]["properties"]["attachments"] = {"type": "array", "items": ref("AttachmentResponse")}
ATTACHMENTS_PROP = {"type": ["array", "null"], "items": ref("MessageAttachmentRequest"), "maxItems": 10}
schemas["MessageCreateRequest"]["properties"]["attachments"] = ATTACHMENTS_PROP
schemas["MessageCreateRequest"]["description"] = (
    "At least one of content, embeds or files must be non-empty (else 400, code 50006). Unknown fields are "
    "ignored. embeds may reference uploads as attachment://<filename>.")
schemas["MessageEditRequest"]["properties"]["attachments"] = {
    **ATTACHMENTS_PROP, "description": "the attachments to keep (by id) and new uploads (by files[n] index); "
    "absent keeps all, [] removes all"}


def multipart_body(schema_name):
    return {"required": True, "content": {
        "application/json": {"schema": ref(schema_name)},
        "multipart/form-data": {"schema": obj({
            "payload_json": {"type": "string", "description": f"JSON of {schema_name}"},
            "files[0]": {"type": "string", "format": "binary",
                         "description": "files[0] … files[9]; each at most --max-upload-bytes (default 10 MiB, "
                         "else 413 code 40005)"},
        }, description="Without payload_json the other fields are the parameters. More than 10 files, a file "
            "without an attachments entry (when attachments is given) or an entry without a file: 400 code "
            "50035; a malformed body: 400 code 50035."),
            "encoding": {"payload_json": {"contentType": "application/json"}}},
        "application/x-www-form-urlencoded": {"schema": ref(schema_name)},
    }}


paths["/channels/{id}/messages"]["post"]["requestBody"] = multipart_body("MessageCreateRequest")
paths["/channels/{id}/messages"]["post"]["description"] += (
    " Uploading files needs ATTACH_FILES (403 code 50013).")
paths["/channels/{id}/messages"]["post"]["responses"]["413"] = {
    "description": "A file is larger than --max-upload-bytes: code 40005", "content": {
        "application/json": {"schema": ref("ErrorResponse")}}}
paths["/channels/{id}/messages/{mid}"]["patch"]["requestBody"] = multipart_body("MessageEditRequest")
paths["/channels/{id}/messages/{mid}"]["patch"]["responses"]["413"] = paths["/channels/{id}/messages"]["post"][
    "responses"]["413"]
paths["/channels/{id}/messages/{mid}"]["patch"]["description"] += (
    " The author may also keep, remove (attachments) and add (files[n], needs ATTACH_FILES) attachments.")
FILES_DESC = """
## Attachments (CDN)
`GET /attachments/{channel_id}/{attachment_id}/{filename}` (on the server root, outside `/api`, like Discord's
cdn.discordapp.com; no token) answers an attachment's bytes with its Content-Type and Content-Length while a
message lists it under that filename; anything else is 404. Bytes are deleted with their message (single, bulk,
ban clean-up), channel or guild.
"""
# --- end files ---
# --- dms ---
p = discord_props("PrivateChannelResponse", ["id", "type", "last_message_id", "flags", "recipients"])
p["recipients"]["description"] = "the other user of the DM (as the caller sees it)"
p["type"] = {"type": "integer", "format": "int32", "enum": [1], "description": "1 = DM"}
schemas["PrivateChannelResponse"] = obj(p, ["id", "type", "last_message_id", "flags", "recipients"],
                                        "A DM channel (type 1): no guild fields.")
schemas["CreatePrivateChannelRequest"] = obj({"recipient_id": ref("SnowflakeInput")}, ["recipient_id"])
paths["/users/@me/channels"] = {
    "get": op("list_my_private_channels", "List the current user's DM channels", "users", BOTH,
              ok(200, "The caller's DM channels, ascending by id (always empty for bots, as on Discord)",
                 {"type": "array", "items": ref("PrivateChannelResponse")}), [401]),
    "post": op("create_dm", "Open a DM channel with a user", "users", BOTH,
               ok(200, "The DM channel of the pair (the same one on every call)", ref("PrivateChannelResponse")),
               [400, 401, 403, 404], json_body("CreatePrivateChannelRequest"),
               description="Unknown user: 404 code 10013; the caller itself: 403 code 50007. Opening always "
               "succeeds; sending in the channel answers 403 code 50007 when the two users share no guild or "
               "are both bots. The channel's routes (messages, typing, pins) work as in guild channels, for "
               "its two users only (anyone else: 404 code 10003). Its first message sends CHANNEL_CREATE to "
               "the other user's sessions; DM events go to both users' sessions with DIRECT_MESSAGES (1<<12), "
               "TYPING_START with DIRECT_MESSAGE_TYPING (1<<14), without guild_id or member. Bots see DM "
               "content without MESSAGE_CONTENT. READY private_channels lists a user's DMs (bots: []). "
               "DELETE /channels/{id} on a DM closes it as on Discord: 200 with the channel, which is kept."),
}
# --- end dms ---
# --- interactions ---
schemas["ApplicationCommandOption"] = obj({
    "type": {"type": "integer", "minimum": 1, "maximum": 11},
    "name": {"type": "string", "minLength": 1, "maxLength": 32},
    "name_localizations": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "description": {"type": "string", "minLength": 1, "maxLength": 100},
    "description_localizations": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "required": {"type": "boolean"},
    "choices": {"type": "array", "maxItems": 25, "items": {"type": "object"}},
    "options": {"type": "array", "maxItems": 25, "items": {"type": "object"}},
    "channel_types": {"type": "array", "items": {"type": "integer"}},
    "min_value": {"type": "number"}, "max_value": {"type": "number"},
    "min_length": {"type": "integer", "minimum": 0, "maximum": 6000},
    "max_length": {"type": "integer", "minimum": 1, "maximum": 6000},
    "autocomplete": {"type": "boolean"},
}, ["type", "name", "description"])
CMD_PROPS = {
    "type": {"type": "integer", "enum": [1, 2, 3], "description": "1 CHAT_INPUT (default), 2 USER, 3 MESSAGE"},
    "name": {"type": "string", "minLength": 1, "maxLength": 32,
             "description": "chat input: ^[-_\\p{L}\\p{N}\\p{sc=Deva}\\p{sc=Thai}]{1,32}$, lowercase"},
    "name_localizations": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "description": {"type": "string", "maxLength": 100,
                    "description": "1-100 characters for chat input, empty for context-menu commands"},
    "description_localizations": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "options": {"type": "array", "maxItems": 25, "items": ref("ApplicationCommandOption")},
    "default_member_permissions": {"type": ["string", "integer", "null"]},
    "dm_permission": {"type": ["boolean", "null"]},
    "nsfw": {"type": "boolean"},
    "integration_types": {"type": "array", "items": {"type": "integer", "enum": [0, 1]}},
    "contexts": {"type": ["array", "null"], "items": {"type": "integer", "enum": [0, 1, 2]}},
}
schemas["ApplicationCommandRequest"] = obj(
    dict(CMD_PROPS, id={**ref("SnowflakeInput"), "description": "bulk overwrite only: keep this command"}),
    description="Create, edit (absent fields stay) or one entry of a bulk overwrite. Invalid: 400 code 50035.")
schemas["ApplicationCommandResponse"] = obj(
    dict(CMD_PROPS, id=ref("SnowflakeType"), application_id=ref("SnowflakeType"), guild_id=ref("SnowflakeType"),
         version={**ref("SnowflakeType"), "description": "changes on every edit"},
         default_member_permissions={"type": ["string", "null"]}),
    ["id", "type", "application_id", "name", "description", "version", "default_member_permissions",
     "nsfw", "integration_types", "contexts"])
schemas["InteractionInvokeRequest"] = obj({
    "type": {"type": "integer", "enum": [2, 3, 4, 5],
             "description": "2 application command, 3 message component, 4 autocomplete, 5 modal submit"},
    "application_id": ref("SnowflakeInput"), "guild_id": ref("SnowflakeInput"),
    "channel_id": ref("SnowflakeInput"), "session_id": {"type": "string"},
    "message_id": {**ref("SnowflakeInput"), "description": "type 3: the message the component is on"},
    "data": {"type": "object", "description": "2/4: {id, name, type, version?, options?, target_id?}; "
             "3: {component_type, custom_id, values?}; 5: {id (the interaction that opened the modal), "
             "custom_id, components}"},
    "nonce": {"type": ["string", "integer"]},
}, ["type", "application_id", "channel_id", "data"])
schemas["InteractionCallbackRequest"] = obj({
    "type": {"type": "integer", "enum": [1, 4, 5, 6, 7, 8, 9]},
    "data": {"type": "object", "description": "4/7: message {content, embeds, components, flags (64 ephemeral), "
             "allowed_mentions, tts}; 5: {flags}; 8: {choices}; 9: {custom_id, title, components}"},
}, ["type"])
schemas["InteractionCallbackResponse"] = obj({
    "interaction": obj({"id": ref("SnowflakeType"), "type": {"type": "integer"},
                        "response_message_id": ref("SnowflakeType"),
                        "response_message_loading": {"type": "boolean"},
                        "response_message_ephemeral": {"type": "boolean"}}, ["id", "type"]),
    "resource": obj({"type": {"type": "integer"}, "message": ref("MessageResponse")}, ["type"]),
}, ["interaction", "resource"])
APP_ID = path_param("app", "application id")
CMD_GUILD_ID = path_param("gid", "guild id")
CMD_ID = path_param("cid", "command id")
CMD_LIST = {"type": "array", "items": ref("ApplicationCommandResponse")}
WITH_LOC = q("with_localizations", {"type": "boolean"}, "include name_localizations/description_localizations")
CMD_NOTE = ("Only the application's bot (or its owner's user token) may manage its commands: anyone else gets "
            "403 code 50001; guild commands also need the bot in the guild (50001).")
for scope, prefix, params, sfx in [("global", "/applications/{app}/commands", [APP_ID], ""),
                                   ("guild", "/applications/{app}/guilds/{gid}/commands",
                                    [APP_ID, CMD_GUILD_ID], "guild_")]:
    paths[prefix] = {
        "parameters": params,
        "get": op(f"list_{sfx}application_commands", f"List the {scope} commands", "interactions", BOTH,
                  ok(200, "Commands", CMD_LIST), [401, 403], params=[WITH_LOC], description=CMD_NOTE),
        "post": op(f"create_{sfx}application_command", f"Create a {scope} command", "interactions", BOTH,
                   {**ok(201, "Created", ref("ApplicationCommandResponse")),
                    **ok(200, "A command of the same name and type was overwritten",
                         ref("ApplicationCommandResponse"))},
                   [400, 401, 403], json_body("ApplicationCommandRequest"),
                   description=CMD_NOTE + " At most 100 chat-input, 5 user and 5 message commands: 400 code 30032. "
                   "At most 200 new commands per scope and day (UTC): 400 code 30034."),
        "put": op(f"bulk_set_{sfx}application_commands", f"Replace all {scope} commands", "interactions", BOTH,
                  ok(200, "The commands now", CMD_LIST), [400, 401, 403],
                  {"required": True, "content": {"application/json": {"schema": {
                      "type": "array", "items": ref("ApplicationCommandRequest")}}}},
                  description=CMD_NOTE + " Commands named by id, or by the same name and type, keep their id; "
                  "new ones count against the 200 a day (400 code 30034)."),
    }
    paths[prefix + "/{cid}"] = {
        "parameters": params + [CMD_ID],
        "get": op(f"get_{sfx}application_command", f"Get a {scope} command", "interactions", BOTH,
                  ok(200, "The command", ref("ApplicationCommandResponse")), [401, 403, 404],
                  description="Unknown command: 404 code 10063."),
        "patch": op(f"update_{sfx}application_command", f"Edit a {scope} command", "interactions", BOTH,
                    ok(200, "The command (new version)", ref("ApplicationCommandResponse")), [400, 401, 403, 404],
                    json_body("ApplicationCommandRequest")),
        "delete": op(f"delete_{sfx}application_command", f"Delete a {scope} command", "interactions", BOTH,
                     ok(204, "Deleted", None), [401, 403, 404]),
    }
schemas["ApplicationCommandPermission"] = obj({
    "id": {**ref("SnowflakeType"), "description": "a role (the guild id: @everyone), a user, or a channel "
           "(the guild id minus 1: every channel)"},
    "type": {"type": "integer", "enum": [1, 2, 3], "description": "1 ROLE, 2 USER, 3 CHANNEL"},
    "permission": {"type": "boolean", "description": "true allows, false denies"},
}, ["id", "type", "permission"])
schemas["CommandPermissionsResponse"] = obj({
    "id": {**ref("SnowflakeType"), "description": "the command, or the application id for the "
           "application-wide overwrites"},
    "application_id": ref("SnowflakeType"), "guild_id": ref("SnowflakeType"),
    "permissions": {"type": "array", "items": ref("ApplicationCommandPermission")},
}, ["id", "application_id", "guild_id", "permissions"])
schemas["CommandPermissionsRequest"] = obj({
    "permissions": {"type": ["array", "null"], "maxItems": 100, "items": ref("ApplicationCommandPermission")},
}, description="The overwrites replace the command's; an empty list removes them. More than 100, an unknown "
   "type, or a role or channel not in the guild: 400 code 50035.")
PERMS_READ_NOTE = ("The application's bot or owner, or a member with MANAGE_GUILD, may read them; others get "
                   "403 code 50001 / 50013.")
paths["/applications/{app}/guilds/{gid}/commands/permissions"] = {
    "parameters": [APP_ID, CMD_GUILD_ID],
    "get": op("list_guild_application_command_permissions", "List the guild's command permissions",
              "interactions", BOTH, ok(200, "Every command (and application-wide) entry with overwrites",
                                       {"type": "array", "items": ref("CommandPermissionsResponse")}),
              [401, 403], description=PERMS_READ_NOTE),
}
paths["/applications/{app}/guilds/{gid}/commands/{cid}/permissions"] = {
    "parameters": [APP_ID, CMD_GUILD_ID, CMD_ID],
    "get": op("get_guild_application_command_permissions", "Get one command's permissions", "interactions",
              BOTH, ok(200, "The command's overwrites", ref("CommandPermissionsResponse")), [401, 403, 404],
              description=PERMS_READ_NOTE + " `{cid}` may be the application id (application-wide). "
              "404 code 10066 when it has no overwrites, 10063 for an unknown command."),
    "put": op("set_guild_application_command_permissions", "Set one command's permissions", "interactions",
              USER, ok(200, "The command's overwrites now", ref("CommandPermissionsResponse")),
              [400, 401, 403, 404], json_body("CommandPermissionsRequest"),
              description="Discord needs an OAuth2 Bearer token here; accord issues none, so a user token of a "
              "member with MANAGE_GUILD and MANAGE_ROLES stands in (others: 403 code 50013); bots get 403 code "
              "20001, as on Discord. `{cid}` = the application id sets the application-wide overwrites. The "
              "application's bot receives APPLICATION_COMMAND_PERMISSIONS_UPDATE. Enforced at POST "
              "/interactions: administrators always pass; a channel overwrite denying the channel (command "
              "level, else application level) refuses; then the member's user overwrite, else its roles' (one "
              "allowing role suffices), else @everyone's (command level before application level); only when "
              "none applies, default_member_permissions."),
}
paths["/interactions"] = {"post": op(
    "invoke_interaction", "Invoke a command or component as a user (Discord's client route)", "interactions",
    USER, ok(204, "Sent to the bot as INTERACTION_CREATE", None), [400, 401, 403, 404],
    json_body("InteractionInvokeRequest"),
    description="Needs VIEW_CHANNEL, USE_APPLICATION_COMMANDS (commands) and the command's permission "
    "overwrites or default_member_permissions (else 403 code 50013); bots get 403 code 20001; unknown command "
    "404 code 10063; an application not in the guild 404 code 10002. In the DM with the application's bot "
    "(no guild_id) global commands run with context 1 (the bot gets `user`, not `member`); a command whose "
    "`contexts` leave out the context: 400 code 50035 (errors.context); an nsfw command outside an nsfw "
    "channel: 400 code 50035 (errors.channel_id); a modal submit whose custom_id is not the opened modal's: "
    "400 code 50035 (errors.data.custom_id). Private channels (context 2, user-installed apps) are not "
    "supported (403 code 50003).")}
paths["/interactions"]["post"]["requestBody"] = multipart_body("InteractionInvokeRequest")
paths["/interactions"]["post"]["description"] += (
    " Attachment options (type 11): the file is a part files[n] of a multipart request and the option's value is "
    "n; the bot receives the new attachment's id as the value and the object in data.resolved.attachments, and "
    "its URL answers while the interaction's token lives (an option naming no file: 400 code 50035).")
TOKEN = path_param("token", "interaction token (starts with aW50ZXJhY3Rpb246)", {"type": "string"})
paths["/interactions/{id}/{token}/callback"] = {
    "parameters": [path_param("id", "interaction id"), TOKEN],
    "post": op("create_interaction_response", "Respond to an interaction (no authentication)", "interactions",
               NONE, {**ok(204, "Responded", None),
                      **ok(200, "with_response=true", ref("InteractionCallbackResponse"))},
               [400, 404], json_body("InteractionCallbackRequest"),
               params=[q("with_response", {"type": "boolean"})],
               description="Within 3 seconds of the interaction (later, or a wrong token: 404 code 10062); once "
               "(again: 400 code 40060). A type that does not fit the interaction: 400 code 50035.")}
paths["/interactions/{id}/{token}/callback"]["post"]["requestBody"] = multipart_body("InteractionCallbackRequest")
paths["/interactions/{id}/{token}/callback"]["post"]["description"] += (
    " A type 4 response may upload files (multipart files[n], described by data.attachments).")
# Follow-ups and @original use the webhook token routes (`/webhooks/{id}/{token}` and
# `/webhooks/{id}/{token}/messages/{mid}`, documented with webhooks): a token starting with
# aW50ZXJhY3Rpb246 is an interaction token, valid for 15 minutes (`--interaction-token-secs`);
# `{mid}` may be `@original`. Follow-ups take multipart bodies with files[n] as webhook execution does.
# --- end interactions ---
# --- audit log ---
AUDIT_LOG_REASON["description"] = ("URL-encoded reason (1-512 characters; longer is cut to 512), stored as the "
                                   "audit log entry's `reason` (and as a ban's reason)")
schemas["AuditLogObjectChangeResponse"] = copy.deepcopy(DS["AuditLogObjectChangeResponse"])
p = discord_props("AuditLogEntryResponse", ["id", "action_type", "user_id", "target_id", "changes", "options",
                                            "reason"])
p["action_type"] = {"type": "integer", "description": "Discord's AuditLogEvent: 1 GUILD_UPDATE, 10-12 CHANNEL_*, "
                    "13-15 CHANNEL_OVERWRITE_*, 20 MEMBER_KICK, 22/23 MEMBER_BAN_ADD/REMOVE, 24 MEMBER_UPDATE, "
                    "25 MEMBER_ROLE_UPDATE, 30-32 ROLE_*, 40 INVITE_CREATE, 50-52 WEBHOOK_*, 60-62 EMOJI_*, "
                    "72 MESSAGE_DELETE, 73 MESSAGE_BULK_DELETE, 74/75 MESSAGE_PIN/UNPIN"}
p["reason"] = {"type": ["string", "null"], "maxLength": 512}
schemas["AuditLogEntryResponse"] = obj(p, ["id", "action_type", "user_id", "target_id", "reason"])
schemas["GuildAuditLogResponse"] = obj({
    "audit_log_entries": {"type": "array", "items": ref("AuditLogEntryResponse")},
    "users": {"type": "array", "items": ref("UserResponse"),
              "description": "the users who acted and the users the entries are about"},
    "webhooks": {"type": "array", "items": ref("GuildIncomingWebhookResponse"),
                 "description": "the webhooks the entries are about that still exist (without token)"},
    "integrations": {"type": "array", "maxItems": 0, "items": {}},
    "threads": {"type": "array", "maxItems": 0, "items": {}},
    "application_commands": {"type": "array", "maxItems": 0, "items": {}},
    "auto_moderation_rules": {"type": "array", "maxItems": 0, "items": {}},
    "guild_scheduled_events": {"type": "array", "maxItems": 0, "items": {}},
}, ["audit_log_entries", "users", "webhooks", "integrations", "threads", "application_commands",
    "auto_moderation_rules", "guild_scheduled_events"])
paths["/guilds/{id}/audit-logs"] = {
    "parameters": [GUILD_ID],
    "get": op("list_guild_audit_log_entries", "List audit log entries", "guilds", BOTH,
              ok(200, "The entries, newest first", ref("GuildAuditLogResponse")), [400, 401, 403, 404],
              params=[q("user_id", ref("SnowflakeType"), "only entries made by this user"),
                      q("target_id", ref("SnowflakeType"), "only entries about this target"),
                      q("action_type", {"type": "integer"}, "only entries of this type"),
                      q("before", ref("SnowflakeType"), "only entries with an id less than this"),
                      q("after", ref("SnowflakeType"), "only entries with an id greater than this (the oldest "
                        "`limit` of them, still newest first)"),
                      q("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 50})],
              description="Needs VIEW_AUDIT_LOG (403 code 50013); not a member or unknown guild: 404 code "
              "10004; a bad limit or id: 400 code 50035. Entries are written for guild, channel, overwrite, "
              "role, member (kick, ban, unban, nick/timeout/mute/deaf, roles), invite, webhook and emoji "
              "changes, a moderator deleting someone else's message, bulk deletes and pins, each with the "
              "X-Audit-Log-Reason of its request. GUILD_AUDIT_LOG_ENTRY_CREATE (the entry plus guild_id) goes "
              "to sessions with GUILD_MODERATION (1<<2) whose user holds VIEW_AUDIT_LOG."),
}
# Every route that records an entry takes the reason.
for _path, _method in [
    ("/guilds/{id}", "patch"),
    ("/guilds/{id}/channels", "post"),
    ("/channels/{id}", "patch"), ("/channels/{id}", "delete"),
    ("/channels/{id}/permissions/{oid}", "put"), ("/channels/{id}/permissions/{oid}", "delete"),
    ("/guilds/{id}/roles", "post"), ("/guilds/{id}/roles", "patch"),
    ("/guilds/{id}/roles/{rid}", "patch"), ("/guilds/{id}/roles/{rid}", "delete"),
    ("/guilds/{id}/members/{uid}", "patch"), ("/guilds/{id}/members/{uid}", "delete"),
    ("/guilds/{id}/members/@me", "patch"),
    ("/guilds/{id}/members/{uid}/roles/{rid}", "put"), ("/guilds/{id}/members/{uid}/roles/{rid}", "delete"),
    ("/guilds/{id}/bans/{uid}", "put"), ("/guilds/{id}/bans/{uid}", "delete"),
    ("/channels/{id}/invites", "post"),
]:
    _params = paths[_path][_method].setdefault("parameters", [])
    if AUDIT_LOG_REASON not in _params:
        _params.append(AUDIT_LOG_REASON)
# --- end audit log ---

INFO_DESC = """\
HTTP API of **accord**, a chat server compatible with Discord's HTTP API v10. This document lists exactly the
routes the server serves; object shapes are taken from Discord's OpenAPI spec (discord/discord-api-spec, MIT,
see LICENSE-discord-api-spec) trimmed to the fields accord returns, plus accord's own account routes.

## Conventions
- Base path `/api/v10`; every route is served identically under `/api/v9`.
- JSON responses carry exactly `Content-Type: application/json`. Ids are snowflake strings; request bodies
  may give ids as integers or strings. Unknown fields in request bodies are ignored.
- Authentication: user tokens (JWT from `/auth/register` or `/auth/login`) are sent raw
  (`Authorization: <jwt>`); bot tokens as `Authorization: Bot <token>`. A missing or bad token gives
  401 `{"code":0,"message":"401: Unauthorized"}`.
- Errors: `{"code": int, "message": str, "errors"?: {...}}`. Validation errors are 400 code 50035
  "Invalid Form Body" with a nested `errors` tree whose leaves are `{"_errors":[{"code","message"}]}`;
  malformed JSON is 400 code 50109. An unknown route is 404 `{"code":0,"message":"404: Not Found"}`.
- Visibility: a caller that is not a member of a guild gets exactly the answer for an unknown id (guild
  routes 404 code 10004, channel routes 404 code 10003). A member who cannot VIEW_CHANNEL a channel gets
  403 code 50001; a member lacking the permission to act gets 403 code 50013.
- Hierarchy: a member's highest position is the highest position of its roles (0 with none); the owner is
  above everyone. Roles can only be created, edited, deleted, assigned or removed, and members kicked,
  banned, timed out or renamed, when they are strictly below the caller; only permission bits the caller
  holds can be granted (the owner and ADMINISTRATOR hold all).

## Gateway (WebSocket)
The gateway URL is returned by `GET /gateway` (`ws://HOST:PORT`). The WebSocket is accepted on **any
path**, e.g. `ws://HOST:PORT/?v=10&encoding=json`; uncompressed JSON text frames. Payloads are
`{"op": int, "d": any, "s": int|null, "t": string|null}`.

| op | name | direction | notes |
|---|---|---|---|
| 10 | HELLO | server | sent on connect: `{"heartbeat_interval": 41250}` |
| 1 | HEARTBEAT | client | allowed at any time, also before IDENTIFY; answered by op 11 |
| 11 | HEARTBEAT_ACK | server | reply to every op 1 |
| 2 | IDENTIFY | client | `{token, properties, intents, ...}`; token = bot token (with or without `Bot `) or user JWT |
| 8 | REQUEST_GUILD_MEMBERS | client | answered by GUILD_MEMBERS_CHUNK `{guild_id, members, chunk_index: 0, chunk_count: 1, nonce?}` |
| 0 | DISPATCH | server | events, with `t` and `s` set |

After IDENTIFY the server dispatches READY `{v: 10, user, guilds: [{id, unavailable: true}], session_id,
resume_gateway_url, application: {id, flags} (bots), shard?}`, then one GUILD_CREATE per guild (the full
guild plus joined_at, large, member_count, members, channels, threads, presences, voice_states,
stage_instances, guild_scheduled_events).

Dispatched events, by intent:
- GUILDS (1<<0): GUILD_CREATE (to a user's sessions when they join a guild), GUILD_UPDATE, GUILD_DELETE
  (guild deleted, or to a user's sessions when they leave, are kicked or banned), GUILD_ROLE_CREATE,
  GUILD_ROLE_UPDATE, GUILD_ROLE_DELETE, CHANNEL_CREATE, CHANNEL_UPDATE, CHANNEL_DELETE.
- GUILD_MEMBERS (1<<1): GUILD_MEMBER_ADD, GUILD_MEMBER_UPDATE, GUILD_MEMBER_REMOVE.
- GUILD_MODERATION (1<<2): GUILD_BAN_ADD, GUILD_BAN_REMOVE (only to members with BAN_MEMBERS or
  VIEW_AUDIT_LOG).
- GUILD_MESSAGES (1<<9): MESSAGE_CREATE, MESSAGE_DELETE_BULK (when a ban deletes messages).

Channel-scoped events (MESSAGE_*, CHANNEL_*) reach only sessions whose member can VIEW_CHANNEL the channel,
as of the moment of the event.

| close code | when |
|---|---|
| 4001 | unknown opcode |
| 4002 | undecodable payload |
| 4003 | any op other than 1 or 2 before IDENTIFY |
| 4004 | authentication failed (bad token in IDENTIFY) |
| 4005 | second IDENTIFY on the same connection |
"""

INFO_DESC += FILES_DESC  # --- files ---

doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "accord HTTP API (Discord v10 compatible)",
        "description": INFO_DESC,
        "version": "10",
        "license": {"name": "MIT (schemas derived from discord/discord-api-spec)", "identifier": "MIT"},
    },
    "servers": [{"url": "http://127.0.0.1:8080/api/v10"}],
    "tags": [{"name": t} for t in ["auth", "users", "applications", "oauth2", "guilds", "channels", "roles",
                                    "members", "bans", "invites", "messages", "gateway"]
                                   + ["reactions", "emojis", "interactions"]],
    "security": BOTH,
    "paths": paths,
    "components": {
        "schemas": dict(sorted(schemas.items())),
        "responses": responses,
        "securitySchemes": {
            "BotToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                         "description": "Bot token, sent as `Bot <token>`"},
            "UserToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "User token (JWT from /auth/register or /auth/login), sent raw"},
        },
    },
}

# sanity: every $ref resolves
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "$ref":
                kind, name = v.split("/")[-2:]
                assert name in doc["components"][kind], v
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)


walk(doc)


def shape(path):
    """A path with its parameter names erased: /guilds/{guild_id}/roles -> /guilds/{}/roles."""
    return "/".join("{}" if seg.startswith("{") else seg for seg in path.split("/"))


discord_ops = {(m, shape(p_)): o["operationId"] for p_, item in DP.items() for m, o in item.items()
               if isinstance(o, dict) and "operationId" in o}
for p_, item in paths.items():
    for m, o in item.items():
        if m != "parameters" and (m, shape(p_)) in discord_ops:
            assert o["operationId"] == discord_ops[(m, shape(p_))], (m, p_, o["operationId"])
# unused schemas
text = json.dumps(doc)
for n in schemas:
    if f'"#/components/schemas/{n}"' not in text:
        print("unused schema:", n)

with open(OUT, "w") as f:
    json.dump(doc, f, indent=2, ensure_ascii=False)
    f.write("\n")

routes = sorted(f"{m.upper()} {p}" for p, item in paths.items() for m in item if m != "parameters")
with open(ROUTES_OUT, "w") as f:
    f.write("\n".join(routes) + "\n")
print(len(routes), "operations")
