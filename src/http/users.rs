//! `/users/@me`, `/users/{id}`, `/users/@me/guilds`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get};
use axum::Router;

use super::extract::{snowflake, Auth, Body};
use super::{no_content, ok, ApiResult, AppState};
use crate::service::UserPatch;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/users/@me", get(current_user).patch(update_current_user))
        .route("/users/@me/guilds", get(current_user_guilds))
        .route("/users/@me/guilds/{id}", delete(leave_guild))
        .route("/users/{id}", get(user))
}

async fn current_user(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    ok(state.service.current_user(&caller))
}

async fn update_current_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(patch): Body<UserPatch>,
) -> ApiResult<Response> {
    ok(state.service.update_current_user(&caller, patch).await?)
}

async fn current_user_guilds(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    ok(state.service.current_user_guilds(&caller).await?)
}

async fn user(
    State(state): State<AppState>,
    Auth(_): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state.service.user(snowflake("user_id", &id)?).await?)
}

async fn leave_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state
        .service
        .leave_guild(&caller, snowflake("guild_id", &id)?)
        .await?;
    no_content()
}
