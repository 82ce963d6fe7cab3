//! `GET /gateway`, `GET /gateway/bot`, and the WebSocket upgrade, accepted on any path.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use hyper::upgrade::OnUpgrade;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

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

/// Any unrouted request: a WebSocket upgrade becomes a gateway session, anything else is
/// Discord's 404.
pub async fn upgrade_or_not_found(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let accept = websocket_accept(&parts);
    let upgrade = parts.extensions.remove::<OnUpgrade>();
    let (Some(accept), Some(upgrade)) = (accept, upgrade) else {
        return ApiError::not_found_route().into_response();
    };
    let params = match QueryParams::<ConnectParams>::from_request_parts(&mut parts, &state).await {
        Ok(QueryParams(params)) => params,
        Err(err) => return err.into_response(),
    };
    state.gateway.clone().accept(upgrade, params);
    (
        StatusCode::SWITCHING_PROTOCOLS,
        [
            (header::CONNECTION, "upgrade".to_owned()),
            (header::UPGRADE, "websocket".to_owned()),
            (header::SEC_WEBSOCKET_ACCEPT, accept),
        ],
    )
        .into_response()
}

/// `Sec-WebSocket-Accept` for a WebSocket upgrade request (RFC 6455 §4.2.1: GET, `Connection:
/// upgrade`, `Upgrade: websocket`, version 13, a key); `None` for any other request.
fn websocket_accept(parts: &Parts) -> Option<String> {
    let has_token = |name: header::HeaderName, token: &str| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .any(|value| value.trim().eq_ignore_ascii_case(token))
    };
    let upgrade = parts.method == Method::GET
        && has_token(header::CONNECTION, "upgrade")
        && has_token(header::UPGRADE, "websocket")
        && parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|version| version == "13");
    let key = parts.headers.get(header::SEC_WEBSOCKET_KEY)?;
    upgrade.then(|| derive_accept_key(key.as_bytes()))
}
