//! `/users/@me/channels`: opening and listing DM channels (messages in them use the channel
//! routes).

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use super::extract::{Auth, Body};
use super::{ok, ApiResult, AppState};
use crate::service::NewDm;

pub fn routes() -> Router<AppState> {
    Router::new().route("/users/@me/channels", get(list_dms).post(open_dm))
}

async fn list_dms(State(state): State<AppState>, Auth(caller): Auth) -> ApiResult<Response> {
    ok(state.service.dm_channels(&caller).await?)
}

async fn open_dm(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Body(body): Body<NewDm>,
) -> ApiResult<Response> {
    ok(state.service.open_dm(&caller, body).await?)
}
