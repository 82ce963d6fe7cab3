//! `POST/GET /channels/{id}/messages`, `GET/PATCH/DELETE /channels/{id}/messages/{mid}`,
//! `POST /channels/{id}/messages/bulk-delete`, pins (`/channels/{id}/messages/pins` and the
//! deprecated `/channels/{id}/pins`), `POST /channels/{id}/typing`.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};

use super::extract::AuditReason;
use axum::Router;

use super::extract::{snowflake, Auth, Body, QueryParams};
use super::multipart::Payload;
use super::{no_content, ok, ApiResult, AppState};
use crate::service::{BulkDelete, MessageEdit, MessageQuery, NewMessage, PinsQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/channels/{id}/messages",
            get(channel_messages).post(create_message),
        )
        .route(
            "/channels/{id}/messages/{mid}",
            get(channel_message)
                .patch(edit_message)
                .delete(delete_message),
        )
        .route(
            "/channels/{id}/messages/bulk-delete",
            post(bulk_delete_messages),
        )
        .route("/channels/{id}/messages/pins", get(list_pins))
        .route(
            "/channels/{id}/messages/pins/{mid}",
            axum::routing::put(pin).delete(unpin),
        )
        .route("/channels/{id}/pins", get(list_pins_deprecated))
        .route(
            "/channels/{id}/pins/{mid}",
            axum::routing::put(pin).delete(unpin),
        )
        .route("/channels/{id}/typing", post(trigger_typing))
}

async fn create_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    payload: Payload<NewMessage>,
) -> ApiResult<Response> {
    let body = NewMessage {
        files: payload.files,
        ..payload.body
    };
    ok(state
        .service
        .create_message(&caller, snowflake("channel_id", &id)?, body)
        .await?)
}

async fn channel_messages(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<MessageQuery>,
) -> ApiResult<Response> {
    ok(state
        .service
        .channel_messages(&caller, snowflake("channel_id", &id)?, query)
        .await?)
}

async fn channel_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<Response> {
    ok(state
        .service
        .channel_message(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
        )
        .await?)
}

async fn trigger_typing(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    state
        .service
        .trigger_typing(&caller, snowflake("channel_id", &id)?)
        .await?;
    no_content()
}

async fn edit_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
    payload: Payload<MessageEdit>,
) -> ApiResult<Response> {
    let edit = MessageEdit {
        files: payload.files,
        ..payload.body
    };
    ok(state
        .service
        .edit_message(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            edit,
        )
        .await?)
}

async fn delete_message(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
    AuditReason(reason): AuditReason,
) -> ApiResult<Response> {
    state
        .service
        .delete_message(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            reason,
        )
        .await?;
    no_content()
}

async fn bulk_delete_messages(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    AuditReason(reason): AuditReason,
    Body(body): Body<BulkDelete>,
) -> ApiResult<Response> {
    state
        .service
        .bulk_delete_messages(&caller, snowflake("channel_id", &id)?, body, reason)
        .await?;
    no_content()
}

async fn list_pins(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    QueryParams(query): QueryParams<PinsQuery>,
) -> ApiResult<Response> {
    ok(state
        .service
        .pins(&caller, snowflake("channel_id", &id)?, query)
        .await?)
}

/// The deprecated `GET /channels/{id}/pins`: the newest 50 pinned messages, bare.
async fn list_pins_deprecated(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let pins = state
        .service
        .pins(&caller, snowflake("channel_id", &id)?, PinsQuery::default())
        .await?;
    ok(pins
        .items
        .into_iter()
        .map(|pin| pin.message)
        .collect::<Vec<_>>())
}

async fn pin(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
    AuditReason(reason): AuditReason,
) -> ApiResult<Response> {
    set_pinned(state, caller, id, mid, true, reason).await
}

async fn unpin(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
    AuditReason(reason): AuditReason,
) -> ApiResult<Response> {
    set_pinned(state, caller, id, mid, false, reason).await
}

async fn set_pinned(
    state: AppState,
    caller: crate::service::Caller,
    id: String,
    mid: String,
    pinned: bool,
    reason: Option<String>,
) -> ApiResult<Response> {
    state
        .service
        .set_pinned(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            pinned,
            reason,
        )
        .await?;
    no_content()
}
