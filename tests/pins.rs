//! Pins: the current `/messages/pins` routes and the deprecated `/pins` ones, PIN_MESSAGES,
//! the 50-pin limit, CHANNEL_PINS_UPDATE.
mod common;

use common::*;
use serde_json::{json, Value};

const PIN_MESSAGES: u64 = 1 << 51;

fn id(m: &Value) -> &str {
    m["id"].as_str().unwrap()
}

#[tokio::test]
async fn pinning_lists_and_announces() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&member.token, intents::DEFAULT).await;
    let first = member.api.say(&g.general, "first").await;
    let second = member.api.say(&g.general, "second").await;

    let pins = |api: &Api, q: &str| {
        let api = api.clone();
        let path = format!("/channels/{}/messages/pins{q}", g.general);
        async move { api.get(&path).await.ok(200) }
    };
    assert_eq!(
        pins(&owner.api, "").await,
        json!({ "items": [], "has_more": false })
    );

    owner
        .api
        .put(&format!(
            "/channels/{}/messages/pins/{}",
            g.general,
            id(&first)
        ))
        .await
        .ok(204);
    let update = watcher
        .expect_dispatch_where("MESSAGE_UPDATE", EVENT_TIMEOUT, |d| d["id"] == first["id"])
        .await;
    assert_eq!(update["pinned"], true);
    let pins_update = watcher
        .expect_dispatch("CHANNEL_PINS_UPDATE", EVENT_TIMEOUT)
        .await;
    assert_eq!(pins_update["channel_id"], json!(g.general));
    assert_eq!(pins_update["guild_id"], json!(g.id));
    assert!(pins_update["last_pin_timestamp"].is_string());

    // The deprecated route pins too.
    owner
        .api
        .put(&format!("/channels/{}/pins/{}", g.general, id(&second)))
        .await
        .ok(204);
    let listed = pins(&owner.api, "").await;
    assert_eq!(listed["has_more"], false);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["message"]["id"], second["id"]);
    assert_eq!(items[1]["message"]["id"], first["id"]);
    assert_eq!(items[0]["message"]["pinned"], true);
    assert!(items[0]["pinned_at"].as_str().unwrap() >= items[1]["pinned_at"].as_str().unwrap());

    // Paging by pin time.
    let page = pins(&owner.api, "?limit=1").await;
    assert_eq!(page["has_more"], true);
    assert_eq!(page["items"][0]["message"]["id"], second["id"]);
    let before = page["items"][0]["pinned_at"]
        .as_str()
        .unwrap()
        .replace('+', "%2B");
    let next = pins(&owner.api, &format!("?limit=1&before={before}")).await;
    assert_eq!(next["items"][0]["message"]["id"], first["id"]);
    assert_eq!(next["has_more"], false);

    let old = owner
        .api
        .get(&format!("/channels/{}/pins", g.general))
        .await
        .ok(200);
    let old_ids: Vec<&Value> = old.as_array().unwrap().iter().map(|m| &m["id"]).collect();
    assert_eq!(old_ids, vec![&second["id"], &first["id"]]);

    // Unpinning through either route; the message says so.
    owner
        .api
        .delete(&format!(
            "/channels/{}/messages/pins/{}",
            g.general,
            id(&second)
        ))
        .await
        .ok(204);
    owner
        .api
        .delete(&format!("/channels/{}/pins/{}", g.general, id(&first)))
        .await
        .ok(204);
    assert_eq!(pins(&owner.api, "").await["items"], json!([]));
    let now = member.api.message(&g.general, id(&first)).await.ok(200);
    assert_eq!(now["pinned"], false);
}

#[tokio::test]
async fn pinning_needs_pin_messages_and_stops_at_fifty() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let m = member.api.say(&g.general, "pin me").await;
    let path = format!("/channels/{}/messages/pins/{}", g.general, id(&m));
    member.api.put(&path).await.err(403, 50013);
    let role = srv.role(&owner, &g, "pinner", PIN_MESSAGES).await;
    owner
        .api
        .add_role(&g.id, &member.id, role["id"].as_str().unwrap())
        .await
        .ok(204);
    member.api.put(&path).await.ok(204);
    member.api.put(&path).await.ok(204); // already pinned: nothing changes

    member
        .api
        .put(&format!("/channels/{}/messages/pins/1", g.general))
        .await
        .err(404, 10008);
    owner
        .api
        .get(&format!("/channels/{}/messages/pins?limit=51", g.general))
        .await
        .err(400, 50035);
    owner
        .api
        .get(&format!(
            "/channels/{}/messages/pins?before=yesterday",
            g.general
        ))
        .await
        .err(400, 50035);

    for n in 1..50 {
        let m = owner.api.say(&g.general, &format!("p{n}")).await;
        owner
            .api
            .put(&format!("/channels/{}/messages/pins/{}", g.general, id(&m)))
            .await
            .ok(204);
    }
    let extra = owner.api.say(&g.general, "one too many").await;
    owner
        .api
        .put(&format!(
            "/channels/{}/messages/pins/{}",
            g.general,
            id(&extra)
        ))
        .await
        .err(400, 30003);
    let stored = owner.api.message(&g.general, id(&extra)).await.ok(200);
    assert_eq!(stored["pinned"], false);

    // A deleted pinned message leaves the list.
    owner
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, id(&m)))
        .await
        .ok(204);
    let listed = owner
        .api
        .get(&format!("/channels/{}/messages/pins", g.general))
        .await
        .ok(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 49);
    owner
        .api
        .put(&format!(
            "/channels/{}/messages/pins/{}",
            g.general,
            id(&extra)
        ))
        .await
        .ok(204);
}
