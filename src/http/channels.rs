//! `GET/POST /guilds/{id}/channels`, `GET /channels/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::extract::{snowflake, Auth, Body};
use super::{created, ok, ApiResult, AppState};
use crate::service::NewChannel;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/guilds/{id}/channels",
            get(guild_channels).post(create_channel),
        )
        .route("/channels/{id}", get(channel))
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
    Path(id): Path<String>,
    Body(body): Body<NewChannel>,
) -> ApiResult<Response> {
    created(
        state
            .service
            .create_channel(&caller, snowflake("guild_id", &id)?, body)
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
