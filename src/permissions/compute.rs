use serde::{Deserialize, Serialize};

use super::Permissions;

/// Whether an overwrite targets a role or a member (`type` 0 / 1 on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum OverwriteKind {
    Role,
    Member,
}

impl From<OverwriteKind> for u8 {
    fn from(kind: OverwriteKind) -> u8 {
        match kind {
            OverwriteKind::Role => 0,
            OverwriteKind::Member => 1,
        }
    }
}

impl TryFrom<u8> for OverwriteKind {
    type Error = String;
    fn try_from(raw: u8) -> Result<Self, String> {
        match raw {
            0 => Ok(OverwriteKind::Role),
            1 => Ok(OverwriteKind::Member),
            other => Err(format!("unknown overwrite type {other}")),
        }
    }
}

/// A channel's permission overwrite for one role or member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionOverwrite {
    #[serde(with = "id_string")]
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: OverwriteKind,
    #[serde(default)]
    pub allow: Permissions,
    #[serde(default)]
    pub deny: Permissions,
}

/// Which implicit rules apply to a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// Text-like channels: no SEND_MESSAGES voids the sending extras.
    Text,
    /// Voice and stage channels: no CONNECT voids the voice permissions.
    Voice,
    /// Categories and anything else: only the VIEW_CHANNEL rule.
    Other,
}

/// What the computation needs to know about a member, independent of storage.
#[derive(Debug, Clone)]
pub struct MemberFacts<'a> {
    pub user_id: u64,
    pub is_owner: bool,
    pub role_ids: &'a [u64],
    /// `communication_disabled_until` is in the future.
    pub timed_out: bool,
}

/// Guild-level permissions: owner → all; @everyone OR member roles; ADMINISTRATOR → all.
/// `role_permissions` are the permissions of the member's roles (not @everyone).
pub fn base_permissions(
    member: &MemberFacts<'_>,
    everyone: Permissions,
    role_permissions: impl IntoIterator<Item = Permissions>,
) -> Permissions {
    if member.is_owner {
        return Permissions::all();
    }
    let combined = role_permissions
        .into_iter()
        .fold(everyone, |acc, role| acc | role);
    if combined.contains(Permissions::ADMINISTRATOR) {
        return Permissions::all();
    }
    apply_timeout(combined, member)
}

/// A channel's overwrites indexed for lookup: role and member overwrites each sorted by id,
/// so a member with r roles costs r binary searches instead of a scan of every overwrite.
/// Build it once per channel state and reuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexedOverwrites {
    roles: Vec<(u64, Permissions, Permissions)>,
    members: Vec<(u64, Permissions, Permissions)>,
}

impl IndexedOverwrites {
    pub fn new(overwrites: &[PermissionOverwrite]) -> Self {
        let mut index = IndexedOverwrites::default();
        for o in overwrites {
            let list = match o.kind {
                OverwriteKind::Role => &mut index.roles,
                OverwriteKind::Member => &mut index.members,
            };
            list.push((o.id, o.allow, o.deny));
        }
        // Discord keeps one overwrite per target; if a list repeats one, the last wins.
        for list in [&mut index.roles, &mut index.members] {
            list.reverse();
            list.sort_by_key(|(id, _, _)| *id);
            list.dedup_by_key(|(id, _, _)| *id);
        }
        index
    }

    /// Whether this member has an overwrite of its own here (its result is then personal).
    pub fn has_member(&self, id: u64) -> bool {
        find(&self.members, id).is_some()
    }
}

fn find(list: &[(u64, Permissions, Permissions)], id: u64) -> Option<(Permissions, Permissions)> {
    list.binary_search_by_key(&id, |(key, _, _)| *key)
        .ok()
        .map(|at| (list[at].1, list[at].2))
}

/// How the algorithm finds an overwrite's (allow, deny): by scanning a plain list or by
/// binary search in an index. One algorithm serves both.
trait OverwriteLookup {
    fn role(&self, id: u64) -> Option<(Permissions, Permissions)>;
    fn member(&self, id: u64) -> Option<(Permissions, Permissions)>;
}

impl OverwriteLookup for [PermissionOverwrite] {
    fn role(&self, id: u64) -> Option<(Permissions, Permissions)> {
        scan(self, OverwriteKind::Role, id)
    }
    fn member(&self, id: u64) -> Option<(Permissions, Permissions)> {
        scan(self, OverwriteKind::Member, id)
    }
}

impl OverwriteLookup for IndexedOverwrites {
    fn role(&self, id: u64) -> Option<(Permissions, Permissions)> {
        find(&self.roles, id)
    }
    fn member(&self, id: u64) -> Option<(Permissions, Permissions)> {
        find(&self.members, id)
    }
}

/// The last overwrite for the target wins, as in `IndexedOverwrites`.
fn scan(
    list: &[PermissionOverwrite],
    kind: OverwriteKind,
    id: u64,
) -> Option<(Permissions, Permissions)> {
    list.iter()
        .rev()
        .find(|o| o.kind == kind && o.id == id)
        .map(|o| (o.allow, o.deny))
}

/// Channel permissions from the base set: @everyone overwrite, then all of the member's role
/// overwrites combined (deny then allow), then the member's own; then timeouts and the
/// implicit rules. Scans the list: right for one-off checks with few overwrites.
pub fn channel_permissions(
    base: Permissions,
    guild_id: u64,
    member: &MemberFacts<'_>,
    overwrites: &[PermissionOverwrite],
    kind: ChannelKind,
) -> Permissions {
    apply_overwrites(base, guild_id, member, overwrites, kind)
}

/// `channel_permissions` over overwrites indexed once per channel (the fan-out's hot path).
pub fn channel_permissions_indexed(
    base: Permissions,
    guild_id: u64,
    member: &MemberFacts<'_>,
    overwrites: &IndexedOverwrites,
    kind: ChannelKind,
) -> Permissions {
    apply_overwrites(base, guild_id, member, overwrites, kind)
}

fn apply_overwrites<L: OverwriteLookup + ?Sized>(
    base: Permissions,
    guild_id: u64,
    member: &MemberFacts<'_>,
    overwrites: &L,
    kind: ChannelKind,
) -> Permissions {
    // ADMINISTRATOR counts only from the base set; an overwrite granting it changes nothing.
    if base.contains(Permissions::ADMINISTRATOR) {
        return Permissions::all();
    }
    let mut perms = base;
    if let Some((allow, deny)) = overwrites.role(guild_id) {
        perms = (perms - deny) | allow;
    }
    let (mut allow, mut deny) = (Permissions::empty(), Permissions::empty());
    for &role_id in member.role_ids.iter().filter(|id| **id != guild_id) {
        if let Some((role_allow, role_deny)) = overwrites.role(role_id) {
            allow |= role_allow;
            deny |= role_deny;
        }
    }
    perms = (perms - deny) | allow;
    if let Some((own_allow, own_deny)) = overwrites.member(member.user_id) {
        perms = (perms - own_deny) | own_allow;
    }
    if member.timed_out && !member.is_owner {
        // Base ADMINISTRATOR returned above; nothing granted by an overwrite exempts.
        perms &= Permissions::VIEW_CHANNEL | Permissions::READ_MESSAGE_HISTORY;
    }
    apply_implicit(perms, kind)
}

fn apply_timeout(perms: Permissions, member: &MemberFacts<'_>) -> Permissions {
    if member.timed_out && !member.is_owner && !perms.contains(Permissions::ADMINISTRATOR) {
        perms & (Permissions::VIEW_CHANNEL | Permissions::READ_MESSAGE_HISTORY)
    } else {
        perms
    }
}

fn apply_implicit(perms: Permissions, kind: ChannelKind) -> Permissions {
    if !perms.contains(Permissions::VIEW_CHANNEL) {
        return Permissions::empty();
    }
    match kind {
        ChannelKind::Text if !perms.contains(Permissions::SEND_MESSAGES) => {
            perms
                - (Permissions::MENTION_EVERYONE
                    | Permissions::SEND_TTS_MESSAGES
                    | Permissions::ATTACH_FILES
                    | Permissions::EMBED_LINKS)
        }
        ChannelKind::Voice if !perms.contains(Permissions::CONNECT) => {
            Permissions::VIEW_CHANNEL
                | (perms & (Permissions::CREATE_INSTANT_INVITE | Permissions::READ_MESSAGE_HISTORY))
        }
        _ => perms,
    }
}

/// Snowflakes inside overwrites travel as strings and may arrive as integers.
mod id_string {
    use serde::{de, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = u64;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a snowflake")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
                Ok(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
                u64::try_from(v).map_err(|_| E::custom("negative snowflake"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
                v.parse().map_err(|_| E::custom("not a snowflake"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUILD: u64 = 100;
    const USER: u64 = 7;
    const ROLE_A: u64 = 201;
    const ROLE_B: u64 = 202;

    fn member(roles: &[u64]) -> MemberFacts<'_> {
        MemberFacts {
            user_id: USER,
            is_owner: false,
            role_ids: roles,
            timed_out: false,
        }
    }

    fn ow(
        id: u64,
        kind: OverwriteKind,
        allow: Permissions,
        deny: Permissions,
    ) -> PermissionOverwrite {
        PermissionOverwrite {
            id,
            kind,
            allow,
            deny,
        }
    }

    fn text() -> Permissions {
        Permissions::VIEW_CHANNEL | Permissions::SEND_MESSAGES
    }

    #[test]
    fn owner_and_administrator_get_everything() {
        let mut owner = member(&[]);
        owner.is_owner = true;
        assert_eq!(
            base_permissions(&owner, Permissions::empty(), []),
            Permissions::all()
        );
        let admin = member(&[ROLE_A]);
        let base = base_permissions(&admin, Permissions::empty(), [Permissions::ADMINISTRATOR]);
        assert_eq!(base, Permissions::all());
        let deny_all = [ow(
            GUILD,
            OverwriteKind::Role,
            Permissions::empty(),
            Permissions::all(),
        )];
        assert_eq!(
            channel_permissions(base, GUILD, &admin, &deny_all, ChannelKind::Text),
            Permissions::all()
        );
    }

    #[test]
    fn role_allow_beats_role_deny_whatever_the_order() {
        let roles = [ROLE_A, ROLE_B];
        let m = member(&roles);
        let base = base_permissions(&m, text(), []);
        for overwrites in [
            vec![
                ow(
                    ROLE_A,
                    OverwriteKind::Role,
                    Permissions::SEND_MESSAGES,
                    Permissions::empty(),
                ),
                ow(
                    ROLE_B,
                    OverwriteKind::Role,
                    Permissions::empty(),
                    Permissions::SEND_MESSAGES,
                ),
            ],
            vec![
                ow(
                    ROLE_B,
                    OverwriteKind::Role,
                    Permissions::empty(),
                    Permissions::SEND_MESSAGES,
                ),
                ow(
                    ROLE_A,
                    OverwriteKind::Role,
                    Permissions::SEND_MESSAGES,
                    Permissions::empty(),
                ),
            ],
        ] {
            let p = channel_permissions(base, GUILD, &m, &overwrites, ChannelKind::Text);
            assert!(p.contains(Permissions::SEND_MESSAGES));
        }
    }

    #[test]
    fn member_overwrite_wins_over_roles_even_when_stored_first() {
        let roles = [ROLE_A];
        let m = member(&roles);
        let base = base_permissions(&m, text(), []);
        let overwrites = [
            ow(
                USER,
                OverwriteKind::Member,
                Permissions::empty(),
                Permissions::SEND_MESSAGES,
            ),
            ow(
                ROLE_A,
                OverwriteKind::Role,
                Permissions::SEND_MESSAGES,
                Permissions::empty(),
            ),
        ];
        let p = channel_permissions(base, GUILD, &m, &overwrites, ChannelKind::Text);
        assert!(!p.contains(Permissions::SEND_MESSAGES));
        assert!(p.contains(Permissions::VIEW_CHANNEL));
    }

    #[test]
    fn everyone_overwrite_applies_before_role_overwrites() {
        let roles = [ROLE_A];
        let m = member(&roles);
        let base = base_permissions(&m, text(), []);
        let overwrites = [
            ow(
                ROLE_A,
                OverwriteKind::Role,
                Permissions::VIEW_CHANNEL,
                Permissions::empty(),
            ),
            ow(
                GUILD,
                OverwriteKind::Role,
                Permissions::empty(),
                Permissions::VIEW_CHANNEL,
            ),
        ];
        let p = channel_permissions(base, GUILD, &m, &overwrites, ChannelKind::Text);
        assert!(p.contains(Permissions::VIEW_CHANNEL));
        let p = channel_permissions(base, GUILD, &member(&[]), &overwrites, ChannelKind::Text);
        assert_eq!(p, Permissions::empty());
    }

    #[test]
    fn implicit_rules() {
        let m = member(&[]);
        let base = Permissions::VIEW_CHANNEL | Permissions::EMBED_LINKS | Permissions::ATTACH_FILES;
        let p = channel_permissions(base, GUILD, &m, &[], ChannelKind::Text);
        assert_eq!(p, Permissions::VIEW_CHANNEL);
        let no_view = Permissions::SEND_MESSAGES | Permissions::MANAGE_MESSAGES;
        assert_eq!(
            channel_permissions(no_view, GUILD, &m, &[], ChannelKind::Text),
            Permissions::empty()
        );
        let voice = Permissions::VIEW_CHANNEL | Permissions::SPEAK | Permissions::MANAGE_CHANNELS;
        assert_eq!(
            channel_permissions(voice, GUILD, &m, &[], ChannelKind::Voice),
            Permissions::VIEW_CHANNEL
        );
    }

    #[test]
    fn timed_out_members_keep_only_view_and_history() {
        let mut m = member(&[]);
        m.timed_out = true;
        let base = base_permissions(&m, text() | Permissions::READ_MESSAGE_HISTORY, []);
        assert_eq!(
            base,
            Permissions::VIEW_CHANNEL | Permissions::READ_MESSAGE_HISTORY
        );
        let grant = [ow(
            USER,
            OverwriteKind::Member,
            Permissions::SEND_MESSAGES,
            Permissions::empty(),
        )];
        let p = channel_permissions(base, GUILD, &m, &grant, ChannelKind::Text);
        assert!(!p.contains(Permissions::SEND_MESSAGES));
    }
}
