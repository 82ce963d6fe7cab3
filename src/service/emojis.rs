//! Custom guild emojis: listing, uploading (a data URI, kept with the emoji in the store),
//! renaming, restricting to roles, deleting. Every change publishes GUILD_EMOJIS_UPDATE with
//! the guild's whole list, as Discord does.

use base64::Engine;
use serde::Deserialize;

use super::audit_log::{self, Audit};
use super::{Caller, GuildAccess, Service};
use crate::bus::{Audience, Topic};
use crate::error::{ApiError, FormErrors};
use crate::model::audit_log::action;
use crate::model::{Emoji, Snowflake};
use crate::permissions::Permissions;
use crate::store::EmojiImage;

/// Largest emoji image Discord accepts (256 KiB).
pub const MAX_EMOJI_BYTES: usize = 256 * 1024;
/// Static and animated emoji slots of a guild without boosts (Discord: 50 each).
pub const MAX_EMOJIS: usize = 50;

/// `POST /guilds/{id}/emojis` body.
#[derive(Debug, Deserialize)]
pub struct NewEmoji {
    pub name: String,
    /// `data:image/png;base64,...` (png, jpeg, gif or webp).
    pub image: String,
    #[serde(default)]
    pub roles: Option<Vec<Snowflake>>,
}

/// `PATCH /guilds/{id}/emojis/{emoji_id}` body; absent fields stay, `roles: null` clears.
#[derive(Debug, Default, Deserialize)]
pub struct EmojiPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, with = "super::double_option")]
    pub roles: Option<Option<Vec<Snowflake>>>,
}

/// 404 10014, as the emoji routes answer for an id that is not one of the guild's emojis.
fn unknown_emoji() -> ApiError {
    ApiError::new(404, 10014, "Unknown Emoji")
}

/// Emoji fields an audit log entry leaves out (Discord logs the name and roles).
const EMOJI_UNLOGGED: &[&str] = &[
    "id",
    "user",
    "require_colons",
    "managed",
    "animated",
    "available",
    "creator_id",
];

impl Service {
    /// `GET /guilds/{id}/emojis`: any member; `user` is filled for those who manage or create
    /// expressions.
    pub async fn guild_emojis(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<Vec<Emoji>, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let mut emojis = self.store.emojis_of_guild(guild_id).await?;
        self.show_creators(&access, &mut emojis).await?;
        Ok(emojis)
    }

    /// `GET /guilds/{id}/emojis/{emoji_id}`.
    pub async fn guild_emoji(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        emoji_id: Snowflake,
    ) -> Result<Emoji, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let mut emoji = vec![self.emoji_of(guild_id, emoji_id).await?];
        self.show_creators(&access, &mut emoji).await?;
        Ok(emoji.remove(0))
    }

    /// `POST /guilds/{id}/emojis`: CREATE_GUILD_EXPRESSIONS (MANAGE_GUILD_EXPRESSIONS alone no
    /// longer suffices on Discord since 2026-02-23).
    pub async fn create_emoji(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        body: NewEmoji,
        reason: Option<String>,
    ) -> Result<Emoji, ApiError> {
        let access = self
            .require_guild(caller, guild_id, Permissions::CREATE_GUILD_EXPRESSIONS)
            .await?;
        let mut form = FormErrors::default();
        check_emoji_name(&mut form, &body.name);
        let image = match parse_image(&body.image) {
            Ok(image) => Some(image),
            Err((code, message)) => {
                form.add(&["image"], code, message);
                None
            }
        };
        let roles = body.roles.unwrap_or_default();
        check_roles(&mut form, &access, &roles);
        form.finish()?;
        let Some(image) = image else {
            return Err(ApiError::internal());
        };
        let animated = image.content_type == "image/gif";
        let existing = self.store.emojis_of_guild(guild_id).await?;
        if existing.iter().filter(|e| e.animated == animated).count() >= MAX_EMOJIS {
            return Err(if animated {
                ApiError::new(
                    400,
                    30018,
                    format!("Maximum number of animated emojis reached ({MAX_EMOJIS})"),
                )
            } else {
                ApiError::new(
                    400,
                    30008,
                    format!("Maximum number of emojis reached ({MAX_EMOJIS})"),
                )
            });
        }
        let emoji = Emoji {
            id: self.next_id(),
            name: body.name,
            roles,
            user: None,
            require_colons: true,
            managed: false,
            animated,
            available: true,
            creator_id: Some(caller.id()),
        };
        self.store
            .create_emoji(guild_id, emoji.clone(), image)
            .await?;
        let changes = audit_log::changes(None, Some(&emoji), EMOJI_UNLOGGED);
        let audit = Audit::new(action::EMOJI_CREATE, Some(emoji.id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.announce_emojis(guild_id).await?;
        Ok(Emoji {
            user: Some(caller.user.user.clone()),
            ..emoji
        })
    }

    /// `PATCH /guilds/{id}/emojis/{emoji_id}`: MANAGE_GUILD_EXPRESSIONS, or
    /// CREATE_GUILD_EXPRESSIONS for one's own emoji.
    pub async fn update_emoji(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        emoji_id: Snowflake,
        patch: EmojiPatch,
        reason: Option<String>,
    ) -> Result<Emoji, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let mut emoji = self.emoji_of(guild_id, emoji_id).await?;
        let before = emoji.clone();
        require_emoji_manager(&access, &emoji)?;
        let mut form = FormErrors::default();
        if let Some(name) = &patch.name {
            check_emoji_name(&mut form, name);
        }
        if let Some(Some(roles)) = &patch.roles {
            check_roles(&mut form, &access, roles);
        }
        form.finish()?;
        if let Some(name) = patch.name {
            emoji.name = name;
        }
        if let Some(roles) = patch.roles {
            emoji.roles = roles.unwrap_or_default();
        }
        if !self.store.update_emoji(guild_id, emoji.clone()).await? {
            return Err(unknown_emoji());
        }
        let changes = audit_log::changes(Some(&before), Some(&emoji), EMOJI_UNLOGGED);
        if !changes.is_empty() {
            let audit = Audit::new(action::EMOJI_UPDATE, Some(emoji_id), reason).changes(changes);
            self.record_audit(guild_id, caller.id(), audit).await;
        }
        self.announce_emojis(guild_id).await?;
        let mut shown = vec![emoji];
        self.show_creators(&access, &mut shown).await?;
        Ok(shown.remove(0))
    }

    /// `DELETE /guilds/{id}/emojis/{emoji_id}`: as for editing.
    pub async fn delete_emoji(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        emoji_id: Snowflake,
        reason: Option<String>,
    ) -> Result<(), ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        let emoji = self.emoji_of(guild_id, emoji_id).await?;
        require_emoji_manager(&access, &emoji)?;
        if !self.store.delete_emoji(guild_id, emoji_id).await? {
            return Err(unknown_emoji());
        }
        let changes = audit_log::changes(Some(&emoji), None, EMOJI_UNLOGGED);
        let audit = Audit::new(action::EMOJI_DELETE, Some(emoji_id), reason).changes(changes);
        self.record_audit(guild_id, caller.id(), audit).await;
        self.announce_emojis(guild_id).await
    }

    /// The stored image of an emoji (for serving it).
    pub async fn emoji_image(&self, emoji_id: Snowflake) -> Result<EmojiImage, ApiError> {
        self.store
            .emoji_image(emoji_id)
            .await?
            .ok_or_else(unknown_emoji)
    }

    /// The guild's emoji, or 10014.
    async fn emoji_of(&self, guild_id: Snowflake, emoji_id: Snowflake) -> Result<Emoji, ApiError> {
        match self.store.emoji(emoji_id).await? {
            Some((owner, emoji)) if owner == guild_id => Ok(emoji),
            _ => Err(unknown_emoji()),
        }
    }

    /// Fills `user` (the creator) for callers who manage or create expressions.
    async fn show_creators(
        &self,
        access: &GuildAccess,
        emojis: &mut [Emoji],
    ) -> Result<(), ApiError> {
        let sees = access.base().intersects(
            Permissions::MANAGE_GUILD_EXPRESSIONS | Permissions::CREATE_GUILD_EXPRESSIONS,
        );
        for emoji in emojis.iter_mut() {
            emoji.user = None;
            if let (true, Some(creator)) = (sees, emoji.creator_id) {
                emoji.user = self.store.user(creator).await?.map(|r| r.public());
            }
        }
        Ok(())
    }

    /// GUILD_EMOJIS_UPDATE with the guild's whole list (GUILD_EXPRESSIONS intent).
    async fn announce_emojis(&self, guild_id: Snowflake) -> Result<(), ApiError> {
        let emojis = self.store.emojis_of_guild(guild_id).await?;
        self.publish(
            Topic::Guild(guild_id),
            "GUILD_EMOJIS_UPDATE",
            &serde_json::json!({ "guild_id": guild_id, "emojis": emojis }),
            Audience::Everyone,
            None,
        )
    }
}

/// MANAGE_GUILD_EXPRESSIONS edits any emoji; CREATE_GUILD_EXPRESSIONS only one's own.
fn require_emoji_manager(access: &GuildAccess, emoji: &Emoji) -> Result<(), ApiError> {
    let base = access.base();
    let own = emoji.creator_id == Some(access.member.user_id)
        && base.contains(Permissions::CREATE_GUILD_EXPRESSIONS);
    if own || base.contains(Permissions::MANAGE_GUILD_EXPRESSIONS) {
        Ok(())
    } else {
        Err(ApiError::missing_permissions())
    }
}

/// 2–32 characters of letters, digits and underscores.
fn check_emoji_name(form: &mut FormErrors, name: &str) {
    let len = name.chars().count();
    if !(2..=32).contains(&len) {
        form.add(
            &["name"],
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 2 and 32 in length.",
        );
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        form.add(
            &["name"],
            "STRING_TYPE_REGEX",
            "String value did not match validation regex.",
        );
    }
}

/// Every role must be one of the guild's (not @everyone).
fn check_roles(form: &mut FormErrors, access: &GuildAccess, roles: &[Snowflake]) {
    for (index, role) in roles.iter().enumerate() {
        if *role == access.guild.id || access.role(*role).is_none() {
            form.add(
                &["roles", &index.to_string()],
                "BASE_TYPE_CHOICES",
                "Unknown role",
            );
        }
    }
}

/// Decodes `data:image/<png|jpeg|gif|webp>;base64,<data>` and checks that the bytes are that
/// kind of image and at most 256 KiB. Errors are (code, message) for the `image` field.
pub fn parse_image(uri: &str) -> Result<EmojiImage, (&'static str, String)> {
    let invalid = || ("IMAGE_INVALID", "Invalid image data".to_owned());
    let rest = uri.strip_prefix("data:").ok_or_else(invalid)?;
    let (content_type, data) = rest.split_once(";base64,").ok_or_else(invalid)?;
    let content_type = content_type.to_ascii_lowercase();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| invalid())?;
    if bytes.len() > MAX_EMOJI_BYTES {
        return Err((
            "BINARY_TYPE_MAX_SIZE",
            "File cannot be larger than 256.0 kb.".to_owned(),
        ));
    }
    let matches = match content_type.as_str() {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" | "image/jpg" => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "image/gif" => bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a"),
        "image/webp" => bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        _ => false,
    };
    if !matches {
        return Err(invalid());
    }
    let content_type = if content_type == "image/jpg" {
        "image/jpeg".to_owned()
    } else {
        content_type
    };
    Ok(EmojiImage {
        content_type,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_checked() {
        let png = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nrest")
        );
        assert_eq!(parse_image(&png).unwrap().content_type, "image/png");
        let gif = format!(
            "data:image/gif;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(b"GIF89a....")
        );
        assert_eq!(parse_image(&gif).unwrap().bytes, b"GIF89a....");
        for bad in [
            "",
            "image/png;base64,AAAA",
            "data:image/png;base64,!!!",
            "data:image/png;base64,R0lGODlh", // a GIF header labelled PNG
            "data:text/plain;base64,aGVsbG8=",
        ] {
            assert_eq!(parse_image(bad).unwrap_err().0, "IMAGE_INVALID", "{bad}");
        }
        let big = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(vec![0u8; MAX_EMOJI_BYTES + 1])
        );
        assert_eq!(parse_image(&big).unwrap_err().0, "BINARY_TYPE_MAX_SIZE");
    }
}
