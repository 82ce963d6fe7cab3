//! Interactions: a user's client invokes (`POST /interactions`), the bot answers without
//! authentication (`POST /interactions/{id}/{token}/callback`) and follows up through
//! `/webhooks/{application_id}/{interaction_token}` — the same paths as webhooks; interaction
//! tokens start with `aW50ZXJhY3Rpb246`, webhook tokens never do.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::extract::{snowflake, Auth, Body, QueryParams};
use super::{no_content, ok, ApiResult, AppState};
use crate::service::{
    FollowupQuery, InteractionCallback, InteractionInvoke, WebhookMessage, WebhookMessageEdit,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/interactions", post(invoke))
        .route("/interactions/{id}/{token}/callback", post(callback))
        .route("/webhooks/{app}/{token}", post(followup))
        .route(
            "/webhooks/{app}/{token}/messages/{message_id}",
            get(get_message).patch(edit_message).delete(delete_message),
        )
}

async fn invoke(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<InteractionInvoke>,
) -> ApiResult<Response> {
    state.service.invoke_interaction(&caller, body).await?;
    no_content()
}

#[derive(Deserialize, Default)]
struct CallbackQuery {
    #[serde(default)]
    with_response: Option<String>,
}

/// 204 unless `?with_response=true` (discord.py asks for the body and needs it).
async fn callback(
    State(state): State<AppState>,
    Path((id, token)): Path<(String, String)>,
    QueryParams(query): QueryParams<CallbackQuery>,
    Body(body): Body<InteractionCallback>,
) -> ApiResult<Response> {
    let id = snowflake("interaction_id", &id)?;
    let answer = state.service.interaction_callback(id, &token, body).await?;
    if matches!(query.with_response.as_deref(), Some("true" | "1" | "True")) {
        ok(answer)
    } else {
        no_content()
    }
}

async fn followup(
    State(state): State<AppState>,
    Path((app, token)): Path<(String, String)>,
    QueryParams(_query): QueryParams<FollowupQuery>,
    Body(body): Body<WebhookMessage>,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", &app)?;
    ok(state
        .service
        .interaction_followup(app, &token, body)
        .await?)
}

async fn get_message(
    State(state): State<AppState>,
    Path((app, token, message_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", &app)?;
    ok(state
        .service
        .get_interaction_message(app, &token, &message_id)
        .await?)
}

async fn edit_message(
    State(state): State<AppState>,
    Path((app, token, message_id)): Path<(String, String, String)>,
    Body(edit): Body<WebhookMessageEdit>,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", &app)?;
    ok(state
        .service
        .edit_interaction_message(app, &token, &message_id, edit)
        .await?)
}

async fn delete_message(
    State(state): State<AppState>,
    Path((app, token, message_id)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let app = snowflake("webhook_id", &app)?;
    state
        .service
        .delete_interaction_message(app, &token, &message_id)
        .await?;
    no_content()
}
