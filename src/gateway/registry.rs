//! Which local sessions exist and which guilds and users they follow, so the fan-out finds
//! an event's candidates with one lookup and the bus is told which topics the node needs.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::session::Session;
use crate::bus::Topic;
use crate::model::Snowflake;

#[derive(Default)]
pub struct Registry {
    /// Each session and the guilds it follows (a handful: a list, not a set of its own).
    sessions: HashMap<u64, (Arc<Session>, Vec<Snowflake>)>,
    by_key: HashMap<Arc<str>, u64>,
    /// The followers of each topic, held directly so an event's recipients need no second
    /// lookup per session.
    by_topic: HashMap<Topic, Followers>,
}

/// A topic's local followers. A user's topic mostly has one session, held without a map of
/// its own (a map per user cost about 100 bytes a session); a guild's has many, behind a box
/// so every user's entry in the topic index stays two words.
#[allow(clippy::box_collection)] // the box is the point: the enum stays two words
enum Followers {
    One(Arc<Session>),
    Many(Box<HashMap<u64, Follower>>),
}

/// A follower of a topic with many, and what the fan-out filters on, kept beside the session:
/// filtering thousands of followers then reads this map instead of every session's memory (a
/// cache and TLB miss each, which profiles showed as the fan-out's largest cost per event
/// before any write; only the recipients' sessions are touched).
struct Follower {
    user_id: Snowflake,
    intents: u64,
    session: Arc<Session>,
}

impl Follower {
    fn of(session: &Arc<Session>) -> Follower {
        Follower {
            user_id: session.user_id(),
            intents: session.intents,
            session: Arc::clone(session),
        }
    }
}

/// What the fan-out sees of one follower of an event's topic.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    pub user_id: Snowflake,
    pub intents: u64,
    pub session: &'a Arc<Session>,
}

impl<'a> Candidate<'a> {
    fn of_session(session: &'a Arc<Session>) -> Candidate<'a> {
        Candidate {
            user_id: session.user_id(),
            intents: session.intents,
            session,
        }
    }

    fn of_follower(follower: &'a Follower) -> Candidate<'a> {
        Candidate {
            user_id: follower.user_id,
            intents: follower.intents,
            session: &follower.session,
        }
    }
}

impl Followers {
    fn insert(&mut self, session: &Arc<Session>) {
        match self {
            Followers::One(only) if only.number == session.number => {}
            Followers::One(only) => {
                let map = [Follower::of(only), Follower::of(session)]
                    .into_iter()
                    .map(|f| (f.session.number, f))
                    .collect();
                *self = Followers::Many(Box::new(map));
            }
            Followers::Many(map) => {
                map.insert(session.number, Follower::of(session));
            }
        }
    }

    /// Removes session `number`; whether no follower is left.
    fn remove(&mut self, number: u64) -> bool {
        match self {
            Followers::One(only) => only.number == number,
            Followers::Many(map) => {
                map.remove(&number);
                map.is_empty()
            }
        }
    }

    fn candidates(&self) -> Vec<Candidate<'_>> {
        match self {
            Followers::One(only) => vec![Candidate::of_session(only)],
            Followers::Many(map) => map.values().map(Candidate::of_follower).collect(),
        }
    }

    fn numbers(&self) -> Vec<u64> {
        match self {
            Followers::One(only) => vec![only.number],
            Followers::Many(map) => map.keys().copied().collect(),
        }
    }
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
        self.by_key.insert(Arc::clone(&session.key), session_id);
        self.sessions.insert(session_id, (session, guilds.to_vec()));
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
        let session_ids = self.followers_of(Topic::User(user_id));
        let mut watch = Vec::new();
        for session_id in session_ids {
            if let Some((session, guilds)) = self.sessions.get_mut(&session_id) {
                if !session.carries_guild(guild_id) {
                    continue;
                }
                if !guilds.contains(&guild_id) {
                    guilds.push(guild_id);
                }
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
        let session_ids = self.followers_of(Topic::User(user_id));
        self.unfollow_guild(guild_id, &session_ids)
    }

    /// Every session stops following a deleted guild.
    pub fn drop_guild(&mut self, guild_id: Snowflake) -> Vec<Topic> {
        let session_ids = self.followers_of(Topic::Guild(guild_id));
        self.unfollow_guild(guild_id, &session_ids)
    }

    /// The numbers of the sessions following `topic`.
    fn followers_of(&self, topic: Topic) -> Vec<u64> {
        self.by_topic
            .get(&topic)
            .map(Followers::numbers)
            .unwrap_or_default()
    }

    fn unfollow_guild(&mut self, guild_id: Snowflake, session_ids: &[u64]) -> Vec<Topic> {
        let mut unwatch = Vec::new();
        for session_id in session_ids {
            let Some((_, guilds)) = self.sessions.get_mut(session_id) else {
                continue;
            };
            let Some(at) = guilds.iter().position(|g| *g == guild_id) else {
                continue;
            };
            guilds.swap_remove(at);
            if self.unfollow(Topic::Guild(guild_id), *session_id) {
                unwatch.push(Topic::Guild(guild_id));
            }
        }
        unwatch
    }

    /// The followers of `topic`, for the fan-out to filter before it touches any session.
    pub fn candidates(&self, topic: Topic) -> Vec<Candidate<'_>> {
        self.by_topic
            .get(&topic)
            .map(Followers::candidates)
            .unwrap_or_default()
    }

    /// Returns true when this is the topic's first local follower.
    fn follow(&mut self, topic: Topic, session: &Arc<Session>) -> bool {
        match self.by_topic.entry(topic) {
            Entry::Vacant(vacant) => {
                vacant.insert(Followers::One(Arc::clone(session)));
                true
            }
            Entry::Occupied(mut followers) => {
                followers.get_mut().insert(session);
                false
            }
        }
    }

    /// Returns true when the topic has no local follower left.
    fn unfollow(&mut self, topic: Topic, session_id: u64) -> bool {
        let Some(followers) = self.by_topic.get_mut(&topic) else {
            return false;
        };
        let none_left = followers.remove(session_id);
        if none_left {
            self.by_topic.remove(&topic);
        }
        none_left
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CurrentUser, User};
    use crate::service::Caller;

    fn recipient(number: u64, user: u64) -> Arc<Session> {
        let caller = Caller {
            user: CurrentUser::new(User::new(Snowflake(user), "u".into(), false), None),
        };
        Arc::new(Session::new(
            number,
            format!("key{number}"),
            caller,
            0,
            Default::default(),
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
        assert_eq!(registry.candidates(Topic::Guild(g)).len(), 2);
        assert_eq!(registry.remove(1), vec![Topic::User(Snowflake(5))]);
        assert_eq!(
            registry.remove(2),
            vec![Topic::User(Snowflake(6)), Topic::Guild(g)]
        );
        assert!(registry.candidates(Topic::Guild(g)).is_empty());
        assert!(registry.by_key("key1").is_none());
    }

    #[test]
    fn a_user_topic_outlives_one_of_two_sessions() {
        let mut registry = Registry::default();
        let user = Topic::User(Snowflake(5));
        assert_eq!(registry.add(recipient(1, 5), &[]), vec![user]);
        assert!(registry.add(recipient(2, 5), &[]).is_empty());
        assert_eq!(registry.candidates(user).len(), 2);
        assert!(registry.remove(1).is_empty());
        assert_eq!(registry.candidates(user).len(), 1);
        assert_eq!(registry.remove(2), vec![user]);
        assert!(registry.candidates(user).is_empty());
    }

    #[test]
    fn joining_a_guild_follows_it_for_every_session_of_the_user() {
        let mut registry = Registry::default();
        registry.add(recipient(1, 5), &[]);
        registry.add(recipient(2, 5), &[]);
        let g = Snowflake(11);
        assert_eq!(registry.join_guild(Snowflake(5), g), vec![Topic::Guild(g)]);
        assert_eq!(registry.candidates(Topic::Guild(g)).len(), 2);
        assert_eq!(registry.leave_guild(Snowflake(5), g), vec![Topic::Guild(g)]);
        assert!(registry.candidates(Topic::Guild(g)).is_empty());
        registry.join_guild(Snowflake(5), g);
        assert_eq!(registry.drop_guild(g), vec![Topic::Guild(g)]);
        assert!(registry.candidates(Topic::Guild(g)).is_empty());
    }
}
