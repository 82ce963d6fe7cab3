//! `POST /guilds`, `GET/PATCH/DELETE /guilds/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, AuditReason, Auth, Body};
use super::{created, no_content, ok, ApiResult, AppState};
use crate::service::GuildPatch;

pub fn routes() -> Router<AppState> {
    Router::new().route("/guilds", post(create_guild)).route(
        "/guilds/{id}",
        get(guild).patch(update_guild).delete(delete_guild),
    )
}

#[derive(Deserialize)]
struct NewGuild {
    name: String,
}

async fn create_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<NewGuild>,
) -> ApiResult<Response> {
    created(state.service.create_guild(&caller, body.name).await?)
}

async fn guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn update_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(patch): Body<GuildPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .update_guild(&caller, snowflake("guild_id", &id)?, patch, reason)
        .await?)
}

async fn delete_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state
        .service
        .delete_guild(&caller, snowflake("guild_id", &id)?)
        .await?;
    no_content()
}
