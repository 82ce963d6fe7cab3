//! An unmodified twilight 0.18.0 bot (gateway with zstd-stream compression, http, model),
//! pointed at an accord server.
//!
//! Usage: twilight_ping BASE_URL BOT_TOKEN TAG
//!
//! Line protocol on stdout (read by compat-tests/harness.py):
//!   READY <bot_user_id>
//!   REPLIED <reply_message_id>
//!   DONE <created_channel_id> <created_role_id>
//!   AGAIN <reply_message_id>      (every later "!ping": replied "pong" again)
//!   ERROR <text>
//! Diagnostics go to stderr.
//!
//! Pointing twilight at the server: the HTTP client's `proxy("127.0.0.1:PORT", true)` sends
//! every request to `http://127.0.0.1:PORT/api/v10/...`; the gateway's `proxy_url("ws://...")`
//! makes the shard connect to `{proxy_url}/?v=10&encoding=json&compress=zstd-stream` (the
//! `zstd` feature is on). Twilight asks for no REST at start-up.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use twilight_gateway::{ConfigBuilder, Event, EventTypeFlags, Intents, Shard, ShardId, StreamExt};
use twilight_http::Client;
use twilight_model::channel::{ChannelType, Message};
use twilight_model::id::{marker::MessageMarker, Id};

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn error(text: &str) {
    eprintln!("ERROR {text}");
    say(&format!("ERROR {}", text.replace('\n', " ")));
}

/// `create_message(..).reply(id)`: POST /channels/{id}/messages with message_reference.
async fn reply(http: &Client, msg: &Message) -> Result<Id<MessageMarker>, String> {
    let reply = http
        .create_message(msg.channel_id)
        .content("pong")
        .reply(msg.id)
        .await
        .map_err(|e| format!("reply: {e:?}"))?
        .model()
        .await
        .map_err(|e| format!("reply body: {e:?}"))?;
    Ok(reply.id)
}

async fn answer(http: &Client, tag: &str, msg: &Message) -> Result<(), String> {
    let reply_id = reply(http, msg).await?;
    say(&format!("REPLIED {reply_id}"));

    let guild_id = msg.guild_id.ok_or_else(|| {
        format!(
            "message {} has no guild_id (twilight took it for a DM)",
            msg.id
        )
    })?;
    let channel_name = format!("{tag}-created");
    let channel = http
        .create_guild_channel(guild_id, &channel_name)
        .kind(ChannelType::GuildText)
        .await
        .map_err(|e| format!("create channel: {e:?}"))?
        .model()
        .await
        .map_err(|e| format!("create channel body: {e:?}"))?;
    let role_name = format!("{tag}-role");
    let role = http
        .create_role(guild_id)
        .name(&role_name)
        .await
        .map_err(|e| format!("create role: {e:?}"))?
        .model()
        .await
        .map_err(|e| format!("create role body: {e:?}"))?;
    let me = http
        .current_user()
        .await
        .map_err(|e| format!("current user: {e:?}"))?
        .model()
        .await
        .map_err(|e| format!("current user body: {e:?}"))?;
    http.add_guild_member_role(guild_id, me.id, role.id)
        .await
        .map_err(|e| format!("add role: {e:?}"))?;
    say(&format!("DONE {} {}", channel.id, role.id));
    Ok(())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, token, tag) = match args.as_slice() {
        [_, base, token, tag, ..] => (base.clone(), token.clone(), tag.clone()),
        _ => {
            let base = std::env::var("ACCORD_BASE").unwrap_or_default();
            let token = std::env::var("ACCORD_BOT_TOKEN").unwrap_or_default();
            if base.is_empty() || token.is_empty() {
                error("usage: twilight_ping BASE_URL BOT_TOKEN TAG (or ACCORD_BASE / ACCORD_BOT_TOKEN)");
                std::process::exit(2);
            }
            (base, token, "twilight".to_owned())
        }
    };
    // "http://127.0.0.1:PORT" -> host:port for the HTTP proxy, ws://host:port for the gateway.
    let Some(authority) = base
        .trim_end_matches('/')
        .strip_prefix("http://")
        .map(str::to_owned)
    else {
        error(&format!("BASE_URL must be http://HOST:PORT, got {base}"));
        std::process::exit(2);
    };

    let http = Arc::new(
        Client::builder()
            .token(token.clone())
            .proxy(authority.clone(), true)
            .build(),
    );
    let intents = Intents::GUILDS | Intents::GUILD_MESSAGES | Intents::MESSAGE_CONTENT;
    let config = ConfigBuilder::new(token, intents)
        .proxy_url(format!("ws://{authority}"))
        .build();
    let mut shard = Shard::with_config(ShardId::ONE, config);

    let ready = AtomicBool::new(false);
    let handled = Arc::new(AtomicBool::new(false));
    let tag = Arc::new(tag);

    while let Some(item) = shard.next_event(EventTypeFlags::all()).await {
        let event = match item {
            Ok(event) => event,
            Err(e) => {
                // Twilight reconnects by itself; a fatal close ends the stream.
                eprintln!("twilight: receive error: {e:?}");
                continue;
            }
        };
        match event {
            Event::Ready(r) => {
                let guilds: Vec<String> = r.guilds.iter().map(|g| g.id.to_string()).collect();
                eprintln!(
                    "twilight 0.18.0 ready as {} ({}) session {} guilds {:?}",
                    r.user.name, r.user.id, r.session_id, guilds
                );
                if !ready.swap(true, Ordering::SeqCst) {
                    say(&format!("READY {}", r.user.id));
                }
            }
            Event::Resumed => eprintln!("twilight: RESUMED"),
            Event::GatewayReconnect => eprintln!("twilight: op 7 RECONNECT"),
            Event::GatewayInvalidateSession(resumable) => {
                eprintln!("twilight: op 9 INVALID_SESSION resumable={resumable}")
            }
            Event::GuildCreate(g) => eprintln!("twilight: GUILD_CREATE {}", g.id()),
            Event::MessageCreate(m) => {
                let msg: Message = m.message;
                eprintln!(
                    "twilight: MESSAGE_CREATE {} in {} by {} (bot={}): {:?}",
                    msg.id, msg.channel_id, msg.author.id, msg.author.bot, msg.content
                );
                if msg.author.bot || msg.content != "!ping" {
                    continue;
                }
                let first = !handled.swap(true, Ordering::SeqCst);
                let http = Arc::clone(&http);
                let tag = Arc::clone(&tag);
                tokio::spawn(async move {
                    if first {
                        if let Err(e) = answer(&http, &tag, &msg).await {
                            error(&e);
                        }
                    } else {
                        // Later pings (e.g. after a forced reconnect) only get the reply.
                        match reply(&http, &msg).await {
                            Ok(id) => say(&format!("AGAIN {id}")),
                            Err(e) => error(&format!("reply again: {e}")),
                        }
                    }
                });
            }
            _ => {}
        }
    }
    error("twilight gateway stream ended (fatal close)");
    std::process::exit(1);
}
