//! "Our side" of the permission differential test (compat-tests/test_permissions_differential.py):
//! computes a member's permissions in a channel with accord's own engine,
//! `accord::permissions::{base_permissions, channel_permissions}`, exactly as the server does
//! (`service::access::GuildAccess::in_channel_of`), from the objects served by our REST API.
//!
//!     cargo build --example permissions_oracle
//!     target/debug/examples/permissions_oracle < pairs.jsonl
//!
//! Input: one JSON object per line (ids as strings or integers, permissions as decimal strings
//! or integers, i.e. Discord's wire forms):
//!
//!     {"guild_id": "1", "owner_id": "2",
//!      "roles": [{"id": "1", "permissions": "1071698660929"}, ...],      // incl. @everyone
//!      "channel": {"type": 0, "permission_overwrites": [{"id", "type", "allow", "deny"}, ...]},
//!      "member": {"user_id": "3", "roles": ["4"], "communication_disabled_until": null}}
//!
//! Output: one line per input line, in order: the permissions as a decimal integer, or
//! `ERR <reason>` when the line cannot be understood (the test shows it and fails).

use std::io::{self, BufRead, BufWriter, Write};

use accord::model::ChannelType;
use accord::permissions::{
    base_permissions, channel_permissions, MemberFacts, PermissionOverwrite, Permissions,
};
use serde::de::{self, Deserializer};
use serde::Deserialize;

#[derive(Deserialize)]
struct Pair {
    #[serde(deserialize_with = "snowflake")]
    guild_id: u64,
    #[serde(deserialize_with = "snowflake")]
    owner_id: u64,
    roles: Vec<RoleIn>,
    channel: ChannelIn,
    member: MemberIn,
}

#[derive(Deserialize)]
struct RoleIn {
    #[serde(deserialize_with = "snowflake")]
    id: u64,
    permissions: Permissions,
}

#[derive(Deserialize)]
struct ChannelIn {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    permission_overwrites: Vec<PermissionOverwrite>,
}

#[derive(Deserialize)]
struct MemberIn {
    #[serde(deserialize_with = "snowflake")]
    user_id: u64,
    #[serde(default, deserialize_with = "snowflakes")]
    roles: Vec<u64>,
    #[serde(default)]
    communication_disabled_until: Option<String>,
}

fn compute(pair: &Pair) -> Result<Permissions, String> {
    let kind = ChannelType::try_from(pair.channel.kind)?.permission_kind();
    let role = |id: u64| {
        pair.roles
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.permissions)
    };
    let everyone = role(pair.guild_id).ok_or("no @everyone role (id == guild_id) in roles")?;
    // Same rule as accord::model::Member::timed_out.
    let timed_out = match pair.member.communication_disabled_until.as_deref() {
        None => false,
        Some(until) => {
            chrono::DateTime::parse_from_rfc3339(until)
                .map_err(|e| format!("communication_disabled_until {until:?}: {e}"))?
                > chrono::Utc::now()
        }
    };
    let facts = MemberFacts {
        user_id: pair.member.user_id,
        is_owner: pair.member.user_id == pair.owner_id,
        role_ids: &pair.member.roles,
        timed_out,
    };
    // Unknown role ids are skipped, as the server does (GuildAccess::base_of).
    let base = base_permissions(
        &facts,
        everyone,
        pair.member.roles.iter().filter_map(|id| role(*id)),
    );
    Ok(channel_permissions(
        base,
        pair.guild_id,
        &facts,
        &pair.channel.permission_overwrites,
        kind,
    ))
}

fn main() -> io::Result<()> {
    let stdin = io::stdin();
    let mut out = BufWriter::new(io::stdout().lock());
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Pair>(&line)
            .map_err(|e| format!("bad input: {e}"))
            .and_then(|pair| compute(&pair))
        {
            Ok(perms) => writeln!(out, "{}", perms.bits())?,
            Err(reason) => writeln!(out, "ERR {}", reason.replace('\n', " "))?,
        }
    }
    out.flush()
}

fn parse_snowflake<E: de::Error>(v: &serde_json::Value) -> Result<u64, E> {
    match v {
        serde_json::Value::String(s) => s.parse().map_err(|_| E::custom(format!("bad id {s:?}"))),
        serde_json::Value::Number(n) => n.as_u64().ok_or_else(|| E::custom(format!("bad id {n}"))),
        other => Err(E::custom(format!("bad id {other}"))),
    }
}

fn snowflake<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    parse_snowflake(&serde_json::Value::deserialize(d)?)
}

fn snowflakes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    Vec::<serde_json::Value>::deserialize(d)?
        .iter()
        .map(parse_snowflake)
        .collect()
}
