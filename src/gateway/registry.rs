//! Which local sessions exist and which guilds and users they follow, so the fan-out finds
//! an event's candidates with one lookup and the bus is told which topics the node needs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use super::session::Session;
use crate::bus::Topic;
use crate::model::Snowflake;

#[derive(Default)]
pub struct Registry {
    sessions: HashMap<u64, (Arc<Session>, HashSet<Snowflake>)>,
    by_key: HashMap<String, u64>,
    /// The followers of each topic, held directly so an event's recipients need no second
    /// lookup per session.
    by_topic: HashMap<Topic, HashMap<u64, Arc<Session>>>,
}

impl Registry {
    /// Adds a session following its user and `guilds`; returns the topics newly needed.
    pub fn add(&mut self, session: Arc<Session>, guilds: &[Snowflake]) -> Vec<Topic> {
        let session_id = session.number;
        let mut watch = Vec::new();
        let topics = std::iter::once(Topic::User(session.user_id()))
            .chain(guilds.iter().map(|g| Topic::Guild(*g)));
        for topic in topics {
            if self.follow(topic, &session) {
                watch.push(topic);
            }
        }
        self.by_key.insert(session.key.clone(), session_id);
        self.sessions
            .insert(session_id, (session, guilds.iter().copied().collect()));
        watch
    }

    /// The session a RESUME names.
    pub fn by_key(&self, key: &str) -> Option<Arc<Session>> {
        let number = self.by_key.get(key)?;
        self.sessions
            .get(number)
            .map(|(session, _)| Arc::clone(session))
    }

    /// Every session (for a graceful shutdown).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.sessions.values().map(|(s, _)| Arc::clone(s)).collect()
    }

    /// Sessions detached for longer than `window`.
    pub fn expired(&self, window: Duration) -> Vec<u64> {
        self.sessions
            .iter()
            .filter(|(_, (session, _))| session.expired(window))
            .map(|(number, _)| *number)
            .collect()
    }

    pub fn get(&self, number: u64) -> Option<Arc<Session>> {
        self.sessions.get(&number).map(|(s, _)| Arc::clone(s))
    }

    /// Whether any local session follows `topic` (without collecting them).
    pub fn follows(&self, topic: Topic) -> bool {
        self.by_topic.contains_key(&topic)
    }

    /// Whether the user has any session on this node.
    pub fn has_user(&self, user_id: Snowflake) -> bool {
        self.by_topic.contains_key(&Topic::User(user_id))
    }

    /// Removes a session; returns the topics no local session needs any more.
    pub fn remove(&mut self, session_id: u64) -> Vec<Topic> {
        let Some((session, guilds)) = self.sessions.remove(&session_id) else {
            return Vec::new();
        };
        self.by_key.remove(&session.key);
        std::iter::once(Topic::User(session.user_id()))
            .chain(guilds.into_iter().map(Topic::Guild))
            .filter(|topic| self.unfollow(*topic, session_id))
            .collect()
    }

    /// Sessions of `user_id` whose shard carries `guild_id` start following it; returns the
    /// topics newly needed.
    pub fn join_guild(&mut self, user_id: Snowflake, guild_id: Snowflake) -> Vec<Topic> {
        let session_ids: Vec<u64> = self
            .by_topic
            .get(&Topic::User(user_id))
            .map(|ids| ids.keys().copied().collect())
            .unwrap_or_default();
        let mut watch = Vec::new();
        for session_id in session_ids {
            if let Some((session, guilds)) = self.sessions.get_mut(&session_id) {
                if !session.carries_guild(guild_id) {
                    continue;
                }
                guilds.insert(guild_id);
                let session = Arc::clone(session);
                if self.follow(Topic::Guild(guild_id), &session) {
                    watch.push(Topic::Guild(guild_id));
                }
            }
        }
        watch
    }

    /// All sessions of `user_id` stop following `guild_id` (kicked, banned, left); returns the
    /// topics no local session needs any more.
    pub fn leave_guild(&mut self, user_id: Snowflake, guild_id: Snowflake) -> Vec<Topic> {
        let session_ids: Vec<u64> = self
            .by_topic
            .get(&Topic::User(user_id))
            .map(|ids| ids.keys().copied().collect())
            .unwrap_or_default();
        self.unfollow_guild(guild_id, &session_ids)
    }

    /// Every session stops following a deleted guild.
    pub fn drop_guild(&mut self, guild_id: Snowflake) -> Vec<Topic> {
        let session_ids: Vec<u64> = self
            .by_topic
            .get(&Topic::Guild(guild_id))
            .map(|ids| ids.keys().copied().collect())
            .unwrap_or_default();
        self.unfollow_guild(guild_id, &session_ids)
    }

    fn unfollow_guild(&mut self, guild_id: Snowflake, session_ids: &[u64]) -> Vec<Topic> {
        let mut unwatch = Vec::new();
        for session_id in session_ids {
            if let Some((_, guilds)) = self.sessions.get_mut(session_id) {
                if guilds.remove(&guild_id) && self.unfollow(Topic::Guild(guild_id), *session_id) {
                    unwatch.push(Topic::Guild(guild_id));
                }
            }
        }
        unwatch
    }

    /// The sessions following `topic`.
    pub fn recipients(&self, topic: Topic) -> Vec<Arc<Session>> {
        self.by_topic
            .get(&topic)
            .map(|followers| followers.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Returns true when this is the topic's first local follower.
    fn follow(&mut self, topic: Topic, session: &Arc<Session>) -> bool {
        let followers = self.by_topic.entry(topic).or_default();
        followers.insert(session.number, Arc::clone(session));
        followers.len() == 1
    }

    /// Returns true when the topic has no local follower left.
    fn unfollow(&mut self, topic: Topic, session_id: u64) -> bool {
        let Some(followers) = self.by_topic.get_mut(&topic) else {
            return false;
        };
        followers.remove(&session_id);
        if followers.is_empty() {
            self.by_topic.remove(&topic);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CurrentUser, User};
    use crate::service::Caller;

    fn recipient(number: u64, user: u64) -> Arc<Session> {
        let (sender, _) = tokio::sync::mpsc::channel(1);
        let caller = Caller {
            user: CurrentUser::new(User::new(Snowflake(user), "u".into(), false), None),
        };
        Arc::new(Session::new(
            number,
            format!("key{number}"),
            caller,
            0,
            sender,
        ))
    }

    #[test]
    fn topics_are_reference_counted() {
        let mut registry = Registry::default();
        let g = Snowflake(10);
        assert_eq!(
            registry.add(recipient(1, 5), &[g]),
            vec![Topic::User(Snowflake(5)), Topic::Guild(g)]
        );
        assert!(registry
            .add(recipient(2, 6), &[g])
            .contains(&Topic::User(Snowflake(6))));
        assert_eq!(registry.recipients(Topic::Guild(g)).len(), 2);
        assert_eq!(registry.remove(1), vec![Topic::User(Snowflake(5))]);
        assert_eq!(
            registry.remove(2),
            vec![Topic::User(Snowflake(6)), Topic::Guild(g)]
        );
        assert!(registry.recipients(Topic::Guild(g)).is_empty());
        assert!(registry.by_key("key1").is_none());
    }

    #[test]
    fn joining_a_guild_follows_it_for_every_session_of_the_user() {
        let mut registry = Registry::default();
        registry.add(recipient(1, 5), &[]);
        registry.add(recipient(2, 5), &[]);
        let g = Snowflake(11);
        assert_eq!(registry.join_guild(Snowflake(5), g), vec![Topic::Guild(g)]);
        assert_eq!(registry.recipients(Topic::Guild(g)).len(), 2);
        assert_eq!(registry.leave_guild(Snowflake(5), g), vec![Topic::Guild(g)]);
        assert!(registry.recipients(Topic::Guild(g)).is_empty());
        registry.join_guild(Snowflake(5), g);
        assert_eq!(registry.drop_guild(g), vec![Topic::Guild(g)]);
        assert!(registry.recipients(Topic::Guild(g)).is_empty());
    }
}
