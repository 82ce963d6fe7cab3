//! `/guilds/{id}/roles`: list, create, reorder; `/guilds/{id}/roles/{rid}`: edit, delete.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, patch};
use axum::Router;

use super::extract::{snowflake, AuditReason, Auth, Body};
use super::{no_content, ok, ApiResult, AppState};
use crate::service::{RoleFields, RolePosition};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/guilds/{id}/roles",
            get(guild_roles).post(create_role).patch(reorder_roles),
        )
        .route(
            "/guilds/{id}/roles/{rid}",
            patch(update_role).delete(delete_role),
        )
}

async fn guild_roles(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_roles(&caller, snowflake("guild_id", &id)?)
        .await?)
}

async fn create_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(body): Body<RoleFields>,
) -> ApiResult<Response> {
    ok(state
        .service
        .create_role(&caller, snowflake("guild_id", &id)?, body, reason)
        .await?)
}

async fn reorder_roles(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path(id): Path<String>,
    Body(moves): Body<Vec<RolePosition>>,
) -> ApiResult<Response> {
    ok(state
        .service
        .reorder_roles(&caller, snowflake("guild_id", &id)?, moves, reason)
        .await?)
}

async fn update_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, rid)): Path<(String, String)>,
    Body(body): Body<RoleFields>,
) -> ApiResult<Response> {
    let (guild_id, role_id) = (snowflake("guild_id", &id)?, snowflake("role_id", &rid)?);
    ok(state
        .service
        .update_role(&caller, guild_id, role_id, body, reason)
        .await?)
}

async fn delete_role(
    State(state): State<AppState>,
    Auth(caller): Auth,
    AuditReason(reason): AuditReason,
    Path((id, rid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (guild_id, role_id) = (snowflake("guild_id", &id)?, snowflake("role_id", &rid)?);
    state
        .service
        .delete_role(&caller, guild_id, role_id, reason)
        .await?;
    no_content()
}
