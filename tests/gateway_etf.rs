//! `encoding=etf`: every payload both ways in Erlang term format (binary frames), with
//! snowflakes as strings, as Discord does.
mod common;

use std::time::Duration;

use accord::gateway::etf;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_term(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(EVENT_TIMEOUT, ws.next())
            .await
            .expect("no frame in time")
            .expect("stream ended")
            .expect("ws error");
        match msg {
            Message::Binary(bytes) => {
                return etf::decode_allowing_atom_keys(&bytes).expect("valid ETF")
            }
            Message::Text(text) => panic!("text frame on an ETF connection: {text}"),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

async fn send_term(ws: &mut Ws, value: Value) {
    ws.send(Message::Binary(etf::encode_as_client(&value).into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn etf_session_identifies_and_receives_dispatches() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("{}/?v=10&encoding=etf", srv.ws_url()))
            .await
            .unwrap();
    let hello = next_term(&mut ws).await;
    assert_eq!(hello["op"], 10);
    assert!(hello["d"]["heartbeat_interval"].as_u64().unwrap() > 0);

    send_term(&mut ws, json!({"op": 1, "d": null})).await;
    assert_eq!(next_term(&mut ws).await["op"], 11);

    send_term(
        &mut ws,
        json!({"op": 2, "d": {"token": member.token, "intents": intents::DEFAULT,
               "properties": {"os": "linux", "browser": "etf-test", "device": "etf-test"}}}),
    )
    .await;
    let ready = next_term(&mut ws).await;
    assert_eq!(ready["t"], "READY");
    assert_eq!(ready["s"], 1);
    assert_eq!(
        ready["d"]["user"]["id"],
        member.id.as_str(),
        "snowflakes stay strings"
    );
    let guild = next_term(&mut ws).await;
    assert_eq!(guild["t"], "GUILD_CREATE");
    assert_eq!(guild["d"]["id"], g.id.as_str());

    let m = owner.api.say(&g.general, "über etf").await;
    let dispatch = next_term(&mut ws).await;
    assert_eq!(dispatch["t"], "MESSAGE_CREATE");
    assert_eq!(dispatch["d"]["id"], m["id"]);
    assert_eq!(dispatch["d"]["content"], "über etf");
}

#[tokio::test]
async fn etf_atom_keys_and_garbage_close_with_4002() {
    let srv = Server::start().await;
    for payload in [
        // {op: 1} with an atom key: clients must send string keys.
        vec![131, 116, 0, 0, 0, 1, 115, 2, b'o', b'p', 97, 1],
        vec![131, 0xff, 0xff],
        b"{\"op\":1}".to_vec(),
    ] {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("{}/?v=10&encoding=etf", srv.ws_url()))
                .await
                .unwrap();
        next_term(&mut ws).await; // HELLO
        ws.send(Message::Binary(payload.into())).await.unwrap();
        let code = loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
                Ok(Some(Ok(Message::Close(Some(frame))))) => break u16::from(frame.code),
                Ok(Some(Ok(_))) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(code, 4002);
    }
}
