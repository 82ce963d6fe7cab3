//! Applications and bots: create, reset the bot token, read the current application, and the
//! OAuth2 `bot` authorization that adds a bot to a guild.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use super::extract::{decode_json, snowflake, Auth, Body};
use super::{created, ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::service::{ApplicationPatch, AuthorizeBot};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/applications", post(create_application))
        .route(
            "/applications/@me",
            get(current_application).patch(update_current_application),
        )
        .route("/applications/{id}", patch(update_application))
        .route("/oauth2/applications/@me", get(current_application))
        .route("/applications/{id}/bot/reset", post(reset_bot_token))
        .route("/oauth2/authorize", post(authorize))
}

#[derive(Deserialize)]
struct NewApplication {
    name: String,
}

async fn create_application(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<NewApplication>,
) -> ApiResult<Response> {
    created(state.service.create_application(&caller, body.name).await?)
}

async fn current_application(
    State(state): State<AppState>,
    Auth(caller): Auth,
) -> ApiResult<Response> {
    ok(state.service.current_application(&caller).await?)
}

async fn update_current_application(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(patch): Body<ApplicationPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .update_application(&caller, None, patch)
        .await?)
}

async fn update_application(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    Body(patch): Body<ApplicationPatch>,
) -> ApiResult<Response> {
    let app_id = snowflake("application_id", &id)?;
    ok(state
        .service
        .update_application(&caller, Some(app_id), patch)
        .await?)
}

async fn reset_bot_token(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .reset_bot_token(&caller, snowflake("application_id", &id)?)
        .await?)
}

/// Discord's client sends `client_id`, `scope` and `permissions` in the query and the choice
/// (`guild_id`, `permissions`, `authorize`) in the body; the body wins where both speak.
async fn authorize(
    State(state): State<AppState>,
    Auth(caller): Auth,
    uri: Uri,
    Body(body): Body<Value>,
) -> ApiResult<Response> {
    let mut merged: serde_json::Map<String, Value> =
        serde_urlencoded::from_str(uri.query().unwrap_or(""))
            .map_err(|_| ApiError::invalid_json())?;
    if let Value::Object(fields) = body {
        merged.extend(fields.into_iter().filter(|(_, v)| !v.is_null()));
    }
    let bytes = serde_json::to_vec(&merged).map_err(|_| ApiError::internal())?;
    let request: AuthorizeBot = decode_json(&bytes)?;
    ok(state.service.authorize_bot(&caller, request).await?)
}
