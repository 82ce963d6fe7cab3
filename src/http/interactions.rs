//! Interactions: a user's client invokes (`POST /interactions`), the bot answers without
//! authentication (`POST /interactions/{id}/{token}/callback`) and follows up through
//! `/webhooks/{application_id}/{interaction_token}` — the same paths as webhooks; interaction
//! tokens start with `aW50ZXJhY3Rpb246`, webhook tokens never do.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use super::extract::{decode_json, snowflake, Auth, QueryParams};
use super::multipart::Payload;
use super::{no_content, ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::service::{ExecuteWebhook, InteractionCallback, InteractionInvoke, WebhookMessageEdit};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/interactions", post(invoke))
        .route("/interactions/{id}/{token}/callback", post(callback))
}

/// JSON, or multipart with the files of attachment options (`files[n]`, the option's value
/// being `n`).
async fn invoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    payload: Payload<InteractionInvoke>,
) -> ApiResult<Response> {
    state
        .service
        .invoke_interaction(&caller, payload.body, payload.files)
        .await?;
    no_content()
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    #[serde(default)]
    with_response: Option<String>,
}

/// 204 unless `?with_response=true` (discord.py asks for the body and needs it). JSON, or
/// multipart with files for a type 4 response (as discord.py and discord.js send them).
async fn callback(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    QueryParams(query): QueryParams<CallbackQuery>,
    payload: Payload<InteractionCallback>,
) -> ApiResult<Response> {
    let id = snowflake("interaction_id", &id)?;
    let body = InteractionCallback {
        files: payload.files,
        ..payload.body
    };
    let answer = state.service.interaction_callback(id, &token, body).await?;
    if matches!(query.with_response.as_deref(), Some("true" | "1" | "True")) {
        ok(answer)
    } else {
        no_content()
    }
}

/// Whether a `/webhooks/{id}/{token}` token is an interaction's (Discord's start with
/// `aW50ZXJhY3Rpb246`, base64 of `interaction:`; webhook tokens never do).
pub(super) fn is_interaction_token(token: &str) -> bool {
    token.starts_with(crate::service::INTERACTION_TOKEN_PREFIX)
}

/// A JSON body (an empty one reads as `{}`, as `Body` does).
pub(super) fn decode_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    decode_json(bytes)
}

/// `POST /webhooks/{app}/{token}` with an interaction token: a follow-up (always answered with
/// the message, whatever `wait` says, as Discord does for interactions); multipart bodies
/// carry files as on webhook execution.
pub(super) async fn followup(
    state: &AppState,
    app: &str,
    token: &str,
    body: &[u8],
    files: Vec<crate::service::files::Upload>,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", app)?;
    let body = ExecuteWebhook {
        files,
        ..decode_body(body)?
    };
    ok(state.service.interaction_followup(app, token, body).await?)
}

/// `GET /webhooks/{app}/{token}/messages/{id|@original}` with an interaction token.
pub(super) async fn get_message(
    state: &AppState,
    app: &str,
    token: &str,
    message_id: &str,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", app)?;
    ok(state
        .service
        .get_interaction_message(app, token, message_id)
        .await?)
}

/// `PATCH /webhooks/{app}/{token}/messages/{id|@original}` with an interaction token.
pub(super) async fn edit_message(
    state: &AppState,
    app: &str,
    token: &str,
    message_id: &str,
    body: &[u8],
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", app)?;
    let edit: WebhookMessageEdit = decode_body(body)?;
    ok(state
        .service
        .edit_interaction_message(app, token, message_id, edit)
        .await?)
}

/// `DELETE /webhooks/{app}/{token}/messages/{id|@original}` with an interaction token.
pub(super) async fn delete_message(
    state: &AppState,
    app: &str,
    token: &str,
    message_id: &str,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", app)?;
    state
        .service
        .delete_interaction_message(app, token, message_id)
        .await?;
    no_content()
}
