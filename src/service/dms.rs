//! Direct messages: opening a DM channel (one per pair of users, whoever opens it), listing a
//! user's DMs, who may message whom, and publishing a channel's events to the right sessions
//! (a guild channel's viewers, or a DM's users through their user topics).
//!
//! Opening a DM always succeeds for an existing user (as on Discord); sending in it is what is
//! refused (50007) when the two users share no guild, or when both are bots. The rule is the
//! same for bots and people.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Caller, Service};
use crate::bus::{Audience, Topic};
use crate::error::ApiError;
use crate::model::{Channel, Snowflake};

/// `POST /users/@me/channels` body.
#[derive(Debug, Deserialize)]
pub struct NewDm {
    pub recipient_id: Snowflake,
}

impl Service {
    /// The DM channel between the caller and `recipient_id`, created on first use; the same
    /// channel every time (the store keeps one per pair, under concurrency too). 10013 for an
    /// unknown user.
    pub async fn open_dm(&self, caller: &Caller, body: NewDm) -> Result<Channel, ApiError> {
        let recipient = self
            .store
            .user(body.recipient_id)
            .await?
            .ok_or_else(ApiError::unknown_user)?
            .public();
        if recipient.id == caller.id() {
            return Err(cannot_message_user());
        }
        let fresh = Channel::dm(self.next_id(), [caller.user.user.clone(), recipient]);
        let channel = self.store.open_dm(fresh).await?;
        self.present_dm(channel, caller.id()).await
    }

    /// `GET /users/@me/channels`: the caller's DM channels (bots get an empty list, as on
    /// Discord, which keeps no DM list for bots).
    pub async fn dm_channels(&self, caller: &Caller) -> Result<Vec<Channel>, ApiError> {
        if caller.is_bot() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for channel in self.store.dm_channels_of_user(caller.id()).await? {
            out.push(self.present_dm(channel, caller.id()).await?);
        }
        Ok(out)
    }

    /// A DM channel as `viewer` sees it: the other users, with their current profiles.
    pub(super) async fn present_dm(
        &self,
        mut channel: Channel,
        viewer: Snowflake,
    ) -> Result<Channel, ApiError> {
        channel = channel.seen_by(viewer);
        for user in &mut channel.recipients {
            if let Some(record) = self.store.user(user.id).await? {
                *user = record.public();
            }
        }
        Ok(channel)
    }

    /// 50007 unless the caller may message every other user of the DM: they share a guild,
    /// and they are not both bots.
    pub(super) async fn check_can_dm(
        &self,
        caller: &Caller,
        channel: &Channel,
    ) -> Result<(), ApiError> {
        let mut mine = self.store.guild_ids_of_user(caller.id()).await?;
        mine.sort_unstable();
        for other in channel.recipients.iter().filter(|u| u.id != caller.id()) {
            if caller.is_bot() && other.bot {
                return Err(cannot_message_user());
            }
            let theirs = self.store.guild_ids_of_user(other.id).await?;
            if !theirs.iter().any(|id| mine.binary_search(id).is_ok()) {
                return Err(cannot_message_user());
            }
        }
        Ok(())
    }

    /// CHANNEL_CREATE with the DM channel to its users other than `author`, before the first
    /// message in it: a client learns of a DM the other side opened when it is first used.
    pub(super) fn announce_new_dm(
        &self,
        channel: &Channel,
        author: Snowflake,
    ) -> Result<(), ApiError> {
        for user in channel.recipients.iter().filter(|u| u.id != author) {
            self.publish(
                Topic::User(user.id),
                "CHANNEL_CREATE",
                &channel.clone().seen_by(user.id),
                Audience::DirectMessage,
                None,
            )?;
        }
        Ok(())
    }

    /// Publishes an event that happens in a channel: in a guild channel to the members who can
    /// see it; in a DM to each of its users' sessions (DM intents apply, and `guild_id: null`
    /// is left out as Discord leaves it out in DMs).
    pub(super) fn publish_in_channel<T: Serialize>(
        &self,
        channel: &Channel,
        event: &str,
        data: &T,
        subject_user: Option<Snowflake>,
    ) -> Result<(), ApiError> {
        if let Some(guild_id) = channel.guild_id {
            return self.publish(
                Topic::Guild(guild_id),
                event,
                data,
                Audience::Channel(channel.id),
                subject_user,
            );
        }
        let mut data = serde_json::to_value(data).map_err(|_| ApiError::internal())?;
        if let Some(object) = data.as_object_mut() {
            if object.get("guild_id") == Some(&Value::Null) {
                object.remove("guild_id");
            }
        }
        for user in &channel.recipients {
            self.publish(
                Topic::User(user.id),
                event,
                &data,
                Audience::DirectMessage,
                subject_user,
            )?;
        }
        Ok(())
    }

    /// READY `private_channels`: a user's DMs (bots start with none, as on Discord).
    pub(super) async fn private_channels(&self, caller: &Caller) -> Result<Vec<Channel>, ApiError> {
        self.dm_channels(caller).await
    }
}

/// Discord's answer when the recipient cannot be messaged.
fn cannot_message_user() -> ApiError {
    ApiError::new(403, 50007, "Cannot send messages to this user")
}
