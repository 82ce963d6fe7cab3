//! Reactions: `PUT/DELETE /channels/{id}/messages/{mid}/reactions/{emoji}/@me`,
//! `DELETE .../reactions/{emoji}/{uid}`, `GET/DELETE .../reactions/{emoji}`,
//! `DELETE .../reactions`. `{emoji}` arrives URL-decoded (a unicode emoji or `name:id`).

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{delete, get, put};
use axum::Router;

use super::extract::{snowflake, Auth, QueryParams};
use super::{no_content, ok, ApiResult, AppState};
use crate::service::ReactionQuery;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/channels/{id}/messages/{mid}/reactions",
            delete(remove_all),
        )
        .route(
            "/channels/{id}/messages/{mid}/reactions/{emoji}",
            get(list_users).delete(remove_emoji),
        )
        .route(
            "/channels/{id}/messages/{mid}/reactions/{emoji}/@me",
            put(add_mine).delete(remove_mine),
        )
        .route(
            "/channels/{id}/messages/{mid}/reactions/{emoji}/{uid}",
            delete(remove_user),
        )
}

async fn add_mine(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    state
        .service
        .add_reaction(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            &emoji,
        )
        .await?;
    no_content()
}

async fn remove_mine(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    state
        .service
        .remove_reaction(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            &emoji,
            None,
        )
        .await?;
    no_content()
}

async fn remove_user(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid, emoji, uid)): Path<(String, String, String, String)>,
) -> ApiResult<Response> {
    state
        .service
        .remove_reaction(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            &emoji,
            Some(snowflake("user_id", &uid)?),
        )
        .await?;
    no_content()
}

async fn list_users(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
    QueryParams(query): QueryParams<ReactionQuery>,
) -> ApiResult<Response> {
    ok(state
        .service
        .reaction_users(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            &emoji,
            query,
        )
        .await?)
}

async fn remove_emoji(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid, emoji)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    state
        .service
        .remove_all_reactions(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            Some(&emoji),
        )
        .await?;
    no_content()
}

async fn remove_all(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult<Response> {
    state
        .service
        .remove_all_reactions(
            &caller,
            snowflake("channel_id", &id)?,
            snowflake("message_id", &mid)?,
            None,
        )
        .await?;
    no_content()
}
