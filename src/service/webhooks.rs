//! Incoming webhooks: managed by members with MANAGE_WEBHOOKS, used by anyone holding the
//! token (no authentication), posting messages under their own name through the same
//! `post_message` path as members.

use serde::Deserialize;
use serde_json::Value;

use super::audit_log::{self, Audit};
use super::messages::{AllowedMentions, Sender};
use super::{Caller, GuildAccess, MessageEdit, NewMessage, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors, StoreError};
use crate::model::audit_log::action;
use crate::model::webhook::WEBHOOK_TYPE_INCOMING;
use crate::model::{Member, Message, Snowflake, Webhook};
use crate::permissions::Permissions;

/// Most webhooks one channel holds (Discord: 15).
pub const MAX_WEBHOOKS_PER_CHANNEL: usize = 15;
/// Webhook tokens are 68 characters of `[A-Za-z0-9_-]`, as Discord's (discord.py's and
/// discord.js's URL parsers insist on the length).
const TOKEN_LEN: usize = 68;
/// Interaction tokens start with this (base64 of `interaction:`); webhook tokens never do, so
/// `/webhooks/{id}/{token}` can tell them apart.
const INTERACTION_TOKEN_PREFIX: &str = "aW50ZXJhY3Rpb246";

/// `POST /channels/{id}/webhooks` body.
#[derive(Debug, Deserialize)]
pub struct NewWebhook {
    pub name: String,
    /// A data URI (`data:image/png;base64,...`), or null.
    #[serde(default)]
    pub avatar: Option<String>,
}

/// `PATCH /webhooks/{id}[/{token}]` body: absent fields stay; `avatar: null` clears. The
/// token route ignores `channel_id`, as Discord does.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub avatar: Option<Option<String>>,
    #[serde(default)]
    pub channel_id: Option<Snowflake>,
}

/// `POST /webhooks/{id}/{token}` body, also what an interaction's responses and follow-ups
/// send (there `username`, `avatar_url` and `thread_name` are ignored, and `components` are
/// kept). Kept apart from `NewMessage` (and convertible into it) for those fields.
#[derive(Debug, Default, Deserialize)]
pub struct ExecuteWebhook {
    #[serde(default)]
    pub content: Option<String>,
    /// Overrides the webhook's name for this message.
    #[serde(default)]
    pub username: Option<String>,
    /// Overrides the webhook's avatar for this message.
    #[serde(default)]
    pub avatar_url: Option<String>,
    #[serde(default)]
    pub tts: Option<bool>,
    #[serde(default)]
    pub embeds: Option<Vec<Value>>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    #[serde(default)]
    pub flags: Option<u64>,
    /// Not kept on webhook messages (as on the normal message route); kept on interaction
    /// responses and follow-ups.
    #[serde(default)]
    pub components: Option<Vec<Value>>,
    /// Metadata of uploaded files (`id` = the `n` of `files[n]`), as on the message route.
    #[serde(default)]
    pub attachments: Option<Vec<super::files::AttachmentRef>>,
    /// The uploaded files of a multipart request (not part of the JSON).
    #[serde(skip)]
    pub files: Vec<super::files::Upload>,
    /// Only for forum channels, which do not exist here.
    #[serde(default)]
    pub thread_name: Option<String>,
}

impl ExecuteWebhook {
    /// The message part of the body, for `post_message`.
    pub fn into_message(self) -> NewMessage {
        NewMessage {
            content: self.content,
            tts: self.tts,
            embeds: self.embeds,
            flags: self.flags,
            allowed_mentions: self.allowed_mentions,
            attachments: self.attachments,
            files: self.files,
            ..NewMessage::default()
        }
    }
}

/// `POST /webhooks/{id}/{token}` query.
#[derive(Debug, Default, Deserialize)]
pub struct ExecuteQuery {
    /// `true`/`1`: answer with the message (200) instead of 204.
    #[serde(default)]
    pub wait: Option<String>,
    #[serde(default)]
    pub thread_id: Option<String>,
}

/// `GET/PATCH/DELETE /webhooks/{id}/{token}/messages/{mid}` query.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookMessageQuery {
    #[serde(default)]
    pub thread_id: Option<String>,
}

impl ExecuteQuery {
    /// Whether the caller wants the message back.
    pub fn wait(&self) -> Result<bool, ApiError> {
        match self.wait.as_deref() {
            None => Ok(false),
            Some("true" | "True" | "1") => Ok(true),
            Some("false" | "False" | "0") => Ok(false),
            Some(_) => Err(ApiError::invalid_field(
                &["wait"],
                "BOOLEAN_TYPE_CONVERT",
                "Must be either true or false.",
            )),
        }
    }
}

/// Who is looking at a webhook, which decides the fields it is shown with.
enum Viewer<'a> {
    /// A member with MANAGE_WEBHOOKS: the creator is shown, and the token unless another
    /// application made the webhook.
    Manager(&'a Caller),
    /// Someone holding the token: no creator.
    TokenHolder,
}

/// Webhook fields an audit log entry leaves out (identity, secrets, what the server sets).
const WEBHOOK_UNLOGGED: &[&str] = &["id", "guild_id", "user", "token", "url", "application_id"];

impl Service {
    /// MANAGE_WEBHOOKS in a text channel; at most 15 per channel (30007). Publishes
    /// WEBHOOKS_UPDATE. Bots' webhooks carry their application's id.
    pub async fn create_webhook(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        body: NewWebhook,
        reason: Option<String>,
    ) -> Result<Webhook, ApiError> {
        let mut form = FormErrors::default();
        check_name(&mut form, "name", &body.name);
        let avatar = body
            .avatar
            .as_deref()
            .and_then(|uri| avatar_hash(&mut form, uri));
        form.finish()?;
        let access = self
            .require_channel(caller, channel_id, Permissions::MANAGE_WEBHOOKS)
            .await?;
        if !access.channel.kind.holds_messages() {
            return Err(wrong_channel_type());
        }
        let webhook = Webhook {
            id: self.next_id(),
            kind: WEBHOOK_TYPE_INCOMING,
            guild_id: access.guild()?.guild.id,
            channel_id,
            user: Some(caller.user.user.clone()),
            name: Some(body.name),
            avatar,
            token: Some(new_token()),
            application_id: caller.is_bot().then(|| caller.id()),
            url: None,
        };
        self.store
            .create_webhook(webhook.clone(), MAX_WEBHOOKS_PER_CHANNEL)
            .await
            .map_err(too_many)?;
        let changes = audit_log::changes(None, Some(&webhook), WEBHOOK_UNLOGGED);
        let audit = Audit::new(action::WEBHOOK_CREATE, Some(webhook.id), reason).changes(changes);
        self.record_audit(webhook.guild_id, caller.id(), audit)
            .await;
        self.webhooks_update(webhook.guild_id, channel_id)?;
        Ok(self.shown(webhook, Viewer::Manager(caller)))
    }

    /// The channel's webhooks (MANAGE_WEBHOOKS there).
    pub async fn channel_webhooks(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
    ) -> Result<Vec<Webhook>, ApiError> {
        self.require_channel(caller, channel_id, Permissions::MANAGE_WEBHOOKS)
            .await?;
        let hooks = self.store.webhooks_of_channel(channel_id).await?;
        Ok(self.shown_all(hooks, caller))
    }

    /// The guild's webhooks (MANAGE_WEBHOOKS guild-wide).
    pub async fn guild_webhooks(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Vec<Webhook>, ApiError> {
        self.require_guild(caller, guild_id, Permissions::MANAGE_WEBHOOKS)
            .await?;
        let hooks = self.store.webhooks_of_guild(guild_id).await?;
        Ok(self.shown_all(hooks, caller))
    }

    /// One webhook (MANAGE_WEBHOOKS in its channel).
    pub async fn webhook(
        &self,
        caller: &Caller,
        webhook_id: Snowflake,
    ) -> Result<Webhook, ApiError> {
        let webhook = self.managed_webhook(caller, webhook_id).await?;
        Ok(self.shown(webhook, Viewer::Manager(caller)))
    }

    /// Renames, changes the avatar, or moves the webhook to another channel of the guild
    /// (MANAGE_WEBHOOKS in both). Publishes WEBHOOKS_UPDATE for each channel concerned.
    pub async fn edit_webhook(
        &self,
        caller: &Caller,
        webhook_id: Snowflake,
        patch: WebhookPatch,
        reason: Option<String>,
    ) -> Result<Webhook, ApiError> {
        let mut form = FormErrors::default();
        let avatar = check_patch(&mut form, &patch);
        form.finish()?;
        let mut webhook = self.managed_webhook(caller, webhook_id).await?;
        let before = webhook.clone();
        let old_channel = webhook.channel_id;
        if let Some(target) = patch.channel_id.filter(|id| *id != old_channel) {
            let access = self
                .require_channel(caller, target, Permissions::MANAGE_WEBHOOKS)
                .await?;
            if access.channel.guild_id != Some(webhook.guild_id) {
                return Err(ApiError::unknown_channel());
            }
            if !access.channel.kind.holds_messages() {
                return Err(wrong_channel_type());
            }
            webhook.channel_id = target;
        }
        apply_patch(&mut webhook, patch.name, avatar);
        let webhook = self.save_webhook(webhook, old_channel).await?;
        let changes = audit_log::changes(Some(&before), Some(&webhook), WEBHOOK_UNLOGGED);
        if !changes.is_empty() {
            let audit =
                Audit::new(action::WEBHOOK_UPDATE, Some(webhook_id), reason).changes(changes);
            self.record_audit(webhook.guild_id, caller.id(), audit)
                .await;
        }
        Ok(self.shown(webhook, Viewer::Manager(caller)))
    }

    /// Deletes the webhook (MANAGE_WEBHOOKS in its channel); publishes WEBHOOKS_UPDATE.
    pub async fn delete_webhook(
        &self,
        caller: &Caller,
        webhook_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let webhook = self.managed_webhook(caller, webhook_id).await?;
        let (guild_id, changes) = (
            webhook.guild_id,
            audit_log::changes(Some(&webhook), None, WEBHOOK_UNLOGGED),
        );
        self.drop_webhook(webhook).await?;
        let audit = Audit::new(action::WEBHOOK_DELETE, Some(webhook_id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        Ok(())
    }

    /// The webhook as its token holder sees it (no creator).
    pub async fn webhook_with_token(
        &self,
        webhook_id: Snowflake,
        token: &str,
    ) -> Result<Webhook, ApiError> {
        let webhook = self.token_webhook(webhook_id, token).await?;
        Ok(self.shown(webhook, Viewer::TokenHolder))
    }

    /// Name and avatar only; the token cannot move a webhook.
    pub async fn edit_webhook_with_token(
        &self,
        webhook_id: Snowflake,
        token: &str,
        patch: WebhookPatch,
    ) -> Result<Webhook, ApiError> {
        let mut form = FormErrors::default();
        let avatar = check_patch(&mut form, &patch);
        form.finish()?;
        let mut webhook = self.token_webhook(webhook_id, token).await?;
        let channel = webhook.channel_id;
        apply_patch(&mut webhook, patch.name, avatar);
        let webhook = self.save_webhook(webhook, channel).await?;
        Ok(self.shown(webhook, Viewer::TokenHolder))
    }

    pub async fn delete_webhook_with_token(
        &self,
        webhook_id: Snowflake,
        token: &str,
    ) -> Result<(), ApiError> {
        let webhook = self.token_webhook(webhook_id, token).await?;
        self.drop_webhook(webhook).await
    }

    /// Posts a message as the webhook. Webhooks are not members: they may mention @everyone,
    /// @here and every role (unless `allowed_mentions` narrows it), may send TTS, and the
    /// message has no `member`. Discord's docs (message resource, Allowed Mentions): without
    /// `allowed_mentions` mentions are parsed from the content; only interactions default to
    /// users alone, so interaction follow-ups must pass their own default.
    pub async fn execute_webhook(
        &self,
        webhook_id: Snowflake,
        token: &str,
        query: &ExecuteQuery,
        body: ExecuteWebhook,
    ) -> Result<Message, ApiError> {
        let mut form = FormErrors::default();
        if let Some(username) = &body.username {
            check_name(&mut form, "username", username);
        }
        if let Some(url) = &body.avatar_url {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
                form.add(
                    &["avatar_url"],
                    "URL_TYPE_INVALID_URL",
                    "Not a well formed URL.",
                );
            }
        }
        form.finish()?;
        query.wait()?;
        let webhook = self.token_webhook(webhook_id, token).await?;
        no_threads(query.thread_id.as_deref())?;
        if body.thread_name.is_some() {
            return Err(ApiError::new(
                400,
                220003,
                "Webhooks can only create threads in forum channels",
            ));
        }
        let (access, channel) = self.webhook_access(&webhook).await?;
        let sender = Sender {
            user: webhook.author(
                body.username.clone(),
                body.avatar_url.as_deref().map(url_hash),
            ),
            member: None,
            perms: webhook_permissions(),
            webhook_id: Some(webhook.id),
            application_id: webhook.application_id,
        };
        self.post_message(Some(&access), &channel, sender, body.into_message())
            .await
    }

    /// A message this webhook posted (10008 for any other).
    pub async fn webhook_message(
        &self,
        webhook_id: Snowflake,
        token: &str,
        message_id: Snowflake,
        query: &WebhookMessageQuery,
    ) -> Result<Message, ApiError> {
        let webhook = self.token_webhook(webhook_id, token).await?;
        no_threads(query.thread_id.as_deref())?;
        self.own_message(&webhook, message_id).await
    }

    /// Edits a message this webhook posted; mentions are parsed again with the webhook's
    /// powers. Publishes MESSAGE_UPDATE.
    pub async fn edit_webhook_message(
        &self,
        webhook_id: Snowflake,
        token: &str,
        message_id: Snowflake,
        query: &WebhookMessageQuery,
        edit: MessageEdit,
    ) -> Result<Message, ApiError> {
        if let Some(allowed) = &edit.allowed_mentions {
            allowed.validate()?;
        }
        let webhook = self.token_webhook(webhook_id, token).await?;
        no_threads(query.thread_id.as_deref())?;
        let message = self.own_message(&webhook, message_id).await?;
        let (access, channel) = self.webhook_access(&webhook).await?;
        self.apply_edit(
            Some(&access),
            &channel,
            webhook_permissions(),
            message,
            edit,
            true,
        )
        .await
    }

    /// Deletes a message this webhook posted; publishes MESSAGE_DELETE.
    pub async fn delete_webhook_message(
        &self,
        webhook_id: Snowflake,
        token: &str,
        message_id: Snowflake,
        query: &WebhookMessageQuery,
    ) -> Result<(), ApiError> {
        let webhook = self.token_webhook(webhook_id, token).await?;
        no_threads(query.thread_id.as_deref())?;
        let message = self.own_message(&webhook, message_id).await?;
        let (_, channel) = self.webhook_access(&webhook).await?;
        self.remove_message(&channel, &message).await
    }

    // ----- helpers -----

    /// The webhook, if the caller holds MANAGE_WEBHOOKS in its channel. A webhook in a guild
    /// the caller is not in answers like an unknown one (10015).
    async fn managed_webhook(
        &self,
        caller: &Caller,
        webhook_id: Snowflake,
    ) -> Result<Webhook, ApiError> {
        let webhook = self
            .store
            .webhook(webhook_id)
            .await?
            .ok_or_else(unknown_webhook)?;
        match self
            .require_channel(caller, webhook.channel_id, Permissions::MANAGE_WEBHOOKS)
            .await
        {
            Ok(_) => Ok(webhook),
            Err(err) if err.code == ApiError::unknown_channel().code => Err(unknown_webhook()),
            Err(err) => Err(err),
        }
    }

    /// The webhook, if `token` is its token: unknown is 10015, a wrong token 50027.
    async fn token_webhook(&self, webhook_id: Snowflake, token: &str) -> Result<Webhook, ApiError> {
        let webhook = self
            .store
            .webhook(webhook_id)
            .await?
            .ok_or_else(unknown_webhook)?;
        let matches = webhook
            .token
            .as_deref()
            .is_some_and(|own| constant_time_eq(own.as_bytes(), token.as_bytes()));
        if !matches {
            return Err(ApiError::new(401, 50027, "Invalid Webhook Token"));
        }
        Ok(webhook)
    }

    /// What a webhook's message needs to be posted: the guild (roles for mentions) with the
    /// webhook standing in as a member without roles, and its channel.
    async fn webhook_access(
        &self,
        webhook: &Webhook,
    ) -> Result<(GuildAccess, crate::model::Channel), ApiError> {
        let channel = self
            .store
            .channel(webhook.channel_id)
            .await?
            .ok_or_else(ApiError::unknown_channel)?;
        let guild = self
            .store
            .guild(webhook.guild_id)
            .await?
            .ok_or_else(ApiError::unknown_guild)?;
        let roles = self.store.roles_of_guild(guild.id).await?;
        let member = Member::new(guild.id, webhook.author(None, None), Vec::new());
        Ok((
            GuildAccess {
                guild,
                roles,
                member,
            },
            channel,
        ))
    }

    /// The webhook's own message in its channel, or 10008.
    async fn own_message(
        &self,
        webhook: &Webhook,
        message_id: Snowflake,
    ) -> Result<Message, ApiError> {
        self.store
            .message(webhook.channel_id, message_id)
            .await?
            .filter(|message| message.webhook_id == Some(webhook.id))
            .ok_or_else(ApiError::unknown_message)
    }

    /// Persists an edited webhook and tells both channels (when it moved).
    async fn save_webhook(
        &self,
        webhook: Webhook,
        old_channel: Snowflake,
    ) -> Result<Webhook, ApiError> {
        let updated = self
            .store
            .update_webhook(webhook.clone(), MAX_WEBHOOKS_PER_CHANNEL)
            .await
            .map_err(too_many)?;
        if !updated {
            return Err(unknown_webhook());
        }
        if old_channel != webhook.channel_id {
            self.webhooks_update(webhook.guild_id, old_channel)?;
        }
        self.webhooks_update(webhook.guild_id, webhook.channel_id)?;
        Ok(webhook)
    }

    async fn drop_webhook(&self, webhook: Webhook) -> Result<(), ApiError> {
        if !self.store.delete_webhook(webhook.id).await? {
            return Err(unknown_webhook());
        }
        self.webhooks_update(webhook.guild_id, webhook.channel_id)
    }

    /// WEBHOOKS_UPDATE `{guild_id, channel_id}` to the channel's viewers (GUILD_WEBHOOKS).
    fn webhooks_update(&self, guild_id: Snowflake, channel_id: Snowflake) -> Result<(), ApiError> {
        self.publish(
            Topic::Guild(guild_id),
            "WEBHOOKS_UPDATE",
            &serde_json::json!({ "guild_id": guild_id, "channel_id": channel_id }),
            Audience::Channel(channel_id),
            None,
        )
    }

    fn shown_all(&self, hooks: Vec<Webhook>, caller: &Caller) -> Vec<Webhook> {
        hooks
            .into_iter()
            .map(|hook| self.shown(hook, Viewer::Manager(caller)))
            .collect()
    }

    /// The webhook with the fields `viewer` may see; `url` beside a visible token.
    fn shown(&self, mut webhook: Webhook, viewer: Viewer<'_>) -> Webhook {
        match viewer {
            Viewer::TokenHolder => webhook.user = None,
            Viewer::Manager(caller) => {
                if webhook.application_id.is_some_and(|app| app != caller.id()) {
                    webhook.token = None;
                }
            }
        }
        webhook.url = webhook
            .token
            .as_ref()
            .map(|token| format!("{}/api/webhooks/{}/{}", self.urls.http, webhook.id, token));
        webhook
    }
}

/// What a webhook may do when posting: it is not a member, so no channel overwrite limits it.
fn webhook_permissions() -> Permissions {
    Permissions::VIEW_CHANNEL
        | Permissions::SEND_MESSAGES
        | Permissions::SEND_TTS_MESSAGES
        | Permissions::EMBED_LINKS
        | Permissions::ATTACH_FILES
        | Permissions::MENTION_EVERYONE
}

/// There are no threads: any `thread_id` names no thread of this channel, which Discord
/// answers with 10003 Unknown Channel. A malformed one is 50035.
fn no_threads(thread_id: Option<&str>) -> Result<(), ApiError> {
    match thread_id {
        None => Ok(()),
        Some(raw) if Snowflake::parse(raw).is_some() => Err(ApiError::unknown_channel()),
        Some(raw) => Err(ApiError::invalid_field(
            &["thread_id"],
            "NUMBER_TYPE_COERCE",
            format!("Value \"{raw}\" is not snowflake."),
        )),
    }
}

fn unknown_webhook() -> ApiError {
    ApiError::new(404, 10015, "Unknown Webhook")
}

fn wrong_channel_type() -> ApiError {
    ApiError::new(400, 50024, "Cannot execute action on this channel type")
}

/// The store's per-channel limit as Discord's 30007.
fn too_many(err: StoreError) -> ApiError {
    match err {
        StoreError::Conflict("webhooks") => ApiError::new(
            400,
            30007,
            format!("Maximum number of webhooks reached ({MAX_WEBHOOKS_PER_CHANNEL})"),
        ),
        other => other.into(),
    }
}

/// Discord's rules for webhook names (and `username` overrides): 1–80 characters, not
/// containing "clyde" or "discord" in any case.
fn check_name(form: &mut FormErrors, field: &str, name: &str) {
    super::check_length(form, field, name, 1, 80);
    let lower = name.to_lowercase();
    for banned in ["clyde", "discord"] {
        if lower.contains(banned) {
            form.add(
                &[field],
                "USERNAME_INVALID_CONTAINS",
                format!("Username cannot contain \"{banned}\""),
            );
        }
    }
}

/// Validates a PATCH body; returns the avatar change (`Some(None)` clears it).
fn check_patch(form: &mut FormErrors, patch: &WebhookPatch) -> Option<Option<String>> {
    if let Some(name) = &patch.name {
        check_name(form, "name", name);
    }
    match &patch.avatar {
        None => None,
        Some(None) => Some(None),
        Some(Some(uri)) => avatar_hash(form, uri).map(Some),
    }
}

fn apply_patch(webhook: &mut Webhook, name: Option<String>, avatar: Option<Option<String>>) {
    if let Some(name) = name {
        webhook.name = Some(name);
    }
    if let Some(avatar) = avatar {
        webhook.avatar = avatar;
    }
}

/// The hash of an avatar given as `data:image/{png,jpeg,gif,webp};base64,...` (animated
/// GIFs get Discord's `a_` prefix); adds a 50035 error and returns `None` when malformed.
fn avatar_hash(form: &mut FormErrors, uri: &str) -> Option<String> {
    use base64::Engine;
    let parsed = uri.strip_prefix("data:image/").and_then(|rest| {
        let (kind, data) = rest.split_once(";base64,")?;
        let kind = match kind {
            "png" | "jpeg" | "jpg" | "gif" | "webp" => kind,
            _ => return None,
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .ok()
            .filter(|bytes| !bytes.is_empty())?;
        Some((kind, bytes))
    });
    let Some((kind, bytes)) = parsed else {
        form.add(&["avatar"], "IMAGE_INVALID", "Invalid image data");
        return None;
    };
    let hash = hex16(&bytes);
    Some(if kind == "gif" {
        format!("a_{hash}")
    } else {
        hash
    })
}

/// The avatar hash shown for an `avatar_url` override (we do not fetch the image).
fn url_hash(url: &str) -> String {
    hex16(url.as_bytes())
}

/// 32 hex digits of SHA-256: the shape of Discord's image hashes.
fn hex16(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(bytes)[..16])
}

/// A fresh webhook token: 68 random URL-safe characters, never looking like an interaction
/// token.
fn new_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut rng = rand::thread_rng();
    loop {
        let token: String = (0..TOKEN_LEN)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        if !token.starts_with(INTERACTION_TOKEN_PREFIX) {
            return token;
        }
    }
}

/// Compares secrets without revealing through timing where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_discords_shape() {
        for _ in 0..100 {
            let token = new_token();
            assert_eq!(token.len(), TOKEN_LEN);
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            assert!(!token.starts_with(INTERACTION_TOKEN_PREFIX));
        }
    }

    #[test]
    fn names_and_avatars_are_checked() {
        let mut form = FormErrors::default();
        check_name(&mut form, "name", "Captain Hook");
        assert!(form.is_empty());
        check_name(&mut form, "name", "my CLYDE");
        check_name(&mut form, "username", &"x".repeat(81));
        let err = form.into_error();
        let errors = err.errors.unwrap();
        assert_eq!(
            errors["name"]["_errors"][0]["code"],
            "USERNAME_INVALID_CONTAINS"
        );
        assert_eq!(
            errors["username"]["_errors"][0]["code"],
            "BASE_TYPE_BAD_LENGTH"
        );

        let mut form = FormErrors::default();
        let png = avatar_hash(&mut form, "data:image/png;base64,iVBORw0KGgo=").unwrap();
        assert_eq!(png.len(), 32);
        let gif = avatar_hash(&mut form, "data:image/gif;base64,R0lGODlh").unwrap();
        assert!(gif.starts_with("a_"));
        assert!(form.is_empty());
        assert!(avatar_hash(&mut form, "data:text/plain;base64,aGk=").is_none());
        assert!(avatar_hash(&mut form, "data:image/png;base64,@@@").is_none());
        assert!(!form.is_empty());
    }

    #[test]
    fn wait_accepts_discords_spellings() {
        let q = |w: &str| ExecuteQuery {
            wait: Some(w.into()),
            thread_id: None,
        };
        assert!(q("true").wait().unwrap());
        assert!(q("1").wait().unwrap());
        assert!(!q("false").wait().unwrap());
        assert_eq!(q("maybe").wait().unwrap_err().code, 50035);
        assert!(no_threads(None).is_ok());
        assert_eq!(no_threads(Some("123")).unwrap_err().code, 10003);
        assert_eq!(no_threads(Some("abc")).unwrap_err().code, 50035);
    }
}
