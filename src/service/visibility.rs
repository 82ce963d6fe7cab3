//! The node's view of each followed guild's permission facts (owner, role permissions, channel
//! overwrites, member role sets), kept current by the same events the node delivers, so
//! deciding who may see a channel event costs a few engine runs per event, not one per member.
//!
//! Results are memoised per (channel, role set, timed out) in a dense vector indexed by the
//! interned role-set id; members with their own overwrite in a channel and the owner are
//! computed directly. Any role or owner change clears the memo, a channel change clears that
//! channel's, so a change takes effect for the very next event.

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::model::{Channel, Member, Role, Snowflake};
use crate::permissions::{self, ChannelKind, IndexedOverwrites, MemberFacts, Permissions};

/// What the engine needs of one member.
#[derive(Debug, Clone)]
struct MemberState {
    roles: Vec<u64>,
    /// Interned id of the sorted role set (the memo key).
    role_set: u32,
    timed_out_until: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone)]
struct ChannelState {
    kind: ChannelKind,
    overwrites: IndexedOverwrites,
}

/// Permission facts of one guild as this node knows them.
#[derive(Debug, Clone)]
pub struct GuildPermissions {
    guild_id: Snowflake,
    owner_id: Snowflake,
    roles: HashMap<u64, Permissions>,
    channels: FxHashMap<Snowflake, ChannelState>,
    members: FxHashMap<Snowflake, MemberState>,
    role_sets: HashMap<Vec<u64>, u32>,
    /// Per channel: indexed by role-set id, then by "timed out".
    memo: FxHashMap<Snowflake, Vec<[Option<Permissions>; 2]>>,
}

impl GuildPermissions {
    /// Builds the view from a consistent read of the guild.
    pub fn new(
        guild_id: Snowflake,
        owner_id: Snowflake,
        roles: &[Role],
        channels: &[Channel],
        members: &[Member],
    ) -> Self {
        let mut view = GuildPermissions {
            guild_id,
            owner_id,
            roles: roles.iter().map(|r| (r.id.0, r.permissions)).collect(),
            channels: FxHashMap::default(),
            members: FxHashMap::default(),
            role_sets: HashMap::new(),
            memo: FxHashMap::default(),
        };
        for channel in channels {
            view.upsert_channel(channel);
        }
        for member in members {
            view.upsert_member(
                member.user_id,
                &member.roles,
                member.communication_disabled_until.as_deref(),
            );
        }
        view
    }

    /// Whether `user_id` can VIEW_CHANNEL in `channel_id` now (false for non-members and
    /// unknown channels).
    pub fn can_view(&mut self, user_id: Snowflake, channel_id: Snowflake) -> bool {
        self.channel_permissions(user_id, channel_id)
            .is_some_and(|p| p.contains(Permissions::VIEW_CHANNEL))
    }

    /// Keeps the items whose user can VIEW_CHANNEL in `channel_id` (none if the channel is
    /// unknown). The fan-out's filter: one channel lookup per event, then per member one map
    /// lookup and, for a role set already seen, one vector index.
    pub fn retain_viewers<T>(
        &mut self,
        channel_id: Snowflake,
        items: &mut Vec<T>,
        user_of: impl Fn(&T) -> Snowflake,
    ) {
        if !self.channels.contains_key(&channel_id) {
            items.clear();
            return;
        }
        items.retain(|item| {
            self.channel_permissions(user_of(item), channel_id)
                .is_some_and(|p| p.contains(Permissions::VIEW_CHANNEL))
        });
    }

    /// The member's permissions in the channel, or `None` when either is unknown.
    pub fn channel_permissions(
        &mut self,
        user_id: Snowflake,
        channel_id: Snowflake,
    ) -> Option<Permissions> {
        let member = self.members.get(&user_id)?;
        let channel = self.channels.get(&channel_id)?;
        let timed_out = member
            .timed_out_until
            .is_some_and(|until| until > chrono::Utc::now());
        let personal = user_id == self.owner_id || channel.overwrites.has_member(user_id.0);
        let slot = (member.role_set as usize, usize::from(timed_out));
        if !personal {
            let cached = self
                .memo
                .get(&channel_id)
                .and_then(|sets| sets.get(slot.0))
                .and_then(|entry| entry[slot.1]);
            if cached.is_some() {
                return cached;
            }
        }
        let facts = self.facts(user_id, member, timed_out);
        let base = self.base(&facts);
        let perms = permissions::channel_permissions_indexed(
            base,
            self.guild_id.0,
            &facts,
            &channel.overwrites,
            channel.kind,
        );
        if !personal {
            let sets = self.memo.entry(channel_id).or_default();
            if sets.len() <= slot.0 {
                sets.resize(slot.0 + 1, [None; 2]);
            }
            sets[slot.0][slot.1] = Some(perms);
        }
        Some(perms)
    }

    /// The member's guild-wide permissions, or `None` for a non-member.
    pub fn guild_permissions(&self, user_id: Snowflake) -> Option<Permissions> {
        let member = self.members.get(&user_id)?;
        let timed_out = member
            .timed_out_until
            .is_some_and(|until| until > chrono::Utc::now());
        Some(self.base(&self.facts(user_id, member, timed_out)))
    }

    fn facts<'a>(
        &self,
        user_id: Snowflake,
        member: &'a MemberState,
        timed_out: bool,
    ) -> MemberFacts<'a> {
        MemberFacts {
            user_id: user_id.0,
            is_owner: user_id == self.owner_id,
            role_ids: &member.roles,
            timed_out,
        }
    }

    fn base(&self, facts: &MemberFacts<'_>) -> Permissions {
        let everyone = self
            .roles
            .get(&self.guild_id.0)
            .copied()
            .unwrap_or_default();
        let role_perms = facts
            .role_ids
            .iter()
            .filter_map(|r| self.roles.get(r).copied());
        permissions::base_permissions(facts, everyone, role_perms)
    }

    pub fn upsert_member(
        &mut self,
        user_id: Snowflake,
        roles: &[Snowflake],
        timeout: Option<&str>,
    ) {
        let mut roles: Vec<u64> = roles.iter().map(|r| r.0).collect();
        roles.sort_unstable();
        roles.dedup();
        let next = self.role_sets.len() as u32;
        let role_set = *self.role_sets.entry(roles.clone()).or_insert(next);
        let timed_out_until = timeout
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&chrono::Utc));
        self.members.insert(
            user_id,
            MemberState {
                roles,
                role_set,
                timed_out_until,
            },
        );
    }

    pub fn remove_member(&mut self, user_id: Snowflake) {
        self.members.remove(&user_id);
    }

    pub fn upsert_channel(&mut self, channel: &Channel) {
        self.channels.insert(
            channel.id,
            ChannelState {
                kind: channel.kind.permission_kind(),
                overwrites: IndexedOverwrites::new(&channel.permission_overwrites),
            },
        );
        self.memo.remove(&channel.id);
    }

    pub fn remove_channel(&mut self, channel_id: Snowflake) {
        self.channels.remove(&channel_id);
        self.memo.remove(&channel_id);
    }

    pub fn upsert_role(&mut self, role_id: Snowflake, permissions: Permissions) {
        self.roles.insert(role_id.0, permissions);
        self.memo.clear();
    }

    /// A deleted role also leaves every member (the store did the same).
    pub fn remove_role(&mut self, role_id: Snowflake) {
        self.roles.remove(&role_id.0);
        let affected: Vec<(Snowflake, Vec<Snowflake>, Option<String>)> = self
            .members
            .iter()
            .filter(|(_, m)| m.roles.contains(&role_id.0))
            .map(|(user, m)| {
                let roles = m
                    .roles
                    .iter()
                    .filter(|r| **r != role_id.0)
                    .map(|r| Snowflake(*r))
                    .collect();
                (*user, roles, m.timed_out_until.map(crate::model::timestamp))
            })
            .collect();
        for (user, roles, timeout) in affected {
            self.upsert_member(user, &roles, timeout.as_deref());
        }
        self.memo.clear();
    }

    pub fn set_owner(&mut self, owner_id: Snowflake) {
        if owner_id != self.owner_id {
            self.owner_id = owner_id;
            self.memo.clear();
        }
    }

    /// Applies an event of this guild that changes permission facts. Returns false for events
    /// it does not understand or that carry nothing relevant. Removals are applied by
    /// `apply_removal` after the event itself is delivered.
    pub fn apply_update(&mut self, event: &str, data: &str) -> bool {
        match event {
            "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" => parse::<RoleEvent>(data)
                .map(|e| self.upsert_role(e.role.id, e.role.permissions))
                .is_some(),
            // A deleted channel is delivered with its last state (the view may have been
            // loaded after the deletion), then removed by `apply_removal`.
            "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "CHANNEL_DELETE" => parse::<Channel>(data)
                .map(|c| self.upsert_channel(&c))
                .is_some(),
            "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" => parse::<MemberEvent>(data)
                .map(|m| {
                    self.upsert_member(
                        m.user.id,
                        &m.roles,
                        m.communication_disabled_until.as_deref(),
                    )
                })
                .is_some(),
            "GUILD_UPDATE" => parse::<GuildEvent>(data)
                .map(|g| self.set_owner(g.owner_id))
                .is_some(),
            _ => false,
        }
    }

    /// Applies a removal once the event announcing it has been delivered with the old state.
    pub fn apply_removal(&mut self, event: &str, data: &str) -> bool {
        match event {
            "GUILD_ROLE_DELETE" => parse::<RoleDeleteEvent>(data)
                .map(|e| self.remove_role(e.role_id))
                .is_some(),
            "CHANNEL_DELETE" => parse::<IdEvent>(data)
                .map(|c| self.remove_channel(c.id))
                .is_some(),
            "GUILD_MEMBER_REMOVE" => parse::<MemberRemoveEvent>(data)
                .map(|m| self.remove_member(m.user.id))
                .is_some(),
            _ => false,
        }
    }
}

fn parse<T: for<'de> Deserialize<'de>>(data: &str) -> Option<T> {
    serde_json::from_str(data).ok()
}

#[derive(Deserialize)]
struct IdEvent {
    id: Snowflake,
}

#[derive(Deserialize)]
struct RolePart {
    id: Snowflake,
    permissions: Permissions,
}

#[derive(Deserialize)]
struct RoleEvent {
    role: RolePart,
}

#[derive(Deserialize)]
struct RoleDeleteEvent {
    role_id: Snowflake,
}

#[derive(Deserialize)]
struct MemberEvent {
    user: IdEvent,
    #[serde(default)]
    roles: Vec<Snowflake>,
    #[serde(default)]
    communication_disabled_until: Option<String>,
}

#[derive(Deserialize)]
struct MemberRemoveEvent {
    user: IdEvent,
}

#[derive(Deserialize)]
struct GuildEvent {
    owner_id: Snowflake,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChannelType, User};
    use crate::permissions::{OverwriteKind, PermissionOverwrite};

    fn channel(id: u64, overwrites: Vec<PermissionOverwrite>) -> Channel {
        Channel {
            permission_overwrites: overwrites,
            ..Channel::new(
                Snowflake(id),
                ChannelType::GuildText,
                Snowflake(1),
                "c".into(),
            )
        }
    }

    fn member(user: u64, roles: &[u64]) -> Member {
        Member::new(
            Snowflake(1),
            User::new(Snowflake(user), "u".into(), false),
            roles.iter().map(|r| Snowflake(*r)).collect(),
        )
    }

    fn hidden_except(role: u64) -> Vec<PermissionOverwrite> {
        vec![
            PermissionOverwrite {
                id: 1,
                kind: OverwriteKind::Role,
                allow: Permissions::empty(),
                deny: Permissions::VIEW_CHANNEL,
            },
            PermissionOverwrite {
                id: role,
                kind: OverwriteKind::Role,
                allow: Permissions::VIEW_CHANNEL,
                deny: Permissions::empty(),
            },
        ]
    }

    #[test]
    fn events_change_visibility_for_the_next_check() {
        let roles = [
            Role::everyone(Snowflake(1)),
            Role::new(Snowflake(5), "r".into(), Permissions::empty(), 1),
        ];
        let mut view = GuildPermissions::new(
            Snowflake(1),
            Snowflake(99),
            &roles,
            &[channel(10, hidden_except(5))],
            &[member(2, &[]), member(3, &[5])],
        );
        assert!(!view.can_view(Snowflake(2), Snowflake(10)));
        assert!(view.can_view(Snowflake(3), Snowflake(10)));
        assert!(
            !view.can_view(Snowflake(99), Snowflake(10)),
            "owner is not a known member"
        );

        // Member 2 gets the role: visible at once.
        assert!(view.apply_update(
            "GUILD_MEMBER_UPDATE",
            r#"{"guild_id":"1","user":{"id":"2"},"roles":["5"]}"#
        ));
        assert!(view.can_view(Snowflake(2), Snowflake(10)));

        // The role is deleted: nobody but the owner sees the channel.
        assert!(view.apply_removal("GUILD_ROLE_DELETE", r#"{"guild_id":"1","role_id":"5"}"#));
        assert!(!view.can_view(Snowflake(2), Snowflake(10)));
        assert!(!view.can_view(Snowflake(3), Snowflake(10)));

        // The channel is opened to everyone.
        let open = serde_json::to_string(&channel(10, Vec::new())).unwrap();
        assert!(view.apply_update("CHANNEL_UPDATE", &open));
        assert!(view.can_view(Snowflake(2), Snowflake(10)));

        // Removed members and deleted channels are not visible.
        assert!(view.apply_removal(
            "GUILD_MEMBER_REMOVE",
            r#"{"guild_id":"1","user":{"id":"2"}}"#
        ));
        assert!(!view.can_view(Snowflake(2), Snowflake(10)));
        assert!(view.apply_removal("CHANNEL_DELETE", &open));
        assert!(!view.can_view(Snowflake(3), Snowflake(10)));
    }

    #[test]
    fn memo_matches_direct_computation_and_respects_member_overwrites() {
        let roles = [Role::everyone(Snowflake(1))];
        let mut overwrites = hidden_except(5);
        overwrites.push(PermissionOverwrite {
            id: 2,
            kind: OverwriteKind::Member,
            allow: Permissions::VIEW_CHANNEL,
            deny: Permissions::empty(),
        });
        let mut view = GuildPermissions::new(
            Snowflake(1),
            Snowflake(99),
            &roles,
            &[channel(10, overwrites)],
            &[member(2, &[]), member(4, &[])],
        );
        // Same (empty) role set, different answers: the member overwrite must not be memoised.
        assert!(view.can_view(Snowflake(2), Snowflake(10)));
        assert!(!view.can_view(Snowflake(4), Snowflake(10)));
        assert!(view.can_view(Snowflake(2), Snowflake(10)));
    }
}
