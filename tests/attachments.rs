//! Files: multipart uploads on message create and edit, the attachment objects, the CDN-style
//! route serving the bytes, `attachment://` in embeds, the upload limit (413 / 40005),
//! malformed bodies (nothing stored), ATTACH_FILES, and bytes leaving with their messages.
mod common;

use common::*;
use serde_json::{json, Value};

const ATTACH_FILES: u64 = 1 << 15;
const BOUNDARY: &str = "accord-test-boundary-7d1f";

/// A 2×3 PNG (header enough for the size to be read).
fn png() -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x02\0\0\0\x03\x08\x02\0\0\0".to_vec();
    png.extend_from_slice(&[0x12, 0x34, 0x56, 0x78]);
    png
}

/// One multipart part: name, filename (file parts), bytes.
struct Part<'a>(&'a str, Option<&'a str>, Vec<u8>);

fn json_part(payload: &Value) -> Part<'static> {
    Part("payload_json", None, payload.to_string().into_bytes())
}

fn file_part<'a>(name: &'a str, filename: &'a str, bytes: &[u8]) -> Part<'a> {
    Part(name, Some(filename), bytes.to_vec())
}

fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for Part(name, filename, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn ctype() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

async fn send_files(api: &Api, channel: &str, parts: &[Part<'_>]) -> Resp {
    api.raw(
        "POST",
        &format!("/channels/{channel}/messages"),
        Some(multipart(parts)),
        &ctype(),
    )
    .await
}

async fn edit_files(api: &Api, channel: &str, message: &str, parts: &[Part<'_>]) -> Resp {
    api.raw(
        "PATCH",
        &format!("/channels/{channel}/messages/{message}"),
        Some(multipart(parts)),
        &ctype(),
    )
    .await
}

/// GET on an absolute URL without a token: (status, content type, content length, bytes).
async fn fetch(url: &str) -> (u16, Option<String>, Option<u64>, Vec<u8>) {
    let r = reqwest::get(url).await.expect("fetch attachment");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let len = r
        .headers()
        .get("content-length")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, ct, len, r.bytes().await.unwrap().to_vec())
}

fn url_of(a: &Value) -> String {
    a["url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn upload_then_read_back_with_attachment_refs_in_embeds() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let mut watcher = srv.gw(&owner.token, intents::DEFAULT).await;
    let text = b"hello, file\n".to_vec();
    let payload = json!({
        "content": "two files",
        "attachments": [
            {"id": 0, "filename": "hello.txt", "description": "a greeting"},
            {"id": 1, "filename": "pixel.png"},
        ],
        "embeds": [{
            "title": "look",
            "image": {"url": "attachment://pixel.png"},
            "footer": {"text": "f", "icon_url": "attachment://pixel.png"},
            "thumbnail": {"url": "attachment://missing.png"},
        }],
    });
    let r = send_files(
        &member.api,
        &g.general,
        &[
            json_part(&payload),
            file_part("files[0]", "ignored-name.txt", &text),
            file_part("files[1]", "pixel.png", &png()),
        ],
    )
    .await;
    let m = r.ok(200);
    check_message(&m, "multipart message");
    assert_eq!(m["content"], "two files");
    let atts = m["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2, "{m}");
    let (txt, img) = (&atts[0], &atts[1]);
    for a in atts {
        assert_snowflake(&a["id"], "attachment.id");
        assert_keys(
            a,
            &["id", "filename", "size", "url", "proxy_url", "content_type"],
            "attachment",
        );
        assert!(a.get("ephemeral").is_none(), "{a}");
    }
    assert_eq!(txt["filename"], "hello.txt");
    assert_eq!(txt["description"], "a greeting");
    assert_eq!(txt["content_type"], "text/plain; charset=utf-8");
    assert_eq!(txt["size"], text.len());
    assert!(txt.get("width").is_none() && txt.get("height").is_none());
    assert_eq!(
        url_of(txt),
        format!(
            "{}/attachments/{}/{}/hello.txt",
            srv.base(),
            g.general,
            sid(txt)
        )
    );
    assert_eq!(img["filename"], "pixel.png");
    assert_eq!(img["content_type"], "image/png");
    assert_eq!(
        (img["width"].as_u64(), img["height"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(img.get("description").is_none());
    assert_ne!(txt["id"], img["id"]);

    // attachment:// resolves to the upload's URL; unknown names stay as they were.
    let embed = &m["embeds"][0];
    assert_eq!(embed["image"]["url"], img["url"]);
    assert_eq!(embed["image"]["width"], 2);
    assert_eq!(embed["footer"]["icon_url"], img["url"]);
    assert_eq!(embed["thumbnail"]["url"], "attachment://missing.png");

    // The same message over the gateway and through GET.
    let created = watcher.expect_msg(&m).await;
    assert_eq!(created["attachments"], m["attachments"]);
    let read = member
        .api
        .message(&g.general, m["id"].as_str().unwrap())
        .await
        .ok(200);
    assert_eq!(read["attachments"], m["attachments"]);

    // The bytes, without a token, with the right type and length.
    let (status, ct, len, bytes) = fetch(&url_of(txt)).await;
    assert_eq!(status, 200);
    assert_eq!(ct.as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(len, Some(text.len() as u64));
    assert_eq!(bytes, text);
    let (status, ct, _, bytes) = fetch(&url_of(img)).await;
    assert_eq!((status, ct.as_deref()), (200, Some("image/png")));
    assert_eq!(bytes, png());

    // Wrong name, unknown ids, ids of another channel: 404.
    let wrong_name = url_of(txt).replace("hello.txt", "other.txt");
    assert_eq!(fetch(&wrong_name).await.0, 404);
    let unknown = format!(
        "{}/attachments/{}/{}/hello.txt",
        srv.base(),
        g.general,
        bogus_id()
    );
    assert_eq!(fetch(&unknown).await.0, 404);
    let elsewhere = url_of(txt).replace(&g.general, &g.id);
    assert_eq!(fetch(&elsewhere).await.0, 404);
    assert_eq!(
        fetch(&format!("{}/attachments/x/y/z", srv.base())).await.0,
        404
    );

    // Without `attachments` metadata every file part is an attachment under its own name;
    // without payload_json the plain fields are the parameters; a file alone is a message.
    let r = send_files(
        &member.api,
        &g.general,
        &[
            Part("content", None, b"plain fields".to_vec()),
            file_part("files[0]", "my notes (1).md", b"# notes"),
        ],
    )
    .await;
    let m = r.ok(200);
    assert_eq!(m["content"], "plain fields");
    assert_eq!(m["attachments"][0]["filename"], "my_notes__1_.md");
    assert_eq!(
        fetch(&url_of(&m["attachments"][0])).await.3,
        b"# notes".to_vec()
    );
    let m = send_files(
        &member.api,
        &g.general,
        &[file_part("file", "only.bin", &[1, 2, 3])],
    )
    .await
    .ok(200);
    assert_eq!(m["content"], "");
    assert_eq!(m["attachments"][0]["size"], 3);
    let (_, ct, _, bytes) = fetch(&url_of(&m["attachments"][0])).await;
    assert_eq!(ct.as_deref(), Some("application/octet-stream"));
    assert_eq!(bytes, vec![1, 2, 3]);

    // A plain JSON message still works and has no attachments.
    let m = member.api.say(&g.general, "no files").await;
    assert_eq!(m["attachments"], json!([]));
}

#[tokio::test]
async fn edits_keep_remove_and_add_attachments() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let payload = json!({"content": "v1", "attachments": [{"id": 0}, {"id": 1}]});
    let m = send_files(
        &member.api,
        &g.general,
        &[
            json_part(&payload),
            file_part("files[0]", "a.txt", b"aaa"),
            file_part("files[1]", "b.txt", b"bbb"),
        ],
    )
    .await
    .ok(200);
    let mid = m["id"].as_str().unwrap().to_owned();
    let (a, b) = (m["attachments"][0].clone(), m["attachments"][1].clone());
    let path = format!("/channels/{}/messages/{mid}", g.general);

    // Absent `attachments`: all kept.
    let e = member
        .api
        .patch(&path, &json!({"content": "v2"}))
        .await
        .ok(200);
    assert_eq!(e["attachments"], m["attachments"]);
    assert_eq!(e["content"], "v2");

    // Someone else may not change attachments.
    owner
        .api
        .patch(&path, &json!({"attachments": []}))
        .await
        .err(403, 50005);

    // Listing only `a` removes `b`; its URL is gone at once. The description can change.
    let e = member
        .api
        .patch(
            &path,
            &json!({"attachments": [{"id": a["id"], "description": "kept"}]}),
        )
        .await
        .ok(200);
    assert_eq!(e["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(e["attachments"][0]["id"], a["id"]);
    assert_eq!(e["attachments"][0]["description"], "kept");
    assert_eq!(fetch(&url_of(&b)).await.0, 404);
    assert_eq!(fetch(&url_of(&a)).await.3, b"aaa".to_vec());

    // A multipart edit adds a new file next to the kept one.
    let payload = json!({"attachments": [{"id": a["id"]}, {"id": 0, "filename": "c.txt"}]});
    let e = edit_files(
        &member.api,
        &g.general,
        &mid,
        &[json_part(&payload), file_part("files[0]", "x.txt", b"ccc")],
    )
    .await
    .ok(200);
    let atts = e["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["id"], a["id"]);
    assert_eq!(atts[1]["filename"], "c.txt");
    assert_eq!(fetch(&url_of(&atts[1])).await.3, b"ccc".to_vec());

    // `[]` removes them all (the content keeps the message non-empty).
    let e = member
        .api
        .patch(&path, &json!({"attachments": []}))
        .await
        .ok(200);
    assert_eq!(e["attachments"], json!([]));
    assert_eq!(fetch(&url_of(&a)).await.0, 404);
    assert_eq!(fetch(&url_of(&atts[1])).await.0, 404);

    // An attachment-only message cannot lose its last attachment and its content.
    let only = send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "z.txt", b"z")],
    )
    .await
    .ok(200);
    member
        .api
        .patch(
            &format!("/channels/{}/messages/{}", g.general, sid(&only)),
            &json!({"attachments": []}),
        )
        .await
        .err(400, 50006);
    assert_eq!(
        fetch(&url_of(&only["attachments"][0])).await.3,
        b"z".to_vec()
    );
}

#[tokio::test]
async fn upload_limit_is_413_and_stores_nothing() {
    let srv = Server::start_with(StartOpts {
        args: vec!["--max-upload-bytes".into(), "1000".into()],
        ..Default::default()
    })
    .await;
    let (_owner, g, member) = srv.world().await;
    let r = send_files(
        &member.api,
        &g.general,
        &[
            json_part(&json!({"content": "too big"})),
            file_part("files[0]", "big.bin", &[7u8; 1001]),
        ],
    )
    .await;
    let e = r.err(413, 40005);
    assert_eq!(e["message"], "Request entity too large");
    assert_eq!(member.api.messages(&g.general, "").await.ok(200), json!([]));
    assert!(
        !srv.data_dir().join("attachments").join(&g.general).exists(),
        "no bytes kept for a refused upload"
    );

    // Exactly at the limit is fine; the environment variable sets it too.
    let m = send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "fits.bin", &[7u8; 1000])],
    )
    .await
    .ok(200);
    assert_eq!(m["attachments"][0]["size"], 1000);

    // The default is Discord's 10 MiB, well past axum's 2 MB body limit for JSON.
    let srv = Server::start().await;
    let (_owner, g, member) = srv.world().await;
    let big: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let m = send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "big.bin", &big)],
    )
    .await
    .ok(200);
    assert_eq!(m["attachments"][0]["size"], big.len());
    assert_eq!(fetch(&url_of(&m["attachments"][0])).await.3, big);
    let mut over = big.clone();
    over.push(0);
    send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "big.bin", &over)],
    )
    .await
    .err(413, 40005);

    let srv = Server::start_with(StartOpts {
        env: vec![("ACCORD_MAX_UPLOAD_BYTES".into(), "10".into())],
        ..Default::default()
    })
    .await;
    let (_owner, g, member) = srv.world().await;
    send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "a", &[1u8; 11])],
    )
    .await
    .err(413, 40005);
}

#[tokio::test]
async fn malformed_multipart_is_400_and_stores_nothing() {
    let srv = Server::start().await;
    let (_owner, g, member) = srv.world().await;
    let path = format!("/channels/{}/messages", g.general);
    let good = multipart(&[
        json_part(&json!({"content": "x"})),
        file_part("files[0]", "a.txt", b"a"),
    ]);

    // No boundary.
    member
        .api
        .raw("POST", &path, Some(good.clone()), "multipart/form-data")
        .await
        .err(400, 50035);
    // A body cut short (no closing boundary).
    let cut = good[..good.len() - 30].to_vec();
    member
        .api
        .raw("POST", &path, Some(cut), &ctype())
        .await
        .err_any(400, &[50035]);
    // payload_json that is not JSON, or of the wrong shape.
    let r = send_files(
        &member.api,
        &g.general,
        &[Part("payload_json", None, b"{nope".to_vec())],
    )
    .await;
    r.err_any(400, &[50035, 50109]);
    send_files(
        &member.api,
        &g.general,
        &[json_part(&json!({"content": 5}))],
    )
    .await
    .form_error_code("content", "STRING_TYPE_CONVERT");
    // A file with no entry in `attachments`, and an entry with no file.
    let r = send_files(
        &member.api,
        &g.general,
        &[
            json_part(&json!({"content": "x", "attachments": [{"id": 0}]})),
            file_part("files[0]", "a.txt", b"a"),
            file_part("files[1]", "b.txt", b"b"),
        ],
    )
    .await;
    r.err(400, 50035);
    let r = send_files(
        &member.api,
        &g.general,
        &[
            json_part(&json!({"content": "x", "attachments": [{"id": 0}, {"id": 3}]})),
            file_part("files[0]", "a.txt", b"a"),
        ],
    )
    .await;
    r.form_error_code("attachments.1.id", "ATTACHMENT_NOT_FOUND");
    // Eleven files.
    let names: Vec<String> = (0..11).map(|i| format!("files[{i}]")).collect();
    let mut parts = vec![json_part(&json!({"content": "x"}))];
    for name in &names {
        parts.push(file_part(name, "f.txt", b"f"));
    }
    send_files(&member.api, &g.general, &parts)
        .await
        .form_error_code("files", "BASE_TYPE_MAX_LENGTH");

    assert_eq!(member.api.messages(&g.general, "").await.ok(200), json!([]));
    assert!(!srv.data_dir().join("attachments").join(&g.general).exists());
    // The well-formed body still works.
    member
        .api
        .raw("POST", &path, Some(good), &ctype())
        .await
        .ok(200);
}

#[tokio::test]
async fn uploading_needs_attach_files() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    owner
        .api
        .put_overwrite(
            &g.general,
            &g.id,
            &json!({"type": 0, "allow": "0", "deny": ATTACH_FILES.to_string()}),
        )
        .await
        .ok(204);
    send_files(
        &member.api,
        &g.general,
        &[file_part("files[0]", "a.txt", b"a")],
    )
    .await
    .err(403, 50013);
    let m = member.api.say(&g.general, "text still works").await;
    // Nor may an edit add a file.
    edit_files(
        &member.api,
        &g.general,
        m["id"].as_str().unwrap(),
        &[file_part("files[0]", "a.txt", b"a")],
    )
    .await
    .err(403, 50013);
    assert_eq!(
        member.api.messages(&g.general, "").await.ok(200)[0]["attachments"],
        json!([])
    );
    // The owner (all permissions) can.
    send_files(
        &owner.api,
        &g.general,
        &[file_part("files[0]", "a.txt", b"a")],
    )
    .await
    .ok(200);
}

/// Sends a one-file message and returns it with its attachment's URL.
async fn upload(api: &Api, channel: &str, name: &str) -> (Value, String) {
    let m = send_files(
        api,
        channel,
        &[file_part("files[0]", name, name.as_bytes())],
    )
    .await
    .ok(200);
    let url = url_of(&m["attachments"][0]);
    assert_eq!(fetch(&url).await.0, 200);
    (m, url)
}

#[tokio::test]
async fn bytes_leave_with_their_messages() {
    let srv = Server::start().await;
    let (owner, g, member) = srv.world().await;
    let files = srv.data_dir().join("attachments").join(&g.general);
    let stored = |m: &Value| files.join(m["attachments"][0]["id"].as_str().unwrap());

    // Single delete.
    let (m, url) = upload(&owner.api, &g.general, "one.txt").await;
    assert!(stored(&m).exists());
    owner
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, sid(&m)))
        .await
        .ok(204);
    assert_eq!(fetch(&url).await.0, 404);
    assert!(!stored(&m).exists(), "bytes removed with the message");

    // Bulk delete.
    let (m1, url1) = upload(&owner.api, &g.general, "two.txt").await;
    let (m2, url2) = upload(&owner.api, &g.general, "three.txt").await;
    let (keep, keep_url) = upload(&owner.api, &g.general, "kept.txt").await;
    owner
        .api
        .post(
            &format!("/channels/{}/messages/bulk-delete", g.general),
            &json!({"messages": [m1["id"], m2["id"]]}),
        )
        .await
        .ok(204);
    assert_eq!(fetch(&url1).await.0, 404);
    assert_eq!(fetch(&url2).await.0, 404);
    assert!(!stored(&m1).exists() && !stored(&m2).exists());
    assert_eq!(fetch(&keep_url).await.0, 200);
    assert!(stored(&keep).exists());

    // Channel deletion.
    let other = owner
        .api
        .create_channel(&g.id, &json!({"name": "other"}))
        .await
        .ok(201);
    let (_, other_url) = upload(&owner.api, &sid(&other), "chan.txt").await;
    owner.api.delete_channel(&sid(&other)).await.ok(200);
    assert_eq!(fetch(&other_url).await.0, 404);
    assert!(!srv
        .data_dir()
        .join("attachments")
        .join(sid(&other))
        .exists());

    // A ban that deletes the member's recent messages.
    let (banned, banned_url) = upload(&member.api, &g.general, "banned.txt").await;
    owner
        .api
        .ban(&g.id, &member.id, &json!({"delete_message_seconds": 3600}))
        .await
        .ok(204);
    assert_eq!(fetch(&banned_url).await.0, 404);
    assert!(!stored(&banned).exists());
    assert_eq!(fetch(&keep_url).await.0, 200);

    // Guild deletion.
    owner.api.delete_guild(&g.id).await.ok(204);
    assert_eq!(fetch(&keep_url).await.0, 404);
    assert!(!files.exists());
}

/// The MongoDB store keeps bytes in GridFS: two nodes sharing one database serve the same
/// attachment, and a deletion through one node removes it for both. Needs
/// `ACCORD_TEST_MONGODB_URI` and `ACCORD_TEST_REDIS_URL` (scripts/mongo-service.sh,
/// scripts/redis-service.sh).
#[tokio::test]
async fn gridfs_attachments_are_shared_by_nodes() {
    let backends = common::cluster::Backends::fresh();
    let a = Server::start_with(backends.node_opts(1)).await;
    let b = Server::start_with(backends.node_opts(2)).await;
    let owner = a.user("owner").await;
    let g = a.guild(&owner, "Grid").await;
    let bytes: Vec<u8> = (0..700_000u32).map(|i| (i % 241) as u8).collect();
    let payload = json!({"content": "grid", "attachments": [{"id": 0, "description": "big"}]});
    let m = send_files(
        &owner.api,
        &g.general,
        &[
            json_part(&payload),
            file_part("files[0]", "grid.bin", &bytes),
        ],
    )
    .await
    .ok(200);
    let url = url_of(&m["attachments"][0]);
    let on_b = url.replace(&a.base(), &b.base());
    assert_ne!(url, on_b);
    for u in [&url, &on_b] {
        let (status, ct, len, got) = fetch(u).await;
        assert_eq!(
            (status, ct.as_deref()),
            (200, Some("application/octet-stream"))
        );
        assert_eq!(len, Some(bytes.len() as u64));
        assert_eq!(got, bytes);
    }
    let owner_b = b.reauth(&owner);
    owner_b
        .api
        .delete(&format!("/channels/{}/messages/{}", g.general, sid(&m)))
        .await
        .ok(204);
    assert_eq!(fetch(&url).await.0, 404);
    assert_eq!(fetch(&on_b).await.0, 404);
    // The bytes are gone from GridFS too, not only hidden.
    let client = ::mongodb::Client::with_uri_str(&backends.mongo_uri)
        .await
        .unwrap();
    let files = client
        .database(&backends.database)
        .collection::<::mongodb::bson::Document>("attachments.files");
    assert_eq!(
        files
            .count_documents(::mongodb::bson::doc! {})
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        client
            .database(&backends.database)
            .collection::<::mongodb::bson::Document>("attachments.chunks")
            .count_documents(::mongodb::bson::doc! {})
            .await
            .unwrap(),
        0
    );
}

/// An acknowledged upload survives SIGKILL: the bytes were durable before the message was
/// committed, and both are there after a restart on the same data directory.
#[tokio::test]
async fn acknowledged_uploads_survive_a_kill() {
    let mut srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let bytes: Vec<u8> = (0..300_000u32).map(|i| (i % 239) as u8).collect();
    let m = send_files(
        &owner.api,
        &g.general,
        &[file_part("files[0]", "durable.bin", &bytes)],
    )
    .await
    .ok(200);
    let old_base = srv.base();
    srv.kill_hard();
    srv.restart().await;
    let url = url_of(&m["attachments"][0]).replace(&old_base, &srv.base());
    let (status, _, _, got) = fetch(&url).await;
    assert_eq!(status, 200);
    assert_eq!(got, bytes);
    let owner = srv.reauth(&owner);
    let read = owner.api.message(&g.general, &sid(&m)).await.ok(200);
    assert_eq!(read["attachments"], m["attachments"]);
    // No temporary files are left behind.
    let dir = srv.data_dir().join("attachments").join(&g.general);
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Webhook execute and webhook message edits take the same multipart bodies as the message
/// routes: the file is stored, served, and replaced on edit.
#[tokio::test]
async fn webhooks_upload_files_on_execute_and_edit() {
    let srv = Server::start().await;
    let (owner, g, _member) = srv.world().await;
    let hook = owner
        .api
        .post(
            &format!("/channels/{}/webhooks", g.general),
            &json!({ "name": "uploader" }),
        )
        .await
        .ok(200);
    let base = format!(
        "/webhooks/{}/{}",
        hook["id"].as_str().unwrap(),
        hook["token"].as_str().unwrap()
    );
    let anonymous = owner.api.without_auth();
    let text = b"from a webhook\n".to_vec();
    let body = multipart(&[
        json_part(&json!({
            "content": "report attached",
            "attachments": [{"id": 0, "filename": "report.txt"}],
        })),
        file_part("files[0]", "report.txt", &text),
    ]);
    let m = anonymous
        .raw("POST", &format!("{base}?wait=true"), Some(body), &ctype())
        .await
        .ok(200);
    assert_eq!(m["webhook_id"], hook["id"]);
    let attachment = &m["attachments"][0];
    assert_eq!(attachment["filename"], "report.txt");
    assert_eq!(attachment["size"], text.len());
    let (status, ct, _, bytes) = fetch(&url_of(attachment)).await;
    assert_eq!(status, 200);
    assert!(ct.unwrap().starts_with("text/plain"));
    assert_eq!(bytes, text);

    // An edit through the token replaces the file with a new one.
    let mid = m["id"].as_str().unwrap();
    let body = multipart(&[
        json_part(&json!({ "attachments": [{"id": 0, "filename": "pixel.png"}] })),
        file_part("files[0]", "pixel.png", &png()),
    ]);
    let edited = anonymous
        .raw(
            "PATCH",
            &format!("{base}/messages/{mid}"),
            Some(body),
            &ctype(),
        )
        .await
        .ok(200);
    let attachments = edited["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{edited}");
    assert_eq!(attachments[0]["filename"], "pixel.png");
    assert_eq!(attachments[0]["width"], 2);
    assert_eq!(fetch(&url_of(&attachments[0])).await.3, png());
    assert_eq!(
        fetch(&url_of(attachment)).await.0,
        404,
        "the old file is gone"
    );

    // Oversized through the webhook: 413 / 40005.
    let big = vec![b'x'; 10 * 1024 * 1024 + 1];
    let body = multipart(&[
        json_part(&json!({ "attachments": [{"id": 0, "filename": "big.bin"}] })),
        file_part("files[0]", "big.bin", &big),
    ]);
    anonymous
        .raw("POST", &format!("{base}?wait=true"), Some(body), &ctype())
        .await
        .err(413, 40005);
}
