//! `GET/POST /guilds/{id}/roles`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::extract::{snowflake, Auth, Body};
use super::{ok, ApiResult, AppState};
use crate::service::NewRole;

pub fn routes() -> Router<AppState> {
    Router::new().route("/guilds/{id}/roles", get(guild_roles).post(create_role))
}

async fn guild_roles(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_roles(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn create_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(body): Body<NewRole>,
) -> ApiResult<Response> {
    ok(state
        .service
        .create_role(&caller, snowflake("guild_id", &id)?, body)
        .await?)
}
