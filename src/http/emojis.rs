//! Guild emojis: `GET/POST /guilds/{id}/emojis`, `GET/PATCH/DELETE /guilds/{id}/emojis/{eid}`,
//! and the image itself at the CDN path `/emojis/{eid}.{ext}` (outside `/api`, no token, as
//! Discord's CDN).

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::extract::{snowflake, AuditReason, Auth, Body};
use super::{created, no_content, ok, ApiResult, AppState};
use crate::service::{EmojiPatch, NewEmoji};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/guilds/{id}/emojis", get(list).post(create))
        .route(
            "/guilds/{id}/emojis/{eid}",
            get(one).patch(update).delete(remove),
        )
}

/// `GET /emojis/{eid}.{png|jpg|jpeg|gif|webp}`: the stored bytes with their own content type
/// (no conversion between formats).
pub fn cdn_routes() -> Router<AppState> {
    Router::new().route("/emojis/{file}", get(image))
}

async fn image(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let (id, ext) = file.rsplit_once('.').unwrap_or((file.as_str(), "png"));
    if !matches!(ext, "png" | "jpg" | "jpeg" | "gif" | "webp") {
        return Err(crate::error::ApiError::not_found_route());
    }
    let id =
        crate::model::Snowflake::parse(id).ok_or_else(crate::error::ApiError::not_found_route)?;
    let image = state.service.emoji_image(id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, image.content_type),
            (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
        ],
        image.bytes,
    )
        .into_response())
}

async fn list(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_emojis(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn one(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, eid)): Path<(String, String)>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_emoji(
            &caller,
            snowflake("guild_id", &id)?,
            snowflake("emoji_id", &eid)?,
        )
        .await?)
}

async fn create(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    AuditReason(reason): AuditReason,
    Body(body): Body<NewEmoji>,
) -> ApiResult<Response> {
    created(
        state
            .service
            .create_emoji(&caller, snowflake("guild_id", &id)?, body, reason)
            .await?,
    )
}

async fn update(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, eid)): Path<(String, String)>,
    AuditReason(reason): AuditReason,
    Body(patch): Body<EmojiPatch>,
) -> ApiResult<Response> {
    ok(state
        .service
        .update_emoji(
            &caller,
            snowflake("guild_id", &id)?,
            snowflake("emoji_id", &eid)?,
            patch,
            reason,
        )
        .await?)
}

async fn remove(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, eid)): Path<(String, String)>,
    AuditReason(reason): AuditReason,
) -> ApiResult<Response> {
    state
        .service
        .delete_emoji(
            &caller,
            snowflake("guild_id", &id)?,
            snowflake("emoji_id", &eid)?,
            reason,
        )
        .await?;
    no_content()
}
