//! Messages: posting (with replies, nonces, mentions) and reading history.

use serde::Deserialize;
use serde_json::Value;

use super::audit_log::Audit;
use super::{Caller, ChannelAccess, GuildAccess, Service};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::message::{MESSAGE_TYPE_DEFAULT, MESSAGE_TYPE_REPLY};
use crate::model::{Channel, Member, Message, MessageReference, Snowflake, User};
use crate::permissions::Permissions;
use crate::store::MessageWindow;

/// Longest `content` Discord accepts from bots.
pub const MAX_CONTENT_CHARS: usize = 2000;
/// How long `enforce_nonce` remembers a nonce (Discord: "a few minutes").
const NONCE_WINDOW_MS: u64 = 5 * 60 * 1000;

/// `POST /channels/{id}/messages` body (unknown fields are ignored, as Discord does).
#[derive(Debug, Default, Deserialize)]
pub struct NewMessage {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub nonce: Option<Value>,
    #[serde(default)]
    pub enforce_nonce: Option<bool>,
    #[serde(default)]
    pub tts: Option<bool>,
    #[serde(default)]
    pub embeds: Option<Vec<Value>>,
    #[serde(default)]
    pub message_reference: Option<MessageReference>,
    #[serde(default)]
    pub flags: Option<u64>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    /// Metadata of uploaded files (`id` = the `n` of `files[n]`).
    #[serde(default)]
    pub attachments: Option<Vec<super::files::AttachmentRef>>,
    /// The uploaded files of a multipart request (not part of the JSON).
    #[serde(skip)]
    pub files: Vec<super::files::Upload>,
}

/// `allowed_mentions`: which mentions written in the content count (are listed in `mentions`,
/// `mention_roles`, `mention_everyone` and notify). Absent: all of them (@everyone/@here only
/// with MENTION_EVERYONE); present: only what `parse` names or the lists allow.
#[derive(Debug, Default, Deserialize)]
pub struct AllowedMentions {
    #[serde(default)]
    pub parse: Option<Vec<String>>,
    #[serde(default)]
    pub users: Option<Vec<Snowflake>>,
    #[serde(default)]
    pub roles: Option<Vec<Snowflake>>,
    /// For replies: whether the replied-to author is mentioned.
    #[serde(default)]
    pub replied_user: Option<bool>,
}

impl AllowedMentions {
    fn parses(&self, kind: &str) -> bool {
        self.parse.iter().flatten().any(|p| p == kind)
    }

    /// Discord's rules: known `parse` values, at most 100 ids per list, and a kind is either
    /// parsed or listed, not both.
    pub(super) fn validate(&self) -> Result<(), ApiError> {
        let mut form = FormErrors::default();
        for (index, kind) in self.parse.iter().flatten().enumerate() {
            if !matches!(kind.as_str(), "users" | "roles" | "everyone") {
                form.add(
                    &["allowed_mentions", "parse", &index.to_string()],
                    "BASE_TYPE_CHOICES",
                    "Value must be one of {'users', 'roles', 'everyone'}.",
                );
            }
        }
        for (kind, list) in [("users", &self.users), ("roles", &self.roles)] {
            let listed = list.as_ref().map_or(0, Vec::len);
            if listed > 100 {
                form.add(
                    &["allowed_mentions", kind],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 100 or fewer in length.",
                );
            }
            if listed > 0 && self.parses(kind) {
                form.add(
                    &["allowed_mentions"],
                    "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                    format!("parse:[\"{kind}\"] and {kind}: [ids] are mutually exclusive."),
                );
            }
        }
        form.finish()
    }

    fn allows(&self, kind: &str, list: &Option<Vec<Snowflake>>, id: Snowflake) -> bool {
        self.parses(kind) || list.as_ref().is_some_and(|ids| ids.contains(&id))
    }
}

/// The mention fields of a message.
pub(super) struct Mentions {
    pub(super) users: Vec<User>,
    pub(super) roles: Vec<Snowflake>,
    pub(super) everyone: bool,
}

/// Who posts a new message, decided before `post_message`: the user shown as author, the
/// member beside it (none for webhooks), the permissions that decide mentions and TTS, and
/// the webhook/application that sent it.
pub(super) struct Sender {
    pub user: User,
    pub member: Option<Member>,
    pub perms: Permissions,
    pub webhook_id: Option<Snowflake>,
    pub application_id: Option<Snowflake>,
}

/// `PATCH /channels/{id}/messages/{mid}` body: absent fields stay, `null` clears.
#[derive(Debug, Default, Deserialize)]
pub struct MessageEdit {
    #[serde(default, with = "super::double_option")]
    pub content: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub embeds: Option<Option<Vec<Value>>>,
    #[serde(default, with = "super::double_option")]
    pub flags: Option<Option<u64>>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    /// The attachments to keep (by id) plus new uploads (by `files[n]` index); absent keeps all.
    #[serde(default)]
    pub attachments: Option<Vec<super::files::AttachmentRef>>,
    /// The uploaded files of a multipart request (not part of the JSON).
    #[serde(skip)]
    pub files: Vec<super::files::Upload>,
}

/// `POST /channels/{id}/messages/bulk-delete` body.
#[derive(Debug, Deserialize)]
pub struct BulkDelete {
    pub messages: Vec<Snowflake>,
}

/// The only flag a message's author or a moderator may change after sending.
const SUPPRESS_EMBEDS: u64 = 1 << 2;
/// Bulk deletion refuses messages older than this (Discord: two weeks).
const BULK_DELETE_MAX_AGE_MS: u64 = 14 * 24 * 60 * 60 * 1000;

/// Most pins a channel holds (Discord: 50).
pub const MAX_PINS: usize = 50;

/// `GET /channels/{id}/messages/pins` query.
#[derive(Debug, Default, Deserialize)]
pub struct PinsQuery {
    /// Pins made before this timestamp (ISO 8601).
    pub before: Option<String>,
    pub limit: Option<u32>,
}

/// `GET /channels/{id}/messages/pins` answer.
#[derive(Debug, serde::Serialize)]
pub struct PinList {
    pub items: Vec<crate::store::Pin>,
    pub has_more: bool,
}

/// `GET /channels/{id}/messages` query.
#[derive(Debug, Default, Deserialize)]
pub struct MessageQuery {
    pub before: Option<Snowflake>,
    pub after: Option<Snowflake>,
    pub around: Option<Snowflake>,
    pub limit: Option<u32>,
}

impl Service {
    /// Needs VIEW_CHANNEL and SEND_MESSAGES; persists, then publishes MESSAGE_CREATE.
    pub async fn create_message(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        body: NewMessage,
    ) -> Result<Message, ApiError> {
        let ChannelAccess {
            guild: access,
            channel,
            perms,
        } = self.channel_access(caller, channel_id).await?;
        if channel.kind.holds_messages() && !perms.contains(Permissions::SEND_MESSAGES) {
            return Err(ApiError::missing_permissions());
        }
        if access.is_none() {
            self.check_can_dm(caller, &channel).await?;
        }
        let sender = Sender {
            user: caller.user.user.clone(),
            member: access.as_ref().map(|access| Member {
                user: None,
                ..access.member.clone()
            }),
            perms,
            webhook_id: None,
            application_id: None,
        };
        self.post_message(access.as_ref(), &channel, sender, body)
            .await
    }

    /// What every new message goes through once its author is decided (a member, a webhook):
    /// content rules, nonce, reply, mentions as `sender.perms` allow, then persist and publish
    /// MESSAGE_CREATE.
    pub(super) async fn post_message(
        &self,
        access: Option<&GuildAccess>,
        channel: &Channel,
        sender: Sender,
        body: NewMessage,
    ) -> Result<Message, ApiError> {
        if !channel.kind.holds_messages() {
            return Err(ApiError::new(
                400,
                50008,
                "Cannot send messages in a non-text channel",
            ));
        }
        let perms = sender.perms;
        let content = body.content.unwrap_or_default();
        let embeds = body.embeds.unwrap_or_default();
        let uploads = body.files.len() + body.attachments.as_ref().map_or(0, Vec::len);
        let nonce = validate_message(&content, &embeds, body.nonce.as_ref(), uploads)?;
        if let Some(allowed) = &body.allowed_mentions {
            allowed.validate()?;
        }

        if let (Some(nonce), Some(true)) = (&nonce, body.enforce_nonce) {
            let since = Snowflake::from_timestamp_ms(now_ms().saturating_sub(NONCE_WINDOW_MS));
            let key = crate::store::nonce_key(nonce);
            if let Some(existing) = self
                .store
                .message_by_nonce(channel.id, sender.user.id, &key, since)
                .await?
            {
                return Ok(existing);
            }
        }
        let (reference, referenced) = self
            .resolve_reply(channel, perms, body.message_reference)
            .await?;
        let mentions = self
            .mentions(
                access,
                channel,
                perms,
                &content,
                body.allowed_mentions.as_ref(),
                referenced.as_deref(),
            )
            .await?;
        if !body.files.is_empty() && !perms.contains(Permissions::ATTACH_FILES) {
            return Err(ApiError::missing_permissions());
        }
        let planned = self.plan_attachments(channel.id, body.attachments, body.files, &[])?;
        let mut embeds = as_rich(embeds);
        super::files::resolve_attachment_refs(&mut embeds, &planned.attachments);

        let message = Message {
            id: self.next_id(),
            kind: if reference.is_some() {
                MESSAGE_TYPE_REPLY
            } else {
                MESSAGE_TYPE_DEFAULT
            },
            channel_id: channel.id,
            guild_id: channel.guild_id,
            author: sender.user,
            member: sender.member,
            mentions: mentions.users,
            mention_roles: mentions.roles,
            mention_everyone: mentions.everyone,
            content,
            timestamp: crate::model::now_timestamp(),
            edited_timestamp: None,
            tts: body.tts.unwrap_or(false) && perms.contains(Permissions::SEND_TTS_MESSAGES),
            attachments: planned.attachments,
            embeds,
            pinned: false,
            nonce,
            message_reference: reference,
            referenced_message: referenced,
            // Only SUPPRESS_EMBEDS (1<<2) and SUPPRESS_NOTIFICATIONS (1<<12) may be set here.
            flags: body.flags.unwrap_or(0) & ((1 << 2) | (1 << 12)),
            components: Vec::new(),
            webhook_id: sender.webhook_id,
            application_id: sender.application_id,
            reactions: Vec::new(),
            interaction_metadata: None,
            interaction: None,
        };
        let new_blobs: Vec<Snowflake> = planned.new_blobs.iter().map(|(id, _)| *id).collect();
        self.store_blobs(channel.id, message.id, planned.new_blobs)
            .await?;
        if let Err(err) = self.store.create_message(message.clone()).await {
            self.forget_blobs(channel.id, new_blobs).await;
            return Err(err.into());
        }
        if channel.guild_id.is_none() && channel.last_message_id.is_none() {
            self.announce_new_dm(channel, message.author.id)?;
        }
        self.publish_in_channel(channel, "MESSAGE_CREATE", &message, None)?;
        Ok(message)
    }

    /// History, newest first. Without READ_MESSAGE_HISTORY the list is empty (as Discord).
    pub async fn channel_messages(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        query: MessageQuery,
    ) -> Result<Vec<Message>, ApiError> {
        let limit = query.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid_field(
                &["limit"],
                "NUMBER_TYPE_MAX",
                "int value should be between 1 and 100.",
            ));
        }
        let perms = self.channel_access(caller, channel_id).await?.perms;
        if !perms.contains(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(Vec::new());
        }
        let window = match (query.around, query.before, query.after) {
            (Some(around), _, _) => MessageWindow::Around(around),
            (None, Some(before), _) => MessageWindow::Before(Some(before)),
            (None, None, Some(after)) => MessageWindow::After(after),
            (None, None, None) => MessageWindow::Before(None),
        };
        let mut messages = self.store.messages(channel_id, window, limit).await?;
        self.fill_reactions(caller.id(), &mut messages).await?;
        Ok(messages)
    }

    /// One message; needs READ_MESSAGE_HISTORY.
    pub async fn channel_message(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
    ) -> Result<Message, ApiError> {
        self.require_channel(caller, channel_id, Permissions::READ_MESSAGE_HISTORY)
            .await?;
        let mut message = [self.existing_message(channel_id, message_id).await?];
        self.fill_reactions(caller.id(), &mut message).await?;
        let [message] = message;
        Ok(message)
    }

    /// The channel's message, or 10008 Unknown Message.
    pub(super) async fn existing_message(
        &self,
        channel_id: Snowflake,
        message_id: Snowflake,
    ) -> Result<Message, ApiError> {
        self.store
            .message(channel_id, message_id)
            .await?
            .ok_or_else(ApiError::unknown_message)
    }

    /// The author edits content, embeds and flags; anyone else with MANAGE_MESSAGES may only
    /// toggle SUPPRESS_EMBEDS. Publishes MESSAGE_UPDATE with the whole message.
    pub async fn edit_message(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        edit: MessageEdit,
    ) -> Result<Message, ApiError> {
        let ChannelAccess {
            guild: access,
            channel,
            perms,
        } = self.channel_access(caller, channel_id).await?;
        let message = self.existing_message(channel_id, message_id).await?;
        if let Some(allowed) = &edit.allowed_mentions {
            allowed.validate()?;
        }
        let is_author = message.author.id == caller.id();
        if !is_author {
            let touches_body = edit.content.is_some()
                || edit.embeds.is_some()
                || edit.attachments.is_some()
                || !edit.files.is_empty();
            if touches_body || !perms.contains(Permissions::MANAGE_MESSAGES) {
                return Err(ApiError::new(
                    403,
                    50005,
                    "Cannot edit a message authored by another user",
                ));
            }
        }
        let edited = self
            .apply_edit(access.as_ref(), &channel, perms, message, edit, is_author)
            .await?;
        let mut edited = [edited];
        self.fill_reactions(caller.id(), &mut edited).await?;
        let [edited] = edited;
        Ok(edited)
    }

    /// Applies an authorized edit: content, embeds, the SUPPRESS_EMBEDS flag, mentions again
    /// when the author edits (`reparse`), then persists and publishes MESSAGE_UPDATE.
    pub(super) async fn apply_edit(
        &self,
        access: Option<&GuildAccess>,
        channel: &Channel,
        perms: Permissions,
        mut message: Message,
        edit: MessageEdit,
        reparse: bool,
    ) -> Result<Message, ApiError> {
        let (channel_id, message_id) = (message.channel_id, message.id);
        if let Some(content) = edit.content {
            message.content = content.unwrap_or_default();
        }
        if let Some(embeds) = edit.embeds {
            message.embeds = as_rich(embeds.unwrap_or_default());
        }
        if let Some(flags) = edit.flags {
            let flags = flags.unwrap_or(0);
            message.flags = (message.flags & !SUPPRESS_EMBEDS) | (flags & SUPPRESS_EMBEDS);
        }
        if !edit.files.is_empty() && !perms.contains(Permissions::ATTACH_FILES) {
            return Err(ApiError::missing_permissions());
        }
        let planned = self.plan_attachments(
            channel_id,
            edit.attachments,
            edit.files,
            &message.attachments,
        )?;
        message.attachments = planned.attachments;
        super::files::resolve_attachment_refs(&mut message.embeds, &message.attachments);
        validate_message(
            &message.content,
            &message.embeds,
            None,
            message.attachments.len(),
        )?;
        if reparse {
            let mentions = self
                .mentions(
                    access,
                    channel,
                    perms,
                    &message.content,
                    edit.allowed_mentions.as_ref(),
                    None,
                )
                .await?;
            message.mentions = mentions.users;
            message.mention_roles = mentions.roles;
            message.mention_everyone = mentions.everyone;
        }
        message.edited_timestamp = Some(crate::model::now_timestamp());
        let new_blobs: Vec<Snowflake> = planned.new_blobs.iter().map(|(id, _)| *id).collect();
        self.store_blobs(channel_id, message_id, planned.new_blobs)
            .await?;
        match self.store.update_message(message.clone()).await {
            Ok(true) => {}
            outcome => {
                self.forget_blobs(channel_id, new_blobs).await;
                outcome?;
                return Err(ApiError::unknown_message());
            }
        }
        self.forget_blobs(channel_id, planned.removed).await;
        self.publish_in_channel(channel, "MESSAGE_UPDATE", &message, None)?;
        Ok(message)
    }

    /// The author may delete their message; anyone else needs MANAGE_MESSAGES.
    pub async fn delete_message(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let ChannelAccess { channel, perms, .. } = self.channel_access(caller, channel_id).await?;
        let message = self.existing_message(channel_id, message_id).await?;
        let own = message.author.id == caller.id();
        if !own && !perms.contains(Permissions::MANAGE_MESSAGES) {
            return Err(ApiError::missing_permissions());
        }
        self.remove_message(&channel, &message).await?;
        // Discord logs only a moderator deleting someone else's message (not a webhook's).
        if let (Some(guild_id), false, None) = (channel.guild_id, own, message.webhook_id) {
            let audit = Audit::new(action::MESSAGE_DELETE, Some(message.author.id), reason)
                .options(serde_json::json!({ "channel_id": channel_id, "count": 1 }));
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        Ok(())
    }

    /// Deletes one authorized message and publishes MESSAGE_DELETE.
    pub(super) async fn remove_message(
        &self,
        channel: &Channel,
        message: &Message,
    ) -> Result<(), ApiError> {
        let (channel_id, message_id) = (channel.id, message.id);
        if self
            .store
            .delete_messages(channel_id, vec![message_id])
            .await?
            .is_empty()
        {
            return Err(ApiError::unknown_message());
        }
        if !message.attachments.is_empty() {
            self.forget_message_blobs(channel_id, vec![message_id])
                .await;
        }
        self.publish_in_channel(
            channel,
            "MESSAGE_DELETE",
            &serde_json::json!({
                "id": message_id,
                "channel_id": channel_id,
                "guild_id": channel.guild_id,
            }),
            None,
        )
    }

    /// 2–100 distinct ids, none older than two weeks, MANAGE_MESSAGES; unknown ids are
    /// skipped. One MESSAGE_DELETE_BULK with the ids that were deleted.
    pub async fn bulk_delete_messages(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        body: BulkDelete,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let count = body.messages.len();
        if count < 2 {
            return Err(ApiError::invalid_field(
                &["messages"],
                "BASE_TYPE_MIN_LENGTH",
                "Must be 2 or more in length.",
            ));
        }
        if count > 100 {
            return Err(ApiError::invalid_field(
                &["messages"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 100 or fewer in length.",
            ));
        }
        let mut ids = body.messages;
        ids.sort();
        ids.dedup();
        if ids.len() != count {
            return Err(ApiError::invalid_field(
                &["messages"],
                "BASE_TYPE_DUPLICATE_VALUES",
                "Duplicate values are not allowed.",
            ));
        }
        let oldest_allowed = now_ms().saturating_sub(BULK_DELETE_MAX_AGE_MS);
        if ids.iter().any(|id| id.timestamp_ms() < oldest_allowed) {
            return Err(ApiError::new(
                400,
                50034,
                "You can only bulk delete messages that are under 14 days old.",
            ));
        }
        let ChannelAccess { channel, .. } = self
            .require_channel(caller, channel_id, Permissions::MANAGE_MESSAGES)
            .await?;
        let deleted = self.store.delete_messages(channel_id, ids).await?;
        if deleted.is_empty() {
            return Ok(());
        }
        self.forget_message_blobs(channel_id, deleted.clone()).await;
        if let Some(guild_id) = channel.guild_id {
            let audit = Audit::new(action::MESSAGE_BULK_DELETE, Some(channel_id), reason)
                .options(serde_json::json!({ "count": deleted.len() }));
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.publish_in_channel(
            &channel,
            "MESSAGE_DELETE_BULK",
            &serde_json::json!({
                "ids": deleted,
                "channel_id": channel_id,
                "guild_id": channel.guild_id,
            }),
            None,
        )
    }

    /// Pins or unpins with PIN_MESSAGES; MESSAGE_UPDATE and CHANNEL_PINS_UPDATE when it
    /// changed. A channel holds at most 50 pins (30003).
    pub async fn set_pinned(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        pinned: bool,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let ChannelAccess { channel, .. } = self
            .require_channel(caller, channel_id, Permissions::PIN_MESSAGES)
            .await?;
        let before = self.existing_message(channel_id, message_id).await?;
        if before.pinned == pinned {
            return Ok(());
        }
        let pinned_at = pinned.then(crate::model::now_timestamp);
        let message = match self
            .store
            .set_pinned(channel_id, message_id, pinned_at.clone(), MAX_PINS)
            .await
        {
            Ok(Some(message)) => message,
            Ok(None) => return Err(ApiError::unknown_message()),
            Err(crate::error::StoreError::Conflict("pins")) => {
                return Err(ApiError::new(
                    400,
                    30003,
                    format!("Maximum number of pins reached ({MAX_PINS})"),
                ))
            }
            Err(err) => return Err(err.into()),
        };
        if let Some(guild_id) = channel.guild_id {
            let kind = if pinned {
                action::MESSAGE_PIN
            } else {
                action::MESSAGE_UNPIN
            };
            let audit = Audit::new(kind, Some(message.author.id), reason)
                .options(serde_json::json!({ "channel_id": channel_id, "message_id": message_id }));
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.publish_in_channel(&channel, "MESSAGE_UPDATE", &message, None)?;
        // A new pin is the newest; after an unpin the newest remaining one is read.
        let last_pin = match pinned_at {
            Some(at) => Some(at),
            None => self
                .store
                .pins(channel_id, None, 1)
                .await?
                .into_iter()
                .next()
                .map(|pin| pin.pinned_at),
        };
        self.publish_in_channel(
            &channel,
            "CHANNEL_PINS_UPDATE",
            &serde_json::json!({
                "guild_id": channel.guild_id,
                "channel_id": channel_id,
                "last_pin_timestamp": last_pin,
            }),
            None,
        )
    }

    /// The channel's pins, newest first (VIEW_CHANNEL; empty without READ_MESSAGE_HISTORY).
    pub async fn pins(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        query: PinsQuery,
    ) -> Result<PinList, ApiError> {
        let limit = query.limit.unwrap_or(50);
        if !(1..=50).contains(&limit) {
            return Err(ApiError::invalid_field(
                &["limit"],
                "NUMBER_TYPE_MAX",
                "int value should be between 1 and 50.",
            ));
        }
        let before = match query.before {
            Some(raw) => Some(
                chrono::DateTime::parse_from_rfc3339(&raw)
                    .map(|at| crate::model::timestamp(at.with_timezone(&chrono::Utc)))
                    .map_err(|_| {
                        ApiError::invalid_field(
                            &["before"],
                            "DATE_TIME_TYPE_PARSE",
                            "Could not parse the date-time.",
                        )
                    })?,
            ),
            None => None,
        };
        let perms = self.channel_access(caller, channel_id).await?.perms;
        if !perms.contains(Permissions::READ_MESSAGE_HISTORY) {
            return Ok(PinList {
                items: Vec::new(),
                has_more: false,
            });
        }
        let mut items = self.store.pins(channel_id, before, limit + 1).await?;
        let has_more = items.len() > limit as usize;
        items.truncate(limit as usize);
        Ok(PinList { items, has_more })
    }

    /// `POST /channels/{id}/typing`: SEND_MESSAGES; TYPING_START to the channel's viewers.
    pub async fn trigger_typing(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
    ) -> Result<(), ApiError> {
        let ChannelAccess { guild, channel, .. } = self
            .require_channel(caller, channel_id, Permissions::SEND_MESSAGES)
            .await?;
        let mut typing = serde_json::json!({
            "channel_id": channel_id,
            "guild_id": channel.guild_id,
            "user_id": caller.id(),
            "timestamp": chrono::Utc::now().timestamp(),
        });
        if let Some(guild) = guild {
            let mut member =
                serde_json::to_value(&guild.member).map_err(|_| ApiError::internal())?;
            member["user"] = serde_json::json!(caller.user.user);
            typing["member"] = member;
        }
        self.publish_in_channel(&channel, "TYPING_START", &typing, Some(caller.id()))
    }

    /// Checks a reply's target: same channel, readable, existing (unless the client said a
    /// missing target is fine, in which case the message is sent without a reference).
    async fn resolve_reply(
        &self,
        channel: &Channel,
        perms: Permissions,
        reference: Option<MessageReference>,
    ) -> Result<(Option<MessageReference>, Option<Box<Message>>), ApiError> {
        let Some(reference) = reference else {
            return Ok((None, None));
        };
        let unknown = || {
            ApiError::invalid_field(
                &["message_reference"],
                "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                "Unknown message",
            )
        };
        let Some(target_id) = reference.message_id else {
            return Err(ApiError::invalid_field(
                &["message_reference", "message_id"],
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ));
        };
        if reference.channel_id.is_some_and(|id| id != channel.id) {
            return Err(ApiError::invalid_field(
                &["message_reference"],
                "REPLIES_CANNOT_REFERENCE_OTHER_CHANNEL",
                "Cannot reply to a message in a different channel",
            ));
        }
        if !perms.contains(Permissions::READ_MESSAGE_HISTORY) {
            return Err(ApiError::new(
                403,
                160002,
                "Cannot reply without permission to read message history",
            ));
        }
        match self.store.message(channel.id, target_id).await? {
            Some(target) => Ok((
                Some(MessageReference {
                    kind: 0,
                    message_id: Some(target.id),
                    channel_id: Some(channel.id),
                    guild_id: channel.guild_id,
                    fail_if_not_exists: None,
                }),
                Some(Box::new(Message {
                    referenced_message: None,
                    ..target
                })),
            )),
            None if reference.fail_if_not_exists == Some(false) => Ok((None, None)),
            None => Err(unknown()),
        }
    }

    /// Who and what the content mentions, as `allowed_mentions` lets it (see there); a reply
    /// mentions its target's author only with `replied_user: true`.
    pub(super) async fn mentions(
        &self,
        access: Option<&GuildAccess>,
        channel: &Channel,
        perms: Permissions,
        content: &str,
        allowed: Option<&AllowedMentions>,
        replied: Option<&Message>,
    ) -> Result<Mentions, ApiError> {
        let mut users = self.mentioned_users(access, channel, content).await?;
        let mut roles = access.map_or_else(Vec::new, |access| mentioned_roles(access, content));
        let mut everyone = perms.contains(Permissions::MENTION_EVERYONE)
            && (content.contains("@everyone") || content.contains("@here"));
        if let Some(allowed) = allowed {
            users.retain(|user| allowed.allows("users", &allowed.users, user.id));
            roles.retain(|role| allowed.allows("roles", &allowed.roles, *role));
            everyone &= allowed.parses("everyone");
            if let (Some(true), Some(target)) = (allowed.replied_user, replied) {
                if !users.iter().any(|user| user.id == target.author.id) {
                    users.push(target.author.clone());
                }
            }
        }
        Ok(Mentions {
            users,
            roles,
            everyone,
        })
    }

    /// Members named as `<@id>` / `<@!id>` (replies do not mention their target by default).
    async fn mentioned_users(
        &self,
        access: Option<&GuildAccess>,
        channel: &Channel,
        content: &str,
    ) -> Result<Vec<User>, ApiError> {
        let mut users: Vec<User> = Vec::new();
        for id in mention_ids(content, "<@").chain(mention_ids(content, "<@!")) {
            if users.iter().any(|u| u.id == id) || users.len() >= 100 {
                continue;
            }
            match access {
                Some(access) => {
                    if let Some(member) = self.store.member(access.guild.id, id).await? {
                        users.extend(member.user);
                    }
                }
                None => users.extend(channel.recipients.iter().find(|u| u.id == id).cloned()),
            }
        }
        Ok(users)
    }
}

/// Roles named as `<@&id>` that exist in the guild.
fn mentioned_roles(access: &GuildAccess, content: &str) -> Vec<Snowflake> {
    let mut roles: Vec<Snowflake> = Vec::new();
    for id in mention_ids(content, "<@&") {
        if !roles.contains(&id)
            && access
                .roles
                .iter()
                .any(|r| r.id == id && r.id != access.guild.id)
        {
            roles.push(id);
        }
    }
    roles
}

/// Ids in `prefix<digits>>` markup.
fn mention_ids<'a>(content: &'a str, prefix: &'a str) -> impl Iterator<Item = Snowflake> + 'a {
    content.match_indices(prefix).filter_map(move |(at, _)| {
        let rest = &content[at + prefix.len()..];
        let end = rest.find('>')?;
        Snowflake::parse(&rest[..end])
    })
}

/// Content length, emptiness, embed count and nonce shape. Returns the nonce to keep.
pub(super) fn validate_message(
    content: &str,
    embeds: &[Value],
    nonce: Option<&Value>,
    attachments: usize,
) -> Result<Option<Value>, ApiError> {
    let mut form = FormErrors::default();
    if content.chars().count() > MAX_CONTENT_CHARS {
        form.add(
            &["content"],
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {MAX_CONTENT_CHARS} or fewer in length."),
        );
    }
    if embeds.len() > 10 {
        form.add(
            &["embeds"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 10 or fewer in length.",
        );
    }
    let mut embed_chars = 0;
    for (index, embed) in embeds.iter().enumerate() {
        embed_chars += check_embed(&mut form, &index.to_string(), embed);
    }
    if embed_chars > MAX_EMBED_TOTAL_CHARS {
        form.add(
            &["embeds"],
            "MESSAGE_EMBED_TOO_LARGE",
            format!("Embed size exceeds maximum size of {MAX_EMBED_TOTAL_CHARS}"),
        );
    }
    let nonce = match nonce {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 25 => Some(Value::String(s.clone())),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::Number(n.clone())),
        Some(_) => {
            form.add(
                &["nonce"],
                "BASE_TYPE_MAX_LENGTH",
                "Must be 25 or fewer in length.",
            );
            None
        }
    };
    form.finish()?;
    if content.trim().is_empty() && embeds.is_empty() && attachments == 0 {
        return Err(ApiError::empty_message());
    }
    Ok(nonce)
}

/// Discord's cap on the text of all embeds of one message together.
const MAX_EMBED_TOTAL_CHARS: usize = 6000;

/// Checks one embed against Discord's field limits and returns the characters it counts
/// toward the 6000-character total.
fn check_embed(form: &mut FormErrors, index: &str, embed: &Value) -> usize {
    let Some(object) = embed.as_object() else {
        form.add(
            &["embeds", index],
            "MODEL_TYPE_CONVERT",
            "Only dictionaries may be used in a ModelType",
        );
        return 0;
    };
    let fields = object.get("fields").and_then(Value::as_array);
    if fields.is_some_and(|fields| fields.len() > 25) {
        form.add(
            &["embeds", index, "fields"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 25 or fewer in length.",
        );
    }
    let mut total = 0;
    let mut text = |path: &[&str], value: &Value, max: usize| {
        let Some(value) = value.as_str() else {
            if !value.is_null() {
                form.add(
                    path,
                    "STRING_TYPE_CONVERT",
                    "Could not interpret value as string.",
                );
            }
            return;
        };
        let len = value.trim().chars().count();
        total += len;
        if len > max {
            form.add(
                path,
                "BASE_TYPE_MAX_LENGTH",
                format!("Must be {max} or fewer in length."),
            );
        }
    };
    text(&["embeds", index, "title"], &embed["title"], 256);
    text(
        &["embeds", index, "description"],
        &embed["description"],
        4096,
    );
    text(
        &["embeds", index, "footer", "text"],
        &embed["footer"]["text"],
        2048,
    );
    text(
        &["embeds", index, "author", "name"],
        &embed["author"]["name"],
        256,
    );
    if let Some(fields) = fields {
        for (n, field) in fields.iter().enumerate() {
            let n = n.to_string();
            text(
                &["embeds", index, "fields", &n, "name"],
                &field["name"],
                256,
            );
            text(
                &["embeds", index, "fields", &n, "value"],
                &field["value"],
                1024,
            );
        }
    }
    total
}

/// Embeds made through the API are always of type `rich`.
pub(super) fn as_rich(mut embeds: Vec<Value>) -> Vec<Value> {
    for embed in &mut embeds {
        if let Some(object) = embed.as_object_mut() {
            object.insert("type".into(), Value::String("rich".into()));
        }
    }
    embeds
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mention_markup_is_parsed() {
        let ids: Vec<_> = mention_ids("hi <@12> and <@!34> <@x> <@&56>", "<@").collect();
        assert_eq!(ids, vec![Snowflake(12)]);
        let ids: Vec<_> = mention_ids("<@!34>", "<@!").collect();
        assert_eq!(ids, vec![Snowflake(34)]);
    }

    #[test]
    fn content_rules() {
        assert_eq!(
            validate_message("   ", &[], None, 0).unwrap_err().code,
            50006
        );
        let long = "x".repeat(2001);
        let err = validate_message(&long, &[], None, 0).unwrap_err();
        assert_eq!(err.code, 50035);
        assert_eq!(
            err.errors.unwrap()["content"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        assert!(validate_message(&"é".repeat(2000), &[], None, 0).is_ok());
    }

    #[test]
    fn embed_limits_point_at_the_field() {
        let embeds = vec![
            serde_json::json!({ "title": "ok" }),
            serde_json::json!({ "title": "t".repeat(257), "fields": [{ "name": "n", "value": "v".repeat(1025) }] }),
        ];
        let errors = validate_message("", &embeds, None, 0)
            .unwrap_err()
            .errors
            .unwrap();
        assert_eq!(
            errors["embeds"]["1"]["title"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        assert_eq!(
            errors["embeds"]["1"]["fields"]["0"]["value"]["_errors"][0]["code"],
            "BASE_TYPE_MAX_LENGTH"
        );
        let big: Vec<Value> = (0..2)
            .map(|_| serde_json::json!({ "description": "d".repeat(3500) }))
            .collect();
        let errors = validate_message("", &big, None, 0)
            .unwrap_err()
            .errors
            .unwrap();
        assert_eq!(
            errors["embeds"]["_errors"][0]["code"],
            "MESSAGE_EMBED_TOO_LARGE"
        );
    }
}
