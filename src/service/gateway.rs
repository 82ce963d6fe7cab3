//! What gateway sessions ask of the core: who is identifying, the READY and GUILD_CREATE
//! payloads, who may see a channel event, and member chunks.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use super::visibility::GuildPermissions;
use super::{Caller, Service};
use crate::error::ApiError;
use crate::model::{Channel, CurrentUser, Member, Snowflake};

/// Gateway API versions this server speaks.
pub const SUPPORTED_VERSIONS: [u8; 2] = [9, 10];

/// READY's `d`, rendered straight from this struct (no `serde_json::Value` tree built, edited
/// and dropped per IDENTIFY). The lists a user of this server never has (relationships,
/// presences, …) go out empty, as Discord sends them to bots.
#[derive(Serialize)]
pub struct Ready {
    v: u8,
    user: CurrentUser,
    /// The user's guilds, all unavailable until their GUILD_CREATE; the gateway keeps those of
    /// the session's shard.
    pub guilds: Vec<UnavailableGuild>,
    session_id: String,
    session_type: &'static str,
    resume_gateway_url: String,
    private_channels: Vec<Channel>,
    relationships: [(); 0],
    presences: [(); 0],
    user_settings: EmptyObject,
    guild_join_requests: [(); 0],
    geo_ordered_rtc_regions: [(); 0],
    auth: EmptyObject,
    #[serde(skip_serializing_if = "Option::is_none")]
    application: Option<ReadyApplication>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shard: Option<[u32; 2]>,
}

/// A guild in READY, before its GUILD_CREATE.
#[derive(Serialize)]
pub struct UnavailableGuild {
    pub id: Snowflake,
    unavailable: bool,
}

/// `{}`.
#[derive(Serialize)]
struct EmptyObject {}

/// READY's `application` for a bot: its id and flags.
#[derive(Serialize)]
struct ReadyApplication {
    id: Snowflake,
    flags: u64,
}

impl Service {
    /// `GET /gateway`.
    pub fn gateway_info(&self) -> Value {
        json!({ "url": self.urls.gateway })
    }

    /// `GET /gateway/bot`: one shard per 1000 guilds (at least one), and how many IDENTIFYs
    /// this bot has left in the current 24 h window.
    pub async fn gateway_bot_info(&self, caller: &Caller) -> Result<Value, ApiError> {
        let guilds = self.store.guild_ids_of_user(caller.id()).await?.len();
        let (remaining, reset_after) = self.identify_budget.remaining(caller.id());
        Ok(json!({
            "url": self.urls.gateway,
            "shards": guilds.div_ceil(GUILDS_PER_SHARD).max(1),
            "session_start_limit": {
                "total": IDENTIFY_BUDGET,
                "remaining": remaining,
                "reset_after": reset_after.as_millis() as u64,
                "max_concurrency": 1
            }
        }))
    }

    /// Counts an IDENTIFY against the caller's daily session-start budget.
    pub fn record_identify(&self, caller: &Caller) {
        self.identify_budget.record(caller.id());
    }

    /// The READY `d` for a new session.
    pub async fn ready_state(
        &self,
        caller: &Caller,
        session_id: &str,
        shard: Option<[u32; 2]>,
    ) -> Result<Ready, ApiError> {
        let guilds = self
            .store
            .guild_ids_of_user(caller.id())
            .await?
            .into_iter()
            .map(|id| UnavailableGuild {
                id,
                unavailable: true,
            })
            .collect();
        let private_channels = self.private_channels(caller).await?;
        let application = if caller.is_bot() {
            let app = self.store.application(caller.id()).await?;
            Some(ReadyApplication {
                id: caller.id(),
                flags: app.map_or(0, |app| app.flags),
            })
        } else {
            None
        };
        Ok(Ready {
            v: 10,
            user: caller.user.clone(),
            guilds,
            session_id: session_id.to_owned(),
            session_type: "normal",
            resume_gateway_url: self.urls.gateway.clone(),
            private_channels,
            relationships: [],
            presences: [],
            user_settings: EmptyObject {},
            guild_join_requests: [],
            geo_ordered_rtc_regions: [],
            auth: EmptyObject {},
            application,
            shard,
        })
    }

    /// The caller's member object in one of their guilds (10004 when not a member): the part
    /// of GUILD_CREATE that differs per session.
    pub async fn own_member(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Member, ApiError> {
        let mut member = self
            .store
            .member_record(guild_id, caller.id())
            .await?
            .ok_or_else(ApiError::unknown_guild)?;
        member.user = Some(caller.user.user.clone());
        Ok(member)
    }

    /// The guild's member user ids, ascending.
    pub async fn member_ids(&self, guild_id: Snowflake) -> Result<Vec<Snowflake>, ApiError> {
        let mut ids: Vec<Snowflake> = self
            .store
            .member_records_of_guild(guild_id)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    /// A consistent read of what delivery filtering needs to know about a guild, or `None`
    /// when the guild is gone.
    pub async fn permission_view(
        &self,
        guild_id: Snowflake,
    ) -> Result<Option<GuildPermissions>, ApiError> {
        let Some(guild) = self.store.guild(guild_id).await? else {
            return Ok(None);
        };
        let roles = self.store.roles_of_guild(guild_id).await?;
        let channels = self.store.channels_of_guild(guild_id).await?;
        let members = self.store.member_records_of_guild(guild_id).await?;
        Ok(Some(GuildPermissions::new(
            guild_id,
            guild.owner_id,
            &roles,
            &channels,
            &members,
        )))
    }

    /// Answers op 8: GUILD_MEMBERS_CHUNK `d`s of at most 1000 members each, numbered with
    /// `chunk_index`/`chunk_count`. A name-prefix query returns at most 100 (`limit` caps it
    /// further); `user_ids` (at most 100) are matched exactly and the missing ones are listed in
    /// `not_found`; an empty query with limit 0 is the whole list.
    pub async fn member_chunks(
        &self,
        caller: &Caller,
        request: &MemberRequest<'_>,
    ) -> Result<Vec<Value>, ApiError> {
        self.guild_access(caller, request.guild_id).await?;
        let all = self
            .store
            .members_of_guild(request.guild_id, Snowflake(0), u32::MAX)
            .await?;
        let (members, not_found): (Vec<_>, Vec<Snowflake>) = if request.user_ids.is_empty() {
            let prefix = request.query.to_lowercase();
            let cap = if request.is_full_list() {
                usize::MAX
            } else if request.limit == 0 {
                MAX_QUERY_RESULTS
            } else {
                (request.limit as usize).min(MAX_QUERY_RESULTS)
            };
            let members = all
                .into_iter()
                .filter(|member| {
                    member
                        .user
                        .as_ref()
                        .is_some_and(|u| u.username.to_lowercase().starts_with(&prefix))
                })
                .take(cap)
                .collect();
            (members, Vec::new())
        } else {
            let wanted: Vec<Snowflake> = request
                .user_ids
                .iter()
                .copied()
                .take(MAX_QUERY_RESULTS)
                .collect();
            let members: Vec<_> = all
                .into_iter()
                .filter(|m| wanted.contains(&m.user_id))
                .collect();
            let not_found = wanted
                .into_iter()
                .filter(|id| !members.iter().any(|m| m.user_id == *id))
                .collect();
            (members, not_found)
        };
        Ok(into_chunks(request, &members, &not_found))
    }
}

/// GUILD_MEMBERS_CHUNK `d`s for an op 8 answer: pages of `CHUNK_SIZE` members numbered with
/// `chunk_index`/`chunk_count` (one empty chunk when nothing matched); `not_found` on the first.
fn into_chunks(
    request: &MemberRequest<'_>,
    members: &[crate::model::Member],
    not_found: &[Snowflake],
) -> Vec<Value> {
    let pages: Vec<&[crate::model::Member]> = if members.is_empty() {
        vec![&[]]
    } else {
        members.chunks(CHUNK_SIZE).collect()
    };
    let count = pages.len();
    pages
        .into_iter()
        .enumerate()
        .map(|(index, page)| {
            let mut chunk = json!({
                "guild_id": request.guild_id,
                "members": page,
                "chunk_index": index,
                "chunk_count": count,
            });
            if index == 0 && !not_found.is_empty() {
                chunk["not_found"] = json!(not_found);
            }
            if request.presences {
                chunk["presences"] = json!([]);
            }
            if let Some(nonce) = request.nonce {
                chunk["nonce"] = nonce.clone();
            }
            chunk
        })
        .collect()
}

/// Discord recommends a shard per this many guilds.
const GUILDS_PER_SHARD: usize = 1000;
/// Session starts allowed per bot per 24 h (Discord's default `session_start_limit.total`).
pub const IDENTIFY_BUDGET: usize = 1000;
const IDENTIFY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// Session starts per user in their current 24 h window, kept by this node.
#[derive(Default)]
pub struct IdentifyBudget {
    /// Per user, the current window: a few words and no allocation of its own, since every
    /// user with a session has an entry (a list of start times cost 150 bytes a session).
    windows: Mutex<HashMap<Snowflake, StartWindow>>,
}

/// A user's session starts in the 24 h window that began with the first of them (Discord's
/// `reset_after` counts down to the end of such a window).
#[derive(Clone, Copy)]
struct StartWindow {
    opened: Instant,
    starts: u32,
}

impl StartWindow {
    fn is_over(&self) -> bool {
        self.opened.elapsed() >= IDENTIFY_WINDOW
    }
}

impl IdentifyBudget {
    fn windows(&self) -> std::sync::MutexGuard<'_, HashMap<Snowflake, StartWindow>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record(&self, user_id: Snowflake) {
        let fresh = StartWindow {
            opened: Instant::now(),
            starts: 0,
        };
        let mut windows = self.windows();
        let window = windows.entry(user_id).or_insert(fresh);
        if window.is_over() {
            *window = fresh;
        }
        window.starts = window.starts.saturating_add(1);
    }

    /// (starts left, time until the window ends and the budget is whole again).
    fn remaining(&self, user_id: Snowflake) -> (usize, Duration) {
        match self.windows().get(&user_id) {
            Some(window) if !window.is_over() => (
                IDENTIFY_BUDGET.saturating_sub(window.starts as usize),
                IDENTIFY_WINDOW.saturating_sub(window.opened.elapsed()),
            ),
            _ => (IDENTIFY_BUDGET, IDENTIFY_WINDOW),
        }
    }
}

/// Members per GUILD_MEMBERS_CHUNK.
const CHUNK_SIZE: usize = 1000;
/// Most members a prefix query or a `user_ids` request returns.
const MAX_QUERY_RESULTS: usize = 100;

/// An op 8 request as the gateway received it.
pub struct MemberRequest<'a> {
    pub guild_id: Snowflake,
    pub query: &'a str,
    pub limit: u32,
    pub user_ids: &'a [Snowflake],
    pub presences: bool,
    pub nonce: Option<&'a Value>,
}

impl MemberRequest<'_> {
    /// The whole member list (`query: ""`, `limit: 0`): rate limited by Discord's rules.
    pub fn is_full_list(&self) -> bool {
        self.user_ids.is_empty() && self.query.is_empty() && self.limit == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Member, User};

    #[test]
    fn member_chunks_page_by_a_thousand() {
        let members: Vec<Member> = (1..=2500)
            .map(|n| {
                Member::new(
                    Snowflake(9),
                    User::new(Snowflake(n), format!("u{n}"), false),
                    Vec::new(),
                )
            })
            .collect();
        let nonce = json!("n");
        let request = MemberRequest {
            guild_id: Snowflake(9),
            query: "",
            limit: 0,
            user_ids: &[],
            presences: false,
            nonce: Some(&nonce),
        };
        let chunks = into_chunks(&request, &members, &[Snowflake(77)]);
        assert_eq!(chunks.len(), 3);
        let sizes: Vec<usize> = chunks
            .iter()
            .map(|c| c["members"].as_array().unwrap().len())
            .collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
        for (index, chunk) in chunks.iter().enumerate() {
            assert_eq!(chunk["chunk_index"], index);
            assert_eq!(chunk["chunk_count"], 3);
            assert_eq!(chunk["nonce"], "n");
        }
        assert_eq!(chunks[0]["not_found"], json!(["77"]));
        assert!(chunks[1].get("not_found").is_none());
        assert_eq!(chunks[2]["members"][499]["user"]["id"], "2500");
        let empty = into_chunks(&request, &[], &[]);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty[0]["members"], json!([]));
        assert_eq!(empty[0]["chunk_count"], 1);
    }
}
