//! Discord's permission engine: 64-bit flags at Discord's bit positions and the one algorithm
//! (base → overwrites → implicit rules) that REST and the gateway both call. Pure: no I/O and no
//! imports from the rest of the crate, so it can be tested and reasoned about alone.

mod compute;
mod flags;

pub use compute::{
    base_permissions, channel_permissions, channel_permissions_indexed, ChannelKind,
    IndexedOverwrites, MemberFacts, OverwriteKind, PermissionOverwrite,
};
pub use flags::Permissions;
