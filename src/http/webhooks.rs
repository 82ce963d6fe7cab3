//! Webhooks: `POST/GET /channels/{id}/webhooks`, `GET /guilds/{id}/webhooks`,
//! `GET/PATCH/DELETE /webhooks/{id}` (authenticated, MANAGE_WEBHOOKS), and the token routes
//! that need no authentication: `GET/PATCH/DELETE/POST /webhooks/{id}/{token}` (POST executes)
//! and `GET/PATCH/DELETE /webhooks/{id}/{token}/messages/{mid}`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use serde_json::Value;

use super::extract::{decode_json, snowflake, AuditReason, Auth, Body, QueryParams};
use super::multipart::Payload;
use super::{no_content, ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::service::{
    ExecuteQuery, ExecuteWebhook, MessageEdit, NewWebhook, WebhookMessageQuery, WebhookPatch,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/channels/{id}/webhooks",
            get(channel_webhooks).post(create_webhook),
        )
        .route("/guilds/{id}/webhooks", get(guild_webhooks))
        .route(
            "/webhooks/{id}",
            get(get_webhook).patch(edit_webhook).delete(delete_webhook),
        )
        .route(
            "/webhooks/{id}/{token}",
            get(get_with_token)
                .patch(edit_with_token)
                .delete(delete_with_token)
                .post(execute),
        )
        .route(
            "/webhooks/{id}/{token}/messages/{mid}",
            get(get_message).patch(edit_message).delete(delete_message),
        )
}

async fn create_webhook(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    AuditReason(reason): AuditReason,
    Body(body): Body<NewWebhook>,
) -> ApiResult<Response> {
    ok(state
        .service
        .create_webhook(&caller, snowflake("channel_id", &id)?, body, reason)
        .await?)
}

async fn channel_webhooks(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .channel_webhooks(&caller, snowflake("channel_id", &id)?)
        .await?)
}

async fn guild_webhooks(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_webhooks(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn get_webhook(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .webhook(&caller, snowflake("webhook_id", &id)?)
        .await?)
}

async fn edit_webhook(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    AuditReason(reason): AuditReason,
    Body(patch): Body<WebhookPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .edit_webhook(&caller, snowflake("webhook_id", &id)?, patch, reason)
        .await?)
}

async fn delete_webhook(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    AuditReason(reason): AuditReason,
) -> ApiResult<Response> {
    state
        .service
        .delete_webhook(&caller, snowflake("webhook_id", &id)?, reason)
        .await?;
    no_content()
}

async fn get_with_token(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
) -> ApiResult<Response> {
    ok(state
        .service
        .webhook_with_token(snowflake("webhook_id", &id)?, &token)
        .await?)
}

async fn edit_with_token(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    _reason: AuditReason,
    Body(patch): Body<WebhookPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .edit_webhook_with_token(snowflake("webhook_id", &id)?, &token, patch)
        .await?)
}

async fn delete_with_token(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    _reason: AuditReason,
) -> ApiResult<Response> {
    state
        .service
        .delete_webhook_with_token(snowflake("webhook_id", &id)?, &token)
        .await?;
    no_content()
}

/// 204 unless `?wait=true`, which answers 200 with the message.
async fn execute(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    QueryParams(query): QueryParams<ExecuteQuery>,
    payload: Payload<Value>,
) -> ApiResult<Response> {
    if super::interactions::is_interaction_token(&token) {
        let bytes = json_bytes(&payload.body)?;
        return super::interactions::followup(&state, &id, &token, &bytes, payload.files).await;
    }
    let body = ExecuteWebhook {
        files: payload.files,
        ..decode_json(&json_bytes(&payload.body)?)?
    };
    let message = state
        .service
        .execute_webhook(snowflake("webhook_id", &id)?, &token, &query, body)
        .await?;
    if query.wait()? {
        ok(message)
    } else {
        no_content()
    }
}

async fn get_message(
    State(state): State<AppState>,
    Path((id, token, mid)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<WebhookMessageQuery>,
) -> ApiResult<Response> {
    if super::interactions::is_interaction_token(&token) {
        return super::interactions::get_message(&state, &id, &token, &mid).await;
    }
    ok(state
        .service
        .webhook_message(
            snowflake("webhook_id", &id)?,
            &token,
            snowflake("message_id", &mid)?,
            &query,
        )
        .await?)
}

async fn edit_message(
    State(state): State<AppState>,
    Path((id, token, mid)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<WebhookMessageQuery>,
    payload: Payload<Value>,
) -> ApiResult<Response> {
    let bytes = json_bytes(&payload.body)?;
    if super::interactions::is_interaction_token(&token) {
        return super::interactions::edit_message(&state, &id, &token, &mid, &bytes).await;
    }
    let edit = MessageEdit {
        files: payload.files,
        ..decode_json(&bytes)?
    };
    ok(state
        .service
        .edit_webhook_message(
            snowflake("webhook_id", &id)?,
            &token,
            snowflake("message_id", &mid)?,
            &query,
            edit,
        )
        .await?)
}

async fn delete_message(
    State(state): State<AppState>,
    Path((id, token, mid)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<WebhookMessageQuery>,
) -> ApiResult<Response> {
    if super::interactions::is_interaction_token(&token) {
        return super::interactions::delete_message(&state, &id, &token, &mid).await;
    }
    state
        .service
        .delete_webhook_message(
            snowflake("webhook_id", &id)?,
            &token,
            snowflake("message_id", &mid)?,
            &query,
        )
        .await?;
    no_content()
}

/// The JSON part of a body (plain JSON, or `payload_json` of a multipart upload) as bytes, so
/// it is decoded into the route's own type with the usual Discord-shaped errors.
fn json_bytes(body: &Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(body).map_err(|_| ApiError::internal())
}
