//! Interactions, end to end: a user's client invokes a command or clicks a component
//! (`POST /interactions`), the bot hears INTERACTION_CREATE, answers once through the callback
//! (within 3 seconds), and follows up through the interaction's webhook token for 15 minutes.
//! The interaction records live in the store, so any node takes the callback and follow-ups.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::access::DM_PERMISSIONS;
use super::files::Upload;
use super::messages::{as_rich, validate_message, AllowedMentions};
use super::webhooks::ExecuteWebhook;
use super::{Caller, ChannelAccess, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::command::{
    interaction_type as itype, option_type, CHAT_INPUT, MESSAGE_COMMAND, USER_COMMAND,
};
use crate::model::message::{
    MESSAGE_TYPE_CHAT_INPUT_COMMAND, MESSAGE_TYPE_CONTEXT_MENU_COMMAND, MESSAGE_TYPE_DEFAULT,
};
use crate::model::{
    Application, ApplicationCommand, Attachment, Channel, CommandOption, InteractionRecord, Member,
    Message, Snowflake,
};
use crate::permissions::Permissions;

/// Every interaction token starts with this (base64 of `interaction:`), as Discord's do; webhook
/// tokens never do, which is how `/webhooks/{id}/{token}` tells the two apart.
pub const TOKEN_PREFIX: &str = "aW50ZXJhY3Rpb246";
/// How long the first response may take (Discord: 3 seconds).
pub const RESPONSE_DEADLINE_MS: u64 = 3_000;
/// How long the token takes follow-ups (Discord: 15 minutes); `--interaction-token-secs`.
pub const DEFAULT_TOKEN_TTL_MS: u64 = 15 * 60 * 1000;

/// Message flags an interaction response may carry.
const EPHEMERAL: u64 = 1 << 6;
const LOADING: u64 = 1 << 7;
const SETTABLE_FLAGS: u64 = (1 << 2) | EPHEMERAL | (1 << 12);
/// Interaction context types (`context`, and a command's `contexts`).
mod context {
    pub const GUILD: u8 = 0;
    pub const BOT_DM: u8 = 1;
}
/// Callback types.
mod callback {
    pub const PONG: u8 = 1;
    pub const CHANNEL_MESSAGE: u8 = 4;
    pub const DEFERRED_CHANNEL_MESSAGE: u8 = 5;
    pub const DEFERRED_UPDATE_MESSAGE: u8 = 6;
    pub const UPDATE_MESSAGE: u8 = 7;
    pub const AUTOCOMPLETE_RESULT: u8 = 8;
    pub const MODAL: u8 = 9;
}
/// What discord.py and discord.js expect for a guild without boosts (10 MiB).
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// `POST /interactions`: what Discord's own client sends when a user runs a command, clicks a
/// component or submits a modal.
#[derive(Debug, Deserialize)]
pub struct InteractionInvoke {
    #[serde(rename = "type")]
    pub kind: u8,
    pub application_id: Snowflake,
    #[serde(default)]
    pub guild_id: Option<Snowflake>,
    pub channel_id: Snowflake,
    #[serde(default)]
    pub session_id: Option<String>,
    /// The message a component is on (type 3).
    #[serde(default)]
    pub message_id: Option<Snowflake>,
    #[serde(default)]
    pub data: Value,
    #[serde(default)]
    pub nonce: Option<Value>,
}

/// `POST /interactions/{id}/{token}/callback` body.
#[derive(Debug, Deserialize)]
pub struct InteractionCallback {
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(default)]
    pub data: Option<Value>,
    /// Files of a multipart type 4 response (`files[n]`, described by `data.attachments`).
    #[serde(skip)]
    pub files: Vec<Upload>,
}

/// An edit of a message sent through an interaction's token; absent fields stay.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookMessageEdit {
    #[serde(default, with = "super::double_option")]
    pub content: Option<Option<String>>,
    #[serde(default, with = "super::double_option")]
    pub embeds: Option<Option<Vec<Value>>>,
    #[serde(default, with = "super::double_option")]
    pub components: Option<Option<Vec<Value>>>,
    #[serde(default)]
    pub allowed_mentions: Option<AllowedMentions>,
    #[serde(default, with = "super::double_option")]
    pub flags: Option<Option<u64>>,
}

/// `?wait=&thread_id=` of a follow-up (interaction follow-ups always return the message).
#[derive(Debug, Default, Deserialize)]
pub struct FollowupQuery {
    #[serde(default)]
    pub wait: Option<String>,
    #[serde(default)]
    pub with_response: Option<String>,
}

fn unknown_interaction() -> ApiError {
    ApiError::new(404, 10062, "Unknown interaction")
}

fn already_acknowledged() -> ApiError {
    ApiError::new(400, 40060, "Interaction has already been acknowledged.")
}

fn unknown_webhook() -> ApiError {
    ApiError::new(404, 10015, "Unknown Webhook")
}

fn invalid_webhook_token() -> ApiError {
    ApiError::new(401, 50027, "Invalid Webhook Token")
}

fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis() as u64
}

/// Compares two secrets without stopping at the first difference.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The interaction id a token was made for (`interaction:<id>:<secret>`, base64).
fn token_interaction_id(token: &str) -> Option<Snowflake> {
    if !token.starts_with(TOKEN_PREFIX) {
        return None;
    }
    let raw = URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let mut parts = text.split(':');
    (parts.next()? == "interaction")
        .then(|| parts.next().and_then(Snowflake::parse))
        .flatten()
}

fn make_token(id: Snowflake) -> String {
    use rand::RngCore;
    let mut secret = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut secret);
    let secret = hex::encode(secret);
    URL_SAFE_NO_PAD.encode(format!("interaction:{id}:{secret}"))
}

fn json_of<T: serde::Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|_| ApiError::internal())
}

/// A member as interactions carry it: with `user` and the permissions computed in the channel.
fn member_with_permissions(
    member: &Member,
    user: &crate::model::User,
    perms: Permissions,
) -> Result<Value, ApiError> {
    let mut value = json_of(&Member {
        user: Some(user.clone()),
        ..member.clone()
    })?;
    value["permissions"] = json!(perms.bits().to_string());
    Ok(value)
}

impl Service {
    /// `POST /interactions` (user token): checks that the user may use the command (or
    /// component), records the interaction and sends INTERACTION_CREATE to the bot.
    pub async fn invoke_interaction(
        &self,
        caller: &Caller,
        body: InteractionInvoke,
        uploads: Vec<Upload>,
    ) -> Result<(), ApiError> {
        caller.require_user()?;
        if ![
            itype::APPLICATION_COMMAND,
            itype::MESSAGE_COMPONENT,
            itype::AUTOCOMPLETE,
            itype::MODAL_SUBMIT,
        ]
        .contains(&body.kind)
        {
            return Err(ApiError::invalid_field(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be one of {2, 3, 4, 5}.",
            ));
        }
        let ChannelAccess {
            guild: access,
            channel,
            perms,
        } = self.channel_access(caller, body.channel_id).await?;
        let app = self
            .store
            .application(body.application_id)
            .await?
            .ok_or_else(ApiError::unknown_application)?;
        // Context 0: a channel of a guild the application is in; 1: the DM with its bot.
        // Private channels (context 2, user-installed apps) are not supported.
        let (context_type, bot_member) = match &access {
            Some(access) => {
                if body.guild_id.is_some_and(|g| g != access.guild.id) {
                    return Err(ApiError::unknown_channel());
                }
                let bot_member = self
                    .store
                    .member(access.guild.id, app.id)
                    .await?
                    .ok_or_else(ApiError::unknown_application)?;
                (context::GUILD, Some(bot_member))
            }
            None => {
                if body.guild_id.is_some() || !channel.has_recipient(app.id) {
                    return Err(ApiError::new(
                        403,
                        50003,
                        "Cannot execute action on a DM channel",
                    ));
                }
                (context::BOT_DM, None)
            }
        };
        let guild_id = access.as_ref().map(|a| a.guild.id);
        let owners = json!({ "0": guild_id.map_or_else(|| json!("0"), |g| json!(g)) });

        let id = self.next_id();
        let mut context = Map::new();
        context.insert("user".into(), json_of(&caller.user.user)?);
        context.insert("nonce".into(), body.nonce.clone().unwrap_or(Value::Null));
        let mut metadata = json!({
            "id": id,
            "type": body.kind,
            "user": caller.user.user,
            "authorizing_integration_owners": owners,
        });
        let mut payload_message: Option<Message> = None;
        // Files of attachment options: their objects (kept with the interaction so their URLs
        // answer while its token lives) and bytes.
        let mut uploaded = Uploaded::default();
        let data = match body.kind {
            itype::APPLICATION_COMMAND | itype::AUTOCOMPLETE => {
                if !perms.contains(Permissions::USE_APPLICATION_COMMANDS) {
                    return Err(ApiError::missing_permissions());
                }
                let command = self.invoked_command(&app, guild_id, &body.data).await?;
                check_command_context(&command, context_type, &channel)?;
                if let Some(access) = &access {
                    if !self
                        .may_use_command(access, &channel, perms, &command)
                        .await?
                    {
                        return Err(ApiError::missing_permissions());
                    }
                }
                context.insert("name".into(), json!(command.name));
                context.insert("command_type".into(), json!(command.kind));
                metadata["name"] = json!(command.name);
                metadata["command_type"] = json!(command.kind);
                if command.kind == USER_COMMAND {
                    if let Some(target) = body.data.get("target_id") {
                        metadata["target_user"] = json!({ "id": target });
                    }
                }
                if command.kind == MESSAGE_COMMAND {
                    if let Some(target) = body.data.get("target_id") {
                        metadata["target_message_id"] = target.clone();
                    }
                }
                let request = CommandRequest {
                    access: access.as_ref(),
                    channel: &channel,
                    command: &command,
                    data: &body.data,
                    uploads: &uploads,
                };
                self.command_data(request, &mut uploaded).await?
            }
            itype::MESSAGE_COMPONENT => {
                let message_id = body.message_id.ok_or_else(|| {
                    ApiError::invalid_field(
                        &["message_id"],
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
                })?;
                let message = self
                    .store
                    .message(channel.id, message_id)
                    .await?
                    .ok_or_else(ApiError::unknown_message)?;
                if message.author.id != app.id {
                    return Err(ApiError::unknown_message());
                }
                let custom_id = body.data.get("custom_id").and_then(Value::as_str);
                let component_type = body.data.get("component_type").and_then(Value::as_u64);
                let found = custom_id.and_then(|id| find_component(&message.components, id));
                let Some(component) = found else {
                    return Err(ApiError::invalid_field(
                        &["data", "custom_id"],
                        "COMPONENT_NOT_FOUND",
                        "The component does not exist on this message",
                    ));
                };
                if component_type.is_some_and(|t| Some(t) != component["type"].as_u64()) {
                    return Err(ApiError::invalid_field(
                        &["data", "component_type"],
                        "BASE_TYPE_CHOICES",
                        "The component type does not match",
                    ));
                }
                context.insert("message_id".into(), json!(message.id));
                metadata["interacted_message_id"] = json!(message.id);
                let mut data = json!({
                    "custom_id": custom_id,
                    "component_type": component["type"],
                });
                if let Some(values) = body.data.get("values") {
                    data["values"] = values.clone();
                }
                payload_message = Some(message);
                data
            }
            _ => {
                // A modal submit answers the modal an earlier interaction of this user opened:
                // `data.id` names that interaction.
                let opener = data_id(&body.data)?;
                let record = self
                    .store
                    .interaction(opener)
                    .await?
                    .filter(|r| {
                        r.user_id == caller.id()
                            && r.application_id == app.id
                            && r.response == Some(callback::MODAL)
                            && now_ms() <= r.created_ms + self.interaction_token_ttl_ms
                    })
                    .ok_or_else(unknown_interaction)?;
                let custom_id = body.data.get("custom_id").cloned().unwrap_or(Value::Null);
                if record.context.get("modal_custom_id") != Some(&custom_id) {
                    return Err(ApiError::invalid_field(
                        &["data", "custom_id"],
                        "INTERACTION_MODAL_CUSTOM_ID_INVALID",
                        "The custom_id does not match the modal that was opened",
                    ));
                }
                if let Some(message_id) = record
                    .context
                    .get("message_id")
                    .and_then(|v| v.as_str().and_then(Snowflake::parse))
                {
                    context.insert("message_id".into(), json!(message_id));
                    payload_message = self.store.message(channel.id, message_id).await?;
                }
                if let Some(meta) = record.context.get("metadata") {
                    metadata["triggering_interaction_metadata"] = meta.clone();
                }
                json!({
                    "custom_id": custom_id,
                    "components": body.data.get("components").cloned().unwrap_or(json!([])),
                })
            }
        };
        let mut legacy = json!({
            "id": id,
            "type": body.kind,
            "user": caller.user.user,
        });
        if let Some(name) = context.get("name") {
            legacy["name"] = name.clone();
        }
        context.insert("metadata".into(), metadata);
        context.insert("interaction".into(), legacy);
        if !uploaded.attachments.is_empty() {
            context.insert("attachments".into(), json_of(&uploaded.attachments)?);
            self.store_blobs(channel.id, id, uploaded.blobs).await?;
        }

        let token = make_token(id);
        let record = InteractionRecord {
            id,
            application_id: app.id,
            token: token.clone(),
            kind: body.kind,
            created_ms: now_ms(),
            guild_id,
            channel_id: channel.id,
            user_id: caller.id(),
            context: Value::Object(context),
            response: None,
            original_message_id: None,
            ephemeral: Vec::new(),
        };
        self.forget_expired_interactions().await?;
        self.store.create_interaction(record).await?;

        let mut payload = json!({
            "id": id,
            "application_id": app.id,
            "type": body.kind,
            "data": data,
            "channel_id": channel.id,
            "channel": channel,
            "token": token,
            "version": 1,
            "locale": caller.user.locale,
            "entitlements": [],
            "authorizing_integration_owners": owners,
            "context": context_type,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        match (&access, &bot_member) {
            (Some(access), Some(bot_member)) => {
                let app_perms = access.in_channel_of(bot_member, &channel);
                payload["guild_id"] = json!(access.guild.id);
                payload["guild"] = json!({
                    "id": access.guild.id,
                    "locale": access.guild.preferred_locale,
                    "features": access.guild.features,
                });
                payload["member"] =
                    member_with_permissions(&access.member, &caller.user.user, perms)?;
                payload["app_permissions"] = json!(app_perms.bits().to_string());
                payload["guild_locale"] = json!(access.guild.preferred_locale);
            }
            _ => {
                // In a DM: the user instead of a member, and the DM permission set.
                payload["user"] = json_of(&caller.user.user)?;
                payload["app_permissions"] = json!(DM_PERMISSIONS.bits().to_string());
            }
        }
        if let Some(message) = payload_message {
            payload["message"] = json_of(&message)?;
        }
        self.publish(
            Topic::User(app.id),
            "INTERACTION_CREATE",
            &payload,
            Audience::Everyone,
            None,
        )?;
        // The invoking client hears that its interaction went out (Discord's client matches it
        // to its nonce).
        self.publish(
            Topic::User(caller.id()),
            "INTERACTION_CREATE",
            &json!({ "id": id, "nonce": body.nonce }),
            Audience::Everyone,
            None,
        )?;
        Ok(())
    }

    /// Forgets interactions whose tokens expired, and the bytes they owned (attachment options,
    /// files of ephemeral messages).
    async fn forget_expired_interactions(&self) -> Result<(), ApiError> {
        let before = now_ms().saturating_sub(self.interaction_token_ttl_ms);
        for record in self.store.interactions_before(before).await? {
            let owns_files = record.context.get("attachments").is_some()
                || record.ephemeral.iter().any(|m| !m.attachments.is_empty());
            if owns_files {
                self.forget_message_blobs(record.channel_id, vec![record.id])
                    .await;
            }
        }
        self.store.delete_interactions_before(before).await?;
        Ok(())
    }

    /// The command `data.id` names: the application's global command or one of this guild's,
    /// of the type and version the client believes it is.
    async fn invoked_command(
        &self,
        app: &Application,
        guild_id: Option<Snowflake>,
        data: &Value,
    ) -> Result<ApplicationCommand, ApiError> {
        let id = data_id(data)?;
        let command = self
            .store
            .command(app.id, id)
            .await?
            .filter(|c| c.guild_id.is_none() || c.guild_id == guild_id)
            .ok_or_else(super::commands::unknown_command)?;
        if let Some(kind) = data.get("type").and_then(Value::as_u64) {
            if kind != u64::from(command.kind) {
                return Err(super::commands::unknown_command());
            }
        }
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            if name != command.name {
                return Err(super::commands::unknown_command());
            }
        }
        let version = data.get("version").and_then(snowflake_value);
        if version.is_some_and(|v| v != command.version) {
            return Err(ApiError::invalid_field(
                &["data", "version"],
                "INTERACTION_APPLICATION_COMMAND_INVALID_VERSION",
                "This command is outdated, please try again in a few minutes",
            ));
        }
        Ok(command)
    }

    /// The `data` the bot receives for a command: the options the user gave, checked against
    /// the command's definition, with `resolved` users, members, roles, channels and messages.
    async fn command_data(
        &self,
        request: CommandRequest<'_>,
        uploaded: &mut Uploaded,
    ) -> Result<Value, ApiError> {
        let CommandRequest {
            access,
            channel,
            command,
            data,
            uploads,
        } = request;
        let mut out = json!({
            "id": command.id,
            "name": command.name,
            "type": command.kind,
        });
        if let Some(guild_id) = command.guild_id {
            out["guild_id"] = json!(guild_id);
        }
        let mut resolved = Resolved::default();
        match command.kind {
            CHAT_INPUT => {
                let given = data.get("options").cloned().unwrap_or(json!([]));
                let mut options =
                    check_given_options(&given, &command.options, &["data", "options"])?;
                for (kind, value) in referenced_ids(&options) {
                    self.resolve(access, channel, kind, value, &mut resolved)
                        .await?;
                }
                self.attach_uploads(&mut options, uploads, channel.id, &mut resolved, uploaded)?;
                if !options.is_empty() {
                    out["options"] = Value::Array(options);
                }
            }
            _ => {
                let target = data
                    .get("target_id")
                    .and_then(snowflake_value)
                    .ok_or_else(|| {
                        ApiError::invalid_field(
                            &["data", "target_id"],
                            "BASE_TYPE_REQUIRED",
                            "This field is required",
                        )
                    })?;
                out["target_id"] = json!(target);
                if command.kind == USER_COMMAND {
                    if !self
                        .resolve(access, channel, option_type::USER, target, &mut resolved)
                        .await?
                    {
                        return Err(ApiError::unknown_user());
                    }
                } else {
                    let message = self
                        .store
                        .message(channel.id, target)
                        .await?
                        .ok_or_else(ApiError::unknown_message)?;
                    resolved
                        .messages
                        .insert(target.to_string(), json_of(&message)?);
                }
            }
        }
        if !resolved.is_empty() {
            out["resolved"] = resolved.into_value();
        }
        Ok(out)
    }

    /// Turns attachment options (their value: the `n` of the request's `files[n]`) into
    /// attachments: the option's value becomes the attachment's id, the object goes into
    /// `resolved.attachments` and `uploaded`. An option naming no uploaded file is a 50035.
    fn attach_uploads(
        &self,
        options: &mut [Value],
        uploads: &[Upload],
        channel_id: Snowflake,
        resolved: &mut Resolved,
        uploaded: &mut Uploaded,
    ) -> Result<(), ApiError> {
        for option in options.iter_mut() {
            if let Some(nested) = option.get_mut("options").and_then(Value::as_array_mut) {
                self.attach_uploads(nested, uploads, channel_id, resolved, uploaded)?;
            }
            if option["type"].as_u64() != Some(u64::from(option_type::ATTACHMENT)) {
                continue;
            }
            let index = option["value"].as_str().and_then(|v| v.parse::<u64>().ok());
            let Some(file) = uploads.iter().find(|f| Some(f.index) == index) else {
                return Err(ApiError::invalid_field(
                    &["data", "options"],
                    "ATTACHMENT_NOT_FOUND",
                    "An attachment option names no uploaded file",
                ));
            };
            let attachment = self.upload_attachment(channel_id, file);
            option["value"] = json!(attachment.id);
            resolved
                .attachments
                .insert(attachment.id.to_string(), json_of(&attachment)?);
            uploaded.blobs.push((attachment.id, file.bytes.clone()));
            uploaded.attachments.push(attachment);
        }
        Ok(())
    }

    /// Adds the object an option's id names to `resolved`; false when there is none.
    async fn resolve(
        &self,
        access: Option<&GuildAccess>,
        channel: &crate::model::Channel,
        kind: u8,
        id: Snowflake,
        resolved: &mut Resolved,
    ) -> Result<bool, ApiError> {
        let key = id.to_string();
        let Some(access) = access else {
            // In a DM: users, and the DM itself as a channel.
            if matches!(kind, option_type::USER | option_type::MENTIONABLE) {
                if let Some(record) = self.store.user(id).await? {
                    resolved.users.insert(key, json_of(&record.public())?);
                    return Ok(true);
                }
            }
            if kind == option_type::CHANNEL && id == channel.id {
                resolved.channels.insert(
                    key,
                    json!({
                        "id": channel.id,
                        "type": channel.kind,
                        "permissions": DM_PERMISSIONS.bits().to_string(),
                    }),
                );
                return Ok(true);
            }
            return Ok(false);
        };
        if matches!(kind, option_type::USER | option_type::MENTIONABLE) {
            if let Some(member) = self.store.member(access.guild.id, id).await? {
                if let Some(user) = &member.user {
                    resolved.users.insert(key.clone(), json_of(user)?);
                    let perms = access.in_channel_of(&member, channel);
                    let mut value = json_of(&Member {
                        user: None,
                        ..member.clone()
                    })?;
                    value["permissions"] = json!(perms.bits().to_string());
                    resolved.members.insert(key, value);
                    return Ok(true);
                }
            } else if let Some(record) = self.store.user(id).await? {
                resolved.users.insert(key, json_of(&record.public())?);
                return Ok(true);
            }
            if kind == option_type::USER {
                return Ok(false);
            }
        }
        if matches!(kind, option_type::ROLE | option_type::MENTIONABLE) {
            if let Some(role) = access.role(id) {
                resolved.roles.insert(key, json_of(role)?);
                return Ok(true);
            }
            return Ok(false);
        }
        if kind == option_type::CHANNEL {
            if let Some(target) = self.store.channel(id).await? {
                if target.guild_id == Some(access.guild.id) {
                    let perms = access.in_channel(&target);
                    resolved.channels.insert(
                        key,
                        json!({
                            "id": target.id,
                            "type": target.kind,
                            "name": target.name,
                            "parent_id": target.parent_id,
                            "guild_id": target.guild_id,
                            "permissions": perms.bits().to_string(),
                        }),
                    );
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// The interaction a callback or follow-up names, with the token checked.
    async fn interaction_for(
        &self,
        id: Snowflake,
        token: &str,
    ) -> Result<Option<InteractionRecord>, ApiError> {
        Ok(self
            .store
            .interaction(id)
            .await?
            .filter(|record| same_secret(&record.token, token)))
    }

    /// `POST /interactions/{id}/{token}/callback`: the one first response, within 3 seconds.
    /// Returns the `with_response` body (`{interaction, resource}`).
    pub async fn interaction_callback(
        &self,
        id: Snowflake,
        token: &str,
        body: InteractionCallback,
    ) -> Result<Value, ApiError> {
        let record = self
            .interaction_for(id, token)
            .await?
            .ok_or_else(unknown_interaction)?;
        if record.response.is_some() {
            return Err(already_acknowledged());
        }
        if now_ms() > record.created_ms + RESPONSE_DEADLINE_MS {
            return Err(unknown_interaction());
        }
        let component_message = record
            .context
            .get("message_id")
            .and_then(Value::as_str)
            .and_then(Snowflake::parse);
        let allowed = match body.kind {
            callback::CHANNEL_MESSAGE | callback::DEFERRED_CHANNEL_MESSAGE => {
                record.kind != itype::AUTOCOMPLETE
            }
            callback::DEFERRED_UPDATE_MESSAGE | callback::UPDATE_MESSAGE => {
                component_message.is_some()
            }
            callback::AUTOCOMPLETE_RESULT => record.kind == itype::AUTOCOMPLETE,
            callback::MODAL => {
                record.kind == itype::APPLICATION_COMMAND || record.kind == itype::MESSAGE_COMPONENT
            }
            callback::PONG => record.kind == itype::PING,
            _ => false,
        };
        if !allowed {
            return Err(ApiError::invalid_field(
                &["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                "This response type is not valid for this interaction",
            ));
        }
        let data = body.data.unwrap_or(Value::Null);
        let files = body.files;
        let decode = |value: &Value| -> Result<ExecuteWebhook, ApiError> {
            if value.is_null() {
                return Ok(ExecuteWebhook::default());
            }
            decode_data(value)
        };
        let mut message: Option<Message> = None;
        match body.kind {
            callback::CHANNEL_MESSAGE | callback::DEFERRED_CHANNEL_MESSAGE => {
                let loading = body.kind == callback::DEFERRED_CHANNEL_MESSAGE;
                let fields = ExecuteWebhook {
                    files,
                    ..decode(&data)?
                };
                let draft = self.response_message(&record, fields, loading).await?;
                if !self
                    .store
                    .acknowledge_interaction(record.id, body.kind, Some(draft.id))
                    .await?
                {
                    return Err(already_acknowledged());
                }
                self.deliver_new(&record, draft.clone()).await?;
                message = Some(draft);
            }
            callback::DEFERRED_UPDATE_MESSAGE => {
                if !self
                    .store
                    .acknowledge_interaction(record.id, body.kind, component_message)
                    .await?
                {
                    return Err(already_acknowledged());
                }
            }
            callback::UPDATE_MESSAGE => {
                let edit: WebhookMessageEdit = if data.is_null() {
                    WebhookMessageEdit::default()
                } else {
                    decode_data(&data)?
                };
                let target = component_message.ok_or_else(ApiError::unknown_message)?;
                let current = self
                    .store
                    .message(record.channel_id, target)
                    .await?
                    .ok_or_else(ApiError::unknown_message)?;
                let edited = self.apply_interaction_edit(&record, current, edit).await?;
                if !self
                    .store
                    .acknowledge_interaction(record.id, body.kind, Some(target))
                    .await?
                {
                    return Err(already_acknowledged());
                }
                self.deliver_edit(&record, edited.clone()).await?;
                message = Some(edited);
            }
            callback::AUTOCOMPLETE_RESULT => {
                let choices = data.get("choices").cloned().unwrap_or(json!([]));
                let Some(list) = choices.as_array() else {
                    return Err(ApiError::invalid_field(
                        &["data", "choices"],
                        "LIST_TYPE_CONVERT",
                        "Only iterables may be used in a ListType",
                    ));
                };
                if list.len() > 25 {
                    return Err(ApiError::invalid_field(
                        &["data", "choices"],
                        "BASE_TYPE_MAX_LENGTH",
                        "Must be 25 or fewer in length.",
                    ));
                }
                for (index, choice) in list.iter().enumerate() {
                    let name_len = choice["name"].as_str().map_or(0, |n| n.chars().count());
                    if !(1..=100).contains(&name_len) || choice.get("value").is_none() {
                        return Err(ApiError::invalid_field(
                            &["data", "choices", &index.to_string(), "name"],
                            "BASE_TYPE_BAD_LENGTH",
                            "Must be between 1 and 100 in length.",
                        ));
                    }
                }
                if !self
                    .store
                    .acknowledge_interaction(record.id, body.kind, None)
                    .await?
                {
                    return Err(already_acknowledged());
                }
                self.publish(
                    Topic::User(record.user_id),
                    "APPLICATION_COMMAND_AUTOCOMPLETE_RESPONSE",
                    &json!({
                        "id": record.id,
                        "nonce": record.context.get("nonce"),
                        "choices": choices,
                    }),
                    Audience::Everyone,
                    None,
                )?;
            }
            _ => {
                // MODAL
                let mut form = FormErrors::default();
                let custom_id = data.get("custom_id").and_then(Value::as_str).unwrap_or("");
                if !(1..=100).contains(&custom_id.chars().count()) {
                    form.add(
                        &["data", "custom_id"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 100 in length.",
                    );
                }
                let title = data.get("title").and_then(Value::as_str).unwrap_or("");
                if !(1..=45).contains(&title.chars().count()) {
                    form.add(
                        &["data", "title"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 45 in length.",
                    );
                }
                let components = data.get("components").and_then(Value::as_array);
                if !components.is_some_and(|c| (1..=5).contains(&c.len())) {
                    form.add(
                        &["data", "components"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 5 in length.",
                    );
                }
                form.finish()?;
                if !self
                    .store
                    .acknowledge_interaction(record.id, body.kind, None)
                    .await?
                {
                    return Err(already_acknowledged());
                }
                // The submit must name this modal.
                let mut context = record.context.clone();
                context["modal_custom_id"] = json!(custom_id);
                self.store
                    .set_interaction_context(record.id, context)
                    .await?;
                let app = self.store.application(record.application_id).await?;
                self.publish(
                    Topic::User(record.user_id),
                    "INTERACTION_MODAL_CREATE",
                    &json!({
                        "id": record.id,
                        "nonce": record.context.get("nonce"),
                        "channel_id": record.channel_id,
                        "application": app.map(|a| json!({ "id": a.id, "name": a.name, "icon": a.icon })),
                        "custom_id": custom_id,
                        "title": title,
                        "components": data.get("components"),
                    }),
                    Audience::Everyone,
                    None,
                )?;
            }
        }
        if body.kind != callback::AUTOCOMPLETE_RESULT && body.kind != callback::MODAL {
            self.publish(
                Topic::User(record.user_id),
                "INTERACTION_SUCCESS",
                &json!({ "id": record.id, "nonce": record.context.get("nonce") }),
                Audience::Everyone,
                None,
            )?;
        }
        let mut interaction = json!({
            "id": record.id,
            "type": record.kind,
            "response_message_id": message.as_ref().map(|m| m.id),
            "response_message_loading": message.as_ref().is_some_and(|m| m.flags & LOADING != 0),
            "response_message_ephemeral": message.as_ref().is_some_and(|m| m.flags & EPHEMERAL != 0),
        });
        if message.is_none() {
            if let Some(map) = interaction.as_object_mut() {
                map.remove("response_message_id");
                map.remove("response_message_loading");
                map.remove("response_message_ephemeral");
            }
        }
        let mut resource = json!({ "type": body.kind });
        if let Some(message) = message {
            resource["message"] = json_of(&message)?;
        }
        Ok(json!({ "interaction": interaction, "resource": resource }))
    }

    /// A new message sent by the interaction's bot, validated (not yet stored).
    async fn response_message(
        &self,
        record: &InteractionRecord,
        fields: ExecuteWebhook,
        loading: bool,
    ) -> Result<Message, ApiError> {
        let content = fields.content.unwrap_or_default();
        let embeds = fields.embeds.unwrap_or_default();
        let components = fields.components.unwrap_or_default();
        if let Some(allowed) = &fields.allowed_mentions {
            allowed.validate()?;
        }
        let planned = if loading {
            None
        } else {
            Some(self.plan_attachments(record.channel_id, fields.attachments, fields.files, &[])?)
        };
        let uploads = planned.as_ref().map_or(0, |p| p.attachments.len());
        if !loading {
            check_components(&components)?;
            if content.trim().is_empty() && embeds.is_empty() && !components.is_empty() {
                validate_message("x", &embeds, None, uploads)?;
            } else {
                validate_message(&content, &embeds, None, uploads)?;
            }
        }
        let bot = self.bot_access(record).await?;
        let mentions = self
            .mentions(
                bot.access.as_ref(),
                &bot.channel,
                bot.perms,
                &content,
                fields.allowed_mentions.as_ref(),
                None,
            )
            .await?;
        let command_type = record.context.get("command_type").and_then(Value::as_u64);
        let kind = match command_type {
            Some(t) if t == u64::from(CHAT_INPUT) => MESSAGE_TYPE_CHAT_INPUT_COMMAND,
            Some(_) => MESSAGE_TYPE_CONTEXT_MENU_COMMAND,
            None => MESSAGE_TYPE_DEFAULT,
        };
        let mut flags = fields.flags.unwrap_or(0) & SETTABLE_FLAGS;
        if loading {
            flags |= LOADING;
        }
        let id = self.next_id();
        let (attachments, blobs) =
            planned.map_or((Vec::new(), Vec::new()), |p| (p.attachments, p.new_blobs));
        let mut embeds = as_rich(embeds);
        super::files::resolve_attachment_refs(&mut embeds, &attachments);
        // The bytes are written before the message that lists them is stored; an ephemeral
        // message lives with the interaction, so its bytes are filed under the interaction.
        let owner = if flags & EPHEMERAL != 0 {
            record.id
        } else {
            id
        };
        self.store_blobs(record.channel_id, owner, blobs).await?;
        Ok(Message {
            id,
            kind,
            channel_id: record.channel_id,
            guild_id: record.guild_id,
            author: bot.user,
            member: bot.access.map(|access| Member {
                user: None,
                ..access.member
            }),
            content: if loading { String::new() } else { content },
            timestamp: crate::model::now_timestamp(),
            edited_timestamp: None,
            tts: fields.tts.unwrap_or(false),
            mention_everyone: mentions.everyone,
            mentions: mentions.users,
            mention_roles: mentions.roles,
            attachments,
            embeds,
            pinned: false,
            nonce: None,
            message_reference: None,
            referenced_message: None,
            flags,
            components,
            webhook_id: Some(record.application_id),
            application_id: Some(record.application_id),
            interaction_metadata: record.context.get("metadata").cloned(),
            interaction: record.context.get("interaction").cloned(),
            reactions: Vec::new(),
        })
    }

    /// The bot's standing in the interaction's guild (none in a DM), its permissions in the
    /// channel, and its user.
    async fn bot_access(&self, record: &InteractionRecord) -> Result<BotStanding, ApiError> {
        let channel = self
            .store
            .channel(record.channel_id)
            .await?
            .ok_or_else(ApiError::unknown_channel)?;
        let Some(guild_id) = record.guild_id else {
            let user = self
                .store
                .user(record.application_id)
                .await?
                .ok_or_else(unknown_interaction)?
                .public();
            return Ok(BotStanding {
                access: None,
                channel,
                perms: DM_PERMISSIONS,
                user,
            });
        };
        let guild = self
            .store
            .guild(guild_id)
            .await?
            .ok_or_else(unknown_interaction)?;
        let member = self
            .store
            .member(guild_id, record.application_id)
            .await?
            .ok_or_else(unknown_interaction)?;
        let roles = self.store.roles_of_guild(guild_id).await?;
        let user = member.user.clone().ok_or_else(ApiError::internal)?;
        let access = GuildAccess {
            guild,
            roles,
            member,
        };
        let perms = access.in_channel(&channel);
        Ok(BotStanding {
            access: Some(access),
            channel,
            perms,
            user,
        })
    }

    /// The channel the interaction happened in.
    async fn interaction_channel(&self, record: &InteractionRecord) -> Result<Channel, ApiError> {
        self.store
            .channel(record.channel_id)
            .await?
            .ok_or_else(ApiError::unknown_channel)
    }

    /// Stores and announces a new interaction message: to the channel, or (ephemeral) only to
    /// the invoking user's sessions.
    async fn deliver_new(
        &self,
        record: &InteractionRecord,
        message: Message,
    ) -> Result<(), ApiError> {
        if message.flags & EPHEMERAL != 0 {
            let mut ephemeral = self
                .store
                .interaction(record.id)
                .await?
                .map(|r| r.ephemeral)
                .unwrap_or_default();
            ephemeral.push(message.clone());
            self.store
                .set_interaction_ephemeral(record.id, ephemeral)
                .await?;
            self.publish(
                Topic::User(record.user_id),
                "MESSAGE_CREATE",
                &message,
                Audience::Everyone,
                None,
            )
        } else {
            self.store.create_message(message.clone()).await?;
            let channel = self.interaction_channel(record).await?;
            self.publish_in_channel(&channel, "MESSAGE_CREATE", &message, None)
        }
    }

    /// Stores and announces an edited interaction message.
    async fn deliver_edit(
        &self,
        record: &InteractionRecord,
        message: Message,
    ) -> Result<(), ApiError> {
        if message.flags & EPHEMERAL != 0 {
            let mut ephemeral = self
                .store
                .interaction(record.id)
                .await?
                .map(|r| r.ephemeral)
                .unwrap_or_default();
            for stored in &mut ephemeral {
                if stored.id == message.id {
                    *stored = message.clone();
                }
            }
            self.store
                .set_interaction_ephemeral(record.id, ephemeral)
                .await?;
            self.publish(
                Topic::User(record.user_id),
                "MESSAGE_UPDATE",
                &message,
                Audience::Everyone,
                None,
            )
        } else {
            if !self.store.update_message(message.clone()).await? {
                return Err(ApiError::unknown_message());
            }
            let channel = self.interaction_channel(record).await?;
            self.publish_in_channel(&channel, "MESSAGE_UPDATE", &message, None)
        }
    }

    /// Applies an edit to a message of the interaction (a loading message stops loading).
    async fn apply_interaction_edit(
        &self,
        record: &InteractionRecord,
        mut message: Message,
        edit: WebhookMessageEdit,
    ) -> Result<Message, ApiError> {
        if let Some(allowed) = &edit.allowed_mentions {
            allowed.validate()?;
        }
        let was_loading = message.flags & LOADING != 0;
        if let Some(content) = edit.content {
            message.content = content.unwrap_or_default();
        }
        if let Some(embeds) = edit.embeds {
            message.embeds = as_rich(embeds.unwrap_or_default());
        }
        if let Some(components) = edit.components {
            message.components = components.unwrap_or_default();
        }
        if let Some(flags) = edit.flags {
            let keep = message.flags & !(1 << 2);
            message.flags = keep | (flags.unwrap_or(0) & (1 << 2));
        }
        check_components(&message.components)?;
        if message.content.trim().is_empty()
            && message.embeds.is_empty()
            && !message.components.is_empty()
        {
            validate_message("x", &message.embeds, None, message.attachments.len())?;
        } else {
            validate_message(
                &message.content,
                &message.embeds,
                None,
                message.attachments.len(),
            )?;
        }
        let bot = self.bot_access(record).await?;
        let mentions = self
            .mentions(
                bot.access.as_ref(),
                &bot.channel,
                bot.perms,
                &message.content,
                edit.allowed_mentions.as_ref(),
                None,
            )
            .await?;
        message.mentions = mentions.users;
        message.mention_roles = mentions.roles;
        message.mention_everyone = mentions.everyone;
        message.flags &= !LOADING;
        if !was_loading {
            message.edited_timestamp = Some(crate::model::now_timestamp());
        }
        Ok(message)
    }

    /// The interaction a follow-up token names: 10015 for an unknown one, 50027 once expired
    /// (15 minutes).
    async fn followup_interaction(
        &self,
        application_id: Snowflake,
        token: &str,
    ) -> Result<InteractionRecord, ApiError> {
        let id = token_interaction_id(token).ok_or_else(unknown_webhook)?;
        let record = self
            .interaction_for(id, token)
            .await?
            .filter(|r| r.application_id == application_id)
            .ok_or_else(unknown_webhook)?;
        if now_ms() > record.created_ms + self.interaction_token_ttl_ms {
            return Err(invalid_webhook_token());
        }
        Ok(record)
    }

    /// `POST /webhooks/{app}/{token}` with an interaction token: a follow-up message (after a
    /// deferred response, the first follow-up fills in the loading message instead).
    pub async fn interaction_followup(
        &self,
        application_id: Snowflake,
        token: &str,
        fields: ExecuteWebhook,
    ) -> Result<Message, ApiError> {
        let record = self.followup_interaction(application_id, token).await?;
        if record.response.is_none() {
            return Err(unknown_webhook());
        }
        if record.response == Some(callback::DEFERRED_CHANNEL_MESSAGE) {
            if let Ok(mut original) = self.interaction_message(&record, "@original").await {
                if original.flags & LOADING != 0 {
                    let planned = self.plan_attachments(
                        record.channel_id,
                        fields.attachments,
                        fields.files,
                        &[],
                    )?;
                    original.attachments = planned.attachments;
                    let owner = if original.flags & EPHEMERAL != 0 {
                        record.id
                    } else {
                        original.id
                    };
                    self.store_blobs(record.channel_id, owner, planned.new_blobs)
                        .await?;
                    let edit = WebhookMessageEdit {
                        content: Some(fields.content),
                        embeds: Some(fields.embeds),
                        components: Some(fields.components),
                        allowed_mentions: fields.allowed_mentions,
                        flags: None,
                    };
                    let edited = self.apply_interaction_edit(&record, original, edit).await?;
                    self.deliver_edit(&record, edited.clone()).await?;
                    return Ok(edited);
                }
            }
        }
        let message = self.response_message(&record, fields, false).await?;
        self.deliver_new(&record, message.clone()).await?;
        Ok(message)
    }

    /// A message of the interaction: `@original` or one of its follow-ups.
    async fn interaction_message(
        &self,
        record: &InteractionRecord,
        message_id: &str,
    ) -> Result<Message, ApiError> {
        let id = if message_id == "@original" {
            record
                .original_message_id
                .ok_or_else(ApiError::unknown_message)?
        } else {
            Snowflake::parse(message_id).ok_or_else(|| {
                ApiError::invalid_field(
                    &["message_id"],
                    "NUMBER_TYPE_COERCE",
                    format!("Value \"{message_id}\" is not snowflake."),
                )
            })?
        };
        if let Some(message) = record.ephemeral.iter().find(|m| m.id == id) {
            return Ok(message.clone());
        }
        let message = self
            .store
            .message(record.channel_id, id)
            .await?
            .ok_or_else(ApiError::unknown_message)?;
        let ours = Some(id) == record.original_message_id
            || message
                .interaction_metadata
                .as_ref()
                .and_then(|m| m.get("id"))
                == Some(&json!(record.id));
        if !ours || message.author.id != record.application_id {
            return Err(ApiError::unknown_message());
        }
        Ok(message)
    }

    /// `GET /webhooks/{app}/{token}/messages/{id|@original}`.
    pub async fn get_interaction_message(
        &self,
        application_id: Snowflake,
        token: &str,
        message_id: &str,
    ) -> Result<Message, ApiError> {
        let record = self.followup_interaction(application_id, token).await?;
        self.interaction_message(&record, message_id).await
    }

    /// `PATCH /webhooks/{app}/{token}/messages/{id|@original}`.
    pub async fn edit_interaction_message(
        &self,
        application_id: Snowflake,
        token: &str,
        message_id: &str,
        edit: WebhookMessageEdit,
    ) -> Result<Message, ApiError> {
        let record = self.followup_interaction(application_id, token).await?;
        let message = self.interaction_message(&record, message_id).await?;
        let edited = self.apply_interaction_edit(&record, message, edit).await?;
        self.deliver_edit(&record, edited.clone()).await?;
        Ok(edited)
    }

    /// `DELETE /webhooks/{app}/{token}/messages/{id|@original}`.
    pub async fn delete_interaction_message(
        &self,
        application_id: Snowflake,
        token: &str,
        message_id: &str,
    ) -> Result<(), ApiError> {
        let record = self.followup_interaction(application_id, token).await?;
        let message = self.interaction_message(&record, message_id).await?;
        let event = json!({
            "id": message.id,
            "channel_id": record.channel_id,
            "guild_id": record.guild_id,
        });
        if message.flags & EPHEMERAL != 0 {
            let remaining: Vec<Message> = record
                .ephemeral
                .iter()
                .filter(|m| m.id != message.id)
                .cloned()
                .collect();
            self.store
                .set_interaction_ephemeral(record.id, remaining)
                .await?;
            let files: Vec<Snowflake> = message.attachments.iter().map(|a| a.id).collect();
            self.forget_blobs(record.channel_id, files).await;
            self.publish(
                Topic::User(record.user_id),
                "MESSAGE_DELETE",
                &event,
                Audience::Everyone,
                None,
            )
        } else {
            if self
                .store
                .delete_messages(record.channel_id, vec![message.id])
                .await?
                .is_empty()
            {
                return Err(ApiError::unknown_message());
            }
            if !message.attachments.is_empty() {
                self.forget_message_blobs(record.channel_id, vec![message.id])
                    .await;
            }
            let channel = self.interaction_channel(&record).await?;
            self.publish_in_channel(&channel, "MESSAGE_DELETE", &event, None)
        }
    }
}

/// Where the interaction's bot stands when it answers.
struct BotStanding {
    /// `None` in a DM.
    access: Option<GuildAccess>,
    channel: Channel,
    perms: Permissions,
    user: crate::model::User,
}

/// What `command_data` works from.
struct CommandRequest<'a> {
    access: Option<&'a GuildAccess>,
    channel: &'a Channel,
    command: &'a ApplicationCommand,
    data: &'a Value,
    uploads: &'a [Upload],
}

/// Attachments uploaded with an invocation, and their bytes (stored before the interaction).
#[derive(Default)]
struct Uploaded {
    attachments: Vec<Attachment>,
    blobs: Vec<(Snowflake, bytes::Bytes)>,
}

/// Users, members, roles, channels, messages and attachments an interaction refers to.
#[derive(Default)]
struct Resolved {
    users: Map<String, Value>,
    members: Map<String, Value>,
    roles: Map<String, Value>,
    channels: Map<String, Value>,
    messages: Map<String, Value>,
    attachments: Map<String, Value>,
}

impl Resolved {
    fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.members.is_empty()
            && self.roles.is_empty()
            && self.channels.is_empty()
            && self.messages.is_empty()
            && self.attachments.is_empty()
    }

    fn into_value(self) -> Value {
        let mut out = Map::new();
        for (key, map) in [
            ("users", self.users),
            ("members", self.members),
            ("roles", self.roles),
            ("channels", self.channels),
            ("messages", self.messages),
            ("attachments", self.attachments),
        ] {
            if !map.is_empty() {
                out.insert(key.into(), Value::Object(map));
            }
        }
        Value::Object(out)
    }
}

/// A snowflake written as a string or a number.
fn snowflake_value(value: &Value) -> Option<Snowflake> {
    match value {
        Value::String(s) => Snowflake::parse(s),
        Value::Number(n) => n.as_u64().map(Snowflake),
        _ => None,
    }
}

/// `data.id` of an invocation: the command, or for a modal submit the interaction that
/// opened the modal.
fn data_id(data: &Value) -> Result<Snowflake, ApiError> {
    data.get("id").and_then(snowflake_value).ok_or_else(|| {
        ApiError::invalid_field(
            &["data", "id"],
            "BASE_TYPE_REQUIRED",
            "This field is required",
        )
    })
}

/// Whether the command may run where it was invoked: its `contexts` (and the deprecated
/// `dm_permission: false`) must include the interaction's context, and an age-restricted
/// (`nsfw`) command runs only in an age-restricted guild channel (or a DM).
fn check_command_context(
    command: &ApplicationCommand,
    context_type: u8,
    channel: &Channel,
) -> Result<(), ApiError> {
    // Guild commands run in their guild only; `contexts` is for global commands.
    let listed = command.guild_id.is_some()
        || command
            .contexts
            .as_ref()
            .is_none_or(|contexts| contexts.contains(&context_type));
    let dm_refused = context_type == context::BOT_DM && command.dm_permission == Some(false);
    if !listed || dm_refused {
        return Err(ApiError::invalid_field(
            &["context"],
            "INTERACTION_CONTEXT_INVALID",
            "This command cannot be used in this context",
        ));
    }
    if command.nsfw && context_type == context::GUILD && !channel.nsfw {
        return Err(ApiError::invalid_field(
            &["channel_id"],
            "APPLICATION_COMMAND_NSFW",
            "Age-restricted commands can only be used in age-restricted channels",
        ));
    }
    Ok(())
}

/// Checks the options a user gave against the command's definition (names, types, required
/// ones) and returns them as the bot receives them.
fn check_given_options(
    given: &Value,
    defined: &[CommandOption],
    path: &[&str],
) -> Result<Vec<Value>, ApiError> {
    let Some(list) = given.as_array() else {
        return Err(ApiError::invalid_field(
            path,
            "LIST_TYPE_CONVERT",
            "Only iterables may be used in a ListType",
        ));
    };
    let bad = |index: usize, field: &str, code: &str, message: &str| {
        let index = index.to_string();
        let mut full: Vec<&str> = path.to_vec();
        full.push(&index);
        full.push(field);
        ApiError::invalid_field(&full, code, message.to_owned())
    };
    let mut out = Vec::new();
    for (index, option) in list.iter().enumerate() {
        let name = option.get("name").and_then(Value::as_str).unwrap_or("");
        let Some(definition) = defined.iter().find(|d| d.name == name) else {
            return Err(bad(
                index,
                "name",
                "APPLICATION_COMMAND_OPTION_UNKNOWN",
                "Unknown option",
            ));
        };
        let kind = option
            .get("type")
            .and_then(Value::as_u64)
            .unwrap_or(u64::from(definition.kind));
        if kind != u64::from(definition.kind) {
            return Err(bad(
                index,
                "type",
                "APPLICATION_COMMAND_OPTION_TYPE_MISMATCH",
                "Option type does not match the command",
            ));
        }
        let mut entry = json!({ "name": name, "type": definition.kind });
        if matches!(
            definition.kind,
            option_type::SUB_COMMAND | option_type::SUB_COMMAND_GROUP
        ) {
            let nested = option.get("options").cloned().unwrap_or(json!([]));
            let index_text = index.to_string();
            let mut nested_path: Vec<&str> = path.to_vec();
            nested_path.push(&index_text);
            nested_path.push("options");
            let inner = check_given_options(
                &nested,
                definition.options.as_deref().unwrap_or(&[]),
                &nested_path,
            )?;
            entry["options"] = Value::Array(inner);
        } else {
            let value = option.get("value").cloned().unwrap_or(Value::Null);
            let focused = option.get("focused").and_then(Value::as_bool) == Some(true);
            let fits = focused
                || match definition.kind {
                    option_type::STRING => value.is_string(),
                    option_type::INTEGER => value.is_i64() || value.is_u64(),
                    option_type::NUMBER => value.is_number(),
                    option_type::BOOLEAN => value.is_boolean(),
                    _ => value.as_str().and_then(Snowflake::parse).is_some() || value.is_u64(),
                };
            if !fits || (!focused && !within_bounds(definition, &value)) {
                return Err(bad(
                    index,
                    "value",
                    "APPLICATION_COMMAND_OPTION_VALUE_INVALID",
                    "Option value does not match its type, choices or bounds",
                ));
            }
            // Ids travel as strings.
            entry["value"] = match (&value, definition.kind) {
                (
                    Value::Number(n),
                    option_type::USER..=option_type::MENTIONABLE | option_type::ATTACHMENT,
                ) => {
                    json!(n.to_string())
                }
                _ => value,
            };
            if focused {
                entry["focused"] = json!(true);
            }
        }
        out.push(entry);
    }
    for definition in defined.iter().filter(|d| d.required) {
        if !list
            .iter()
            .any(|o| o.get("name").and_then(Value::as_str) == Some(&definition.name))
        {
            return Err(ApiError::invalid_field(
                path,
                "APPLICATION_COMMAND_OPTION_REQUIRED",
                format!("Option \"{}\" is required", definition.name),
            ));
        }
    }
    Ok(out)
}

/// Whether a given value is one of the option's choices (when it has some) and within its
/// `min_value`/`max_value` and `min_length`/`max_length`.
fn within_bounds(definition: &CommandOption, value: &Value) -> bool {
    if let Some(choices) = &definition.choices {
        if !choices.iter().any(|choice| &choice.value == value) {
            return false;
        }
    }
    if let Some(number) = value.as_f64() {
        let min = definition
            .min_value
            .as_ref()
            .and_then(serde_json::Number::as_f64);
        let max = definition
            .max_value
            .as_ref()
            .and_then(serde_json::Number::as_f64);
        if min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max) {
            return false;
        }
    }
    if let Some(text) = value
        .as_str()
        .filter(|_| definition.kind == option_type::STRING)
    {
        let len = text.chars().count() as u32;
        if definition.min_length.is_some_and(|min| len < min)
            || definition.max_length.is_some_and(|max| len > max)
        {
            return false;
        }
    }
    true
}

/// The (option type, id) of every user, channel, role and mentionable option, at any depth.
fn referenced_ids(options: &[Value]) -> Vec<(u8, Snowflake)> {
    let mut out = Vec::new();
    for option in options {
        let kind = option["type"].as_u64().unwrap_or(0) as u8;
        if let Some(nested) = option.get("options").and_then(Value::as_array) {
            out.extend(referenced_ids(nested));
        }
        if matches!(
            kind,
            option_type::USER | option_type::CHANNEL | option_type::ROLE | option_type::MENTIONABLE
        ) {
            if let Some(id) = option["value"].as_str().and_then(Snowflake::parse) {
                out.push((kind, id));
            }
        }
    }
    out
}

/// The component with this custom_id, at any depth of the message's components.
fn find_component<'a>(components: &'a [Value], custom_id: &str) -> Option<&'a Value> {
    for component in components {
        if component.get("custom_id").and_then(Value::as_str) == Some(custom_id) {
            return Some(component);
        }
        if let Some(children) = component.get("components").and_then(Value::as_array) {
            if let Some(found) = find_component(children, custom_id) {
                return Some(found);
            }
        }
    }
    None
}

/// Discord's basic component rules: at most 5 top-level rows, custom_ids of 1–100 characters,
/// and no custom_id used twice.
fn check_components(components: &[Value]) -> Result<(), ApiError> {
    if components.len() > 5 {
        return Err(ApiError::invalid_field(
            &["components"],
            "BASE_TYPE_MAX_LENGTH",
            "Must be 5 or fewer in length.",
        ));
    }
    let mut seen: Vec<String> = Vec::new();
    fn walk(components: &[Value], seen: &mut Vec<String>) -> Result<(), ApiError> {
        for component in components {
            if !component.is_object() || !component.get("type").is_some_and(Value::is_u64) {
                return Err(ApiError::invalid_field(
                    &["components"],
                    "COMPONENT_TYPE_INVALID",
                    "Every component needs a type",
                ));
            }
            if let Some(id) = component.get("custom_id").and_then(Value::as_str) {
                if !(1..=100).contains(&id.chars().count()) {
                    return Err(ApiError::invalid_field(
                        &["components"],
                        "BASE_TYPE_BAD_LENGTH",
                        "custom_id must be between 1 and 100 in length.",
                    ));
                }
                if seen.iter().any(|s| s == id) {
                    return Err(ApiError::invalid_field(
                        &["components"],
                        "COMPONENT_CUSTOM_ID_DUPLICATED",
                        "Component custom id cannot be duplicated",
                    ));
                }
                seen.push(id.to_owned());
            }
            if let Some(children) = component.get("components").and_then(Value::as_array) {
                walk(children, seen)?;
            }
        }
        Ok(())
    }
    walk(components, &mut seen)
}

/// Decodes a callback's `data`; a field of the wrong type is a 50035 under `data`.
fn decode_data<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut path = vec!["data".to_owned()];
        path.extend(err.path().iter().filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            _ => None,
        }));
        let path: Vec<&str> = path.iter().map(String::as_str).collect();
        ApiError::invalid_field(&path, "BASE_TYPE_CHOICES", err.inner().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_interaction() {
        let token = make_token(Snowflake(123456789));
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token_interaction_id(&token), Some(Snowflake(123456789)));
        assert_eq!(token_interaction_id("abc"), None);
        assert!(same_secret(&token, &token.clone()));
        assert!(!same_secret(&token, &make_token(Snowflake(123456789))));
    }
}
