//! Cost of the permission engine (issue 3): one uncached (member, channel) computation —
//! `base_permissions` + `channel_permissions` — in a guild with 250 roles and 100 channel
//! overwrites where the member holds 10 roles (target: < 100 ns), the same with no overwrites,
//! and the wire (de)serialisation of a permission set.
//!
//! Run: `cargo bench --bench permissions -- --warm-up-time 1 --measurement-time 3`

use std::collections::HashMap;
use std::hint::black_box;

use accord::permissions::{
    base_permissions, channel_permissions, channel_permissions_indexed, ChannelKind,
    IndexedOverwrites, MemberFacts, OverwriteKind, PermissionOverwrite, Permissions,
};
use criterion::{criterion_group, criterion_main, Criterion};

const GUILD: u64 = 1_000_000;
const USER: u64 = 7_777;
const ROLES: usize = 250;
const OVERWRITES: usize = 100;
const MEMBER_ROLES: usize = 10;

/// Small deterministic generator (xorshift64*) so every run measures the same guild.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A permission set of a few random bits, never ADMINISTRATOR (an admin short-circuits).
    fn sparse(&mut self) -> Permissions {
        let mask = self.next() & self.next() & self.next();
        Permissions::from_bits_truncate(mask) - Permissions::ADMINISTRATOR
    }
}

struct Guild {
    everyone: Permissions,
    /// Role id → permissions (how a cache would hold them).
    role_map: HashMap<u64, Permissions>,
    /// (id, permissions) in position order (how `service::access::GuildAccess` holds them).
    role_vec: Vec<(u64, Permissions)>,
    member_roles: Vec<u64>,
    overwrites: Vec<PermissionOverwrite>,
}

fn guild(overwrite_count: usize) -> Guild {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let role_ids: Vec<u64> = (1..=ROLES as u64).map(|i| GUILD + i).collect();
    let role_vec: Vec<(u64, Permissions)> = role_ids.iter().map(|id| (*id, rng.sparse())).collect();
    let role_map = role_vec.iter().copied().collect();
    // Ten roles spread over the hierarchy, listed in no particular order.
    let member_roles: Vec<u64> = (0..MEMBER_ROLES)
        .map(|i| role_ids[(i * 37 + 11) % ROLES])
        .rev()
        .collect();

    let mut overwrites = Vec::new();
    if overwrite_count > 0 {
        let ow = |id, kind, rng: &mut Rng| PermissionOverwrite {
            id,
            kind,
            allow: rng.sparse(),
            deny: rng.sparse(),
        };
        // @everyone, 5 of the member's roles, other roles, 2 other members; the member's own
        // overwrite last (the worst case for a linear search).
        overwrites.push(ow(GUILD, OverwriteKind::Role, &mut rng));
        for id in member_roles.iter().step_by(2) {
            overwrites.push(ow(*id, OverwriteKind::Role, &mut rng));
        }
        let mut other = role_ids.iter().filter(|id| !member_roles.contains(id));
        while overwrites.len() < overwrite_count - 3 {
            let id = *other.next().expect("enough roles");
            overwrites.push(ow(id, OverwriteKind::Role, &mut rng));
        }
        overwrites.push(ow(USER + 1, OverwriteKind::Member, &mut rng));
        overwrites.push(ow(USER + 2, OverwriteKind::Member, &mut rng));
        // Interleave deterministically so matching overwrites are not clustered at the front.
        for i in (1..overwrites.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            overwrites.swap(i, j);
        }
        overwrites.push(ow(USER, OverwriteKind::Member, &mut rng));
        assert_eq!(overwrites.len(), overwrite_count);
    }
    let everyone = Permissions::from_bits_truncate(Permissions::DEFAULT_EVERYONE);
    Guild {
        everyone,
        role_map,
        role_vec,
        member_roles,
        overwrites,
    }
}

fn facts(g: &Guild) -> MemberFacts<'_> {
    MemberFacts {
        user_id: USER,
        is_owner: false,
        role_ids: &g.member_roles,
        timed_out: false,
    }
}

/// One computation with role permissions looked up in a `HashMap`.
fn compute_hashmap(g: &Guild) -> Permissions {
    let member = facts(g);
    let roles = g
        .member_roles
        .iter()
        .filter_map(|id| g.role_map.get(id).copied());
    let base = base_permissions(&member, g.everyone, roles);
    channel_permissions(base, GUILD, &member, &g.overwrites, ChannelKind::Text)
}

/// The same with the role list scanned linearly, as `GuildAccess::role` does today.
fn compute_vec_scan(g: &Guild) -> Permissions {
    let member = facts(g);
    let roles = g
        .member_roles
        .iter()
        .filter_map(|id| g.role_vec.iter().find(|(rid, _)| rid == id).map(|r| r.1));
    let base = base_permissions(&member, g.everyone, roles);
    channel_permissions(base, GUILD, &member, &g.overwrites, ChannelKind::Text)
}

/// The engine alone: the member's role permissions already resolved.
fn compute_resolved(g: &Guild, resolved: &[Permissions]) -> Permissions {
    let member = facts(g);
    let base = base_permissions(&member, g.everyone, resolved.iter().copied());
    channel_permissions(base, GUILD, &member, &g.overwrites, ChannelKind::Text)
}

/// The fan-out's path: role permissions resolved and the channel's overwrites indexed once
/// per channel state (as `service::visibility` keeps them).
fn compute_indexed(g: &Guild, resolved: &[Permissions], index: &IndexedOverwrites) -> Permissions {
    let member = facts(g);
    let base = base_permissions(&member, g.everyone, resolved.iter().copied());
    channel_permissions_indexed(base, GUILD, &member, index, ChannelKind::Text)
}

fn bench_compute(c: &mut Criterion) {
    let mut group = c.benchmark_group("member_in_channel");
    for (label, count) in [("250r_100ow", OVERWRITES), ("250r_0ow", 0)] {
        let g = guild(count);
        let resolved: Vec<Permissions> = g.member_roles.iter().map(|id| g.role_map[id]).collect();
        // All three paths must agree, and the member must not be trivially empty or all.
        let want = compute_hashmap(&g);
        assert_eq!(compute_vec_scan(&g), want);
        assert_eq!(compute_resolved(&g, &resolved), want);
        let index = IndexedOverwrites::new(&g.overwrites);
        assert_eq!(compute_indexed(&g, &resolved, &index), want);
        assert_ne!(want, Permissions::empty());
        assert_ne!(want, Permissions::all());

        group.bench_function(format!("{label}/hashmap_roles"), |b| {
            b.iter(|| compute_hashmap(black_box(&g)))
        });
        group.bench_function(format!("{label}/resolved_roles"), |b| {
            b.iter(|| compute_resolved(black_box(&g), black_box(&resolved)))
        });
        group.bench_function(format!("{label}/indexed_overwrites"), |b| {
            b.iter(|| compute_indexed(black_box(&g), black_box(&resolved), black_box(&index)))
        });
        group.bench_function(format!("{label}/vec_scan_roles"), |b| {
            b.iter(|| compute_vec_scan(black_box(&g)))
        });
    }
    group.finish();
}

fn bench_wire(c: &mut Criterion) {
    let mut group = c.benchmark_group("permissions_wire");
    let perms = Permissions::from_bits_truncate(Permissions::DEFAULT_EVERYONE)
        | Permissions::BYPASS_SLOWMODE;
    let as_string = serde_json::to_string(&perms).unwrap();
    let as_int = perms.bits().to_string();
    group.bench_function("serialize_json", |b| {
        b.iter(|| serde_json::to_string(black_box(&perms)).unwrap())
    });
    group.bench_function("parse_json_string", |b| {
        b.iter(|| serde_json::from_str::<Permissions>(black_box(&as_string)).unwrap())
    });
    group.bench_function("parse_json_integer", |b| {
        b.iter(|| serde_json::from_str::<Permissions>(black_box(&as_int)).unwrap())
    });
    group.bench_function("from_wire", |b| {
        b.iter(|| Permissions::from_wire(black_box(&as_int)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_compute, bench_wire);
criterion_main!(benches);
