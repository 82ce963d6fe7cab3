//! Loads what a permission decision needs (guild, roles, the caller's member) and applies the
//! pure engine in `crate::permissions` to it.

use super::{Caller, Service};
use crate::error::ApiError;
use crate::model::{Channel, Guild, Member, Role, Snowflake};
use crate::permissions::{self, MemberFacts, Permissions};

/// A member's standing in one guild, loaded once per request.
#[derive(Debug, Clone)]
pub struct GuildAccess {
    pub guild: Guild,
    pub roles: Vec<Role>,
    pub member: Member,
}

impl GuildAccess {
    pub fn is_owner(&self) -> bool {
        self.member.user_id == self.guild.owner_id
    }

    /// Runs `compute` with the permission facts of any member of this guild.
    fn with_facts<R>(&self, member: &Member, compute: impl FnOnce(&MemberFacts<'_>) -> R) -> R {
        let role_ids: Vec<u64> = member.roles.iter().map(|id| id.0).collect();
        compute(&MemberFacts {
            user_id: member.user_id.0,
            is_owner: member.user_id == self.guild.owner_id,
            role_ids: &role_ids,
            timed_out: member.timed_out(),
        })
    }

    /// Guild-wide permissions of `member`.
    pub fn base_of(&self, member: &Member) -> Permissions {
        let everyone = self
            .role(self.guild.id)
            .map_or(Permissions::empty(), |role| role.permissions);
        let roles = member
            .roles
            .iter()
            .filter_map(|id| self.role(*id))
            .map(|role| role.permissions);
        self.with_facts(member, |facts| {
            permissions::base_permissions(facts, everyone, roles)
        })
    }

    /// Permissions of `member` in `channel`, implicit rules included.
    pub fn in_channel_of(&self, member: &Member, channel: &Channel) -> Permissions {
        let base = self.base_of(member);
        self.with_facts(member, |facts| {
            permissions::channel_permissions(
                base,
                self.guild.id.0,
                facts,
                &channel.permission_overwrites,
                channel.kind.permission_kind(),
            )
        })
    }

    /// The caller's guild-wide permissions.
    pub fn base(&self) -> Permissions {
        self.base_of(&self.member)
    }

    /// The caller's permissions in `channel`.
    pub fn in_channel(&self, channel: &Channel) -> Permissions {
        self.in_channel_of(&self.member, channel)
    }

    /// Fails with 50013 unless the caller holds all of `needed` guild-wide.
    pub fn require(&self, needed: Permissions) -> Result<(), ApiError> {
        if self.base().contains(needed) {
            Ok(())
        } else {
            Err(ApiError::missing_permissions())
        }
    }

    /// Rank of a member's highest role (the owner is above every role; no role ranks as
    /// @everyone).
    pub fn highest_rank_of(&self, member: &Member) -> RoleRank {
        if member.user_id == self.guild.owner_id {
            return RoleRank::OWNER;
        }
        member
            .roles
            .iter()
            .filter_map(|id| self.role(*id))
            .map(RoleRank::of)
            .max()
            .unwrap_or(RoleRank::EVERYONE)
    }

    /// Whether the caller may assign, edit, move or remove `role` (strictly below its highest).
    pub fn outranks_role(&self, role: &Role) -> bool {
        RoleRank::of(role) < self.highest_rank_of(&self.member)
    }

    /// Whether the caller may kick, ban, time out or rename `target`: the owner is above
    /// everyone and nobody acts on the owner; otherwise the target's highest role must be
    /// strictly below the caller's.
    pub fn outranks_member(&self, target: &Member) -> bool {
        target.user_id != self.guild.owner_id
            && self.highest_rank_of(target) < self.highest_rank_of(&self.member)
    }

    /// 50013 unless the caller holds every bit it is trying to hand out.
    pub fn require_grantable(&self, granted: Permissions) -> Result<(), ApiError> {
        if self.base().contains(granted) {
            Ok(())
        } else {
            Err(ApiError::missing_permissions())
        }
    }

    pub fn role(&self, id: Snowflake) -> Option<&Role> {
        self.roles.iter().find(|role| role.id == id)
    }
}

impl Service {
    /// The caller's standing in a guild. A guild the caller is not a member of answers exactly
    /// like an unknown one (10004), so ids never reveal what exists.
    pub async fn guild_access(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
    ) -> Result<GuildAccess, ApiError> {
        let (mut member, guild, roles) = self
            .store
            .member_guild_roles(guild_id, caller.id())
            .await?
            .ok_or_else(ApiError::unknown_guild)?;
        member.user = Some(caller.user.user.clone());
        Ok(GuildAccess {
            guild,
            roles,
            member,
        })
    }

    /// `guild_access`, then 50013 unless the caller holds all of `needed` guild-wide. Every
    /// guild-scoped operation authorizes through this (or `require_channel`).
    pub async fn require_guild(
        &self,
        caller: &Caller,
        guild_id: Snowflake,
        needed: Permissions,
    ) -> Result<GuildAccess, ApiError> {
        let access = self.guild_access(caller, guild_id).await?;
        access.require(needed)?;
        Ok(access)
    }

    /// The caller's access to a channel: unknown, or in a guild the caller is not a member of,
    /// or a DM the caller is not in, is 10003; a member who cannot VIEW_CHANNEL gets 50001.
    /// A DM's users hold `DM_PERMISSIONS` in it.
    pub async fn channel_access(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
    ) -> Result<ChannelAccess, ApiError> {
        let channel = self
            .store
            .channel(channel_id)
            .await?
            .ok_or_else(ApiError::unknown_channel)?;
        let Some(guild_id) = channel.guild_id else {
            if !channel.has_recipient(caller.id()) {
                return Err(ApiError::unknown_channel());
            }
            return Ok(ChannelAccess {
                guild: None,
                channel,
                perms: DM_PERMISSIONS,
            });
        };
        let guild = match self.guild_access(caller, guild_id).await {
            Ok(access) => access,
            Err(err) if err.code == ApiError::unknown_guild().code => {
                return Err(ApiError::unknown_channel())
            }
            Err(err) => return Err(err),
        };
        let perms = guild.in_channel(&channel);
        if !perms.contains(Permissions::VIEW_CHANNEL) {
            return Err(ApiError::missing_access());
        }
        Ok(ChannelAccess {
            guild: Some(guild),
            channel,
            perms,
        })
    }

    /// `channel_access`, then 50013 unless the caller holds all of `needed` in the channel.
    pub async fn require_channel(
        &self,
        caller: &Caller,
        channel_id: Snowflake,
        needed: Permissions,
    ) -> Result<ChannelAccess, ApiError> {
        let access = self.channel_access(caller, channel_id).await?;
        if !access.perms.contains(needed) {
            return Err(ApiError::missing_permissions());
        }
        Ok(access)
    }
}

/// Where a role stands in the hierarchy: by position, and among equal positions the older
/// role (smaller id) is higher, as Discord orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RoleRank(i64, std::cmp::Reverse<u64>);

impl RoleRank {
    const OWNER: RoleRank = RoleRank(i64::MAX, std::cmp::Reverse(0));
    const EVERYONE: RoleRank = RoleRank(0, std::cmp::Reverse(u64::MAX));

    pub fn of(role: &Role) -> RoleRank {
        RoleRank(role.position, std::cmp::Reverse(role.id.0))
    }
}

/// What each user of a DM channel may do in it (Discord's DM set: the text permissions without
/// the moderation, TTS, @everyone and thread ones).
pub const DM_PERMISSIONS: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::EMBED_LINKS)
    .union(Permissions::ATTACH_FILES)
    .union(Permissions::READ_MESSAGE_HISTORY)
    .union(Permissions::ADD_REACTIONS)
    .union(Permissions::USE_EXTERNAL_EMOJIS)
    .union(Permissions::USE_EXTERNAL_STICKERS)
    .union(Permissions::USE_APPLICATION_COMMANDS)
    .union(Permissions::SEND_VOICE_MESSAGES)
    .union(Permissions::SEND_POLLS)
    .union(Permissions::USE_EXTERNAL_APPS)
    .union(Permissions::PIN_MESSAGES);

/// A caller's access to one channel it can see.
#[derive(Debug, Clone)]
pub struct ChannelAccess {
    /// The caller's standing in the channel's guild; `None` in a DM channel.
    pub guild: Option<GuildAccess>,
    pub channel: Channel,
    /// The caller's permissions in the channel (implicit rules applied).
    pub perms: Permissions,
}

impl ChannelAccess {
    /// The guild standing, for operations that only exist in guild channels (50003 in a DM,
    /// as Discord answers).
    pub fn guild(&self) -> Result<&GuildAccess, ApiError> {
        self.guild
            .as_ref()
            .ok_or_else(|| ApiError::new(403, 50003, "Cannot execute action on a DM channel"))
    }
}
