//! `POST /guilds`, `GET /guilds/{id}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, Auth, Body};
use super::{created, ok, ApiResult, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guilds", post(create_guild))
        .route("/guilds/{id}", get(guild))
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
