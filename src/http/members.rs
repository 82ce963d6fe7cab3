//! Guild members and their roles.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, patch, put};
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, AuditReason, Auth, Body, QueryParams};
use super::{no_content, ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::model::Snowflake;
use crate::service::MemberPatch;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guilds/{id}/members", get(guild_members))
        .route("/guilds/{id}/members/@me", patch(update_current_member))
        .route(
            "/guilds/{id}/members/{uid}",
            get(guild_member).patch(update_member).delete(kick_member),
        )
        .route(
            "/guilds/{id}/members/{uid}/roles/{rid}",
            put(add_member_role).delete(remove_member_role),
        )
}

#[derive(Deserialize)]
struct MemberPage {
    limit: Option<u32>,
    after: Option<Snowflake>,
}

async fn guild_members(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<MemberPage>,
) -> ApiResult<Response> {
    let limit = page.limit.unwrap_or(1);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field(
            &["limit"],
            "NUMBER_TYPE_MAX",
            "int value should be between 1 and 1000.",
        ));
    }
    let after = page.after.unwrap_or_default();
    ok(state
        .service
        .guild_members(&caller, snowflake("guild_id", &id)?, after, limit)
        .await?)
}

async fn guild_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_member(
            &caller,
            snowflake("guild_id", &id)?,
            snowflake("user_id", &uid)?,
        )
        .await?)
}

async fn add_member_role(
    state: State<AppState>,
    auth: Auth,
    reason: AuditReason,
    path: Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_member_role(state, auth, reason, path, true).await
}

async fn remove_member_role(
    state: State<AppState>,
    auth: Auth,
    reason: AuditReason,
    path: Path<(String, String, String)>,
) -> ApiResult<Response> {
    set_member_role(state, auth, reason, path, false).await
}

async fn set_member_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, uid, rid)): Path<(String, String, String)>,
    grant: bool,
) -> ApiResult<Response> {
    state
        .service
        .set_member_role(
            &caller,
            snowflake("guild_id", &id)?,
            snowflake("user_id", &uid)?,
            snowflake("role_id", &rid)?,
            grant,
            reason,
        )
        .await?;
    no_content()
}

async fn update_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, uid)): Path<(String, String)>,
    Body(patch): Body<MemberPatch>,
) -> ApiResult<Response> {
    let (guild_id, user_id) = (snowflake("guild_id", &id)?, snowflake("user_id", &uid)?);
    ok(state
        .service
        .update_member(&caller, guild_id, user_id, patch, reason)
        .await?)
}

#[derive(Deserialize)]
struct CurrentMemberPatch {
    #[serde(default, with = "crate::service::double_option")]
    nick: Option<Option<String>>,
}

async fn update_current_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(patch): Body<CurrentMemberPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .update_current_member(&caller, snowflake("guild_id", &id)?, patch.nick, reason)
        .await?)
}

async fn kick_member(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (guild_id, user_id) = (snowflake("guild_id", &id)?, snowflake("user_id", &uid)?);
    state
        .service
        .kick_member(&caller, guild_id, user_id, reason)
        .await?;
    no_content()
}
