//! Discord's HTTP API v10 (and v9, identical here) on axum: routing, authentication, request
//! decoding, and Discord's error bodies. Handlers only translate HTTP to `service` calls.

mod applications;
mod attachments;
mod audit_log;
mod auth;
mod bans;
mod channels;
mod commands;
mod dms;
mod emojis;
mod extract;
mod gateway;
mod guilds;
mod interactions;
mod invites;
mod members;
mod messages;
pub mod multipart;
pub mod ratelimit;
mod reactions;
mod roles;
mod users;
mod webhooks;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};

use crate::error::ApiError;
use crate::gateway::Gateway;
use crate::service::Service;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub service: Arc<Service>,
    pub gateway: Arc<Gateway>,
    pub rate_limiter: Arc<ratelimit::RateLimiter>,
}

/// Handler results: a JSON value with a status, or a Discord error.
pub type ApiResult<T> = Result<T, ApiError>;

/// The whole HTTP surface: `/api/v10` and `/api/v9`, and the gateway WebSocket on any other
/// path (clients connect to the bare `/gateway` URL with a query string).
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .merge(auth::routes())
        .merge(users::routes())
        .merge(applications::routes())
        .merge(guilds::routes())
        .merge(channels::routes())
        .merge(roles::routes())
        .merge(members::routes())
        .merge(bans::routes())
        .merge(invites::routes())
        .merge(messages::routes())
        .merge(webhooks::routes())
        .merge(reactions::routes())
        .merge(emojis::routes())
        .merge(gateway::routes())
        .merge(dms::routes())
        .merge(commands::routes())
        .merge(interactions::routes())
        .merge(audit_log::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::enforce,
        ));
    Router::new()
        .nest("/api/v10", api.clone())
        .nest("/api/v9", api)
        .merge(attachments::routes())
        .merge(emojis::cdn_routes())
        .fallback(gateway::upgrade_or_not_found)
        .method_not_allowed_fallback(|| async { ApiError::method_not_allowed() })
        .with_state(state)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// 200 with a JSON body.
fn ok<T: serde::Serialize>(value: T) -> ApiResult<Response> {
    Ok(Json(value).into_response())
}

/// 201 with a JSON body.
fn created<T: serde::Serialize>(value: T) -> ApiResult<Response> {
    Ok((StatusCode::CREATED, Json(value)).into_response())
}

/// 204, no body.
fn no_content() -> ApiResult<Response> {
    Ok(StatusCode::NO_CONTENT.into_response())
}
