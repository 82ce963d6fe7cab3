//! The CDN-style route serving attachment bytes, outside `/api` as Discord serves them from
//! cdn.discordapp.com: `GET /attachments/{channel_id}/{attachment_id}/{filename}`. Like
//! Discord's CDN it needs no token; the URL (ids and the exact filename) is what a message
//! hands out, and only attachments that a stored message still lists are served.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{ApiResult, AppState};
use crate::error::ApiError;
use crate::model::Snowflake;

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/attachments/{channel_id}/{attachment_id}/{filename}",
        get(attachment),
    )
}

/// The bytes with the attachment's content type and length; 404 for anything unknown.
async fn attachment(
    State(state): State<AppState>,
    Path((channel_id, attachment_id, filename)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let (Some(channel_id), Some(attachment_id)) = (
        Snowflake::parse(&channel_id),
        Snowflake::parse(&attachment_id),
    ) else {
        return Err(ApiError::not_found_route());
    };
    let (attachment, bytes) = state
        .service
        .attachment_file(channel_id, attachment_id, &filename)
        .await?;
    let content_type = attachment
        .content_type
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}
