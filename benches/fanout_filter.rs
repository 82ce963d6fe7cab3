//! Cost of deciding who receives a channel event in a 10 000-member guild (issue 3): the
//! gateway's `GuildPermissions::retain_viewers` over every member, with the memo warm (the steady
//! state: a few distinct role sets) and cold (right after a role or overwrite change cleared
//! it), against computing every member from scratch with the plain engine.
//!
//! Run: `cargo bench --bench fanout_filter -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use accord::model::{Channel, ChannelType, Member, Role, Snowflake, User};
use accord::permissions::{OverwriteKind, PermissionOverwrite, Permissions};
use accord::service::visibility::GuildPermissions;
use criterion::{criterion_group, criterion_main, Criterion};

const GUILD: u64 = 1_000;
const MEMBERS: u64 = 10_000;
const ROLES: u64 = 20;
const CHANNEL: u64 = 50;

/// 10 000 members spread over 20 roles (each member 0–3 of them), a channel hidden from
/// @everyone and opened to half the roles, a few member overwrites.
fn guild() -> (GuildPermissions, Vec<Snowflake>) {
    let mut roles = vec![Role::everyone(Snowflake(GUILD))];
    for r in 0..ROLES {
        roles.push(Role::new(
            Snowflake(100 + r),
            format!("r{r}"),
            Permissions::SEND_MESSAGES,
            (r + 1) as i64,
        ));
    }
    let mut overwrites = vec![PermissionOverwrite {
        id: GUILD,
        kind: OverwriteKind::Role,
        allow: Permissions::empty(),
        deny: Permissions::VIEW_CHANNEL,
    }];
    for r in (0..ROLES).step_by(2) {
        overwrites.push(PermissionOverwrite {
            id: 100 + r,
            kind: OverwriteKind::Role,
            allow: Permissions::VIEW_CHANNEL,
            deny: Permissions::empty(),
        });
    }
    for user in (10_000..10_000 + MEMBERS).step_by(1000) {
        overwrites.push(PermissionOverwrite {
            id: user,
            kind: OverwriteKind::Member,
            allow: Permissions::VIEW_CHANNEL,
            deny: Permissions::empty(),
        });
    }
    let channel = Channel {
        permission_overwrites: overwrites,
        ..Channel::new(
            Snowflake(CHANNEL),
            ChannelType::GuildText,
            Snowflake(GUILD),
            "half".into(),
        )
    };
    let users: Vec<Snowflake> = (10_000..10_000 + MEMBERS).map(Snowflake).collect();
    let members: Vec<Member> = users
        .iter()
        .map(|id| {
            let count = id.0 % 4;
            let member_roles = (0..count)
                .map(|k| Snowflake(100 + (id.0 * 7 + k * 3) % ROLES))
                .collect();
            Member::new(
                Snowflake(GUILD),
                User::new(*id, "u".into(), false),
                member_roles,
            )
        })
        .collect();
    let view = GuildPermissions::new(Snowflake(GUILD), Snowflake(1), &roles, &[channel], &members);
    (view, users)
}

fn count_viewers(view: &mut GuildPermissions, users: &[Snowflake]) -> usize {
    let mut recipients = users.to_vec();
    view.retain_viewers(Snowflake(CHANNEL), &mut recipients, |user| *user);
    recipients.len()
}

fn bench(c: &mut Criterion) {
    let (view, users) = guild();
    let mut warm = view.clone();
    let viewers = count_viewers(&mut warm, &users);
    assert!(
        viewers > 1_000 && viewers < 9_000,
        "{viewers} viewers: fixture should split the guild"
    );

    let mut group = c.benchmark_group("fanout_filter_10k");
    group.bench_function("memo_warm", |b| {
        b.iter(|| count_viewers(black_box(&mut warm), black_box(&users)))
    });
    group.bench_function("memo_cold", |b| {
        b.iter_batched(
            || view.clone(),
            |mut cold| count_viewers(&mut cold, &users),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
