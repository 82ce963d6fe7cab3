//! Application commands: `/applications/{app}/commands` (global) and
//! `/applications/{app}/guilds/{gid}/commands` (one guild), plus the command permissions
//! routes (`.../commands/permissions`, `.../commands/{id}/permissions`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::extract::{snowflake, Auth, Body, QueryParams};
use super::{created, no_content, ok, ApiResult, AppState};
use crate::service::{CommandInput, CommandPermissionsPut, CommandScope};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/applications/{app}/commands",
            get(list_global).post(create_global).put(overwrite_global),
        )
        .route(
            "/applications/{app}/commands/{cid}",
            get(get_global).patch(edit_global).delete(delete_global),
        )
        .route(
            "/applications/{app}/guilds/{gid}/commands",
            get(list_guild).post(create_guild).put(overwrite_guild),
        )
        .route(
            "/applications/{app}/guilds/{gid}/commands/permissions",
            get(guild_permissions),
        )
        .route(
            "/applications/{app}/guilds/{gid}/commands/{cid}",
            get(get_guild).patch(edit_guild).delete(delete_guild),
        )
        .route(
            "/applications/{app}/guilds/{gid}/commands/{cid}/permissions",
            get(command_permissions).put(put_command_permissions),
        )
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    with_localizations: Option<String>,
}

fn global(app: &str) -> ApiResult<CommandScope> {
    Ok(CommandScope {
        application_id: snowflake("application_id", app)?,
        guild_id: None,
    })
}

fn guild(app: &str, gid: &str) -> ApiResult<CommandScope> {
    Ok(CommandScope {
        application_id: snowflake("application_id", app)?,
        guild_id: Some(snowflake("guild_id", gid)?),
    })
}

async fn list(
    state: AppState,
    caller: crate::service::Caller,
    scope: CommandScope,
    query: ListQuery,
) -> ApiResult<Response> {
    let with = matches!(
        query.with_localizations.as_deref(),
        Some("true" | "1" | "True")
    );
    ok(state.service.list_commands(&caller, scope, with).await?)
}

async fn create(
    state: AppState,
    caller: crate::service::Caller,
    scope: CommandScope,
    input: CommandInput,
) -> ApiResult<Response> {
    let (command, new) = state.service.create_command(&caller, scope, input).await?;
    if new {
        created(command)
    } else {
        Ok((StatusCode::OK, Json(command)).into_response())
    }
}

async fn list_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(app): Path<String>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Response> {
    list(state, caller, global(&app)?, query).await
}

async fn create_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(app): Path<String>,
    Body(input): Body<CommandInput>,
) -> ApiResult<Response> {
    create(state, caller, global(&app)?, input).await
}

async fn overwrite_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path(app): Path<String>,
    Body(inputs): Body<Vec<CommandInput>>,
) -> ApiResult<Response> {
    ok(state
        .service
        .overwrite_commands(&caller, global(&app)?, inputs)
        .await?)
}

async fn get_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, cid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .get_command(&caller, global(&app)?, cid)
        .await?)
}

async fn edit_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, cid)): Path<(String, String)>,
    Body(input): Body<CommandInput>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .edit_command(&caller, global(&app)?, cid, input)
        .await?)
}

async fn delete_global(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, cid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    state
        .service
        .delete_command(&caller, global(&app)?, cid)
        .await?;
    no_content()
}

async fn list_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid)): Path<(String, String)>,
    QueryParams(query): QueryParams<ListQuery>,
) -> ApiResult<Response> {
    list(state, caller, guild(&app, &gid)?, query).await
}

async fn create_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid)): Path<(String, String)>,
    Body(input): Body<CommandInput>,
) -> ApiResult<Response> {
    create(state, caller, guild(&app, &gid)?, input).await
}

async fn overwrite_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid)): Path<(String, String)>,
    Body(inputs): Body<Vec<CommandInput>>,
) -> ApiResult<Response> {
    ok(state
        .service
        .overwrite_commands(&caller, guild(&app, &gid)?, inputs)
        .await?)
}

async fn get_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid, cid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .get_command(&caller, guild(&app, &gid)?, cid)
        .await?)
}

async fn edit_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid, cid)): Path<(String, String, String)>,
    Body(input): Body<CommandInput>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .edit_command(&caller, guild(&app, &gid)?, cid, input)
        .await?)
}

async fn delete_guild(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid, cid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    state
        .service
        .delete_command(&caller, guild(&app, &gid)?, cid)
        .await?;
    no_content()
}

async fn guild_permissions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid)): Path<(String, String)>,
) -> ApiResult<Response> {
    ok(state
        .service
        .guild_command_permissions(&caller, guild(&app, &gid)?)
        .await?)
}

async fn command_permissions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid, cid)): Path<(String, String, String)>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .command_permissions(&caller, guild(&app, &gid)?, cid)
        .await?)
}

async fn put_command_permissions(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Path((app, gid, cid)): Path<(String, String, String)>,
    Body(body): Body<CommandPermissionsPut>,
) -> ApiResult<Response> {
    let cid = snowflake("command_id", &cid)?;
    ok(state
        .service
        .put_command_permissions(&caller, guild(&app, &gid)?, cid, body)
        .await?)
}
