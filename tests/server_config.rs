//! Running the server (contract "Running the server"): flags and their environment variables,
//! node id in snowflakes, public URL in /gateway and READY, exit on SIGTERM.
mod common;
use common::*;
use std::time::Duration;

fn worker_id(id: &str) -> u64 {
    (id.parse::<u64>().unwrap() >> 17) & 0x1f
}

#[tokio::test]
async fn node_id_flag_goes_into_snowflakes() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--node-id".into(), "7".into()],
        ..Default::default()
    })
    .await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Node Seven").await;
    let m = owner.api.say(&g.general, "hi").await;
    for id in [
        &owner.id,
        &g.id,
        &g.general,
        &m["id"].as_str().unwrap().to_string(),
    ] {
        assert_eq!(
            worker_id(id),
            7,
            "snowflake {id} must carry worker id 7 (bits 17..21)"
        );
    }
}

#[tokio::test]
async fn configuration_by_environment_variables() {
    let srv = Server::start_with(StartOpts {
        config_by_env: true,
        env: vec![
            ("ACCORD_NODE_ID".into(), "3".into()),
            (
                "ACCORD_PUBLIC_URL".into(),
                "http://chat.example.test:4321".into(),
            ),
        ],
        ..Default::default()
    })
    .await;
    // the data dir from ACCORD_DATA_DIR is used
    let owner = srv.user("owner").await;
    assert!(
        srv.data_dir().exists(),
        "ACCORD_DATA_DIR must be created and used"
    );
    assert_eq!(worker_id(&owner.id), 3);
    let g = srv.api().gateway().await.ok(200);
    assert_eq!(g["url"], "ws://chat.example.test:4321");
    let gw = srv.gw(&owner.token, intents::DEFAULT).await;
    let resume = gw.ready_d()["resume_gateway_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        resume.starts_with("ws://chat.example.test:4321"),
        "resume_gateway_url must use the public URL, got {resume}"
    );
}

#[tokio::test]
async fn public_url_flag() {
    let srv = Server::start_with(StartOpts {
        args: vec![
            "--public-url".into(),
            "http://public.example.test:9999".into(),
        ],
        ..Default::default()
    })
    .await;
    let g = srv.api().gateway().await.ok(200);
    assert_eq!(g["url"], "ws://public.example.test:9999");
    let owner = srv.user("owner").await;
    let bot = srv.bot(&owner, "UrlBot").await;
    assert_eq!(
        bot.api.gateway_bot().await.ok(200)["url"],
        "ws://public.example.test:9999"
    );
}

#[tokio::test]
async fn sigterm_exits_and_keeps_data() {
    let mut srv = Server::start().await;
    let owner = srv.user("owner").await;
    let g = srv.guild(&owner, "Graceful").await;
    let m = owner.api.say(&g.general, "before sigterm").await;
    let _gw = srv.gw(&owner.token, intents::DEFAULT).await; // an open session must not block exit
    assert!(
        srv.terminate(Duration::from_secs(10)).await,
        "the server must exit within 10 s of SIGTERM"
    );
    srv.restart().await;
    let owner = srv.reauth(&owner);
    let got = owner
        .api
        .message(&g.general, m["id"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(got["content"], "before sigterm");
}
