//! `GET /guilds/{id}/bans`, `GET/PUT/DELETE /guilds/{id}/bans/{uid}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, AuditReason, Auth, Body, QueryParams};
use super::{no_content, ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::model::Snowflake;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guilds/{id}/bans", get(guild_bans))
        .route(
            "/guilds/{id}/bans/{uid}",
            get(guild_ban).put(ban_user).delete(unban_user),
        )
}

#[derive(Deserialize)]
struct BanPage {
    limit: Option<u32>,
    before: Option<Snowflake>,
    after: Option<Snowflake>,
}

#[derive(Default, Deserialize)]
struct NewBan {
    #[serde(default)]
    delete_message_seconds: Option<u64>,
}

async fn guild_bans(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    QueryParams(page): QueryParams<BanPage>,
) -> ApiResult<Response> {
    let limit = page.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid_field(
            &["limit"],
            "NUMBER_TYPE_MAX",
            "int value should be between 1 and 1000.",
        ));
    }
    let guild_id = snowflake("guild_id", &id)?;
    let after = page.after.unwrap_or_default();
    ok(state
        .service
        .guild_bans(&caller, guild_id, after, page.before, limit)
        .await?)
}

async fn guild_ban(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (guild_id, user_id) = (snowflake("guild_id", &id)?, snowflake("user_id", &uid)?);
    ok(state.service.guild_ban(&caller, guild_id, user_id).await?)
}

async fn ban_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, uid)): Path<(String, String)>,
    Body(body): Body<NewBan>,
) -> ApiResult<Response> {
    let (guild_id, user_id) = (snowflake("guild_id", &id)?, snowflake("user_id", &uid)?);
    state
        .service
        .ban_user(
            &caller,
            guild_id,
            user_id,
            reason,
            body.delete_message_seconds,
        )
        .await?;
    no_content()
}

async fn unban_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (guild_id, user_id) = (snowflake("guild_id", &id)?, snowflake("user_id", &uid)?);
    state
        .service
        .unban_user(&caller, guild_id, user_id, reason)
        .await?;
    no_content()
}
