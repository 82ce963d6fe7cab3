//! `POST /channels/{id}/invites`, `GET /invites/{code}`, `POST /invites/{code}` (join).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;

use super::extract::{snowflake, AuditReason, Auth, Body};
use super::{ok, ApiResult, AppState};
use crate::service::NewInvite;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/channels/{id}/invites", post(create_invite))
        .route("/invites/{code}", get(invite).post(accept_invite))
}

async fn create_invite(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(body): Body<NewInvite>,
) -> ApiResult<Response> {
    ok(state
        .service
        .create_invite(&caller, snowflake("channel_id", &id)?, body, reason)
        .await?)
}

async fn invite(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    ok(state.service.invite(&code).await?)
}

async fn accept_invite(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(code): Path<String>,
) -> ApiResult<Response> {
    ok(state.service.accept_invite(&caller, &code).await?)
}
