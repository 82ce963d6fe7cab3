//! `GET/POST /guilds/{id}/channels`, `GET/PATCH/DELETE /channels/{id}`, and
//! `PUT/DELETE /channels/{id}/permissions/{overwrite_id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, put};
use axum::Router;

use super::extract::{snowflake, AuditReason, Auth, Body};
use super::{created, no_content, ok, ApiResult, AppState};
use crate::service::{ChannelPatch, NewChannel, OverwritePut};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/guilds/{id}/channels",
            get(guild_channels).post(create_channel),
        )
        .route(
            "/channels/{id}",
            get(channel).patch(update_channel).delete(delete_channel),
        )
        .route(
            "/channels/{id}/permissions/{oid}",
            put(put_overwrite).delete(delete_overwrite),
        )
}

async fn guild_channels(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_channels(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn create_channel(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(body): Body<NewChannel>,
) -> ApiResult<Response> {
    created(
        state
            .service
            .create_channel(&caller, snowflake("guild_id", &id)?, body, reason)
            .await?,
    )
}

async fn channel(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .channel(&caller, snowflake("channel_id", &id)?)
        .await?)
}

async fn update_channel(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(patch): Body<ChannelPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .update_channel(&caller, snowflake("channel_id", &id)?, patch, reason)
        .await?)
}

async fn delete_channel(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .delete_channel(&caller, snowflake("channel_id", &id)?, reason)
        .await?)
}

async fn put_overwrite(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, oid)): Path<(String, String)>,
    Body(body): Body<OverwritePut>,
) -> ApiResult<Response> {
    let (channel_id, target) = (
        snowflake("channel_id", &id)?,
        snowflake("overwrite_id", &oid)?,
    );
    state
        .service
        .put_overwrite(&caller, channel_id, target, body, reason)
        .await?;
    no_content()
}

async fn delete_overwrite(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, oid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (channel_id, target) = (
        snowflake("channel_id", &id)?,
        snowflake("overwrite_id", &oid)?,
    );
    state
        .service
        .delete_overwrite(&caller, channel_id, target, reason)
        .await?;
    no_content()
}
