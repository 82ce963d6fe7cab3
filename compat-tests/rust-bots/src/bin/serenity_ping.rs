//! An unmodified serenity 0.12.5 bot, pointed at an accord server.
//!
//! Usage: serenity_ping BASE_URL BOT_TOKEN TAG
//!
//! Line protocol on stdout (read by compat-tests/harness.py):
//!   READY <bot_user_id>
//!   REPLIED <reply_message_id>
//!   DONE <created_channel_id> <created_role_id>
//!   AGAIN <reply_message_id>      (every later "!ping": replied "pong" again)
//!   ERROR <text>
//! Diagnostics go to stderr.
//!
//! Pointing serenity at the server: `HttpBuilder::proxy(BASE)` replaces `https://discord.com` in
//! every route (serenity src/http/request.rs:76), but only while the rate limiter is disabled
//! (the rate limiter sends requests itself, to discord.com). The gateway URL comes from
//! `GET /api/v10/gateway` (src/client/mod.rs:364); serenity connects to `{url}?v=10`.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use serenity::all::{
    ChannelType, Context, CreateChannel, EditRole, EventHandler, GatewayIntents, HttpBuilder,
    Message, Ready,
};
use serenity::async_trait;
use serenity::client::ClientBuilder;

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn error(text: &str) {
    eprintln!("ERROR {text}");
    say(&format!("ERROR {}", text.replace('\n', " ")));
}

struct Handler {
    tag: String,
    ready: AtomicBool,
    handled: AtomicBool,
}

impl Handler {
    async fn answer(&self, ctx: &Context, msg: &Message) -> Result<(), String> {
        // Message::reply checks SEND_MESSAGES from the cache, then POSTs with message_reference.
        let reply = msg
            .reply(ctx, "pong")
            .await
            .map_err(|e| format!("reply: {e:?}"))?;
        say(&format!("REPLIED {}", reply.id));

        let guild_id = msg.guild_id.ok_or_else(|| {
            format!(
                "message {} has no guild_id (serenity took it for a DM)",
                msg.id
            )
        })?;
        let channel = guild_id
            .create_channel(
                &ctx.http,
                CreateChannel::new(format!("{}-created", self.tag)).kind(ChannelType::Text),
            )
            .await
            .map_err(|e| format!("create channel: {e:?}"))?;
        let role = guild_id
            .create_role(
                &ctx.http,
                EditRole::new().name(format!("{}-role", self.tag)),
            )
            .await
            .map_err(|e| format!("create role: {e:?}"))?;
        let me = ctx.cache.current_user().id;
        ctx.http
            .add_member_role(guild_id, me, role.id, None)
            .await
            .map_err(|e| format!("add role: {e:?}"))?;
        say(&format!("DONE {} {}", channel.id, role.id));
        Ok(())
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let guilds: Vec<String> = ready.guilds.iter().map(|g| g.id.to_string()).collect();
        eprintln!(
            "serenity 0.12.5 ready as {} ({}) session {} guilds {:?}",
            ready.user.name, ready.user.id, ready.session_id, guilds
        );
        if !self.ready.swap(true, Ordering::SeqCst) {
            say(&format!("READY {}", ready.user.id));
        }
    }

    async fn resume(&self, _ctx: Context, _: serenity::model::event::ResumedEvent) {
        eprintln!("serenity: RESUMED");
    }

    async fn message(&self, ctx: Context, msg: Message) {
        eprintln!(
            "serenity: MESSAGE_CREATE {} in {} by {} (bot={}): {:?}",
            msg.id, msg.channel_id, msg.author.id, msg.author.bot, msg.content
        );
        if msg.author.bot || msg.content != "!ping" {
            return;
        }
        if self.handled.swap(true, Ordering::SeqCst) {
            // Later pings (e.g. after a forced reconnect) only get the reply.
            match msg.reply(&ctx, "pong").await {
                Ok(again) => say(&format!("AGAIN {}", again.id)),
                Err(e) => error(&format!("reply again: {e:?}")),
            }
            return;
        }
        if let Err(e) = self.answer(&ctx, &msg).await {
            error(&e);
        }
    }
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
                error("usage: serenity_ping BASE_URL BOT_TOKEN TAG (or ACCORD_BASE / ACCORD_BOT_TOKEN)");
                std::process::exit(2);
            }
            (base, token, "serenity".to_owned())
        }
    };

    let http = HttpBuilder::new(&token)
        .proxy(base.trim_end_matches('/'))
        .ratelimiter_disabled(true)
        .build();
    let intents =
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT;
    let handler = Handler {
        tag,
        ready: AtomicBool::new(false),
        handled: AtomicBool::new(false),
    };
    let mut client = match ClientBuilder::new_with_http(http, intents)
        .event_handler(handler)
        .await
    {
        Ok(c) => c,
        Err(e) => {
            error(&format!("client build: {e:?}"));
            std::process::exit(1);
        }
    };
    if let Err(e) = client.start().await {
        error(&format!("client.start returned {e:?}"));
        std::process::exit(1);
    }
    error("client.start returned without an error");
    std::process::exit(1);
}
