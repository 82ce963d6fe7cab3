//! `GET /gateway`, `GET /gateway/bot`, and the WebSocket upgrade, accepted on any path.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::extract::{Auth, QueryParams};
use super::{ok, ApiResult, AppState};
use crate::error::ApiError;
use crate::gateway::ConnectParams;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/gateway", get(gateway))
        .route("/gateway/bot", get(gateway_bot))
}

async fn gateway(State(state): State<AppState>) -> ApiResult<Response> {
    ok(state.service.gateway_info())
}

async fn gateway_bot(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    ok(state.service.gateway_bot_info(&caller).await?)
}

/// Bytes each gateway socket reserves for reading (it grows for a larger frame). Client
/// payloads are heartbeats of a few dozen bytes and the odd IDENTIFY or request of a few
/// hundred; every idle session pays for this buffer.
const GATEWAY_READ_BUFFER: usize = 512;

/// Any unrouted request: a WebSocket upgrade becomes a gateway session, anything else is
/// Discord's 404.
pub async fn upgrade_or_not_found(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &state).await else {
        return ApiError::not_found_route().into_response();
    };
    let params = match QueryParams::<ConnectParams>::from_request_parts(&mut parts, &state).await {
        Ok(QueryParams(params)) => params,
        Err(err) => return err.into_response(),
    };
    let gateway = state.gateway.clone();
    upgrade
        // Client payloads are small (Discord caps them at 4096 bytes); tungstenite's default
        // 128 KiB read buffer per socket would be most of an idle session's memory.
        .read_buffer_size(GATEWAY_READ_BUFFER)
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| gateway.serve(socket, params))
}
