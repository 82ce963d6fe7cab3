//! Rendered GUILD_CREATE snapshots of the guilds this node follows. A connection storm sends
//! the same guild to every identifying session; reading and rendering it from the store per
//! session made IDENTIFY cost five store reads and a multi-kilobyte render each. A snapshot is
//! dropped by any event on the guild's topic that may change it (see [`changes_snapshot`]),
//! and the node receives every such event for the guilds it follows.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::model::Snowflake;

/// The cached snapshots, each with the generation it was read under.
#[derive(Default)]
pub struct GuildSnapshots {
    entries: Mutex<HashMap<Snowflake, Entry>>,
    next_generation: AtomicU64,
}

struct Entry {
    /// Changes whenever the guild changes; a render read under an older one is not kept.
    generation: u64,
    rendered: Option<Arc<str>>,
}

/// A cache miss: read the guild, then [`GuildSnapshots::put`] with this generation.
pub struct Miss {
    generation: u64,
}

impl GuildSnapshots {
    fn entries(&self) -> MutexGuard<'_, HashMap<Snowflake, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn generation(&self) -> u64 {
        self.next_generation.fetch_add(1, Ordering::Relaxed)
    }

    /// The rendered snapshot, or the generation to read one under.
    pub fn get(&self, guild_id: Snowflake) -> Result<Arc<str>, Miss> {
        let mut entries = self.entries();
        if let Some(entry) = entries.get(&guild_id) {
            return match &entry.rendered {
                Some(rendered) => Ok(Arc::clone(rendered)),
                None => Err(Miss {
                    generation: entry.generation,
                }),
            };
        }
        let generation = self.generation();
        entries.insert(
            guild_id,
            Entry {
                generation,
                rendered: None,
            },
        );
        Err(Miss { generation })
    }

    /// Keeps a snapshot read after `miss`, unless the guild changed (or was forgotten) since:
    /// the read may then predate the change.
    pub fn put(&self, guild_id: Snowflake, miss: Miss, rendered: Arc<str>) {
        if let Some(entry) = self.entries().get_mut(&guild_id) {
            if entry.generation == miss.generation {
                entry.rendered = Some(rendered);
            }
        }
    }

    /// The guild (may have) changed: its snapshot goes, and reads in flight are not kept.
    pub fn invalidate(&self, guild_id: Snowflake) {
        let generation = self.generation();
        if let Some(entry) = self.entries().get_mut(&guild_id) {
            entry.generation = generation;
            entry.rendered = None;
        }
    }

    /// No session here follows the guild any more: its events stop arriving, so no snapshot
    /// of it may be kept.
    pub fn forget(&self, guild_id: Snowflake) {
        self.entries().remove(&guild_id);
    }

    /// Events may have been lost: nothing cached can be trusted.
    pub fn clear(&self) {
        self.entries().clear();
    }
}

/// Whether an event on a guild's topic may change its GUILD_CREATE snapshot. Only events known
/// to leave the guild, its roles, channels, emojis and member count alone are exempt; anything
/// else (including events added later) drops the snapshot.
pub fn changes_snapshot(event: &str) -> bool {
    !matches!(
        event,
        "TYPING_START"
            | "PRESENCE_UPDATE"
            | "MESSAGE_REACTION_ADD"
            | "MESSAGE_REACTION_REMOVE"
            | "MESSAGE_REACTION_REMOVE_ALL"
            | "MESSAGE_REACTION_REMOVE_EMOJI"
            | "GUILD_AUDIT_LOG_ENTRY_CREATE"
            | "VOICE_STATE_UPDATE"
            | "INTERACTION_CREATE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_that_raced_a_change_is_not_kept() {
        let snapshots = GuildSnapshots::default();
        let guild = Snowflake(7);
        let miss = snapshots.get(guild).err().unwrap();
        snapshots.invalidate(guild);
        snapshots.put(guild, miss, Arc::from("{\"old\":true}"));
        let miss = snapshots.get(guild).err().unwrap();
        snapshots.put(guild, miss, Arc::from("{\"new\":true}"));
        assert_eq!(&*snapshots.get(guild).ok().unwrap(), "{\"new\":true}");
        snapshots.invalidate(guild);
        assert!(snapshots.get(guild).is_err());
    }

    #[test]
    fn a_forgotten_guild_keeps_nothing_read_before() {
        let snapshots = GuildSnapshots::default();
        let guild = Snowflake(8);
        let stale = snapshots.get(guild).err().unwrap();
        snapshots.forget(guild);
        let fresh = snapshots.get(guild).err().unwrap();
        snapshots.put(guild, stale, Arc::from("{\"old\":true}"));
        assert!(snapshots.get(guild).is_err());
        snapshots.put(guild, fresh, Arc::from("{\"new\":true}"));
        assert_eq!(&*snapshots.get(guild).ok().unwrap(), "{\"new\":true}");
    }

    #[test]
    fn messages_change_the_snapshot_and_typing_does_not() {
        // MESSAGE_CREATE moves the channel's last_message_id, which GUILD_CREATE carries.
        assert!(changes_snapshot("MESSAGE_CREATE"));
        assert!(changes_snapshot("GUILD_MEMBER_ADD"));
        assert!(changes_snapshot("SOME_FUTURE_EVENT"));
        assert!(!changes_snapshot("TYPING_START"));
    }
}
