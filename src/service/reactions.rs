//! Reactions: adding and removing them, listing who reacted, and the `reactions` field of
//! messages in REST answers. Reactions live apart from their message in the store (one record
//! per message, emoji and user) and go with it when it is deleted.

use serde::Deserialize;

use super::{Caller, ChannelAccess, Service};
use crate::error::ApiError;
use crate::model::{Message, PartialEmoji, Reaction, ReactionCountDetails, Snowflake, User};
use crate::permissions::Permissions;
use crate::store::StoredReaction;

/// Most different emojis one message carries (Discord: 20).
pub const MAX_REACTION_EMOJIS: usize = 20;

/// `GET /channels/{id}/messages/{mid}/reactions/{emoji}` query.
#[derive(Debug, Default, Deserialize)]
pub struct ReactionQuery {
    /// Users with ids above this one.
    pub after: Option<Snowflake>,
    /// 1–100, default 25.
    pub limit: Option<u32>,
    /// 0 normal, 1 burst (super reactions, which this server never has).
    #[serde(rename = "type")]
    pub kind: Option<u8>,
}

/// Discord's answer for an emoji it does not know, or one not written as a URL-encoded unicode
/// emoji or `name:id`.
pub fn unknown_emoji() -> ApiError {
    ApiError::new(400, 10014, "Unknown Emoji")
}

/// An emoji as a reaction route names it, before it is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmojiRef {
    /// A unicode emoji, as written.
    Unicode(String),
    /// A custom emoji `name:id` (or `a:name:id`); only the id matters.
    Custom(Snowflake),
}

impl EmojiRef {
    /// Parses the (already URL-decoded) path segment: a unicode emoji known to Unicode's emoji
    /// list (skin tones and ZWJ sequences included), or `name:id` / `a:name:id`. Anything
    /// else is 10014.
    pub fn parse(raw: &str) -> Result<EmojiRef, ApiError> {
        if emojis::get(raw).is_some() {
            return Ok(EmojiRef::Unicode(raw.to_owned()));
        }
        let custom = raw.strip_prefix("a:").unwrap_or(raw);
        let (name, id) = custom.rsplit_once(':').ok_or_else(unknown_emoji)?;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '~');
        match Snowflake::parse(id) {
            Some(id) if valid_name => Ok(EmojiRef::Custom(id)),
            _ => Err(unknown_emoji()),
        }
    }

    /// The key reactions with this emoji are stored under (see `PartialEmoji::key`).
    pub fn key(&self) -> String {
        match self {
            EmojiRef::Unicode(text) => text.clone(),
            EmojiRef::Custom(id) => id.0.to_string(),
        }
    }
}

impl Service {
    /// `PUT .../reactions/{emoji}/@me`: READ_MESSAGE_HISTORY, plus ADD_REACTIONS for an emoji
    /// nobody has used on the message yet; a custom emoji must exist (one of another guild
    /// needs USE_EXTERNAL_EMOJIS and membership there). MESSAGE_REACTION_ADD when new.
    pub async fn add_reaction(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        raw_emoji: &str,
    ) -> Result<(), ApiError> {
        let (access, message) = self
            .reaction_target(
                caller,
                channel_id,
                message_id,
                Permissions::READ_MESSAGE_HISTORY,
            )
            .await?;
        let emoji_ref = EmojiRef::parse(raw_emoji)?;
        let emoji = self.usable_emoji(caller, &access, &emoji_ref).await?;
        let key = emoji.key();
        let used = !self
            .store
            .reaction_users(message_id, &key, Snowflake(0), 1)
            .await?
            .is_empty();
        if !used && !access.perms.contains(Permissions::ADD_REACTIONS) {
            return Err(ApiError::missing_permissions());
        }
        let reaction = StoredReaction {
            channel_id,
            message_id,
            user_id: caller.id(),
            emoji: emoji.clone(),
            order: self.next_id(),
        };
        let added = match self.store.add_reaction(reaction, MAX_REACTION_EMOJIS).await {
            Ok(Some(added)) => added,
            Ok(None) => return Err(ApiError::unknown_message()),
            Err(crate::error::StoreError::Conflict("reactions")) => {
                return Err(ApiError::new(
                    400,
                    30010,
                    format!("Maximum number of reactions reached ({MAX_REACTION_EMOJIS})"),
                ))
            }
            Err(err) => return Err(err.into()),
        };
        if !added {
            return Ok(());
        }
        let guild_id = access.channel.guild_id;
        let mut data = serde_json::json!({
            "user_id": caller.id(),
            "channel_id": channel_id,
            "message_id": message_id,
            "guild_id": guild_id,
            "emoji": emoji,
            "message_author_id": message.author.id,
            "burst": false,
            "burst_colors": [],
            "type": 0,
        });
        // In a guild the event carries the reacting member (with its user); DMs have none.
        if let Some(guild) = &access.guild {
            let mut member =
                serde_json::to_value(&guild.member).map_err(|_| ApiError::internal())?;
            member["user"] = serde_json::json!(caller.user.user);
            data["member"] = member;
        }
        self.publish_in_channel(&access.channel, "MESSAGE_REACTION_ADD", &data, None)
    }

    /// `DELETE .../reactions/{emoji}/@me` (`user_id` None) or `.../{user_id}`: removing
    /// someone else's reaction needs MANAGE_MESSAGES. MESSAGE_REACTION_REMOVE when one was
    /// removed.
    pub async fn remove_reaction(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        raw_emoji: &str,
        user_id: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        let user_id = user_id.unwrap_or(caller.id());
        let needed = if user_id == caller.id() {
            Permissions::empty()
        } else {
            Permissions::MANAGE_MESSAGES
        };
        let (access, _) = self
            .reaction_target(caller, channel_id, message_id, needed)
            .await?;
        let emoji = self.known_emoji(message_id, raw_emoji).await?;
        if !self
            .store
            .remove_reaction(message_id, &emoji.key(), user_id)
            .await?
        {
            return Ok(());
        }
        let guild_id = access.channel.guild_id;
        self.publish_in_channel(
            &access.channel,
            "MESSAGE_REACTION_REMOVE",
            &serde_json::json!({
                "user_id": user_id,
                "channel_id": channel_id,
                "message_id": message_id,
                "guild_id": guild_id,
                "emoji": emoji,
                "burst": false,
                "type": 0,
            }),
            None,
        )
    }

    /// `DELETE .../reactions` (`raw_emoji` None) or `.../reactions/{emoji}`: MANAGE_MESSAGES.
    /// MESSAGE_REACTION_REMOVE_ALL or MESSAGE_REACTION_REMOVE_EMOJI when any was removed.
    pub async fn remove_all_reactions(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        raw_emoji: Option<&str>,
    ) -> Result<(), ApiError> {
        let (access, _) = self
            .reaction_target(caller, channel_id, message_id, Permissions::MANAGE_MESSAGES)
            .await?;
        let emoji = match raw_emoji {
            Some(raw) => Some(self.known_emoji(message_id, raw).await?),
            None => None,
        };
        let key = emoji.as_ref().map(PartialEmoji::key);
        let removed = self
            .store
            .remove_reactions(message_id, key.as_deref())
            .await?;
        if removed == 0 {
            return Ok(());
        }
        let guild_id = access.channel.guild_id;
        let (event, data) = match emoji {
            Some(emoji) => (
                "MESSAGE_REACTION_REMOVE_EMOJI",
                serde_json::json!({
                    "channel_id": channel_id,
                    "guild_id": guild_id,
                    "message_id": message_id,
                    "emoji": emoji,
                }),
            ),
            None => (
                "MESSAGE_REACTION_REMOVE_ALL",
                serde_json::json!({
                    "channel_id": channel_id,
                    "message_id": message_id,
                    "guild_id": guild_id,
                }),
            ),
        };
        self.publish_in_channel(&access.channel, event, &data, None)
    }

    /// `GET .../reactions/{emoji}`: the users who reacted, by ascending id after `after`
    /// (READ_MESSAGE_HISTORY).
    pub async fn reaction_users(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        raw_emoji: &str,
        query: ReactionQuery,
    ) -> Result<Vec<User>, ApiError> {
        let limit = query.limit.unwrap_or(25);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::invalid_field(
                &["limit"],
                if limit == 0 {
                    "NUMBER_TYPE_MIN"
                } else {
                    "NUMBER_TYPE_MAX"
                },
                "int value should be between 1 and 100.",
            ));
        }
        let kind = query.kind.unwrap_or(0);
        if kind > 1 {
            return Err(ApiError::invalid_field(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be one of (0, 1).",
            ));
        }
        self.reaction_target(
            caller,
            channel_id,
            message_id,
            Permissions::READ_MESSAGE_HISTORY,
        )
        .await?;
        let emoji = self.known_emoji(message_id, raw_emoji).await?;
        if kind == 1 {
            // No burst (super) reactions exist here.
            return Ok(Vec::new());
        }
        let ids = self
            .store
            .reaction_users(
                message_id,
                &emoji.key(),
                query.after.unwrap_or(Snowflake(0)),
                limit,
            )
            .await?;
        let mut users = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = self.store.user(id).await? {
                users.push(record.public());
            }
        }
        Ok(users)
    }

    /// Fills `reactions` of messages in a REST answer, `me` as seen by `viewer`.
    pub(super) async fn fill_reactions(
        &self,
        viewer: Snowflake,
        messages: &mut [Message],
    ) -> Result<(), ApiError> {
        let ids: Vec<Snowflake> = messages.iter().map(|m| m.id).collect();
        let summaries = self.store.reaction_summaries(&ids, viewer).await?;
        for summary in summaries {
            if let Some(message) = messages.iter_mut().find(|m| m.id == summary.message_id) {
                message.reactions.push(Reaction {
                    count: summary.count,
                    count_details: ReactionCountDetails {
                        burst: 0,
                        normal: summary.count,
                    },
                    me: summary.me,
                    me_burst: false,
                    burst_colors: Vec::new(),
                    emoji: summary.emoji,
                });
            }
        }
        Ok(())
    }

    /// The caller's access to the channel (holding `needed` there) and the message.
    async fn reaction_target(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        message_id: Snowflake,
        needed: Permissions,
    ) -> Result<(ChannelAccess, Message), ApiError> {
        let access = self.require_channel(caller, channel_id, needed).await?;
        let message = self.existing_message(channel_id, message_id).await?;
        Ok((access, message))
    }

    /// The emoji a reaction may be added with: any unicode emoji; a custom one that exists and
    /// is available, from this guild or (with USE_EXTERNAL_EMOJIS) one the caller is in, and,
    /// when the emoji is restricted to roles, that the caller holds one of there.
    async fn usable_emoji(
        &self,
        caller: &Caller,
        access: &ChannelAccess,
        emoji: &EmojiRef,
    ) -> Result<PartialEmoji, ApiError> {
        let emoji_id = match emoji {
            EmojiRef::Unicode(text) => {
                return Ok(PartialEmoji {
                    id: None,
                    name: Some(text.clone()),
                    animated: None,
                })
            }
            EmojiRef::Custom(id) => *id,
        };
        let Some((guild_id, custom)) = self.store.emoji(emoji_id).await? else {
            return Err(unknown_emoji());
        };
        if !custom.available {
            return Err(unknown_emoji());
        }
        let roles = if Some(guild_id) == access.channel.guild_id {
            access
                .guild
                .as_ref()
                .map(|guild| guild.member.roles.clone())
                .unwrap_or_default()
        } else {
            let Some(member) = self.store.member(guild_id, caller.id()).await? else {
                return Err(unknown_emoji());
            };
            if !access.perms.contains(Permissions::USE_EXTERNAL_EMOJIS) {
                return Err(ApiError::missing_permissions());
            }
            member.roles
        };
        // An emoji restricted to roles is usable only by members holding one of them.
        if !custom.roles.is_empty() && !custom.roles.iter().any(|role| roles.contains(role)) {
            return Err(unknown_emoji());
        }
        Ok(PartialEmoji {
            id: Some(custom.id),
            name: Some(custom.name),
            animated: Some(custom.animated),
        })
    }

    /// The emoji a read or removal names: a unicode emoji, or a custom emoji that exists or
    /// is still on the message (reactions outlive a deleted emoji, as on Discord).
    async fn known_emoji(
        &self,
        message_id: Snowflake,
        raw_emoji: &str,
    ) -> Result<PartialEmoji, ApiError> {
        let emoji_ref = EmojiRef::parse(raw_emoji)?;
        let EmojiRef::Custom(emoji_id) = emoji_ref else {
            return Ok(PartialEmoji {
                id: None,
                name: Some(emoji_ref.key()),
                animated: None,
            });
        };
        if let Some((_, custom)) = self.store.emoji(emoji_id).await? {
            return Ok(PartialEmoji {
                id: Some(custom.id),
                name: Some(custom.name),
                animated: Some(custom.animated),
            });
        }
        let on_message = self
            .store
            .reaction_summaries(&[message_id], Snowflake(0))
            .await?
            .into_iter()
            .find(|summary| summary.emoji.id == Some(emoji_id));
        match on_message {
            Some(summary) => Ok(summary.emoji),
            None => Err(unknown_emoji()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_forms() {
        assert_eq!(
            EmojiRef::parse("👍").unwrap(),
            EmojiRef::Unicode("👍".into())
        );
        assert!(EmojiRef::parse("👍🏽").is_ok());
        assert!(EmojiRef::parse("❤️").is_ok());
        assert!(EmojiRef::parse("👨‍👩‍👧").is_ok());
        assert_eq!(
            EmojiRef::parse("party_blob:123").unwrap(),
            EmojiRef::Custom(Snowflake(123))
        );
        assert_eq!(
            EmojiRef::parse("a:dance:456").unwrap(),
            EmojiRef::Custom(Snowflake(456))
        );
        for bad in [
            "",
            "garbage",
            "x",
            ":123",
            "name:",
            "name:abc",
            "%F0%9F%91%8D",
            "👍👍",
        ] {
            assert_eq!(EmojiRef::parse(bad).unwrap_err().code, 10014, "{bad}");
        }
    }
}
