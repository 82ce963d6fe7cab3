//! Keeps `openapi/routes.txt` (the list of operations in `openapi/openapi.json`) honest: every
//! documented operation is routed by the server, on /api/v10 and /api/v9, and a sample of
//! undocumented neighbours is not.

mod common;

use common::Server;

/// Whether the server answered with its "no such route" bodies.
fn is_unrouted(status: u16, body: &serde_json::Value) -> bool {
    (status == 404 || status == 405) && body["code"] == 0
}

#[tokio::test]
async fn every_documented_operation_is_routed_and_nothing_else() {
    let server = Server::start().await;
    let spec: serde_json::Value =
        serde_json::from_str(include_str!("../openapi/openapi.json")).expect("openapi.json parses");
    let listed = include_str!("../openapi/routes.txt");
    let mut operations = Vec::new();
    for line in listed.lines().filter(|l| !l.trim().is_empty()) {
        let (method, path) = line.split_once(' ').expect("METHOD /path");
        let documented = &spec["paths"][path][method.to_lowercase()];
        assert!(
            documented.is_object(),
            "{line} is in routes.txt but not in openapi.json"
        );
        operations.push((method.to_owned(), path.to_owned()));
    }
    let in_spec: usize = spec["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|ops| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|k| *k != "parameters")
                .count()
        })
        .sum();
    assert_eq!(
        in_spec,
        operations.len(),
        "routes.txt and openapi.json list different operations"
    );

    // No token: a routed operation answers 401 (or its real answer for public routes), never
    // the unrouted 404/405.
    let anonymous = server.api().without_auth();
    for (method, path) in &operations {
        let concrete = path
            .replace("{id}", "1")
            .replace("{uid}", "2")
            .replace("{rid}", "3")
            .replace("{mid}", "4")
            .replace("{oid}", "5")
            .replace("{code}", "nope")
            .replace("{emoji}", "%F0%9F%91%8D")
            .replace("{eid}", "6");
        for api in [anonymous.clone(), anonymous.v9()] {
            let resp = api
                .req(method, &concrete, Some(&serde_json::json!({})))
                .await;
            assert!(
                !is_unrouted(resp.status, &resp.body),
                "{method} {path} is documented but not routed: {} {}",
                resp.status,
                resp.text
            );
        }
    }

    for (method, path) in [
        ("GET", "/channels/1/messages/1/reactions"),
        ("POST", "/channels/1/followers"),
        ("GET", "/guilds/1/stickers"),
        ("DELETE", "/users/@me"),
        ("GET", "/not-a-route"),
    ] {
        let resp = anonymous.req(method, path, None).await;
        assert!(
            is_unrouted(resp.status, &resp.body),
            "{method} {path} answered {} {}",
            resp.status,
            resp.text
        );
        resp.assert_json_content_type();
    }
}
