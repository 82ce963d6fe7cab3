//! `GET /guilds/{id}/audit-logs`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, Auth, QueryParams};
use super::{ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::model::Snowflake;
use crate::service::AuditQuery;

/// Entries per page when `limit` is absent (Discord's default).
const DEFAULT_LIMIT: u32 = 50;

pub fn routes() -> Router<AppState> {
    Router::new().route("/guilds/{id}/audit-logs", get(guild_audit_log))
}

#[derive(Deserialize)]
struct AuditLogParams {
    user_id: Option<Snowflake>,
    target_id: Option<Snowflake>,
    action_type: Option<u16>,
    before: Option<Snowflake>,
    after: Option<Snowflake>,
    limit: Option<u32>,
}

async fn guild_audit_log(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    QueryParams(params): QueryParams<AuditLogParams>,
) -> ApiResult<Response> {
    let guild_id = snowflake("guild_id", &id)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid_field(
            &["limit"],
            "NUMBER_TYPE_MAX",
            "int value should be between 1 and 100.",
        ));
    }
    let query = AuditQuery {
        user_id: params.user_id,
        target_id: params.target_id,
        action_type: params.action_type,
        before: params.before,
        after: params.after,
        limit,
    };
    ok(state
        .service
        .guild_audit_log(&caller, guild_id, query)
        .await?)
}
