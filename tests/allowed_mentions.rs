//! `allowed_mentions` decides which mentions written in a message count: `parse`, the `users`
//! and `roles` lists, `replied_user`, and Discord's validation of the object.
mod common;

use common::*;
use serde_json::{json, Value};

fn ids(list: &Value) -> Vec<String> {
    let mut ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().or_else(|| v["id"].as_str()).unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn parse_and_lists_filter_what_the_content_mentions() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let third = srv.user("third").await;
    srv.join(&owner, &g, &third).await;
    let red = srv.role(&owner, &g, "red", 0).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let blue = srv.role(&owner, &g, "blue", 0).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let content = format!(
        "hi <@{}> <@{}> <@&{red}> <@&{blue}> @everyone",
        member.id, third.id
    );
    let send = |allowed: Value| {
        let api = owner.api.clone();
        let channel = g.general.clone();
        let content = content.clone();
        async move {
            let mut body = json!({ "content": content });
            if !allowed.is_null() {
                body["allowed_mentions"] = allowed;
            }
            api.send(&channel, &body).await.ok(200)
        }
    };

    // No allowed_mentions: everything (the owner may mention everyone).
    let all = send(Value::Null).await;
    assert_eq!(ids(&all["mentions"]), {
        let mut v = vec![member.id.clone(), third.id.clone()];
        v.sort();
        v
    });
    assert_eq!(ids(&all["mention_roles"]).len(), 2);
    assert_eq!(all["mention_everyone"], true);

    // An empty object: nothing.
    let none = send(json!({})).await;
    assert_eq!(none["mentions"], json!([]));
    assert_eq!(none["mention_roles"], json!([]));
    assert_eq!(none["mention_everyone"], false);
    assert_eq!(none["content"], json!(content));

    // Only users, by parse; only one user and one role, by lists; everyone alone.
    let users = send(json!({ "parse": ["users"] })).await;
    assert_eq!(ids(&users["mentions"]).len(), 2);
    assert_eq!(users["mention_roles"], json!([]));
    assert_eq!(users["mention_everyone"], false);
    let listed = send(json!({ "users": [third.id], "roles": [blue] })).await;
    assert_eq!(ids(&listed["mentions"]), vec![third.id.clone()]);
    assert_eq!(ids(&listed["mention_roles"]), vec![blue.clone()]);
    let everyone = send(json!({ "parse": ["everyone"] })).await;
    assert_eq!(everyone["mention_everyone"], true);
    assert_eq!(everyone["mentions"], json!([]));

    // A listed user the content does not mention is not mentioned.
    let absent = owner
        .api
        .send(
            &g.general,
            &json!({ "content": "nobody", "allowed_mentions": { "users": [member.id] } }),
        )
        .await
        .ok(200);
    assert_eq!(absent["mentions"], json!([]));
}

#[tokio::test]
async fn replied_user_mentions_the_author_of_the_target() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let target = member.api.say(&g.general, "question").await;
    let reply = |replied_user: bool| {
        json!({
            "content": "answer",
            "message_reference": { "message_id": target["id"] },
            "allowed_mentions": { "parse": [], "replied_user": replied_user },
        })
    };
    let with = owner.api.send(&g.general, &reply(true)).await.ok(200);
    assert_eq!(ids(&with["mentions"]), vec![member.id.clone()]);
    let without = owner.api.send(&g.general, &reply(false)).await.ok(200);
    assert_eq!(without["mentions"], json!([]));
}

#[tokio::test]
async fn invalid_allowed_mentions_are_refused_and_nothing_is_sent() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let send = |allowed: Value| {
        let api = owner.api.clone();
        let channel = g.general.clone();
        async move {
            api.send(
                &channel,
                &json!({ "content": "x", "allowed_mentions": allowed }),
            )
            .await
        }
    };
    send(json!({ "parse": ["users"], "users": [member.id] }))
        .await
        .form_error_code(
            "allowed_mentions",
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        );
    send(json!({ "parse": ["roles"], "roles": [g.id] }))
        .await
        .form_error_code(
            "allowed_mentions",
            "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
        );
    send(json!({ "parse": ["users", "bogus"] }))
        .await
        .form_error_code("allowed_mentions.parse.1", "BASE_TYPE_CHOICES");
    let many: Vec<String> = (1..=101).map(|n| n.to_string()).collect();
    send(json!({ "users": many }))
        .await
        .form_error_code("allowed_mentions.users", "BASE_TYPE_MAX_LENGTH");
    send(json!({ "parse": "users" })).await.err(400, 50035);
    let history = owner.api.messages(&g.general, "").await.ok(200);
    assert_eq!(history, json!([]));

    // The same object on an edit.
    let m = owner
        .api
        .say(&g.general, &format!("<@{}>", member.id))
        .await;
    let path = format!(
        "/channels/{}/messages/{}",
        g.general,
        m["id"].as_str().unwrap()
    );
    owner
        .api
        .patch(&path, &json!({ "allowed_mentions": { "parse": ["nope"] } }))
        .await
        .err(400, 50035);
    let quiet = owner
        .api
        .patch(&path, &json!({ "content": format!("<@{}> again", member.id), "allowed_mentions": { "parse": [] } }))
        .await
        .ok(200);
    assert_eq!(quiet["mentions"], json!([]));
}
