//! `POST /auth/register`, `POST /auth/login`: user accounts as Discord's own client uses them.

use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use axum::Router;

use super::extract::Body;
use super::{created, ok, ApiResult, AppState};
use crate::service::{Credentials, Registration};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
}

async fn register(
    State(state): State<AppState>,
    Body(body): Body<Registration>,
) -> ApiResult<Response> {
    created(state.service.register(body).await?)
}

async fn login(
    State(state): State<AppState>,
    Body(body): Body<Credentials>,
) -> ApiResult<Response> {
    ok(state.service.login(body).await?)
}
