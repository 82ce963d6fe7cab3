//! Transport compression: `compress=zlib-stream` and `compress=zstd-stream` carry every
//! payload in one stream per connection, each message decodable on arrival, as clients read
//! them; a resumed connection starts a fresh stream and still loses nothing.
mod common;

use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A client's decoder: one context for the whole connection.
enum Stream {
    Zlib(flate2::Decompress),
    Zstd(zstd::stream::raw::Decoder<'static>),
}

impl Stream {
    fn new(kind: &str) -> Stream {
        match kind {
            "zlib-stream" => Stream::Zlib(flate2::Decompress::new(true)),
            "zstd-stream" => Stream::Zstd(zstd::stream::raw::Decoder::new().unwrap()),
            other => panic!("unknown compression {other}"),
        }
    }

    fn decode(&mut self, bytes: &[u8]) -> Value {
        let mut out = vec![0u8; 1 << 20];
        let written = match self {
            Stream::Zlib(z) => {
                assert!(
                    bytes.ends_with(&[0, 0, 0xff, 0xff]),
                    "zlib message without sync flush"
                );
                let before = z.total_out();
                z.decompress(bytes, &mut out, flate2::FlushDecompress::Sync)
                    .unwrap();
                (z.total_out() - before) as usize
            }
            Stream::Zstd(z) => {
                use zstd::stream::raw::Operation;
                let mut input = zstd::stream::raw::InBuffer::around(bytes);
                let mut output = zstd::stream::raw::OutBuffer::around(&mut out[..]);
                while input.pos() < bytes.len() {
                    z.run(&mut input, &mut output).unwrap();
                }
                output.pos()
            }
        };
        serde_json::from_slice(&out[..written]).expect("a whole JSON payload per message")
    }
}

async fn open(srv: &Server, kind: &str) -> (Ws, Stream) {
    let url = format!("{}/?v=10&encoding=json&compress={kind}", srv.ws_url());
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    (ws, Stream::new(kind))
}

async fn next(ws: &mut Ws, stream: &mut Stream) -> Value {
    loop {
        let msg = tokio::time::timeout(EVENT_TIMEOUT, ws.next())
            .await
            .expect("no frame in time")
            .expect("stream ended")
            .expect("ws error");
        match msg {
            Message::Binary(bytes) => return stream.decode(&bytes),
            Message::Text(text) => panic!("uncompressed text on a compressed connection: {text}"),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
}

async fn next_dispatch(ws: &mut Ws, stream: &mut Stream, t: &str) -> Value {
    loop {
        let v = next(ws, stream).await;
        if v["op"] == 0 && v["t"] == t {
            return v;
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

#[tokio::test]
async fn both_stream_kinds_carry_a_whole_session() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    for kind in ["zlib-stream", "zstd-stream"] {
        let (mut ws, mut stream) = open(&srv, kind).await;
        assert_eq!(next(&mut ws, &mut stream).await["op"], 10, "{kind}: HELLO");
        send(&mut ws, json!({"op": 1, "d": null})).await;
        assert_eq!(next(&mut ws, &mut stream).await["op"], 11, "{kind}: ACK");
        // IDENTIFY compress:true is ignored on a stream connection.
        send(
            &mut ws,
            json!({"op": 2, "d": {"token": member.token, "intents": intents::DEFAULT,
            "compress": true, "properties": {"os": "linux", "browser": "t", "device": "t"}}}),
        )
        .await;
        let ready = next_dispatch(&mut ws, &mut stream, "READY").await;
        assert_eq!(ready["d"]["user"]["id"], member.id.as_str());
        next_dispatch(&mut ws, &mut stream, "GUILD_CREATE").await;
        for n in 0..20 {
            let m = owner.api.say(&g.general, &format!("{kind} {n}")).await;
            let d = next_dispatch(&mut ws, &mut stream, "MESSAGE_CREATE").await;
            assert_eq!(d["d"]["id"], m["id"]);
        }
    }
}

/// The loss test over a compressed connection: killed socket, messages keep coming, resume on
/// a new compressed connection; gapless, every message exactly once.
#[tokio::test]
async fn resume_over_a_fresh_compressed_stream_loses_nothing() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let (mut ws, mut stream) = open(&srv, "zlib-stream").await;
    next(&mut ws, &mut stream).await;
    send(
        &mut ws,
        json!({"op": 2, "d": {"token": member.token, "intents": intents::DEFAULT,
        "properties": {"os": "linux", "browser": "t", "device": "t"}}}),
    )
    .await;
    let ready = next_dispatch(&mut ws, &mut stream, "READY").await;
    let session_id = ready["d"]["session_id"].as_str().unwrap().to_owned();
    let mut last_seq = ready["s"].as_i64().unwrap();
    let mut delivered = Vec::new();
    let mut acked = Vec::new();
    for n in 0..5 {
        acked.push(owner.api.say(&g.general, &format!("before {n}")).await["id"].clone());
    }
    while delivered.len() < 5 {
        let v = next(&mut ws, &mut stream).await;
        if v["op"] == 0 {
            last_seq = v["s"].as_i64().unwrap();
            if v["t"] == "MESSAGE_CREATE" {
                delivered.push(v["d"]["id"].clone());
            }
        }
    }
    drop(ws); // no close frame
    for n in 0..5 {
        acked.push(owner.api.say(&g.general, &format!("during {n}")).await["id"].clone());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let (mut ws, mut stream) = open(&srv, "zstd-stream").await;
    next(&mut ws, &mut stream).await;
    send(
        &mut ws,
        json!({"op": 6, "d": {"token": member.token, "session_id": session_id, "seq": last_seq}}),
    )
    .await;
    loop {
        let v = next(&mut ws, &mut stream).await;
        if v["op"] != 0 {
            continue;
        }
        last_seq += 1;
        assert_eq!(v["s"], last_seq, "gapless after resume: {v}");
        match v["t"].as_str() {
            Some("MESSAGE_CREATE") => delivered.push(v["d"]["id"].clone()),
            Some("RESUMED") => break,
            _ => {}
        }
    }
    assert_eq!(delivered, acked);
}
